"""One channel's live stream on the platform: start, keep its signed pull URL fresh, stop.

Pull URLs are signed and expire. Volcengine's live service signs URLs with ``volcSecret`` and
``volcTime`` (the Unix time the URL expires; the AIoT Video docs do not describe their pull URLs'
signature, so this is unverified); when a URL carries ``volcTime`` that is its expiry, otherwise
(e.g. ``auth_key`` signing, whose timestamp does not tell the validity) the URL is trusted for
``DEFAULT_URL_TTL`` seconds only (conservative: the space's ``ValidDuration`` is not per URL).

The platform re-signs only expired URLs (``FreshExpiredPull=1`` of GetStream/StartStream), so a
URL is served while it is valid: a player opens its connection within ``refresh_margin``
seconds (a connection opened before the expiry keeps playing). A URL that expires sooner than
that is waited out (at most ``refresh_margin``), then GetStream re-signs it; a stream the
platform no longer runs is started again with StartStream.

Who watches is counted per path (``open_viewer``/``close_viewer`` for a WebRTC session,
``viewing()`` around a snapshot grab, ``busy()`` for Home Assistant's stream worker): the stream is
stopped (StopStream) once nobody asked for it for ``idle_timeout`` seconds and no viewer is left.
A StartStream whose answer did not arrive (timeout, dropped connection) may have started the
stream: it is ours, and stopped after ``late_stop_delay`` unless a viewer took it meanwhile.
Every StopStream is bounded by ``STOP_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
import contextlib
import logging
import time
from typing import Final
from urllib.parse import parse_qs, urlsplit

from ..api import (
    VolcengineClient,
    VolcengineConnectionError,
    VolcengineDeviceUnreachableError,
    VolcengineError,
    VolcengineNotFoundError,
    VolcengineThrottledError,
)
from .errors import (
    LiveDeviceOfflineError,
    LiveNoUrlError,
    LiveStreamError,
    LiveStreamNotFoundError,
    LiveThrottledError,
)

_LOGGER = logging.getLogger(__name__)

PROTOCOL_FLV: Final = "flv"
PROTOCOL_RTMP: Final = "rtmp"
PROTOCOL_HLS: Final = "hls"
PROTOCOLS: Final = (PROTOCOL_FLV, PROTOCOL_RTMP, PROTOCOL_HLS)
EXPIRY_PARAM: Final = "volcTime"
DEFAULT_URL_TTL: Final = 300.0  # seconds a URL without an expiry parameter is trusted
REFRESH_MARGIN: Final = 5.0  # seconds a URL must stay valid for a player to open it
DEFAULT_IDLE_TIMEOUT: Final = 300.0  # seconds without a request before StopStream
LATE_STOP_DELAY: Final = 30.0  # seconds after an unanswered StartStream before StopStream
STOP_TIMEOUT: Final = 10.0  # seconds a StopStream may take (with the client's retries)


def protocol_or_default(protocol: object) -> str:
    """Return a known pull protocol; an unknown stored one falls back to HTTP-FLV (a warning).

    Options written by a newer or older version may name a protocol this one does not know.
    """
    if isinstance(protocol, str) and protocol in PROTOCOLS:
        return protocol
    _LOGGER.warning("Unknown live view protocol %r: using %s", protocol, PROTOCOL_FLV)
    return PROTOCOL_FLV


def url_expiry(url: str, *, now: float, default_ttl: float = DEFAULT_URL_TTL) -> float:
    """Return the Unix time a signed pull URL expires (``volcTime``), else ``now + default_ttl``."""
    values = parse_qs(urlsplit(url).query).get(EXPIRY_PARAM)
    if values:
        with contextlib.suppress(ValueError):
            return float(int(values[0]))
    return now + default_ttl


def _matches(url: str, protocol: str) -> bool:
    parts = urlsplit(url)
    scheme, path = parts.scheme.lower(), parts.path.lower()
    if protocol == PROTOCOL_RTMP:
        return scheme in ("rtmp", "rtmps")
    suffix = ".flv" if protocol == PROTOCOL_FLV else ".m3u8"
    return scheme in ("http", "https") and path.endswith(suffix)


def pick_url(urls: Iterable[str], protocol: str) -> str | None:
    """Return the first pull URL of a protocol (``flv``, ``rtmp`` or ``hls``), https first."""
    matching = [url for url in urls if _matches(url, protocol)]
    matching.sort(key=lambda url: not url.lower().startswith(("https:", "rtmps:")))
    return matching[0] if matching else None


def _live_error(err: VolcengineError, stream_id: str) -> LiveStreamError:
    if isinstance(err, VolcengineNotFoundError):
        return LiveStreamNotFoundError(str(err), stream=stream_id)
    if isinstance(err, VolcengineDeviceUnreachableError):
        return LiveDeviceOfflineError(str(err), stream=stream_id)
    if isinstance(err, VolcengineThrottledError):
        return LiveThrottledError(str(err), stream=stream_id)
    code = getattr(err, "code", None) or type(err).__name__
    return LiveStreamError(str(err), stream=stream_id, error=str(code))


class LiveStream:
    """The stream of one channel, started on demand and stopped when nobody watches."""

    def __init__(
        self,
        client: VolcengineClient,
        space_id: str,
        stream_id: str,
        *,
        protocol: str = PROTOCOL_FLV,
        transcode_audio: bool = False,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        refresh_margin: float = REFRESH_MARGIN,
        default_ttl: float = DEFAULT_URL_TTL,
        late_stop_delay: float = LATE_STOP_DELAY,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        busy: Callable[[], bool] | None = None,
    ) -> None:
        """Initialize; ``busy()`` tells whether a player still reads the stream (no idle stop)."""
        if protocol not in PROTOCOLS:
            msg = f"Unknown pull protocol {protocol!r}"
            raise ValueError(msg)
        self._client = client
        self.space_id = space_id
        self.stream_id = stream_id
        self.protocol = protocol
        self.transcode_audio = transcode_audio
        self.idle_timeout = idle_timeout
        self.refresh_margin = refresh_margin
        self.default_ttl = default_ttl
        self.late_stop_delay = late_stop_delay
        self._clock = clock
        self._sleep = sleep
        self.busy = busy  # set by the view that has a player (Home Assistant's stream)
        self._lock = asyncio.Lock()
        self._url: str | None = None
        self.expires_at: float | None = None
        self.started = False  # StartStream called by us (maybe unanswered) and not stopped yet
        self.unconfirmed = False  # started, but StartStream's answer never arrived
        self.last_used = 0.0
        self.starts = 0
        self.refreshes = 0
        self._viewers: set[Hashable] = set()
        self._idle_handle: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Task[bool] | None = None

    @property
    def url(self) -> str | None:
        """Return the pull URL handed out last (signed: a secret), None when none is valid."""
        return self._url

    def __repr__(self) -> str:
        """Return a representation without the signed URL."""
        return f"LiveStream(stream_id={self.stream_id!r}, protocol={self.protocol!r})"

    # --- viewers -------------------------------------------------------------------------

    @property
    def viewers(self) -> int:
        """Return how many viewers are open (WebRTC sessions, snapshot grabs)."""
        return len(self._viewers)

    def open_viewer(self, key: Hashable) -> None:
        """Count a viewer (e.g. a WebRTC session by its ID) until ``close_viewer(key)``."""
        self._viewers.add(key)

    def close_viewer(self, key: Hashable) -> bool:
        """End a viewer; an unknown key (never opened, or closed) changes nothing."""
        if key not in self._viewers:
            return False
        self._viewers.discard(key)
        return True

    @contextlib.contextmanager
    def viewing(self) -> Iterator[None]:
        """Count a viewer for the duration of a block (a snapshot grab)."""
        key = object()
        self.open_viewer(key)
        try:
            yield
        finally:
            self.close_viewer(key)

    def in_use(self) -> bool:
        """Return whether a viewer is open or a player reads the stream (``busy()``)."""
        return bool(self._viewers) or (self.busy is not None and self.busy())

    # --- URLs ----------------------------------------------------------------------------

    async def async_url(self) -> str:
        """Return a pull URL valid for at least ``refresh_margin`` seconds more."""
        async with self._lock:
            self.last_used = self._clock()
            if self._url is not None and self._fresh(self.expires_at):
                self._schedule_idle_stop()
                return self._url
            self._url = self.expires_at = None
            try:
                return await self._fetch()
            except VolcengineError as err:
                raise _live_error(err, self.stream_id) from err
            finally:
                if self.started and not self.unconfirmed:  # also a stream without a usable URL
                    self._schedule_idle_stop()

    async def async_restart(self, unreadable: str) -> str:
        """Start the stream again (StartStream) after ``unreadable`` could not be read.

        The platform may have ended the stream (idle, a camera reboot) while its URL is still
        signed. Returns the new pull URL; a URL handed out since ``unreadable`` is returned as is.
        """
        async with self._lock:
            self.last_used = self._clock()
            current = self._url
            if current is not None and current != unreadable and self._fresh(self.expires_at):
                return current
            self._url = self.expires_at = None
            try:
                return await self._fetch(restart=True)
            except VolcengineError as err:
                raise _live_error(err, self.stream_id) from err
            finally:
                if self.started and not self.unconfirmed:
                    self._schedule_idle_stop()

    def _fresh(self, expires_at: float | None) -> bool:
        return expires_at is not None and expires_at - self.refresh_margin > self._clock()

    async def _fetch(self, *, restart: bool = False) -> str:
        """Take the running stream's URL (GetStream), else start it; wait out one expiring URL.

        The platform re-signs a URL only once it has expired: one that is still valid but
        expires within ``refresh_margin`` is waited out, then asked for again (once).
        ``restart`` calls StartStream first, even for a stream we believe is running.
        """
        for attempt in range(2):
            ask_running = self.started and not (restart and attempt == 0)
            urls = await self._refresh() if ask_running else None
            if urls is None:
                urls = await self._start()
            url = pick_url(urls, self.protocol)
            if url is None:
                break
            expires_at = url_expiry(url, now=self._clock(), default_ttl=self.default_ttl)
            if self._fresh(expires_at):
                self._url, self.expires_at = url, expires_at
                return url
            wait = expires_at - self._clock()
            if attempt or wait > self.refresh_margin:
                break
            _LOGGER.debug(
                "Pull URL of %s expires in %.1f s: refreshing it then", self.stream_id, wait
            )
            await self._sleep(max(0.0, wait) + 1.0)  # volcTime has a resolution of 1 s
        raise LiveNoUrlError(
            f"No unexpired {self.protocol} pull URL",
            stream=self.stream_id,
            protocol=self.protocol,
        )

    def _pull_urls(self, pull: Iterable[str], transcoded: Iterable[str]) -> tuple[str, ...]:
        return (*transcoded, *pull) if self.transcode_audio else tuple(pull)

    async def _refresh(self) -> tuple[str, ...] | None:
        """Return the URLs of the running stream, expired ones re-signed; None if not running."""
        info = await self._client.get_stream(self.space_id, self.stream_id, fresh_expired_pull=True)
        self.refreshes += 1
        if not info.pulling:
            _LOGGER.debug("Stream %s is %s: starting it again", self.stream_id, info.status)
            return None
        self.unconfirmed = False  # the platform runs it: ours, as any started stream
        return self._pull_urls(info.pull_urls, info.trans_pull_urls)

    async def _start(self) -> tuple[str, ...]:
        """Start the stream (StartStream) and return its pull URLs.

        Without an answer (timeout, dropped connection) the platform may have started it: it is
        ours to stop, after ``late_stop_delay`` unless a viewer takes it meanwhile.
        """
        try:
            result = await self._client.start_stream(
                self.space_id,
                self.stream_id,
                fresh_expired_pull=True,
                enable_audio_transcode=self.transcode_audio,
            )
        except VolcengineConnectionError:
            self.started = self.unconfirmed = True
            self._schedule_idle_stop(self.late_stop_delay)
            raise
        self.started = True
        self.unconfirmed = False
        self.starts += 1
        return self._pull_urls(result.pull_urls, result.trans_pull_urls)

    # --- stopping ------------------------------------------------------------------------

    def _schedule_idle_stop(self, delay: float | None = None) -> None:
        if self._idle_handle is not None:
            self._idle_handle.cancel()
        loop = asyncio.get_running_loop()
        self._idle_handle = loop.call_later(
            self.idle_timeout if delay is None else delay, self._idle_check
        )

    def _idle_check(self) -> None:
        self._idle_handle = None
        self._idle_task = asyncio.create_task(self.async_stop_if_idle())

    async def async_stop_if_idle(self) -> bool:
        """StopStream if nothing asked for the stream for ``idle_timeout`` and nobody watches.

        A stream whose StartStream was never answered is stopped as soon as nobody watches.
        Returns whether the stream was stopped; a stream still in use is checked again later.
        """
        if not self.started:
            return False
        if self.in_use():
            self._schedule_idle_stop()
            return False
        if not self.unconfirmed and self._clock() - self.last_used < self.idle_timeout:
            self._schedule_idle_stop()
            return False
        await self.async_stop()
        return True

    async def async_stop(self) -> None:
        """Stop the stream if this integration started it (StopStream, bounded); errors logged."""
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        async with self._lock:
            self._url = self.expires_at = None
            if not self.started:
                return
            _LOGGER.debug("Stopping stream %s", self.stream_id)
            self.started = self.unconfirmed = False
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await self._client.stop_stream(self.space_id, self.stream_id)
            except VolcengineError as err:
                _LOGGER.debug("StopStream of %s failed: %s", self.stream_id, err)
            except TimeoutError:
                _LOGGER.debug("StopStream of %s timed out after %g s", self.stream_id, STOP_TIMEOUT)

    async def async_close(self) -> None:
        """Stop the stream and wait for an idle check in progress (unload)."""
        task, self._idle_task = self._idle_task, None
        await self.async_stop()
        if task is not None and task is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await task
