"""Transcoded audio kept in memory, so a sound that repeats starts without ffmpeg.

Announcements, chimes and dashboard buttons play the same few sounds again and again. The
A-law of a source that has a ``cache_key`` (a local file's path + size + mtime, a TTS result,
the bundled chime, Home Assistant's pre-announce sound) is kept, per gain, in a small LRU cache
bounded in bytes; the next play of the same sound reads it from memory: no ffmpeg, no decoding.
Only complete transcodes are kept: one that was interrupted, failed, or was fed from a failing
stream is dropped. A plain URL never has a ``cache_key`` (its content may change).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
import logging
import os
from typing import Any, Final

from .flv import FRAME_BYTES, SAMPLE_RATE
from .pool import TranscoderPool
from .source import AudioSource, FrameSource

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BYTES: Final = 8 * 1024 * 1024  # about 17 minutes of 8 kHz A-law in all
ENTRY_FRACTION: Final = 4  # one sound may take at most a quarter of the cache

type CacheKey = tuple[str, float]


async def file_cache_key(path: str) -> str | None:
    """Return the identity of a local file's content (path, size, mtime), None if unreadable."""
    try:
        stat = await asyncio.get_running_loop().run_in_executor(None, os.stat, path)
    except OSError:
        return None
    return f"file:{path}:{stat.st_size}:{stat.st_mtime_ns}"


class AlawCache:
    """A least-recently-used map of sound → A-law bytes, bounded by its total size."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Initialize an empty cache."""
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // ENTRY_FRACTION
        self._entries: OrderedDict[CacheKey, bytes] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        """Return the number of sounds kept."""
        return len(self._entries)

    def get(self, key: CacheKey) -> bytes | None:
        """Return a sound's A-law (and mark it recently used), None if not kept."""
        data = self._entries.get(key)
        if data is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return data

    def put(self, key: CacheKey, data: bytes) -> None:
        """Keep a sound, dropping the least recently used ones beyond the size limit."""
        if not data or len(data) > self.max_entry_bytes:
            return
        if (old := self._entries.pop(key, None)) is not None:
            self.size -= len(old)
        self._entries[key] = data
        self.size += len(data)
        while self.size > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self.size -= len(dropped)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self.size = 0

    def stats(self) -> dict[str, Any]:
        """Return counters for diagnostics (no keys: they may name files)."""
        return {
            "entries": len(self._entries),
            "bytes": self.size,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
        }


def cache_key_of(source: AudioSource) -> CacheKey | None:
    """Return the key of a source's A-law: its content identity and its gain."""
    if source.cache_key is None:
        return None
    return (source.cache_key, round(source.gain, 4))


class CachedFrames:
    """Frames of a cached sound, all ready at once."""

    def __init__(self, data: bytes) -> None:
        """Initialize with the A-law of the whole sound."""
        self._data = data
        self._offset = 0
        self.done = False

    @property
    def duration(self) -> float:
        """Return how long the sound plays (8 kHz A-law: 8000 bytes a second)."""
        return len(self._data) / SAMPLE_RATE

    async def start(self) -> None:
        """Nothing to start."""

    def next_frame(self) -> bytes | None:
        """Return the next frame, None at the end."""
        if self._offset >= len(self._data):
            self.done = True
            return None
        frame = self._data[self._offset : self._offset + FRAME_BYTES]
        self._offset += FRAME_BYTES
        return frame

    async def aclose(self) -> None:
        """Nothing to release."""
        self.done = True


class _Recorder:
    """Passes the frames of a transcode through and keeps them once it ended well."""

    def __init__(self, inner: FrameSource, cache: AlawCache, key: CacheKey) -> None:
        self._inner = inner
        self._cache = cache
        self._key = key
        self._frames: list[bytes] | None = []
        self._size = 0
        self.done = False

    @property
    def duration(self) -> float | None:
        return self._inner.duration

    async def start(self) -> None:
        await self._inner.start()

    def next_frame(self) -> bytes | None:
        try:
            frame = self._inner.next_frame()
        except Exception:
            self._frames = None  # a failed transcode is never kept
            raise
        if frame is not None:
            if self._frames is not None:
                self._frames.append(frame)
                self._size += len(frame)
                if self._size > self._cache.max_entry_bytes:
                    self._frames = None  # too long to keep
            return frame
        if self._inner.done:
            self.done = True
            frames, self._frames = self._frames, None
            if frames:  # a failure mid-way was raised above (TalkMediaInterruptedError)
                self._cache.put(self._key, b"".join(frames))
                _LOGGER.debug("Kept %d frames of transcoded audio", len(frames))
        return None

    async def aclose(self) -> None:
        self._frames = None  # closed before the end: interrupted, not kept
        self.done = True
        await self._inner.aclose()


class CachingTranscoderPool(TranscoderPool):
    """A transcoder pool that serves repeated sounds from an ``AlawCache``."""

    def __init__(self, *args: Any, cache: AlawCache | None = None, **kwargs: Any) -> None:
        """Initialize like ``TranscoderPool``, with the cache to use."""
        super().__init__(*args, **kwargs)
        self.cache = cache if cache is not None else AlawCache()

    def open(self, source: AudioSource) -> FrameSource:
        """Return the cached frames of a source, or a transcode that fills the cache."""
        key = cache_key_of(source)
        if key is None:
            return super().open(source)
        if (data := self.cache.get(key)) is not None:
            _LOGGER.debug("%s: transcoded audio from the cache", source.label)
            return CachedFrames(data)
        return _Recorder(super().open(source), self.cache, key)
