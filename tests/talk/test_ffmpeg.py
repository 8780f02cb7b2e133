"""The transcoder with the real ffmpeg: any media in, exact 160-byte A-law frames out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
import socket
import subprocess

import pytest

from custom_components.volcengine_aiot.talk import (
    AudioSource,
    TalkEmptyAudioError,
    TalkFfmpegError,
    TalkMediaError,
    TalkMediaNotFoundError,
    Transcoder,
)
from custom_components.volcengine_aiot.talk.transcode import ffmpeg_args, redact
from tests.audio import (
    FFMPEG,
    alaw_decode,
    dominant_frequency,
    ffmpeg_children,
    make_tone,
    rms,
    voiced,
)

pytestmark = pytest.mark.usefixtures("no_leftover_ffmpeg")


async def collect(source: AudioSource, timeout: float = 20) -> bytes:
    transcoder = Transcoder(FFMPEG, source)
    await transcoder.start()
    frames: list[bytes] = []
    try:
        async with asyncio.timeout(timeout):
            while not transcoder.done:
                frame = transcoder.next_frame()
                if frame is None:
                    await asyncio.sleep(0.005)
                    continue
                assert len(frame) == 160
                frames.append(frame)
    finally:
        await transcoder.aclose()
    return b"".join(frames)


@pytest.mark.parametrize(
    ("name", "codec"), [("t.wav", None), ("t.mp3", None), ("t.ogg", "libvorbis")]
)
async def test_file_to_alaw(tmp_path: Path, name: str, codec: str | None) -> None:
    alaw = await collect(AudioSource(location=str(make_tone(tmp_path / name, 660, 1.0, codec))))
    samples = alaw_decode(alaw)
    assert abs(dominant_frequency(samples) - 660) < 5
    assert abs(len(voiced(samples)) / 8000 - 1.0) < 0.06


async def chunks(data: bytes, size: int = 700, delay: float = 0.001) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]
        await asyncio.sleep(delay)


@pytest.mark.parametrize("name", ["tts.mp3", "tts.wav"])
async def test_stream_input(tmp_path: Path, name: str) -> None:
    """TTS bytes are piped to ffmpeg as they arrive."""
    data = make_tone(tmp_path / name, 500, 1.5).read_bytes()
    alaw = await collect(AudioSource(stream=lambda: chunks(data), label="tts"))
    samples = voiced(alaw_decode(alaw))
    assert abs(dominant_frequency(samples) - 500) < 5
    assert abs(len(samples) / 8000 - 1.5) < 0.08


async def test_first_frames_arrive_before_the_stream_ends(tmp_path: Path) -> None:
    """Transcoding starts on the first bytes: a slow synthesis is not waited for."""
    data = make_tone(tmp_path / "slow.mp3", 500, 3.0).read_bytes()
    gate = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        await gate.wait()
        yield data[len(data) // 2 :]

    transcoder = Transcoder(FFMPEG, AudioSource(stream=slow))
    await transcoder.start()
    try:
        async with asyncio.timeout(10):
            while transcoder.next_frame() is None:
                await asyncio.sleep(0.005)
        assert not gate.is_set()
    finally:
        gate.set()
        await transcoder.aclose()


async def test_failing_stream_keeps_what_arrived(tmp_path: Path) -> None:
    data = make_tone(tmp_path / "t.mp3", 500, 2.0).read_bytes()

    async def broken() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        raise OSError("synthesis failed")

    alaw = await collect(AudioSource(stream=broken))
    assert 0.5 < len(alaw) / 8000 < 1.5


async def test_gain(tmp_path: Path) -> None:
    path = str(make_tone(tmp_path / "t.wav", 440, 0.5))
    full = rms(alaw_decode(await collect(AudioSource(location=path))))
    half = rms(alaw_decode(await collect(AudioSource(location=path, gain=0.5))))
    assert 0.45 < half / full < 0.55


async def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TalkMediaNotFoundError) as info:
        await collect(AudioSource(location=str(tmp_path / "nope.mp3"), label="nope"))
    assert info.value.translation_key == "media_not_found"
    assert info.value.placeholders == {"media": "nope"}


async def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.mp3"
    path.write_bytes(b"this is not audio" * 100)
    with pytest.raises(TalkMediaError) as info:
        await collect(AudioSource(location=str(path)))
    assert info.value.placeholders["error"]


async def test_no_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    subprocess.run(  # noqa: S603
        [FFMPEG, "-loglevel", "error", "-f", "lavfi", "-i", "color=c=black:s=16x16:d=0.2",
         "-c:v", "mpeg4", str(path)],
        check=True,
    )  # fmt: skip
    with pytest.raises(TalkMediaError):
        await collect(AudioSource(location=str(path)))


async def test_empty_audio(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    subprocess.run(  # noqa: S603
        [FFMPEG, "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
         "-t", "0", str(path)],
        check=True,
    )  # fmt: skip
    with pytest.raises(TalkEmptyAudioError):
        await collect(AudioSource(location=str(path)))


async def test_unreachable_url_is_redacted(socket_enabled: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/tts_proxy/x.mp3?authSig=secret-token"
    with pytest.raises(TalkMediaError) as info:
        await collect(AudioSource(location=url))
    assert "secret-token" not in str(info.value)
    assert "secret-token" not in info.value.placeholders["error"]


async def test_missing_ffmpeg(tmp_path: Path) -> None:
    transcoder = Transcoder(str(tmp_path / "no-ffmpeg"), AudioSource(stream=lambda: chunks(b"")))
    with pytest.raises(TalkFfmpegError):
        await transcoder.start()
    await transcoder.aclose()


async def test_close_mid_way_kills_ffmpeg(tmp_path: Path) -> None:
    transcoder = Transcoder(
        FFMPEG, AudioSource(location=str(make_tone(tmp_path / "l.wav", 300, 30)))
    )
    await transcoder.start()
    async with asyncio.timeout(5):
        while transcoder.next_frame() is None:
            await asyncio.sleep(0.005)
    assert ffmpeg_children()
    await transcoder.aclose()
    assert transcoder.done
    assert transcoder.next_frame() is None


def test_command_line() -> None:
    piped = ffmpeg_args("ffmpeg", AudioSource(stream=lambda: chunks(b""), gain=2.0))
    assert piped[:2] == ["ffmpeg", "-nostdin"]
    assert "-protocol_whitelist" in piped
    assert piped[piped.index("-probesize") + 1] == "32"
    assert "volume=2.000000" in piped
    assert piped[-9:] == ["-ac", "1", "-ar", "8000", "-f", "alaw", "-flush_packets", "1", "pipe:1"]
    assert piped[-1] == "pipe:1"
    url = ffmpeg_args("ffmpeg", AudioSource(location="https://example.com/a.mp3"))
    assert "-rw_timeout" in url
    assert "volume" not in " ".join(url)


def test_source_needs_exactly_one_input() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        AudioSource()
    with pytest.raises(ValueError, match="exactly one"):
        AudioSource(location="a", stream=lambda: chunks(b""))


def test_redact() -> None:
    assert redact("x http://h/p?authSig=abc y") == "x http://h/p?… y"
