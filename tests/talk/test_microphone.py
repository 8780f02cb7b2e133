"""Live frames (push-to-talk): the A-law encoder and the jitter buffer."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.volcengine_aiot.talk import TranscoderPool, microphone as live
from custom_components.volcengine_aiot.talk.flv import ALAW_SILENCE
from custom_components.volcengine_aiot.talk.microphone import (
    LiveFrames,
    alaw_encode,
    live_source,
)
from custom_components.volcengine_aiot.talk.source import AudioSource
from tests.audio import ALAW_TABLE


def test_alaw_round_trip_of_every_code() -> None:
    """Encoding the decoded value of each of the 256 codes gives the code back."""
    pcm = ALAW_TABLE.astype("<i2").tobytes()
    assert alaw_encode(pcm) == bytes(range(256))


def test_alaw_quantization_error_is_small() -> None:
    """Any 16-bit sample decodes to within one A-law step of itself."""
    samples = np.arange(-32768, 32768, 7, dtype=np.int16)
    codes = np.frombuffer(alaw_encode(samples.astype("<i2").tobytes()), dtype=np.uint8)
    decoded = ALAW_TABLE[codes].astype(np.int32)
    error = np.abs(decoded - samples.astype(np.int32))
    step = np.maximum(16, np.abs(samples.astype(np.int32)) // 16)  # segment step size
    assert np.all(error <= step)
    assert alaw_encode(b"\x00\x00") == bytes([ALAW_SILENCE])
    assert alaw_encode(b"\x00\x00\x01") == bytes([ALAW_SILENCE])  # an odd byte is ignored


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frame(value: int) -> bytes:
    return np.full(160, value, dtype="<i2").tobytes()


async def test_jitter_buffer_keeps_the_newest_100_ms() -> None:
    opened: list[bool] = []
    frames = LiveFrames(clock=Clock(), on_open=lambda: opened.append(True))
    await frames.start()
    for i in range(8):
        assert frames.push(frame(i * 1000))
    assert frames.dropped == 3
    assert not frames.push(b"\x00" * 100)
    assert frames.rejected == 1
    got = [frames.next_frame() for _ in range(6)]
    assert opened == [True]
    assert got[:5] == [alaw_encode(frame(i * 1000)) for i in range(3, 8)]
    assert got[5] is None  # an underrun: the speaker sends silence
    assert not frames.done


async def test_end_plays_what_is_buffered() -> None:
    frames = LiveFrames(clock=Clock())
    frames.push(frame(1000))
    frames.end()
    frames.end("other")  # the first reason stays
    assert not frames.push(frame(1000))
    assert frames.next_frame() is not None
    assert frames.next_frame() is None
    assert frames.done
    assert frames.end_reason == "released"
    assert frames.next_frame() is None


async def test_silence_timeout_counts_from_the_open() -> None:
    clock = Clock()
    frames = LiveFrames(clock=clock, idle_timeout=2.0)
    clock.now += 10  # the talk took long to open: no timeout yet
    assert frames.next_frame() is None
    clock.now += 1.9
    frames.push(frame(5))
    clock.now += 1.9
    assert frames.next_frame() is not None
    assert frames.next_frame() is None
    assert not frames.done
    clock.now += 0.2
    assert frames.next_frame() is None
    assert frames.done
    assert frames.end_reason == "silence"


async def test_close_drops_the_buffer() -> None:
    frames = LiveFrames()
    frames.push(frame(1))
    await frames.aclose()
    assert frames.done
    assert frames.next_frame() is None
    assert frames.end_reason == "closed"


def test_the_pool_hands_out_live_frames_without_ffmpeg() -> None:
    frames = LiveFrames()
    source = live_source(frames)
    assert source.share_key is None
    assert TranscoderPool("/nonexistent/ffmpeg").open(source) is frames
    with pytest.raises(ValueError, match="exactly one"):
        AudioSource(location="x", live=lambda: frames)


async def test_wait_audio(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first frame, the end, or the timeout ends the wait for the microphone's audio."""
    frames = LiveFrames()
    frames.push(b"\x00" * 320)
    assert await frames.wait_audio()
    released = LiveFrames()
    released.end()
    assert not await released.wait_audio()
    assert released.end_reason == "released"
    monkeypatch.setattr(live, "FIRST_AUDIO_TIMEOUT", 0.01)
    silent = LiveFrames()
    assert not await silent.wait_audio()
    assert silent.end_reason == "no_audio"
    assert not silent.push(b"\x00" * 320)  # too late: nothing starts
