"""A short-lived cache of still images: one grab serves every request of a few seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
import shlex
import time
from typing import Final

DEFAULT_SNAPSHOT_TTL: Final = 5.0  # seconds an image is served from the cache
# A live stream has no index to probe: decode the first frame after 1 s of probing, not 5 s.
SNAPSHOT_INPUT_OPTIONS: Final = "-analyzeduration 1000000 -probesize 65536"


def snapshot_input(url: str) -> str:
    """Return the ffmpeg input (options and ``-i`` URL) that reads one frame of a live URL."""
    return f"{SNAPSHOT_INPUT_OPTIONS} -i {shlex.quote(url)}"


def scale_filter(width: int | None, height: int | None) -> str | None:
    """Return the ffmpeg option that scales a snapshot to the requested size (aspect kept)."""
    if not width and not height:
        return None
    return f"-vf scale={width or -2}:{height or -2}"


class SnapshotCache:
    """Cache images per key (e.g. the requested size) and share grabs in progress.

    Concurrent requests for the same key wait for the same grab; a grab that fails (``None``
    or an exception) is not cached, so the next request tries again.
    """

    def __init__(
        self, ttl: float = DEFAULT_SNAPSHOT_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Initialize."""
        self.ttl = ttl
        self._clock = clock
        self._images: dict[Hashable, tuple[float, bytes]] = {}
        self._grabs: dict[Hashable, asyncio.Future[bytes | None]] = {}
        self.hits = 0
        self.grabs = 0

    async def get(self, key: Hashable, grab: Callable[[], Awaitable[bytes | None]]) -> bytes | None:
        """Return a cached image of ``key`` or the result of one shared ``grab()``."""
        cached = self._images.get(key)
        if cached is not None and self._clock() - cached[0] < self.ttl:
            self.hits += 1
            return cached[1]
        future = self._grabs.get(key)
        if future is None:
            future = asyncio.ensure_future(self._grab(key, grab))
            self._grabs[key] = future
        else:
            self.hits += 1
        return await asyncio.shield(future)

    async def _grab(
        self, key: Hashable, grab: Callable[[], Awaitable[bytes | None]]
    ) -> bytes | None:
        self.grabs += 1
        try:
            image = await grab()
        finally:
            self._grabs.pop(key, None)
        if image:
            self._images[key] = (self._clock(), image)
        return image

    def clear(self) -> None:
        """Forget the cached images."""
        self._images.clear()

    async def async_close(self) -> None:
        """Cancel grabs in progress and forget the cache (unload)."""
        grabs = list(self._grabs.values())
        for future in grabs:
            future.cancel()
        if grabs:
            await asyncio.gather(*grabs, return_exceptions=True)
        self._images.clear()
