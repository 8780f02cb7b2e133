"""The transcoder with the real ffmpeg: any media in, exact 160-byte A-law frames out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import os
from pathlib import Path
import signal
import socket
import subprocess

import pytest

from custom_components.volcengine_aiot.talk import (
    AudioSource,
    TalkEmptyAudioError,
    TalkError,
    TalkFfmpegError,
    TalkMediaError,
    TalkMediaFetchError,
    TalkMediaInterruptedError,
    TalkMediaNotFoundError,
    Transcoder,
    transcode,
)
from custom_components.volcengine_aiot.talk.flv import FRAME_BYTES
from custom_components.volcengine_aiot.talk.transcode import (
    READ_AHEAD_BYTES,
    _exit_text,
    _FfmpegLog,
    ffmpeg_args,
)
from custom_components.volcengine_aiot.util.redact import redact_text, redact_url
from tests.audio import (
    FFMPEG,
    alaw_decode,
    dominant_frequency,
    ffmpeg_children,
    make_tone,
    rms,
    voiced,
)
from tests.media_server import MediaServer, hls_playlist, make_ts

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


async def wait_duration(transcoder: Transcoder) -> float:
    async with asyncio.timeout(10):
        while transcoder.duration is None:
            await asyncio.sleep(0.01)
    return transcoder.duration


@pytest.mark.parametrize("name", ["tts.mp3", "tts.wav"])
async def test_a_stream_is_measured_once_it_has_all_arrived(tmp_path: Path, name: str) -> None:
    """A TTS result's duration is known long before its paced transcode ends."""
    data = make_tone(tmp_path / name, 500, 6.0).read_bytes()
    gate = asyncio.Event()

    async def synthesis() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        await gate.wait()
        yield data[len(data) // 2 :]

    transcoder = Transcoder(FFMPEG, AudioSource(stream=synthesis, gain=0.5))
    await transcoder.start()
    try:
        await asyncio.sleep(0.3)
        assert transcoder.duration is None  # half of it has arrived: not known yet
        gate.set()
        assert abs(await wait_duration(transcoder) - 6.0) < 0.05
        # nothing was taken from the transcode: it is paced, far from its end
        assert not transcoder.done
    finally:
        await transcoder.aclose()


async def test_a_stream_that_fails_or_is_too_long_has_no_duration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_tone(tmp_path / "t.mp3", 500, 1.0).read_bytes()

    async def broken() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        raise OSError("synthesis failed")

    transcoder = Transcoder(FFMPEG, AudioSource(stream=broken))
    await transcoder.start()
    await asyncio.sleep(0.3)
    await transcoder.aclose()
    assert transcoder.duration is None

    monkeypatch.setattr(transcode, "MEASURE_LIMIT", len(data) - 1)
    alaw = await collect(AudioSource(stream=lambda: chunks(data)))
    assert len(alaw) > 0  # played, not measured
    garbage = Transcoder(FFMPEG, AudioSource(stream=lambda: chunks(b"not audio")))
    await garbage.start()
    await asyncio.sleep(0.3)
    await garbage.aclose()
    assert garbage.duration is None


async def test_closing_while_measuring_leaves_no_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_tone(tmp_path / "t.wav", 500, 30.0).read_bytes()
    measuring = asyncio.Event()
    measure = transcode.decoded_seconds

    async def slow_measure(args: list[str], data: bytes) -> float | None:
        measuring.set()
        return await measure([args[0], "-re", *args[1:]], data)  # real time: 30 s

    monkeypatch.setattr(transcode, "decoded_seconds", slow_measure)
    transcoder = Transcoder(FFMPEG, AudioSource(stream=lambda: chunks(data, size=1 << 20)))
    await transcoder.start()
    async with asyncio.timeout(10):
        await measuring.wait()
        while len(ffmpeg_children()) < 2:  # the transcode and the measurement
            await asyncio.sleep(0.01)
    await transcoder.aclose()
    assert transcoder.duration is None
    assert ffmpeg_children() == []


async def test_failing_stream_plays_what_arrived_then_fails(tmp_path: Path) -> None:
    data = make_tone(tmp_path / "t.mp3", 500, 2.0).read_bytes()

    async def broken() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        raise OSError("synthesis failed")

    alaw, error = await collect_until_error(AudioSource(stream=broken))
    assert 0.5 < len(alaw) / 8000 < 1.5
    assert isinstance(error, TalkMediaInterruptedError)
    assert error.placeholders["error"] == "the audio stream failed: OSError('synthesis failed')"


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
    assert redact_text("x http://h/p?authSig=abc y") == "x http://h/p y"


def test_redact_url() -> None:
    assert redact_url("http://user:password@nas:8080/a.mp3?sig=1#x") == "http://nas:8080/a.mp3"
    assert redact_url("https://user:p#ss@nas/a.mp3") == "https://nas/a.mp3"  # unencoded #
    assert redact_url("http://user:pw@[::1/a.mp3") == "http://[::1/a.mp3"  # malformed
    assert redact_url("wss://talk/x?token=t") == "wss://talk/x"
    assert redact_url("file:///media/a.mp3") == "file:///media/a.mp3"
    assert redact_url("/api/tts_proxy/x.mp3?authSig=s") == "/api/tts_proxy/x.mp3"
    text = "[tcp @ 0x1] 'http://u:secret@h/a.m3u8?k=v': Connection to tcp://h:1 failed"
    assert redact_text(text) == "[tcp @ 0x1] 'http://h/a.m3u8': Connection to tcp://h:1 failed"


def test_protocol_whitelist_per_input_kind() -> None:
    def whitelist(source: AudioSource) -> str:
        args = ffmpeg_args("ffmpeg", source)
        assert args.count("-protocol_whitelist") == 1
        return args[args.index("-protocol_whitelist") + 1]

    assert whitelist(AudioSource(location="/media/a.mp3")) == "file"
    assert whitelist(AudioSource(location="https://h/a.m3u8")) == "http,https,tcp,tls,crypto"
    assert whitelist(AudioSource(stream=lambda: chunks(b""))) == "pipe"
    local = ffmpeg_args("ffmpeg", AudioSource(location="/media/http:x.mp3"))
    assert local[local.index("-i") + 1] == "file:/media/http:x.mp3"


# --- ffmpeg failing after some audio, URLs that fail ----------------------------------------


@pytest.fixture
async def server(socket_enabled: None, tmp_path: Path) -> AsyncIterator[MediaServer]:
    folder = tmp_path / "served"
    folder.mkdir()
    make_tone(folder / "tone.wav", 700, 3.0)
    media = MediaServer(folder)
    await media.start()
    yield media
    await media.close()


async def drain(transcoder: Transcoder) -> tuple[bytes, TalkError]:
    """Read a started transcoder to its end; return the audio and the error it ended with."""
    frames: list[bytes] = []
    try:
        async with asyncio.timeout(20):
            while True:
                try:
                    frame = await transcoder.read_frame()
                except TalkError as err:
                    return b"".join(frames), err
                assert frame is not None, "ended without an error"
                frames.append(frame)
    finally:
        await transcoder.aclose()


async def collect_until_error(source: AudioSource) -> tuple[bytes, TalkError]:
    """Read a source to its end; return the audio and the error it ended with."""
    transcoder = Transcoder(FFMPEG, source)
    await transcoder.start()
    return await drain(transcoder)


def _written(pid: int) -> int:
    """Return how many bytes a process has written so far (Linux /proc)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError


async def wait_until_blocked(pid: int) -> int:
    """Wait until ffmpeg stops writing (its output is full); return what it wrote."""
    last, same = -1, 0
    async with asyncio.timeout(20):
        while same < 10:
            await asyncio.sleep(0.05)
            written = _written(pid)
            same = same + 1 if written == last and written > 0 else 0
            last = written
    return last


async def test_kill_mid_way_is_an_error_noticed_after_a_bounded_read_ahead(
    tmp_path: Path,
) -> None:
    """A killed ffmpeg ends the audio with an error, after at most READ_AHEAD_BYTES of audio.

    Nothing reads the frames until ffmpeg blocks on its full output: everything it wrote
    then waits in the queue, the reader and the pipe. That is the audio still played after
    a failure of ffmpeg before the failure is noticed.
    """
    transcoder = Transcoder(
        FFMPEG, AudioSource(location=str(make_tone(tmp_path / "long.wav", 300, 60)))
    )
    await transcoder.start()
    assert transcoder._process is not None
    pid = transcoder._process.pid
    written = await wait_until_blocked(pid)
    os.kill(pid, signal.SIGKILL)
    audio, error = await drain(transcoder)
    frames = len(audio) // FRAME_BYTES
    print(f"read ahead: {written} bytes written, {frames} frames after the kill")
    assert written <= frames * FRAME_BYTES <= READ_AHEAD_BYTES  # all of it, and little
    assert READ_AHEAD_BYTES <= 2 * 8000  # at most 2 s of audio
    assert isinstance(error, TalkMediaInterruptedError)
    assert error.placeholders == {
        "error": "ffmpeg was stopped by SIGKILL",
        "seconds": f"{frames * 0.02:.1f}",
    }


async def test_url_dropped_mid_file_is_a_fetch_error(server: MediaServer) -> None:
    audio, error = await collect_until_error(AudioSource(location=f"{server.url}/drop/tone.wav"))
    assert 0.5 < len(audio) / 8000 < 1.5  # 40 % of 3 s played, then the error
    assert isinstance(error, TalkMediaFetchError)
    assert error.translation_key == "media_fetch_failed"
    assert "prematurely" in error.placeholders["error"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/files/missing.wav", "404"),
        ("refused", "Connection refused"),
        ("dns", "resolve"),
    ],
)
async def test_fetch_failures(server: MediaServer, path: str, expected: str) -> None:
    if path == "refused":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            url = f"http://user:password@127.0.0.1:{sock.getsockname()[1]}/a.mp3?sig=s"
    elif path == "dns":
        url = "http://user:password@no-such-host.invalid/a.mp3?sig=s"
    else:
        url = server.url.replace("//", "//user:password@") + path + "?sig=s"
    audio, error = await collect_until_error(AudioSource(location=url))
    assert audio == b""
    assert isinstance(error, TalkMediaFetchError)
    assert expected in error.placeholders["error"]
    for text in (str(error), error.placeholders["error"]):
        assert "password" not in text
        assert "sig=" not in text


async def test_hls_playlist_cannot_read_local_files(server: MediaServer, tmp_path: Path) -> None:
    """A URL's playlist naming a local file: ffmpeg refuses the file, the play fails."""
    secret = make_ts(tmp_path / "secret.ts", 300, 2.0)  # outside the served folder
    (server.folder / "only.m3u8").write_text(hls_playlist((f"file://{secret}", 2.0)))
    audio, error = await collect_until_error(AudioSource(location=f"{server.url}/files/only.m3u8"))
    assert audio == b""
    assert type(error) is TalkMediaError
    assert "not on whitelist" in error.placeholders["error"]

    make_ts(server.folder / "good.ts", 700, 1.0)
    (server.folder / "mixed.m3u8").write_text(
        hls_playlist((f"{server.url}/files/good.ts", 1.0), (f"file://{secret}", 2.0))
    )
    audio, error = await collect_until_error(AudioSource(location=f"{server.url}/files/mixed.m3u8"))
    assert isinstance(error, TalkMediaInterruptedError)  # the refusal is not silent
    assert "not on whitelist" in error.placeholders["error"]
    samples = voiced(alaw_decode(audio))
    assert abs(dominant_frequency(samples) - 700) < 10  # the served segment only
    assert len(samples) / 8000 < 1.2


async def test_redirect_to_a_local_file_is_refused(server: MediaServer, tmp_path: Path) -> None:
    secret = make_tone(tmp_path / "secret.wav", 300, 1.0)
    audio, error = await collect_until_error(
        AudioSource(location=f"{server.url}/redirect?to=file://{secret}")
    )
    assert audio == b""
    assert isinstance(error, TalkMediaError)
    redirected = await collect(
        AudioSource(location=f"{server.url}/redirect?to={server.url}/files/tone.wav")
    )
    assert abs(len(redirected) / 8000 - 3.0) < 0.1  # http to http is followed


async def test_local_playlist_cannot_fetch_urls(server: MediaServer, tmp_path: Path) -> None:
    """A local file may only read local files (a playlist in My media cannot reach out)."""
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(hls_playlist((f"{server.url}/files/tone.wav", 3.0)))
    audio, error = await collect_until_error(AudioSource(location=str(playlist)))
    assert audio == b""
    assert isinstance(error, TalkMediaError)
    assert server.requests == []


async def test_credentials_in_a_url_are_used_but_never_shown(server: MediaServer) -> None:
    url = server.url.replace("//", "//user:password@") + "/auth/tone.wav"
    assert abs(len(await collect(AudioSource(location=url))) / 8000 - 3.0) < 0.1
    _, error = await collect_until_error(AudioSource(location=url.replace("password", "wrong")))
    assert isinstance(error, TalkMediaFetchError)
    assert "401" in error.placeholders["error"]
    assert "wrong" not in str(error)


def test_ffmpeg_log_reading() -> None:
    log = _FfmpegLog("http://u:pw@h/a.mp3")
    log.feed(b"[http @ 0x55d6] Stream ends prematurely at 1, should be 2\n" + b"x" * 5000)
    log.feed(b"\rhttp://u:pw@h/a.mp3: Input/output error")
    log.close()
    assert log.fetch_failed == "Stream ends prematurely at 1, should be 2"
    assert log.input_failed == log.fetch_failed
    assert log.last == "http://h/a.mp3: Input/output error"
    assert log.refused is None
    assert _exit_text(-9) == "ffmpeg was stopped by SIGKILL"
    assert _exit_text(-200) == "ffmpeg was stopped by signal 200"
    assert _exit_text(1) == "ffmpeg exited with code 1"


async def test_a_failing_local_file_is_not_a_fetch_error(tmp_path: Path) -> None:
    """ffmpeg exits non-zero on a local file after some audio: the media failed mid-way."""
    path = make_tone(tmp_path / "t.wav", 440, 2.0)
    script = tmp_path / "ffmpeg"  # decodes the file, then fails
    script.write_text(f'#!/bin/sh\n"{FFMPEG}" "$@"\necho "file:{path}: Input/output error" >&2\n')
    script.chmod(0o755)
    transcoder = Transcoder(str(script), AudioSource(location=str(path)))
    await transcoder.start()
    audio, error = await drain(transcoder)
    assert abs(len(audio) / 8000 - 2.0) < 0.05
    assert type(error) is TalkMediaInterruptedError
    assert error.placeholders == {"error": f"file:{path}: Input/output error", "seconds": "2.0"}
