"""Voice-talk side of the emulator: the ``AudioSendUrl`` WebSocket and an FLV stream parser.

* ``TalkServer.issue(nsid)`` (StartVoiceTalk) returns the path + query
  ``/voice_talk/nss/talk/<nsid>?vhost=..&token=..``
  (the app prefixes ``ws://host:port``), or raises ``TalkBusyError`` if a talk is active.
* ``await TalkServer.stop(nsid)`` (StopVoiceTalk) invalidates the token, marks the recording
  stopped and closes a connected socket with code 1000.
* A WebSocket upgrade with a wrong or stopped token answers HTTP 403; a second concurrent
  connection for the same device answers 409. One ``TalkRecording`` per accepted connection.
* ``say_next(nsid, frames, messages, close=(code, reason))``: after ``frames`` audio frames the
  next session of the device sends these messages (``str`` as text, ``bytes`` as binary), then
  closes with that code and reason (what a cloud reporting an error might do).
* ``stop_reading(nsid, frames)``: the next session of the device stops reading after ``frames``
  audio frames (a stalled peer: TCP back-pressure on the client) until the client goes away.

The binary stream is parsed incrementally as audio-only FLV (13-byte header, then type-8 tags
of DataSize 161 = ``0x72`` + 160 bytes A-law, PreviousTagSize 172); a stream that does not
start with ``FLV`` is raw A-law (160 bytes per frame, timestamp ``None``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import hmac
import secrets
import select
import socket
import time

from aiohttp import WSCloseCode, WSMsgType, web

FLV_HEADER = bytes.fromhex("464c5601040000000900000000")
TAG_HEADER_SIZE = 11
AUDIO_TAG = 8
FRAME_BYTES = 160
TAG_DATA_SIZE = FRAME_BYTES + 1
ALAW_FLAG = 0x72
PREVIOUS_TAG_SIZE = TAG_HEADER_SIZE + TAG_DATA_SIZE
MAX_TAG_SIZE = 1 << 16  # larger DataSize values are treated as a desynchronized stream
TALK_PATH = "/voice_talk/nss/talk/{nsid}"
CLOSE_HANDSHAKE_TIMEOUT = 1.0


class TalkBusyError(Exception):
    """The device already has an active talk session."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One audio frame: FLV timestamp (None in raw mode), A-law payload, monotonic arrival."""

    timestamp_ms: int | None
    payload: bytes
    arrival: float


class FlvStreamParser:
    """Incremental parser: feed it message payloads, it returns the completed frames."""

    def __init__(self) -> None:
        """Initialize."""
        self.header: bytes | None = None
        self.raw: bool | None = None  # None until the first 3 bytes decide
        self.errors: list[str] = []
        self.broken = False
        self._buf = bytearray()
        self._tags = 0

    def feed(self, data: bytes, arrival: float) -> list[Frame]:
        """Add received bytes and return the frames they complete."""
        if self.broken:
            return []
        self._buf += data
        if self.raw is None:
            if len(self._buf) < 3 and FLV_HEADER.startswith(self._buf):
                return []
            self.raw = not self._buf.startswith(b"FLV")
        if self.raw:
            return self._raw_frames(arrival)
        if self.header is None and not self._read_header():
            return []
        return self._tag_frames(arrival)

    def finish(self) -> None:
        """Record a truncated trailing frame or tag at the end of the stream."""
        if self._buf and not self.broken:
            what = "raw frame" if self.raw else "FLV header/tag"
            self.errors.append(f"stream ended with {len(self._buf)} bytes of a partial {what}")
        self._buf.clear()

    def _raw_frames(self, arrival: float) -> list[Frame]:
        frames = []
        while len(self._buf) >= FRAME_BYTES:
            frames.append(Frame(None, bytes(self._buf[:FRAME_BYTES]), arrival))
            del self._buf[:FRAME_BYTES]
        return frames

    def _read_header(self) -> bool:
        if len(self._buf) < len(FLV_HEADER):
            return False
        header = bytes(self._buf[: len(FLV_HEADER)])
        del self._buf[: len(FLV_HEADER)]
        self.header = header
        if header != FLV_HEADER:
            self.errors.append(f"FLV header {header.hex()} (expected {FLV_HEADER.hex()})")
        return True

    def _tag_frames(self, arrival: float) -> list[Frame]:
        frames = []
        while len(self._buf) >= TAG_HEADER_SIZE:
            buf = self._buf
            tag_type = buf[0]
            size = int.from_bytes(buf[1:4])
            if size > MAX_TAG_SIZE:
                self.errors.append(f"tag {self._tags}: DataSize {size}, stream desynchronized")
                self.broken = True
                buf.clear()
                break
            total = TAG_HEADER_SIZE + size + 4
            if len(buf) < total:
                break
            timestamp = int.from_bytes(buf[4:7]) | buf[7] << 24
            stream_id = int.from_bytes(buf[8:11])
            body = bytes(buf[TAG_HEADER_SIZE : TAG_HEADER_SIZE + size])
            previous = int.from_bytes(buf[total - 4 : total])
            del buf[:total]
            self._check_tag(tag_type, size, stream_id, body, previous)
            self._tags += 1
            if tag_type == AUDIO_TAG and body:
                frames.append(Frame(timestamp, body[1:], arrival))
        return frames

    def _check_tag(self, tag_type: int, size: int, stream_id: int, body: bytes, prev: int) -> None:
        where = f"tag {self._tags}"
        if tag_type != AUDIO_TAG:
            self.errors.append(f"{where}: TagType {tag_type} (expected 8 audio)")
        if size != TAG_DATA_SIZE:
            self.errors.append(f"{where}: DataSize {size} (expected {TAG_DATA_SIZE})")
        if stream_id:
            self.errors.append(f"{where}: StreamID {stream_id} (expected 0)")
        if body and body[0] != ALAW_FLAG:
            self.errors.append(f"{where}: audio flags 0x{body[0]:02x} (expected 0x72)")
        if prev != PREVIOUS_TAG_SIZE:
            self.errors.append(f"{where}: PreviousTagSize {prev} (expected {PREVIOUS_TAG_SIZE})")


@dataclass(eq=False)
class TalkRecording:
    """What one accepted talk WebSocket received."""

    nsid: str
    token: str
    frames: list[Frame] = field(default_factory=list)
    connected_at: float = field(default_factory=time.monotonic)
    closed_at: float | None = None
    close_code: int | None = None
    closed_by: str | None = None  # "client" or "server"
    stopped: bool = False
    stalled: bool = False  # stopped reading (``stop_reading``)
    messages: int = 0
    sizes: list[int] = field(default_factory=list)  # of every binary message, in order
    parser: FlvStreamParser = field(default_factory=FlvStreamParser, repr=False)
    _closed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def header(self) -> bytes | None:
        """Return the 13-byte FLV header if one was received."""
        return self.parser.header

    @property
    def raw(self) -> bool:
        """Return True if the stream did not start with ``FLV`` (raw A-law)."""
        return bool(self.parser.raw)

    @property
    def errors(self) -> list[str]:
        """Return the framing violations seen so far."""
        return self.parser.errors

    @property
    def closed(self) -> bool:
        """Return whether the socket is closed."""
        return self._closed.is_set()

    def alaw(self) -> bytes:
        """Return all A-law payloads joined."""
        return b"".join(frame.payload for frame in self.frames)

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait until the socket is closed; raise ``TimeoutError`` after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            await self._closed.wait()


@dataclass(eq=False)
class _Script:
    frames: int
    messages: list[str | bytes]
    close: tuple[int, str] | None


@dataclass(eq=False)
class _Connection:
    recording: TalkRecording
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None = None
    stall_after: int | None = None
    script: _Script | None = None
    close_task: asyncio.Task[bool] | None = None


class TalkServer:
    """Hands out AudioSendUrls and records what their WebSockets receive."""

    def __init__(self) -> None:
        """Initialize."""
        self.sessions: list[TalkRecording] = []
        self.rejected: list[tuple[str, int]] = []  # (nsid, HTTP status) of refused upgrades
        self.issued: list[tuple[str, str]] = []  # (nsid, token) of every talk started
        self._tokens: dict[str, str] = {}
        self._refuse: dict[str, int] = {}
        self._close_after: dict[str, tuple[int, int]] = {}
        self._stall_after: dict[str, int] = {}
        self._say: dict[str, _Script] = {}
        self._connections: dict[str, _Connection] = {}

    # --- OpenAPI side ------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Register the talk WebSocket route."""
        app.router.add_get(TALK_PATH, self._handle)

    def issue(self, nsid: str) -> str:
        """Start a talk for a device and return its URL path and query."""
        if nsid in self._tokens:
            raise TalkBusyError(nsid)
        token = secrets.token_hex(16)
        self._tokens[nsid] = token
        self.issued.append((nsid, token))
        return f"/voice_talk/nss/talk/{nsid}?vhost=emulator&token={token}"

    async def stop(self, nsid: str) -> None:
        """End the talk of a device: invalidate its token, close its socket (1000)."""
        token = self._tokens.pop(nsid, None)
        for rec in self.sessions:
            if rec.nsid == nsid and rec.token == token:
                rec.stopped = True
        conn = self._connections.get(nsid)
        if conn is not None:
            self._server_close(conn, WSCloseCode.OK)

    def active(self, nsid: str) -> bool:
        """Return whether a talk was started for the device and not stopped."""
        return nsid in self._tokens

    is_active = active

    def sessions_for(self, nsid: str) -> list[TalkRecording]:
        """Return the recordings of one device, oldest first."""
        return [rec for rec in self.sessions if rec.nsid == nsid]

    # --- fault knobs -------------------------------------------------------------------------

    def refuse_next(self, nsid: str) -> None:
        """Answer the next WebSocket upgrade for the device with HTTP 403."""
        self._refuse[nsid] = self._refuse.get(nsid, 0) + 1

    def close_after(self, nsid: str, frames: int, code: int = WSCloseCode.OK) -> None:
        """Close the next session of the device after ``frames`` audio frames."""
        self._close_after[nsid] = (frames, code)

    def say_next(
        self,
        nsid: str,
        frames: int,
        messages: list[str | bytes],
        close: tuple[int, str] | None = None,
    ) -> None:
        """After ``frames`` frames, send ``messages`` on the next session, then ``close``."""
        self._say[nsid] = _Script(frames, messages, close)

    def stop_reading(self, nsid: str, frames: int = 0) -> None:
        """Stop reading the next session of the device after ``frames`` audio frames.

        The receive buffer of the socket is shrunk and reading paused, so the client's sends
        back up (TCP back-pressure), until the client closes or aborts the connection.
        """
        self._stall_after[nsid] = frames

    async def close_all(self) -> None:
        """Close every connected socket (1001 going away) and wait for the handshakes."""
        for conn in list(self._connections.values()):
            self._server_close(conn, WSCloseCode.GOING_AWAY)
        tasks = [c.close_task for c in list(self._connections.values()) if c.close_task]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- WebSocket ---------------------------------------------------------------------------

    def _server_close(self, conn: _Connection, code: int) -> None:
        if conn.close_task is not None:
            return
        conn.recording.close_code = code
        conn.recording.closed_by = "server"
        conn.close_task = asyncio.create_task(conn.ws.close(code=code))

    def _refusal(self, nsid: str, token: str) -> int | None:
        if self._refuse.get(nsid):
            self._refuse[nsid] -= 1
            return 403
        expected = self._tokens.get(nsid)
        if expected is None or not hmac.compare_digest(token.encode(), expected.encode()):
            return 403
        if nsid in self._connections:
            return 409
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        nsid = request.match_info["nsid"]
        status = self._refusal(nsid, request.query.get("token", ""))
        if status is not None:
            self.rejected.append((nsid, status))
            return web.Response(status=status, text="talk session refused")
        ws = web.WebSocketResponse(timeout=CLOSE_HANDSHAKE_TIMEOUT, autoping=True)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade expected")
        rec = TalkRecording(nsid=nsid, token=self._tokens[nsid])
        limit = self._close_after.pop(nsid, None)
        transport = request.transport
        conn = _Connection(
            rec,
            ws,
            transport if isinstance(transport, asyncio.Transport) else None,
            self._stall_after.pop(nsid, None),
            self._say.pop(nsid, None),
        )
        self.sessions.append(rec)
        self._connections[nsid] = conn
        try:
            await ws.prepare(request)
            await self._receive(conn, limit)
            if conn.close_task is not None:
                await asyncio.shield(conn.close_task)
        finally:
            if rec.close_code is None:
                rec.close_code = ws.close_code
                rec.closed_by = "client"
            rec.parser.finish()
            rec.closed_at = time.monotonic()
            self._connections.pop(nsid, None)
            rec._closed.set()
        return ws

    async def _receive(self, conn: _Connection, limit: tuple[int, int] | None) -> None:
        rec, ws = conn.recording, conn.ws
        async for msg in ws:
            rec.messages += 1
            if msg.type is WSMsgType.BINARY:
                rec.sizes.append(len(msg.data))
                rec.frames.extend(rec.parser.feed(msg.data, time.monotonic()))
                if limit is not None and len(rec.frames) >= limit[0]:
                    self._server_close(conn, limit[1])
                    return
                if (script := conn.script) is not None and len(rec.frames) >= script.frames:
                    conn.script = None
                    if await self._play_script(conn, script):
                        return
                if conn.stall_after is not None and len(rec.frames) >= conn.stall_after:
                    conn.stall_after = None
                    await self._stall(conn)
            elif msg.type is WSMsgType.TEXT:
                rec.errors.append(f"text message of {len(msg.data)} chars (binary expected)")
            elif msg.type is WSMsgType.ERROR:
                rec.errors.append(f"websocket error: {ws.exception()!r}")

    async def _play_script(self, conn: _Connection, script: _Script) -> bool:
        """Send the scripted messages; return True if the script closed the socket."""
        for message in script.messages:
            if isinstance(message, str):
                await conn.ws.send_str(message)
            else:
                await conn.ws.send_bytes(message)
        if script.close is None:
            return False
        code, reason = script.close
        if conn.close_task is None:
            conn.recording.close_code = code
            conn.recording.closed_by = "server"
            conn.close_task = asyncio.create_task(conn.ws.close(code=code, message=reason.encode()))
        return True

    async def _stall(self, conn: _Connection) -> None:
        """Read nothing until the client closes or aborts the connection (then drain it)."""
        transport = conn.transport
        if transport is None:  # pragma: no cover - always a socket transport here
            return
        conn.recording.stalled = True
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        transport.pause_reading()
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        try:
            while conn.close_task is None and not transport.is_closing() and not poller.poll(0):
                await asyncio.sleep(0.02)
        finally:
            if not transport.is_closing():
                transport.resume_reading()
