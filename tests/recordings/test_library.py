"""The recordings library against the emulator: one request per folder, cached, paced."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
import json
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import (
    RecordSource,
    VolcengineClient,
    VolcengineDeviceUnreachableError,
    VolcengineError,
    VolcengineRecordingWindowError,
    VolcengineThrottledError,
)
from custom_components.volcengine_aiot.recordings import (
    RateLimiter,
    RecordingLibrary,
    day_windows,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_OFFLINE_STREAM_ID,
    HOME_IPC_STREAM_ID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_STREAM_ID,
)
from tests.emulator.recordings import MANY_SEGMENT_COUNT, Segment

GARDEN = HOME_NVR_STREAM_IDS[0]
BACK_YARD = HOME_NVR_STREAM_IDS[1]
CHINA = timezone(timedelta(hours=8))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def library(client: VolcengineClient, emulator: Emulator, **kwargs: object) -> RecordingLibrary:
    """A library whose "now" is the emulator's anchor (the demo recordings end there)."""
    return RecordingLibrary(client, now=lambda: emulator.recordings.anchor, **kwargs)  # type: ignore[arg-type]


def actions(emulator: Emulator) -> list[str]:
    return [r.action or "" for r in emulator.requests]


async def test_source_is_cloud_with_recordings_else_device(
    client: VolcengineClient, emulator: Emulator
) -> None:
    lib = library(client, emulator)
    assert await lib.source(HOME_IPC_STREAM_ID) is RecordSource.CLOUD
    assert await lib.source(GARDEN) is RecordSource.DEVICE  # no plan: refused at once
    assert actions(emulator) == ["ListStreamRecords", "ListStreamRecords"]
    assert json.loads(emulator.requests[0].body)["StreamID"] == HOME_IPC_STREAM_ID
    assert emulator.requests[0].query["PageSize"] == "1"
    # a plan but nothing in the last 7 days: the device is asked instead (see the library)
    emulator.recordings.cloud[SHOP_IPC_STREAM_ID] = []
    assert await lib.source(SHOP_IPC_STREAM_ID) is RecordSource.DEVICE
    assert len(emulator.requests) == 2 + 7
    assert await lib.source(HOME_IPC_STREAM_ID) is RecordSource.CLOUD  # cached
    assert len(emulator.requests) == 9


async def test_days_with_recordings_newest_first(
    client: VolcengineClient, emulator: Emulator
) -> None:
    lib = library(client, emulator)
    anchor = emulator.recordings.anchor
    today = (anchor - timedelta(seconds=1)).astimezone(CHINA).date()
    # a cloud day is probed (any segment overlapping it), a device day listed (segments that
    # start in it, as ``day`` shows them)
    for stream_id, segments, overlap in (
        (HOME_IPC_STREAM_ID, emulator.recordings.cloud[HOME_IPC_STREAM_ID], True),
        (GARDEN, emulator.recordings.device[GARDEN], False),
    ):
        expected = sorted(
            {
                day
                for s in segments
                for day in (
                    datetime.fromtimestamp(s.start, CHINA).date(),
                    datetime.fromtimestamp(s.end - 1 if overlap else s.start, CHINA).date(),
                )
                if today - timedelta(days=6) <= day <= today
            },
            reverse=True,
        )
        assert await lib.days(stream_id, tz=CHINA, today=today) == expected
    assert await lib.days(BACK_YARD, tz=CHINA, today=today) == []
    # the device days filled the day cache: opening one is free
    before = len(emulator.requests)
    assert await lib.day(GARDEN, today - timedelta(days=1), tz=CHINA)
    assert len(emulator.requests) == before


async def test_a_busy_day_is_one_request_then_cached(
    client: VolcengineClient, emulator: Emulator
) -> None:
    clock = Clock()
    lib = library(client, emulator, clock=clock, cache_ttl=30.0)
    day = emulator.recordings.many_day
    await lib.source(SHOP_IPC_STREAM_ID)
    emulator.requests.clear()
    first, second = await asyncio.gather(
        lib.day(SHOP_IPC_STREAM_ID, day, tz=UTC), lib.day(SHOP_IPC_STREAM_ID, day, tz=UTC)
    )
    assert first == second
    (request,) = emulator.requests  # the same folder opened twice at once: one request
    body = json.loads(request.body)
    start = datetime.combine(day, datetime.min.time(), UTC)
    assert (body["StartTime"], body["EndTime"]) == (
        int(start.timestamp()),
        int(start.timestamp()) + 86400,
    )
    assert sum(item.segments for item in first) == MANY_SEGMENT_COUNT
    assert sum(item.alarm for item in first) == 24
    assert all(item.source is RecordSource.CLOUD for item in first)
    assert first[0].start > first[-1].start
    clock.now += 29.0
    assert await lib.day(SHOP_IPC_STREAM_ID, day, tz=UTC) == first
    assert len(emulator.requests) == 1
    clock.now += 2.0  # past cache_ttl: asked again
    assert await lib.day(SHOP_IPC_STREAM_ID, day, tz=UTC) == first
    assert len(emulator.requests) == 2
    lib.forget(SHOP_IPC_STREAM_ID)
    await lib.day(SHOP_IPC_STREAM_ID, day, tz=UTC)
    assert actions(emulator)[2:] == ["ListStreamRecords", "ListStreamRecords"]  # source, day


async def test_a_day_keeps_the_segments_that_start_in_it(
    client: VolcengineClient, emulator: Emulator
) -> None:
    lib = library(client, emulator)
    day = emulator.recordings.many_day
    # in UTC+8 the busy UTC day is split over two local days
    first = await lib.day(SHOP_IPC_STREAM_ID, day, tz=CHINA)
    second = await lib.day(SHOP_IPC_STREAM_ID, day + timedelta(days=1), tz=CHINA)
    local_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), CHINA)
    assert all(item.start < local_midnight for item in first)
    assert all(item.start >= local_midnight for item in second)
    assert sum(i.segments for i in first) == 16 * 3600 // 20
    assert sum(i.segments for i in second) >= 8 * 3600 // 20


async def test_device_day_and_offline_device(client: VolcengineClient, emulator: Emulator) -> None:
    lib = library(client, emulator)
    day = (emulator.recordings.anchor - timedelta(days=2)).date()
    items = await lib.day(GARDEN, day, tz=UTC)
    assert items
    assert {i.source for i in items} == {RecordSource.DEVICE}
    assert any(i.alarm for i in items)
    assert actions(emulator) == ["ListStreamRecords", "GetRecordList"]
    with pytest.raises(VolcengineDeviceUnreachableError):
        await lib.day(HOME_IPC_OFFLINE_STREAM_ID, day, tz=UTC)


async def test_cloud_urls_are_resolved_every_time(
    client: VolcengineClient, emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    lib = library(client, emulator)
    end = emulator.recordings.anchor
    first = await lib.cloud_urls(HOME_IPC_STREAM_ID, end - timedelta(hours=2), end)
    second = await lib.cloud_urls(HOME_IPC_STREAM_ID, end - timedelta(hours=2), end)
    assert len(emulator.requests_for("PlayCloudRecord")) == 2
    assert first.mp4 is not None
    assert second.mp4 is not None
    async with session.get(second.mp4) as response:
        assert response.status == 200
    with pytest.raises(VolcengineRecordingWindowError):
        await lib.cloud_urls(HOME_IPC_STREAM_ID, end - timedelta(hours=25), end)


async def test_a_throttled_answer_is_waited_out_then_raised(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    client = VolcengineClient(
        session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0, retries=0
    )
    lib = library(client, emulator, throttle_retries=2, throttle_wait=0.01)
    end = emulator.recordings.anchor
    emulator.faults.add("PlayCloudRecord", code="FlowLimitExceeded", status=429, times=2)
    assert await lib.cloud_urls(HOME_IPC_STREAM_ID, end - timedelta(hours=2), end)
    assert len(emulator.requests_for("PlayCloudRecord")) == 3
    emulator.faults.add("PlayCloudRecord", code="FlowLimitExceeded", status=429, times=0)
    with pytest.raises(VolcengineThrottledError):
        await lib.cloud_urls(HOME_IPC_STREAM_ID, end - timedelta(hours=2), end)
    assert len(emulator.requests_for("PlayCloudRecord")) == 6  # 1 + 2 retries, then it says so
    assert lib.requests == 6


async def test_the_library_keeps_under_the_gateway_limit(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    client = VolcengineClient(
        session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0, retries=0
    )
    lib = library(client, emulator, rate=5.0, throttle_retries=0)
    end = emulator.recordings.anchor
    await asyncio.gather(
        *(lib.cloud_urls(HOME_IPC_STREAM_ID, end - timedelta(hours=2), end) for _ in range(12))
    )
    assert emulator.recordings.throttled == 0
    assert len(emulator.requests_for("PlayCloudRecord")) == 12


async def test_rate_limiter_counts_a_sliding_window() -> None:
    clock = Clock()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += seconds

    limiter = RateLimiter(10.0, margin=0.0, clock=clock, sleep=sleep)
    for _ in range(10):
        await limiter.acquire()
    assert waits == []
    clock.now += 0.25
    await limiter.acquire()
    assert waits == [pytest.approx(0.75)]
    slow = RateLimiter(0.5, margin=0.0, clock=clock, sleep=sleep)
    await slow.acquire()
    await slow.acquire()
    assert waits[-1] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


def test_day_windows_are_at_most_24_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert day_windows(date(2026, 12, 5), UTC) == [
        (datetime(2026, 12, 5, tzinfo=UTC), datetime(2026, 12, 6, tzinfo=UTC))
    ]
    long_day = day_windows(date(2026, 10, 25), berlin)  # 25 h: the clocks go back
    assert [end - start for start, end in long_day] == [timedelta(hours=24), timedelta(hours=1)]
    (short,) = day_windows(date(2026, 3, 29), berlin)
    assert short[1] - short[0] == timedelta(hours=23)


async def test_the_item_of_an_alarm_time(client: VolcengineClient, emulator: Emulator) -> None:
    lib = library(client, emulator)
    segments = emulator.recordings.cloud[HOME_IPC_STREAM_ID]
    alarm = next(s for s in reversed(segments) if s.alarm)
    at = datetime.fromtimestamp(alarm.start + 5, UTC)
    item = await lib.item_at(HOME_IPC_STREAM_ID, at, tz=CHINA)
    assert item is not None
    assert item.alarm
    assert item.identifier == f"{alarm.start}-{alarm.end}"
    normal = next(s for s in reversed(segments) if not s.alarm)
    item = await lib.item_at(
        HOME_IPC_STREAM_ID, datetime.fromtimestamp(normal.start + 1, UTC), tz=CHINA
    )
    assert item is not None
    assert not item.alarm
    assert item.start <= datetime.fromtimestamp(normal.start, UTC)
    nothing = datetime.fromtimestamp(alarm.end + 600, UTC)  # 10 min after an alarm: no recording
    assert await lib.item_at(HOME_IPC_STREAM_ID, nothing, tz=CHINA) is None
    # just after midnight the day before is looked at too (a run may have started there)
    midnight = datetime.combine(emulator.recordings.many_day, datetime.min.time(), UTC)
    unix = int(midnight.timestamp())
    emulator.recordings.device[BACK_YARD] = [Segment(unix - 60, unix + 60)]
    item = await lib.item_at(BACK_YARD, midnight + timedelta(seconds=30), tz=UTC)
    assert item is not None
    assert item.identifier == f"{unix - 60}-{unix + 60}"


async def test_a_failed_day_ends_the_other_days_requests(
    client: VolcengineClient, emulator: Emulator
) -> None:
    """``days`` asks for every day at once: when one fails, no other request is left running."""
    lib = library(client, emulator)
    assert await lib.source(GARDEN) is RecordSource.DEVICE
    emulator.faults.add("GetRecordList", code="InternalError", status=500, times=1)
    emulator.faults.add("GetRecordList", delay=5.0, times=50)  # the other days are slow
    today = emulator.recordings.anchor.astimezone(CHINA).date()
    with pytest.raises(VolcengineError):
        await lib.days(GARDEN, tz=CHINA, today=today)
    left = [
        task
        for task in asyncio.all_tasks()
        if task.get_coro().__qualname__.endswith("days.<locals>.has")  # type: ignore[union-attr]
    ]
    assert left == []
