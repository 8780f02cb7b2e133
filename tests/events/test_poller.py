"""The space poller against the emulator over real HTTP: paging, dedup, failures, restarts."""

from __future__ import annotations

from collections.abc import Callable
import json
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import (
    Alarm,
    VolcengineClient,
    VolcengineClockSkewError,
    VolcengineServiceBusyError,
)
from custom_components.volcengine_aiot.api.client import ALARM_PAGE_SIZE
from custom_components.volcengine_aiot.events import AlarmCursor, AlarmPoller
from custom_components.volcengine_aiot.events.poller import DEFAULT_LOOKBACK, MAX_SEEN
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_NSID,
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_NSID,
    SHOP_IPC_CHANNEL_ID,
    SHOP_IPC_NSID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
)

NOW = 1_760_000_000
START = AlarmCursor.start(NOW)  # a poller first started at NOW


def make_poller(
    session: aiohttp.ClientSession,
    emulator: Emulator,
    cursor: AlarmCursor | None = None,
    *,
    now: Callable[[], float] = lambda: NOW,
    space_id: str = SPACE_HOME_ID,
    **kwargs: Any,
) -> AlarmPoller:
    client = VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0)
    return AlarmPoller(client, space_id, cursor, clock=now, **kwargs)


async def alarm(
    emulator: Emulator,
    at: int,
    *,
    nsid: str = HOME_IPC_NSID,
    channel: str = HOME_IPC_CHANNEL_ID,
    space_id: str = SPACE_HOME_ID,
    **kwargs: Any,
) -> str:
    raw = await emulator.events.inject(space_id, nsid, channel, alarm_time=at, **kwargs)
    return str(raw["AlarmNotifyID"])


def ids(alarms: list[Alarm]) -> list[str]:
    return [a.alarm_id for a in alarms]


async def test_reports_each_alarm_once(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    old = await alarm(emulator, NOW - DEFAULT_LOOKBACK - 1)  # before the poller existed
    poller = make_poller(session, emulator)
    first = [await alarm(emulator, NOW + n) for n in range(3)]
    nvr = await alarm(emulator, NOW + 1, nsid=HOME_NVR_NSID, channel=HOME_NVR_CHANNEL_IDS[0])
    await alarm(emulator, NOW, nsid=SHOP_IPC_NSID, channel=SHOP_IPC_CHANNEL_ID,
                space_id=SPACE_SHOP_ID)  # fmt: skip
    new = await poller.poll()
    assert ids(new) == [first[0], first[1], nvr, first[2]]  # by time, one list for the space
    assert old not in ids(new)
    assert len(emulator.requests_for("ListAlarmNotify")) == 1
    assert await poller.poll() == []
    assert poller.polls == 2


async def test_same_second_and_late_alarms(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    poller = make_poller(session, emulator, START, now=lambda: NOW + 100)
    batch = [await alarm(emulator, NOW + 10) for _ in range(3)]
    assert ids(await poller.poll()) == batch
    assert poller.cursor.since == NOW + 10
    again = await alarm(emulator, NOW + 10)  # same second, after the poll
    late = await alarm(emulator, NOW + 10 - DEFAULT_LOOKBACK)  # reached the platform late
    too_late = await alarm(emulator, NOW + 10 - DEFAULT_LOOKBACK - 1)
    new = ids(await poller.poll())
    assert new == [late, again]
    assert too_late not in new  # older than the look-back: documented limit
    assert await poller.poll() == []


async def test_failed_poll_loses_nothing_and_repeats_nothing(
    session: aiohttp.ClientSession, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    poller = make_poller(session, emulator)
    before = [await alarm(emulator, NOW + n) for n in range(ALARM_PAGE_SIZE + 20)]
    cursor = poller.cursor
    listing = emulator.events.list_alarm_notify

    def fail_after_first_page(space_id: str, params: dict[str, str]) -> list[dict[str, Any]]:
        # The cloud fails every request after the first page (more than the client retries).
        emulator.faults.add("ListAlarmNotify", code="ServiceBusy", status=500, times=0)
        return listing(space_id, params)

    monkeypatch.setattr(emulator.events, "list_alarm_notify", fail_after_first_page)
    with pytest.raises(VolcengineServiceBusyError):
        await poller.poll()
    assert [r.query["PageNumber"] for r in emulator.requests_for("ListAlarmNotify")] == [
        "1", "2", "2", "2", "2",
    ]  # fmt: skip
    assert poller.cursor == cursor  # nothing reported, nothing moved
    monkeypatch.undo()
    emulator.faults.clear()
    emulator.clock_offset = 3600  # then a poll refused for the clock
    with pytest.raises(VolcengineClockSkewError):
        await poller.poll()
    assert poller.cursor == cursor
    emulator.clock_offset = 0
    after = await alarm(emulator, NOW + 500)
    assert ids(await poller.poll()) == [*before, after]
    assert await poller.poll() == []


async def test_restart_resumes_from_the_stored_cursor(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    poller = make_poller(session, emulator)
    seen = [await alarm(emulator, NOW + n) for n in (0, 5, 5)]
    assert ids(await poller.poll()) == seen
    stored = json.loads(json.dumps(poller.cursor.as_dict()))  # what HA's Store keeps
    during = [await alarm(emulator, NOW + 5), await alarm(emulator, NOW + 30)]  # while down
    restored = AlarmCursor.from_dict(stored)
    assert restored == poller.cursor
    later = make_poller(session, emulator, restored, now=lambda: NOW + 3600)
    assert ids(await later.poll()) == during
    assert await later.poll() == []


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "cursor",
        {},
        {"version": 2, "since": NOW},
        {"version": 1},
        {"version": 1, "since": "yesterday"},
        {"version": 1, "since": -1},
        {"version": 1, "since": True},
    ],
)
def test_unusable_stored_cursor(data: object) -> None:
    assert AlarmCursor.from_dict(data) is None


def test_stored_cursor_tolerates_bad_entries() -> None:
    data = {"version": 1, "since": NOW, "seen": [["a", NOW], ["b"], [1, NOW], ["c", "x"], "d"]}
    assert AlarmCursor.from_dict(data) == AlarmCursor(NOW, {"a": NOW})
    assert AlarmCursor.from_dict({"version": 1, "since": NOW, "seen": "x"}) == AlarmCursor(NOW)


async def test_page_bound_continues_next_poll(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    poller = make_poller(session, emulator, START, now=lambda: NOW + 1000, max_pages=1)
    every = [await alarm(emulator, NOW + n) for n in range(ALARM_PAGE_SIZE * 2 + 30)]
    got: list[str] = []
    for _ in range(4):
        got += ids(await poller.poll())
    assert got == every
    assert len(emulator.requests_for("ListAlarmNotify")) == 4  # one page per poll
    assert not poller.cursor.backlog
    assert poller.dropped_seconds == 0


async def test_more_than_the_page_bound_in_one_second(
    session: aiohttp.ClientSession, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    poller = make_poller(session, emulator, START, now=lambda: NOW + 1000, max_pages=1)
    flood = [await alarm(emulator, NOW) for _ in range(ALARM_PAGE_SIZE + 5)]
    assert len(await poller.poll()) == ALARM_PAGE_SIZE
    assert poller.cursor.backlog
    with caplog.at_level(logging.WARNING):
        assert await poller.poll() == []  # the rest of that second cannot be reached
    assert poller.dropped_seconds == 1
    assert "skipping that second" in caplog.text
    after = await alarm(emulator, NOW + 1)
    assert ids(await poller.poll()) == [after]  # not stuck
    assert len(flood) == ALARM_PAGE_SIZE + 5


async def test_device_clock_ahead_hides_nothing(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    poller = make_poller(session, emulator)
    future = await alarm(emulator, NOW + 86_400)  # a camera whose clock is a day ahead
    assert ids(await poller.poll()) == [future]
    assert poller.cursor.since <= NOW
    normal = await alarm(emulator, NOW)
    assert ids(await poller.poll()) == [normal]
    assert await poller.poll() == []  # the future one stays deduplicated


async def test_pushed_alarms_are_not_polled_twice(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    poller = make_poller(session, emulator, START, now=lambda: NOW + 100)
    pushed = await alarm(emulator, NOW + 20)
    polled = await alarm(emulator, NOW + 10)
    listed = await poller._client.list_alarms(SPACE_HOME_ID, NOW)
    by_id = {a.alarm_id: a for a in listed.alarms}
    assert poller.is_new(by_id[pushed])
    assert not poller.is_new(by_id[pushed])
    assert poller.cursor.since == NOW  # a push does not move the window
    assert ids(await poller.poll()) == [polled]  # earlier, unpushed alarm still found
    assert not poller.is_new(by_id[polled])


async def test_seen_ids_are_bounded(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    poller = make_poller(session, emulator, START, now=lambda: NOW + 10_000, lookback=5)
    for n in range(20):
        await alarm(emulator, NOW + n)
    assert len(await poller.poll()) == 20
    assert set(poller.cursor.seen.values()) == set(range(NOW + 14, NOW + 20))  # look-back only
    assert MAX_SEEN >= 1000
