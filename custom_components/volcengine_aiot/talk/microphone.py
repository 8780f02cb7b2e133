"""Live audio (push-to-talk): 16-bit PCM frames pushed by a client, played as A-law.

A browser sends 20 ms frames of 8 kHz mono signed 16-bit little-endian PCM (320 bytes). They
wait in a small jitter buffer (at most ``BUFFER_FRAMES`` = 100 ms: older frames are dropped, so
a client sending too fast cannot add latency or memory) until the speaker's paced sender takes
them, one per 20 ms slot, encoded to G.711 A-law. The source ends when the client ends it, when
no audio arrived for ``IDLE_TIMEOUT`` seconds once the talk is open, or when it is closed.
``wait_audio`` lets the caller start the talk only once the client's microphone delivered its first
frame (at most ``FIRST_AUDIO_TIMEOUT`` seconds after the press), so a press without audio never
touches the camera.

``LiveFrames`` is a ``FrameSource`` (pool.py): ``live_source`` wraps it in an ``AudioSource``
that the transcoder pool hands out as it is, with no ffmpeg.
"""

from __future__ import annotations

from array import array
import asyncio
from collections import deque
from collections.abc import Callable
import logging
import sys
import time
from typing import Final, TypedDict

from .flv import FRAME_BYTES, FRAME_MS, SAMPLE_RATE
from .source import AudioSource

_LOGGER = logging.getLogger(__name__)

PCM_FRAME_BYTES: Final = FRAME_BYTES * 2  # 160 samples of 16 bits: 320 bytes
SAMPLE_FORMAT: Final = "s16le"  # signed 16-bit little-endian, mono


class PcmFormat(TypedDict):
    """The audio a client sends (told in the push-to-talk's ``started`` event)."""

    sample_rate: int
    frame_ms: int
    sample_format: str
    frame_bytes: int


# The one definition of what a push-to-talk client sends: the card frames its audio by it.
PCM_FORMAT: Final = PcmFormat(
    sample_rate=SAMPLE_RATE,
    frame_ms=FRAME_MS,
    sample_format=SAMPLE_FORMAT,
    frame_bytes=PCM_FRAME_BYTES,
)
BUFFER_FRAMES: Final = 5  # 100 ms jitter buffer
IDLE_TIMEOUT: Final = 2.0  # seconds without audio that end an open talk
FIRST_AUDIO_TIMEOUT: Final = 10.0  # seconds from the press to the first frame (a permission prompt)

# Why a live source ended (sent to the client).
END_RELEASED: Final = "released"
END_SILENCE: Final = "silence"
END_CLOSED: Final = "closed"
END_NO_AUDIO: Final = "no_audio"  # the microphone delivered nothing: the talk never started

_LINEAR_SEGMENTS: Final = 2  # segments 0 and 1 share one step size


def _alaw(sample: int) -> int:
    """Encode one signed 16-bit sample to G.711 A-law (ITU-T G.711, 13-bit magnitude)."""
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    # 16 bits >> 3: the magnitude is 13 bits at most, so no input needs clipping.
    segment = max(0, value.bit_length() - 5)  # 0..0x1F: 0, 0x20..0x3F: 1, ... 0x800..: 7
    shift = 1 if segment < _LINEAR_SEGMENTS else segment
    return ((segment << 4) | ((value >> shift) & 0x0F)) ^ mask


# Index: the sample as an unsigned 16-bit value (two's complement).
_ALAW_TABLE: Final = bytes(_alaw(u - 0x10000 if u & 0x8000 else u) for u in range(0x10000))


def alaw_encode(pcm: bytes) -> bytes:
    """Encode signed 16-bit little-endian PCM to A-law, one byte per sample."""
    samples = array("H")
    samples.frombytes(pcm[: len(pcm) & ~1])
    if sys.byteorder == "big":  # pragma: no cover - the test hosts are little-endian
        samples.byteswap()
    return bytes(map(_ALAW_TABLE.__getitem__, samples))


class LiveFrames:
    """A jitter buffer of pushed PCM frames, read as A-law frames by the speaker."""

    def __init__(
        self,
        *,
        buffer_frames: int = BUFFER_FRAMES,
        idle_timeout: float | None = None,
        on_open: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Initialize; ``on_open`` is called when the speaker takes the first frame slot."""
        self._buffer: deque[bytes] = deque(maxlen=buffer_frames)
        self._idle_timeout = IDLE_TIMEOUT if idle_timeout is None else idle_timeout
        self._on_open = on_open
        self._clock = clock
        self._last_audio = 0.0
        self._audio = asyncio.Event()  # set by the first frame or the end
        self.opened = False
        self.done = False
        self.duration: float | None = None  # live: never known
        self.end_reason: str | None = None
        self.received = 0  # frames accepted
        self.dropped = 0  # frames dropped because the buffer was full (client too fast)
        self.rejected = 0  # messages that were not one 20 ms frame

    @property
    def ended(self) -> bool:
        """Return whether no more audio is accepted."""
        return self.end_reason is not None

    def push(self, pcm: bytes) -> bool:
        """Add one 20 ms PCM frame; return False if it was not accepted."""
        if self.ended:
            return False
        if len(pcm) != PCM_FRAME_BYTES:
            self.rejected += 1
            if self.rejected == 1:
                _LOGGER.debug(
                    "Dropping a %d-byte audio message (expected %d)", len(pcm), PCM_FRAME_BYTES
                )
            return False
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
        self._buffer.append(pcm)
        self.received += 1
        self._last_audio = self._clock()
        self._audio.set()
        return True

    def end(self, reason: str = END_RELEASED) -> None:
        """Accept no more audio; what is buffered is still played."""
        if self.end_reason is None:
            self.end_reason = reason
        self._audio.set()

    async def wait_audio(self) -> bool:
        """Wait for the first frame; False if the source ended (or the wait timed out) first."""
        try:
            async with asyncio.timeout(FIRST_AUDIO_TIMEOUT):
                await self._audio.wait()
        except TimeoutError:
            self.end(END_NO_AUDIO)
        return self.received > 0

    async def start(self) -> None:
        """Nothing to start: frames arrive from the client."""

    def next_frame(self) -> bytes | None:
        """Return the next A-law frame, or None (and ``done`` once ended and drained)."""
        if self.done:
            return None
        now = self._clock()
        if not self.opened:
            self.opened = True
            self._last_audio = max(self._last_audio, now)
            if self._on_open is not None:
                self._on_open()
        if self._buffer:
            return alaw_encode(self._buffer.popleft())
        if not self.ended and now - self._last_audio >= self._idle_timeout:
            self.end(END_SILENCE)
        if self.ended:
            self.done = True
        return None

    async def aclose(self) -> None:
        """Stop: drop what is buffered."""
        self.end(END_CLOSED)
        self._buffer.clear()
        self.done = True


def live_source(frames: LiveFrames, label: str = "push-to-talk") -> AudioSource:
    """Return an AudioSource the transcoder pool hands out as ``frames`` (no ffmpeg)."""
    return AudioSource(live=lambda: frames, label=label)
