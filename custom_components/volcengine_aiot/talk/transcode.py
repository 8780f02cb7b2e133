"""ffmpeg as a child process: any media in, 20 ms frames of 8 kHz mono A-law out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import fcntl
import logging
import os
from pathlib import Path
import re
import signal
from typing import Final

from ..util import lower_priority, redact_text
from .errors import (
    TalkEmptyAudioError,
    TalkError,
    TalkFfmpegError,
    TalkMediaError,
    TalkMediaFetchError,
    TalkMediaInterruptedError,
    TalkMediaNotFoundError,
)
from .ffmpeg import PROTOCOLS_FILE, PROTOCOLS_PIPE, PROTOCOLS_URL
from .flv import ALAW_SILENCE, FRAME_BYTES, FRAME_SECONDS, SAMPLE_RATE
from .probe import decoded_seconds, probe_duration
from .source import AudioSource

_LOGGER = logging.getLogger(__name__)

# How far ffmpeg may read ahead of the pacer, bounded everywhere on the way (8 kB = 1 s):
QUEUE_FRAMES: Final = 25  # decoded frames waiting for the pacer: 0.5 s
READER_LIMIT: Final = 5 * FRAME_BYTES  # the reader pauses above 2 x this + one pipe read
PIPE_BYTES: Final = 4096  # ffmpeg's stdout pipe (the smallest Linux allows): 0.5 s
# The most audio written by ffmpeg but not yet taken from the queue (queue, the frame on its
# way into it, reader, pipe): how late a failure of ffmpeg (killed, connection dropped) is
# noticed at worst, at real-time pace. 13,952 bytes: 1.74 s.
READ_AHEAD_BYTES: Final = (
    QUEUE_FRAMES * FRAME_BYTES + FRAME_BYTES + (2 * READER_LIMIT + PIPE_BYTES) + PIPE_BYTES
)

# A piped input (TTS) of at most this is kept until it has arrived, then measured (probe.py):
# the transcode itself is paced, it ends with the audio.
MEASURE_LIMIT: Final = 4 * 1024 * 1024

_STDERR_KEEP = 4096
_KILL_TIMEOUT = 5.0
_STDERR_WAIT = 1.0

_LOG_PREFIX: Final = re.compile(r"^\[(\w+) @ 0x[0-9a-fA-F]+\]\s*")
_ANY_URL: Final = re.compile(r"\S+://\S*")
# How ffmpeg (5 to 7) says that it refused a protocol, could not fetch a URL, or could not
# read its input to the end (then it may still exit with 0).
_REFUSED: Final = ("not on whitelist",)
_NETWORK_COMPONENTS: Final = frozenset({"tcp", "tls", "http", "https", "httpproxy"})
_FETCH: Final = (
    "connection refused",
    "failed to resolve",
    "server returned",
    "http error",
    "stream ends prematurely",
    "timed out",
    "connection reset",
    "network is unreachable",
    "no route to host",
)
_INPUT_FAILED: Final = (
    "error during demuxing",
    "error retrieving a packet",
    "stream ends prematurely",
)


async def check_source(source: AudioSource) -> None:
    """Raise TalkMediaNotFoundError when a local file does not exist."""
    if source.location is None or source.is_url:
        return
    path = Path(source.location)
    if not await asyncio.get_running_loop().run_in_executor(None, path.is_file):
        raise TalkMediaNotFoundError(f"{path.name} not found", media=source.label or path.name)


def ffmpeg_input(source: AudioSource) -> str:
    """Return what ffmpeg is given as ``-i`` for a source."""
    if source.stream is not None:
        return "pipe:0"
    if source.is_url:
        return str(source.location)
    return f"file:{source.location}"  # a local path is never taken for another protocol


def ffmpeg_args(ffmpeg: str, source: AudioSource) -> list[str]:
    """Return the ffmpeg command line for a source."""
    args = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
    if source.stream is not None:
        # Piped TTS: start decoding from the first bytes instead of probing seconds of input.
        args += ["-protocol_whitelist", PROTOCOLS_PIPE, "-probesize", "32", "-analyzeduration", "0"]
    elif source.is_url:
        args += ["-protocol_whitelist", PROTOCOLS_URL, "-rw_timeout", "15000000"]
        args += ["-probesize", "65536"]
    else:
        args += ["-protocol_whitelist", PROTOCOLS_FILE]
    args += ["-i", ffmpeg_input(source), "-vn", "-sn", "-dn"]
    if source.gain != 1.0:
        args += ["-af", f"volume={source.gain:.6f}"]
    args += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "alaw", "-flush_packets", "1", "pipe:1"]
    return args


def _limit_pipe(fd: int) -> None:
    """Shrink a pipe to PIPE_BYTES (Linux; elsewhere the pipe keeps its size)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, PIPE_BYTES)


class _FfmpegLog:
    """ffmpeg's error output: what went wrong, redacted, in as few words as ffmpeg has."""

    def __init__(self, input_name: str) -> None:
        self._input_prefix = f"{input_name}: "
        self._partial = b""
        self.tail = b""
        self.refused: str | None = None  # a protocol refused by the whitelist
        self.fetch_failed: str | None = None  # a network / HTTP failure
        self.input_failed: str | None = None  # the input could not be read to its end
        self.last: str | None = None

    def feed(self, chunk: bytes) -> None:
        self.tail = (self.tail + chunk)[-_STDERR_KEEP:]
        *lines, self._partial = (self._partial + chunk).replace(b"\r", b"\n").split(b"\n")
        if len(self._partial) > _STDERR_KEEP:
            self._partial = self._partial[-_STDERR_KEEP:]
        for line in lines:
            self._line(line.decode(errors="replace").strip())

    def close(self) -> None:
        self._line(self._partial.decode(errors="replace").strip())
        self._partial = b""

    def _line(self, raw: str) -> None:
        if not raw:
            return
        failed_input = raw.startswith(self._input_prefix)
        component = match.group(1) if (match := _LOG_PREFIX.match(raw)) else None
        line = redact_text(_LOG_PREFIX.sub("", raw))
        lower = _ANY_URL.sub("", line).lower()  # a URL's own words are no diagnosis
        self.last = line
        if self.refused is None and any(marker in lower for marker in _REFUSED):
            self.refused = line
        if self.fetch_failed is None and (
            component in _NETWORK_COMPONENTS or any(marker in lower for marker in _FETCH)
        ):
            self.fetch_failed = line
        if self.input_failed is None and (
            failed_input or any(marker in lower for marker in _INPUT_FAILED)
        ):
            self.input_failed = line


def _exit_text(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"ffmpeg was stopped by {signal.Signals(-returncode).name}"
        return f"ffmpeg was stopped by signal {-returncode}"
    return f"ffmpeg exited with code {returncode}"


class Transcoder:
    """One ffmpeg child for one source; frames are read ahead into a small bounded queue.

    ffmpeg's output goes through a pipe of PIPE_BYTES and a reader limited to READER_LIMIT
    into a queue of QUEUE_FRAMES, so at most READ_AHEAD_BYTES of audio wait between ffmpeg
    and the pacer. After the last frame the queue holds the outcome: None when ffmpeg read
    its input to the end, else the error (a failure after some audio included).

    ``duration`` is how long the source plays once known: for a piped source (TTS), when all
    of it has arrived; for a local file, once ffmpeg has described it (None before, and for
    URLs, which are never fetched twice).
    """

    def __init__(self, ffmpeg: str, source: AudioSource) -> None:
        """Initialize; nothing runs before ``start``."""
        self._ffmpeg = ffmpeg
        self._source = source
        self._process: asyncio.subprocess.Process | None = None
        self._pipe: asyncio.ReadTransport | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._frames: asyncio.Queue[bytes | TalkError | None] = asyncio.Queue(QUEUE_FRAMES)
        self._log = _FfmpegLog(ffmpeg_input(source))
        self._stream_failed: str | None = None
        self.frames_read = 0
        self.duration: float | None = None
        self.done = False

    async def start(self) -> None:
        """Start ffmpeg and the tasks that feed it and read it."""
        source = self._source
        await check_source(source)
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        try:
            _limit_pipe(write_fd)  # before ffmpeg can fill it
            try:
                self._process = await asyncio.create_subprocess_exec(
                    *ffmpeg_args(self._ffmpeg, source),
                    stdin=asyncio.subprocess.PIPE if source.stream else asyncio.subprocess.DEVNULL,
                    stdout=write_fd,
                    stderr=asyncio.subprocess.PIPE,
                )
            finally:
                os.close(write_fd)
            stdout = asyncio.StreamReader(limit=READER_LIMIT)
            pipe = os.fdopen(read_fd, "rb", buffering=0)  # the transport closes it
        except BaseException as err:  # also cancelled: never leak the pipe
            os.close(read_fd)
            if isinstance(err, OSError):
                raise TalkFfmpegError(f"cannot run ffmpeg: {err}", error=str(err)) from err
            raise
        self._pipe, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stdout), pipe
        )
        process = self._process
        lower_priority(process.pid)
        if process.stderr is not None:  # always: stderr=PIPE
            self._tasks.append(loop.create_task(self._drain_stderr(process.stderr)))
        self._tasks.append(loop.create_task(self._read(process, stdout)))
        if source.stream is not None and process.stdin is not None:
            self._tasks.append(loop.create_task(self._feed(process.stdin, source.stream)))
        elif source.location is not None and not source.is_url:
            self._tasks.append(loop.create_task(self._measure_file(source.location)))

    async def _feed(
        self, stdin: asyncio.StreamWriter, stream: Callable[[], AsyncIterator[bytes]]
    ) -> None:
        """Pipe the stream to ffmpeg, taking it as fast as it arrives, then measure it.

        ffmpeg reads at the pace of the talk (its output is bounded), so the stream is taken
        ahead of it into the pipe's buffer, up to MEASURE_LIMIT bytes: a TTS result is measured
        as soon as it has been synthesised. Beyond that it is piped at ffmpeg's pace, and not
        measured.
        """
        kept: list[bytes] | None = []  # the input, to measure once it has all arrived
        size = 0
        try:
            async for chunk in stream():
                if stdin.is_closing():
                    kept = None  # ffmpeg ended (or was stopped) before the stream did
                    break
                stdin.write(chunk)
                if kept is not None:
                    size += len(chunk)
                    if size > MEASURE_LIMIT:
                        kept = None  # too long to keep: no duration
                    else:
                        kept.append(chunk)
                if kept is None:
                    await stdin.drain()
        except BrokenPipeError, ConnectionResetError:
            kept = None  # ffmpeg ended (or was stopped) before the stream did
        except Exception as err:  # a failing TTS stream: what arrived is played, then an error
            _LOGGER.debug("The audio stream of %s failed", self._source.label, exc_info=True)
            self._stream_failed = redact_text(f"the audio stream failed: {err!r}")
            kept = None
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                stdin.close()  # after what is buffered has been written
        if kept:
            self.duration = await decoded_seconds(
                ffmpeg_args(self._ffmpeg, self._source), b"".join(kept)
            )
            _LOGGER.debug("%s plays %s s", self._source.label, self.duration)

    async def _measure_file(self, path: str) -> None:
        """Learn how long a local file plays (its probe's ffmpeg is reaped by ``aclose``)."""
        self.duration = await probe_duration(self._ffmpeg, path)

    async def _drain_stderr(self, stderr: asyncio.StreamReader) -> None:
        while chunk := await stderr.read(1024):
            self._log.feed(chunk)
        self._log.close()

    async def _read(
        self, process: asyncio.subprocess.Process, stdout: asyncio.StreamReader
    ) -> None:
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
        with contextlib.suppress(TimeoutError):  # let the stderr reader finish
            await asyncio.wait_for(asyncio.shield(self._tasks[0]), _STDERR_WAIT)
        await self._frames.put(self._outcome(returncode))

    def _outcome(self, returncode: int) -> TalkError | None:
        """Return the error ffmpeg's exit means, or None when all went well."""
        log = self._log
        failure = log.refused or self._stream_failed or log.input_failed
        if returncode == 0 and failure is None:
            return None if self.frames_read else TalkEmptyAudioError("the media has no audio")
        error = (
            _exit_text(returncode)
            if returncode < 0  # killed: whatever it wrote before is not the reason
            else log.refused
            or self._stream_failed
            or log.fetch_failed
            or failure
            or log.last
            or _exit_text(returncode)
        )
        seconds = f"{self.frames_read * FRAME_SECONDS:.1f}"
        _LOGGER.debug(
            "ffmpeg for %s ended with %s after %s s: %s",
            self._source.label,
            returncode,
            seconds,
            redact_text(log.tail.decode(errors="replace")),
        )
        if self._source.is_url and log.fetch_failed and not log.refused and returncode >= 0:
            return TalkMediaFetchError(f"cannot fetch the media: {error}", error=error)
        if self.frames_read == 0:
            return TalkMediaError(f"ffmpeg exited with {returncode}: {error}", error=error)
        return TalkMediaInterruptedError(
            f"ffmpeg failed after {seconds} s: {error}", error=error, seconds=seconds
        )

    def next_frame(self) -> bytes | None:
        """Return the next frame if one is ready, else None (check ``done`` for the end).

        Raises the source's error once its frames have been taken: at once when ffmpeg
        produced no audio, after the last frame when it failed in the middle.
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
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        self.done = True
