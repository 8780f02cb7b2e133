"""SnapshotCache: one grab per key and TTL, shared by concurrent requests."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.volcengine_aiot.live import SnapshotCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_requests_share_one_grab() -> None:
    release = asyncio.Event()
    calls = 0

    async def grab() -> bytes:
        nonlocal calls
        calls += 1
        await release.wait()
        return b"jpeg"

    cache = SnapshotCache()
    waiting = [asyncio.create_task(cache.get((None, None), grab)) for _ in range(10)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [b"jpeg"] * 10
    assert calls == 1
    assert (cache.grabs, cache.hits) == (1, 9)


async def test_ttl_and_keys() -> None:
    clock = Clock()
    images = iter([b"a", b"b", b"c"])

    async def grab() -> bytes:
        return next(images)

    cache = SnapshotCache(ttl=5, clock=clock)
    assert await cache.get(1, grab) == b"a"
    clock.now = 4.9
    assert await cache.get(1, grab) == b"a"
    assert await cache.get(2, grab) == b"b"  # another size: its own grab
    clock.now = 5.0
    assert await cache.get(1, grab) == b"c"
    cache.clear()


async def test_failures_are_not_cached() -> None:
    results: list[bytes | None] = [None, b"ok"]

    async def grab() -> bytes | None:
        return results.pop(0)

    async def failing() -> bytes:
        raise RuntimeError("boom")

    cache = SnapshotCache()
    with pytest.raises(RuntimeError):
        await cache.get(1, failing)
    assert await cache.get(1, grab) is None
    assert await cache.get(1, grab) == b"ok"


async def test_close_cancels_grabs() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def grab() -> bytes:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return b""  # pragma: no cover

    cache = SnapshotCache()
    waiter = asyncio.create_task(cache.get(1, grab))
    await started.wait()
    await cache.async_close()
    assert cancelled.is_set()
    with pytest.raises(asyncio.CancelledError):
        await waiter
