"""Real-time pacing of the talk frames: absolute deadlines on one grid shared by every talk.

Frame n of a talk is due at ``(tick0 + n) * 20 ms`` of the event loop's clock, ``tick0`` being
a whole tick. Every talk's deadlines therefore fall on the same instants, and the timers of
talks running at once expire together: a broadcast to ten cameras wakes the event loop 50
times a second, not 500. Waking the loop is what real-time sending costs most (it is a system
call and a scheduler round trip per wake-up), more than building and sending a frame.
"""

from __future__ import annotations

import asyncio
import math
from typing import Final

from .flv import FRAME_SECONDS

LEAD: Final = 2  # frames sent ahead of real time at most
MAX_LATE: Final = 0.1  # later than this (event loop stall): re-anchor, never burst


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FrameClock:
    """Deadlines of one talk's frames; ``frames`` counts the frames sent so far."""

    def __init__(self) -> None:
        """Anchor frame 0 on the next tick of the shared grid."""
        self._loop = asyncio.get_running_loop()
        self._tick0 = math.ceil(self._loop.time() / FRAME_SECONDS)
        self.frames = 0

    def due(self, frame: int) -> float:
        """Return the loop time at which ``frame`` is due (a grid instant)."""
        return (self._tick0 + frame) * FRAME_SECONDS

    async def wait_slot(self) -> None:
        """Wait until the next frame may be sent: LEAD frames before it is due.

        After a stall of the event loop longer than MAX_LATE the talk is re-anchored on the
        grid instead of sending the missed frames in a burst.
        """
        send_at = self.due(self.frames - LEAD)
        now = self._loop.time()
        if now > send_at + (LEAD * FRAME_SECONDS + MAX_LATE):
            self._tick0 = math.ceil(now / FRAME_SECONDS) - self.frames
        elif send_at > now:
            # call_at with the grid instant itself (not now + delay): the timers of all talks
            # are equal, so the loop serves them in one wake-up.
            future = self._loop.create_future()
            handle = self._loop.call_at(send_at, _wake, future)
            try:
                await future
            finally:
                handle.cancel()
