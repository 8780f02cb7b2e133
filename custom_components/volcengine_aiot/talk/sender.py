"""The talk WebSocket: binary frames out, a reader that notices the server closing at once.

Every send has a deadline: a peer that stops reading (TCP back-pressure) ends the talk with
``TalkConnectionLostError`` instead of holding the speaker, and closing never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Final

import aiohttp
from yarl import URL

from ..util.redact import redact_message, redact_url
from .errors import TalkConnectError, TalkConnectionLostError
from .flv import FLV_HEADER, FRAME_MS, audio_tag
from .options import FRAMING_FLV, FRAMING_FLV_JOINED, FRAMING_RAW
from .record import MAX_TEXT, TalkRecord

_LOGGER = logging.getLogger(__name__)

CONNECT_TIMEOUT: Final = 10.0
CLOSE_TIMEOUT: Final = 2.0
SEND_TIMEOUT: Final = 2.0  # a frame that cannot be written within this ends the talk
# Kernel send buffer of the talk socket: a few seconds of audio, not megabytes, so a peer that
# stops reading is noticed within seconds.
SEND_BUFFER: Final = 16 * 1024
# Bytes allowed to wait in our own write buffer before a send waits for the peer.
MAX_BACKLOG: Final = 4 * 1024
_BACKLOG_POLL: Final = 0.02
NORMAL_CLOSE: Final = 1000
_CLOSING: Final = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)


class TalkSocket:
    """One WebSocket to an AudioSendUrl, sending FLV audio tags (or raw A-law frames)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        framing: str,
        *,
        record: TalkRecord | None = None,
        name: str = "",
    ) -> None:
        """Initialize; ``url`` is used exactly as given (its query is a secret token)."""
        self._http = http
        self._url = url
        self._framing = framing
        self.record = record if record is not None else TalkRecord(framing=framing)
        self._name = name
        self._warned = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._transport: asyncio.Transport | None = None
        self._reader: asyncio.Task[None] | None = None
        self._timestamp = 0
        self._interrupted = False
        self.close_reason: str | None = None

    @property
    def display_url(self) -> str:
        """Return the URL without its token (query) or userinfo, for logs."""
        return redact_url(self._url)

    async def connect(self) -> None:
        """Open the socket and start the reader; in FLV mode send the FLV header first.

        The error raised is never chained to aiohttp's: its text holds the full URL (token).
        """
        reason: str | None = None
        began = asyncio.get_running_loop().time()
        try:
            ws = await asyncio.wait_for(
                self._http.ws_connect(
                    URL(self._url, encoded=True),
                    timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_TIMEOUT),
                    heartbeat=None,
                ),
                CONNECT_TIMEOUT,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            reason = str(getattr(err, "status", None) or type(err).__name__)
        if reason is not None:  # raised outside the except block: no __context__ either
            _LOGGER.debug("Cannot open %s: %s", self.display_url, reason)
            raise TalkConnectError(f"cannot open the talk socket: {reason}")
        self.record.handshake = round(asyncio.get_running_loop().time() - began, 3)
        self._ws = ws
        self._transport = _transport(ws)
        self._reader = asyncio.get_running_loop().create_task(
            self._read(ws), name="volcengine_aiot talk reader"
        )
        if (opening := self.opening()) is not None:
            await self._send(opening)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Keep what the server sends; notice at once when it closes the socket."""
        record = self.record
        while True:
            message = await ws.receive()
            if message.type in _CLOSING or message.type is aiohttp.WSMsgType.ERROR:
                break
            text = message.data if message.type is aiohttp.WSMsgType.TEXT else None
            size = len(message.data) if isinstance(message.data, str | bytes) else 0
            kept = record.add_message(message.type.name, size, text)
            _LOGGER.debug("Talk server sent %s (%d bytes)", message.type.name, size)
            if text is not None and kept is not None:
                self._warn(f"sent a text message: {kept.text}")
        if self._ws is ws:  # not our own close()
            record.closed_by = record.closed_by or "server"
            record.close_code = ws.close_code
            if message.type is aiohttp.WSMsgType.CLOSE and message.extra:
                record.close_reason = redact_message(str(message.extra), MAX_TEXT)
            self.close_reason = f"closed by the server (code {ws.close_code})"
            _LOGGER.debug("Talk socket %s %s", self.display_url, self.close_reason)
            if ws.close_code != NORMAL_CLOSE:
                self._warn(
                    f"closed the talk with code {ws.close_code}"
                    + (f": {record.close_reason}" if record.close_reason else "")
                )

    def _warn(self, what: str) -> None:
        """Log what the server reported (the cloud's error reports), once per talk."""
        if not self._warned:
            self._warned = True
            _LOGGER.warning("%s: the talk server %s", self._name or self.display_url, what)

    @property
    def lost(self) -> bool:
        """Return whether the server closed the socket."""
        return self._reader is not None and self._reader.done()

    async def send_frame(self, payload: bytes) -> None:
        """Send one 20 ms A-law frame, framed as configured (one WebSocket message)."""
        await self._send(self.message(payload))
        record = self.record
        record.last_frame = record.since()
        if record.first_frame is None:
            record.first_frame = record.last_frame
        record.frames += 1

    def opening(self) -> bytes | None:
        """Return the message sent right after the handshake, if the framing has one."""
        return FLV_HEADER if self._framing == FRAMING_FLV else None

    def message(self, payload: bytes) -> bytes:
        """Return the next message for a frame: an FLV audio tag (first: after the header)."""
        if self._framing == FRAMING_RAW:
            return payload
        data = audio_tag(self._timestamp, payload)
        if self._timestamp == 0 and self._framing == FRAMING_FLV_JOINED:
            data = FLV_HEADER + data
        self._timestamp += FRAME_MS
        return data

    async def _send(self, data: bytes) -> None:
        ws = self._ws
        if ws is None or self.lost or ws.closed:
            raise TalkConnectionLostError(self.close_reason or "the talk socket is closed")
        failure: str | None = None
        try:
            if self._has_room():
                # Nothing waits in our buffer: send_bytes writes at once and never waits
                # (aiohttp waits only when the transport is paused, far above MAX_BACKLOG).
                await ws.send_bytes(data)
            else:
                async with asyncio.timeout(SEND_TIMEOUT):
                    await self._wait_backlog()
                    await ws.send_bytes(data)
        except TimeoutError:
            failure = (
                f"the talk server stopped reading: a frame was not sent within {SEND_TIMEOUT:g} s"
            )
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            failure = f"sending failed: {type(err).__name__}"
        if failure is not None:  # not chained: aiohttp's errors may name the URL
            raise TalkConnectionLostError(failure)

    def interrupt(self) -> None:
        """Give up a send waiting for the peer (the talk is being stopped)."""
        self._interrupted = True

    def _has_room(self) -> bool:
        transport = self._transport
        return transport is not None and transport.get_write_buffer_size() <= MAX_BACKLOG

    async def _wait_backlog(self) -> None:
        """Wait while more than MAX_BACKLOG bytes wait in our buffer (the peer is not reading)."""
        transport = self._transport
        while (
            transport is not None
            and not transport.is_closing()
            and transport.get_write_buffer_size() > MAX_BACKLOG
        ):
            if self.lost or self._interrupted:
                raise TalkConnectionLostError(self.close_reason or "the talk socket is closed")
            await asyncio.sleep(_BACKLOG_POLL)

    async def close(self) -> None:
        """Close the socket and stop the reader (idempotent, bounded whatever the peer does)."""
        ws, self._ws = self._ws, None
        transport, self._transport = self._transport, None
        if ws is not None and self.record.closed_by is None:
            self.record.closed_by = "server" if ws.closed else "client"
        if ws is not None and not ws.closed:
            try:
                await asyncio.wait_for(ws.close(), CLOSE_TIMEOUT)
            except aiohttp.ClientError, OSError, TimeoutError, RuntimeError:
                if transport is not None:
                    transport.abort()  # unsent data would keep the socket open forever
        if transport is not None and transport.get_write_buffer_size():
            transport.abort()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if ws is not None and self.record.close_code is None:
            self.record.close_code = ws.close_code


def _transport(ws: aiohttp.ClientWebSocketResponse) -> asyncio.Transport | None:
    """Return the socket's transport (for its write buffer) and shrink its kernel buffer."""
    connection = ws._conn  # noqa: SLF001 - aiohttp has no public accessor for the transport
    transport = connection.transport if connection is not None else None
    if not isinstance(transport, asyncio.Transport):
        return None
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    return transport
