"""Alarm models and the alarm list calls of the client, against the emulator over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import (
    GB_ALARM_TYPES,
    Alarm,
    AlarmEventType,
    VolcengineClient,
    VolcengineClockSkewError,
    VolcengineNotFoundError,
    VolcengineResponseError,
    VolcengineServiceBusyError,
)
from custom_components.volcengine_aiot.api.client import ALARM_PAGE_SIZE
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_NSID,
    SPACE_HOME_ID,
)

T0 = 1_760_000_000

ITEM_2021 = {
    "AccountID": "2100000001",
    "SpaceID": SPACE_HOME_ID,
    "DeviceNSID": HOME_IPC_NSID,
    "CmdType": "Alarm",
    "SN": 7,
    "ChannelID": HOME_IPC_CHANNEL_ID,
    "AlarmPriority": 2,
    "AlarmMethod": 5,
    "AlarmTime": T0,
    "AlarmDescription": "person at the gate",
    "AlarmNotifyID": "an-1",
    "Info": {"AlarmType": 6, "AlarmTypeParam": {"EventType": 1}},
}
ITEM_V3 = {
    "AlarmNotifyID": "an-2",
    "DeviceNSID": HOME_IPC_NSID,
    "ChannelID": HOME_IPC_CHANNEL_ID,
    "AlarmPriority": 1,
    "AlarmMethod": 2,
    "AlarmType": 1,
    "EventType": 0,
    "AlarmTime": T0,
    "AlarmDescription": "",
    "Longitude": "",
    "Latitude": "",
}


# --- models ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "alarm_type", "event_type"),
    [
        (5, 2, AlarmEventType.MOTION),
        (5, 6, AlarmEventType.INTRUSION),
        (5, 5, AlarmEventType.LINE_CROSSING),
        (5, 8, AlarmEventType.LOITERING),
        (2, 2, AlarmEventType.TAMPER),
        (2, 1, AlarmEventType.VIDEO_LOSS),
        (2, 3, AlarmEventType.OTHER),  # disk full
        (6, 2, AlarmEventType.OTHER),  # fan fault
        (5, 99, AlarmEventType.OTHER),  # not in the GB table
        (1, 0, AlarmEventType.OTHER),  # phone alarm: no type
    ],
)
def test_gb_alarm_types(method: int, alarm_type: int, event_type: AlarmEventType) -> None:
    alarm = Alarm.from_json({**ITEM_V3, "AlarmMethod": method, "AlarmType": alarm_type})
    assert alarm.event_type is event_type
    assert (alarm.method, alarm.alarm_type) == (method, alarm_type)  # raw kept for ``other``
    assert alarm.known is ((method, alarm_type) in GB_ALARM_TYPES)


def test_gb_table_is_the_documented_one() -> None:
    assert sorted(k for k in GB_ALARM_TYPES if k[0] == 2) == [(2, n) for n in range(1, 6)]
    assert sorted(k for k in GB_ALARM_TYPES if k[0] == 5) == [(5, n) for n in range(1, 13)]
    assert sorted(k for k in GB_ALARM_TYPES if k[0] == 6) == [(6, 1), (6, 2)]
    mapped = {v[1] for v in GB_ALARM_TYPES.values()}
    assert mapped == set(AlarmEventType)


def test_alarm_from_2021_item() -> None:
    alarm = Alarm.from_json(ITEM_2021)
    assert alarm.alarm_id == "an-1"
    assert (alarm.device_nsid, alarm.channel_id) == (HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    assert (alarm.method, alarm.alarm_type, alarm.gb_type) == (5, 6, "intrusion")
    assert alarm.event_type is AlarmEventType.INTRUSION
    assert (alarm.region_event, alarm.priority) == (1, 2)
    assert alarm.time == datetime.fromtimestamp(T0, UTC)
    assert alarm.timestamp == T0
    assert alarm.description == "person at the gate"
    assert alarm.space_id == SPACE_HOME_ID
    assert alarm.device_id is None


def test_alarm_from_v3_item() -> None:
    alarm = Alarm.from_json(ITEM_V3, device_id=HOME_IPC_ID)
    assert (alarm.event_type, alarm.gb_type) == (AlarmEventType.VIDEO_LOSS, "video_lost")
    assert alarm.region_event is None  # 0: not a region event
    assert alarm.description is None
    assert alarm.device_id == HOME_IPC_ID


@pytest.mark.parametrize(
    "value",
    [T0, str(T0), T0 * 1000, str(T0 * 1000), "2025-10-09T08:53:20Z", "2025-10-09T16:53:20+08:00"],
)
def test_alarm_time_forms(value: object) -> None:
    assert Alarm.from_json({**ITEM_V3, "AlarmTime": value}).timestamp == T0


@pytest.mark.parametrize(
    "item",
    [
        {k: v for k, v in ITEM_V3.items() if k != "DeviceNSID"},
        {**ITEM_V3, "DeviceNSID": ""},
        {k: v for k, v in ITEM_V3.items() if k != "AlarmTime"},
        {**ITEM_V3, "AlarmTime": "soon"},
        {**ITEM_V3, "AlarmTime": None},
        {**ITEM_V3, "AlarmTime": True},
        {**ITEM_V3, "AlarmTime": 1e300},
        {**ITEM_V3, "AlarmTime": [T0]},
    ],
)
def test_alarm_without_required_fields(item: dict[str, Any]) -> None:
    with pytest.raises(VolcengineResponseError):
        Alarm.from_json(item)


def test_alarm_tolerates_odd_fields() -> None:
    item = {
        **ITEM_V3,
        "AlarmMethod": "5",
        "AlarmType": "2",
        "AlarmPriority": "x",
        "EventType": None,
        "New": {"x": 1},
    }
    alarm = Alarm.from_json(item)
    assert (alarm.event_type, alarm.priority, alarm.region_event) == (
        AlarmEventType.MOTION,
        None,
        None,
    )


def test_alarm_without_id_gets_a_stable_one() -> None:
    item = {k: v for k, v in ITEM_V3.items() if k != "AlarmNotifyID"}
    first, second = Alarm.from_json(item), Alarm.from_json(dict(item))
    assert first.alarm_id == second.alarm_id
    assert HOME_IPC_NSID in first.alarm_id
    assert Alarm.from_json({**item, "AlarmTime": T0 + 1}).alarm_id != first.alarm_id


# --- client ----------------------------------------------------------------------------------


def make_client(session: aiohttp.ClientSession, emulator: Emulator) -> VolcengineClient:
    return VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0)


async def inject(emulator: Emulator, count: int, *, start: int = T0, nsid: str = HOME_IPC_NSID,
                 channel: str = HOME_IPC_CHANNEL_ID) -> list[str]:  # fmt: skip
    ids = []
    for n in range(count):
        raw = await emulator.events.inject(SPACE_HOME_ID, nsid, channel, alarm_time=start + n)
        ids.append(raw["AlarmNotifyID"])
    return ids


async def test_list_alarms_all_pages(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    count = ALARM_PAGE_SIZE * 2 + 50
    ids = await inject(emulator, count)
    result = await make_client(session, emulator).list_alarms(SPACE_HOME_ID, T0)
    assert result.complete
    assert result.total == count
    assert [a.alarm_id for a in result.alarms] == ids  # oldest first
    assert all(a.space_id == SPACE_HOME_ID for a in result.alarms)
    requests = emulator.requests_for("ListAlarmNotify")
    assert [r.query["PageNumber"] for r in requests] == ["1", "2", "3"]  # one after another
    for request in requests:
        assert request.method == "POST"
        assert request.query["Version"] == "2021-01-01"
        assert request.query["SpaceID"] == SPACE_HOME_ID
        assert request.query["PageSize"] == str(ALARM_PAGE_SIZE)
        assert json.loads(request.body) == {"StartTime": T0, "Order": 0}


async def test_list_alarms_filters(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    ids = await inject(emulator, 5)
    nvr = await inject(emulator, 2, nsid=HOME_NVR_NSID, channel=HOME_NVR_CHANNEL_IDS[1])
    client = make_client(session, emulator)
    result = await client.list_alarms(SPACE_HOME_ID, T0 + 3, T0 + 4)
    assert [a.alarm_id for a in result.alarms] == [ids[3], ids[4]]
    result = await client.list_alarms(SPACE_HOME_ID, T0, device_nsid=HOME_NVR_NSID)
    assert [a.alarm_id for a in result.alarms] == nvr
    result = await client.list_alarms(SPACE_HOME_ID, T0, channel_id=HOME_IPC_CHANNEL_ID)
    assert [a.alarm_id for a in result.alarms] == ids
    assert json.loads(emulator.requests[-1].body) == {
        "StartTime": T0,
        "Order": 0,
        "ChannelID": HOME_IPC_CHANNEL_ID,
    }
    assert (await client.list_alarms(SPACE_HOME_ID, T0 + 100)).alarms == ()


async def test_list_alarms_page_bound(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    ids = await inject(emulator, ALARM_PAGE_SIZE * 3)
    result = await make_client(session, emulator).list_alarms(SPACE_HOME_ID, T0, max_pages=2)
    assert not result.complete
    assert result.total == ALARM_PAGE_SIZE * 3
    assert [a.alarm_id for a in result.alarms] == ids[: ALARM_PAGE_SIZE * 2]
    assert len(emulator.requests_for("ListAlarmNotify")) == 2


async def test_list_alarms_skips_items_that_are_no_alarm(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    ids = await inject(emulator, 2)
    broken = {**emulator.events.alarms[0], "AlarmNotifyID": "broken", "DeviceNSID": ""}
    emulator.events.alarms.insert(1, broken)
    result = await make_client(session, emulator).list_alarms(SPACE_HOME_ID, T0)
    assert [a.alarm_id for a in result.alarms] == ids
    assert result.skipped == 1


async def test_list_alarms_retries_and_clock_skew(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    ids = await inject(emulator, ALARM_PAGE_SIZE + 1)
    client = make_client(session, emulator)
    emulator.faults.add("ListAlarmNotify", code="ServiceBusy", status=500, times=1)
    result = await client.list_alarms(SPACE_HOME_ID, T0)
    assert [a.alarm_id for a in result.alarms] == ids
    assert len(emulator.requests_for("ListAlarmNotify")) == 3  # page 1 twice, page 2
    emulator.requests.clear()
    emulator.faults.add("ListAlarmNotify", code="ServiceBusy", status=500, times=10)
    with pytest.raises(VolcengineServiceBusyError):
        await client.list_alarms(SPACE_HOME_ID, T0)
    assert len(emulator.requests_for("ListAlarmNotify")) == 4  # 1 + 3 retries, then it gives up
    emulator.faults.clear()
    emulator.requests.clear()
    emulator.clock_offset = 3600
    with pytest.raises(VolcengineClockSkewError):
        await client.list_alarms(SPACE_HOME_ID, T0)
    assert len(emulator.requests_for("ListAlarmNotify")) == 1  # a wrong clock is not retried


async def test_list_alarms_unknown_space(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    with pytest.raises(VolcengineNotFoundError):
        await make_client(session, emulator).list_alarms("no-such-space", T0)


async def test_list_device_alarms(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    ids = await inject(emulator, 3)
    await inject(emulator, 1, nsid=HOME_NVR_NSID, channel=HOME_NVR_CHANNEL_IDS[0])
    result = await make_client(session, emulator).list_device_alarms(HOME_IPC_ID, T0 + 1)
    assert [a.alarm_id for a in result.alarms] == ids[1:]
    assert all(a.device_id == HOME_IPC_ID for a in result.alarms)
    assert all(a.event_type is AlarmEventType.MOTION for a in result.alarms)
    (request,) = emulator.requests_for("ListDeviceAlarms")
    assert request.query["Version"] == "2023-10-01"
    assert json.loads(request.body) == {"DeviceID": HOME_IPC_ID, "StartTime": T0 + 1, "Order": 0}
