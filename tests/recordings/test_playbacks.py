"""Device playbacks are always stopped: one per channel, on cancel, on close."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging

import pytest

from custom_components.volcengine_aiot.api import (
    Playback,
    VolcengineClient,
    VolcengineDeviceUnreachableError,
)
from custom_components.volcengine_aiot.recordings import DevicePlaybacks
from tests.emulator.app import Emulator
from tests.emulator.data import HOME_IPC_OFFLINE_STREAM_ID, HOME_NVR_STREAM_IDS
from tests.test_emulator_recordings import probe

GARDEN, BACK_YARD = HOME_NVR_STREAM_IDS


async def start(playbacks: DevicePlaybacks, emulator: Emulator, stream_id: str) -> Playback:
    end = emulator.recordings.anchor
    return await playbacks.start(stream_id, end - timedelta(hours=3), end)


async def wait_for(condition: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_one_playback_per_channel(client: VolcengineClient, emulator: Emulator) -> None:
    emulator.recordings.device[BACK_YARD] = list(emulator.recordings.device[GARDEN])
    playbacks = DevicePlaybacks(client)
    first = await start(playbacks, emulator, GARDEN)
    assert (playbacks.active, emulator.recordings.active_playbacks()) == (1, 1)
    assert playbacks.stream_of(first.playback_id) == GARDEN
    packets = (await probe(first.pull_urls[0]))["packets"]
    assert packets[0]["codec_type"] == "video"
    second = await start(playbacks, emulator, GARDEN)  # the channel's previous one is stopped
    assert emulator.recordings.stopped == [first.playback_id]
    assert (playbacks.active, emulator.recordings.active_playbacks(GARDEN)) == (1, 1)
    other = await start(playbacks, emulator, BACK_YARD)
    assert (playbacks.active, emulator.recordings.active_playbacks()) == (2, 2)
    await playbacks.stop(second.playback_id)
    await playbacks.stop(second.playback_id)  # again: already gone, no error
    assert playbacks.active == 1
    await playbacks.aclose()
    assert playbacks.active == 0
    assert emulator.recordings.active_playbacks() == 0
    assert emulator.recordings.servers_running() == 0
    assert emulator.recordings.stopped == [f.playback_id for f in (first, second, other)]
    with pytest.raises(RuntimeError):
        await start(playbacks, emulator, GARDEN)


async def test_a_failed_start_leaves_nothing(client: VolcengineClient, emulator: Emulator) -> None:
    playbacks = DevicePlaybacks(client)
    with pytest.raises(VolcengineDeviceUnreachableError):
        await start(playbacks, emulator, HOME_IPC_OFFLINE_STREAM_ID)
    assert playbacks.active == 0


async def test_a_cancelled_start_is_stopped_when_it_lands(
    client: VolcengineClient, emulator: Emulator
) -> None:
    playbacks = DevicePlaybacks(client)
    emulator.faults.add("StartPlayback", delay=0.3)  # a slow answer, then the playback
    task = asyncio.create_task(start(playbacks, emulator, GARDEN))
    await wait_for(lambda: emulator.requests_for("StartPlayback"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for(lambda: len(emulator.recordings.stopped) == 1)
    assert emulator.recordings.active_playbacks() == 0
    assert playbacks.active == 0
    await playbacks.aclose()


async def test_close_waits_for_a_start_under_way(
    client: VolcengineClient, emulator: Emulator
) -> None:
    playbacks = DevicePlaybacks(client)
    emulator.faults.add("StartPlayback", delay=0.3)
    task = asyncio.create_task(start(playbacks, emulator, GARDEN))
    await wait_for(lambda: emulator.requests_for("StartPlayback"))
    await playbacks.aclose()
    playback = await task
    assert emulator.recordings.stopped == [playback.playback_id]
    assert emulator.recordings.active_playbacks() == 0


async def test_a_failing_stop_is_logged_and_bounded(
    client: VolcengineClient, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    playbacks = DevicePlaybacks(client, stop_timeout=0.5)
    playback = await start(playbacks, emulator, GARDEN)
    emulator.faults.add("StopPlayback", code="InternalError", status=500, times=0)
    with caplog.at_level(logging.WARNING):
        await playbacks.stop(playback.playback_id)
    assert "Could not stop the device playback" in caplog.text
    assert "rtmp" not in caplog.text
    assert playbacks.active == 0
    emulator.faults.clear()
    emulator.faults.add("StopPlayback", delay=5.0, times=0)  # a gateway that does not answer
    second = await start(playbacks, emulator, GARDEN)
    async with asyncio.timeout(3):
        await playbacks.aclose()
    assert playbacks.stream_of(second.playback_id) is None


async def test_a_cancelled_start_that_fails_leaves_nothing(
    client: VolcengineClient, emulator: Emulator
) -> None:
    playbacks = DevicePlaybacks(client)
    emulator.faults.add("StartPlayback", delay=0.3, code="InternalError", status=500)
    task = asyncio.create_task(start(playbacks, emulator, GARDEN))
    await wait_for(lambda: emulator.requests_for("StartPlayback"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)  # the start fails in the background: nothing to stop
    assert emulator.recordings.stopped == []
    assert emulator.recordings.active_playbacks() == 0


async def test_close_waits_for_a_late_stop_bounded(
    client: VolcengineClient, emulator: Emulator
) -> None:
    playbacks = DevicePlaybacks(client, stop_timeout=1.0)
    emulator.faults.add("StartPlayback", delay=0.3)
    task = asyncio.create_task(start(playbacks, emulator, GARDEN))
    await wait_for(lambda: emulator.requests_for("StartPlayback"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await playbacks.aclose()  # waits for the start to land and its stop to be sent
    assert len(emulator.recordings.stopped) == 1
    assert emulator.recordings.active_playbacks() == 0
