"""The speaker (talk sessions) against the emulator with the real client and the real ffmpeg."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import replace
import logging
from pathlib import Path
import time
import traceback

import aiohttp
from aiohttp import web
import numpy as np
import pytest

from custom_components.volcengine_aiot.api import (
    VolcengineClient,
    VolcengineDeviceUnreachableError,
)
from custom_components.volcengine_aiot.talk import (
    AudioSource,
    ClientTalkOpener,
    Speaker,
    TalkConnectError,
    TalkConnectionLostError,
    TalkDeviceBusyError,
    TalkDeviceUnreachableError,
    TalkEmptyAudioError,
    TalkFfmpegError,
    TalkInternalError,
    TalkMaxDurationError,
    TalkMediaError,
    TalkMediaNotFoundError,
    TalkOptions,
    TalkStartError,
    TranscoderPool,
    sender,
    session as session_module,
    speaker as speaker_module,
)
from custom_components.volcengine_aiot.talk.flv import ALAW_SILENCE
from custom_components.volcengine_aiot.util.redact import redact_message
from tests.audio import (
    FFMPEG,
    alaw_decode,
    dominant_frequency,
    ffmpeg_children,
    make_tone,
    rms,
    voiced,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_NSID,
    HOME_IPC_OFFLINE_NSID,
    SPACE_HOME_ID,
)

FAST = TalkOptions(preroll=0.1, tail=0.1, busy_retry_delay=0.01)


class Opener(ClientTalkOpener):
    """The integration's opener for a device of the home space, counting StopVoiceTalk calls."""

    def __init__(self, client: VolcengineClient, nsid: str = HOME_IPC_NSID) -> None:
        super().__init__(client, SPACE_HOME_ID, nsid)
        self.stops = 0

    async def stop(self) -> None:
        self.stops += 1
        await super().stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def opener(http: aiohttp.ClientSession, emulator: Emulator) -> Opener:
    return Opener(VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url))


@pytest.fixture
async def speaker(
    http: aiohttp.ClientSession, opener: Opener, emulator: Emulator
) -> AsyncIterator[Speaker]:
    changes: list[bool] = []
    speaker = Speaker(
        http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=FAST, name="test"
    )
    speaker._on_change = lambda: changes.append(speaker.is_playing)
    speaker.changes = changes  # type: ignore[attr-defined]
    tasks_before = asyncio.all_tasks()
    yield speaker
    await speaker.close()
    assert not speaker.is_playing
    assert ffmpeg_children() == []
    assert not emulator.talk.active(HOME_IPC_NSID)
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() - tasks_before if "volcengine" in t.get_name()]
    assert leftover == []


@pytest.fixture
def sounds(tmp_path: Path) -> dict[str, str]:
    return {
        "a": str(make_tone(tmp_path / "a.wav", 440, 1.0)),
        "b": str(make_tone(tmp_path / "b.mp3", 1000, 0.6)),
        "long": str(make_tone(tmp_path / "long.wav", 300, 10.0)),
    }


async def wait_frames(emulator: Emulator, count: int) -> None:
    async with asyncio.timeout(10):
        while sum(len(r.frames) for r in emulator.talk.sessions_for(HOME_IPC_NSID)) < count:
            await asyncio.sleep(0.01)


async def wait_tail(speaker: Speaker, emulator: Emulator) -> None:
    """Wait until the audio has been played and the tail silence has begun (load-independent)."""
    silence = bytes([ALAW_SILENCE]) * 160
    async with asyncio.timeout(10):
        while True:
            frames = [f for r in emulator.talk.sessions_for(HOME_IPC_NSID) for f in r.frames]
            # a voiced frame has arrived, so a source was being played; none is now
            if any(f.payload != silence for f in frames) and speaker.current is None:
                assert speaker.is_playing
                return
            await asyncio.sleep(0.01)


def decoded(emulator: Emulator) -> np.ndarray:
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    return alaw_decode(recording.alaw())


async def test_tone_arrives_exact_and_paced(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str], opener: Opener
) -> None:
    result = await speaker.play([AudioSource(location=sounds["a"])])
    assert not result.interrupted
    assert abs(result.seconds - 1.0) < 0.05
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.errors == []
    assert recording.header is not None
    assert recording.stopped
    assert opener.stops == 1
    frames = recording.frames
    assert [f.timestamp_ms for f in frames] == [20 * i for i in range(len(frames))]
    # pre-roll (5 frames) and tail (5 frames) are A-law silence
    assert all(f.payload == bytes([ALAW_SILENCE]) * 160 for f in frames[:5] + frames[-5:])
    tone = voiced(alaw_decode(recording.alaw()))
    assert abs(dominant_frequency(tone) - 440) < 3
    assert abs(len(tone) / 8000 - 1.0) < 0.03
    # real time: the talk lasts as long as its audio, never runs ahead of the schedule
    arrivals = np.array([f.arrival for f in frames])
    span = arrivals[-1] - arrivals[0]
    assert span >= 0.9 * (len(frames) - 1) * 0.02
    ahead = (arrivals[0] + np.arange(len(frames)) * 0.02) - arrivals
    assert ahead.max() < 0.1
    # started, its source began, (its length learned: the file's probe runs beside it,) ended
    changes = speaker.changes  # type: ignore[attr-defined]
    assert changes in ([True, True, False], [True, True, True, False])
    assert speaker.stats.sessions == 1
    assert speaker.stats.frames_sent == len(frames)
    assert speaker.stats.last_error is None


async def test_tts_stream(speaker: Speaker, emulator: Emulator, tmp_path: Path) -> None:
    data = make_tone(tmp_path / "tts.mp3", 700, 1.0).read_bytes()

    async def stream() -> AsyncIterator[bytes]:
        for offset in range(0, len(data), 512):
            yield data[offset : offset + 512]
            await asyncio.sleep(0.002)

    result = await speaker.play([AudioSource(stream=stream, label="tts")])
    assert abs(result.seconds - 1.0) < 0.1
    assert abs(dominant_frequency(voiced(decoded(emulator))) - 700) < 5


async def test_sources_play_in_order(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    result = await speaker.play(
        [AudioSource(location=sounds["b"]), AudioSource(location=sounds["a"])]
    )
    assert abs(result.seconds - 1.6) < 0.1
    samples = voiced(decoded(emulator))
    assert abs(dominant_frequency(samples[: 8000 // 2]) - 1000) < 10
    assert abs(dominant_frequency(samples[-8000 // 2 :]) - 440) < 10


async def test_enqueue_same_session(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["a"])]))
    await wait_frames(emulator, 10)
    second = await speaker.play([AudioSource(location=sounds["b"])], enqueue=True)
    assert not (await first).interrupted
    assert abs(second.seconds - 0.6) < 0.05
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert [f.timestamp_ms for f in recording.frames] == [
        20 * i for i in range(len(recording.frames))
    ]


async def test_new_play_interrupts_on_the_same_socket(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["long"])]))
    queued = asyncio.create_task(speaker.play([AudioSource(location=sounds["a"])], enqueue=True))
    await wait_frames(emulator, 30)
    second = await speaker.play([AudioSource(location=sounds["b"])])
    assert (await first).interrupted
    assert (await queued).interrupted
    assert not second.interrupted
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)  # one talk, one socket
    tail = voiced(alaw_decode(b"".join(f.payload for f in recording.frames[-40:])))
    assert abs(dominant_frequency(tail) - 1000) < 15


async def test_stop(speaker: Speaker, emulator: Emulator, sounds: dict[str, str]) -> None:
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["long"])]))
    await wait_frames(emulator, 20)
    await speaker.stop()
    assert not speaker.is_playing
    result = await first
    assert result.interrupted
    assert result.seconds < 2
    assert not emulator.talk.active(HOME_IPC_NSID)
    await speaker.stop()  # idempotent


async def test_caller_cancellation_does_not_stop_the_audio(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    task = asyncio.create_task(speaker.play([AudioSource(location=sounds["a"])]))
    await wait_frames(emulator, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert speaker.is_playing
    async with asyncio.timeout(5):
        while speaker.is_playing:
            await asyncio.sleep(0.02)
    assert len(voiced(decoded(emulator))) / 8000 > 0.95


async def test_close_refuses_new_plays(speaker: Speaker, sounds: dict[str, str]) -> None:
    await speaker.close()
    result = await speaker.play([AudioSource(location=sounds["a"])])
    assert result.interrupted
    assert result.seconds == 0


async def test_raw_framing(speaker: Speaker, emulator: Emulator, sounds: dict[str, str]) -> None:
    speaker.options = TalkOptions(framing="raw_alaw", preroll=0, tail=0)
    await speaker.play([AudioSource(location=sounds["a"])])
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.raw
    assert recording.errors == []
    assert all(f.timestamp_ms is None for f in recording.frames)
    assert abs(dominant_frequency(voiced(alaw_decode(recording.alaw()))) - 440) < 3


@pytest.mark.parametrize(
    ("framing", "first_sizes"),
    [("flv", [13, 176]), ("flv_joined", [13 + 176, 176]), ("raw_alaw", [160, 160])],
)
async def test_every_framing_variant_reaches_the_emulator(
    speaker: Speaker,
    emulator: Emulator,
    sounds: dict[str, str],
    framing: str,
    first_sizes: list[int],
) -> None:
    speaker.options = TalkOptions(framing=framing, preroll=0.1, tail=0)
    result = await speaker.play([AudioSource(location=sounds["b"])])
    assert not result.interrupted
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.errors == []
    assert recording.sizes[:2] == first_sizes
    assert recording.raw == (framing == "raw_alaw")
    assert abs(dominant_frequency(voiced(decoded(emulator))) - 1000) < 20


async def test_busy_then_free(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str], opener: Opener
) -> None:
    emulator.faults.add("StartVoiceTalk", code="Busy.VoiceTalkDeviceBusy", status=500, times=2)
    result = await speaker.play([AudioSource(location=sounds["b"])])
    assert abs(result.seconds - 0.6) < 0.05
    assert opener.stops == 1  # the busy talk is not ours: only our own is stopped


async def test_busy_forever(speaker: Speaker, emulator: Emulator, sounds: dict[str, str]) -> None:
    emulator.faults.add("StartVoiceTalk", code="Busy.VoiceTalkDeviceBusy", status=500, times=0)
    with pytest.raises(TalkDeviceBusyError):
        await speaker.play([AudioSource(location=sounds["b"])])
    assert len(emulator.requests_for("StartVoiceTalk")) == FAST.busy_retries + 1
    emulator.faults.clear()


async def test_offline_device(
    http: aiohttp.ClientSession, emulator: Emulator, sounds: dict[str, str]
) -> None:
    opener = Opener(
        VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url), HOME_IPC_OFFLINE_NSID
    )
    speaker = Speaker(http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=FAST)
    with pytest.raises(TalkDeviceUnreachableError) as info:
        await speaker.play([AudioSource(location=sounds["a"])])
    assert info.value.placeholders == {"error": "InvalidParameter.DeviceNotOnline"}
    assert isinstance(info.value.__cause__, VolcengineDeviceUnreachableError)
    assert not speaker.is_playing
    assert opener.stops == 0
    assert ffmpeg_children() == []
    assert speaker.stats.last_error == "TalkDeviceUnreachableError"


async def test_socket_refused(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str], opener: Opener
) -> None:
    emulator.talk.refuse_next(HOME_IPC_NSID)
    with pytest.raises(TalkConnectError):
        await speaker.play([AudioSource(location=sounds["a"])])
    assert opener.stops == 1
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_server_closes_mid_talk(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    emulator.talk.close_after(HOME_IPC_NSID, 25)
    queued = asyncio.create_task(speaker.play([AudioSource(location=sounds["b"])], enqueue=True))
    with pytest.raises(TalkConnectionLostError):
        await speaker.play([AudioSource(location=sounds["long"])], enqueue=True)
    with pytest.raises(TalkConnectionLostError):
        await queued
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_missing_file_starts_nothing(
    speaker: Speaker, emulator: Emulator, tmp_path: Path
) -> None:
    with pytest.raises(TalkMediaNotFoundError):
        await speaker.play([AudioSource(location=str(tmp_path / "missing.mp3"))])
    assert emulator.requests_for("StartVoiceTalk") == []
    assert not speaker.is_playing


async def test_corrupt_file(speaker: Speaker, emulator: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "corrupt.mp3"
    path.write_bytes(b"\xff\xfb" + b"junk" * 1000)
    with pytest.raises(TalkMediaError):
        await speaker.play([AudioSource(location=str(path))])
    assert not speaker.is_playing
    assert not emulator.talk.active(HOME_IPC_NSID)
    assert speaker.stats.last_error == "TalkMediaError"


async def test_a_failed_item_does_not_stop_the_queue(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "corrupt.mp3"
    path.write_bytes(b"junk" * 1000)
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["b"])]))
    await wait_frames(emulator, 10)
    bad = asyncio.create_task(speaker.play([AudioSource(location=str(path))], enqueue=True))
    good = asyncio.create_task(speaker.play([AudioSource(location=sounds["a"])], enqueue=True))
    assert not (await first).interrupted
    with pytest.raises(TalkMediaError):
        await bad
    assert abs((await good).seconds - 1.0) < 0.05


async def test_empty_audio(speaker: Speaker, tmp_path: Path) -> None:
    async def nothing() -> AsyncIterator[bytes]:
        return
        yield b""

    with pytest.raises((TalkEmptyAudioError, TalkMediaError)):
        await speaker.play([AudioSource(stream=nothing)])


async def test_max_duration(speaker: Speaker, emulator: Emulator, sounds: dict[str, str]) -> None:
    speaker.options = TalkOptions(preroll=0, tail=0, max_duration=0.5)
    with pytest.raises(TalkMaxDurationError):
        await speaker.play([AudioSource(location=sounds["long"])])
    # the wall time of the playback is bounded: 0.5 s of frames, ffmpeg's start-up included
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert len(recording.frames) == 25
    assert len(voiced(decoded(emulator))) / 8000 <= 0.5
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_nothing_to_play(speaker: Speaker) -> None:
    with pytest.raises(ValueError, match="nothing"):
        await speaker.play([])


async def test_underrun_sends_silence_not_a_burst(
    speaker: Speaker, emulator: Emulator, tmp_path: Path
) -> None:
    """A stalled stream is filled with silence at real-time pace."""
    data = make_tone(tmp_path / "s.mp3", 600, 2.0).read_bytes()

    async def stalling() -> AsyncIterator[bytes]:
        yield data[: len(data) // 3]
        await asyncio.sleep(1.0)
        yield data[len(data) // 3 :]

    speaker.options = TalkOptions(preroll=0, tail=0)
    result = await speaker.play([AudioSource(stream=stalling)])
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    arrivals = np.array([f.arrival for f in recording.frames])
    gaps = np.diff(arrivals)
    assert gaps.max() < 0.2  # no long silence on the wire...
    assert (arrivals[-1] - arrivals[0]) >= 0.9 * (len(arrivals) - 1) * 0.02  # ...and no burst
    assert result.seconds > 1.5
    # the 1 s stall outlasts the 0.67 s already decoded: the gap was filled with silence
    assert speaker.stats.underrun_frames >= 5


async def test_stop_voice_talk_failure_is_not_the_callers_problem(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    emulator.faults.add("StopVoiceTalk", code="InternalError", status=500, times=1)
    result = await speaker.play([AudioSource(location=sounds["b"])])
    assert not result.interrupted
    await emulator.talk.stop(HOME_IPC_NSID)  # what the failed StopVoiceTalk did not do


async def test_ffmpeg_missing_starts_no_talk(
    http: aiohttp.ClientSession, opener: Opener, emulator: Emulator, sounds: dict[str, str]
) -> None:
    speaker = Speaker(
        http=http,
        opener=opener,
        transcoders=TranscoderPool("/nonexistent/ffmpeg"),
        options=FAST,
    )
    with pytest.raises(TalkFfmpegError):
        await speaker.play([AudioSource(location=sounds["a"])])
    await speaker.close()
    assert emulator.requests_for("StartVoiceTalk") == [] or opener.stops == 1
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_state_callback_errors_are_contained(
    speaker: Speaker, sounds: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    speaker._on_change = broken
    result = await speaker.play([AudioSource(location=sounds["b"])])
    assert not result.interrupted
    assert "State callback of test failed" in caplog.text


async def test_back_to_back_sessions_wait_for_the_previous_stop(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """A play right after a session ended waits for its StopVoiceTalk (no self-inflicted busy)."""
    emulator.faults.add("StopVoiceTalk", delay=0.3, times=1)
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["b"])]))
    await wait_frames(emulator, 10)
    await speaker.stop()
    second = await speaker.play([AudioSource(location=sounds["b"])])
    assert (await first).interrupted
    assert not second.interrupted
    assert len(emulator.talk.sessions_for(HOME_IPC_NSID)) == 2


async def test_a_play_during_the_tail_continues_the_session(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    speaker.options = TalkOptions(preroll=0, tail=2.0)
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["b"])]))
    await wait_tail(speaker, emulator)
    second = await speaker.play([AudioSource(location=sounds["b"])], enqueue=True)
    assert not (await first).interrupted
    assert not second.interrupted
    assert len(emulator.talk.sessions_for(HOME_IPC_NSID)) == 1


async def test_stop_during_the_tail(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    speaker.options = TalkOptions(preroll=0, tail=5.0)
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["b"])]))
    await wait_tail(speaker, emulator)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    sent_before_stop = len(recording.frames)
    await speaker.stop()
    assert not (await first).interrupted  # it had been played completely
    # the 5 s (250-frame) tail is cut: at most the two frames sent ahead (plus slack for load)
    assert len(recording.frames) < sent_before_stop + 25


async def test_event_loop_stall_does_not_cause_a_burst(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    speaker.options = TalkOptions(preroll=0, tail=0)
    task = asyncio.create_task(speaker.play([AudioSource(location=sounds["a"])]))
    await wait_frames(emulator, 10)
    time.sleep(0.3)  # noqa: ASYNC251 - a blocked event loop, on purpose
    await task
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    arrivals = np.array([f.arrival for f in recording.frames])
    # after the stall the pace is real time again: no catching up by sending faster
    assert (arrivals[-1] - arrivals[0]) >= (len(arrivals) - 1) * 0.02


async def test_cancelled_session_cleans_up(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    task = asyncio.create_task(speaker.play([AudioSource(location=sounds["long"])]))
    await wait_frames(emulator, 10)
    assert speaker._session is not None
    speaker._session.task.cancel()
    result = await task
    assert result.interrupted
    assert not speaker.is_playing
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_our_stale_talk_is_stopped_when_busy(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str], opener: Opener
) -> None:
    """A talk of ours left open (StopVoiceTalk failed) does not block the next play."""
    emulator.faults.add("StopVoiceTalk", code="InternalError", status=500, times=1)
    await speaker.play([AudioSource(location=sounds["b"])])
    assert emulator.talk.active(HOME_IPC_NSID)
    result = await speaker.play([AudioSource(location=sounds["b"])])
    assert not result.interrupted
    assert opener.stops == 3  # the failed one, the stale one, the last one


# --- issue 9: no silent failure, no unbounded wait, no leaked secret ---------------------------


async def test_a_play_issued_while_a_stop_is_finishing_is_played(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """The play is not queued on the ending session: a new session plays it."""
    emulator.faults.add("StopVoiceTalk", delay=0.5, times=1)  # a slow end of the talk
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["long"])]))
    await wait_frames(emulator, 10)
    stop = asyncio.create_task(speaker.stop())
    await asyncio.sleep(0)  # the stop has begun: the session is ending
    assert not stop.done()
    second = await speaker.play([AudioSource(location=sounds["b"])])
    await stop
    assert (await first).interrupted
    assert not second.interrupted
    assert abs(second.seconds - 0.6) < 0.05
    assert len(emulator.talk.sessions_for(HOME_IPC_NSID)) == 2


async def test_a_start_answered_after_the_client_timeout_is_treated_as_ours(
    http: aiohttp.ClientSession, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """The talk that the late answer opened is stopped before the next play (no "busy")."""
    opener = Opener(VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.3))
    speaker = Speaker(http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=FAST)
    # the request goes through, the answer comes after the client gave up
    emulator.faults.add("StartVoiceTalk", delay=1.0, completes=True)
    with pytest.raises(TalkStartError) as info:
        await speaker.play([AudioSource(location=sounds["a"])])
    assert info.value.translation_key == "talk_failed"
    assert info.value.may_have_started
    assert speaker.stale
    assert opener.stops == 1  # stopped at once (best effort; the start may come later)
    async with asyncio.timeout(10):  # the platform opened the talk after all
        while not emulator.talk.issued:
            await asyncio.sleep(0.01)
    result = await speaker.play([AudioSource(location=sounds["b"])])
    assert not result.interrupted
    await speaker.close()
    assert not emulator.talk.active(HOME_IPC_NSID)
    assert ffmpeg_children() == []


async def test_a_talk_opened_after_the_start_timed_out_is_stopped_without_another_play(
    http: aiohttp.ClientSession, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """The camera is not left busy until our next play: StopVoiceTalk again, bounded."""
    options = replace(FAST, stale_stop_delays=(0.5, 1.5, 2.5), stale_stop_retry_delay=0.5)
    opener = Opener(VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.3))
    speaker = Speaker(http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=options)
    emulator.faults.add("StartVoiceTalk", delay=1.0, completes=True)
    with pytest.raises(TalkStartError):
        await speaker.play([AudioSource(location=sounds["a"])])
    assert opener.stops == 1  # at once: before the platform opened the talk
    async with asyncio.timeout(10):  # the platform opens the talk after all ...
        while not emulator.talk.issued:
            await asyncio.sleep(0.01)
    async with asyncio.timeout(10):  # ... and it is stopped with no play
        while emulator.talk.active(HOME_IPC_NSID):
            await asyncio.sleep(0.01)
    async with asyncio.timeout(10):  # every planned stop is sent, then it is over
        while speaker.stale:
            await asyncio.sleep(0.01)
    assert [stop["result"] for stop in speaker.stats.stale_stops] == ["stopped"] * 3
    assert [stop["after"] for stop in speaker.stats.stale_stops] == sorted(
        stop["after"] for stop in speaker.stats.stale_stops
    )
    assert opener.stops == 4
    await speaker.close()
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_stopping_a_talk_left_open_is_retried_until_it_succeeds(
    http: aiohttp.ClientSession, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """A failing StopVoiceTalk is sent again after the planned ones, a bounded number of times."""
    options = replace(
        FAST, stale_stop_delays=(0.1, 0.2), stale_stop_retries=3, stale_stop_retry_delay=0.1
    )
    opener = Opener(VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.3))
    speaker = Speaker(http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=options)
    emulator.faults.add("StartVoiceTalk", delay=0.5, completes=True)
    # the immediate stop and the two planned ones fail; the first retry succeeds
    emulator.faults.add("StopVoiceTalk", code="InternalError", times=3)
    with pytest.raises(TalkStartError):
        await speaker.play([AudioSource(location=sounds["a"])])
    async with asyncio.timeout(10):
        while speaker.stale:
            await asyncio.sleep(0.01)
    results = [stop["result"] for stop in speaker.stats.stale_stops]
    assert len(results) == 3
    assert results[-1] == "stopped"
    assert "stopped" not in results[:-1]
    assert not emulator.talk.active(HOME_IPC_NSID)
    await speaker.close()


async def test_stopping_a_talk_left_open_gives_up_after_the_retries(
    http: aiohttp.ClientSession,
    emulator: Emulator,
    sounds: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    options = replace(
        FAST, stale_stop_delays=(0.1,), stale_stop_retries=2, stale_stop_retry_delay=0.1
    )
    opener = Opener(VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.3))
    speaker = Speaker(
        http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=options, name="t"
    )
    emulator.faults.add("StartVoiceTalk", delay=0.5, completes=True)
    emulator.faults.add("StopVoiceTalk", code="InternalError", times=0)  # always fails
    with pytest.raises(TalkStartError):
        await speaker.play([AudioSource(location=sounds["a"])])
    async with asyncio.timeout(10):
        while "t: the talk may still be open on the platform" not in caplog.text:
            await asyncio.sleep(0.01)
    assert opener.stops == 4  # at once, the planned one, two retries: no more
    assert speaker.stale  # the next play stops it first if the camera reports busy
    emulator.faults.clear()
    await speaker.close()
    await emulator.talk.stop(HOME_IPC_NSID)


async def test_a_talk_left_open_is_stopped_when_the_speaker_closes(
    http: aiohttp.ClientSession, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """Unload (or shutdown) before the next planned stop: a last StopVoiceTalk, bounded."""
    options = replace(FAST, stale_stop_delays=(30.0,))
    opener = Opener(VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.3))
    speaker = Speaker(http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=options)
    emulator.faults.add("StartVoiceTalk", delay=0.5, completes=True)
    with pytest.raises(TalkStartError):
        await speaker.play([AudioSource(location=sounds["a"])])
    async with asyncio.timeout(10):  # the platform opened the talk after the first stop
        while not emulator.talk.active(HOME_IPC_NSID):
            await asyncio.sleep(0.01)
    await speaker.close()
    assert not emulator.talk.active(HOME_IPC_NSID)
    assert not speaker.stale
    ((stop),) = speaker.stats.stale_stops
    assert stop["result"] == "stopped"


async def test_a_talk_left_open_is_never_stopped_while_a_play_of_ours_talks(
    http: aiohttp.ClientSession, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """The later stops wait for the end of our own talk: they never cut a playback."""
    options = replace(FAST, stale_stop_delays=(0.2,))
    opener = Opener(VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.3))
    speaker = Speaker(http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=options)
    emulator.faults.add("StartVoiceTalk", delay=1.0, completes=True)
    with pytest.raises(TalkStartError):
        await speaker.play([AudioSource(location=sounds["a"])])
    result = await speaker.play([AudioSource(location=sounds["a"])])  # 1 s, over the 0.2 s
    assert not result.interrupted
    assert abs(result.seconds - 1.0) < 0.05
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.stopped  # by our own StopVoiceTalk at its end
    async with asyncio.timeout(10):  # then the planned stop
        while speaker.stale or not speaker.stats.stale_stops:
            await asyncio.sleep(0.01)
    (stop,) = speaker.stats.stale_stops
    assert stop["result"] == "stopped"
    assert stop["after"] >= 1.0  # after our talk, not at 0.2 s
    await speaker.close()


@pytest.fixture
async def drip_url(socket_enabled: None) -> AsyncIterator[str]:
    """A WAV URL that sends 0.5 s of audio, then 2 bytes every 2 s (never ending in a test)."""
    tone = (np.sin(2 * np.pi * 500 * np.arange(4000) / 8000) * 8000).astype("<i2").tobytes()
    header = (
        b"RIFF"
        + (0x7FFFFFF0).to_bytes(4, "little")
        + b"WAVEfmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (1).to_bytes(2, "little")
        + (8000).to_bytes(4, "little")
        + (16000).to_bytes(4, "little")
        + (2).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + b"data"
        + (0x7FFFFFCC).to_bytes(4, "little")
    )

    done = asyncio.Event()

    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/wav"})
        await response.prepare(request)
        await response.write(header + tone)
        for _ in range(30):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 2)
            if done.is_set():
                break
            await response.write(b"\x00\x00")
        return response

    app = web.Application()
    app.router.add_get("/drip.wav", drip)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/drip.wav"
    done.set()
    await runner.cleanup()


async def test_a_drip_url_is_stopped_at_max_duration(
    speaker: Speaker, emulator: Emulator, drip_url: str
) -> None:
    """Underrun silence counts: max duration bounds the wall time of a playback."""
    speaker.options = TalkOptions(preroll=0, tail=0, max_duration=2.0)
    with pytest.raises(TalkMaxDurationError) as info:
        async with asyncio.timeout(30):  # the drip lasts 60 s: only max duration ends it
            await speaker.play([AudioSource(location=drip_url, label="drip")])
    assert info.value.translation_key == "max_duration_reached"
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert len(recording.frames) == 100  # 2 s of 20 ms frames: audio, then silence
    assert speaker.stats.underrun_frames > 0


@pytest.fixture
def small_send_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-pressure within a second or two of audio instead of after 16 KiB of kernel buffer."""
    monkeypatch.setattr(sender, "SEND_BUFFER", 4096)


async def wait_blocked(speaker: Speaker, emulator: Emulator) -> None:
    """Wait until the talk server has stopped reading and our sends wait for it."""
    async with asyncio.timeout(60):
        while True:
            recordings = emulator.talk.sessions_for(HOME_IPC_NSID)
            session = speaker._session
            socket = session._socket if session is not None else None
            transport = socket._transport if socket is not None else None
            if (
                recordings
                and recordings[-1].stalled
                and transport is not None
                and transport.get_write_buffer_size() > sender.MAX_BACKLOG
            ):
                return
            await asyncio.sleep(0.02)


async def test_a_talk_server_that_stops_reading_ends_the_talk(
    speaker: Speaker, emulator: Emulator, tmp_path: Path, small_send_buffer: None
) -> None:
    """A frame that cannot be written within SEND_TIMEOUT ends the talk: connection lost."""
    very_long = str(make_tone(tmp_path / "60s.wav", 300, 60.0))
    emulator.talk.stop_reading(HOME_IPC_NSID, frames=5)
    speaker.options = TalkOptions(preroll=0, tail=0)
    task = asyncio.create_task(speaker.play([AudioSource(location=very_long)]))
    await wait_blocked(speaker, emulator)
    with pytest.raises(TalkConnectionLostError, match="stopped reading") as info:
        async with asyncio.timeout(sender.SEND_TIMEOUT + 10):
            await task
    assert info.value.translation_key == "talk_connection_lost"
    assert not speaker.is_playing
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_stop_returns_while_the_talk_server_does_not_read(
    speaker: Speaker, emulator: Emulator, tmp_path: Path, small_send_buffer: None
) -> None:
    very_long = str(make_tone(tmp_path / "60s.wav", 300, 60.0))
    emulator.talk.stop_reading(HOME_IPC_NSID, frames=5)
    task = asyncio.create_task(speaker.play([AudioSource(location=very_long)]))
    await wait_blocked(speaker, emulator)
    async with asyncio.timeout(sender.CLOSE_TIMEOUT + session_module.STOP_TIMEOUT + 5):
        await speaker.stop()
    assert (await task).interrupted
    assert not speaker.is_playing
    assert not emulator.talk.active(HOME_IPC_NSID)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    await recording.wait_closed()  # the connection was aborted, not left to drain


async def test_an_unexpected_error_reaches_the_caller(
    http: aiohttp.ClientSession, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """A bug in the session is an error for the caller, never an "interrupted" success."""

    class BrokenOpener(Opener):
        async def start(self) -> str:
            raise RuntimeError("boom")

    opener = BrokenOpener(VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url))
    speaker = Speaker(http=http, opener=opener, transcoders=TranscoderPool(FFMPEG), options=FAST)
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["a"])]))
    await asyncio.sleep(0)
    queued = asyncio.create_task(speaker.play([AudioSource(location=sounds["b"])], enqueue=True))
    for task in (first, queued):
        with pytest.raises(TalkInternalError) as info:
            await task
        assert info.value.translation_key == "talk_failed"
        assert info.value.placeholders == {"error": "unexpected RuntimeError"}
    assert not speaker.is_playing
    assert ffmpeg_children() == []
    await speaker.close()


async def test_near_simultaneous_plays_are_applied_in_call_order(
    speaker: Speaker, sounds: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file check runs in the executor: an earlier call's slower check must not win."""
    check = speaker_module.check_source
    delays = iter([0.04 - 0.002 * n for n in range(20)])  # earlier calls check slower

    async def slow_check(source: AudioSource) -> None:
        await asyncio.sleep(next(delays))
        await check(source)

    monkeypatch.setattr(speaker_module, "check_source", slow_check)
    calls = [
        asyncio.create_task(speaker.play([AudioSource(location=sounds["b"], label=str(n))]))
        for n in range(20)
    ]
    results = await asyncio.gather(*calls)
    assert [r.interrupted for r in results] == [True] * 19 + [False]
    assert abs(results[-1].seconds - 0.6) < 0.05


async def test_a_refused_socket_leaks_no_token(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp's handshake error names the full URL: it is neither chained nor logged."""
    caplog.set_level(logging.DEBUG)
    emulator.talk.refuse_next(HOME_IPC_NSID)
    with pytest.raises(TalkConnectError) as info:
        await speaker.play([AudioSource(location=sounds["a"])])
    ((_, token),) = emulator.talk.issued
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert token not in "".join(traceback.format_exception(info.value))
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert ours
    assert all(token not in r.getMessage() and not r.exc_info for r in ours)


async def test_a_stop_voice_talk_timeout_says_so(
    speaker: Speaker,
    emulator: Emulator,
    sounds: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(session_module, "STOP_TIMEOUT", 0.2)
    emulator.faults.add("StopVoiceTalk", delay=0.5, completes=True)
    result = await speaker.play([AudioSource(location=sounds["b"])])
    assert not result.interrupted
    assert "test: StopVoiceTalk failed: timed out after 0.2 s" in caplog.text
    async with asyncio.timeout(5):  # the slow StopVoiceTalk still ends the talk
        while emulator.talk.active(HOME_IPC_NSID):
            await asyncio.sleep(0.01)


async def test_announce_interrupts_and_the_queue_plays_after_it(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str], tmp_path: Path
) -> None:
    """announce=True plays at once; what was queued with enqueue still plays, same session."""
    announcement = str(make_tone(tmp_path / "ann.wav", 1000, 0.4))
    current = asyncio.create_task(speaker.play([AudioSource(location=sounds["long"])]))
    await wait_frames(emulator, 10)
    queued = asyncio.create_task(speaker.play([AudioSource(location=sounds["a"])], enqueue=True))
    await asyncio.sleep(0.05)
    announced = await speaker.play([AudioSource(location=announcement)], announce=True)
    assert (await current).interrupted
    assert not announced.interrupted
    assert abs(announced.seconds - 0.4) < 0.05
    after = await queued
    assert not after.interrupted
    assert abs(after.seconds - 1.0) < 0.05
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)  # one talk for all three
    audio = alaw_decode(recording.alaw())
    tones = []  # the tone of every voiced 40 ms, in order, without repeats
    for chunk in np.split(audio[: len(audio) // 320 * 320], len(audio) // 320):
        if rms(chunk) > 0.05:
            tone = min((300, 440, 1000), key=lambda f: abs(f - dominant_frequency(chunk)))
            if not tones or tones[-1] != tone:
                tones.append(tone)
    assert tones[-2:] == [1000, 440]  # the announcement, then what was queued
    assert tones.count(1000) == 1


async def test_announce_on_an_idle_speaker_just_plays(
    speaker: Speaker, sounds: dict[str, str]
) -> None:
    result = await speaker.play([AudioSource(location=sounds["b"])], announce=True)
    assert not result.interrupted
    assert abs(result.seconds - 0.6) < 0.05


# --- issue 14: what the talk server says is kept ---------------------------------------------


async def test_what_the_talk_server_says_is_recorded_and_warned_once(
    speaker: Speaker,
    emulator: Emulator,
    sounds: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "f3e1a9c0b7d24e6f8a1b2c3d4e5f6a7b"
    emulator.talk.say_next(
        HOME_IPC_NSID,
        frames=10,
        messages=[
            (
                f'{{"code": 4001, "msg": "bad frame", "token": "{secret}", '
                f'"url": "wss://x.example/talk?token={secret}"}}'
            ),
            b"\x01\x02\x03",
            "second text",
        ],
        close=(4001, f"invalid stream token={secret}"),
    )
    with pytest.raises(TalkConnectionLostError):
        await speaker.play([AudioSource(location=sounds["long"])])
    (talk,) = speaker.talks
    record = talk.as_dict()
    assert [m["type"] for m in record["server_messages"]] == ["TEXT", "BINARY", "TEXT"]
    first, binary, second = record["server_messages"]
    assert "bad frame" in first["text"]
    assert "4001" in first["text"]
    assert secret not in first["text"]
    assert binary == {"type": "BINARY", "size": 3, "at": binary["at"], "text": None}
    assert second["text"] == "second text"
    assert record["closed_by"] == "server"
    assert record["close_code"] == 4001
    assert record["close_reason"] == "invalid stream token=**REDACTED**"
    assert record["error"] == "TalkConnectionLostError"
    timings = record["timings"]
    assert timings["start_voice_talk"] is not None
    assert timings["handshake"] is not None
    assert timings["stop_voice_talk"] is not None
    assert 0 <= timings["first_frame"] <= timings["last_frame"]
    assert record["frames"] >= 10
    warnings = [
        r for r in caplog.records if r.levelname == "WARNING" and "talk server" in r.message
    ]
    assert len(warnings) == 1
    assert "bad frame" in warnings[0].getMessage()
    assert secret not in caplog.text


async def test_short_tokens_of_the_talk_server_are_redacted_too(
    speaker: Speaker,
    emulator: Emulator,
    sounds: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A credential is redacted by its name, whatever the length of its value."""
    emulator.talk.say_next(
        HOME_IPC_NSID,
        frames=5,
        messages=[
            '{"code":4001,"token":"Qz7","vhost":"v1"}',
            "retry with volcSecret=K9x&volcTime=1",
        ],
        close=(4001, "auth_key=Pw4 expired"),
    )
    with pytest.raises(TalkConnectionLostError):
        await speaker.play([AudioSource(location=sounds["long"])])
    record = speaker.talks[-1].as_dict()
    texts = [m["text"] for m in record["server_messages"]] + [record["close_reason"]]
    assert texts == [
        '{"code":4001,"token":"**REDACTED**","vhost":"v1"}',
        "retry with volcSecret=**REDACTED**&volcTime=1",
        "auth_key=**REDACTED** expired",
    ]
    for short in ("Qz7", "K9x", "Pw4"):
        assert short not in caplog.text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ('{"token":"abc"}', '{"token":"**REDACTED**"}'),
        ('{"token": "a", "code": 1}', '{"token": "**REDACTED**", "code": 1}'),
        ("{'access_token': 'ab'}", "{'access_token': '**REDACTED**'}"),
        ("token=abc&x=1", "token=**REDACTED**&x=1"),
        ("volcSecret=s1 volcTime=123", "volcSecret=**REDACTED** volcTime=123"),
        ('{"volcSecret":s}', '{"volcSecret":**REDACTED**}'),
        ("auth_key=1", "auth_key=**REDACTED**"),
        ("Authorization: Bearer ab1", "Authorization: Bearer **REDACTED**"),
        ("x-amz-signature=0f", "x-amz-signature=**REDACTED**"),
        ("code=1000 reason=busy: retry", "code=1000 reason=busy: retry"),
    ],
)
def test_credentials_are_redacted_whatever_their_length(text: str, redacted: str) -> None:
    assert redact_message(text, 500) == redacted


async def test_an_abnormal_close_alone_is_warned_and_a_normal_talk_is_not(
    speaker: Speaker,
    emulator: Emulator,
    sounds: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await speaker.play([AudioSource(location=sounds["b"])])
    assert "talk server" not in caplog.text
    assert speaker.talks[-1].closed_by == "client"
    emulator.talk.say_next(HOME_IPC_NSID, frames=5, messages=[], close=(4003, "quota"))
    with pytest.raises(TalkConnectionLostError):
        await speaker.play([AudioSource(location=sounds["long"])])
    assert "test: the talk server closed the talk with code 4003: quota" in caplog.text
    assert len(speaker.talks) == 2


async def test_only_the_last_ten_talks_are_kept(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    speaker.options = TalkOptions(preroll=0, tail=0)
    for _ in range(11):
        await speaker.play([AudioSource(location=sounds["b"])])
    assert len(speaker.talks) == 10
    assert speaker.stats.sessions == 11


def test_redaction_of_server_texts() -> None:
    text = (
        "user:pw http://u:p@host/a?token=abc secret=xyz Authorization: Bearer "
        "eyJhbGciOiJIUzI1NiJ9abcdefghijkl normal words stay"
    )
    redacted = redact_message(text, 500)
    assert "u:p@" not in redacted
    assert "token=abc" not in redacted
    assert "xyz" not in redacted
    assert "eyJhbGciOiJIUzI1NiJ9abcdefghijkl" not in redacted
    assert "normal words stay" in redacted
    assert len(redact_message("a " * 600, 500)) == 501


async def test_a_session_stopped_before_it_began_takes_nothing_of_the_next(
    speaker: Speaker, emulator: Emulator, sounds: dict[str, str]
) -> None:
    """A stopped session still waiting for the previous one never takes a later play."""
    emulator.faults.add("StopVoiceTalk", delay=0.5, times=1)  # the first talk ends slowly
    first = asyncio.create_task(speaker.play([AudioSource(location=sounds["long"])]))
    await wait_frames(emulator, 10)
    stopping = asyncio.create_task(speaker.stop())
    await asyncio.sleep(0)
    second = asyncio.create_task(speaker.play([AudioSource(location=sounds["a"])]))
    async with asyncio.timeout(5):  # the second session exists, waiting for the first
        while not speaker.is_playing:
            await asyncio.sleep(0.005)
    stopping_again = asyncio.create_task(speaker.stop())
    await asyncio.sleep(0)
    third = await speaker.play([AudioSource(location=sounds["b"])])
    await stopping
    await stopping_again
    assert (await first).interrupted
    assert (await second).interrupted
    assert not third.interrupted
    assert abs(third.seconds - 0.6) < 0.05
