"""LiveStream against the emulator: start, fresh URLs, refresh, idle stop, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import time

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.live import (
    PROTOCOL_FLV,
    PROTOCOL_HLS,
    PROTOCOL_RTMP,
    LiveDeviceOfflineError,
    LiveNoUrlError,
    LiveStream,
    LiveStreamError,
    LiveStreamNotFoundError,
    LiveThrottledError,
    pick_url,
    url_expiry,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_OFFLINE_STREAM_ID,
    HOME_IPC_STREAM_ID,
    SPACE_HOME_ID,
)
from tests.images import flv_codecs

URLS = (
    "rtmp://cdn.example/live/s1?volcTime=100&volcSecret=x",
    "http://cdn.example/live/s1.flv?volcTime=100&volcSecret=x",
    "https://cdn.example/live/s1.flv?volcTime=100&volcSecret=x",
    "http://cdn.example/live/s1.m3u8?volcTime=100&volcSecret=x",
    "http://cdn.example/live/s1.sdp",
)


async def read_codecs(response: aiohttp.ClientResponse) -> tuple[int | None, int | None]:
    """Read an FLV response until its first video and audio tags are in."""
    data = b""
    codecs: tuple[int | None, int | None] = (None, None)
    while None in codecs and len(data) < 1 << 20:
        data += await response.content.readany()
        codecs = flv_codecs(data)
    return codecs


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(session: aiohttp.ClientSession, emulator: Emulator) -> VolcengineClient:
    return VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0)


def test_url_expiry() -> None:
    assert url_expiry(URLS[0], now=5.0) == 100.0
    assert url_expiry("http://h/a.flv", now=5.0, default_ttl=60) == 65.0
    assert url_expiry("http://h/a.flv?volcTime=soon", now=5.0, default_ttl=60) == 65.0


def test_pick_url() -> None:
    assert pick_url(URLS, PROTOCOL_FLV) == URLS[2]  # https first
    assert pick_url(URLS, PROTOCOL_RTMP) == URLS[0]
    assert pick_url(URLS, PROTOCOL_HLS) == URLS[3]
    assert pick_url(URLS[4:], PROTOCOL_FLV) is None


def test_unknown_protocol(client: VolcengineClient) -> None:
    with pytest.raises(ValueError, match="protocol"):
        LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, protocol="webrtc")


async def test_start_then_reuse(
    emulator: Emulator, client: VolcengineClient, session: aiohttp.ClientSession
) -> None:
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID)
    url = await live.async_url()
    assert await live.async_url() == url
    assert live.starts == 1
    assert len(emulator.requests_for("StartStream")) == 1
    query = emulator.requests_for("StartStream")[0].query
    assert query["FreshExpiredPull"] == "1"
    assert query["EnableAudioTranscode"] == "0"
    assert "volcSecret" not in repr(live)
    async with session.get(url) as response:
        assert response.status == 200
        codecs = await read_codecs(response)
    assert codecs == (7, 7)  # H.264, G.711 A-law
    await live.async_close()
    assert not live.started
    assert len(emulator.requests_for("StopStream")) == 1
    assert not emulator.streams.running(HOME_IPC_STREAM_ID)


async def test_transcoded_audio(
    emulator: Emulator, client: VolcengineClient, session: aiohttp.ClientSession
) -> None:
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, transcode_audio=True)
    url = await live.async_url()
    assert emulator.requests_for("StartStream")[0].query["EnableAudioTranscode"] == "1"
    async with session.get(url) as response:
        codecs = await read_codecs(response)
    assert codecs == (7, 10)  # H.264, AAC
    await live.async_close()


async def test_refresh_before_expiry(emulator: Emulator, client: VolcengineClient) -> None:
    clock = Clock()
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, clock=clock)
    first = await live.async_url()
    assert live.expires_at == url_expiry(first, now=0)
    clock.now = live.expires_at - live.refresh_margin  # about to expire: refresh it
    emulator.clock_offset = 60  # the platform signs the new URL a minute later
    second = await live.async_url()
    assert second != first
    assert live.expires_at > url_expiry(first, now=0)
    (get,) = emulator.requests_for("GetStream")
    assert get.query["FreshExpiredPull"] == "1"
    assert live.starts == 1
    assert live.refreshes == 1
    await live.async_close()


async def test_restart_when_stopped_elsewhere(emulator: Emulator, client: VolcengineClient) -> None:
    clock = Clock()
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, clock=clock)
    await live.async_url()
    await emulator.streams.stop(HOME_IPC_STREAM_ID)  # e.g. stopped in the console
    clock.now += 400  # the first URL has expired
    emulator.clock_offset = 400
    await live.async_url()
    assert live.starts == 2
    assert [r.action for r in emulator.requests if r.action != "ListDevices"] == [
        "StartStream",
        "GetStream",
        "StartStream",
    ]
    await live.async_close()


async def test_never_hands_out_an_expiring_url(
    emulator: Emulator, client: VolcengineClient
) -> None:
    emulator.streams.pull_ttl = 10  # shorter than the refresh margin
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID)
    with pytest.raises(LiveNoUrlError):
        await live.async_url()
    assert live.url is None
    await live.async_close()
    assert len(emulator.requests_for("StopStream")) == 1


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("InvalidParameter.StreamNotExist", 404, LiveStreamNotFoundError),
        ("InvalidParameter.StreamNotFound", 400, LiveStreamNotFoundError),
        ("InvalidParameter.DeviceNotOnline", 400, LiveDeviceOfflineError),
        ("FlowLimitExceeded", 429, LiveThrottledError),
        ("InternalError", 500, LiveStreamError),
    ],
)
async def test_start_errors(
    emulator: Emulator,
    client: VolcengineClient,
    code: str,
    status: int,
    error: type[LiveStreamError],
) -> None:
    emulator.faults.add("StartStream", code=code, status=status, times=0)
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID)
    with pytest.raises(error) as info:
        await live.async_url()
    assert type(info.value) is error
    assert info.value.placeholders["stream"] == HOME_IPC_STREAM_ID
    assert not live.started


async def test_offline_device(emulator: Emulator, client: VolcengineClient) -> None:
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_OFFLINE_STREAM_ID)
    with pytest.raises(LiveDeviceOfflineError):
        await live.async_url()


async def test_idle_stop(emulator: Emulator, client: VolcengineClient) -> None:
    clock = Clock()
    in_use = True
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, clock=clock, busy=lambda: in_use)
    assert not await live.async_stop_if_idle()  # never started
    await live.async_url()
    clock.now += live.idle_timeout
    assert not await live.async_stop_if_idle()  # a player still reads it
    in_use = False
    clock.now -= 1
    assert not await live.async_stop_if_idle()  # asked for less than idle_timeout ago
    clock.now += 1
    assert await live.async_stop_if_idle()
    assert len(emulator.requests_for("StopStream")) == 1
    assert not emulator.streams.running(HOME_IPC_STREAM_ID)
    await live.async_close()
    assert len(emulator.requests_for("StopStream")) == 1


async def test_idle_timer_stops_the_stream(emulator: Emulator, client: VolcengineClient) -> None:
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, idle_timeout=0.01)
    await live.async_url()
    async with asyncio.timeout(10):
        while live.started or emulator.streams.running(HOME_IPC_STREAM_ID):
            await asyncio.sleep(0.01)
    await live.async_close()
    assert len(emulator.requests_for("StopStream")) == 1


async def test_stop_failure_is_not_raised(emulator: Emulator, client: VolcengineClient) -> None:
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID)
    await live.async_url()
    emulator.faults.add("StopStream", code="InternalError", status=500)
    await live.async_close()
    assert not live.started
