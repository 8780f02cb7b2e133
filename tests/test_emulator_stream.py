"""Emulator live streams: signed, expiring pull URLs served by ffmpeg; StopStream ends them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.audio import ffmpeg_children
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_OFFLINE_STREAM_ID,
    HOME_IPC_STREAM_ID,
    HOME_NVR_STREAM_IDS,
    SPACE_HOME_ID,
)
from tests.emulator.stream import ffmpeg_command, video_encoder
from tests.images import flv_codecs
from tests.test_emulator import call, error_of

PARAMS = {"SpaceID": SPACE_HOME_ID, "StreamID": HOME_IPC_STREAM_ID}


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def start(session: aiohttp.ClientSession, emulator: Emulator, **params: str) -> list[str]:
    status, data = await call(
        session,
        emulator,
        "StartStream",
        {**PARAMS, **params},
        method="POST",
        body={"StreamingIndex": 0},
    )
    assert status == 200, data
    urls: list[str] = data["Result"]["PullUrls"]
    return urls


def flv_url(urls: list[str]) -> str:
    return next(url for url in urls if ".flv?" in url)


async def test_pull_urls_are_signed_and_served(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    urls = await start(session, emulator)
    assert [url.split(":", 1)[0] for url in urls] == ["rtmp", "http", "http", "http"]
    assert all("volcTime=" in url and "volcSecret=" in url for url in urls)
    async with session.get(flv_url(urls)) as response:
        assert response.status == 200
        assert response.content_type == "video/x-flv"
        data = b""
        while len(data) < 3 or None in flv_codecs(data):
            data += await response.content.readany()
        assert emulator.streams.active_pulls(HOME_IPC_STREAM_ID) == 1
    expected_video = 7 if video_encoder() == "libx264" else 9
    assert flv_codecs(data) == (expected_video, 7)
    assert emulator.streams.pull_count == 1


async def test_refused_pulls(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    url = flv_url(await start(session, emulator))
    base = url.partition("?")[0]
    for bad in (base, f"{base}?volcTime=x", url.replace("volcSecret=", "volcSecret=0")):
        async with session.get(bad) as response:
            assert response.status == 403
    other = url.replace(HOME_IPC_STREAM_ID, HOME_NVR_STREAM_IDS[0])  # signature of another path
    async with session.get(other) as response:
        assert response.status == 403
    emulator.clock_offset = emulator.streams.pull_ttl + 1  # the URL has expired
    async with session.get(url) as response:
        assert response.status == 403
        assert await response.text() == "signature expired"
    emulator.clock_offset = 0
    status, _ = await call(session, emulator, "StopStream", PARAMS, method="POST", body={})
    assert status == 200
    async with session.get(url) as response:
        assert response.status == 404  # signed, but the stream is not running
    assert emulator.streams.rejected == [403, 403, 403, 403, 403, 404]
    assert emulator.streams.pull_count == 0


async def test_get_stream(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    status, data = await call(session, emulator, "GetStream", PARAMS)
    assert (status, data["Result"]["Status"], data["Result"]["PullUrls"]) == (200, "init", [])
    urls = await start(session, emulator)
    _, data = await call(session, emulator, "GetStream", PARAMS)
    assert (data["Result"]["Status"], data["Result"]["PullUrls"]) == ("online", urls)
    fresh = {**PARAMS, "FreshExpiredPull": "1"}
    emulator.clock_offset = 60
    _, data = await call(session, emulator, "GetStream", fresh)
    assert data["Result"]["PullUrls"] == urls  # still valid: FreshExpiredPull keeps them
    emulator.clock_offset = emulator.streams.pull_ttl + 1
    _, data = await call(session, emulator, "GetStream", PARAMS)
    assert data["Result"]["PullUrls"] == urls  # expired, and not re-signed unless asked
    _, data = await call(session, emulator, "GetStream", fresh)
    resigned = data["Result"]["PullUrls"]
    assert all(new != old for new, old in zip(resigned, urls, strict=True))  # expired: re-signed
    assert await start(session, emulator) == resigned  # StartStream of a running stream too
    offline = {"SpaceID": SPACE_HOME_ID, "StreamID": HOME_IPC_OFFLINE_STREAM_ID}
    _, data = await call(session, emulator, "GetStream", offline)
    assert data["Result"]["Status"] == "offline"
    status, data = await call(session, emulator, "StartStream", offline, method="POST", body={})
    assert (status, error_of(data)["Code"]) == (400, "InvalidParameter.DeviceNotOnline")


async def test_stop_stream_ends_pulls(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    url = flv_url(await start(session, emulator, EnableAudioTranscode="1"))
    async with session.get(url) as response:
        data = b""
        while len(data) < 3 or None in flv_codecs(data):
            data += await response.content.readany()
        assert flv_codecs(data)[1] == 10  # AAC
        status, _ = await call(session, emulator, "StopStream", PARAMS, method="POST", body={})
        assert status == 200
        assert emulator.streams.active_pulls() == 0
        async with asyncio.timeout(10):
            while await response.content.readany():
                pass  # the stream ends
    assert ffmpeg_children() == []


async def test_emulator_stop_ends_pulls(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        url = flv_url(await start(session, emulator))
        async with session.get(url) as response:
            assert await response.content.readexactly(3) == b"FLV"
            await emulator.stop()
    assert emulator.streams.active_pulls() == 0
    assert ffmpeg_children() == []


def test_ffmpeg_command() -> None:
    command = ffmpeg_command("ffmpeg", transcode=False)
    assert "testsrc=size=640x360:rate=10" in command
    assert command[command.index("-c:a") + 1] == "pcm_alaw"
    transcoded = ffmpeg_command("ffmpeg", transcode=True)
    assert transcoded[transcoded.index("-c:a") + 1] == "aac"
    assert video_encoder("/nonexistent/ffmpeg") == "mpeg4"


async def test_hls(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    urls = await start(session, emulator)
    playlist_url = next(url for url in urls if ".m3u8?" in url)
    async with session.get(playlist_url.replace("volcSecret=", "volcSecret=0")) as response:
        assert response.status == 403
    async with session.get(playlist_url) as response:
        assert response.status == 200
        assert response.content_type == "application/vnd.apple.mpegurl"
        playlist = await response.text()
    assert playlist.startswith("#EXTM3U")
    segment = next(line for line in playlist.splitlines() if line.endswith(".ts"))
    assert segment.startswith(f"hls/{HOME_IPC_STREAM_ID}/")
    base = playlist_url.rpartition("/")[0]
    async with session.get(f"{base}/{segment}") as response:
        assert response.status == 200
        assert (await response.read())[:1] == b"\x47"  # MPEG-TS sync byte
    async with session.get(f"{base}/hls/{HOME_IPC_STREAM_ID}/nothing.ts") as response:
        assert response.status == 404
    folder = emulator.streams.streams[HOME_IPC_STREAM_ID].hls_folder
    assert folder is not None
    assert folder.is_dir()
    assert emulator.streams.active_pulls() == 0  # the HLS writer is not a pull
    await call(session, emulator, "StopStream", PARAMS, method="POST", body={})
    assert not folder.exists()
    async with session.get(f"{base}/{segment}") as response:
        assert response.status == 404
    assert ffmpeg_children() == []
