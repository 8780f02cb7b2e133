"""One talk session of a camera: StartVoiceTalk → socket → paced playbacks → cleanup.

A session is: StartVoiceTalk (started while ffmpeg starts) → WebSocket → pre-roll silence →
the playbacks the speaker hands it, frame by frame on absolute deadlines → tail silence → close
the socket → StopVoiceTalk. Whatever happens (even a bug), the session ends with no ffmpeg
child, task or socket left, the talk stopped, and every caller's result settled by ``settle``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
import logging
import time
from typing import Final, Protocol

import aiohttp

from .clock import FrameClock
from .errors import (
    PLAYBACK_ERRORS,
    TalkDeviceBusyError,
    TalkError,
    TalkInternalError,
    TalkMaxDurationError,
    TalkStartError,
)
from .flv import FRAME_SECONDS, SILENCE_FRAME
from .options import TalkOptions
from .pool import TranscoderPool
from .record import TalkRecord
from .sender import TalkSocket
from .source import AudioSource, FrameSource

_LOGGER = logging.getLogger(__name__)

STOP_TIMEOUT: Final = 5.0


@dataclass(frozen=True, slots=True)
class PlayResult:
    """What a play() call got: seconds of its audio sent, or interrupted by a newer call/stop."""

    seconds: float
    interrupted: bool


@dataclass(slots=True)
class TalkStats:
    """Counters of a speaker since it was created (for diagnostics; no secrets)."""

    sessions: int = 0
    frames_sent: int = 0
    underrun_frames: int = 0  # silence sent because the audio was not ready in time
    last_error: str | None = None  # the error class of the last failure
    # The later StopVoiceTalk calls of a talk of ours that may have stayed open: seconds
    # since it was left behind and "stopped" or why the stop failed (the last few).
    stale_stops: list[dict[str, object]] = field(default_factory=list)


class TalkOpener(Protocol):
    """Starts and stops the voice talk of one device; raises ``TalkError`` only."""

    async def start(self) -> str:
        """Start the talk and return the AudioSendUrl."""

    async def stop(self) -> None:
        """Stop the talk."""


class Playback:
    """One play() call: its sources, their transcoders and the caller's future."""

    def __init__(self, sources: Sequence[AudioSource], *, announce: bool = False) -> None:
        """Initialize; the future is settled by ``settle`` only."""
        self.sources = tuple(sources)
        self.announce = announce
        self.future: asyncio.Future[PlayResult] = asyncio.get_running_loop().create_future()
        # The caller may have gone away (cancelled): never leave an unretrieved exception.
        self.future.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        self.transcoders: list[FrameSource] = []
        self.frames = 0  # audio frames sent
        self.slots = 0  # frames sent while playing it, audio or underrun silence (wall time)
        self.interrupted = False

    @property
    def seconds(self) -> float:
        """Return the seconds of audio sent."""
        return self.frames * FRAME_SECONDS

    async def start(self, pool: TranscoderPool) -> None:
        """Start ffmpeg for every source now, so the next one is ready when one ends."""
        for source in self.sources:
            transcoder = pool.open(source)
            self.transcoders.append(transcoder)
            await transcoder.start()

    async def close(self) -> None:
        """Stop every transcoder."""
        transcoders, self.transcoders = self.transcoders, []
        await asyncio.gather(*(t.aclose() for t in transcoders), return_exceptions=True)


def settle(playback: Playback, error: BaseException | None) -> None:
    """Give a caller its result: the one place where a play() call is answered.

    A playback interrupted by a newer call or a stop is ``interrupted`` (whatever ended the
    talk afterwards); otherwise an error is raised to the caller, else the seconds played.
    """
    future = playback.future
    if future.done():
        return
    if playback.interrupted or error is None:
        future.set_result(PlayResult(playback.seconds, playback.interrupted))
    else:
        future.set_exception(error)


@dataclass(slots=True)
class _TalkAttempt:
    """What the concurrent talk start got to: StartVoiceTalk may have been sent, socket."""

    started: bool = False
    socket: TalkSocket | None = None


class SessionHost(Protocol):
    """What a talk session sees of its speaker: what it reports to and takes playbacks from."""

    name: str
    options: TalkOptions
    http: aiohttp.ClientSession
    opener: TalkOpener
    transcoders: TranscoderPool
    stats: TalkStats
    talks: deque[TalkRecord]
    stale: bool  # a talk of ours may still be open on the platform

    def has_queued(self, session: TalkSession) -> bool:
        """Return whether a playback waits for this session."""

    def take(self, session: TalkSession) -> Playback | None:
        """Return the next playback for this session, if any."""

    def detach(self, session: TalkSession) -> list[Playback]:
        """Take nothing more from this session; return the playbacks that were waiting."""

    def notify(self) -> None:
        """Report a change of state (what plays, its duration)."""

    def talk_left_open(self) -> None:
        """Have a talk that may still be open on the platform stopped again later."""

    async def stale_stop_done(self) -> None:
        """Wait for a StopVoiceTalk of a talk left open that is under way."""


class TalkSession:
    """One talk of a speaker; it plays what the speaker hands it until nothing is left."""

    def __init__(self, speaker: SessionHost, previous: TalkSession | None) -> None:
        """Start the session task (it first waits for the previous session's cleanup)."""
        self._speaker = speaker
        self._previous = previous
        self.options: TalkOptions = speaker.options
        self._stopping = False
        self._current: Playback | None = None
        self._socket: TalkSocket | None = None
        self.source: AudioSource | None = None  # the source being played
        self.duration: float | None = None  # how long it plays, once known
        self._played: list[tuple[Playback, TalkError | None]] = []  # answered after the talk
        self.record = TalkRecord(framing=self.options.framing)
        self.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"volcengine_aiot talk {speaker.name}"
        )

    def stop(self) -> None:
        """End the session as soon as possible (the current playback is interrupted)."""
        self._stopping = True
        self.interrupt()
        if self._socket is not None:
            self._socket.interrupt()  # a send waiting for a peer that does not read

    def interrupt(self) -> None:
        """Interrupt the current playback; the session goes on with what is queued."""
        if self._current is not None:
            self._current.interrupted = True

    async def wait(self) -> None:
        """Wait until the session has ended and cleaned up (never raises)."""
        await asyncio.wait({self.task})

    # --- the session ---------------------------------------------------------------------

    async def _run(self) -> None:
        if self._previous is not None:
            await self._previous.wait()  # the last session is still stopping its talk
            self._previous = None
        speaker = self._speaker
        await speaker.stale_stop_done()  # a late StopVoiceTalk must not end the new talk
        speaker.stats.sessions += 1
        speaker.talks.append(self.record)
        attempt = _TalkAttempt()
        error: TalkError | None = None
        cancelled = False
        pending: list[Playback] = []
        # The talk (StartVoiceTalk, then the socket) is opened while ffmpeg starts.
        talk = asyncio.get_running_loop().create_task(
            self._connect(attempt), name=f"volcengine_aiot talk start {speaker.name}"
        )
        try:
            playback = self._take()
            if playback is not None:
                playback = await self._start(playback)
            if playback is not None or speaker.has_queued(self):
                socket = await talk
                await self._serve(socket, playback)
        except TalkError as err:
            error = err
        except asyncio.CancelledError:
            cancelled = True
        except Exception as err:  # a bug: the callers get an error, never "interrupted"
            _LOGGER.debug("%s: unexpected error in the talk session", speaker.name, exc_info=True)
            error = TalkInternalError(
                f"unexpected {type(err).__name__}", error=f"unexpected {type(err).__name__}"
            )
        finally:
            pending = self._detach(error)
            try:
                await asyncio.shield(self._end(talk, attempt, pending, error))
            finally:
                for p in pending:
                    p.interrupted = p.interrupted or error is None
                    settle(p, error)
                for p, failure in self._played:
                    settle(p, failure)
        if cancelled:
            raise asyncio.CancelledError

    def _detach(self, error: TalkError | None) -> list[Playback]:
        """Take nothing more (no await before this: a later play starts a new session)."""
        pending = self._speaker.detach(self)
        if self._current is not None:
            pending.insert(0, self._current)
        self._current = self.source = self.duration = None
        if error is not None:
            self._speaker.stats.last_error = self.record.error = type(error).__name__
            _LOGGER.debug("%s: talk failed: %s", self._speaker.name, error)
        return pending

    async def _end(
        self,
        talk: asyncio.Task[TalkSocket],
        attempt: _TalkAttempt,
        pending: list[Playback],
        error: TalkError | None,
    ) -> None:
        """Stop ffmpeg, close the socket, then StopVoiceTalk (bounded, best effort)."""
        if not talk.done():
            talk.cancel()
        await asyncio.wait({talk})
        if not talk.cancelled() and (exc := talk.exception()) is not None and error is None:
            _LOGGER.debug("%s: abandoned talk failed: %s", self._speaker.name, exc)
        await asyncio.gather(*(p.close() for p in pending), return_exceptions=True)
        if attempt.socket is not None:
            await attempt.socket.close()
        if attempt.started:
            await self._stop_talk()

    async def _stop_talk(self) -> None:
        speaker = self._speaker
        reason: str | None = None
        began = time.monotonic()
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await speaker.opener.stop()
            self.record.stop_voice_talk = round(time.monotonic() - began, 3)
        except TalkError as err:
            reason = str(err)
        except TimeoutError:
            reason = f"timed out after {STOP_TIMEOUT:g} s"
        if reason is not None:
            _LOGGER.warning("%s: StopVoiceTalk failed: %s", speaker.name, reason)
            speaker.talk_left_open()

    async def _serve(self, socket: TalkSocket, playback: Playback | None) -> None:
        """Pre-roll, then every playback in real time, then the tail."""
        speaker, options = self._speaker, self.options
        _LOGGER.debug("%s: talking on %s", speaker.name, socket.display_url)
        self._socket = socket
        clock = FrameClock()
        await self._silence(socket, clock, options.preroll, wake_on_queue=False)
        while True:
            if playback is None and not self._stopping and (playback := self._take()) is not None:
                playback = await self._start(playback)
                continue
            if playback is None:
                if self._stopping or not await self._silence(
                    socket, clock, options.tail, wake_on_queue=True
                ):
                    return
                continue
            failure: TalkError | None = None
            try:
                await self._play(playback, socket, clock)
            except PLAYBACK_ERRORS as err:
                _LOGGER.debug("%s: playback failed: %s", speaker.name, err)
                speaker.stats.last_error = type(err).__name__
                failure = err
            finally:
                await playback.close()
            self._current = self.source = self.duration = None
            self._finished(playback, failure)
            playback = None

    def _finished(self, playback: Playback, failure: TalkError | None) -> None:
        """Answer now if more follows, else once the talk has ended (returns when played)."""
        if self._speaker.has_queued(self) or playback.interrupted:
            settle(playback, failure)
        else:
            self._played.append((playback, failure))

    def _take(self) -> Playback | None:
        self._current = self._speaker.take(self)
        return self._current

    async def _start(self, playback: Playback) -> Playback | None:
        """Start a playback's ffmpeg; a playback that cannot start fails alone."""
        try:
            await playback.start(self._speaker.transcoders)
        except PLAYBACK_ERRORS as err:
            self._speaker.stats.last_error = type(err).__name__
            await playback.close()
            self._current = None
            self._finished(playback, err)
            return None
        return playback

    async def _connect(self, attempt: _TalkAttempt) -> TalkSocket:
        """StartVoiceTalk, then open the socket (and send the FLV header)."""
        try:
            url = await self._open_talk()
        except asyncio.CancelledError:
            attempt.started = True  # the request may have reached the platform: stop it
            raise
        except TalkStartError as err:
            if err.may_have_started:  # no answer in time: the talk may be open, and ours
                attempt.started = True
                self._speaker.talk_left_open()
            raise
        attempt.started = True
        attempt.socket = TalkSocket(
            self._speaker.http,
            url,
            self.options.framing,
            record=self.record,
            name=self._speaker.name,
        )
        await attempt.socket.connect()
        return attempt.socket

    async def _open_talk(self) -> str:
        """StartVoiceTalk; a busy device is retried a few times.

        Busy usually means someone else is talking (the console, another client): that talk
        is not cut off. Only a talk of ours that may still be open is stopped first.
        """
        speaker, options = self._speaker, self.options
        for attempt in range(options.busy_retries + 1):
            began = time.monotonic()
            try:
                url = await speaker.opener.start()
            except TalkDeviceBusyError:
                if attempt >= options.busy_retries:
                    raise
                _LOGGER.debug("%s is busy, retrying (%d)", speaker.name, attempt + 1)
                if speaker.stale:
                    try:
                        await speaker.opener.stop()
                    except TalkError as err:
                        _LOGGER.debug("%s: stopping our stale talk failed: %s", speaker.name, err)
                    else:
                        speaker.stale = False
                await asyncio.sleep(options.busy_retry_delay)
            else:
                self.record.start_voice_talk = round(time.monotonic() - began, 3)
                speaker.stale = False
                return url
        raise AssertionError  # pragma: no cover

    async def _silence(
        self, socket: TalkSocket, clock: FrameClock, seconds: float, *, wake_on_queue: bool
    ) -> bool:
        """Send silence; return True as soon as something is queued (if asked to)."""
        speaker = self._speaker
        for _ in range(round(seconds / FRAME_SECONDS)):
            if self._stopping:
                return False
            if wake_on_queue and speaker.has_queued(self):
                return True
            await clock.wait_slot()
            await socket.send_frame(SILENCE_FRAME)
            clock.frames += 1
            speaker.stats.frames_sent += 1
        return wake_on_queue and speaker.has_queued(self) and not self._stopping

    async def _play(self, playback: Playback, socket: TalkSocket, clock: FrameClock) -> None:
        """Send a playback's frames in real time; silence fills any underrun.

        The maximum duration bounds the wall time of the playback: audio and underrun silence.
        """
        speaker, options = self._speaker, self.options
        max_slots = round(options.max_duration / FRAME_SECONDS)
        for transcoder, source in zip(playback.transcoders, playback.sources, strict=True):
            self.source = source
            self.duration = transcoder.duration
            speaker.notify()
            while not (playback.interrupted or self._stopping):
                await clock.wait_slot()  # then take the frame: it may have arrived meanwhile
                frame = transcoder.next_frame()
                if frame is None and transcoder.done:
                    break
                if transcoder.duration != self.duration:  # e.g. a TTS, once it has all arrived
                    self.duration = transcoder.duration
                    speaker.notify()
                await socket.send_frame(SILENCE_FRAME if frame is None else frame)
                clock.frames += 1
                playback.slots += 1
                speaker.stats.frames_sent += 1
                if frame is None:
                    speaker.stats.underrun_frames += 1
                else:
                    playback.frames += 1
                if playback.slots >= max_slots:
                    raise TalkMaxDurationError(f"{options.max_duration:g} s reached")
