"""The frame clock: deadlines on one grid shared by every talk, never early, no burst."""

from __future__ import annotations

import asyncio
import time

import pytest

from custom_components.volcengine_aiot.talk.clock import LEAD, MAX_LATE, FrameClock
from custom_components.volcengine_aiot.talk.flv import FRAME_SECONDS


async def test_talks_started_apart_share_their_deadlines() -> None:
    before = asyncio.get_running_loop().time()
    first = FrameClock()
    after = asyncio.get_running_loop().time()
    await asyncio.sleep(0.007)  # a talk that starts a few ms later, off the first one's phase
    second = FrameClock()
    offset = round((second.due(0) - first.due(0)) / FRAME_SECONDS)
    # the same instants, to the bit: their timers expire in the same event loop wake-up
    assert [second.due(n) for n in range(100)] == [first.due(n + offset) for n in range(100)]
    assert before <= first.due(0) < after + FRAME_SECONDS  # the next tick of the grid


async def test_lead_frames_go_at_once_and_the_rest_never_early() -> None:
    loop = asyncio.get_running_loop()
    clock = FrameClock()
    for _ in range(LEAD):  # sendable before the clock started: no wait at all
        step = clock.wait_slot()
        with pytest.raises(StopIteration):
            step.send(None)  # it ran to its end without suspending
        clock.frames += 1
    resolution = time.get_clock_info("monotonic").resolution
    for _ in range(5):
        await clock.wait_slot()
        assert loop.time() >= clock.due(clock.frames - LEAD) - resolution
        clock.frames += 1


async def test_a_stalled_loop_reanchors_instead_of_bursting() -> None:
    loop = asyncio.get_running_loop()
    clock = FrameClock()
    clock.frames = 3
    time.sleep(MAX_LATE + LEAD * FRAME_SECONDS + 0.05)  # noqa: ASYNC251 - a stall, on purpose
    before = loop.time()
    await clock.wait_slot()
    after = loop.time()
    # the next frame is due on the next tick, not 150 ms ago: what follows is paced again
    assert before <= clock.due(clock.frames) < after + FRAME_SECONDS
