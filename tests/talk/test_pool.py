"""The transcoder pool: cameras playing the same audio at the same time share one ffmpeg."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import os
from pathlib import Path
import signal

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.talk import (
    AudioSource,
    ClientTalkOpener,
    Speaker,
    TalkError,
    TalkMediaError,
    TalkMediaInterruptedError,
    TalkMediaNotFoundError,
    TalkOptions,
    Transcoder,
    TranscoderPool,
)
from custom_components.volcengine_aiot.talk.flv import FRAME_BYTES
from custom_components.volcengine_aiot.talk.pool import _Reader
from custom_components.volcengine_aiot.talk.source import FrameSource
from custom_components.volcengine_aiot.talk.transcode import QUEUE_FRAMES, READ_AHEAD_BYTES
from tests.audio import FFMPEG, alaw_decode, dominant_frequency, ffmpeg_children, make_tone, voiced
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, HOME_IPC_NSID, HOME_NVR_NSID, SPACE_HOME_ID

pytestmark = pytest.mark.usefixtures("no_leftover_ffmpeg")


@pytest.fixture
def tone(tmp_path: Path) -> str:
    return str(make_tone(tmp_path / "tone.mp3", 700, 1.0))


async def read_all(source: FrameSource, *, pace: float = 0.0) -> bytes:
    """Read every frame (optionally at most one per ``pace`` seconds), then close."""
    frames: list[bytes] = []
    try:
        await source.start()
        async with asyncio.timeout(20):
            while not source.done:
                frame = source.next_frame()
                if frame is None:
                    await asyncio.sleep(0.005)
                    continue
                frames.append(frame)
                if pace:
                    await asyncio.sleep(pace)
    finally:
        await source.aclose()
    return b"".join(frames)


async def test_same_source_opened_together_shares_one_ffmpeg(tone: str, spawned: list[str]) -> None:
    pool = TranscoderPool(FFMPEG)
    readers = [pool.open(AudioSource(location=tone)) for _ in range(5)]
    assert all(isinstance(r, _Reader) for r in readers)
    results = await asyncio.gather(*(read_all(r) for r in readers))
    assert spawned == [tone]
    alone = await read_all(Transcoder(FFMPEG, AudioSource(location=tone)))
    assert all(result == alone for result in results)  # exactly what an own ffmpeg gives
    samples = voiced(alaw_decode(results[0]))
    assert abs(dominant_frequency(samples) - 700) < 5
    assert abs(len(samples) / 8000 - 1.0) < 0.06


async def test_a_late_joiner_starts_at_the_start(tone: str) -> None:
    pool = TranscoderPool(FFMPEG)
    first = pool.open(AudioSource(location=tone))
    first_task = asyncio.create_task(read_all(first, pace=0.02))  # real time
    await asyncio.sleep(0.5)
    late = pool.open(AudioSource(location=tone))
    assert isinstance(late, _Reader)  # joined
    late_result = await read_all(late, pace=0.02)
    assert late_result == await first_task


async def test_no_sharing_after_the_window_or_with_another_gain(
    tone: str, spawned: list[str]
) -> None:
    pool = TranscoderPool(FFMPEG, join_window=0.1)
    first = pool.open(AudioSource(location=tone))
    louder = pool.open(AudioSource(location=tone, gain=2.0))
    readers = [first, louder]
    try:
        await first.start()
        await asyncio.sleep(0.2)
        readers.append(later := pool.open(AudioSource(location=tone)))
        await asyncio.gather(louder.start(), later.start())
        assert spawned == [tone, tone, tone]
    finally:
        await asyncio.gather(*(r.aclose() for r in readers))


async def test_streams_share_only_with_a_key(tmp_path: Path) -> None:
    data = make_tone(tmp_path / "tts.mp3", 500, 1.0).read_bytes()
    consumed: list[str] = []

    def stream(name: str) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            consumed.append(name)
            for offset in range(0, len(data), 1000):
                yield data[offset : offset + 1000]

        return chunks()

    pool = TranscoderPool(FFMPEG)
    unkeyed = pool.open(AudioSource(stream=lambda: stream("unkeyed")))
    assert isinstance(unkeyed, Transcoder)
    await unkeyed.aclose()
    keyed = [
        pool.open(AudioSource(stream=lambda n=n: stream(n), key="media-source://tts/x?message=hi"))
        for n in ("a", "b", "c")
    ]
    results = await asyncio.gather(*(read_all(r) for r in keyed))
    assert consumed == ["a"]  # one synthesis stream read, one ffmpeg
    assert results[0] == results[1] == results[2]
    assert abs(dominant_frequency(voiced(alaw_decode(results[0]))) - 500) < 5


async def test_memory_is_bounded_between_slow_and_fast_readers(tmp_path: Path) -> None:
    long = str(make_tone(tmp_path / "long.wav", 300, 10.0))
    pool = TranscoderPool(FFMPEG, join_window=0.05)
    fast, slow = pool.open(AudioSource(location=long)), pool.open(AudioSource(location=long))
    assert isinstance(fast, _Reader)
    assert isinstance(slow, _Reader)
    await asyncio.gather(fast.start(), slow.start())
    shared = fast._shared
    peak = 0
    async with asyncio.timeout(10):
        for _ in range(60):  # the slow reader takes a frame a tick, the fast one two
            for reader in (fast, fast, slow):
                while reader.next_frame() is None:
                    await asyncio.sleep(0.002)
            await asyncio.sleep(0.005)
            peak = max(peak, len(shared.frames))
    spread = fast.position - slow.position
    assert spread == 60
    assert peak <= spread + QUEUE_FRAMES + 1  # never the whole 500-frame file
    await asyncio.gather(fast.aclose(), slow.aclose())


async def probed(reader: FrameSource) -> None:
    """Wait until a file's duration probe (a second, short ffmpeg) has ended."""
    async with asyncio.timeout(10):
        while reader.duration is None:
            await asyncio.sleep(0.01)


async def test_the_last_reader_leaving_ends_ffmpeg(tmp_path: Path) -> None:
    long = str(make_tone(tmp_path / "long.wav", 300, 10.0))  # more than the pipes hold
    pool = TranscoderPool(FFMPEG)
    first, second = pool.open(AudioSource(location=long)), pool.open(AudioSource(location=long))
    await asyncio.gather(first.start(), second.start())
    await probed(second)
    await first.aclose()
    assert len(ffmpeg_children()) == 1  # the other camera still plays
    assert second.next_frame() is not None or not second.done
    await second.aclose()
    assert ffmpeg_children() == []


async def test_errors_reach_every_reader(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"junk" * 1000)
    pool = TranscoderPool(FFMPEG)
    readers = [pool.open(AudioSource(location=str(corrupt))) for _ in range(2)]
    for reader in readers:
        with pytest.raises(TalkMediaError):
            await read_all(reader)

    missing = [pool.open(AudioSource(location=str(tmp_path / "nope.mp3"))) for _ in range(2)]
    for reader in missing:
        with pytest.raises(TalkMediaNotFoundError):
            await reader.start()
        await reader.aclose()


async def drain_frames(reader: FrameSource) -> tuple[bytes, TalkError | None]:
    """Take the frames of a started reader to its end; return them and its error."""
    frames = b""
    try:
        async with asyncio.timeout(10):
            while not reader.done:
                frames += reader.next_frame() or b""
                await asyncio.sleep(0)
    except TalkError as err:
        return frames, err
    finally:
        await reader.aclose()
    return frames, None


async def test_ffmpeg_killed_mid_way_fails_every_reader_after_its_frames(tmp_path: Path) -> None:
    long = str(make_tone(tmp_path / "long.wav", 300, 60.0))
    pool = TranscoderPool(FFMPEG)
    readers = [pool.open(AudioSource(location=long)) for _ in range(2)]
    await asyncio.gather(*(r.start() for r in readers))
    async with asyncio.timeout(10):
        while not (first := readers[0].next_frame()):
            await asyncio.sleep(0.005)
    await probed(readers[1])
    (pid,) = ffmpeg_children()  # the transcode (its duration probe has ended)
    os.kill(pid, signal.SIGKILL)
    (rest, error), (other, other_error) = [await drain_frames(r) for r in readers]
    assert first + rest == other  # each reader gets every frame, then the error
    # a shared transcode keeps up to QUEUE_FRAMES more for the readers
    assert 0 < len(other) <= READ_AHEAD_BYTES + QUEUE_FRAMES * FRAME_BYTES
    for err in (error, other_error):
        assert isinstance(err, TalkMediaInterruptedError)
        assert "SIGKILL" in err.placeholders["error"]


async def test_a_reader_that_never_started(tmp_path: Path) -> None:
    pool = TranscoderPool(FFMPEG)
    missing = [pool.open(AudioSource(location=str(tmp_path / "nope.mp3"))) for _ in range(2)]
    with pytest.raises(TalkMediaNotFoundError):
        await missing[0].start()
    await asyncio.gather(*(r.aclose() for r in missing))


# --- two cameras through the speakers ---------------------------------------------------------


async def test_an_announcement_to_two_cameras_runs_one_ffmpeg(
    emulator: Emulator, tone: str, spawned: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = TranscoderPool(FFMPEG)
    options = TalkOptions(preroll=0.1, tail=0.1)
    async with aiohttp.ClientSession() as http:
        client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url)
        speakers = [
            Speaker(
                http=http,
                opener=ClientTalkOpener(client, SPACE_HOME_ID, nsid),
                transcoders=pool,
                options=options,
            )
            for nsid in (HOME_IPC_NSID, HOME_NVR_NSID)
        ]
        results = await asyncio.gather(
            *(s.play([AudioSource(location=tone, label="tone")]) for s in speakers)
        )
        for speaker in speakers:
            await speaker.close()
    assert spawned == ["tone"]
    assert all(abs(r.seconds - 1.0) < 0.06 and not r.interrupted for r in results)
    for nsid in (HOME_IPC_NSID, HOME_NVR_NSID):
        (recording,) = emulator.talk.sessions_for(nsid)
        assert recording.errors == []
        assert abs(dominant_frequency(voiced(alaw_decode(recording.alaw()))) - 700) < 5


async def test_replaying_the_same_media_restarts_it(
    emulator: Emulator, tone: str, spawned: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pressing the chime button twice: the second play starts from the start.

    The interrupted playback releases its ffmpeg before the next one starts, so the second
    play never joins a transcode that is being closed: it gets a fresh one.
    """
    pool = TranscoderPool(FFMPEG)
    async with aiohttp.ClientSession() as http:
        client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url)
        speaker = Speaker(
            http=http,
            opener=ClientTalkOpener(client, SPACE_HOME_ID, HOME_IPC_NSID),
            transcoders=pool,
            options=TalkOptions(preroll=0, tail=0),
        )
        first = asyncio.create_task(speaker.play([AudioSource(location=tone, label="tone")]))
        async with asyncio.timeout(10):
            while not emulator.talk.sessions_for(HOME_IPC_NSID) or (
                len(emulator.talk.sessions_for(HOME_IPC_NSID)[0].frames) < 15
            ):
                await asyncio.sleep(0.01)
        second = await speaker.play([AudioSource(location=tone, label="tone")])
        await speaker.close()
    assert (await first).interrupted
    assert not second.interrupted
    assert abs(second.seconds - 1.0) < 0.06  # the whole tone again, not its rest
    assert spawned == ["tone", "tone"]
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)  # one talk
    assert len(recording.frames) >= 15 + 48
