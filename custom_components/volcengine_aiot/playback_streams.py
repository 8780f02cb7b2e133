"""Device recordings played through Home Assistant's ``stream``: one per channel, always stopped.

A device playback (StartPlayback) keeps an uplink from the camera busy and hands out pull URLs
(RTMP, HTTP-FLV) a browser cannot play. As Reolink's media source does, Home Assistant's
``stream`` integration pulls the URL and serves it as HLS. The playback is stopped
(StopPlayback) and its HLS stream ended:

* when nobody fetches the HLS output for ``PLAYBACK_IDLE_TIMEOUT`` seconds (the output's idle
  timer removes it; the watch below finds the stream without outputs),
* when the stream has stayed unavailable for ``UNAVAILABLE_GRACE`` (the recording ended or the
  pull fails: the stream worker would otherwise retry for ever; a worker that reconnects within
  that time, as after a short network hiccup, keeps the playback),
* at the latest ``PLAYBACK_MARGIN`` after the recording's length has played (a pull that hangs),
* when a new playback of the same channel starts (one playback per channel),
* when the channel's device leaves the space, and on unload (``async_close``).

The pull URL (it carries a signature) is handed to the stream worker only: never stored here,
logged or shown.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.camera import DynamicStreamSettings
from homeassistant.components.stream import Stream, create_stream
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .api.recordings import Playback
from .const import LOGGER
from .live import PROTOCOL_FLV, PROTOCOL_HLS, PROTOCOL_RTMP, pick_url
from .recordings import DevicePlaybacks

HLS_PROVIDER = "hls"
PLAYBACK_IDLE_TIMEOUT = 60  # seconds without an HLS request before the playback stops
WATCH_INTERVAL = timedelta(seconds=5)
UNAVAILABLE_GRACE = timedelta(seconds=30)  # the stream worker retries after 10 s, then 20 s...
PLAYBACK_MARGIN = timedelta(minutes=10)  # a session ends this long after its recording's length
STOP_TIMEOUT = 15.0  # seconds one StopPlayback may take when a session ends
MIME_HLS = "application/x-mpegURL"


class PlaybackUrlError(Exception):
    """The platform's playback answer holds no URL the stream integration can pull."""


class PlaybackClosedError(Exception):
    """The entry is being unloaded: no playback starts any more."""


@dataclass(slots=True, eq=False)
class _Session:
    """One channel's device playback and the HLS stream that serves it."""

    stream_id: str
    playback: Playback
    stream: Stream
    deadline: datetime  # UTC: ended then whatever the stream says
    unavailable_since: datetime | None = None


class PlaybackStreams:
    """The HLS streams of the device playbacks of one entry."""

    def __init__(self, hass: HomeAssistant, playbacks: DevicePlaybacks) -> None:
        """Initialize with the entry's device playbacks (the runtime owns both)."""
        self._hass = hass
        self._playbacks = playbacks
        self._sessions: dict[str, _Session] = {}  # stream ID -> its playing session
        self._locks: dict[str, asyncio.Lock] = {}
        self._unsub_watch: CALLBACK_TYPE | None = None
        self._closed = False

    def closed(self) -> bool:
        """Return whether the entry's playbacks were closed (unload, shutdown)."""
        return self._closed

    @property
    def active(self) -> int:
        """Return the number of playing sessions."""
        return len(self._sessions)

    async def async_start(self, stream_id: str, start: datetime, end: datetime) -> str:
        """Start a device playback of a time range and return the URL of its HLS playlist.

        The channel's previous playback (if any) is stopped first. Raises the client's errors
        (``VolcengineError``), ``PlaybackUrlError`` and the stream integration's
        ``HomeAssistantError``; nothing is left running then.
        """
        lock = self._locks.setdefault(stream_id, asyncio.Lock())
        async with lock:
            if self._closed:
                raise PlaybackClosedError(stream_id)
            if (previous := self._sessions.pop(stream_id, None)) is not None:
                await self._async_end(previous)
            playback = await self._playbacks.start(stream_id, start, end)
            try:
                stream = await self._async_stream(stream_id, playback)
            except BaseException:
                await self._async_stop_playback(playback)
                raise
            deadline = dt_util.utcnow() + (end - start) + PLAYBACK_MARGIN
            session = _Session(stream_id, playback, stream, deadline)
            if self.closed():  # unloaded while the playback started
                await self._async_end(session)
                raise PlaybackClosedError(stream_id)
            self._sessions[stream_id] = session
            stream.set_update_callback(lambda: self._async_check(session))
            if self._unsub_watch is None:
                self._unsub_watch = async_track_time_interval(
                    self._hass, self._async_watch, WATCH_INTERVAL, cancel_on_shutdown=True
                )
            url: str = stream.endpoint_url(HLS_PROVIDER)
            return url.replace("master_", "")

    async def _async_stream(self, stream_id: str, playback: Playback) -> Stream:
        url = next(
            (
                found
                for protocol in (PROTOCOL_FLV, PROTOCOL_HLS, PROTOCOL_RTMP)
                if (found := pick_url(playback.pull_urls, protocol))
            ),
            None,
        )
        if url is None:
            raise PlaybackUrlError(stream_id)
        stream = create_stream(
            self._hass, url, {}, DynamicStreamSettings(), f"volcengine_aiot_{stream_id}"
        )
        try:
            stream.add_provider(HLS_PROVIDER, timeout=PLAYBACK_IDLE_TIMEOUT)
            await stream.start()  # pulled at once: the idle timer bounds it even if nobody plays
        except BaseException:
            await _async_stop_stream(stream)
            raise
        return stream

    @callback
    def _async_check(self, session: _Session) -> None:
        """End a session whose stream went idle or unavailable."""
        if self._sessions.get(session.stream_id) is not session:
            return
        stream, now = session.stream, dt_util.utcnow()
        if stream.available:
            session.unavailable_since = None
        elif session.unavailable_since is None:
            session.unavailable_since = now
        if (
            session.unavailable_since is not None
            and now - session.unavailable_since >= UNAVAILABLE_GRACE
        ):
            reason = "unavailable"
        elif not stream.outputs():
            reason = "idle"
        elif now >= session.deadline:
            reason = "past the recording's end"
        else:
            return
        LOGGER.debug("Device playback of %s ends: %s", session.stream_id, reason)
        del self._sessions[session.stream_id]
        self._hass.async_create_background_task(
            self._async_end(session), f"volcengine_aiot stop playback of {session.stream_id}"
        )
        self._async_unwatch_if_idle()

    @callback
    def _async_watch(self, _now: datetime) -> None:
        for session in list(self._sessions.values()):
            self._async_check(session)

    @callback
    def _async_unwatch_if_idle(self) -> None:
        if not self._sessions and self._unsub_watch is not None:
            self._unsub_watch()
            self._unsub_watch = None

    async def _async_end(self, session: _Session) -> None:
        """Stop a session's HLS stream, then its device playback (bounded)."""
        session.stream.set_update_callback(lambda: None)
        await _async_stop_stream(session.stream)
        await self._async_stop_playback(session.playback)

    async def _async_stop_playback(self, playback: Playback) -> None:
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await asyncio.shield(self._playbacks.stop(playback.playback_id))
        except TimeoutError:
            LOGGER.warning("StopPlayback did not answer within %s s", STOP_TIMEOUT)
        except Exception as err:  # noqa: BLE001 - a failed stop is logged, the rest goes on
            LOGGER.warning("StopPlayback failed: %s", err)

    async def async_stop_channels(self, stream_ids: set[str]) -> None:
        """End the sessions of channels that left the space."""
        sessions = [self._sessions.pop(s) for s in stream_ids if s in self._sessions]
        self._async_unwatch_if_idle()
        await asyncio.gather(*(self._async_end(s) for s in sessions), return_exceptions=True)

    async def async_close(self) -> None:
        """End every session and stop every device playback of the entry (unload, shutdown)."""
        self._closed = True
        sessions = list(self._sessions.values())
        self._sessions.clear()
        self._async_unwatch_if_idle()
        for session in sessions:
            session.stream.set_update_callback(lambda: None)
        await asyncio.gather(
            *(_async_stop_stream(s.stream) for s in sessions), return_exceptions=True
        )
        await self._playbacks.aclose()


async def _async_stop_stream(stream: Stream) -> None:
    """End an HLS stream: its outputs removed (their idle timers cancelled), its worker stopped."""
    for provider in list(stream.outputs().values()):
        await stream.remove_provider(provider)
    await stream.stop()
