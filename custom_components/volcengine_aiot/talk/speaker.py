"""A camera speaker: the queue of playbacks and the public API; one talk session at a time.

The HA entity (and the other callers: announcements, the test tone) drive one ``Speaker`` per
camera. Plays are applied in call order. While there is something to play a ``TalkSession``
runs; once a session has decided to end (stopped, or its tail played with nothing queued) it
takes nothing more, and a later play starts a new session that waits for its cleanup.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
import logging
from typing import Final

import aiohttp

from .errors import TalkError
from .options import TalkOptions
from .pool import TranscoderPool
from .record import KEEP, TalkRecord
from .session import (
    STOP_TIMEOUT,
    Playback,
    PlayResult,
    TalkOpener,
    TalkSession,
    TalkStats,
    settle,
)
from .source import AudioSource
from .transcode import check_source

_LOGGER = logging.getLogger(__name__)

STALE_STOPS_KEPT: Final = 10  # in the diagnostics


class Speaker:
    """Plays audio sources on one camera through the voice-talk service."""

    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        opener: TalkOpener,
        transcoders: TranscoderPool,
        options: TalkOptions,
        on_change: Callable[[], None] | None = None,
        name: str = "",
    ) -> None:
        """Initialize the speaker; nothing runs until something is played."""
        self.http = http
        self.opener = opener
        self.transcoders = transcoders
        self.options = options
        self._on_change = on_change
        self._listeners: list[Callable[[], None]] = []
        self.name = name
        self._queue: deque[Playback] = deque()
        self._session: TalkSession | None = None  # the session that takes new playbacks
        self._last: TalkSession | None = None  # the newest session (may still be cleaning up)
        self._order = asyncio.Lock()  # plays are applied in call order
        self._closed = False
        self.stale = False  # a talk of ours may still be open on the platform
        self._stale_stops: asyncio.Task[None] | None = None  # stops it again later
        self._stale_stop: asyncio.Task[bool] | None = None  # one StopVoiceTalk of those
        self._stale_since = 0.0  # loop time the talk was left open
        self.stats = TalkStats()
        self.talks: deque[TalkRecord] = deque(maxlen=KEEP)  # the last talks, for diagnostics

    @property
    def is_playing(self) -> bool:
        """Return whether a talk session is running."""
        return self._session is not None

    @property
    def closed(self) -> bool:
        """Return whether the speaker refuses plays (unloaded)."""
        return self._closed

    @property
    def current(self) -> AudioSource | None:
        """Return the source being played."""
        return self._session.source if self._session is not None else None

    @property
    def current_duration(self) -> float | None:
        """Return how long the source being played plays, once known."""
        return self._session.duration if self._session is not None else None

    async def play(
        self, sources: Sequence[AudioSource], *, enqueue: bool = False, announce: bool = False
    ) -> PlayResult:
        """Play sources (in order) and return once they have been played.

        ``enqueue=False`` interrupts what is playing and clears the queue; ``enqueue=True``
        plays after the queue, in the same talk session. ``announce=True`` plays at once,
        interrupting what is playing (and an announcement that has not started yet), and the
        queued items play after it. Cancelling the
        caller does not stop the audio. Raises a ``TalkError`` when the audio was not played.
        """
        if not sources:
            msg = "nothing to play"
            raise ValueError(msg)
        async with self._order:  # FIFO: the executor file checks cannot reorder the calls
            if self._closed:
                return PlayResult(0.0, interrupted=True)
            for source in sources:  # a caller's mistake is reported before anything starts
                await check_source(source)
            if self.closed:  # closed meanwhile
                return PlayResult(0.0, interrupted=True)
            playback = Playback(sources, announce=announce)
            self._submit(playback, enqueue=enqueue, announce=announce)
        return await asyncio.shield(playback.future)

    def _submit(self, playback: Playback, *, enqueue: bool, announce: bool) -> None:
        if announce:
            # A newer announcement replaces the ones that have not started yet.
            for older in [p for p in self._queue if p.announce]:
                self._queue.remove(older)
                older.interrupted = True
                settle(older, None)
            if self._session is not None:
                self._session.interrupt()
            self._queue.appendleft(playback)
        elif enqueue:
            self._queue.append(playback)
        else:
            self._interrupt_all()
            self._queue.append(playback)
        if self._session is None:
            self._session = self._last = TalkSession(self, self._last)
            self.notify()

    async def stop(self) -> None:
        """Stop now, clear the queue, end the talk; returns once everything is cleaned up."""
        self._interrupt_all()
        if (session := self._session) is not None:
            session.stop()
            self.detach(session)
        if (last := self._last) is not None:
            await asyncio.shield(last.wait())

    async def close(self) -> None:
        """Stop and refuse further plays (unload, Home Assistant shutdown)."""
        self._closed = True
        await self.stop()
        if (stops := self._stale_stops) is not None:
            stops.cancel()
            await asyncio.wait({stops})
            if self.stale and await self._stale_stop_once():  # a last one: nobody follows up
                self.stale = False

    def _interrupt_all(self) -> None:
        queued = list(self._queue)
        self._queue.clear()
        for playback in queued:
            playback.interrupted = True
            settle(playback, None)
        if self._session is not None:
            self._session.interrupt()

    # --- what the session uses -----------------------------------------------------------

    def has_queued(self, session: TalkSession) -> bool:
        """Return whether a playback waits for this session (none once it was detached)."""
        return self._session is session and bool(self._queue)

    def take(self, session: TalkSession) -> Playback | None:
        """Return the next playback for this session, if any (none once it was detached)."""
        return self._queue.popleft() if self.has_queued(session) else None

    def detach(self, session: TalkSession) -> list[Playback]:
        """Take nothing more from this session; return the playbacks that were waiting for it."""
        if self._session is not session:
            return []
        self._session = None
        queued = list(self._queue)
        self._queue.clear()
        self.notify()
        return queued

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` whenever the state changes; return the function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def notify(self) -> None:
        """Tell the views that the state changed (their errors are contained)."""
        listeners = [*self._listeners]
        if self._on_change is not None:
            listeners.insert(0, self._on_change)
        for listener in listeners:
            try:
                listener()
            except Exception:
                _LOGGER.exception("State callback of %s failed", self.name)

    # --- a talk of ours left open on the platform ----------------------------------------

    def talk_left_open(self) -> None:
        """Stop a talk of ours that may be open on the platform again later, bounded.

        A StartVoiceTalk that got no answer in time may still be carried out by the platform
        after the session's own StopVoiceTalk, and a failed StopVoiceTalk left the talk open:
        either way the camera would look busy to everyone else until our next play. It is
        stopped again on the schedule of the options (never while a talk of ours runs).
        """
        self.stale = True
        if self._closed:
            return
        if self._stale_stops is not None:
            self._stale_stops.cancel()  # the schedule starts again from now
        self._stale_since = asyncio.get_running_loop().time()
        self._stale_stops = asyncio.get_running_loop().create_task(
            self._stop_stale_talk(), name=f"volcengine_aiot stale talk stop {self.name}"
        )

    async def stale_stop_done(self) -> None:
        """Wait for a StopVoiceTalk of the schedule that is under way (bounded)."""
        if (stop := self._stale_stop) is not None:
            await asyncio.wait({stop})

    async def _stop_stale_talk(self) -> None:
        loop = asyncio.get_running_loop()
        began = self._stale_since
        options = self.options
        planned = options.stale_stop_delays
        last = planned[-1] if planned else 0.0
        retries = (
            last + options.stale_stop_retry_delay * n
            for n in range(1, 1 + options.stale_stop_retries)
        )
        for index, delay in enumerate([*planned, *retries]):
            await asyncio.sleep(max(0.0, began + delay - loop.time()))
            while (session := self._last) is not None and not session.task.done():
                await session.wait()  # its own StopVoiceTalk ends its talk
            self._stale_stop = loop.create_task(
                self._stale_stop_once(),
                name=f"volcengine_aiot stale talk stop {self.name}",
            )
            try:
                stopped = await self._stale_stop
            finally:
                self._stale_stop = None
            if stopped and index >= len(planned) - 1:
                self.stale = False
                return
        _LOGGER.warning("%s: the talk may still be open on the platform", self.name)

    async def _stale_stop_once(self) -> bool:
        after = asyncio.get_running_loop().time() - self._stale_since
        result = "stopped"
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await self.opener.stop()
        except TalkError as err:
            result = str(err)
        except TimeoutError:
            result = f"timed out after {STOP_TIMEOUT:g} s"
        _LOGGER.debug("%s: StopVoiceTalk of a talk left open: %s", self.name, result)
        stops = self.stats.stale_stops
        stops.append({"after": round(after, 1), "result": result})
        del stops[:-STALE_STOPS_KEPT]
        return result == "stopped"
