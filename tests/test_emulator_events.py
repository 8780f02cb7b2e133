"""The emulator's alarms: the list actions and the ``device_alarm`` callback, over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import json
import time
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_ID,
    HOME_NVR_NSID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_CHANNEL_ID,
    SHOP_IPC_NSID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
)
from tests.emulator.events import is_loopback
from tests.test_emulator import call, error_of

T0 = 1_760_000_000  # a fixed alarm time (unix s)
V2021 = "2021-01-01"
V2023 = "2023-10-01"


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@dataclass
class Receiver:
    """A callback target on 127.0.0.1 that records every POST."""

    url: str = ""
    bodies: list[bytes] = field(default_factory=list)
    status: int = 200


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncIterator[Receiver]:
    received = Receiver()

    async def handle(request: web.Request) -> web.Response:
        received.bodies.append(await request.read())
        return web.Response(status=received.status)

    app = web.Application()
    app.router.add_post("/hook/{token}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    received.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook/abc"
    try:
        yield received
    finally:
        await runner.cleanup()


async def list_notify(
    session: aiohttp.ClientSession,
    emulator: Emulator,
    body: dict[str, Any] | None = None,
    *,
    space_id: str = SPACE_HOME_ID,
    page: int = 1,
    size: int = 100,
    version: str = V2021,
) -> tuple[int, dict[str, Any]]:
    params = {"SpaceID": space_id, "PageNumber": str(page), "PageSize": str(size)}
    return await call(
        session,
        emulator,
        "ListAlarmNotify",
        params,
        method="POST",
        body=body or {},
        version=version,
    )


async def inject_series(emulator: Emulator, count: int, *, start: int = T0) -> list[str]:
    ids = []
    for n in range(count):
        raw = await emulator.events.inject(
            SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, alarm_time=start + n
        )
        ids.append(raw["AlarmNotifyID"])
    return ids


async def test_list_alarm_notify_shape(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    await emulator.events.inject(
        SPACE_HOME_ID,
        HOME_IPC_NSID,
        HOME_IPC_CHANNEL_ID,
        method=5,
        alarm_type=6,
        priority=2,
        alarm_time=T0,
        description="intrusion at the gate",
        event_type=1,
    )
    await emulator.events.inject(SPACE_SHOP_ID, SHOP_IPC_NSID, SHOP_IPC_CHANNEL_ID)
    status, data = await list_notify(session, emulator, {"StartTime": T0 - 10})
    assert status == 200, data
    assert data["ResponseMetadata"]["Version"] == V2021
    result = data["Result"]
    assert (result["PageNumber"], result["PageSize"], result["TotalCount"]) == (1, 100, 1)
    (item,) = result["AlarmNotifies"]
    assert item["SpaceID"] == SPACE_HOME_ID
    assert (item["DeviceNSID"], item["ChannelID"]) == (HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    assert (item["AlarmMethod"], item["AlarmPriority"], item["AlarmTime"]) == (5, 2, T0)
    assert item["Info"] == {"AlarmType": 6, "AlarmTypeParam": {"EventType": 1}}
    assert item["AlarmDescription"] == "intrusion at the gate"
    assert item["AlarmNotifyID"]
    assert "AlarmType" not in item  # the 2021 shape carries it in Info


async def test_paging_and_order(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    ids = await inject_series(emulator, 25)
    pages = []
    for number in (1, 2, 3, 4):
        status, data = await list_notify(session, emulator, page=number, size=10)
        assert status == 200, data
        assert data["Result"]["TotalCount"] == 25
        pages.append([a["AlarmNotifyID"] for a in data["Result"]["AlarmNotifies"]])
    assert [len(p) for p in pages] == [10, 10, 5, 0]
    assert [i for p in pages for i in p] == ids  # Order 0 (default): oldest first
    _, data = await list_notify(session, emulator, {"Order": 1}, size=3)
    assert [a["AlarmNotifyID"] for a in data["Result"]["AlarmNotifies"]] == ids[::-1][:3]
    status, data = await list_notify(session, emulator, size=101)
    assert (status, error_of(data)["Code"]) == (400, "InvalidParameter")


async def test_time_and_type_filters(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    ids = await inject_series(emulator, 5)  # T0 .. T0+4, motion on the IPC
    tamper = await emulator.events.inject(
        SPACE_HOME_ID, HOME_NVR_NSID, HOME_NVR_CHANNEL_IDS[1], method=2, alarm_type=2,
        alarm_time=T0 + 2, priority=4,
    )  # fmt: skip

    async def found(body: dict[str, Any]) -> list[str]:
        status, data = await list_notify(session, emulator, body)
        assert status == 200, data
        return [a["AlarmNotifyID"] for a in data["Result"]["AlarmNotifies"]]

    assert await found({"StartTime": T0 + 1, "EndTime": T0 + 3}) == [
        ids[1],
        ids[2],
        tamper["AlarmNotifyID"],
        ids[3],
    ]  # fmt: skip  (both bounds inclusive; equal times keep their arrival order)
    assert await found({"StartTime": T0 + 5}) == []
    assert await found({"DeviceNSID": HOME_NVR_NSID}) == [tamper["AlarmNotifyID"]]
    assert await found({"ChannelID": HOME_IPC_CHANNEL_ID, "EndTime": T0}) == [ids[0]]
    assert await found({"AlarmMethod": [2]}) == [tamper["AlarmNotifyID"]]
    assert await found({"AlarmPriority": [4]}) == [tamper["AlarmNotifyID"]]
    assert await found({"AlarmType5": [6]}) == [tamper["AlarmNotifyID"]]  # no video 6
    assert await found({"AlarmType2": [1]}) == ids
    status, data = await list_notify(session, emulator, {"StartTime": T0, "EndTime": T0 - 1})
    assert (status, error_of(data)["Code"]) == (400, "InvalidParameter")
    status, data = await list_notify(session, emulator, {"StartTime": "yesterday"})
    assert (status, error_of(data)["Code"]) == (400, "InvalidParameter")


async def test_list_alarm_notify_errors(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    status, data = await call(session, emulator, "ListAlarmNotify", method="POST", body={})
    assert (status, error_of(data)["Code"]) == (400, "MissingParameter")
    status, data = await list_notify(session, emulator, space_id="nope")
    assert (status, error_of(data)["Code"]) == (404, "InvalidParameter.SpaceNotExist")
    status, data = await list_notify(session, emulator, version=V2023)
    assert (status, error_of(data)["Code"]) == (404, "InvalidActionOrVersion")
    status, data = await call(
        session,
        emulator,
        "ListAlarmNotify",
        {"SpaceID": SPACE_HOME_ID},
        method="POST",
        body={},
        secret_key="wrong",
    )
    assert (status, error_of(data)["Code"]) == (401, "SignatureDoesNotMatch")


async def test_list_device_alarms(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    ids = await inject_series(emulator, 3)
    first = await emulator.events.inject(
        SPACE_HOME_ID, HOME_NVR_NSID, HOME_NVR_CHANNEL_IDS[0], alarm_time=T0, event_type=2
    )
    await emulator.events.inject(
        SPACE_HOME_ID, HOME_NVR_NSID, HOME_NVR_CHANNEL_IDS[1], alarm_time=T0
    )

    async def device_alarms(
        body: dict[str, Any], *, version: str = V2023, size: int = 100
    ) -> tuple[int, dict[str, Any]]:
        return await call(
            session,
            emulator,
            "ListDeviceAlarms",
            {"PageNumber": "1", "PageSize": str(size)},
            method="POST",
            body=body,
            version=version,
        )

    status, data = await device_alarms({"DeviceID": HOME_IPC_ID, "Order": 1}, size=2)
    assert status == 200, data
    result = data["Result"]
    assert (result["TotalCount"], result["PageSize"]) == (3, 2)
    assert [a["AlarmNotifyID"] for a in result["AlarmNotifies"]] == ids[::-1][:2]
    item = result["AlarmNotifies"][0]
    assert set(item) == {
        "AlarmNotifyID", "DeviceNSID", "ChannelID", "AlarmPriority", "AlarmMethod", "AlarmType",
        "EventType", "AlarmTime", "AlarmDescription", "Longitude", "Latitude",
    }  # fmt: skip
    assert (item["AlarmMethod"], item["AlarmType"], item["AlarmTime"]) == (5, 2, T0 + 2)
    _, data = await device_alarms({"DeviceID": HOME_NVR_ID, "StreamID": HOME_NVR_STREAM_IDS[0]})
    (nvr,) = data["Result"]["AlarmNotifies"]
    assert (nvr["AlarmNotifyID"], nvr["EventType"]) == (first["AlarmNotifyID"], 2)
    status, data = await device_alarms({"DeviceID": HOME_IPC_ID}, version=V2021)
    assert (status, error_of(data)["Code"]) == (404, "InvalidActionOrVersion")
    status, data = await device_alarms({})
    assert (status, error_of(data)["Code"]) == (400, "MissingParameter")
    status, data = await device_alarms({"DeviceID": "nope"})
    assert (status, error_of(data)["Code"]) == (404, "InvalidParameter.DeviceNotExist")


async def test_callback_envelope(emulator: Emulator, receiver: Receiver) -> None:
    emulator.events.set_callback(SPACE_HOME_ID, receiver.url)
    before = time.time_ns()
    raw = await emulator.events.inject(
        SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, method=5, alarm_type=5, priority=3
    )
    second = await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    assert len(receiver.bodies) == 2
    envelope = json.loads(receiver.bodies[0])
    assert set(envelope) == {"CallbackMeta", "CallbackHeader", "Detail"}
    meta, header = envelope["CallbackMeta"], envelope["CallbackHeader"]
    assert meta["Version"] == "v1"
    assert meta["Url"] == [receiver.url]
    assert meta["App"]
    assert meta["MsgID"] != json.loads(receiver.bodies[1])["CallbackMeta"]["MsgID"]
    assert header["EventType"] == "device_alarm"
    assert header["ObjectTag"] == HOME_IPC_NSID
    assert before <= header["EventTime"] <= time.time_ns()  # nanoseconds
    assert json.loads(base64.b64decode(envelope["Detail"])) == raw
    detail = json.loads(base64.b64decode(json.loads(receiver.bodies[1])["Detail"]))
    assert detail["AlarmNotifyID"] == second["AlarmNotifyID"]
    assert [d.status for d in emulator.events.deliveries] == [200, 200]
    assert emulator.requests == []  # the callback needs no API call


async def test_callback_only_when_configured(
    emulator: Emulator, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    emulator.events.set_callback(SPACE_SHOP_ID, receiver.url)
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    emulator.events.set_callback(SPACE_HOME_ID, receiver.url)
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, deliver=False)
    assert receiver.bodies == []  # no URL on home, shop had no alarm, a lost push
    _, data = await list_notify(session, emulator)
    assert data["Result"]["TotalCount"] == 3  # every alarm is listed all the same
    _, data = await call(session, emulator, "GetSpace", {"SpaceID": SPACE_HOME_ID})
    assert data["Result"]["CallbackURL"] == receiver.url


async def test_callback_receiver_failures(emulator: Emulator, receiver: Receiver) -> None:
    emulator.events.set_callback(SPACE_HOME_ID, receiver.url)
    receiver.status = 500
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    delivery = await emulator.events.post_raw(SPACE_HOME_ID, b"{not json")
    assert delivery is not None
    assert receiver.bodies[-1] == b"{not json"
    emulator.events.set_callback(SPACE_HOME_ID, receiver.url.replace("/hook/abc", "/gone"))
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    assert [d.status for d in emulator.events.deliveries] == [500, 500, 404]


async def test_callback_unreachable_is_recorded(emulator: Emulator) -> None:
    emulator.events.set_callback(SPACE_HOME_ID, "http://127.0.0.1:9/hook")
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    (delivery,) = emulator.events.deliveries
    assert delivery.status is None
    assert delivery.error


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8123/api/webhook/x", True),
        ("http://127.9.9.9/x", True),
        ("http://localhost:8123/x", True),
        ("http://[::1]:8123/x", True),
        ("https://127.0.0.1/x", True),
        ("http://10.0.0.5/x", False),
        ("http://192.168.1.2:8123/x", False),
        ("https://hooks.example.com/x", False),
        ("http://0.0.0.0/x", False),
        ("ftp://127.0.0.1/x", False),
        ("not a url", False),
    ],
)
def test_only_loopback_callback_targets(url: str, allowed: bool) -> None:
    assert is_loopback(url) is allowed


async def test_set_callback_refuses_other_hosts(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="loopback"):
        emulator.events.set_callback(SPACE_HOME_ID, "http://192.168.1.2:8123/api/webhook/x")
    assert emulator.state.spaces[SPACE_HOME_ID]["CallbackURL"] == ""
    emulator.events.set_callback(SPACE_HOME_ID, "")  # none
