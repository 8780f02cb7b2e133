"""One push-to-talk on a camera's speaker: a client's PCM frames, played once the first arrived.

A push-to-talk takes the camera (what is playing is interrupted, the queue cleared), but only once
the client's first frame arrived, so a press whose microphone delivers nothing never touches the
camera. The client ending its audio (release), 2 s without audio once open and the maximum talk
duration end the talk; the speaker always stops it. What the client is told goes through
``send``: ``talking`` when the camera plays the first frame, ``ended`` with the reason and the
seconds played. A talk failure is raised (``TalkError``) for the caller to translate.
"""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Any

from .microphone import END_NO_AUDIO, LiveFrames, live_source
from .session import PlayResult
from .speaker import Speaker

type TalkEvent = dict[str, Any]


class PushToTalk:
    """One push-to-talk: the frames a client pushes, played on one speaker."""

    def __init__(
        self,
        speaker: Speaker,
        send: Callable[[TalkEvent], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Initialize; ``send`` tells the client how the talk goes."""
        self._speaker = speaker
        self._send = send
        self._clock = clock
        self.pressed_at = clock()
        self.opened_at: float | None = None
        self.frames = LiveFrames(on_open=self._on_open, clock=clock)

    def _on_open(self) -> None:
        self.opened_at = self._clock()
        self._send({"type": "talking"})

    def push(self, data: bytes) -> None:
        """Take one message of the client: a 20 ms frame, or empty for the end of its audio."""
        if data:
            self.frames.push(data)
        else:
            self.frames.end()

    def release(self) -> None:
        """End the client's audio (released, or gone): play what is buffered, then stop."""
        self.frames.end()

    async def run(self) -> PlayResult | None:
        """Play the talk; None if no audio came, so the camera was not touched.

        Raises ``TalkError`` when the talk fails (``ended`` is not sent then).
        """
        if not await self.frames.wait_audio():
            # Released, closed or no microphone audio in time: the camera was not touched.
            why = self.frames.end_reason or END_NO_AUDIO
            self._send({"type": "ended", "reason": why, "seconds": 0.0})
            return None
        result = await self._speaker.play([live_source(self.frames)])
        reason = self.frames.end_reason
        if result.interrupted or reason is None:
            reason = "interrupted"
        self._send({"type": "ended", "reason": reason, "seconds": round(result.seconds, 2)})
        return result
