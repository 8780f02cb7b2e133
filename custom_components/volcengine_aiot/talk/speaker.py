"""A camera speaker: a queue of playbacks, one talk session while there is something to play.

The HA entity drives one ``Speaker`` per camera. A session is: StartVoiceTalk (started while
ffmpeg starts) → WebSocket → pre-roll silence → the queued playbacks, frame by frame on absolute
deadlines → tail silence → close the socket → StopVoiceTalk. Whatever happens, the session ends
with no ffmpeg child, task or socket left and the talk stopped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
import contextlib
from dataclasses import dataclass
import logging
import time
from typing import Final, Protocol

import aiohttp

from ..api.errors import VolcengineDeviceBusyError, VolcengineError
from .errors import (
    TalkDeviceBusyError,
    TalkEmptyAudioError,
    TalkError,
    TalkMaxDurationError,
    TalkMediaError,
    TalkMediaNotFoundError,
)
from .flv import FRAME_SECONDS, SILENCE_FRAME
from .pool import FrameSource, TranscoderPool
from .sender import FRAMING_FLV, TalkSocket
from .transcode import AudioSource, check_source

_LOGGER = logging.getLogger(__name__)

LEAD: Final = 2 * FRAME_SECONDS  # send at most two frames ahead of real time
MAX_LATE: Final = 0.1  # later than this (event loop stall): re-anchor the clock, never burst
STOP_TIMEOUT: Final = 5.0
# Errors that concern one playback only: the session goes on with the next one.
PLAYBACK_ERRORS: Final = (
    TalkMediaError,
    TalkMediaNotFoundError,
    TalkEmptyAudioError,
    TalkMaxDurationError,
)


@dataclass(frozen=True, slots=True)
class TalkOptions:
    """How the speaker talks."""

    framing: str = FRAMING_FLV
    transport: str = "tcp"
    preroll: float = 0.5
    tail: float = 0.3
    max_duration: float = 600.0
    busy_retries: int = 3
    busy_retry_delay: float = 1.0


@dataclass(slots=True)
class TalkStats:
    """Counters of a speaker since it was created (for diagnostics; no secrets)."""

    sessions: int = 0
    frames_sent: int = 0
    underrun_frames: int = 0  # silence sent because the audio was not ready in time
    last_error: str | None = None  # the error class of the last failure


@dataclass(frozen=True, slots=True)
class PlayResult:
    """What a play() call got: seconds of its audio sent, or interrupted by a newer call/stop."""

    seconds: float
    interrupted: bool


class TalkOpener(Protocol):
    """Starts and stops the voice talk of one device."""

    async def start(self) -> str:
        """Start the talk and return the AudioSendUrl."""

    async def stop(self) -> None:
        """Stop the talk."""


class _Playback:
    """One play() call: its sources, their transcoders and the caller's future."""

    def __init__(self, sources: Sequence[AudioSource], *, announce: bool = False) -> None:
        self.sources = tuple(sources)
        self.announce = announce
        self.future: asyncio.Future[PlayResult] = asyncio.get_running_loop().create_future()
        # The caller may have gone away (cancelled): never leave an unretrieved exception.
        self.future.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        self.transcoders: list[FrameSource] = []
        self.frames = 0
        self.interrupted = False

    @property
    def seconds(self) -> float:
        return self.frames * FRAME_SECONDS

    def finish(self, *, interrupted: bool = False) -> None:
        if not self.future.done():
            self.future.set_result(PlayResult(self.seconds, interrupted or self.interrupted))

    def fail(self, err: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(err)

    async def start(self, pool: TranscoderPool) -> None:
        """Start ffmpeg for every source now, so the next one is ready when one ends."""
        for source in self.sources:
            transcoder = pool.open(source)
            self.transcoders.append(transcoder)
            await transcoder.start()

    async def close(self) -> None:
        transcoders, self.transcoders = self.transcoders, []
        await asyncio.gather(*(t.aclose() for t in transcoders), return_exceptions=True)


def _resolve(playback: _Playback, failure: TalkError | None) -> None:
    if failure is None:
        playback.finish()
    else:
        playback.fail(failure)


@dataclass(slots=True)
class _TalkAttempt:
    """What the concurrent talk start got to: StartVoiceTalk sent, socket created."""

    started: bool = False
    socket: TalkSocket | None = None


class _Clock:
    """Absolute deadlines: frame n is due at t0 + n * 20 ms."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.frames = 0

    async def wait_slot(self) -> None:
        deadline = self.t0 + self.frames * FRAME_SECONDS
        now = time.monotonic()
        if now > deadline + MAX_LATE:
            self.t0 = now - self.frames * FRAME_SECONDS
        elif deadline - LEAD > now:
            await asyncio.sleep(deadline - LEAD - now)


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
        self._http = http
        self._opener = opener
        self._transcoders = transcoders
        self.options = options
        self._on_change = on_change
        self.name = name
        self._queue: deque[_Playback] = deque()
        self._current: _Playback | None = None
        self._source: AudioSource | None = None
        self._session: asyncio.Task[None] | None = None
        self._previous: asyncio.Task[None] | None = None
        self._stopping = False
        self._closed = False
        self._stale = False  # a talk of ours may still be open on the platform
        self.stats = TalkStats()

    @property
    def is_playing(self) -> bool:
        """Return whether a talk session is running."""
        return self._session is not None

    @property
    def current(self) -> AudioSource | None:
        """Return the source being played."""
        return self._source

    async def play(
        self, sources: Sequence[AudioSource], *, enqueue: bool = False, announce: bool = False
    ) -> PlayResult:
        """Play sources (in order) and return once they have been played.

        ``enqueue=False`` interrupts what is playing and clears the queue; ``enqueue=True``
        plays after it, in the same talk session. ``announce=True`` plays at once: what is
        playing (and an announcement not started yet) is interrupted, the queue plays after it.
        Cancelling the caller does not stop the audio.
        """
        if not sources:
            msg = "nothing to play"
            raise ValueError(msg)
        if self._closed:
            return PlayResult(0.0, interrupted=True)
        for source in sources:  # a caller's mistake is reported before anything starts
            await check_source(source)
        playback = _Playback(sources, announce=announce)
        if announce:
            self._interrupt_for_announcement()
            self._queue.appendleft(playback)
        else:
            if not enqueue:
                self._interrupt_all()
            self._queue.append(playback)
        if self._session is None:
            self._stopping = False
            self._session = asyncio.get_running_loop().create_task(
                self._run(), name=f"volcengine_aiot talk {self.name}"
            )
            self._notify()
        return await asyncio.shield(playback.future)

    async def stop(self) -> None:
        """Stop now, clear the queue, end the talk; returns once everything is cleaned up."""
        self._interrupt_all()
        session = self._session
        if session is None:
            return
        self._stopping = True
        await asyncio.shield(asyncio.wait({session}))

    async def close(self) -> None:
        """Stop and refuse further plays (unload, Home Assistant shutdown)."""
        self._closed = True
        await self.stop()
        if (previous := self._previous) is not None:
            await asyncio.shield(asyncio.wait({previous}))

    def _interrupt_all(self) -> None:
        for playback in self._queue:
            playback.finish(interrupted=True)
        self._queue.clear()
        if self._current is not None:
            self._current.interrupted = True

    def _interrupt_for_announcement(self) -> None:
        """Interrupt what is playing and announcements not started yet; keep the queue."""
        for playback in [p for p in self._queue if p.announce]:
            playback.finish(interrupted=True)
            self._queue.remove(playback)
        if self._current is not None:
            self._current.interrupted = True

    def _notify(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception:
                _LOGGER.exception("State callback of %s failed", self.name)

    # --- the session ---------------------------------------------------------------------

    async def _run(self) -> None:
        this = asyncio.current_task()
        previous, self._previous = self._previous, this
        if previous is not None and not previous.done():
            await asyncio.wait({previous})  # the last session is still stopping its talk
        options = self.options
        self.stats.sessions += 1
        attempt = _TalkAttempt()
        deferred: list[tuple[_Playback, TalkError | None]] = []
        error: BaseException | None = None
        playback = self._next()
        # The talk (StartVoiceTalk, then the socket) is opened while ffmpeg starts.
        talk = asyncio.get_running_loop().create_task(
            self._connect(options, attempt), name=f"volcengine_aiot talk start {self.name}"
        )
        try:
            if playback is not None:
                playback = await self._start(playback, deferred)
            if playback is None and not self._queue:
                return  # nothing playable (the caller's mistake): the talk is abandoned
            socket = await talk
            first, playback = playback, None  # from here on, self._current tracks it
            await self._serve(socket, first, deferred, options)
        except (TalkError, VolcengineError) as err:
            error = err
            self.stats.last_error = type(err).__name__
            _LOGGER.debug("%s: talk failed: %s", self.name, err)
        finally:
            pending = [p for p in (self._current, playback, *self._queue) if p is not None]
            self._queue.clear()
            self._session = None
            self._current = self._source = None
            self._stopping = False
            self._notify()
            if not talk.done():
                talk.cancel()
            await asyncio.wait({talk})
            if not talk.cancelled() and talk.exception() is not None and error is None:
                _LOGGER.debug("%s: abandoned talk failed: %s", self.name, talk.exception())
            await asyncio.shield(self._cleanup(pending, attempt.socket, started=attempt.started))
            for p in pending:
                if error is not None:
                    p.fail(error)
                else:
                    p.finish(interrupted=True)
            for p, failure in deferred:
                _resolve(p, failure)

    async def _serve(
        self,
        socket: TalkSocket,
        playback: _Playback | None,
        deferred: list[tuple[_Playback, TalkError | None]],
        options: TalkOptions,
    ) -> None:
        """Pre-roll, then every queued playback in real time, then the tail."""
        _LOGGER.debug("%s: talking on %s", self.name, socket.display_url)
        clock = _Clock()
        await self._silence(socket, clock, options.preroll, wake_on_queue=False)
        while True:
            if playback is None and not self._stopping and (playback := self._next()) is not None:
                playback = await self._start(playback, deferred)
                continue
            if playback is None:
                if self._stopping or not await self._silence(
                    socket, clock, options.tail, wake_on_queue=True
                ):
                    break
                continue
            failure: TalkError | None = None
            try:
                await self._play(playback, socket, clock, options)
            except PLAYBACK_ERRORS as err:
                _LOGGER.debug("%s: playback failed: %s", self.name, err)
                self.stats.last_error = type(err).__name__
                failure = err
            finally:
                await playback.close()
            self._current = self._source = None
            if self._queue or playback.interrupted:
                _resolve(playback, failure)
            else:
                deferred.append((playback, failure))  # resolved once the talk has ended
            playback = None

    async def _cleanup(
        self, pending: list[_Playback], socket: TalkSocket | None, *, started: bool
    ) -> None:
        """Stop ffmpeg, close the socket, then StopVoiceTalk (bounded, best effort)."""
        await asyncio.gather(*(p.close() for p in pending), return_exceptions=True)
        if socket is not None:
            await socket.close()
        if started:
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await self._opener.stop()
            except (VolcengineError, TimeoutError) as err:
                self._stale = True  # stopped first if the device reports busy next time
                _LOGGER.warning("%s: StopVoiceTalk failed: %s", self.name, err)

    def _next(self) -> _Playback | None:
        if not self._queue:
            return None
        playback = self._queue.popleft()
        self._current = playback
        return playback

    async def _start(
        self, playback: _Playback, deferred: list[tuple[_Playback, TalkError | None]]
    ) -> _Playback | None:
        """Start a playback's ffmpeg; a playback that cannot start fails alone."""
        try:
            await playback.start(self._transcoders)
        except PLAYBACK_ERRORS as err:
            self.stats.last_error = type(err).__name__
            await playback.close()
            self._current = None
            if self._queue:
                playback.fail(err)
            else:
                deferred.append((playback, err))  # reported once the talk has ended
            return None
        return playback

    async def _connect(self, options: TalkOptions, attempt: _TalkAttempt) -> TalkSocket:
        """StartVoiceTalk, then open the socket (and send the FLV header)."""
        try:
            url = await self._open_talk(options)
        except asyncio.CancelledError:
            attempt.started = True  # the request may have reached the platform: stop it
            raise
        attempt.started = True
        attempt.socket = TalkSocket(self._http, url, options.framing)
        await attempt.socket.connect()
        return attempt.socket

    async def _open_talk(self, options: TalkOptions) -> str:
        """StartVoiceTalk; a busy device is retried a few times.

        Busy usually means someone else is talking (the console, another client): that talk
        is not cut off. Only a talk of ours whose StopVoiceTalk failed is stopped first.
        """
        for attempt in range(options.busy_retries + 1):
            try:
                url = await self._opener.start()
            except VolcengineDeviceBusyError as err:
                if attempt >= options.busy_retries:
                    raise TalkDeviceBusyError(str(err)) from err
                _LOGGER.debug("%s is busy, retrying (%d)", self.name, attempt + 1)
                if self._stale:
                    with contextlib.suppress(VolcengineError):
                        await self._opener.stop()
                        self._stale = False
                await asyncio.sleep(options.busy_retry_delay)
            else:
                self._stale = False
                return url
        raise AssertionError  # pragma: no cover

    async def _silence(
        self, socket: TalkSocket, clock: _Clock, seconds: float, *, wake_on_queue: bool
    ) -> bool:
        """Send silence; return True as soon as something is queued (if asked to)."""
        for _ in range(round(seconds / FRAME_SECONDS)):
            if self._stopping:
                return False
            if wake_on_queue and self._queue:
                return True
            await clock.wait_slot()
            await socket.send_frame(SILENCE_FRAME)
            clock.frames += 1
            self.stats.frames_sent += 1
        return wake_on_queue and bool(self._queue) and not self._stopping

    async def _play(
        self, playback: _Playback, socket: TalkSocket, clock: _Clock, options: TalkOptions
    ) -> None:
        """Send a playback's frames in real time; silence fills any underrun."""
        max_frames = round(options.max_duration / FRAME_SECONDS)
        for transcoder, source in zip(playback.transcoders, playback.sources, strict=True):
            self._source = source
            self._notify()
            while not (playback.interrupted or self._stopping):
                await clock.wait_slot()  # then take the frame: it may have arrived meanwhile
                frame = transcoder.next_frame()
                if frame is None and transcoder.done:
                    break
                await socket.send_frame(SILENCE_FRAME if frame is None else frame)
                clock.frames += 1
                self.stats.frames_sent += 1
                if frame is None:
                    self.stats.underrun_frames += 1
                else:
                    playback.frames += 1
                    if playback.frames >= max_frames:
                        raise TalkMaxDurationError(f"{options.max_duration:.0f} s reached")
