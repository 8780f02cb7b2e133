"""Merging segments into browsable items: adjacent runs up to 10 min, alarms on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.volcengine_aiot.api import Recording, RecordSource
from custom_components.volcengine_aiot.recordings import RecordingItem, merge_segments
from tests.emulator.app import Emulator
from tests.emulator.data import SHOP_IPC_STREAM_ID
from tests.emulator.recordings import MANY_SEGMENT_COUNT

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def seg(start: float, length: float, *, alarm: bool = False, source: str = "cloud") -> Recording:
    begin = T0 + timedelta(seconds=start)
    kind = None if source == "cloud" else ("alarm" if alarm else "time")
    return Recording(
        RecordSource(source), begin, begin + timedelta(seconds=length), alarm, kind, None
    )


def test_adjacent_segments_merge_up_to_ten_minutes_newest_first() -> None:
    segments = [seg(n * 20, 20) for n in range(90)]  # 30 min of 20 s segments
    items = merge_segments(reversed(segments))
    assert [(i.start - T0, i.duration, i.segments) for i in items] == [
        (timedelta(minutes=20), timedelta(minutes=10), 30),
        (timedelta(minutes=10), timedelta(minutes=10), 30),
        (timedelta(0), timedelta(minutes=10), 30),
    ]
    assert {i.source for i in items} == {RecordSource.CLOUD}
    assert not any(i.alarm for i in items)


def test_gaps_overlaps_duplicates_and_long_files() -> None:
    items = merge_segments(
        [
            seg(0, 20),
            seg(21, 20),  # 1 s gap: merged
            seg(41, 20),
            seg(41, 20),  # the same segment twice: counted once
            seg(50, 20),  # overlapping: merged
            seg(73, 20),  # 3 s gap: a new item
            seg(3600, 3600, source="device"),  # a 1 h device file stays one item
        ]
    )
    assert [(i.source, i.start - T0, i.end - T0, i.segments) for i in items] == [
        (RecordSource.DEVICE, timedelta(hours=1), timedelta(hours=2), 1),
        (RecordSource.CLOUD, timedelta(seconds=73), timedelta(seconds=93), 1),
        (RecordSource.CLOUD, timedelta(0), timedelta(seconds=70), 4),
    ]
    assert merge_segments([]) == []


def test_an_alarm_segment_keeps_its_own_item() -> None:
    segments = [seg(n * 20, 20, alarm=n == 3) for n in range(6)]
    items = merge_segments(segments)
    assert [(i.start - T0, i.duration, i.alarm, i.segments) for i in items] == [
        (timedelta(seconds=80), timedelta(seconds=40), False, 2),
        (timedelta(seconds=60), timedelta(seconds=20), True, 1),
        (timedelta(0), timedelta(seconds=60), False, 3),
    ]
    custom = merge_segments(segments, gap=timedelta(0), max_length=timedelta(seconds=40))
    assert [i.segments for i in custom] == [2, 1, 1, 2]


def test_identifier_round_trip() -> None:
    item = RecordingItem(
        RecordSource.CLOUD,
        T0 + timedelta(milliseconds=400),
        T0 + timedelta(seconds=30, milliseconds=200),
        alarm=False,
        segments=2,
    )
    unix = int(T0.timestamp())
    assert item.identifier == f"{unix}-{unix + 31}"
    assert RecordingItem.window_of(item.identifier) == (T0, T0 + timedelta(seconds=31))
    for bad in ("", "12", "12-", "-12", "20-10", "1-2-3", "a-b", "10-10"):
        with pytest.raises(ValueError, match="Not a recording identifier"):
            RecordingItem.window_of(bad)


def test_a_day_of_thousands_of_segments_becomes_a_browsable_list() -> None:
    emulator = Emulator()
    day = emulator.recordings.many_day
    start = int(datetime.combine(day, datetime.min.time(), UTC).timestamp())
    segments = [
        Recording(
            RecordSource.CLOUD,
            datetime.fromtimestamp(s.start, UTC),
            datetime.fromtimestamp(s.end, UTC),
            s.alarm,
            None,
            None,
        )
        for s in emulator.recordings.cloud[SHOP_IPC_STREAM_ID]
        if start <= s.start < start + 86400
    ]
    assert len(segments) == MANY_SEGMENT_COUNT
    items = merge_segments(segments)
    assert 144 < len(items) < 200
    assert sum(i.segments for i in items) == MANY_SEGMENT_COUNT
    assert sum(i.alarm for i in items) == 24
    assert all(i.duration <= timedelta(minutes=10) for i in items)
    assert [i.start for i in items] == sorted((i.start for i in items), reverse=True)
