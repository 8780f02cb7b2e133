"""A test tone (a WAV made in memory), played through the normal pipeline like any media."""

from __future__ import annotations

from collections.abc import AsyncIterator
import math
import struct
from typing import Final

from .flv import SAMPLE_RATE
from .source import AudioSource

TONE_FREQUENCY: Final = 1000.0
TONE_SECONDS: Final = 2.0
_AMPLITUDE: Final = 0.5  # -6 dBFS


def tone_wav(
    frequency: float = TONE_FREQUENCY, seconds: float = TONE_SECONDS, rate: int = SAMPLE_RATE
) -> bytes:
    """Return a mono 16-bit WAV of a sine tone."""
    count = round(seconds * rate)
    samples = struct.pack(
        f"<{count}h",
        *(
            round(_AMPLITUDE * 32767 * math.sin(2 * math.pi * frequency * n / rate))
            for n in range(count)
        ),
    )
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(samples),
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        rate,
        rate * 2,
        2,
        16,
        b"data",
        len(samples),
    )
    return header + samples


def tone_source(gain: float = 1.0, label: str = "test tone") -> AudioSource:
    """Return the test tone as an audio source (decoded by ffmpeg like any other media)."""
    wav = tone_wav()

    async def stream() -> AsyncIterator[bytes]:
        yield wav

    return AudioSource(stream=stream, gain=gain, label=label, key="volcengine_aiot:test_tone")
