"""One ffmpeg for every camera that plays the same audio at the same time.

An announcement to all cameras (``tts.speak`` with several media players, a chime on every
speaker) starts the same playback on each camera within a few milliseconds. Each speaker asks the
pool for its frames; speakers that ask for the same content (``AudioSource.share_key``) within
``JOIN_WINDOW`` seconds of each other read the frames of one ffmpeg, each at its own pace. The
frames are kept from the first one while the window is open (a late joiner starts at the start),
then only between the slowest and the fastest reader: memory stays bounded. ffmpeg reads ahead of
the fastest reader by at most QUEUE_FRAMES more than an unshared transcoder (READ_AHEAD_BYTES),
and stops when the last reader leaves. When ffmpeg fails, every reader gets all the frames it
produced, then the error.
"""

from __future__ import annotations

import asyncio
from collections import deque
import logging
import time
from typing import Final

from .errors import TalkError
from .flv import FRAME_SECONDS
from .source import AudioSource, FrameSource
from .transcode import QUEUE_FRAMES, Transcoder

_LOGGER = logging.getLogger(__name__)

JOIN_WINDOW: Final = 1.0
REFILL_AFTER: Final = QUEUE_FRAMES // 2 * FRAME_SECONDS


class TranscoderPool:
    """Hands out frame sources; equal sources opened close together share one ffmpeg."""

    def __init__(self, ffmpeg: str, *, join_window: float = JOIN_WINDOW) -> None:
        """Initialize with the ffmpeg binary."""
        self.ffmpeg = ffmpeg
        self._join_window = join_window
        self._shared: dict[tuple[str, float], _SharedTranscode] = {}

    def open(self, source: AudioSource) -> FrameSource:
        """Return a frame source for a source (not started yet)."""
        if source.live is not None:
            return source.live()
        key = source.share_key
        if key is None or self._join_window <= 0:
            return Transcoder(self.ffmpeg, source)
        shared = self._shared.get(key)
        if shared is None or not shared.joinable:
            shared = _SharedTranscode(Transcoder(self.ffmpeg, source), self._join_window)
            self._shared[key] = shared
        else:
            _LOGGER.debug(
                "%s shares the ffmpeg of %d other speaker(s)", source.label, len(shared.readers)
            )
        # forget the ones nobody can join any more
        for stale in [k for k, s in self._shared.items() if not s.joinable and s is not shared]:
            del self._shared[stale]
        return shared.reader()


class _SharedTranscode:
    """One transcoder, read by several readers at their own positions."""

    def __init__(self, transcoder: Transcoder, join_window: float) -> None:
        self._transcoder = transcoder
        self._deadline = time.monotonic() + join_window
        self.frames: deque[bytes] = deque()
        self.base = 0  # index of frames[0]
        self.ended = False
        self.error: TalkError | None = None
        self.readers: set[_Reader] = set()
        self._start: asyncio.Task[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def end(self) -> int:
        return self.base + len(self.frames)

    @property
    def duration(self) -> float | None:
        return self._transcoder.duration

    @property
    def _window_open(self) -> bool:
        return time.monotonic() < self._deadline

    @property
    def joinable(self) -> bool:
        return not self._closed and self.base == 0 and self._window_open

    def reader(self) -> _Reader:
        reader = _Reader(self)
        self.readers.add(reader)
        return reader

    async def start(self) -> None:
        if self._start is None:
            self._start = asyncio.get_running_loop().create_task(self._transcoder.start())
        await asyncio.shield(self._start)
        if self._pump is None and not self._closed:
            self._pump = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                self._trim()
                if self.readers and self.end - max(r.position for r in self.readers) >= (
                    QUEUE_FRAMES
                ):
                    # The fastest reader has 0.5 s ahead (and ffmpeg as much again): look
                    # again when about half of it has been played.
                    await asyncio.sleep(REFILL_AFTER)
                    continue
                frame = await self._transcoder.read_frame()
                if frame is None:
                    break
                self.frames.append(frame)
        except TalkError as err:
            self.error = err
        finally:
            self.ended = True

    def _trim(self) -> None:
        """Drop the frames every reader has read, once no one can join any more."""
        if self._window_open or not self.readers:
            return
        slowest = min(r.position for r in self.readers)
        while self.base < slowest and self.frames:
            self.frames.popleft()
            self.base += 1

    async def leave(self, reader: _Reader) -> None:
        self.readers.discard(reader)
        if self.readers or self._closed:
            return
        self._closed = True
        for task in (self._pump, self._start):
            if task is not None and not task.done():
                task.cancel()
        tasks = [t for t in (self._pump, self._start) if t is not None]
        if tasks:
            await asyncio.wait(tasks)
        for task in tasks:  # a failed start was raised to the readers that started
            if not task.cancelled():
                task.exception()
        await self._transcoder.aclose()
        self.frames.clear()


class _Reader:
    """One speaker's view of a shared transcode."""

    def __init__(self, shared: _SharedTranscode) -> None:
        self._shared = shared
        self.position = 0
        self.done = False

    @property
    def duration(self) -> float | None:
        return self._shared.duration

    async def start(self) -> None:
        await self._shared.start()

    def next_frame(self) -> bytes | None:
        if self.done:
            return None
        shared = self._shared
        if self.position < shared.end:
            frame = shared.frames[self.position - shared.base]
            self.position += 1
            return frame
        if shared.ended:
            self.done = True
            if shared.error is not None:
                raise shared.error
        return None

    async def aclose(self) -> None:
        self.done = True
        await self._shared.leave(self)
