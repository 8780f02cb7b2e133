"""The recordings of a space's streams, listed per day: bounded, paced and briefly cached.

* **Source.** A stream shows cloud recordings when it has any in the last ``SOURCE_DAYS`` days
  (probed one day at a time, newest first, one segment each: usually one request), else device
  recordings. A stream without a cloud plan answers ``VolcengineNoRecordingPlanError`` at once
  (device). A stream with a plan but no cloud recording in that time shows device recordings:
  the platform's answer cannot tell a plan without recordings from no plan at all (the docs do
  not say whether a planless stream is refused or answered empty), and the device may have
  some. Cached for ``SOURCE_TTL`` seconds.
* **Days.** ``days`` looks at the last ``history_days`` days (default 7, the shortest cloud
  retention Volcengine sells; a device's card usually holds about as much), one request per day
  (a cloud probe of one segment, or the device's full list of the day, which fills the day's
  cache), newest first.
* **Day.** ``day`` lists one local day (a 24 h window; a 25 h day at a DST change takes two) with
  one request per window (``ListStreamRecords`` pages of up to 30000) and merges the segments
  that start in it into items (``merge_segments``). The segments and the items are cached
  ``cache_ttl`` seconds; the same folder asked for twice at once is fetched once.
* **Pacing.** Every request of the library goes through one ``RateLimiter`` of ``rate``
  requests per second (the cloud actions' documented limit is 10/s per user). A throttled answer
  (after the client's own retries) is waited out ``THROTTLE_WAIT`` s and retried at most
  ``throttle_retries`` times, then ``VolcengineThrottledError`` is raised.
* ``cloud_urls`` resolves the signed play URLs of a window each time (never cached: they expire).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import logging
import time as monotonic_time
from typing import Any, Final, Protocol

from ..api import (
    CloudRecordUrls,
    Recording,
    RecordSource,
    VolcengineNoRecordingPlanError,
    VolcengineThrottledError,
)
from ..api.recordings import MAX_WINDOW
from .merge import DEFAULT_MAX_LENGTH, RecordingItem, merge_segments

_LOGGER = logging.getLogger(__name__)

DEFAULT_CACHE_TTL: Final = 30.0
DEFAULT_RATE: Final = 10.0  # requests per second (the cloud actions' documented limit)
DEFAULT_HISTORY_DAYS: Final = 7
SOURCE_DAYS: Final = 7
SOURCE_TTL: Final = 600.0  # seconds a stream's source is kept
THROTTLE_WAIT: Final = 1.0  # seconds: one window of the rate limit
THROTTLE_RETRIES: Final = 2
RATE_MARGIN: Final = 0.05  # seconds added to the limiter's window (the gateway's clock differs)
MAX_CACHED: Final = 256  # folders kept


class RecordingClient(Protocol):
    """What the library needs of ``VolcengineClient``."""

    async def list_cloud_records(
        self,
        stream_id: str,
        start: datetime,
        end: datetime,
        *,
        page_size: int = ...,
        max_pages: int = ...,
    ) -> list[Recording]:
        """List cloud segments."""

    async def play_cloud_record(
        self, stream_id: str, start: datetime, end: datetime, *, token_valid: int = ...
    ) -> CloudRecordUrls:
        """Resolve the signed play URLs of a cloud window."""

    async def list_device_records(
        self, stream_id: str, start: datetime, end: datetime, *, record_type: str = ...
    ) -> list[Recording]:
        """List the recordings on the device."""


class RateLimiter:
    """At most ``rate`` acquisitions in any window of one second (plus ``margin``)."""

    def __init__(
        self,
        rate: float,
        *,
        margin: float = RATE_MARGIN,
        clock: Callable[[], float] = monotonic_time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Initialize; ``rate`` below 1 means one request per ``1/rate`` seconds."""
        if rate <= 0:
            msg = "rate must be positive"
            raise ValueError(msg)
        self._count = max(1, int(rate))
        self._window = (self._count / rate) + margin
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then count it."""
        async with self._lock:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self._window:
                    self._sent.popleft()
                if len(self._sent) < self._count:
                    self._sent.append(now)
                    return
                await self._sleep(self._sent[0] + self._window - now)


def day_windows(day: date, tz: tzinfo) -> list[tuple[datetime, datetime]]:
    """Return the windows of at most 24 h covering one local day (two on a 25 h day)."""
    start = datetime.combine(day, time.min, tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tz).astimezone(UTC)
    windows = []
    while start < end:
        windows.append((start, min(end, start + MAX_WINDOW)))
        start += MAX_WINDOW
    return windows


class RecordingLibrary:
    """Days and recordings of streams, for a media browser (see the module)."""

    def __init__(
        self,
        client: RecordingClient,
        *,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        rate: float = DEFAULT_RATE,
        history_days: int = DEFAULT_HISTORY_DAYS,
        throttle_retries: int = THROTTLE_RETRIES,
        throttle_wait: float = THROTTLE_WAIT,
        clock: Callable[[], float] = monotonic_time.monotonic,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """Initialize over a client (one library per client: one rate limiter)."""
        self._client = client
        self.cache_ttl = cache_ttl
        self.history_days = history_days
        self.throttle_retries = throttle_retries
        self.throttle_wait = throttle_wait
        self.limiter = RateLimiter(rate)
        self._clock = clock
        self._now = now or (lambda: datetime.now(UTC))
        self._sources: dict[str, tuple[float, RecordSource]] = {}
        self._segments: dict[tuple[str, RecordSource, datetime, datetime], tuple[float, Any]] = {}
        self._items: dict[tuple[Any, ...], tuple[float, list[RecordingItem]]] = {}
        self._inflight: dict[tuple[Any, ...], asyncio.Future[Any]] = {}
        self.requests = 0  # requests sent (for tests and the benchmark)

    # --- pacing ------------------------------------------------------------------------------

    async def _call[T](self, request: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Send one request through the rate limiter, waiting out throttled answers."""
        attempt = 0
        while True:
            await self.limiter.acquire()
            self.requests += 1
            try:
                return await request()
            except VolcengineThrottledError:
                if attempt >= self.throttle_retries:
                    raise
                attempt += 1
                _LOGGER.debug(
                    "Throttled, retry %d/%d in %.1fs",
                    attempt,
                    self.throttle_retries,
                    self.throttle_wait,
                )
                await asyncio.sleep(self.throttle_wait)

    async def _once[T](
        self, key: tuple[Any, ...], fetch: Callable[[], Coroutine[Any, Any, T]]
    ) -> T:
        """Run ``fetch`` once for concurrent callers of the same ``key``."""
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(fetch())
            self._inflight[key] = future
            future.add_done_callback(lambda f: self._done(key, f))
        result: T = await asyncio.shield(future)
        return result

    def _done(self, key: tuple[Any, ...], future: asyncio.Future[Any]) -> None:
        self._inflight.pop(key, None)
        if not future.cancelled():
            future.exception()  # retrieved: a caller that left does not leave a warning

    # --- source ------------------------------------------------------------------------------

    async def source(self, stream_id: str) -> RecordSource:
        """Return where a stream's recordings are listed from (cached, see the module)."""
        cached = self._sources.get(stream_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        found = await self._once(("source", stream_id), lambda: self._probe_source(stream_id))
        self._sources[stream_id] = (self._clock() + SOURCE_TTL, found)
        return found

    async def _probe_source(self, stream_id: str) -> RecordSource:
        end = self._now()
        try:
            for _ in range(SOURCE_DAYS):
                start = end - MAX_WINDOW
                if await self._probe_cloud(stream_id, start, end):
                    return RecordSource.CLOUD
                end = start
        except VolcengineNoRecordingPlanError:
            pass
        return RecordSource.DEVICE

    async def _probe_cloud(self, stream_id: str, start: datetime, end: datetime) -> bool:
        records = await self._call(
            lambda: self._client.list_cloud_records(stream_id, start, end, page_size=1, max_pages=1)
        )
        return bool(records)

    # --- days --------------------------------------------------------------------------------

    async def days(self, stream_id: str, *, tz: tzinfo, today: date) -> list[date]:
        """Return the days (of the last ``history_days``) that have recordings, newest first."""
        source = await self.source(stream_id)
        candidates = [today - timedelta(days=n) for n in range(self.history_days)]

        async def has(day: date) -> bool:
            for start, end in day_windows(day, tz):
                if source is RecordSource.CLOUD:
                    if self._fresh(stream_id, source, start, end) or await self._probe_cloud(
                        stream_id, start, end
                    ):
                        return True
                elif any(
                    start <= r.start < end
                    for r in await self._segments_of(stream_id, source, start, end)
                ):
                    return True  # as ``day`` does: the recordings that start in the day
            return False

        tasks = [asyncio.ensure_future(has(day)) for day in candidates]
        try:
            found = await asyncio.gather(*tasks)
        except BaseException:  # one day failed (or the caller left): the others end too
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [day for day, ok in zip(candidates, found, strict=True) if ok]

    # --- one day -----------------------------------------------------------------------------

    async def day(self, stream_id: str, day: date, *, tz: tzinfo) -> list[RecordingItem]:
        """Return one local day's recordings as merged items, newest first (cached)."""
        source = await self.source(stream_id)
        windows = day_windows(day, tz)
        key = (stream_id, source, tuple(windows))
        cached = self._items.get(key)
        if cached is not None and cached[0] > self._clock():
            return list(cached[1])
        segments: list[Recording] = []
        for start, end in windows:
            found = await self._segments_of(stream_id, source, start, end)
            segments += [r for r in found if start <= r.start < end]
        items = merge_segments(segments)
        expires = min(self._segments.get((stream_id, source, *w), (0.0, None))[0] for w in windows)
        if len(self._items) >= MAX_CACHED:
            self._items.clear()
        self._items[key] = (expires, items)
        return list(items)

    async def item_at(self, stream_id: str, at: datetime, *, tz: tzinfo) -> RecordingItem | None:
        """Return the item that covers ``at`` (an alarm item first), None when none does.

        For linking an alarm event to its recording: one folder request (cached), or two when
        ``at`` is early in a day (a run may have started the day before).
        """
        day = at.astimezone(tz).date()
        for folder in (day, day - timedelta(days=1)):
            covering = [
                i for i in await self.day(stream_id, folder, tz=tz) if i.start <= at < i.end
            ]
            if covering:
                return max(covering, key=lambda item: (item.alarm, item.start))
            if at - datetime.combine(day, time.min, tz) >= DEFAULT_MAX_LENGTH:
                break
        return None

    def _fresh(
        self, stream_id: str, source: RecordSource, start: datetime, end: datetime
    ) -> list[Recording] | None:
        cached = self._segments.get((stream_id, source, start, end))
        if cached is not None and cached[0] > self._clock():
            result: list[Recording] = cached[1]
            return result
        return None

    async def _segments_of(
        self, stream_id: str, source: RecordSource, start: datetime, end: datetime
    ) -> list[Recording]:
        fresh = self._fresh(stream_id, source, start, end)
        if fresh is not None:
            return fresh
        key = (stream_id, source, start, end)

        async def fetch() -> list[Recording]:
            if source is RecordSource.CLOUD:
                result = await self._call(
                    lambda: self._client.list_cloud_records(stream_id, start, end)
                )
            else:
                result = await self._call(
                    lambda: self._client.list_device_records(stream_id, start, end)
                )
            self._store(key, result)
            return result

        return await self._once(("segments", *key), fetch)

    def _store(self, key: tuple[str, RecordSource, datetime, datetime], value: Any) -> None:
        now = self._clock()
        for old in [k for k, (expires, _) in self._segments.items() if expires <= now]:
            del self._segments[old]
        while len(self._segments) >= MAX_CACHED:
            del self._segments[next(iter(self._segments))]
        self._segments[key] = (now + self.cache_ttl, value)

    def forget(self, stream_id: str | None = None) -> None:
        """Drop the cached folders and sources (of one stream, or all)."""
        for folder in [k for k in self._segments if stream_id in (None, k[0])]:
            del self._segments[folder]
        for stream in [k for k in self._sources if stream_id in (None, k)]:
            del self._sources[stream]
        for day in [k for k in self._items if stream_id in (None, k[0])]:
            del self._items[day]

    # --- play --------------------------------------------------------------------------------

    async def cloud_urls(self, stream_id: str, start: datetime, end: datetime) -> CloudRecordUrls:
        """Resolve the signed play URLs of a cloud window now (never cached)."""
        return await self._call(lambda: self._client.play_cloud_record(stream_id, start, end))
