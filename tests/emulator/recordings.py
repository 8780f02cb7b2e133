"""Recordings of the emulator: cloud recordings, device recordings and device playback.

All seven actions are Version 2023-10-01 (``app.ACTION_VERSIONS``). Facts (Volcengine docs
6521/1220475, 6521/1169962, 6521/1169960, 6521/1169965, 6521/1169968, the Go SDK
``volc-sdk-golang`` service/aiot and the Python SDK ``volcenginesdk-aiotvideo20231001``):

Cloud recordings (need a recording plan/template bound to the stream; **rate limit 10
requests/s per user** on both):

* ``ListStreamRecords`` (POST). **Query**: ``PageNumber`` (default 1), ``PageSize`` (default 20,
  max 30000). **Body**: ``StreamID``, ``StreamingIndex``, ``Resolution``, ``StartTime``,
  ``EndTime`` (unix s), ``ReqType`` (empty = remuxed recordings, ``record_metadata`` = TS
  fragments), ``WithSub``. The ``Result`` is an **array** (Go ``[]*HistoryResultV3``); each
  element ``{"Type", "Path", "Record": {"StartTime", "EndTime", "Duration", "Cover",
  "Format"}}`` (remuxed) or ``{"Type", "Path", "RecordMeta": {"StartTime", "EndTime",
  "Duration", "Format", "Bucket", "StorageType"}}`` (fragments). ``Path`` is a TOS object path,
  not fetchable.
* ``PlayCloudRecord`` (POST). Body: ``StreamID``, ``StreamingIndex`` (0 main), ``Resolution``,
  ``StartTime``, ``EndTime`` (unix s; "查询的起始时间最多 24 小时": a window of at most 24 h),
  ``TokenValid`` (s, default 3600), ``WithSub``. Result keys are **lowercase**:
  ``{"hls": ".../media_record/v1/file/index.m3u8?StreamID=…&IsLive=0&X-JWT-Token=…",
  "mp4": ".../media_record/v1/file/main.mp4?…&Format=mp4"}``: bearer-token URLs valid for
  ``TokenValid`` seconds.

Device recordings (on the camera's or NVR's storage, fetched over GB/T 28181):

* ``GetRecordList`` (POST). Body: ``StreamID``, ``StartTime``, ``EndTime`` (unix s),
  ``RecordType`` = ``time``|``alarm``|``manual``|``all`` (default), ``Order`` (bool, true =
  ascending, default false), ``TimeoutInSec``. Result ``{"Num", "Items": [{"ChannelID", "Name",
  "StartTime", "EndTime" (unix s), "Secrecy" "0"/"1", "Type", "FileSize" (MB)}]}`` (the doc's
  shape, ``record_list_form = "doc"``); the Python SDK's items carry ``StartTimeStamp``/
  ``EndTimeStamp`` as strings instead (``record_list_form = "sdk"``: digit strings, ``Num`` and
  ``FileSize`` strings too).
* ``StartPlayback`` (POST). Body: ``StreamID``, ``StartTime``, ``EndTime`` (the doc's example
  also passes ``DeviceNSID``, ``ChannelID``). Result ``{"PlaybackID", "PullUrls": ["rtmp://…"],
  "PushUrl"}``.
* ``ControlPlayback`` (POST). Body: ``PlaybackID``, ``Cmd`` (0 start, 1 pause, 2 speed,
  3 seek), ``Ntp`` (**a string**, seconds from the clip start, e.g. "60"), ``Scale`` (1.0, 2.0,
  4.0, 8.0, 16.0 or 32.0).
* ``GetPlaybackStatus`` (GET, query ``PlaybackID``) returns ``{"Status"}`` (values not
  documented: the emulator says ``playing`` or ``paused``). The emulator's ControlPlayback
  changes that status, the speed and the position it reports; its RTMP media plays on as is.
* ``StopPlayback``: the Go SDK sends POST with ``PlaybackID`` in the query, the Python SDK GET:
  both are accepted, the parameter only in the query.

What the emulator serves for real:

* The cloud ``mp4``/``hls`` URLs point at this emulator's HTTP server. The media is one short
  clip (``CLIP_SECONDS`` of testsrc + a 1 kHz sine, H.264/AAC) made once per emulator with
  ffmpeg, whatever the requested window; ``hls`` is a VOD playlist of that clip. The
  ``X-JWT-Token`` is an HS256 JWT (StreamID, StartTime, EndTime, ``exp`` = now + TokenValid)
  signed with a per-emulator key; a missing, wrong or expired token answers 403, and so does
  a token of another stream. HLS segments carry the token too. Media answers allow any origin
  (``Access-Control-Allow-Origin: *``), so a browser's HLS player (XHR) can read them.
* A device playback's ``PullUrls`` is ``rtmp://127.0.0.1:<port>/playback/<PlaybackID>``, a port
  of its own that listens from StartPlayback on. Each player that connects gets an ffmpeg RTMP
  server (``-listen 1``, which serves a single player) on an inner port, sending the clip in a
  loop in real time, and the bytes are piped through; so players can come and go (Home
  Assistant's stream worker reconnects) while the playback lasts. StopPlayback (or the
  emulator's stop) closes the port and ends every player's ffmpeg; ``active_playbacks()`` and
  ``servers_running()`` tell what is left.

Refusals (codes the docs do not name are chosen here, like the other emulator codes; verify
them on a real gateway): a wrong HTTP method 405 ``MethodNotAllowed``; a missing parameter 400
``MissingParameter``; a bad value (a time that is no integer, ``EndTime`` before
``StartTime``, a ``RecordType``, ``Cmd`` or ``Scale`` not listed) 400 ``InvalidParameter``;
PlayCloudRecord over more than 24 h 400 ``InvalidParameter``; a stream without a cloud
recording plan 400 ``InvalidParameter.RecordPlanNotExist`` (both cloud actions); more than
``rate_limit`` cloud requests of one AccessKey within ``rate_window`` seconds 429
``FlowLimitExceeded`` (the gateway's throttling answer); a device action on an offline device
400 ``InvalidParameter.DeviceNotOnline``; PlayCloudRecord or StartPlayback over a window with
no recording 404 ``InvalidParameter.RecordNotExist``; an unknown playback 404
``InvalidParameter.PlaybackNotExist``.

Demo recordings (anchored at the emulator's clock, floored to the hour, when the service is
built; ``anchor``):

* Front door (``HOME_IPC_STREAM_ID``, cloud plan): the last 7 days, every 2 h a 6 min
  recording made of three adjacent 2 min segments, and every 6 h a 30 s alarm recording at
  half past.
* Counter (``SHOP_IPC_STREAM_ID``, cloud plan, ``MANY_SEGMENTS_STREAM``): the whole UTC day
  before the anchor's day (``many_day``) in ``MANY_SEGMENT_SECONDS`` s segments
  (``MANY_SEGMENT_COUNT``), the one at half past each hour an alarm recording; on the anchor's
  day until the anchor a 5 min recording every 30 min.
* Garden (``HOME_NVR_STREAM_IDS[0]``, no plan) and Garage (offline, no plan): device
  recordings over the last 7 days: every 3 h a 1 h ``time`` recording, 90 min later a 1 min
  ``alarm`` one, and once a day a 5 min ``manual`` one.
* Back yard (``HOME_NVR_STREAM_IDS[1]``): no plan and no device recordings.
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
import hashlib
import hmac
import json
from pathlib import Path
import secrets
import shutil
import socket
import tempfile
import time
from typing import Any, Literal

from aiohttp import web

from .data import (
    HOME_IPC_OFFLINE_STREAM_ID,
    HOME_IPC_STREAM_ID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_STREAM_ID,
    Raw,
    State,
)
from .signature import GatewayError
from .stream import video_encoder

RECORDINGS_VERSION = "2023-10-01"
CLOUD_ACTIONS = frozenset({"ListStreamRecords", "PlayCloudRecord"})
METHODS: dict[str, frozenset[str]] = {
    "ListStreamRecords": frozenset({"POST"}),
    "PlayCloudRecord": frozenset({"POST"}),
    "GetRecordList": frozenset({"POST"}),
    "StartPlayback": frozenset({"POST"}),
    "ControlPlayback": frozenset({"POST"}),
    "GetPlaybackStatus": frozenset({"GET"}),
    "StopPlayback": frozenset({"POST", "GET"}),
}
MAX_WINDOW = 24 * 3600  # PlayCloudRecord: at most 24 h
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 30000
DEFAULT_TOKEN_VALID = 3600
RATE_LIMIT = 10  # cloud requests per user ...
RATE_WINDOW = 1.0  # ... per second
RECORD_TYPES = frozenset({"time", "alarm", "manual", "all"})
CONTROL_CMDS = {0: "start", 1: "pause", 2: "speed", 3: "seek"}
SCALES = frozenset({1.0, 2.0, 4.0, 8.0, 16.0, 32.0})
DEMO_DAYS = 7
CLOUD_PLAN_STREAMS = frozenset({HOME_IPC_STREAM_ID, SHOP_IPC_STREAM_ID})
MANY_SEGMENTS_STREAM = SHOP_IPC_STREAM_ID
MANY_SEGMENT_SECONDS = 20
MANY_SEGMENT_COUNT = 24 * 3600 // MANY_SEGMENT_SECONDS  # 4320
DEVICE_RECORD_STREAMS = frozenset({HOME_NVR_STREAM_IDS[0], HOME_IPC_OFFLINE_STREAM_ID})
CLIP_SECONDS = 6
CLIP_SIZE = "320x240"
CLIP_RATE = 10
HLS_SEGMENT_SECONDS = 2
LISTEN_TIMEOUT = 10.0  # seconds a player waits for its ffmpeg RTMP server to listen
MEDIA_PATH = "/media_record/v1/file"
CORS = {"Access-Control-Allow-Origin": "*"}

type Query = dict[str, str]
type TypedHandler = Callable[[str, Query, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Segment:
    """One recording: unix start/end, alarm or not, the device RecordType and size."""

    start: int
    end: int
    alarm: bool = False
    kind: str = "time"  # device RecordType: time, alarm or manual
    size_mb: float = 0.0


@dataclass(eq=False)
class Playback:
    """A device playback: its window, control state and RTMP server."""

    playback_id: str
    stream_id: str
    start: int
    end: int
    status: str = "playing"
    scale: float = 1.0
    ntp: str = "0"
    controls: list[tuple[int, str, float]] = field(default_factory=list)
    listener: socket.socket | None = None  # the RTMP port players connect to
    acceptor: asyncio.Task[None] | None = None  # accepts the players' connections
    players: set[asyncio.Task[Any]] = field(default_factory=set)
    procs: set[asyncio.subprocess.Process] = field(default_factory=set)
    servers: int = 0  # how many ffmpeg servers were started (one per player)

    @property
    def port(self) -> int:
        """Return the RTMP port."""
        assert self.listener is not None
        port: int = self.listener.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """Return the RTMP pull URL."""
        return f"rtmp://127.0.0.1:{self.port}/playback/{self.playback_id}"


def _invalid(message: str) -> GatewayError:
    return GatewayError(400, "InvalidParameter", message)


def _missing(name: str) -> GatewayError:
    return GatewayError(400, "MissingParameter", f"The parameter {name} is required.", 100002)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _time(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if value is None:
        raise _missing(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{name} must be a unix time in seconds (an integer).")
    return value


def _window(body: dict[str, Any]) -> tuple[int, int]:
    start, end = _time(body, "StartTime"), _time(body, "EndTime")
    if end <= start:
        raise _invalid("EndTime must be after StartTime.")
    return start, end


def _overlapping(segments: list[Segment], start: int, end: int) -> list[Segment]:
    return [s for s in segments if s.end > start and s.start < end]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    with contextlib.suppress(OSError):
        sink.write_eof()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    source: asyncio.StreamReader,
    upstream: asyncio.StreamWriter,
) -> None:
    """Copy bytes both ways until either side closes."""
    tasks = [
        asyncio.create_task(_copy(reader, upstream)),
        asyncio.create_task(_copy(source, writer)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _listening(port: int) -> bool:
    """Return whether something listens on 127.0.0.1:port (Linux ``/proc/net/tcp``)."""
    wanted = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return True  # cannot tell: StartPlayback answers at once
    return any(
        fields[1] == wanted and fields[3] == "0A" for fields in (line.split() for line in lines)
    )


@cache
def demo_recordings(
    end: int,
) -> tuple[tuple[Segment, ...], tuple[Segment, ...], tuple[Segment, ...]]:
    """Return the demo's Front door, Counter and device segments ending at ``end`` (unix s).

    Built once per anchor (the emulators of one test run share it; the segments are frozen).
    """
    first = end - DEMO_DAYS * 86400
    front: list[Segment] = []
    for slot in range(first, end, 2 * 3600):
        front += [Segment(slot + n * 120, slot + (n + 1) * 120) for n in range(3)]
        if (slot - first) % (6 * 3600) == 0:  # every third slot, whatever the anchor's hour
            front.append(Segment(slot + 1800, slot + 1830, alarm=True, kind="alarm"))
    day = (end // 86400 - 1) * 86400  # the UTC day before the anchor's
    many = [
        Segment(
            day + n * MANY_SEGMENT_SECONDS,
            day + (n + 1) * MANY_SEGMENT_SECONDS,
            alarm=(n * MANY_SEGMENT_SECONDS) % 3600 == 1800,
            kind="alarm" if (n * MANY_SEGMENT_SECONDS) % 3600 == 1800 else "time",
        )
        for n in range(MANY_SEGMENT_COUNT)
    ]
    many += [Segment(t, t + 300) for t in range(day + 86400, end - 299, 1800)]
    device: list[Segment] = []
    for slot in range(first, end, 3 * 3600):
        device.append(Segment(slot, slot + 3600, size_mb=512.5))
        device.append(Segment(slot + 5400, slot + 5460, True, "alarm", 8.25))
        if (slot - first) % 86400 == 0:
            device.append(Segment(slot + 7200, slot + 7500, kind="manual", size_mb=42.0))
    return (
        tuple(s for s in front if s.end <= end),
        tuple(many),
        tuple(sorted((s for s in device if s.end <= end), key=lambda s: s.start)),
    )


class Media:
    """The clip behind every cloud URL and device playback, made once with ffmpeg."""

    def __init__(self, ffmpeg: str) -> None:
        """Initialize (nothing is made until the first use)."""
        self.ffmpeg = ffmpeg
        self.folder: Path | None = None
        self._lock = asyncio.Lock()

    async def _run(self, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            self.ffmpeg,
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(60):
                _, err = await proc.communicate()
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if proc.returncode != 0:
            msg = f"ffmpeg failed making the recording clip: {err.decode(errors='replace')}"
            raise RuntimeError(msg)

    async def ready(self) -> Path:
        """Return the folder with ``clip.mp4``, ``index.m3u8`` and its segments."""
        async with self._lock:
            if self.folder is not None:
                return self.folder
            folder = Path(tempfile.mkdtemp(prefix="emulator-rec-"))
            encoder = video_encoder(self.ffmpeg)
            video = ["-c:v", encoder, "-g", str(CLIP_RATE), "-pix_fmt", "yuv420p"]
            if encoder == "libx264":
                video += ["-preset", "ultrafast"]
            try:
                await self._run(
                    "-f",
                    "lavfi",
                    "-i",
                    f"testsrc=size={CLIP_SIZE}:rate={CLIP_RATE}",
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=1000:sample_rate=16000",
                    "-t",
                    str(CLIP_SECONDS),
                    *video,
                    "-c:a",
                    "aac",
                    "-ac",
                    "1",
                    "-movflags",
                    "+faststart",
                    str(folder / "clip.mp4"),
                )
                await self._run(
                    "-i",
                    str(folder / "clip.mp4"),
                    "-c",
                    "copy",
                    "-f",
                    "hls",
                    "-hls_time",
                    str(HLS_SEGMENT_SECONDS),
                    "-hls_playlist_type",
                    "vod",
                    "-hls_segment_filename",
                    str(folder / "seg_%d.ts"),
                    str(folder / "index.m3u8"),
                )
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            self.folder = folder
            return folder

    def close(self) -> None:
        """Remove the clip's files."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


class RecordingService:
    """The seven recording actions, their media server and the device playbacks."""

    def __init__(
        self, state: State, now: Callable[[], datetime], ffmpeg: str | None = None
    ) -> None:
        """Initialize over an account; the demo recordings are anchored at ``now()``."""
        self.state = state
        self._now = now
        self.ffmpeg = ffmpeg or shutil.which("ffmpeg") or "ffmpeg"
        self.media = Media(self.ffmpeg)
        self.base_url = ""  # http://host:port, set by the app once it listens
        self.anchor = now().replace(minute=0, second=0, microsecond=0)
        self.many_day: date = (self.anchor - timedelta(days=1)).date()  # a UTC day
        self.cloud_plans: set[str] = set(CLOUD_PLAN_STREAMS)
        self.cloud: dict[str, list[Segment]] = {}
        self.device: dict[str, list[Segment]] = {}
        self.record_list_form: Literal["doc", "sdk"] = "doc"
        self.rate_limit = RATE_LIMIT
        self.rate_window = RATE_WINDOW
        self.throttled = 0  # cloud requests answered with FlowLimitExceeded
        self.media_statuses: list[int] = []  # statuses of the media server's answers
        self.playbacks: dict[str, Playback] = {}
        self.stopped: list[str] = []  # PlaybackIDs stopped, in order
        self._calls: dict[str, deque[float]] = {}
        self._key = secrets.token_bytes(32)
        self.handlers: dict[str, TypedHandler] = {
            "ListStreamRecords": self._list_stream_records,
            "PlayCloudRecord": self._play_cloud_record,
            "GetRecordList": self._get_record_list,
            "StartPlayback": self._start_playback,
            "ControlPlayback": self._control_playback,
            "GetPlaybackStatus": self._get_playback_status,
            "StopPlayback": self._stop_playback,
        }
        self._demo()

    # --- demo data ---------------------------------------------------------------------------

    def _demo(self) -> None:
        front, many, device = demo_recordings(int(self.anchor.timestamp()))
        self.cloud[HOME_IPC_STREAM_ID] = list(front)
        self.cloud[MANY_SEGMENTS_STREAM] = list(many)
        for stream_id in DEVICE_RECORD_STREAMS:
            self.device[stream_id] = list(device)

    # --- gateway hooks -----------------------------------------------------------------------

    def admit(self, access_key: str, action: str) -> None:
        """Count a cloud request of a user; raise 429 ``FlowLimitExceeded`` over the limit."""
        if action not in CLOUD_ACTIONS:
            return
        now = time.monotonic()
        calls = self._calls.setdefault(access_key, deque())
        while calls and calls[0] <= now - self.rate_window:
            calls.popleft()
        if len(calls) >= self.rate_limit:
            self.throttled += 1
            raise GatewayError(
                429, "FlowLimitExceeded", "Request was denied due to flow limit exceeded."
            )
        calls.append(now)

    def add_routes(self, app: web.Application) -> None:
        """Register the cloud media URLs."""
        app.router.add_get(f"{MEDIA_PATH}/main.mp4", self._mp4)
        app.router.add_get(f"{MEDIA_PATH}/index.m3u8", self._hls)
        app.router.add_get(MEDIA_PATH + "/{segment}", self._hls_segment)

    async def close(self) -> None:
        """Stop every playback (no ffmpeg left) and remove the clip."""
        for playback_id in list(self.playbacks):
            await self._end(playback_id)
        self.media.close()

    def active_playbacks(self, stream_id: str | None = None) -> int:
        """Return how many device playbacks are running (of one stream, or of all)."""
        return sum(1 for p in self.playbacks.values() if stream_id in (None, p.stream_id))

    def servers_running(self) -> int:
        """Return how many ffmpeg RTMP servers are running (one per connected player)."""
        return sum(
            1 for p in self.playbacks.values() for proc in p.procs if proc.returncode is None
        )

    # --- lookup ------------------------------------------------------------------------------

    def _device_of(self, stream_id: object) -> Raw:
        if not stream_id or not isinstance(stream_id, str):
            raise _missing("StreamID")
        for space_id in self.state.spaces:
            device = self.state.stream_owner(space_id, stream_id)
            if device is not None:
                return device
        raise GatewayError(
            404,
            "InvalidParameter.StreamNotExist",
            "The request is failed due to the stream does not exist.",
        )

    def _planned(self, stream_id: object) -> str:
        self._device_of(stream_id)
        assert isinstance(stream_id, str)
        if stream_id not in self.cloud_plans:
            raise GatewayError(
                400,
                "InvalidParameter.RecordPlanNotExist",
                "The request is failed due to the stream has no record plan.",
            )
        return stream_id

    def _online(self, stream_id: object) -> str:
        device = self._device_of(stream_id)
        if device.get("Status") != "online":
            raise GatewayError(
                400,
                "InvalidParameter.DeviceNotOnline",
                "The request is failed due to the device is not online.",
            )
        assert isinstance(stream_id, str)
        return stream_id

    def _playback(self, playback_id: object) -> Playback:
        if not playback_id or not isinstance(playback_id, str):
            raise _missing("PlaybackID")
        playback = self.playbacks.get(playback_id)
        if playback is None:
            raise GatewayError(
                404,
                "InvalidParameter.PlaybackNotExist",
                "The request is failed due to the playback does not exist.",
            )
        return playback

    @staticmethod
    def _no_record() -> GatewayError:
        return GatewayError(
            404,
            "InvalidParameter.RecordNotExist",
            "The request is failed due to no record in the time range.",
        )

    @staticmethod
    def _method(action: str, method: str) -> None:
        if method not in METHODS[action]:
            raise GatewayError(405, "MethodNotAllowed", f"Method {method} not allowed.")

    # --- cloud -------------------------------------------------------------------------------

    async def _list_stream_records(self, method: str, query: Query, body: dict[str, Any]) -> Any:
        self._method("ListStreamRecords", method)
        number = self._query_int(query, "PageNumber", 1)
        size = self._query_int(query, "PageSize", DEFAULT_PAGE_SIZE)
        if number < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise _invalid(f"PageNumber must be >= 1 and PageSize 1 to {MAX_PAGE_SIZE}.")
        stream_id = self._planned(body.get("StreamID"))
        start, end = _window(body)
        req_type = body.get("ReqType") or ""
        if req_type not in ("", "record_metadata"):
            raise _invalid("ReqType must be empty or record_metadata.")
        found = _overlapping(self.cloud.get(stream_id, []), start, end)
        page = found[(number - 1) * size : number * size]
        return [self._history(stream_id, s, metadata=bool(req_type)) for s in page]

    @staticmethod
    def _query_int(query: Query, name: str, default: int) -> int:
        value = query.get(name, "")
        if value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise _invalid(f"{name} must be an integer.") from None

    @staticmethod
    def _history(stream_id: str, segment: Segment, *, metadata: bool) -> Raw:
        times = {
            "StartTime": segment.start,
            "EndTime": segment.end,
            "Duration": segment.end - segment.start,
        }
        kind = "alarm" if segment.alarm else "normal"
        prefix = f"ve_3wmh/push.emulator.invalid/{stream_id}"
        if metadata:
            return {
                "Type": kind,
                "Path": f"{prefix}/ts/{segment.start}.ts",
                "RecordMeta": {
                    **times,
                    "Format": "ts",
                    "Bucket": "aiot-record",
                    "StorageType": "standard",
                },
            }
        return {
            "Type": kind,
            "Path": f"{prefix}/record/{segment.start}-{segment.end}.mp4",
            "Record": {**times, "Cover": "", "Format": "mp4"},
        }

    async def _play_cloud_record(self, method: str, query: Query, body: dict[str, Any]) -> Raw:
        del query  # every documented parameter is in the body
        self._method("PlayCloudRecord", method)
        stream_id = self._planned(body.get("StreamID"))
        start, end = _window(body)
        if end - start > MAX_WINDOW:
            raise _invalid("The time range must not exceed 24 hours.")
        valid = body.get("TokenValid", DEFAULT_TOKEN_VALID)
        if isinstance(valid, bool) or not isinstance(valid, int) or valid <= 0:
            raise _invalid("TokenValid must be a positive integer (seconds).")
        if not _overlapping(self.cloud.get(stream_id, []), start, end):
            raise self._no_record()
        token = self.token(stream_id, start, end, valid)
        common = f"StreamID={stream_id}&StartTime={start}&EndTime={end}&X-JWT-Token={token}"
        return {
            "hls": f"{self.base_url}{MEDIA_PATH}/index.m3u8?{common}&IsLive=0",
            "mp4": f"{self.base_url}{MEDIA_PATH}/main.mp4?{common}&Format=mp4",
        }

    def token(self, stream_id: str, start: int, end: int, valid: int) -> str:
        """Return a signed media token (an HS256 JWT) valid for ``valid`` seconds."""
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        exp = int(self._now().timestamp()) + valid
        claims = {"StreamID": stream_id, "StartTime": start, "EndTime": end, "exp": exp}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def _claims(self, request: web.Request) -> Raw | None:
        """Return the claims of a request's valid, unexpired token for its stream, else None."""
        token = request.query.get("X-JWT-Token", "")
        header, _, rest = token.partition(".")
        payload, _, signature = rest.partition(".")
        expected = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(signature), expected):
                return None
            claims: Raw = json.loads(_unb64(payload))
        except ValueError:
            return None
        if claims.get("exp", 0) < self._now().timestamp():
            return None
        if claims.get("StreamID") != request.query.get("StreamID"):
            return None
        return claims

    def _refuse(self, status: int, text: str) -> web.Response:
        self.media_statuses.append(status)
        return web.Response(status=status, text=text, headers=CORS)

    async def _mp4(self, request: web.Request) -> web.StreamResponse:
        if self._claims(request) is None:
            return self._refuse(403, "token missing, wrong or expired")
        folder = await self.media.ready()
        self.media_statuses.append(200)
        return web.FileResponse(folder / "clip.mp4", headers={"Content-Type": "video/mp4", **CORS})

    async def _hls(self, request: web.Request) -> web.StreamResponse:
        if self._claims(request) is None:
            return self._refuse(403, "token missing, wrong or expired")
        folder = await self.media.ready()
        query = request.query_string
        lines = [
            f"{line}?{query}" if line.endswith(".ts") else line
            for line in (folder / "index.m3u8").read_text().splitlines()
        ]
        self.media_statuses.append(200)
        return web.Response(
            text="\n".join(lines) + "\n",
            headers={"Content-Type": "application/vnd.apple.mpegurl", **CORS},
        )

    async def _hls_segment(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["segment"]
        if not name.startswith("seg_") or not name.endswith(".ts") or "/" in name:
            return self._refuse(404, "no such segment")
        if self._claims(request) is None:
            return self._refuse(403, "token missing, wrong or expired")
        path = (await self.media.ready()) / name
        if not path.is_file():
            return self._refuse(404, "no such segment")
        self.media_statuses.append(200)
        return web.FileResponse(path, headers={"Content-Type": "video/mp2t", **CORS})

    # --- device ------------------------------------------------------------------------------

    async def _get_record_list(self, method: str, query: Query, body: dict[str, Any]) -> Raw:
        del query
        self._method("GetRecordList", method)
        stream_id = self._online(body.get("StreamID"))
        start, end = _window(body)
        record_type = body.get("RecordType") or "all"
        if record_type not in RECORD_TYPES:
            raise _invalid("RecordType must be time, alarm, manual or all.")
        order = body.get("Order", False)
        if not isinstance(order, bool):
            raise _invalid("Order must be a boolean.")
        found = [
            s
            for s in _overlapping(self.device.get(stream_id, []), start, end)
            if record_type in ("all", s.kind)
        ]
        if not order:
            found.reverse()
        items = [self._record_item(stream_id, s) for s in found]
        num: int | str = len(items) if self.record_list_form == "doc" else str(len(items))
        return {"Num": num, "Items": items}

    def _record_item(self, stream_id: str, segment: Segment) -> Raw:
        channel = next(
            (
                c["DeviceItem"]
                for space_id in self.state.spaces
                if (device := self.state.stream_owner(space_id, stream_id)) is not None
                for c in self.state.device_channels(device)
                if c.get("StreamID") == stream_id
            ),
            {},
        )
        item: Raw = {
            "ChannelID": channel.get("DeviceID", ""),
            "Name": channel.get("Name", ""),
            "Secrecy": "0",
            "Type": segment.kind,
        }
        if self.record_list_form == "doc":
            return {
                **item,
                "StartTime": segment.start,
                "EndTime": segment.end,
                "FileSize": segment.size_mb,
            }
        return {
            **item,
            "StartTimeStamp": str(segment.start),
            "EndTimeStamp": str(segment.end),
            "FileSize": str(segment.size_mb),
        }

    async def _start_playback(self, method: str, query: Query, body: dict[str, Any]) -> Raw:
        del query
        self._method("StartPlayback", method)
        stream_id = self._online(body.get("StreamID"))
        start, end = _window(body)
        if not _overlapping(self.device.get(stream_id, []), start, end):
            raise self._no_record()
        clip = (await self.media.ready()) / "clip.mp4"
        playback = Playback(secrets.token_hex(12), stream_id, start, end)
        # A plain socket and an accept loop, not asyncio.start_server: a connection accepted
        # while such a server closes is attached to it after it woke its waiters, and closing
        # that connection later fails in the server's bookkeeping (seen on Python 3.14).
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        playback.listener = listener
        playback.acceptor = asyncio.create_task(self._accept(playback, clip, listener))
        self.playbacks[playback.playback_id] = playback
        return {"PlaybackID": playback.playback_id, "PullUrls": [playback.url], "PushUrl": ""}

    async def _accept(self, playback: Playback, clip: Path, listener: socket.socket) -> None:
        """Accept players until the playback ends; each is served by its own task."""
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(listener)
            playback.players.add(asyncio.create_task(self._player(playback, clip, conn)))

    async def _player(self, playback: Playback, clip: Path, conn: socket.socket) -> None:
        """Serve one player: an ffmpeg RTMP server (``-listen 1``) behind this connection."""
        task = asyncio.current_task()
        assert task is not None
        try:
            reader, writer = await asyncio.open_connection(sock=conn)
        except BaseException:
            conn.close()
            playback.players.discard(task)
            raise
        port = _free_port()
        proc = await asyncio.create_subprocess_exec(
            *self._server_command(clip, f"rtmp://127.0.0.1:{port}/playback/{playback.playback_id}"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        playback.procs.add(proc)
        playback.servers += 1
        upstream: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(LISTEN_TIMEOUT):
                while not _listening(port):
                    await asyncio.sleep(0.02)
            source, upstream = await asyncio.open_connection("127.0.0.1", port)
            await _pipe_both(reader, writer, source, upstream)
        except TimeoutError, OSError:
            pass
        finally:
            for stream in (writer, upstream):
                if stream is not None:
                    stream.close()
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await self._reap(proc, writer, upstream)
            playback.procs.discard(proc)
            playback.players.discard(task)

    @staticmethod
    async def _reap(
        proc: asyncio.subprocess.Process,
        writer: asyncio.StreamWriter,
        upstream: asyncio.StreamWriter | None,
    ) -> None:
        """Wait until the ffmpeg server has ended and both connections are closed."""
        await proc.wait()
        for stream in (writer, upstream):
            if stream is not None:
                with contextlib.suppress(OSError, TimeoutError):
                    async with asyncio.timeout(5):
                        await stream.wait_closed()

    def _server_command(self, clip: Path, url: str) -> list[str]:
        """Return ffmpeg sending the clip in a loop, in real time, to one RTMP player."""
        return [
            self.ffmpeg,
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
            str(clip),
            "-c",
            "copy",
            "-f",
            "flv",
            "-listen",
            "1",
            url,
        ]

    async def _end(self, playback_id: str) -> None:
        playback = self.playbacks.pop(playback_id, None)
        if playback is None:
            return
        self.stopped.append(playback_id)
        if playback.acceptor is not None:
            playback.acceptor.cancel()
            await asyncio.gather(playback.acceptor, return_exceptions=True)
        if playback.listener is not None:
            playback.listener.close()
        players = list(playback.players)  # none is added once the acceptor has ended
        for task in players:
            task.cancel()
        if players:
            await asyncio.gather(*players, return_exceptions=True)

    async def _control_playback(self, method: str, query: Query, body: dict[str, Any]) -> Raw:
        del query
        self._method("ControlPlayback", method)
        playback = self._playback(body.get("PlaybackID"))
        cmd, ntp, scale = body.get("Cmd"), body.get("Ntp"), body.get("Scale")
        for name, value in (("Cmd", cmd), ("Ntp", ntp), ("Scale", scale)):
            if value is None:
                raise _missing(name)
        if isinstance(cmd, bool) or not isinstance(cmd, int) or cmd not in CONTROL_CMDS:
            raise _invalid("Cmd must be 0 (start), 1 (pause), 2 (speed) or 3 (seek).")
        if not isinstance(ntp, str) or not ntp.isdigit():
            raise _invalid("Ntp must be a string of seconds from the clip start.")
        if isinstance(scale, bool) or not isinstance(scale, int | float) or scale not in SCALES:
            raise _invalid("Scale must be 1.0, 2.0, 4.0, 8.0, 16.0 or 32.0.")
        if CONTROL_CMDS[cmd] == "pause":
            playback.status = "paused"
        elif CONTROL_CMDS[cmd] == "start":
            playback.status = "playing"
        elif CONTROL_CMDS[cmd] == "speed":
            playback.scale = float(scale)
        else:
            playback.ntp = ntp
        playback.controls.append((cmd, ntp, float(scale)))
        return {}

    async def _get_playback_status(self, method: str, query: Query, body: dict[str, Any]) -> Raw:
        del body
        self._method("GetPlaybackStatus", method)
        return {"Status": self._playback(query.get("PlaybackID")).status}

    async def _stop_playback(self, method: str, query: Query, body: dict[str, Any]) -> Raw:
        del body  # the PlaybackID is in the query (Go SDK POST, Python SDK GET)
        self._method("StopPlayback", method)
        await self._end(self._playback(query.get("PlaybackID")).playback_id)
        return {}
