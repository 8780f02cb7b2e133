"""Live-stream side of the emulator: signed pull URLs and an HTTP-FLV endpoint fed by ffmpeg.

* ``StreamServer.issue(stream_id, transcode=...)`` (StartStream, GetStream with
  ``FreshExpiredPull=1``) marks the stream running and returns its pull URLs: RTMP, HTTP-FLV,
  HLS and WebRTC (SDP), like the platform's. Each URL is signed the way Volcengine's live CDN
  signs URLs: ``volcTime`` (Unix time the URL expires) and ``volcSecret`` (an HMAC of path and
  ``volcTime``). Like the platform (``FreshExpiredPull``: "refresh expired signed URLs"), a
  running stream keeps its URLs: only those that have expired are signed again.
  ``StreamServer.urls(stream_id)`` returns them as they are (GetStream without
  ``FreshExpiredPull``). Only the HTTP-FLV and HLS URLs are served; the others exist so a client
  can pick.
* ``GET /live/<stream_id>.flv?volcTime=..&volcSecret=..`` answers 403 for a bad or expired
  signature, 404 for a stream that is not running (``refuse_pulls``: a status for every pull,
  a CDN that fails), else streams FLV made by one ffmpeg per
  pull: ``lavfi`` testsrc (``SIZE`` at ``RATE`` fps, H.264 with libx264 if this ffmpeg has it,
  else MPEG-4) and a 1 kHz sine tone (G.711 A-law, or AAC when the stream was started with
  ``EnableAudioTranscode=1``), in real time.
* ``GET /live/<stream_id>.m3u8?volcTime=..&volcSecret=..`` (same checks) serves a live HLS
  playlist (1 s segments under ``/live/hls/<stream_id>/``, H.264 + AAC) written by one ffmpeg per
  stream, started by the first playlist request and running until the stream is stopped.
* ``await StreamServer.stop(stream_id)`` (StopStream) ends the stream: the URLs stop working
  and every pull's ffmpeg (and the HLS ffmpeg and its files) is gone. ``close_all()`` (emulator
  stop) does that for every stream. RTMP and WebRTC URLs are handed out but not served.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from functools import cache
import hashlib
import hmac
from pathlib import Path
import secrets
import shutil
import subprocess
import tempfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

WIDTH, HEIGHT = 640, 360
SIZE = f"{WIDTH}x{HEIGHT}"
RATE = 10
TONE_HZ = 1000
DEFAULT_PULL_TTL = 300.0  # seconds a signed pull URL is valid
FLV_PATH = "/live/{stream_id}.flv"
HLS_START_TIMEOUT = 20.0  # seconds the first playlist request waits for ffmpeg's first segment
CHUNK = 16384


@cache
def video_encoder(ffmpeg: str = "ffmpeg") -> str:
    """Return ``libx264`` if this ffmpeg has it, else ``mpeg4``."""
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments
            [ffmpeg, "-hide_banner", "-encoders"], capture_output=True, check=False, timeout=10
        ).stdout
    except OSError:
        return "mpeg4"
    return "libx264" if b" libx264 " in out else "mpeg4"


def ffmpeg_command(ffmpeg: str, *, transcode: bool, output: list[str] | None = None) -> list[str]:
    """Return the ffmpeg command line of the test stream: FLV to stdout, or ``output``."""
    encoder = video_encoder(ffmpeg)
    video = ["-c:v", encoder, "-g", str(RATE), "-pix_fmt", "yuv420p"]
    if encoder == "libx264":
        video += ["-preset", "ultrafast", "-tune", "zerolatency"]
    audio = (
        ["-c:a", "aac", "-ar", "16000", "-ac", "1"]
        if transcode
        else ["-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1"]
    )
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={SIZE}:rate={RATE}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={TONE_HZ}:sample_rate=8000",
        *video,
        *audio,
        *(output or ["-flush_packets", "1", "-f", "flv", "-"]),
    ]


def hls_output(folder: Path, stream_id: str) -> list[str]:
    """Return the ffmpeg output options of a live HLS playlist in ``folder``."""
    return [
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_list_size",
        "6",
        "-hls_flags",
        "delete_segments+omit_endlist",
        "-hls_base_url",
        f"hls/{stream_id}/",
        "-hls_segment_filename",
        str(folder / "seg_%d.ts"),
        str(folder / "index.m3u8"),
    ]


@dataclass(eq=False)
class LiveStream:
    """A running stream of the emulator."""

    stream_id: str
    transcode: bool
    urls: list[str] = field(default_factory=list)  # the signed pull URLs handed out
    pulls: set[asyncio.subprocess.Process] = field(default_factory=set)
    hls: asyncio.subprocess.Process | None = None
    hls_folder: Path | None = None


class StreamServer:
    """Signed pull URLs and the HTTP-FLV endpoint of the emulator."""

    def __init__(self, now: Any, ffmpeg: str | None = None) -> None:
        """Initialize; ``now()`` returns the emulator's clock (a datetime)."""
        self._now = now
        self.ffmpeg = ffmpeg or shutil.which("ffmpeg") or "ffmpeg"
        self.base_url = ""  # http://host:port, set by the app once it listens
        self.pull_ttl = DEFAULT_PULL_TTL
        self.streams: dict[str, LiveStream] = {}
        self.pull_count = 0  # accepted pulls since the start
        self.rejected: list[int] = []  # statuses of refused pulls
        self.refuse_pulls: int | None = None  # a failing CDN: every pull gets this status
        self._key = secrets.token_bytes(16)
        self._tasks: set[asyncio.Task[Any]] = set()

    def add_routes(self, app: web.Application) -> None:
        """Register the pull endpoint."""
        app.router.add_get("/live/{stream_id}.flv", self._pull)
        app.router.add_get("/live/{stream_id}.m3u8", self._playlist)
        app.router.add_get("/live/hls/{stream_id}/{segment}", self._segment)

    # --- URLs --------------------------------------------------------------------------------

    def _secret(self, path: str, expires: int) -> str:
        return hmac.new(self._key, f"{path}{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def _sign(self, path: str) -> str:
        expires = int(self._now().timestamp() + self.pull_ttl)
        return f"{path}?volcTime={expires}&volcSecret={self._secret(path, expires)}"

    def _expired(self, url: str) -> bool:
        expires = parse_qs(urlsplit(url).query).get("volcTime", ["0"])[0]
        return int(expires) < self._now().timestamp()

    def issue(self, stream_id: str, *, transcode: bool | None = None) -> list[str]:
        """Start (or keep) a stream and return its pull URLs, the expired ones signed again."""
        stream = self.streams.get(stream_id)
        if stream is None:
            stream = self.streams[stream_id] = LiveStream(stream_id, bool(transcode))
        elif transcode is not None:
            stream.transcode = transcode
        host = self.base_url.removeprefix("http://")
        paths = [
            f"/live/{stream_id}",
            FLV_PATH.format(stream_id=stream_id),
            f"/live/{stream_id}.m3u8",
            f"/live/{stream_id}.sdp",
        ]
        schemes = ["rtmp", "http", "http", "http"]
        if len(stream.urls) != len(paths):
            stream.urls = [""] * len(paths)
        stream.urls = [
            url if url and not self._expired(url) else f"{scheme}://{host}{self._sign(path)}"
            for url, scheme, path in zip(stream.urls, schemes, paths, strict=True)
        ]
        return list(stream.urls)

    def urls(self, stream_id: str) -> list[str]:
        """Return the pull URLs of a running stream as they are (expired or not)."""
        stream = self.streams.get(stream_id)
        return list(stream.urls) if stream is not None else []

    def running(self, stream_id: str) -> bool:
        """Return whether a stream was started and not stopped."""
        return stream_id in self.streams

    def active_pulls(self, stream_id: str | None = None) -> int:
        """Return how many ffmpeg pulls are running (of one stream, or of all)."""
        streams = [self.streams[stream_id]] if stream_id in self.streams else []
        if stream_id is None:
            streams = list(self.streams.values())
        return sum(1 for s in streams for p in s.pulls if p.returncode is None)

    # --- stop --------------------------------------------------------------------------------

    async def stop(self, stream_id: str) -> None:
        """Stop a stream: its URLs stop working and its pulls end."""
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            await self._kill(stream)

    async def close_all(self) -> None:
        """Stop every stream (emulator shutdown): no ffmpeg is left."""
        for stream_id in list(self.streams):
            await self.stop(stream_id)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    async def _kill(stream: LiveStream) -> None:
        procs = [*stream.pulls, *([stream.hls] if stream.hls is not None else [])]
        for proc in procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await proc.wait()
        if stream.hls_folder is not None:
            shutil.rmtree(stream.hls_folder, ignore_errors=True)

    # --- pull --------------------------------------------------------------------------------

    def _refuse(self, status: int, text: str) -> web.Response:
        self.rejected.append(status)
        return web.Response(status=status, text=text)

    def _check(self, request: web.Request) -> LiveStream | web.Response:
        """Return the running stream a signed request is for, or the refusal."""
        if self.refuse_pulls is not None:
            return self._refuse(self.refuse_pulls, "refused by the test")
        try:
            expires = int(request.query.get("volcTime", ""))
        except ValueError:
            return self._refuse(403, "missing signature")
        secret = request.query.get("volcSecret", "")
        if not hmac.compare_digest(secret, self._secret(request.path, expires)):
            return self._refuse(403, "bad signature")
        if expires < self._now().timestamp():
            return self._refuse(403, "signature expired")
        stream = self.streams.get(request.match_info["stream_id"])
        if stream is None:
            return self._refuse(404, "stream not running")
        return stream

    async def _playlist(self, request: web.Request) -> web.StreamResponse:
        stream = self._check(request)
        if isinstance(stream, web.Response):
            return stream
        if stream.hls is None:
            stream.hls_folder = Path(tempfile.mkdtemp(prefix="emulator-hls-"))
            stream.hls = await asyncio.create_subprocess_exec(
                *ffmpeg_command(
                    self.ffmpeg,
                    transcode=True,  # MPEG-TS carries AAC, not G.711
                    output=hls_output(stream.hls_folder, stream.stream_id),
                ),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            self.pull_count += 1
        playlist = stream.hls_folder / "index.m3u8" if stream.hls_folder else None
        async with asyncio.timeout(HLS_START_TIMEOUT):
            while playlist is not None and not playlist.exists():
                await asyncio.sleep(0.1)
        assert playlist is not None
        return web.Response(
            body=playlist.read_bytes(), headers={"Content-Type": "application/vnd.apple.mpegurl"}
        )

    async def _segment(self, request: web.Request) -> web.StreamResponse:
        stream = self.streams.get(request.match_info["stream_id"])
        name = request.match_info["segment"]
        if stream is None or stream.hls_folder is None or "/" in name or not name.endswith(".ts"):
            return self._refuse(404, "no such segment")
        path = stream.hls_folder / name
        if not path.is_file():
            return self._refuse(404, "no such segment")
        return web.Response(body=path.read_bytes(), headers={"Content-Type": "video/mp2t"})

    async def _pull(self, request: web.Request) -> web.StreamResponse:
        stream = self._check(request)
        if isinstance(stream, web.Response):
            return stream
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await self._serve(request, stream)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, request: web.Request, stream: LiveStream) -> web.StreamResponse:
        proc = await asyncio.create_subprocess_exec(
            *ffmpeg_command(self.ffmpeg, transcode=stream.transcode),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        stream.pulls.add(proc)
        self.pull_count += 1
        response = web.StreamResponse(headers={"Content-Type": "video/x-flv"})
        try:
            await response.prepare(request)
            assert proc.stdout is not None
            while chunk := await proc.stdout.read(CHUNK):
                await response.write(chunk)
        except ConnectionError:
            pass
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await proc.wait()
            stream.pulls.discard(proc)
        return response
