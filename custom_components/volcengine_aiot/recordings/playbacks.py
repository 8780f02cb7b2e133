"""Device playbacks that are always stopped.

A device playback (``StartPlayback``) keeps the camera's uplink busy until ``StopPlayback``, and
a camera serves about one at a time. ``DevicePlaybacks`` keeps one playback per channel:
starting a new one stops the channel's previous one first (starts of one channel are
serialised). ``stop`` and ``aclose`` are bounded by ``STOP_TIMEOUT`` and never raise (a stop that
fails is logged; a playback the platform no longer knows is gone already).

A start whose caller is cancelled goes on in the background (``asyncio.shield``): if the
platform answers with a playback, it is stopped at once, so a cancelled browser request leaves
nothing running. A start that timed out cannot be stopped: its PlaybackID never arrived (the
client does not re-send it, so at most one is left, until the platform's own timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
import logging
from typing import Final, Protocol

from ..api import Playback, VolcengineError, VolcengineNotFoundError

_LOGGER = logging.getLogger(__name__)

STOP_TIMEOUT: Final = 10.0  # seconds a StopPlayback may take (with the client's retries)


class PlaybackClient(Protocol):
    """What ``DevicePlaybacks`` needs of ``VolcengineClient``."""

    async def start_playback(self, stream_id: str, start: datetime, end: datetime) -> Playback:
        """Start a device playback."""

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a device playback."""


class DevicePlaybacks:
    """The running device playbacks of one client, one per channel (see the module)."""

    def __init__(self, client: PlaybackClient, *, stop_timeout: float = STOP_TIMEOUT) -> None:
        """Initialize over a client."""
        self._client = client
        self._stop_timeout = stop_timeout
        self._by_stream: dict[str, Playback] = {}
        self._stream_of: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Future[None]] = set()
        self._starting: set[asyncio.Future[Playback]] = set()
        self._closed = False

    @property
    def active(self) -> int:
        """Return how many playbacks are running."""
        return len(self._by_stream)

    def stream_of(self, playback_id: str) -> str | None:
        """Return the stream a running playback belongs to."""
        return self._stream_of.get(playback_id)

    async def start(self, stream_id: str, start: datetime, end: datetime) -> Playback:
        """Start a playback of a window, stopping the channel's previous one first."""
        lock = self._locks.setdefault(stream_id, asyncio.Lock())
        async with lock:
            if self._closed:
                msg = "The device playbacks are closed"
                raise RuntimeError(msg)
            previous = self._by_stream.get(stream_id)
            if previous is not None:
                await self.stop(previous.playback_id)
            task = asyncio.ensure_future(self._client.start_playback(stream_id, start, end))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)
            try:
                playback = await asyncio.shield(task)
            except asyncio.CancelledError:
                task.add_done_callback(self._stop_late)
                raise
            self._by_stream[stream_id] = playback
            self._stream_of[playback.playback_id] = stream_id
            return playback

    def _stop_late(self, task: asyncio.Future[Playback]) -> None:
        """Stop the playback a start whose caller left has started."""
        if task.cancelled() or task.exception() is not None:
            return
        playback_id = task.result().playback_id
        stop = asyncio.ensure_future(self._stop_remote(playback_id))
        self._background.add(stop)
        stop.add_done_callback(self._background.discard)

    async def stop(self, playback_id: str) -> None:
        """Stop a playback (bounded, never raises)."""
        stream_id = self._stream_of.pop(playback_id, None)
        current = self._by_stream.get(stream_id) if stream_id is not None else None
        if stream_id is not None and current is not None and current.playback_id == playback_id:
            del self._by_stream[stream_id]
        await self._stop_remote(playback_id)

    async def _stop_remote(self, playback_id: str) -> None:
        try:
            async with asyncio.timeout(self._stop_timeout):
                await self._client.stop_playback(playback_id)
        except VolcengineNotFoundError:
            _LOGGER.debug("Playback %s was already gone", playback_id)
        except (VolcengineError, TimeoutError) as err:
            _LOGGER.warning("Could not stop the device playback %s: %s", playback_id, err)

    async def aclose(self) -> None:
        """Stop every playback, including starts under way and late ones (bounded).

        Later starts raise ``RuntimeError``.
        """
        self._closed = True
        for lock in list(self._locks.values()):  # let the starts under way register
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._stop_timeout), lock:
                    pass
        if self._starting:  # starts whose callers left: they stop what they start
            await asyncio.wait(self._starting, timeout=self._stop_timeout)
        running = list(self._stream_of)
        await asyncio.gather(*(self.stop(playback_id) for playback_id in running))
        if self._background:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._stop_timeout):
                    await asyncio.gather(*self._background, return_exceptions=True)
