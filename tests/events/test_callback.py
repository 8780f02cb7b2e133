"""The callback parser: the emulator's real deliveries, tolerated variants and malformed bodies."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
import contextlib
import json
import random
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.volcengine_aiot.api import (
    Alarm,
    AlarmEventType,
    VolcengineClient,
)
from custom_components.volcengine_aiot.events import (
    MAX_CALLBACK_BYTES,
    CallbackError,
    parse_callback,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_NSID,
    SPACE_HOME_ID,
)

T0 = 1_760_000_000
DETAIL = {
    "SpaceID": SPACE_HOME_ID,
    "DeviceNSID": HOME_IPC_NSID,
    "ChannelID": HOME_IPC_CHANNEL_ID,
    "AlarmNotifyID": "an-1",
    "AlarmMethod": 5,
    "AlarmPriority": 1,
    "AlarmTime": T0,
    "Info": {"AlarmType": 2, "AlarmTypeParam": {"EventType": 0}},
}


def envelope(detail: Any = DETAIL, *, event_type: str = "device_alarm", **header: Any) -> bytes:
    encoded = (
        base64.b64encode(json.dumps(detail).encode()).decode()
        if isinstance(detail, dict)
        else detail
    )
    return json.dumps(
        {
            "CallbackMeta": {"MsgID": "m-1", "App": "app", "Version": "v1", "Url": ["x"]},
            "CallbackHeader": {
                "EventObject": "device",
                "ObjectTag": HOME_IPC_NSID,
                "EventType": event_type,
                "EventTime": T0 * 10**9 + 5,
                **header,
            },
            "Detail": encoded,
        }
    ).encode()


@pytest.fixture
async def received(socket_enabled: None) -> AsyncIterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", bodies
    finally:
        await runner.cleanup()


async def test_parses_what_the_emulator_delivers_and_matches_the_list(
    emulator: Emulator, received: tuple[str, list[bytes]]
) -> None:
    url, bodies = received
    emulator.events.set_callback(SPACE_HOME_ID, url)
    for alarm_type in (2, 6, 99):
        await emulator.events.inject(
            SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, alarm_type=alarm_type,
            alarm_time=T0, description="gate",
        )  # fmt: skip
    parsed = [parse_callback(body) for body in bodies]
    async with aiohttp.ClientSession() as session:
        client = VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0)
        listed = (await client.list_alarms(SPACE_HOME_ID, T0)).alarms
    assert [c.alarm for c in parsed] == list(listed)  # push and poll agree on every field
    first = parsed[0]
    assert first.event_type == "device_alarm"
    assert first.msg_id
    assert first.event_object == "device"
    assert first.object_tag == HOME_IPC_NSID
    assert first.event_time is not None
    assert first.unknown_keys == frozenset()
    assert [c.alarm.event_type for c in parsed if c.alarm] == [
        AlarmEventType.MOTION,
        AlarmEventType.INTRUSION,
        AlarmEventType.OTHER,
    ]


def test_documented_example_of_another_event() -> None:
    body = envelope({"StreamID": "s"}, event_type="stream_online", EventObject="stream")
    callback = parse_callback(body)
    assert (callback.event_type, callback.alarm, callback.event_object) == (
        "stream_online",
        None,
        "stream",
    )
    assert callback.detail == {"StreamID": "s"}
    assert callback.event_time is not None
    assert callback.event_time.timestamp() == pytest.approx(T0)
    other = parse_callback(envelope("%%%", event_type="device_online"))
    assert other.detail == {}  # other events' details are best effort


@pytest.mark.parametrize(
    "detail",
    [
        base64.urlsafe_b64encode(json.dumps(DETAIL).encode()).decode().rstrip("="),
        "\n".join(base64.encodebytes(json.dumps(DETAIL).encode()).decode().split()),
    ],
    ids=["urlsafe-unpadded", "wrapped-lines"],
)
def test_tolerated_detail_encodings(detail: str) -> None:
    alarm = parse_callback(envelope(detail)).alarm
    assert alarm == Alarm.from_json(DETAIL)


def test_tolerated_variants() -> None:
    raw = json.loads(envelope())
    raw["Detail"] = {**DETAIL, "Vendor": "x", "AlarmType": 2}  # not encoded, flat type
    raw["CallbackHeader"]["EventTime"] = str(T0 * 1000)  # milliseconds as a string
    del raw["CallbackMeta"]
    callback = parse_callback(json.dumps(raw))
    assert callback.alarm is not None
    assert callback.alarm.event_type is AlarmEventType.MOTION
    assert callback.msg_id is None
    assert callback.event_time is not None
    assert callback.event_time.timestamp() == T0
    assert callback.unknown_keys == frozenset({"Vendor"})
    for seconds in (T0, T0 * 10**6, "bad", -1, None, True):
        raw["CallbackHeader"]["EventTime"] = seconds
        parsed = parse_callback(json.dumps(raw)).event_time
        assert parsed is None or parsed.timestamp() == T0


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


MALFORMED = [
    (b"", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"<xml/>", "not JSON"),
    (b"[]", "not a JSON object"),
    (b"null", "not a JSON object"),
    (b"{}", "CallbackHeader is missing"),
    (b'{"CallbackHeader": []}', "CallbackHeader is missing"),
    (b'{"CallbackHeader": {}}', "EventType is missing"),
    (b'{"CallbackHeader": {"EventType": ""}}', "EventType is missing"),
    (b'{"CallbackHeader": {"EventType": "device_alarm"}}', "Detail is missing"),
    (envelope(12), "Detail is missing"),
    (envelope("not base64 !"), "not base64-encoded JSON"),
    (envelope(base64.b64encode(b"\xff\x00").decode()), "not base64-encoded JSON"),
    (envelope(base64.b64encode(b"plain text").decode()), "not base64-encoded JSON"),
    (envelope(base64.b64encode(b"[1]").decode()), "not a JSON object"),
    (envelope(base64.b64encode(_deep(100_000)[:40_000]).decode()), "Detail is not"),
    (envelope({**DETAIL, "DeviceNSID": ""}), "not an alarm"),
    (envelope({k: v for k, v in DETAIL.items() if k != "AlarmTime"}), "not an alarm"),
    (envelope({**DETAIL, "AlarmTime": "soon"}), "not an alarm"),
    (envelope({**DETAIL, "AlarmTime": 1e309}), "not an alarm"),
    (b" " * (MAX_CALLBACK_BYTES + 1), "larger than"),
    (_deep(30_000), "not JSON|not a JSON object"),
]


@pytest.mark.parametrize(
    ("body", "reason"), MALFORMED, ids=[f"malformed-{n}" for n in range(len(MALFORMED))]
)
def test_malformed_bodies_are_refused_clearly(body: bytes, reason: str) -> None:
    with pytest.raises(CallbackError, match=reason):
        parse_callback(body)


def test_random_corruption_never_escapes_as_another_error() -> None:
    rng = random.Random(28181)
    valid = envelope()
    for _ in range(2000):
        body = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        if rng.random() < 0.3:
            body = body[: rng.randrange(len(body))]
        with contextlib.suppress(CallbackError):
            parse_callback(bytes(body))
