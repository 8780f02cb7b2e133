"""Timed PTZ moves end in a stop: after the duration, on cancel, on error, when two users move."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import (
    PtzCommand,
    VolcengineClient,
    VolcengineDeviceUnreachableError,
    VolcenginePtzCommandError,
    VolcenginePtzNotSupportedError,
    VolcenginePtzSpeedError,
    VolcengineServiceBusyError,
    VolcengineTimeoutError,
)
from custom_components.volcengine_aiot.ptz import (
    MAX_DURATION,
    PtzDurationError,
    PtzError,
    PtzMover,
    PtzStopError,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_STREAM_ID,
    SPACE_HOME_ID,
)

DOME = HOME_NVR_STREAM_IDS[0]
FIXED = HOME_NVR_STREAM_IDS[1]
LONG = 30.0  # a move that only ends by cancel (the tests never wait for it)


@pytest.fixture
async def mover(client: VolcengineClient) -> AsyncIterator[PtzMover]:
    mover = PtzMover(client, stop_timeout=5.0, late_stop_delay=0.5)
    yield mover
    await mover.aclose()


def cmds(emulator: Emulator, stream_id: str = DOME) -> list[str | None]:
    return [c.cmd for c in emulator.ptz.commands(stream_id)]


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def test_timed_move_ends_in_a_stop(mover: PtzMover, emulator: Emulator) -> None:
    await mover.move(DOME, PtzCommand.LEFT, 40, 0.05)
    assert cmds(emulator) == ["left", "stop"]
    assert [c.speed for c in emulator.ptz.commands()] == [40, 0]
    assert emulator.ptz.channel(DOME).moving is None
    await mover.move(DOME, "irisin", 9, 0.01)  # a lens command ends in the lens stop
    assert [(c.action, c.cmd) for c in emulator.ptz.commands()[2:]] == [
        ("FiControl", "irisin"),
        ("FiControl", "stop"),
    ]
    assert emulator.ptz.channel(DOME).lens is None


async def test_cancel_sends_the_stop(mover: PtzMover, emulator: Emulator) -> None:
    task = asyncio.create_task(mover.move(DOME, PtzCommand.UP, 5, LONG))
    await until(lambda: cmds(emulator) == ["up"])
    assert emulator.ptz.channel(DOME).moving == "up"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cmds(emulator) == ["up", "stop"]
    assert emulator.ptz.channel(DOME).moving is None
    assert not mover.busy(DOME)


async def test_cancel_twice_while_stopping_still_stops(mover: PtzMover, emulator: Emulator) -> None:
    """The stop is shielded: a second cancel leaves it running, aclose waits for it."""
    task = asyncio.create_task(mover.move(DOME, PtzCommand.ZOOM_IN, 3, LONG))
    await until(lambda: cmds(emulator) == ["zoomin"])
    emulator.faults.add("CloudControl", delay=0.3)  # a slow stop
    task.cancel()
    await until(lambda: len(emulator.requests_for("CloudControl")) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert emulator.ptz.channel(DOME).moving == "zoomin"  # the stop is still on its way
    await mover.aclose()
    assert cmds(emulator) == ["zoomin", "stop"]
    assert emulator.ptz.channel(DOME).moving is None


async def test_two_users_moves_are_serialised_and_end_in_a_stop(
    mover: PtzMover, emulator: Emulator
) -> None:
    first = asyncio.create_task(mover.move(DOME, PtzCommand.LEFT, 10, 0.2))
    await until(lambda: cmds(emulator) == ["left"])
    second = asyncio.create_task(mover.move(DOME, PtzCommand.RIGHT, 20, 0.05))
    await asyncio.sleep(0.05)
    assert cmds(emulator) == ["left"]  # the second move waits for the first one's stop
    assert mover.busy(DOME)
    await asyncio.gather(first, second)
    assert cmds(emulator) == ["left", "stop", "right", "stop"]
    assert emulator.ptz.channel(DOME).moving is None


async def test_a_waiting_move_cancelled_sends_nothing(mover: PtzMover, emulator: Emulator) -> None:
    first = asyncio.create_task(mover.move(DOME, PtzCommand.DOWN, 10, LONG))
    await until(lambda: cmds(emulator) == ["down"])
    second = asyncio.create_task(mover.move(DOME, PtzCommand.UP, 10, 0.01))
    await asyncio.sleep(0.02)
    second.cancel()
    first.cancel()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert cmds(emulator) == ["down", "stop"]


async def test_stop_does_not_wait_for_a_running_move(mover: PtzMover, emulator: Emulator) -> None:
    task = asyncio.create_task(mover.move(DOME, PtzCommand.RIGHT_UP, 10, LONG))
    await until(lambda: cmds(emulator) == ["rightup"])
    await mover.move(DOME, PtzCommand.STOP, 0, 1)  # "stop" through move() is a plain stop
    assert cmds(emulator) == ["rightup", "stop"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cmds(emulator) == ["rightup", "stop", "stop"]


async def test_refused_move_is_raised_after_a_stop(mover: PtzMover, emulator: Emulator) -> None:
    emulator.faults.add("CloudControl", code="InternalError", status=500, message="device error")
    with pytest.raises(Exception, match="InternalError"):
        await mover.move(DOME, PtzCommand.LEFT, 1, LONG)
    assert cmds(emulator) == ["stop"]
    assert [r.status for r in emulator.requests_for("CloudControl")] == [500, 200]


async def test_refusals_of_the_platform(mover: PtzMover, emulator: Emulator) -> None:
    """A fixed or offline camera: the move's error is raised, the refused stop is not."""
    with pytest.raises(VolcenginePtzNotSupportedError):
        await mover.move(FIXED, PtzCommand.LEFT, 1, 1)
    emulator.state.set_status(SPACE_HOME_ID, HOME_NVR_ID, "offline")
    with pytest.raises(VolcengineDeviceUnreachableError):
        await mover.move(DOME, PtzCommand.LEFT, 1, 1)
    assert [c.cmd for c in emulator.ptz.log] == ["left", "stop", "left", "stop"]
    assert emulator.ptz.commands() == []  # every one refused, nothing moved


async def test_a_timed_out_move_gets_a_late_stop(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    """The move times out but still lands after the first stop: the late stop ends it."""
    client = VolcengineClient(
        session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0, timeout=0.2
    )
    mover = PtzMover(client, stop_timeout=5.0, late_stop_delay=0.6)
    emulator.faults.add("CloudControl", delay=0.4, completes=True)
    try:
        with pytest.raises(VolcengineTimeoutError):
            await mover.move(DOME, PtzCommand.LEFT, 1, LONG)
        await until(lambda: cmds(emulator) == ["stop", "left"])
        assert emulator.ptz.channel(DOME).moving == "left"  # what a lone stop would leave
        await until(lambda: cmds(emulator) == ["stop", "left", "stop"])
        assert emulator.ptz.channel(DOME).moving is None
    finally:
        await mover.aclose()


async def test_failed_stop_after_a_move(mover: PtzMover, emulator: Emulator) -> None:
    task = asyncio.create_task(mover.move(DOME, PtzCommand.LEFT, 1, 0.2))
    await until(lambda: cmds(emulator) == ["left"])
    emulator.faults.add("CloudControl", code="ServiceBusy", status=503, times=0)
    with pytest.raises(PtzStopError) as caught:
        await task
    assert caught.value.translation_key == "ptz_stop_failed"
    assert isinstance(caught.value.__cause__, VolcengineServiceBusyError)
    emulator.faults.clear()


async def test_aclose_stops_running_moves(mover: PtzMover, emulator: Emulator) -> None:
    tasks = [
        asyncio.create_task(mover.move(stream, PtzCommand.DOWN, 2, LONG))
        for stream in (DOME, SHOP_IPC_STREAM_ID)
    ]
    await until(lambda: len(emulator.ptz.commands()) == 2)
    waiting = asyncio.create_task(mover.move(DOME, PtzCommand.UP, 2, 0.01))
    await asyncio.sleep(0.02)
    await mover.aclose()
    assert all(t.cancelled() for t in tasks)
    with pytest.raises(PtzError):
        await waiting
    with pytest.raises(PtzError):
        await mover.move(DOME, PtzCommand.UP, 2, 0.01)
    assert cmds(emulator) == ["down", "stop"]
    assert cmds(emulator, SHOP_IPC_STREAM_ID) == ["down", "stop"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((PtzCommand.LEFT, 256, 1.0), VolcenginePtzSpeedError),
        ((PtzCommand.ZOOM_OUT, 16, 1.0), VolcenginePtzSpeedError),
        (("wiggle", 1, 1.0), VolcenginePtzCommandError),
        ((PtzCommand.LEFT, 1, 0), PtzDurationError),
        ((PtzCommand.LEFT, 1, -1.0), PtzDurationError),
        ((PtzCommand.LEFT, 1, MAX_DURATION + 1), PtzDurationError),
        ((PtzCommand.LEFT, 1, float("nan")), PtzDurationError),
        ((PtzCommand.LEFT, 1, True), PtzDurationError),
    ],
)
async def test_bad_input_sends_nothing(
    mover: PtzMover,
    emulator: Emulator,
    args: tuple[PtzCommand | str, int, float],
    error: type[Exception],
) -> None:
    with pytest.raises(error) as caught:
        await mover.move(DOME, *args)
    assert isinstance(caught.value, ValueError)
    assert emulator.requests == []


async def test_started_is_called_once_the_move_was_accepted(
    mover: PtzMover, emulator: Emulator
) -> None:
    """``started`` (the card's ``moving``) follows an accepted move, never a refused one."""
    seen: list[list[str | None]] = []
    await mover.move(DOME, PtzCommand.UP, 10, 0.05, started=lambda: seen.append(cmds(emulator)))
    assert seen == [["up"]]  # after the move, before its stop
    assert cmds(emulator) == ["up", "stop"]
    refused: list[bool] = []
    with pytest.raises(VolcenginePtzNotSupportedError):
        await mover.move(FIXED, PtzCommand.UP, 10, 0.05, started=lambda: refused.append(True))
    assert refused == []
