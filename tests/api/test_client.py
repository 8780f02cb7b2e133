"""The client against the emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import aiohttp
import aiohttp.abc
import pytest

from custom_components.volcengine_aiot.api import (
    DeviceStatus,
    VolcengineApiError,
    VolcengineAuthError,
    VolcengineClient,
    VolcengineClockSkewError,
    VolcengineConnectionError,
    VolcengineDeviceBusyError,
    VolcengineDeviceUnreachableError,
    VolcengineError,
    VolcengineInvalidCredentialsError,
    VolcengineInvalidEndpointError,
    VolcengineNotFoundError,
    VolcenginePermissionError,
    VolcengineResponseError,
    VolcengineServiceBusyError,
    VolcengineSettingsError,
    VolcengineThrottledError,
    VolcengineTimeoutError,
    validate_settings,
)
from custom_components.volcengine_aiot.api.client import PAGE_SIZE
from tests.emulator.app import Emulator
from tests.emulator.data import (
    BIG_DEVICE_COUNT,
    EMU_AK,
    EMU_SK,
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_IPC_OFFLINE_NSID,
    HOME_IPC_PASSWORD,
    HOME_NVR_ID,
    HOME_UNREG_ID,
    SPACE_BIG_ID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
)


def make_client(
    session: aiohttp.ClientSession, emulator: Emulator, **kwargs: object
) -> VolcengineClient:
    options: dict[str, object] = {"endpoint": emulator.url, "backoff": 0.0, **kwargs}
    ak = str(options.pop("ak", EMU_AK))
    sk = str(options.pop("sk", EMU_SK))
    return VolcengineClient(session, ak, sk, **options)  # type: ignore[arg-type]


def actions(emulator: Emulator) -> list[str]:
    return [request.action for request in emulator.requests]


async def test_list_spaces(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    spaces = await make_client(session, emulator).list_spaces()
    assert {space.space_id for space in spaces} == {SPACE_HOME_ID, SPACE_SHOP_ID, SPACE_BIG_ID}
    assert all(space.name for space in spaces)


async def test_list_devices_home(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    devices = {d.device_id: d for d in await make_client(session, emulator).list_devices(
        SPACE_HOME_ID
    )}  # fmt: skip
    ipc = devices[HOME_IPC_ID]
    assert ipc.nsid == HOME_IPC_NSID
    assert ipc.online
    assert ipc.manufacturer
    assert HOME_IPC_PASSWORD not in repr(ipc)
    assert devices[HOME_UNREG_ID].status is DeviceStatus.UNREGISTERED
    assert devices[HOME_NVR_ID].type == "NVR"


async def test_list_devices_shop_streams_as_list(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    (device,) = await make_client(session, emulator).list_devices(SPACE_SHOP_ID)
    assert device.streams
    assert device.streams[0].stream_id


async def test_paging_5000_devices(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    devices = await make_client(session, emulator).list_devices(SPACE_BIG_ID)
    assert len(devices) == BIG_DEVICE_COUNT
    assert len({d.device_id for d in devices}) == BIG_DEVICE_COUNT
    assert actions(emulator).count("ListDevices") == -(-BIG_DEVICE_COUNT // PAGE_SIZE)
    pages = sorted(int(r.query["PageNumber"]) for r in emulator.requests)
    assert pages == list(range(1, -(-BIG_DEVICE_COUNT // PAGE_SIZE) + 1))


async def test_single_calls(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    client = make_client(session, emulator)
    channels = await client.get_device_channels(SPACE_HOME_ID, HOME_NVR_ID)
    assert len(channels) == 2
    assert all(channel.channel_id for channel in channels)
    with pytest.raises(VolcengineNotFoundError):
        await client.get_device_channels(SPACE_HOME_ID, "no-such-device")


async def test_count_devices_is_one_small_request(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    client = make_client(session, emulator)
    assert await client.count_devices(SPACE_BIG_ID) == BIG_DEVICE_COUNT
    assert [r.query["PageSize"] for r in emulator.requests_for("ListDevices")] == ["1"]
    emulator.deny("ListDevices")
    with pytest.raises(VolcenginePermissionError, match="AccessDenied"):
        await client.count_devices(SPACE_HOME_ID)


async def test_streams(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    client = make_client(session, emulator)
    device = next(d for d in await client.list_devices(SPACE_HOME_ID) if d.device_id == HOME_IPC_ID)
    stream_id = device.streams[0].stream_id
    assert stream_id
    urls = await client.start_stream(SPACE_HOME_ID, stream_id)
    assert urls.pull_urls
    assert emulator.requests[-1].action == "StartStream"
    assert not {"IgnoreAudio", "FreshExpiredPull", "EnableAudioTranscode"} & set(
        emulator.requests[-1].query
    )
    info = await client.get_stream(SPACE_HOME_ID, stream_id)
    assert info.pulling
    assert info.pull_urls == urls.pull_urls
    assert emulator.requests[-1].method == "GET"
    assert "FreshExpiredPull" not in emulator.requests[-1].query
    await client.stop_stream(SPACE_HOME_ID, stream_id)
    info = await client.get_stream(SPACE_HOME_ID, stream_id, fresh_expired_pull=True)
    assert emulator.requests[-1].query["FreshExpiredPull"] == "1"
    assert emulator.requests[-1].query["StreamingIndex"] == "0"
    assert (info.status, info.pulling, info.pull_urls) == ("init", False, ())


async def test_start_stream_options(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    client = make_client(session, emulator)
    (device,) = (d for d in await client.list_devices(SPACE_HOME_ID) if d.device_id == HOME_IPC_ID)
    stream_id = device.streams[0].stream_id
    assert stream_id
    await client.start_stream(
        SPACE_HOME_ID,
        stream_id,
        ignore_audio=False,
        fresh_expired_pull=True,
        enable_audio_transcode=True,
    )
    query = emulator.requests[-1].query
    assert (query["IgnoreAudio"], query["FreshExpiredPull"], query["EnableAudioTranscode"]) == (
        "0",
        "1",
        "1",
    )
    await client.stop_stream(SPACE_HOME_ID, stream_id)
    emulator.faults.add("GetStream", code="InvalidParameter.StreamNotExist", status=404)
    with pytest.raises(VolcengineNotFoundError):
        await client.get_stream(SPACE_HOME_ID, stream_id)


async def test_voice_talk(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    client = make_client(session, emulator)
    talk = await client.start_voice_talk(SPACE_HOME_ID, HOME_IPC_NSID, "udp")
    assert talk.audio_send_url.startswith("ws://127.0.0.1:")
    assert "token=" not in repr(talk)
    request = emulator.requests[-1]
    assert request.method == "POST"
    assert request.body == b"{}"
    assert request.query["Transport"] == "udp"
    assert emulator.talk.active(HOME_IPC_NSID)
    with pytest.raises(VolcengineDeviceBusyError):
        await client.start_voice_talk(SPACE_HOME_ID, HOME_IPC_NSID)
    await client.stop_voice_talk(SPACE_HOME_ID, HOME_IPC_NSID)
    assert not emulator.talk.active(HOME_IPC_NSID)
    with pytest.raises(VolcengineDeviceUnreachableError):
        await client.start_voice_talk(SPACE_HOME_ID, HOME_IPC_OFFLINE_NSID)


async def test_query_encoding_is_what_was_signed(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    """Values with commas, spaces and non-ASCII survive aiohttp/yarl unchanged."""
    result = await make_client(session, emulator).request(
        "ListDevices",
        {"SpaceID": SPACE_HOME_ID, "Status": "online,offline", "DeviceName": "前门 cam/1+2"},
    )
    assert "Devices" in result
    assert emulator.requests[-1].query["DeviceName"] == "前门 cam/1+2"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"sk": "wrong-secret"}, VolcengineAuthError),
        ({"ak": "AKLTunknown"}, VolcengineAuthError),
    ],
)
async def test_bad_credentials_are_not_retried(
    session: aiohttp.ClientSession,
    emulator: Emulator,
    kwargs: dict[str, str],
    error: type[VolcengineError],
) -> None:
    with pytest.raises(error):
        await make_client(session, emulator, **kwargs).list_spaces()
    assert len(emulator.requests) <= 1  # the emulator may not record rejected requests


async def test_clock_skew(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    emulator.clock_offset = 3600
    with pytest.raises(VolcengineClockSkewError) as info:
        await make_client(session, emulator).list_spaces()
    assert info.value.code == "InvalidTimestamp"


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("InvalidAccessKey", 401, VolcengineAuthError),
        ("SignatureDoesNotMatch", 401, VolcengineAuthError),
        ("MissingAuthenticationToken", 401, VolcengineAuthError),
        ("InvalidSecretToken", 401, VolcengineAuthError),
        ("AccessDenied", 403, VolcenginePermissionError),
        ("LackPolicy", 403, VolcenginePermissionError),
        ("InvalidTimestamp", 400, VolcengineClockSkewError),
        ("Busy.VoiceTalkDeviceBusy", 500, VolcengineDeviceBusyError),
        ("InternalError.VoiceTalkDeviceFail", 500, VolcengineDeviceUnreachableError),
        ("InvalidParameter.DeviceNotOnline", 400, VolcengineDeviceUnreachableError),
        ("InvalidActionOrVersion", 404, VolcengineNotFoundError),
        ("SomethingElse", 400, VolcengineApiError),
    ],
)
async def test_error_codes_not_retried(
    session: aiohttp.ClientSession,
    emulator: Emulator,
    code: str,
    status: int,
    error: type[VolcengineApiError],
) -> None:
    emulator.faults.add("ListSpaces", code=code, status=status, message="injected", times=5)
    with pytest.raises(error) as info:
        await make_client(session, emulator).list_spaces()
    assert type(info.value) is error
    assert info.value.code == code
    assert info.value.status == status
    assert info.value.request_id
    assert actions(emulator).count("ListSpaces") == 1


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("FlowLimitExceeded", 429, VolcengineThrottledError),
        ("AccountFlowLimitExceeded", 429, VolcengineThrottledError),
        ("RequestLimitExceeded", 429, VolcengineThrottledError),
        ("ServiceBusy", 500, VolcengineServiceBusyError),
        ("ServiceUnavailableTemp", 503, VolcengineServiceBusyError),
        ("FailToConnect", 502, VolcengineServiceBusyError),
    ],
)
async def test_retryable_errors(
    session: aiohttp.ClientSession,
    emulator: Emulator,
    code: str,
    status: int,
    error: type[VolcengineApiError],
) -> None:
    emulator.faults.add("ListSpaces", code=code, status=status, times=2)
    assert await make_client(session, emulator).list_spaces()
    assert actions(emulator).count("ListSpaces") == 3

    emulator.requests.clear()
    emulator.faults.add("ListSpaces", code=code, status=status, times=10)
    with pytest.raises(error):
        await make_client(session, emulator, retries=2).list_spaces()
    assert actions(emulator).count("ListSpaces") == 3


async def test_backoff_is_bounded_exponential(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    emulator.faults.add("ListSpaces", code="ServiceBusy", status=500, times=2)
    start = time.monotonic()
    await make_client(session, emulator, backoff=0.05).list_spaces()
    elapsed = time.monotonic() - start
    assert 0.05 + 0.1 <= elapsed < 5


@pytest.mark.parametrize(
    ("body", "status", "content_type", "attempts"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", 502, "text/html", 4),
        (b"", 503, "text/plain", 4),
        (b"<html>oops</html>", 200, "text/html", 1),
        (b"[1, 2]", 200, "application/json", 1),
        (b'{"ResponseMetadata": {}}', 500, "application/json", 1),
    ],
)
async def test_malformed_bodies(
    session: aiohttp.ClientSession,
    emulator: Emulator,
    body: bytes,
    status: int,
    content_type: str,
    attempts: int,
) -> None:
    emulator.faults.add("ListSpaces", body=body, status=status, content_type=content_type, times=10)
    with pytest.raises(VolcengineResponseError) as info:
        await make_client(session, emulator).list_spaces()
    assert info.value.status == status
    assert actions(emulator).count("ListSpaces") == attempts


async def test_timeout(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    emulator.faults.add("ListSpaces", delay=2.0, times=1)
    client = make_client(session, emulator, timeout=0.3)
    assert await client.list_spaces()  # retried after the timeout
    emulator.faults.add("StartVoiceTalk", delay=2.0, times=1)
    with pytest.raises(VolcengineTimeoutError):
        await client.start_voice_talk(SPACE_HOME_ID, HOME_IPC_NSID)  # never retried
    assert actions(emulator).count("StartVoiceTalk") == 1


async def test_connection_refused(session: aiohttp.ClientSession, socket_enabled: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = VolcengineClient(
        session, EMU_AK, EMU_SK, endpoint=f"http://127.0.0.1:{port}", backoff=0.0
    )
    with pytest.raises(VolcengineConnectionError) as info:
        await client.list_spaces()
    assert EMU_SK not in str(info.value)
    assert EMU_SK not in repr(client)


@pytest.mark.parametrize(
    "endpoint",
    [
        "ftp://x",
        "open.volcengineapi.com",
        "https://",
        "https://user:s3cr3t@open.volcengineapi.com",
        "https://user@open.volcengineapi.com",
        "https://open.volcengineapi.com/?Action=ListSpaces",
        "https://open.volcengineapi.com?",
        "https://open.volcengineapi.com/#top",
        "https://open.volcengineapi.com/api",
        "https://open.volcengineapi.com:99999",
        "https://open.volcengineapi.com\r\nX-Injected: 1",
        "https://open volcengineapi.com",
    ],
)
def test_invalid_endpoint(endpoint: str) -> None:
    with pytest.raises(VolcengineInvalidEndpointError, match="Invalid endpoint") as info:
        VolcengineClient(None, EMU_AK, EMU_SK, endpoint=endpoint)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, VolcengineSettingsError)
    assert info.value.setting == "endpoint"
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"access_key_id": "AK\r\nX-Injected: 1"}, "access_key_id"),
        ({"access_key_id": "AK KEY"}, "access_key_id"),
        ({"access_key_id": "AK/2024"}, "access_key_id"),
        ({"access_key_id": "AK,KEY"}, "access_key_id"),
        ({"access_key_id": "AK中"}, "access_key_id"),
        ({"access_key_id": ""}, "access_key_id"),
        ({"secret_access_key": "se\ncret"}, "secret_access_key"),
        ({"secret_access_key": ""}, "secret_access_key"),
        ({"region": "cn-north-1\r\n"}, "region"),
        ({"region": "cn/north"}, "region"),
        ({"region": ""}, "region"),
    ],
)
def test_header_unsafe_settings_are_refused(kwargs: dict[str, str], setting: str) -> None:
    """Refused with a clear ValueError subclass before aiohttp ever sees the value."""
    args = {"access_key_id": EMU_AK, "secret_access_key": EMU_SK, **kwargs}
    region = args.pop("region", "cn-north-1")
    with pytest.raises(VolcengineInvalidCredentialsError) as info:
        VolcengineClient(None, **args, region=region)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert info.value.setting == setting
    assert EMU_SK not in str(info.value)


def test_valid_settings() -> None:
    assert str(
        validate_settings(EMU_AK, EMU_SK, "cn-beijing", "https://Open.Example.com:8443/")
    ) == ("https://open.example.com:8443")
    assert str(validate_settings(EMU_AK, EMU_SK, "cn-north-1", "http://[::1]:8686")) == (
        "http://[::1]:8686"
    )


class _Resolver(aiohttp.abc.AbstractResolver):
    """Resolve every name to the emulator, so a URL can carry an explicit default port."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": self.port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


async def test_default_port_left_out_of_the_signed_host(emulator: Emulator) -> None:
    """``http://host:80`` is signed and sent with ``Host: host``, as the official SDKs do."""
    port = int(emulator.url.rsplit(":", 1)[1])
    connector = aiohttp.TCPConnector(resolver=_Resolver(port))
    async with aiohttp.ClientSession(connector=connector) as session:
        client = VolcengineClient(
            session, EMU_AK, EMU_SK, endpoint="http://gateway.example:80", backoff=0.0
        )
        assert await client.list_spaces()  # the emulator verified the signature
    assert emulator.requests[-1].headers["Host"] == "gateway.example"
    assert "SignedHeaders=host;" in emulator.requests[-1].headers["Authorization"]
