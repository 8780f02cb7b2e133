"""LiveStream against the emulator: start, fresh URLs, refresh, idle stop, errors."""

from __future__ import annotations

import asyncio
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


async def test_valid_url_is_served_to_its_end(
    emulator: Emulator, client: VolcengineClient, session: aiohttp.ClientSession
) -> None:
    """The platform re-signs only expired URLs: one that is still valid is served as it is."""
    clock = Clock()
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, clock=clock)
    first = await live.async_url()
    assert live.expires_at == url_expiry(first, now=0)
    life = live.expires_at - clock.now
    clock.now += life - 20  # 20 s left: more than a player needs to open it
    emulator.clock_offset = life - 20
    assert await live.async_url() == first
    async with session.get(first) as response:
        assert response.status == 200  # the platform still accepts it
    assert not emulator.requests_for("GetStream")
    assert live.starts == 1
    await live.async_close()


async def test_expired_url_is_re_signed(emulator: Emulator, client: VolcengineClient) -> None:
    clock = Clock()
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, clock=clock)
    first = await live.async_url()
    skew = emulator.streams.pull_ttl + 60
    clock.now += skew
    emulator.clock_offset = skew
    second = await live.async_url()
    assert second != first
    assert live.expires_at == url_expiry(second, now=0)
    (get,) = emulator.requests_for("GetStream")
    assert get.query["FreshExpiredPull"] == "1"
    assert (live.starts, live.refreshes) == (1, 1)
    await live.async_close()


async def test_expiring_url_is_waited_out(emulator: Emulator, client: VolcengineClient) -> None:
    """A URL too close to its expiry for a player is re-signed once it has expired."""
    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # time passes for both sides
        slept.append(seconds)
        clock.now += seconds
        emulator.clock_offset += seconds

    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, clock=clock, sleep=sleep)
    first = await live.async_url()
    assert live.expires_at is not None
    left = live.refresh_margin - 2
    skew = live.expires_at - clock.now - left
    clock.now += skew
    emulator.clock_offset = skew
    second = await live.async_url()
    assert second != first
    assert slept == [pytest.approx(left + 1)]
    assert len(emulator.requests_for("GetStream")) == 2  # the same URL, then re-signed
    assert live.starts == 1
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
    emulator.streams.pull_ttl = 2  # shorter than a player needs to open it, even re-signed

    async def sleep(seconds: float) -> None:
        emulator.clock_offset += seconds

    live = LiveStream(
        client,
        SPACE_HOME_ID,
        HOME_IPC_STREAM_ID,
        clock=lambda: time.time() + emulator.clock_offset,
        sleep=sleep,
    )
    with pytest.raises(LiveNoUrlError):
        await live.async_url()
    assert live.url is None
    assert len(emulator.requests_for("GetStream")) == 1  # waited out and re-signed once
    assert live._idle_handle is not None  # started without a usable URL: stopped when idle
    live.last_used -= live.idle_timeout
    assert await live.async_stop_if_idle()
    assert len(emulator.requests_for("StopStream")) == 1
    await live.async_close()


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


async def test_late_start_is_stopped(emulator: Emulator, session: aiohttp.ClientSession) -> None:
    """A StartStream answered after the client's timeout started a stream: it is stopped."""
    client = VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.2)
    emulator.faults.add("StartStream", delay=0.5, completes=True)
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, late_stop_delay=1.0)
    with pytest.raises(LiveStreamError):
        await live.async_url()
    assert live.started  # ours, though unanswered
    async with asyncio.timeout(10):
        while not emulator.requests_for("StopStream"):
            await asyncio.sleep(0.05)
    assert not live.started
    assert not emulator.streams.running(HOME_IPC_STREAM_ID)
    assert len(emulator.requests_for("StartStream")) == 1
    await live.async_close()


async def test_late_start_is_stopped_at_unload(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    client = VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.2)
    emulator.faults.add("StartStream", delay=0.5, completes=True)
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID)
    with pytest.raises(LiveStreamError):
        await live.async_url()
    async with asyncio.timeout(10):
        while not emulator.streams.running(HOME_IPC_STREAM_ID):
            await asyncio.sleep(0.05)
    await live.async_close()
    assert len(emulator.requests_for("StopStream")) == 1
    assert not emulator.streams.running(HOME_IPC_STREAM_ID)


async def test_late_start_is_taken_by_the_next_viewer(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    client = VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, timeout=0.2)
    emulator.faults.add("StartStream", delay=0.5, completes=True)
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, late_stop_delay=1.0)
    with pytest.raises(LiveStreamError):
        await live.async_url()
    async with asyncio.timeout(10):
        while not emulator.streams.running(HOME_IPC_STREAM_ID):
            await asyncio.sleep(0.05)
    url = await live.async_url()  # GetStream finds it running: no second StartStream
    assert url in emulator.streams.urls(HOME_IPC_STREAM_ID)
    assert not live.unconfirmed
    assert not await live.async_stop_if_idle()  # asked for just now
    assert len(emulator.requests_for("StartStream")) == 1
    await live.async_close()
    assert len(emulator.requests_for("StopStream")) == 1


async def test_stop_is_bounded(emulator: Emulator, client: VolcengineClient) -> None:
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID)
    await live.async_url()
    emulator.faults.add("StopStream", delay=60)
    stop_timeout = "custom_components.volcengine_aiot.live.stream.STOP_TIMEOUT"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stop_timeout, 0.2)
        await live.async_close()  # gives up (the test would hang otherwise)
    assert not live.started


async def test_viewers(emulator: Emulator, client: VolcengineClient) -> None:
    """Viewers per path: a session by its key, a grab for its duration, a player by busy()."""
    clock = Clock()
    player = False
    live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID, clock=clock, busy=lambda: player)
    await live.async_url()
    clock.now += live.idle_timeout
    live.open_viewer("session-1")
    assert not live.close_viewer("session-2")  # never opened (an offer that failed first)
    assert live.viewers == 1
    assert not await live.async_stop_if_idle()
    assert live.close_viewer("session-1")
    assert not live.close_viewer("session-1")
    with live.viewing():  # a snapshot grab
        assert live.in_use()
        assert not await live.async_stop_if_idle()
    player = True
    assert not await live.async_stop_if_idle()
    player = False
    assert live.viewers == 0
    assert await live.async_stop_if_idle()
    await live.async_close()
