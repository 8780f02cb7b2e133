"""Tests of the local Volcengine OpenAPI / aiotvideo emulator itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import time
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.emulator.app import Emulator
from tests.emulator.data import (
    BIG_DEVICE_COUNT,
    EMU_AK,
    EMU_SK,
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_IPC_OFFLINE_NSID,
    HOME_IPC_PASSWORD,
    HOME_IPC_STREAM_ID,
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_ID,
    HOME_UNREG_ID,
    SHOP_IPC_ID,
    SPACE_BIG_ID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
    big_device_id,
    demo_state,
)
from tests.emulator.signature import (
    X_DATE_FORMAT,
    GatewayError,
    canonical_query,
    canonical_query_from_raw,
    sign_request,
    verify,
)
from tests.emulator.talk import FLV_HEADER, FlvStreamParser

VECTORS = json.loads(
    (Path(__file__).parent / "fixtures" / "signature_vectors.json").read_text(encoding="utf-8")
)
VECTOR_NOW = datetime.strptime(VECTORS["x_date"], X_DATE_FORMAT).replace(tzinfo=UTC)
VECTOR_CREDENTIALS = {VECTORS["access_key"]: VECTORS["secret_key"]}


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def call(
    session: aiohttp.ClientSession,
    emu: Emulator,
    action: str,
    params: dict[str, str] | None = None,
    *,
    method: str = "GET",
    body: Any = None,
    access_key: str = EMU_AK,
    secret_key: str = EMU_SK,
    region: str = "cn-north-1",
    now: datetime | None = None,
    service: str = "aiotvideo",
    version: str = "2021-01-01",
    tamper: Callable[[dict[str, str]], None] | None = None,
    raw_query: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Sign and send a request; return (HTTP status, decoded JSON)."""
    query = {"Action": action, "Version": version, **(params or {})}
    payload = (
        b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    )
    headers = sign_request(
        method=method,
        host=emu.url.removeprefix("http://"),
        query=query,
        body=payload,
        access_key=access_key,
        secret_key=secret_key,
        region=region,
        now=now or datetime.now(UTC),
        content_type=None if body is None else "application/json; charset=UTF-8",
        service=service,
    )
    if tamper is not None:
        tamper(headers)
    url = URL(f"{emu.url}/?{raw_query or canonical_query(query)}", encoded=True)
    async with session.request(method, url, headers=headers, data=payload or None) as resp:
        return resp.status, await resp.json(content_type=None)


def error_of(data: dict[str, Any]) -> dict[str, Any]:
    return data["ResponseMetadata"]["Error"]


def flv_tag(
    timestamp: int,
    payload: bytes,
    *,
    tag_type: int = 8,
    flag: int = 0x72,
    prev: int | None = None,
    stream_id: int = 0,
) -> bytes:
    body = bytes([flag]) + payload
    return (
        bytes([tag_type])
        + len(body).to_bytes(3)
        + (timestamp & 0xFFFFFF).to_bytes(3)
        + bytes([timestamp >> 24 & 0xFF])
        + stream_id.to_bytes(3)
        + body
        + (11 + len(body) if prev is None else prev).to_bytes(4)
    )


def frame_payload(n: int) -> bytes:
    return bytes([n & 0xFF]) * 160


# --- signature verifier ----------------------------------------------------------------------


def _vector_args(case: dict[str, Any]) -> dict[str, Any]:
    headers = {**case["headers"], "Authorization": case["authorization"]}
    return {
        "method": case["method"],
        "path": VECTORS["path"],
        "raw_query": case["canonical_query"],
        "headers": headers,
        "body": case["body"].encode(),
        "credentials": VECTOR_CREDENTIALS,
        "now": VECTOR_NOW,
    }


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_signature_vectors_accepted(case: dict[str, Any]) -> None:
    verified = verify(**_vector_args(case))
    assert verified.access_key == VECTORS["access_key"]
    assert verified.region == case["region"]
    assert verified.service == "aiotvideo"


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_signature_vectors_signed_identically(case: dict[str, Any]) -> None:
    headers = sign_request(
        method=case["method"],
        host=case["headers"]["Host"],
        query=case["query"],
        body=case["body"].encode(),
        access_key=VECTORS["access_key"],
        secret_key=VECTORS["secret_key"],
        region=case["region"],
        now=VECTOR_NOW,
        content_type=case["headers"].get("Content-Type"),
    )
    assert headers["Authorization"] == case["authorization"]
    assert canonical_query(case["query"]) == case["canonical_query"]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_signature_flipped_bit_rejected(case: dict[str, Any]) -> None:
    args = _vector_args(case)
    auth = args["headers"]["Authorization"]
    last = auth[-1]
    flipped = format(int(last, 16) ^ 1, "x")
    args["headers"]["Authorization"] = auth[:-1] + flipped
    with pytest.raises(GatewayError) as err:
        verify(**args)
    assert (err.value.status, err.value.code, err.value.code_n) == (
        401,
        "SignatureDoesNotMatch",
        100010,
    )


def test_signature_tampered_request_rejected() -> None:
    case = VECTORS["cases"][2]
    args = _vector_args(case)
    args["body"] = b"{ }"  # X-Content-Sha256 no longer matches
    with pytest.raises(GatewayError, match="SignatureDoesNotMatch"):
        verify(**args)
    args = _vector_args(case)
    args["raw_query"] = args["raw_query"].replace("0001", "0002")
    with pytest.raises(GatewayError, match="SignatureDoesNotMatch"):
        verify(**args)
    args = _vector_args(case)
    args["headers"]["Host"] = "open.volcengineapi.com:443"
    with pytest.raises(GatewayError, match="SignatureDoesNotMatch"):
        verify(**args)


def test_signature_clock_window() -> None:
    case = VECTORS["cases"][0]
    for skew in (timedelta(minutes=14), -timedelta(minutes=14)):
        verify(**{**_vector_args(case), "now": VECTOR_NOW + skew})
    for skew in (timedelta(minutes=16), -timedelta(minutes=16)):
        with pytest.raises(GatewayError) as err:
            verify(**{**_vector_args(case), "now": VECTOR_NOW + skew})
        assert (err.value.status, err.value.code, err.value.code_n) == (
            400,
            "InvalidTimestamp",
            100006,
        )


def test_raw_query_recanonicalized() -> None:
    case = VECTORS["cases"][1]
    # Same parameters, unsorted, comma not encoded, '-' needlessly encoded.
    raw = (
        "Status=online,offline&Version=2021-01-01&PageSize=100&Action=ListDevices"
        "&SpaceID=517ff7ec%2D7700-4862-b1e7-7967a4000000&PageNumber=1"
    )
    assert canonical_query_from_raw(raw) == case["canonical_query"]
    verify(**{**_vector_args(case), "raw_query": raw})


# --- gateway over HTTP -----------------------------------------------------------------------


async def test_list_spaces_envelope(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    status, data = await call(session, emulator, "ListSpaces", region="cn-beijing")
    assert status == 200
    meta = data["ResponseMetadata"]
    assert meta["Action"] == "ListSpaces"
    assert meta["Version"] == "2021-01-01"
    assert meta["Service"] == "aiotvideo"
    assert meta["Region"] == "cn-beijing"
    assert len(meta["RequestId"]) == 32
    assert meta["RequestId"][:8] == datetime.now(UTC).strftime("%Y%m%d")
    result = data["Result"]
    assert result["TotalCount"] == 3
    assert result["PageNumber"] == 1
    assert result["PageSize"] == 20
    assert {s["SpaceID"] for s in result["Spaces"]} == {SPACE_HOME_ID, SPACE_SHOP_ID, SPACE_BIG_ID}
    space = next(s for s in result["Spaces"] if s["SpaceID"] == SPACE_HOME_ID)
    assert (space["SpaceName"], space["AccessType"], space["Status"]) == (
        "home",
        "gb28181",
        "enabled",
    )
    recorded = emulator.requests[-1]
    assert recorded.action == "ListSpaces"
    assert recorded.method == "GET"
    assert recorded.query["Action"] == "ListSpaces"
    assert "Authorization" in recorded.headers
    assert recorded.status == 200


async def test_post_with_json_body(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    # GO-v2 style: parameters in the JSON body instead of the query.
    body = {"SpaceID": SPACE_HOME_ID, "DeviceNSID": HOME_IPC_NSID, "Transport": "udp"}
    status, data = await call(session, emulator, "StartVoiceTalk", method="POST", body=body)
    assert status == 200, data
    assert emulator.requests[-1].body == json.dumps(body).encode()
    status, data = await call(
        session, emulator, "GetSpace", {"SpaceID": SPACE_HOME_ID}, method="POST", body=b"{nope"
    )
    assert status == 400
    assert error_of(data)["Code"] == "InvalidParameter"


@pytest.mark.parametrize(
    ("tamper", "kwargs", "expected"),
    [
        (lambda h: h.pop("Authorization"), {}, (401, "MissingAuthenticationToken", 100003)),
        (None, {"access_key": "AKLTunknown"}, (401, "InvalidAccessKey", 100009)),
        (lambda h: h.pop("X-Date"), {}, (400, "MissingRequestInfo", 100004)),
        (None, {"secret_key": "wrong"}, (401, "SignatureDoesNotMatch", 100010)),
        (
            lambda h: h.update({"X-Date": "20200101T000000Z"}),
            {},
            (400, "InvalidTimestamp", 100006),
        ),
        (None, {"service": "iam"}, (404, "ServiceNotFound", 100007)),
        (
            lambda h: h.update({"X-Content-Sha256": "0" * 64}),
            {},
            (401, "SignatureDoesNotMatch", 100010),
        ),
        (None, {"version": "2018-01-01"}, (404, "InvalidActionOrVersion", 100008)),
    ],
)
async def test_gateway_errors(
    emulator: Emulator,
    session: aiohttp.ClientSession,
    tamper: Callable[[dict[str, str]], None] | None,
    kwargs: dict[str, Any],
    expected: tuple[int, str, int],
) -> None:
    status, data = await call(session, emulator, "ListSpaces", tamper=tamper, **kwargs)
    error = error_of(data)
    assert (status, error["Code"], error["CodeN"]) == expected
    assert error["Message"]
    assert "Result" not in data
    assert emulator.requests[-1].error_code == expected[1]


async def test_credential_date_mismatch(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    def other_day(headers: dict[str, str]) -> None:
        headers["Authorization"] = headers["Authorization"].replace(
            f"/{headers['X-Date'][:8]}/", "/20200101/"
        )

    status, data = await call(session, emulator, "ListSpaces", tamper=other_day)
    assert (status, error_of(data)["Code"]) == (401, "SignatureDoesNotMatch")


async def test_unknown_action(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    status, data = await call(session, emulator, "GetUserById")
    assert (status, error_of(data)["Code"]) == (404, "InvalidActionOrVersion")


async def test_clock_offset(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.clock_offset = 14 * 60
    assert (await call(session, emulator, "ListSpaces"))[0] == 200
    emulator.clock_offset = 16 * 60
    status, data = await call(session, emulator, "ListSpaces")
    assert (status, error_of(data)["Code"]) == (400, "InvalidTimestamp")
    emulator.clock_offset = -16 * 60
    assert (await call(session, emulator, "ListSpaces"))[0] == 400
    # a client whose own clock is equally wrong is fine again
    now = datetime.now(UTC) - timedelta(minutes=16)
    assert (await call(session, emulator, "ListSpaces", now=now))[0] == 200


async def test_unsorted_raw_query_accepted(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    params = {"SpaceID": SPACE_HOME_ID, "Status": "online,offline", "PageSize": "100"}
    raw = "PageSize=100&Status=online,offline&Version=2021-01-01&Action=ListDevices"
    raw += f"&SpaceID={SPACE_HOME_ID}"
    status, data = await call(session, emulator, "ListDevices", params, raw_query=raw)
    assert status == 200, data
    assert data["Result"]["TotalCount"] == 3  # the unregisterd device is filtered out


# --- data and paging -------------------------------------------------------------------------


async def test_list_devices_paging(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    status, data = await call(session, emulator, "ListDevices", {"SpaceID": SPACE_HOME_ID})
    assert status == 200
    assert data["Result"]["TotalCount"] == 4
    seen = []
    for page in (1, 2, 3):
        params = {"SpaceID": SPACE_HOME_ID, "PageNumber": str(page), "PageSize": "3"}
        _, data = await call(session, emulator, "ListDevices", params)
        assert data["Result"]["TotalCount"] == 4
        seen += [d["DeviceID"] for d in data["Result"]["Devices"]]
    assert len(seen) == len(set(seen)) == 4

    status, data = await call(session, emulator, "ListDevices", {})
    assert (status, error_of(data)["Code"]) == (400, "MissingParameter")
    params = {"SpaceID": SPACE_HOME_ID, "PageSize": "101"}
    status, data = await call(session, emulator, "ListDevices", params)
    assert (status, error_of(data)["Code"]) == (400, "InvalidParameter")
    status, data = await call(session, emulator, "ListDevices", {"SpaceID": "nope"})
    assert (status, error_of(data)["Code"]) == (404, "InvalidParameter.SpaceNotExist")


async def test_big_space(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    seen: set[str] = set()
    started = time.monotonic()
    for page in range(1, BIG_DEVICE_COUNT // 100 + 2):
        params = {"SpaceID": SPACE_BIG_ID, "PageNumber": str(page), "PageSize": "100"}
        status, data = await call(session, emulator, "ListDevices", params)
        assert status == 200
        assert data["Result"]["TotalCount"] == BIG_DEVICE_COUNT
        seen.update(d["DeviceID"] for d in data["Result"]["Devices"])
    assert len(seen) == BIG_DEVICE_COUNT
    assert big_device_id(0) in seen
    assert big_device_id(BIG_DEVICE_COUNT - 1) in seen
    assert time.monotonic() - started < 30
    nsids = {raw["DeviceNSID"] for raw in emulator.state.devices[SPACE_BIG_ID].values()}
    assert len(nsids) == BIG_DEVICE_COUNT
    assert all(len(n) == 20 and n.isdigit() and n[10:13] == "132" for n in nsids)


def test_demo_state_fresh_and_isolated() -> None:
    one, two = demo_state(), demo_state()
    one.set_status(SPACE_BIG_ID, big_device_id(1), "offline")
    one.set_status(SPACE_HOME_ID, HOME_IPC_ID, "offline")
    assert two.devices[SPACE_BIG_ID][big_device_id(1)]["Status"] == "online"
    assert two.devices[SPACE_HOME_ID][HOME_IPC_ID]["Status"] == "online"
    one.remove_device(SPACE_HOME_ID, HOME_NVR_ID)
    assert HOME_NVR_ID in two.devices[SPACE_HOME_ID]
    one.add_device(SPACE_SHOP_ID, {"DeviceID": "new", "DeviceNSID": "34020000001320000999"})
    assert one.device(SPACE_SHOP_ID, "new")["SpaceID"] == SPACE_SHOP_ID


async def test_device_shapes(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    params = {"SpaceID": SPACE_HOME_ID, "DeviceID": HOME_IPC_ID}
    status, data = await call(session, emulator, "GetDevice", params)
    assert status == 200
    ipc = data["Result"]
    assert (ipc["DeviceNSID"], ipc["Status"], ipc["Manufactory"]) == (
        HOME_IPC_NSID,
        "online",
        "Hikvision",
    )
    assert ipc["Password"] == HOME_IPC_PASSWORD
    assert ipc["DeviceNSID"][10:13] == "132"
    stream = ipc["DeviceStreams"][HOME_IPC_CHANNEL_ID]
    assert stream["StreamID"] == HOME_IPC_STREAM_ID
    assert stream["Manufacturer"] == "Hikvision"
    assert stream["Model"]
    assert stream["PullUrls"]

    params = {"SpaceID": SPACE_HOME_ID, "DeviceID": HOME_UNREG_ID}
    unreg = (await call(session, emulator, "GetDevice", params))[1]["Result"]
    assert unreg["Status"] == "unregisterd"
    assert "Manufactory" not in unreg

    params = {"SpaceID": SPACE_SHOP_ID, "DeviceID": SHOP_IPC_ID}
    shop = (await call(session, emulator, "GetDevice", params))[1]["Result"]
    assert isinstance(shop["DeviceStreams"], list)

    params = {"SpaceID": SPACE_HOME_ID, "DeviceID": "missing"}
    status, data = await call(session, emulator, "GetDevice", params)
    assert (status, error_of(data)["Code"]) == (404, "InvalidParameter.DeviceNotExist")


async def test_channels(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    params = {"SpaceID": SPACE_HOME_ID, "DeviceID": HOME_NVR_ID, "QueryMode": "brief"}
    status, data = await call(session, emulator, "GetDeviceChannelsV2", params)
    assert status == 200
    result = data["Result"]
    assert result["DeviceNSID"][10:13] == "118"
    items = [c["DeviceItem"] for c in result["Channels"]]
    assert [i["DeviceID"] for i in items] == list(HOME_NVR_CHANNEL_IDS)
    assert all(i["Manufacturer"] and i["Model"] for i in items)
    params = {"SpaceID": SPACE_HOME_ID, "DeviceID": HOME_IPC_ID}
    result = (await call(session, emulator, "GetDeviceChannelsV2", params))[1]["Result"]
    assert result["Channels"][0]["StreamID"] == HOME_IPC_STREAM_ID


async def test_streams(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    params = {"SpaceID": SPACE_HOME_ID, "StreamID": HOME_IPC_STREAM_ID}
    status, data = await call(
        session, emulator, "StartStream", params, method="POST", body={"StreamingIndex": 0}
    )
    assert status == 200
    assert data["Result"]["ID"] == HOME_IPC_STREAM_ID
    assert any(u.startswith("rtmp://") for u in data["Result"]["PullUrls"])
    assert HOME_IPC_STREAM_ID in emulator.state.started_streams
    status, _ = await call(session, emulator, "StopStream", params, method="POST", body={})
    assert status == 200
    assert HOME_IPC_STREAM_ID not in emulator.state.started_streams
    params["StreamID"] = "missing"
    status, data = await call(session, emulator, "StartStream", params, method="POST", body={})
    assert (status, error_of(data)["Code"]) == (404, "InvalidParameter.StreamNotExist")


# --- fault injection -------------------------------------------------------------------------


async def test_fault_error_envelope(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.faults.add("ListSpaces", code="ServiceBusy", status=500, message="busy", times=2)
    for _ in range(2):
        status, data = await call(session, emulator, "ListSpaces")
        assert (status, error_of(data)["Code"], error_of(data)["Message"]) == (
            500,
            "ServiceBusy",
            "busy",
        )
    assert (await call(session, emulator, "ListSpaces"))[0] == 200
    emulator.faults.add(None, code="FlowLimitExceeded", status=429)
    status, data = await call(session, emulator, "GetSpace", {"SpaceID": SPACE_HOME_ID})
    assert (status, error_of(data)["Code"]) == (429, "FlowLimitExceeded")
    emulator.faults.add("ListSpaces", code="InternalError")
    assert error_of((await call(session, emulator, "ListSpaces"))[1])["CodeN"] == 100014


async def test_fault_after_signature(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.faults.add("ListSpaces", code="ServiceBusy")
    status, data = await call(session, emulator, "ListSpaces", secret_key="wrong")
    assert status == 401
    assert error_of(data)["Code"] == "SignatureDoesNotMatch"
    assert (await call(session, emulator, "ListSpaces"))[0] == 500
    # other actions are not affected
    emulator.faults.add("ListDevices", code="ServiceBusy", times=0)
    assert (await call(session, emulator, "ListSpaces"))[0] == 200
    for _ in range(3):
        params = {"SpaceID": SPACE_HOME_ID}
        assert (await call(session, emulator, "ListDevices", params))[0] == 500
    emulator.faults.clear()
    assert (await call(session, emulator, "ListDevices", {"SpaceID": SPACE_HOME_ID}))[0] == 200


async def test_fault_raw_body(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.faults.add(
        "ListSpaces", status=502, body=b"<html>Bad Gateway</html>", content_type="text/html"
    )
    async with session.get(f"{emulator.url}/?Action=ListSpaces&Version=2021-01-01") as resp:
        # unsigned: the signature error comes first and does not consume the fault
        assert resp.status == 401
    headers = sign_request(
        method="GET",
        host=emulator.url.removeprefix("http://"),
        query={"Action": "ListSpaces", "Version": "2021-01-01"},
        access_key=EMU_AK,
        secret_key=EMU_SK,
    )
    url = URL(f"{emulator.url}/?Action=ListSpaces&Version=2021-01-01", encoded=True)
    async with session.get(url, headers=headers) as resp:
        assert resp.status == 502
        assert resp.content_type == "text/html"
        assert await resp.read() == b"<html>Bad Gateway</html>"


async def test_fault_delay(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    emulator.faults.add("ListSpaces", delay=0.3)
    started = time.monotonic()
    status, _ = await call(session, emulator, "ListSpaces")
    assert status == 200
    assert time.monotonic() - started >= 0.3
    emulator.faults.add("ListSpaces", delay=5)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await call(session, emulator, "ListSpaces")


async def test_fault_disconnect(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    # POST: aiohttp itself retries an idempotent GET once after a disconnect
    emulator.faults.add("ListSpaces", disconnect=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(session, emulator, "ListSpaces", method="POST", body={})
    assert emulator.requests[-1].status is None
    assert (await call(session, emulator, "ListSpaces", method="POST", body={}))[0] == 200


# --- voice talk: OpenAPI side ----------------------------------------------------------------


async def start_talk(
    session: aiohttp.ClientSession, emu: Emulator, nsid: str = HOME_IPC_NSID, **params: str
) -> tuple[int, dict[str, Any]]:
    query = {"SpaceID": SPACE_HOME_ID, "DeviceNSID": nsid, **params}
    return await call(session, emu, "StartVoiceTalk", query, method="POST", body={})


async def stop_talk(
    session: aiohttp.ClientSession, emu: Emulator, nsid: str = HOME_IPC_NSID
) -> tuple[int, dict[str, Any]]:
    query = {"SpaceID": SPACE_HOME_ID, "DeviceNSID": nsid}
    return await call(session, emu, "StopVoiceTalk", query, method="POST", body={})


async def test_start_stop_voice_talk(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    status, data = await start_talk(session, emulator, Transport="tcp")
    assert status == 200
    url = URL(data["Result"]["AudioSendUrl"])
    assert url.scheme == "ws"
    assert (url.host, url.port) == ("127.0.0.1", URL(emulator.url).port)
    assert url.path == f"/voice_talk/nss/talk/{HOME_IPC_NSID}"
    assert url.query["vhost"] == "emulator"
    assert len(url.query["token"]) == 32
    assert emulator.talk.active(HOME_IPC_NSID)

    status, data = await start_talk(session, emulator)
    assert (status, error_of(data)["Code"]) == (500, "Busy.VoiceTalkDeviceBusy")

    status, data = await stop_talk(session, emulator)
    assert (status, data["Result"]) == (200, {})
    assert not emulator.talk.active(HOME_IPC_NSID)
    assert (await start_talk(session, emulator))[0] == 200


@pytest.mark.parametrize(
    ("nsid", "params", "expected"),
    [
        (HOME_IPC_OFFLINE_NSID, {}, (400, "InvalidParameter.DeviceNotOnline")),
        (HOME_IPC_NSID, {"Transport": "sctp"}, (400, "InvalidParameter")),
        ("34020000001329999999", {}, (404, "InvalidParameter.DeviceNotExist")),
    ],
)
async def test_start_voice_talk_errors(
    emulator: Emulator,
    session: aiohttp.ClientSession,
    nsid: str,
    params: dict[str, str],
    expected: tuple[int, str],
) -> None:
    status, data = await start_talk(session, emulator, nsid, **params)
    assert (status, error_of(data)["Code"]) == expected


# --- voice talk: WebSocket -------------------------------------------------------------------


async def talk_url(session: aiohttp.ClientSession, emu: Emulator) -> str:
    status, data = await start_talk(session, emu)
    assert status == 200, data
    return data["Result"]["AudioSendUrl"]


async def test_ws_flv_stream(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    url = await talk_url(session, emulator)
    tags = [flv_tag(20 * n, frame_payload(n)) for n in range(6)]
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(FLV_HEADER)  # header alone
        await ws.send_bytes(tags[0])  # one tag per message
        await ws.send_bytes(tags[1] + tags[2][:50])  # a tag and a half
        await ws.send_bytes(tags[2][50:100])  # still partial
        await ws.send_bytes(tags[2][100:] + tags[3] + tags[4])  # rest + two tags
        await ws.send_bytes(tags[5])
        await ws.close()
    rec = emulator.talk.sessions_for(HOME_IPC_NSID)[0]
    await rec.wait_closed(2)
    assert rec.header == FLV_HEADER
    assert not rec.raw
    assert rec.errors == []
    assert [f.timestamp_ms for f in rec.frames] == [0, 20, 40, 60, 80, 100]
    assert rec.alaw() == b"".join(frame_payload(n) for n in range(6))
    assert all(f.arrival >= rec.connected_at for f in rec.frames)
    assert rec.close_code == 1000
    assert rec.closed_by == "client"
    assert not rec.stopped
    assert emulator.talk.active(HOME_IPC_NSID)  # closing the socket is not StopVoiceTalk


async def test_ws_header_with_first_tag(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    url = await talk_url(session, emulator)
    big_ts = 0x01_00_00_14  # uses the extended timestamp byte
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(FLV_HEADER + flv_tag(0, frame_payload(1)))
        await ws.send_bytes(flv_tag(big_ts, frame_payload(2)))
    rec = emulator.talk.sessions[-1]
    await rec.wait_closed(2)
    assert [f.timestamp_ms for f in rec.frames] == [0, big_ts]
    assert rec.errors == []


async def test_ws_framing_violations(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    url = await talk_url(session, emulator)
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(FLV_HEADER)
        await ws.send_bytes(flv_tag(0, frame_payload(0), flag=0x70))
        await ws.send_bytes(flv_tag(20, bytes(100)))  # DataSize 101
        await ws.send_bytes(flv_tag(40, frame_payload(2), prev=161))
        await ws.send_bytes(flv_tag(60, b"", tag_type=18, flag=2))  # script tag
        await ws.send_str("hello")
        await ws.send_bytes(flv_tag(80, frame_payload(4))[:30])  # truncated at close
    rec = emulator.talk.sessions[-1]
    await rec.wait_closed(2)
    assert len(rec.frames) == 3
    text = "\n".join(rec.errors)
    assert "flags 0x70" in text
    assert "DataSize 101" in text
    assert "PreviousTagSize 161" in text
    assert "TagType 18" in text
    assert "text message" in text
    assert "partial" in text


async def test_ws_raw_mode(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    url = await talk_url(session, emulator)
    audio = bytes(range(256)) * 3  # 768 bytes = 4 frames + 128
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(audio[:100])
        await ws.send_bytes(audio[100:])
    rec = emulator.talk.sessions[-1]
    await rec.wait_closed(2)
    assert rec.raw
    assert rec.header is None
    assert [f.timestamp_ms for f in rec.frames] == [None] * 4
    assert rec.alaw() == audio[:640]
    assert any("partial raw frame" in e for e in rec.errors)


async def test_ws_token_checks(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    url = URL(await talk_url(session, emulator))
    wrong = url.update_query(token="0" * 32)
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await session.ws_connect(wrong)
    assert err.value.status == 403

    emulator.talk.refuse_next(HOME_IPC_NSID)
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await session.ws_connect(url)
    assert err.value.status == 403

    async with session.ws_connect(url) as ws:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await session.ws_connect(url)
        assert err.value.status == 409
        await ws.send_bytes(FLV_HEADER)
    assert emulator.talk.rejected == [(HOME_IPC_NSID, 403)] * 2 + [(HOME_IPC_NSID, 409)]
    assert len(emulator.talk.sessions) == 1

    await stop_talk(session, emulator)
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await session.ws_connect(url)
    assert err.value.status == 403


async def test_ws_stop_closes_socket(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    url = await talk_url(session, emulator)
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(FLV_HEADER + flv_tag(0, frame_payload(0)))
        await asyncio.sleep(0.05)
        status, _ = await stop_talk(session, emulator)
        assert status == 200
        msg = await ws.receive(timeout=2)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == 1000
    rec = emulator.talk.sessions[-1]
    await rec.wait_closed(2)
    assert rec.stopped
    assert (rec.close_code, rec.closed_by) == (1000, "server")
    assert len(rec.frames) == 1


async def test_ws_close_after(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    url = await talk_url(session, emulator)
    emulator.talk.close_after(HOME_IPC_NSID, 3, code=1011)
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(FLV_HEADER)
        for n in range(3):
            await ws.send_bytes(flv_tag(20 * n, frame_payload(n)))
        msg = await ws.receive(timeout=2)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == 1011
    rec = emulator.talk.sessions[-1]
    await rec.wait_closed(2)
    assert len(rec.frames) == 3
    assert (rec.close_code, rec.closed_by) == (1011, "server")
    # only the next session is affected
    async with session.ws_connect(url) as ws:
        for n in range(5):
            await ws.send_bytes(flv_tag(20 * n, frame_payload(n)) if n else FLV_HEADER)
    await emulator.talk.sessions[-1].wait_closed(2)
    assert len(emulator.talk.sessions[-1].frames) == 4


async def test_emulator_stop_closes_sockets(socket_enabled: None) -> None:
    emu = Emulator()
    await emu.start()
    try:
        async with aiohttp.ClientSession() as session:
            url = await talk_url(session, emu)
            async with session.ws_connect(url) as ws:
                await ws.send_bytes(FLV_HEADER)
                stopping = asyncio.create_task(emu.stop())
                msg = await ws.receive(timeout=2)
                assert msg.type is aiohttp.WSMsgType.CLOSE
                assert msg.data == 1001
                await stopping
            assert emu.talk.sessions[-1].closed
    finally:
        await emu.stop()


def test_flv_parser_byte_by_byte() -> None:
    stream = FLV_HEADER + b"".join(flv_tag(20 * n, frame_payload(n)) for n in range(3))
    parser = FlvStreamParser()
    frames = []
    for i in range(len(stream)):
        frames += parser.feed(stream[i : i + 1], float(i))
    assert parser.header == FLV_HEADER
    assert parser.raw is False
    assert [f.timestamp_ms for f in frames] == [0, 20, 40]
    assert [f.arrival for f in frames] == [float(13 + 176 * n - 1) for n in (1, 2, 3)]
    assert parser.errors == []
    parser.finish()
    assert parser.errors == []


def test_flv_parser_desync() -> None:
    parser = FlvStreamParser()
    parser.feed(FLV_HEADER + b"\x08\xff\xff\xff" + bytes(20), 0.0)
    assert parser.broken
    assert parser.feed(flv_tag(0, frame_payload(0)), 1.0) == []
    assert "desynchronized" in parser.errors[0]


def test_flv_parser_bad_header() -> None:
    parser = FlvStreamParser()
    header = bytes.fromhex("464c5601050000000900000000")  # audio+video flags
    frames = parser.feed(header + flv_tag(0, frame_payload(0)), 0.0)
    assert len(frames) == 1
    assert "FLV header" in parser.errors[0]
