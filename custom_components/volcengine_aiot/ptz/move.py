"""Timed PTZ moves that always end in a stop.

A ``CloudControl`` move or zoom runs until a ``stop`` (Volcengine docs 6521/1167737), so a
move that loses its stop leaves the camera turning. ``PtzMover.move`` therefore sends the
stop in every case: after the duration, after an error of the move itself (a timed-out move
may still reach the camera), and when the caller is cancelled. The stop runs in its own task
(``asyncio.shield``), bounded by ``STOP_TIMEOUT``; a second cancellation leaves it running in
the background, where ``aclose`` still waits for it.

A move that timed out may still be on its way and reach the camera after that stop (the client
never re-sends a move, but it cannot call one back). So after a timed-out move a second stop is
sent ``LATE_STOP_DELAY`` seconds later, in the background.

Moves of one channel are serialised: a second move waits until the first has sent its stop,
then moves and stops in its turn, so two users' moves end in a stop. ``stop`` does not wait:
it is sent at once (the running move still sends its own stop at its end).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
import logging
from typing import Any, Final, Protocol

from ..api import PtzCommand, PtzControl, VolcengineError, VolcengineTimeoutError
from ..api.ptz import check_speed, parse_command
from .errors import PtzDurationError, PtzError, PtzStopError

_LOGGER = logging.getLogger(__name__)

MAX_DURATION: Final = 60.0  # seconds: the longest timed move
STOP_TIMEOUT: Final = 15.0  # seconds: the longest wait for a stop (with the client's retries)
LATE_STOP_DELAY: Final = 10.0  # seconds: the client's request timeout, after which a late move


class PtzClient(Protocol):
    """What the mover needs of ``VolcengineClient``."""

    async def ptz_control(self, stream_id: str, command: PtzCommand | str, speed: int) -> None:
        """Start a continuous command."""

    async def ptz_stop(self, stream_id: str, *, lens: bool = False) -> None:
        """Stop a move or zoom (or a focus/iris command: ``lens``)."""


def check_duration(duration: float) -> float:
    """Return ``duration`` if it is in (0, MAX_DURATION] seconds, else raise."""
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        valid = False
    else:
        valid = 0 < duration <= MAX_DURATION
    if not valid:
        msg = f"Duration {duration!r} is outside (0, {MAX_DURATION:g}] seconds"
        raise PtzDurationError(msg, duration=str(duration), max_duration=f"{MAX_DURATION:g}")
    return float(duration)


class PtzMover:
    """Timed moves of a client's channels (keyed by StreamID)."""

    def __init__(
        self,
        client: PtzClient,
        *,
        stop_timeout: float = STOP_TIMEOUT,
        late_stop_delay: float = LATE_STOP_DELAY,
    ) -> None:
        """Initialize with the client that sends the commands."""
        self._client = client
        self._stop_timeout = stop_timeout
        self._late_stop_delay = late_stop_delay
        self._closing = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = {}
        self._moving: set[asyncio.Task[object]] = set()
        self._stops: set[asyncio.Task[None]] = set()

    def busy(self, stream_id: str) -> bool:
        """Return whether a move of the channel is running or waiting."""
        lock = self._locks.get(stream_id)
        return lock is not None and lock.locked()

    async def move(
        self,
        stream_id: str,
        command: PtzCommand | str,
        speed: int,
        duration: float,
        *,
        started: Callable[[], object] | None = None,
    ) -> None:
        """Run ``command`` at ``speed`` for ``duration`` seconds, then stop, whatever happens.

        Input is checked before anything is sent (``VolcenginePtzInputError``,
        ``PtzDurationError``). An error of the move is raised after the stop was sent; an error
        of that stop is raised as ``PtzStopError`` when the move itself went through.
        ``started`` is called once the gateway accepted the command (a move that waited for its
        turn: once it was sent).
        """
        cmd = parse_command(command)
        if cmd is PtzCommand.STOP:
            await self.stop(stream_id)
            return
        check_speed(cmd, speed)
        seconds = check_duration(duration)
        lens = cmd.control is PtzControl.LENS
        task = asyncio.current_task()
        async with self._locks.setdefault(stream_id, asyncio.Lock()):
            if self._closing.is_set():  # a move that waited for the lock while aclose ran
                msg = f"PTZ of {stream_id} is closed"
                raise PtzError(msg)
            if task is not None:
                self._moving.add(task)
            try:
                try:
                    await self._client.ptz_control(stream_id, cmd, speed)
                    if started is not None:
                        started()
                    await asyncio.sleep(seconds)
                except BaseException as err:
                    if isinstance(err, VolcengineTimeoutError):
                        self._track(self._late_stop(stream_id, lens=lens))
                    await self._stop(stream_id, lens=lens, quiet=True)
                    raise
                await self._stop(stream_id, lens=lens, quiet=False)
            finally:
                if task is not None:
                    self._moving.discard(task)

    async def stop(self, stream_id: str, *, lens: bool = False) -> None:
        """Stop the channel now (``lens``: a focus/iris command), without waiting for a move."""
        await self._stop(stream_id, lens=lens, quiet=False)

    async def aclose(self) -> None:
        """Cancel the running moves and wait (bounded) until their stops are sent.

        A late stop still waiting for its delay is sent at once; a move still waiting for its
        turn, or started afterwards, raises ``PtzError`` without sending anything.
        """
        self._closing.set()
        for task in list(self._moving):
            task.cancel()
        pending: set[asyncio.Task[object]] = {*self._moving, *self._stops}
        if pending:
            await asyncio.wait(pending, timeout=self._stop_timeout)

    def _track(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        stop = asyncio.ensure_future(coro)
        self._stops.add(stop)
        stop.add_done_callback(self._stop_done)
        return stop

    async def _late_stop(self, stream_id: str, *, lens: bool) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._late_stop_delay):
                await self._closing.wait()  # aclose: send it now
        await self._bounded_stop(stream_id, lens=lens)

    async def _stop(self, stream_id: str, *, lens: bool, quiet: bool) -> None:
        stop = self._track(self._bounded_stop(stream_id, lens=lens))
        try:
            await asyncio.shield(stop)
        except asyncio.CancelledError:
            raise  # the stop goes on in the background
        except (VolcengineError, TimeoutError) as err:
            if quiet:
                _LOGGER.debug("Stop of %s after a failed move failed: %s", stream_id, err)
                return
            msg = f"Stop of {stream_id} failed: {type(err).__name__}"
            raise PtzStopError(msg) from err

    async def _bounded_stop(self, stream_id: str, *, lens: bool) -> None:
        async with asyncio.timeout(self._stop_timeout):
            await self._client.ptz_stop(stream_id, lens=lens)

    def _stop_done(self, task: asyncio.Task[None]) -> None:
        self._stops.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.debug("PTZ stop failed: %s", err)
