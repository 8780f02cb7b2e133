"""The talk WebSocket: binary frames out, a reader that notices the server closing at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import aiohttp
from yarl import URL

from .errors import TalkConnectError, TalkConnectionLostError
from .flv import FLV_HEADER, audio_tag
from .redact import redact_url

_LOGGER = logging.getLogger(__name__)

FRAMING_FLV: Final = "flv"
FRAMING_RAW: Final = "raw_alaw"
CONNECT_TIMEOUT: Final = 10.0
CLOSE_TIMEOUT: Final = 2.0


class TalkSocket:
    """One WebSocket to an AudioSendUrl, sending FLV audio tags (or raw A-law frames)."""

    def __init__(self, http: aiohttp.ClientSession, url: str, framing: str) -> None:
        """Initialize; ``url`` is used exactly as given (its query is a secret token)."""
        self._http = http
        self._url = url
        self._framing = framing
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._timestamp = 0
        self.close_reason: str | None = None

    @property
    def display_url(self) -> str:
        """Return the URL without its token, for logs."""
        return redact_url(self._url)

    async def connect(self) -> None:
        """Open the socket and start the reader; in FLV mode send the FLV header first."""
        try:
            self._ws = await asyncio.wait_for(
                self._http.ws_connect(
                    URL(self._url, encoded=True),
                    timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_TIMEOUT),
                    heartbeat=None,
                ),
                CONNECT_TIMEOUT,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            reason = getattr(err, "status", None) or type(err).__name__
            _LOGGER.debug("Cannot open %s: %s", self.display_url, reason)
            raise TalkConnectError(f"cannot open the talk socket: {reason}") from err
        self._reader = asyncio.get_running_loop().create_task(
            self._read(self._ws), name="volcengine_aiot talk reader"
        )
        if self._framing == FRAMING_FLV:
            await self._send(FLV_HEADER)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            _LOGGER.debug("Talk server sent %s", message.type.name)
        if self._ws is ws:  # not our own close()
            self.close_reason = f"closed by the server (code {ws.close_code})"
            _LOGGER.debug("Talk socket %s %s", self.display_url, self.close_reason)

    @property
    def lost(self) -> bool:
        """Return whether the server closed the socket."""
        return self._reader is not None and self._reader.done()

    async def send_frame(self, payload: bytes) -> None:
        """Send one 20 ms A-law frame (as an FLV audio tag in FLV mode)."""
        if self._framing == FRAMING_FLV:
            data = audio_tag(self._timestamp, payload)
            self._timestamp += 20
        else:
            data = payload
        await self._send(data)

    async def _send(self, data: bytes) -> None:
        if self._ws is None or self.lost or self._ws.closed:
            raise TalkConnectionLostError(self.close_reason or "the talk socket is closed")
        try:
            await self._ws.send_bytes(data)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            raise TalkConnectionLostError(f"sending failed: {type(err).__name__}") from err

    async def close(self) -> None:
        """Close the socket and stop the reader (idempotent)."""
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError, RuntimeError):
                await asyncio.wait_for(ws.close(), CLOSE_TIMEOUT)
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
