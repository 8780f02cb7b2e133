"""SnapshotCache and the frame grab: one picture per camera, scaled copies, bounded memory."""

from __future__ import annotations

import asyncio
from importlib import metadata
import io
import logging

import aiohttp
from PIL import Image
import pytest

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.live import (
    LiveFfmpegError,
    LiveStream,
    LiveStreamError,
    Picture,
    SnapshotCache,
    fit_size,
    read_frame,
)
from custom_components.volcengine_aiot.live.snapshot import jpeg_size as parse_size
from tests.audio import ffmpeg_children
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, HOME_IPC_STREAM_ID, SPACE_HOME_ID
from tests.images import jpeg_size

SOURCE = (640, 360)


def make_picture(size: tuple[int, int] = SOURCE) -> Picture:
    """A real JPEG of ``size`` (a colour gradient, so it compresses like a picture)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return Picture(out.getvalue(), size)


PICTURE = make_picture()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Grabs:
    """A grab that counts its calls and can be held until released."""

    def __init__(self, *pictures: Picture) -> None:
        self.pictures = list(pictures) or [PICTURE]
        self.calls = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> Picture:
        self.calls += 1
        await self.release.wait()
        return self.pictures[min(self.calls, len(self.pictures)) - 1]


def test_fit_size_never_above_the_picture() -> None:
    assert fit_size(SOURCE, None, None) == SOURCE
    assert fit_size(SOURCE, 320, None) == (320, 180)
    assert fit_size(SOURCE, None, 90) == (160, 90)
    assert fit_size(SOURCE, 160, 90) == (160, 90)
    assert fit_size(SOURCE, 1280, None) == SOURCE
    assert fit_size(SOURCE, 1280, 720) == SOURCE
    assert fit_size(SOURCE, 4000, 10) == SOURCE  # covers the box: as wide as it can
    assert fit_size(SOURCE, 320, 320) == (569, 320)  # at least the box, aspect kept
    assert fit_size(SOURCE, 0, -5) == SOURCE
    assert fit_size(SOURCE, 1, None) == (1, 1)


def test_jpeg_size() -> None:
    assert parse_size(PICTURE.data) == SOURCE
    assert parse_size(b"") is None
    assert parse_size(b"not a jpeg") is None
    assert parse_size(b"\xff\xd8\xff\xe0\x00\x02") is None  # no start of frame


async def test_requests_of_any_size_share_one_grab() -> None:
    grab = Grabs()
    grab.release.clear()
    cache = SnapshotCache()
    widths = (None, 1280, 640, 480, 320, 240, 160, 100)
    waiting = [asyncio.create_task(cache.get(grab, width)) for width in widths]
    await asyncio.sleep(0)
    grab.release.set()
    images = await asyncio.gather(*waiting)
    assert grab.calls == 1
    assert images[0] is PICTURE.data
    assert images[1] is PICTURE.data  # never above the picture: the picture itself
    assert [jpeg_size(image) for image in images[2:]] == [
        (640, 360),
        (480, 270),
        (320, 180),
        (240, 135),
        (160, 90),
        (100, 56),
    ]
    assert cache.grabs == 1
    assert cache.scales == 5  # 640 is the picture itself
    again = await cache.get(grab, 320)  # a scaled copy is kept with the picture
    assert again == images[4]
    assert cache.scales == 5
    await cache.async_close()


async def test_same_size_shares_one_scaling() -> None:
    cache = SnapshotCache()
    images = await asyncio.gather(*(cache.get(Grabs(), 320, 180) for _ in range(10)))
    assert len(set(images)) == 1
    assert cache.scales == 1
    await cache.async_close()


async def test_ttl() -> None:
    clock = Clock()
    first, second = make_picture(), make_picture()
    grab = Grabs(first, second)
    cache = SnapshotCache(ttl=5, clock=clock)
    assert await cache.get(grab) is first.data
    small = await cache.get(grab, 320)
    clock.now = 4.9
    assert await cache.get(grab) is first.data
    assert await cache.get(grab, 320) is small
    clock.now = 5.0
    assert await cache.get(grab) is second.data
    assert await cache.get(grab, 320) is not small  # copies go with their picture
    assert grab.calls == 2
    await cache.async_close()


async def test_memory_is_bounded() -> None:
    """300 sizes keep one picture and at most ``max_scaled`` copies, all dropped after the TTL."""
    cache = SnapshotCache(ttl=60)
    grab = Grabs()
    for width in range(100, 400):
        await cache.get(grab, width)
    assert grab.calls == 1
    assert cache.scales == 300
    assert cache.copies == cache.max_scaled
    largest = max([len(await cache.get(grab, w)) for w in range(392, 400)])  # the 8 kept
    assert len(PICTURE.data) < cache.memory <= len(PICTURE.data) + cache.max_scaled * largest
    assert grab.calls == 1
    assert cache.scales == 300
    cache.clear()
    assert cache.memory == 0
    await cache.async_close()


async def test_expired_images_are_dropped() -> None:
    """Nothing is kept once the TTL has passed, even if no request comes."""
    cache = SnapshotCache(ttl=0.01)
    grab = Grabs()
    await cache.get(grab, 320)
    await asyncio.sleep(0.05)  # the loop runs the expiry timer scheduled 0.01 s after the grab
    assert cache.memory == 0
    assert grab.calls == 1


async def test_undecodable_picture_is_served_as_is() -> None:
    """A picture Pillow cannot decode is served unscaled (it is the camera's size at most)."""
    broken = Picture(b"\xff\xd8\xff\xc0\x00\x11\x08\x01\x68\x02\x80" + bytes(20), SOURCE)
    cache = SnapshotCache()
    assert await cache.get(Grabs(broken), 320) is broken.data
    assert cache.copies == 0
    await cache.async_close()


async def test_failures_are_not_cached() -> None:
    calls = 0

    async def failing() -> Picture:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    cache = SnapshotCache()
    with pytest.raises(RuntimeError):
        await cache.get(failing)
    with pytest.raises(RuntimeError):
        await cache.get(failing, 320)
    assert calls == 2
    assert await cache.get(Grabs()) is PICTURE.data
    await cache.async_close()


async def test_close_cancels_grabs() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def grab() -> Picture:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return PICTURE  # pragma: no cover

    cache = SnapshotCache()
    waiter = asyncio.create_task(cache.get(grab))
    await started.wait()
    await cache.async_close()
    assert cancelled.is_set()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_missing_ffmpeg() -> None:
    with pytest.raises(LiveFfmpegError) as info:
        await read_frame("/nonexistent/ffmpeg", "http://127.0.0.1:9/x.flv", within=5)
    assert info.value.translation_key == "ffmpeg_failed"
    assert "/nonexistent/ffmpeg" in info.value.placeholders["error"]


async def test_unreadable_url_logs_no_secret(
    socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "custom_components.volcengine_aiot.live")
    url = "http://127.0.0.1:9/live/x.flv?volcTime=1&volcSecret=topsecret"
    assert await read_frame("ffmpeg", url, within=10) is None
    assert "No frame" in caplog.text
    assert "topsecret" not in caplog.text
    assert ffmpeg_children() == []


def test_pillow_comes_with_home_assistant() -> None:
    """Scaled copies are made with Pillow, which Home Assistant core itself requires."""
    required = metadata.requires("homeassistant") or []
    assert any(r.lower().startswith("pillow") for r in required)


async def test_restart_after_an_unreadable_url(emulator: Emulator) -> None:
    """The platform ended the stream while its URL is still signed: StartStream again."""
    async with aiohttp.ClientSession() as session:
        client = VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0)
        live = LiveStream(client, SPACE_HOME_ID, HOME_IPC_STREAM_ID)
        url = await live.async_url()
        await emulator.streams.stop(HOME_IPC_STREAM_ID)
        assert await live.async_url() == url  # still signed: nothing tells it is gone
        emulator.clock_offset = 5  # a later signature
        fresh = await live.async_restart(url)
        assert fresh != url
        assert live.url == fresh
        assert emulator.streams.running(HOME_IPC_STREAM_ID)
        assert len(emulator.requests_for("StartStream")) == 2
        assert await live.async_restart(url) == fresh  # restarted already: the new URL
        assert len(emulator.requests_for("StartStream")) == 2
        emulator.faults.add("StartStream", code="InternalError", status=500, times=0)
        with pytest.raises(LiveStreamError):
            await live.async_restart(fresh)
        await live.async_close()
        assert not emulator.streams.running(HOME_IPC_STREAM_ID)


async def test_a_silent_server_is_given_up(socket_enabled: None) -> None:
    """A pull URL that never answers: the read is bounded and its ffmpeg does not outlive it."""
    connected = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await reader.read()  # until ffmpeg is gone
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        url = f"http://127.0.0.1:{port}/live/x.flv"
        assert await read_frame("ffmpeg", url, within=1.0) is None
        assert connected.is_set()
        assert ffmpeg_children() == []
