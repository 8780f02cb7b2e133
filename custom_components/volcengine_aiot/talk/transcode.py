"""ffmpeg as a child process: any media in, 20 ms frames of 8 kHz mono A-law out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import re
from typing import TYPE_CHECKING

from .errors import (
    TalkEmptyAudioError,
    TalkError,
    TalkFfmpegError,
    TalkMediaError,
    TalkMediaNotFoundError,
)
from .flv import ALAW_SILENCE, FRAME_BYTES, SAMPLE_RATE

if TYPE_CHECKING:
    from .pool import FrameSource

_LOGGER = logging.getLogger(__name__)

PROTOCOLS = "file,http,https,tcp,tls,crypto,pipe"
QUEUE_FRAMES = 25  # 0.5 s of audio buffered between ffmpeg and the pacer: memory stays flat
_STDERR_KEEP = 4096
_URL_QUERY = re.compile(r"(https?://[^\s?]+)\?\S*")
_KILL_TIMEOUT = 5.0
FFMPEG_NICENESS = 5


@dataclass(frozen=True, slots=True)
class AudioSource:
    """What to play: a local path or URL for ffmpeg, a byte stream (TTS) or live frames. One."""

    location: str | None = None
    stream: Callable[[], AsyncIterator[bytes]] | None = None
    gain: float = 1.0
    label: str = ""
    key: str | None = None  # identifies a stream's content, so equal streams can share ffmpeg
    live: Callable[[], FrameSource] | None = None  # ready A-law frames (push-to-talk), no ffmpeg

    def __post_init__(self) -> None:
        """Check that exactly one input is given."""
        if sum(x is not None for x in (self.location, self.stream, self.live)) != 1:
            msg = "an AudioSource needs exactly one of location, stream and live"
            raise ValueError(msg)

    @property
    def share_key(self) -> tuple[str, float] | None:
        """Return what makes two sources decode to the same frames (None: never shared)."""
        content = self.location if self.stream is None else self.key
        return None if content is None else (content, round(self.gain, 4))

    @property
    def is_url(self) -> bool:
        """Return whether the location is a network URL."""
        return self.location is not None and self.location.startswith(("http://", "https://"))


def redact(text: str) -> str:
    """Drop URL query strings (signed HA paths, tokens) from a text."""
    return _URL_QUERY.sub(r"\1?…", text)


async def check_source(source: AudioSource) -> None:
    """Raise TalkMediaNotFoundError when a local file does not exist."""
    if source.location is None or source.is_url:
        return
    path = Path(source.location)
    if not await asyncio.get_running_loop().run_in_executor(None, path.is_file):
        raise TalkMediaNotFoundError(f"{path.name} not found", media=source.label or path.name)


def ffmpeg_args(ffmpeg: str, source: AudioSource) -> list[str]:
    """Return the ffmpeg command line for a source."""
    args = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
    args += ["-protocol_whitelist", PROTOCOLS]
    if source.stream is not None:
        # Piped TTS: start decoding from the first bytes instead of probing seconds of input.
        args += ["-probesize", "32", "-analyzeduration", "0", "-i", "pipe:0"]
    elif source.is_url:
        args += ["-rw_timeout", "15000000", "-probesize", "65536", "-i", str(source.location)]
    else:
        args += ["-i", str(source.location)]
    args += ["-vn", "-sn", "-dn"]
    if source.gain != 1.0:
        args += ["-af", f"volume={source.gain:.6f}"]
    args += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "alaw", "-flush_packets", "1", "pipe:1"]
    return args


class Transcoder:
    """One ffmpeg child for one source; frames are read ahead into a small bounded queue."""

    def __init__(self, ffmpeg: str, source: AudioSource) -> None:
        """Initialize; nothing runs before ``start``."""
        self._ffmpeg = ffmpeg
        self._source = source
        self._process: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._frames: asyncio.Queue[bytes | TalkError | None] = asyncio.Queue(QUEUE_FRAMES)
        self._stderr = b""
        self.frames_read = 0
        self.done = False

    async def start(self) -> None:
        """Start ffmpeg and the tasks that feed it and read it."""
        source = self._source
        await check_source(source)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *ffmpeg_args(self._ffmpeg, source),
                stdin=asyncio.subprocess.PIPE if source.stream else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as err:
            raise TalkFfmpegError(f"cannot run ffmpeg: {err}", error=str(err)) from err
        process = self._process
        with contextlib.suppress(OSError):
            # Decoding needs little CPU; its start-up burst must not delay the event loop.
            os.setpriority(os.PRIO_PROCESS, process.pid, FFMPEG_NICENESS)
        loop = asyncio.get_running_loop()
        if process.stderr is not None:  # always: stderr=PIPE
            self._tasks.append(loop.create_task(self._drain_stderr(process.stderr)))
        if process.stdout is not None:  # always: stdout=PIPE
            self._tasks.append(loop.create_task(self._read(process, process.stdout)))
        if source.stream is not None and process.stdin is not None:
            self._tasks.append(loop.create_task(self._feed(process.stdin, source.stream)))

    async def _feed(
        self, stdin: asyncio.StreamWriter, stream: Callable[[], AsyncIterator[bytes]]
    ) -> None:
        try:
            async for chunk in stream():
                stdin.write(chunk)
                await stdin.drain()
        except BrokenPipeError, ConnectionResetError:
            pass  # ffmpeg ended (or was stopped) before the stream did
        except Exception:  # a failing TTS stream ends the input; ffmpeg reports what it got
            _LOGGER.debug("The audio stream of %s failed", self._source.label, exc_info=True)
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                stdin.close()

    async def _drain_stderr(self, stderr: asyncio.StreamReader) -> None:
        while chunk := await stderr.read(1024):
            self._stderr = (self._stderr + chunk)[-_STDERR_KEEP:]

    async def _read(
        self, process: asyncio.subprocess.Process, stdout: asyncio.StreamReader
    ) -> None:
        result: TalkError | None = None
        while True:
            try:
                frame = await stdout.readexactly(FRAME_BYTES)
            except asyncio.IncompleteReadError as err:
                if err.partial:
                    pad = bytes([ALAW_SILENCE]) * (FRAME_BYTES - len(err.partial))
                    self.frames_read += 1
                    await self._frames.put(err.partial + pad)
                break
            self.frames_read += 1
            await self._frames.put(frame)
        returncode = await process.wait()
        if self.frames_read == 0:
            with contextlib.suppress(TimeoutError):  # let the stderr reader finish
                await asyncio.wait_for(asyncio.shield(self._tasks[0]), 1)
            last = redact(
                self._stderr.decode(errors="replace").strip().splitlines()[-1:][0]
                if self._stderr.strip()
                else ""
            )
            if returncode != 0:
                result = TalkMediaError(
                    f"ffmpeg exited with {returncode}: {last}", error=last or f"exit {returncode}"
                )
            else:
                result = TalkEmptyAudioError("the media has no audio")
        elif returncode != 0:
            _LOGGER.debug("ffmpeg ended with %s after %d frames", returncode, self.frames_read)
        await self._frames.put(result)

    def next_frame(self) -> bytes | None:
        """Return the next frame if one is ready, else None (check ``done`` for the end).

        Raises the source's error once ffmpeg has ended without producing audio.
        """
        if self.done:
            return None
        try:
            item = self._frames.get_nowait()
        except asyncio.QueueEmpty:
            return None
        return self._item(item)

    async def read_frame(self) -> bytes | None:
        """Wait for the next frame; None at the end. Raises like ``next_frame``."""
        if self.done:
            return None
        return self._item(await self._frames.get())

    def _item(self, item: bytes | TalkError | None) -> bytes | None:
        if isinstance(item, TalkError):
            self.done = True
            raise item
        if item is None:
            self.done = True
        return item

    async def aclose(self) -> None:
        """Stop ffmpeg and every task; always reaps the child."""
        for task in self._tasks:
            task.cancel()
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        if process is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), _KILL_TIMEOUT)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.done = True
