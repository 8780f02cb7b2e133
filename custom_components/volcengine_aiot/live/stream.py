"""One channel's live stream on the platform: start, keep its signed pull URL fresh, stop.

Pull URLs are signed and expire. Volcengine's live service signs URLs with ``volcSecret`` and
``volcTime`` (the Unix time the URL expires; the AIoT Video docs do not describe their pull URLs'
signature, so this is unverified); when a URL carries ``volcTime`` that is its expiry, otherwise
(e.g. ``auth_key`` signing, whose timestamp does not tell the validity) the URL is trusted for
``DEFAULT_URL_TTL`` seconds only (conservative: the space's ``ValidDuration`` is not per URL).
A URL is never handed out within ``refresh_margin`` seconds of its expiry: before that,
GetStream with ``FreshExpiredPull=1`` re-signs it, and a stream the platform no longer runs is
started again with StartStream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import contextlib
import logging
import time
from typing import Final
from urllib.parse import parse_qs, urlsplit

from ..api import (
    VolcengineClient,
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
REFRESH_MARGIN: Final = 30.0  # seconds before expiry a URL is refreshed
DEFAULT_IDLE_TIMEOUT: Final = 300.0  # seconds without a request before StopStream


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
    """The stream of one channel, started on demand and stopped when nobody asked for a while."""

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
        clock: Callable[[], float] = time.time,
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
        self._clock = clock
        self._busy = busy
        self._lock = asyncio.Lock()
        self._url: str | None = None
        self.expires_at: float | None = None
        self.started = False  # StartStream called by us and not stopped yet
        self.last_used = 0.0
        self.starts = 0
        self.refreshes = 0
        self._idle_handle: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Task[bool] | None = None

    @property
    def url(self) -> str | None:
        """Return the pull URL handed out last (signed: a secret), None when none is valid."""
        return self._url

    def __repr__(self) -> str:
        """Return a representation without the signed URL."""
        return f"LiveStream(stream_id={self.stream_id!r}, protocol={self.protocol!r})"

    async def async_url(self) -> str:
        """Return a pull URL valid for at least ``refresh_margin`` seconds more."""
        async with self._lock:
            self.last_used = self._clock()
            if self._url is not None and self._fresh(self._url, self.expires_at):
                self._schedule_idle_stop()
                return self._url
            try:
                url = await self._refresh() if self.started else None
                if url is None:
                    url = await self._start()
            except VolcengineError as err:
                raise _live_error(err, self.stream_id) from err
            self._schedule_idle_stop()
            return url

    async def async_restart(self, unreadable: str) -> str:
        """Start the stream again (StartStream) after ``unreadable`` could not be read.

        The platform may have ended the stream (idle, a camera reboot) while its URL is still
        signed. Returns the new pull URL; a URL handed out since ``unreadable`` is returned as is.
        """
        async with self._lock:
            self.last_used = self._clock()
            current = self._url
            fresh = self._fresh(current, self.expires_at)
            if current is not None and current != unreadable and fresh:
                return current
            self._url = self.expires_at = None
            try:
                url = await self._start()
            except VolcengineError as err:
                raise _live_error(err, self.stream_id) from err
            self._schedule_idle_stop()
            return url

    def _fresh(self, url: str | None, expires_at: float | None) -> bool:
        return (
            url is not None
            and expires_at is not None
            and expires_at - self.refresh_margin > self._clock()
        )

    def _accept(self, urls: Iterable[str]) -> str | None:
        url = pick_url(urls, self.protocol)
        if url is None:
            return None
        expires_at = url_expiry(url, now=self._clock(), default_ttl=self.default_ttl)
        if not self._fresh(url, expires_at):
            return None
        self._url, self.expires_at = url, expires_at
        return url

    async def _refresh(self) -> str | None:
        """Re-sign the URL of the running stream (GetStream, FreshExpiredPull=1)."""
        info = await self._client.get_stream(self.space_id, self.stream_id, fresh_expired_pull=True)
        self.refreshes += 1
        if not info.pulling:
            _LOGGER.debug("Stream %s is %s: starting it again", self.stream_id, info.status)
            return None
        urls = (*info.trans_pull_urls, *info.pull_urls) if self.transcode_audio else info.pull_urls
        return self._accept(urls)

    async def _start(self) -> str:
        """Start the stream (StartStream) and take its pull URL."""
        result = await self._client.start_stream(
            self.space_id,
            self.stream_id,
            fresh_expired_pull=True,
            enable_audio_transcode=self.transcode_audio,
        )
        self.started = True
        self.starts += 1
        urls = (
            (*result.trans_pull_urls, *result.pull_urls)
            if self.transcode_audio
            else result.pull_urls
        )
        url = self._accept(urls)
        if url is None:
            raise LiveNoUrlError(
                f"No unexpired {self.protocol} pull URL",
                stream=self.stream_id,
                protocol=self.protocol,
            )
        return url

    # --- stopping ------------------------------------------------------------------------

    def _schedule_idle_stop(self) -> None:
        if self._idle_handle is not None:
            self._idle_handle.cancel()
        loop = asyncio.get_running_loop()
        self._idle_handle = loop.call_later(self.idle_timeout, self._idle_check)

    def _idle_check(self) -> None:
        self._idle_handle = None
        self._idle_task = asyncio.create_task(self.async_stop_if_idle())

    async def async_stop_if_idle(self) -> bool:
        """StopStream if nothing asked for the stream for ``idle_timeout`` and no player reads it.

        Returns whether the stream was stopped; a stream still in use is checked again later.
        """
        if not self.started:
            return False
        if self._busy is not None and self._busy():
            self._schedule_idle_stop()
            return False
        if self._clock() - self.last_used < self.idle_timeout:
            self._schedule_idle_stop()
            return False
        await self.async_stop()
        return True

    async def async_stop(self) -> None:
        """Stop the stream if this integration started it (StopStream); errors are logged."""
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        async with self._lock:
            self._url = self.expires_at = None
            if not self.started:
                return
            self.started = False
            try:
                await self._client.stop_stream(self.space_id, self.stream_id)
            except VolcengineError as err:
                _LOGGER.debug("StopStream of %s failed: %s", self.stream_id, err)

    async def async_close(self) -> None:
        """Stop the stream and wait for an idle check in progress (unload)."""
        task, self._idle_task = self._idle_task, None
        await self.async_stop()
        if task is not None and task is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await task
