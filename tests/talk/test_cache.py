"""The A-law cache: a repeated sound starts without ffmpeg; only complete transcodes are kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import os
from pathlib import Path

import pytest

from custom_components.volcengine_aiot.talk import AudioSource, TalkError, TalkMediaError
from custom_components.volcengine_aiot.talk.cache import (
    AlawCache,
    CachedFrames,
    CachingTranscoderPool,
    file_cache_key,
)
from custom_components.volcengine_aiot.talk.flv import FRAME_BYTES
from tests.audio import FFMPEG, alaw_decode, dominant_frequency, make_tone, voiced
from tests.talk.test_pool import read_all

pytestmark = pytest.mark.usefixtures("no_leftover_ffmpeg")


@pytest.fixture
def tone(tmp_path: Path) -> str:
    return str(make_tone(tmp_path / "tone.mp3", 700, 1.0))


async def file_source(path: str, gain: float = 1.0) -> AudioSource:
    return AudioSource(location=path, gain=gain, label="tone", cache_key=await file_cache_key(path))


async def test_repeat_is_served_from_memory(tone: str, spawned: list[str]) -> None:
    pool = CachingTranscoderPool(FFMPEG)
    first = await read_all(pool.open(await file_source(tone)))
    second = await read_all(pool.open(await file_source(tone)))
    assert spawned == ["tone"]
    assert second == first
    assert abs(dominant_frequency(voiced(alaw_decode(second))) - 700) < 10
    assert pool.cache.stats() == {
        "entries": 1,
        "bytes": len(first),
        "max_bytes": pool.cache.max_bytes,
        "hits": 1,
        "misses": 1,
    }


async def test_gain_is_part_of_the_key(tone: str, spawned: list[str]) -> None:
    pool = CachingTranscoderPool(FFMPEG)
    loud = await read_all(pool.open(await file_source(tone)))
    quiet = await read_all(pool.open(await file_source(tone, gain=0.5)))
    assert spawned == ["tone", "tone"]
    assert loud != quiet
    assert await read_all(pool.open(await file_source(tone, gain=0.5))) == quiet
    assert len(spawned) == 2


async def test_changed_file_is_transcoded_again(tone: str, spawned: list[str]) -> None:
    pool = CachingTranscoderPool(FFMPEG)
    await read_all(pool.open(await file_source(tone)))
    rewrite_with_a_newer_mtime(tone)
    audio = await read_all(pool.open(await file_source(tone)))
    assert spawned == ["tone", "tone"]
    assert abs(dominant_frequency(voiced(alaw_decode(audio))) - 500) < 10


def rewrite_with_a_newer_mtime(path: str) -> None:
    make_tone(Path(path), 500, 0.5)
    stat = Path(path).stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


async def test_file_cache_key(tone: str, tmp_path: Path) -> None:
    key = await file_cache_key(tone)
    assert key is not None
    assert key.startswith(f"file:{tone}:")
    assert await file_cache_key(str(tmp_path / "missing.mp3")) is None


async def test_source_without_a_key_is_never_cached(tone: str, spawned: list[str]) -> None:
    """A URL (or any source the resolver gave no identity) is transcoded every time."""
    pool = CachingTranscoderPool(FFMPEG)
    source = AudioSource(location=tone, label="tone")
    await read_all(pool.open(source))
    await read_all(pool.open(source))
    assert spawned == ["tone", "tone"]
    assert len(pool.cache) == 0


async def test_interrupted_transcode_is_not_kept(tone: str, spawned: list[str]) -> None:
    pool = CachingTranscoderPool(FFMPEG)
    frames = pool.open(await file_source(tone))
    await frames.start()
    async with asyncio.timeout(10):
        while frames.next_frame() is None:
            await asyncio.sleep(0.005)
    await frames.aclose()
    assert len(pool.cache) == 0
    await read_all(pool.open(await file_source(tone)))
    assert spawned == ["tone", "tone"]
    assert len(pool.cache) == 1


async def test_failed_transcode_is_not_kept(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"\xff\xfb" + b"garbage" * 500)
    pool = CachingTranscoderPool(FFMPEG)
    with pytest.raises(TalkMediaError):
        await read_all(pool.open(await file_source(str(corrupt))))
    assert len(pool.cache) == 0


@pytest.fixture
def tone_bytes(tone: str) -> bytes:
    return Path(tone).read_bytes()


async def test_stream_that_fails_midway_is_not_kept(tone_bytes: bytes, spawned: list[str]) -> None:
    """A TTS stream that breaks off: what ffmpeg decoded is played, but not kept."""
    data = tone_bytes

    async def broken() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        msg = "synthesis failed"
        raise RuntimeError(msg)

    pool = CachingTranscoderPool(FFMPEG, join_window=0)
    source = AudioSource(stream=broken, label="say", key="tts:x", cache_key="tts:x")
    # What arrived is played; the transcoder may also report the broken stream afterwards.
    with contextlib.suppress(TalkError):
        await read_all(pool.open(source))
    assert spawned == ["say"]
    assert len(pool.cache) == 0


async def test_shared_transcode_is_kept_once(tone: str, spawned: list[str]) -> None:
    """Cameras announcing together share one ffmpeg; the next announcement uses the cache."""
    pool = CachingTranscoderPool(FFMPEG)
    source = await file_source(tone)
    first = await asyncio.gather(*(read_all(pool.open(source)) for _ in range(3)))
    assert spawned == ["tone"]
    assert len(pool.cache) == 1
    again = await asyncio.gather(*(read_all(pool.open(source)) for _ in range(3)))
    assert spawned == ["tone"]
    assert again == first


async def test_too_long_to_keep(tone: str, spawned: list[str]) -> None:
    pool = CachingTranscoderPool(FFMPEG, cache=AlawCache(max_bytes=4 * 10 * FRAME_BYTES))
    await read_all(pool.open(await file_source(tone)))  # 50 frames > a quarter of the cache
    assert len(pool.cache) == 0


def test_least_recently_used_is_dropped_first() -> None:
    cache = AlawCache(max_bytes=4000)
    for name in "abcd":
        cache.put((name, 1.0), bytes(1000))
    assert cache.get(("a", 1.0)) is not None
    cache.put(("e", 1.0), bytes(1000))
    assert cache.get(("b", 1.0)) is None
    assert [cache.get((n, 1.0)) is not None for n in "acde"] == [True] * 4
    assert cache.size == 4000
    cache.put(("c", 1.0), bytes(500))  # replaced
    assert cache.size == 3500
    cache.put(("big", 1.0), bytes(1001))  # over a quarter of the cache: not kept
    cache.put(("empty", 1.0), b"")
    assert len(cache) == 4
    cache.clear()
    assert len(cache) == 0
    assert cache.size == 0


async def test_cached_frames() -> None:
    frames = CachedFrames(bytes(range(160)) + bytes(160))
    await frames.start()
    assert frames.next_frame() == bytes(range(160))
    assert frames.next_frame() == bytes(160)
    assert not frames.done
    assert frames.next_frame() is None
    assert frames.done
    await frames.aclose()
