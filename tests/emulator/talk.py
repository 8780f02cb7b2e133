"""Voice-talk WebSocket side of the emulator (interface stub; the talk work fills it in).

Contract used by the OpenAPI side (app.py):

* ``TalkServer.add_routes(app)`` registers ``GET /voice_talk/nss/talk/{nsid}`` (WebSocket).
* ``TalkServer.issue(device_nsid) -> str`` returns ``"/voice_talk/nss/talk/<nsid>?vhost=..&token=.."``
  (path + query, the app prefixes ``ws://host:port``) and raises ``TalkBusyError`` when the device
  already has a talk session that was not stopped.
* ``TalkServer.stop(device_nsid)`` ends that session (StopVoiceTalk): invalidates the token and
  closes a connected socket. Unknown devices are ignored.
* ``TalkServer.is_active(device_nsid) -> bool``.
"""

from __future__ import annotations

import secrets

from aiohttp import web


class TalkBusyError(Exception):
    """The device already has a talk session."""


class TalkServer:
    """Hands out AudioSendUrls and accepts their WebSockets."""

    def __init__(self) -> None:
        """Initialize."""
        self._tokens: dict[str, str] = {}

    def add_routes(self, app: web.Application) -> None:
        """Register the talk WebSocket route."""
        app.router.add_get("/voice_talk/nss/talk/{nsid}", self._handle)

    def issue(self, device_nsid: str) -> str:
        """Start a talk session for a device and return its URL path and query."""
        if device_nsid in self._tokens:
            raise TalkBusyError(device_nsid)
        token = secrets.token_hex(16)
        self._tokens[device_nsid] = token
        return f"/voice_talk/nss/talk/{device_nsid}?vhost=emulator&token={token}"

    def stop(self, device_nsid: str) -> None:
        """End the talk session of a device."""
        self._tokens.pop(device_nsid, None)

    def is_active(self, device_nsid: str) -> bool:
        """Return whether the device has a talk session."""
        return device_nsid in self._tokens

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _msg in ws:
            pass
        return ws
