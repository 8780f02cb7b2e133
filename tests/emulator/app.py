"""The emulated OpenAPI gateway + aiotvideo service, served by aiohttp on 127.0.0.1.

Every action is at path ``/`` (GET or POST) with ``Action`` and ``Version`` in the query; POST
bodies must be JSON (their top-level fields are parameters too, the query wins). Order of checks:
signature (``signature.verify``) -> injected fault -> Action/Version -> the action itself.

Service error codes chosen where the docs name none: unknown space/device/stream answer HTTP 404
``InvalidParameter.SpaceNotExist`` / ``InvalidParameter.DeviceNotExist`` /
``InvalidParameter.StreamNotExist``; a bad parameter value answers 400 ``InvalidParameter``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import secrets
import time
from typing import Any

from aiohttp import web

from .data import API_VERSION, EMU_AK, EMU_REGION, EMU_SK, Raw, State, demo_state
from .events import EventServer
from .ptz import PTZ_VERSION, PtzService
from .recordings import METHODS as RECORDING_METHODS, RECORDINGS_VERSION, RecordingService
from .signature import GatewayError, verify
from .stream import StreamServer
from .talk import TalkBusyError, TalkServer

type Params = dict[str, str]
type Handler = Callable[[Params], Awaitable[Raw]]

MAX_PAGE_SIZE = 100
API_VERSION_2023 = "2023-10-01"
# Actions served only at another version than API_VERSION.
ACTION_VERSIONS = {
    "ListDeviceAlarms": API_VERSION_2023,
    **dict.fromkeys(RECORDING_METHODS, RECORDINGS_VERSION),
}
DEFAULT_PAGE_SIZE = 20
BUSY_MESSAGE = (
    "The request is failed due to start voice talk failed: code is not 200. 500 "
    '{"message":"voice talk notfiy fail: result:error, reason:voice talk is busy"}'
)
# CodeN of the gateway's common error codes (the service's own codes have none).
CODE_N = {
    "MissingParameter": 100002,
    "MissingAuthenticationToken": 100003,
    "MissingRequestInfo": 100004,
    "MissingSignature": 100005,
    "InvalidTimestamp": 100006,
    "ServiceNotFound": 100007,
    "InvalidActionOrVersion": 100008,
    "InvalidAccessKey": 100009,
    "SignatureDoesNotMatch": 100010,
    "LackPolicy": 100012,
    "AccessDenied": 100013,
    "InternalError": 100014,
    "FailToConnect": 100015,
    "InternalServiceTimeout": 100016,
}


@dataclass(eq=False)
class RecordedRequest:
    """One request as it arrived, plus the answer's status and error code."""

    action: str | None
    method: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    path: str = "/"
    status: int | None = None
    error_code: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass(eq=False)
class Fault:
    """An injected answer for the next ``times`` requests of ``action`` (None = any)."""

    action: str | None
    code: str | None = None
    status: int = 500
    message: str = ""
    delay: float = 0.0
    body: bytes | None = None
    content_type: str = "application/json"
    times: int = 1
    code_n: int | None = None
    disconnect: bool = False
    completes: bool = False  # the action runs even if the client has gone (a late answer)


class FaultRegistry:
    """Queue of injected faults, checked after the signature and before the action."""

    def __init__(self) -> None:
        """Initialize."""
        self.pending: list[Fault] = []

    def add(
        self,
        action: str | None,
        *,
        code: str | None = None,
        status: int = 500,
        message: str = "",
        delay: float = 0.0,
        body: bytes | None = None,
        content_type: str = "application/json",
        times: int = 1,
        code_n: int | None = None,
        disconnect: bool = False,
        completes: bool = False,
    ) -> Fault:
        """Inject a fault; see the module docs of ``Emulator`` for the answer it produces."""
        fault = Fault(
            action,
            code,
            status,
            message,
            delay,
            body,
            content_type,
            times,
            code_n,
            disconnect,
            completes,
        )
        self.pending.append(fault)
        return fault

    def clear(self) -> None:
        """Drop every pending fault."""
        self.pending.clear()

    def take(self, action: str | None) -> Fault | None:
        """Return (and consume one use of) the first fault matching ``action``."""
        for fault in self.pending:
            if fault.action is None or fault.action == action:
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.pending.remove(fault)
                return fault
        return None


def _required(params: Params, *names: str) -> list[str]:
    for name in names:
        if not params.get(name):
            raise GatewayError(
                400, "MissingParameter", f"The parameter {name} is required.", 100002
            )
    return [params[name] for name in names]


def _int_param(params: Params, name: str, default: int) -> int:
    value = params.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise GatewayError(400, "InvalidParameter", f"{name} must be an integer.") from None


def _page(params: Params, items: list[Raw], key: str) -> Raw:
    number = max(_int_param(params, "PageNumber", 1), 1)
    size = _int_param(params, "PageSize", DEFAULT_PAGE_SIZE)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise GatewayError(400, "InvalidParameter", "PageSize must be between 1 and 100.")
    start = (number - 1) * size
    return {
        "PageNumber": number,
        "PageSize": size,
        "TotalCount": len(items),
        key: items[start : start + size],
    }


def _ordered(params: Params, items: list[Raw]) -> list[Raw]:
    """Order by creation (insertion) time: ``Order=1`` ascending, default -1 descending."""
    return items if params.get("Order") == "1" else items[::-1]


def _not_found(what: str) -> GatewayError:
    return GatewayError(
        404,
        f"InvalidParameter.{what}NotExist",
        f"The request is failed due to the {what.lower()} does not exist.",
    )


class Emulator:
    """Local Volcengine OpenAPI gateway + aiotvideo service + voice-talk WebSocket.

    Faults (``faults.add``): with ``code`` -> error envelope (``status``, ``message``, CodeN
    from ``code_n`` or the gateway table); with ``body`` -> that raw body, ``status`` and
    ``content_type``; with neither and ``delay > 0`` -> sleep, then answer normally; with
    neither and no delay -> empty body with ``status``; ``disconnect=True`` -> drop the
    connection without an answer. ``delay`` always sleeps first. ``times <= 0`` = forever.
    ``completes=True`` (with ``delay``): a slow gateway whose request went through: the action
    is carried out after the delay even if the client gave up waiting (its answer is lost).

    Key policies (``deny``/``allow``): an action denied to a key is answered with 403
    ``AccessDenied`` for every request of that key, after the signature check.
    """

    def __init__(self, state: State | None = None) -> None:
        """Initialize with the demo account (or ``state``)."""
        self.state = state if state is not None else demo_state()
        self.faults = FaultRegistry()
        self.requests: list[RecordedRequest] = []
        self.clock_offset = 0.0
        self.talk = TalkServer()
        self.ptz = PtzService(self.state)  # CloudControl, QueryPresetInfo (2023-10-01)
        self.streams = StreamServer(self.now)
        self.events = EventServer(self.state, self.now)
        self.recordings = RecordingService(self.state, self.now)  # recordings.py (2023-10-01)
        self.credentials: dict[str, str] = {EMU_AK: EMU_SK}
        self.denied: dict[str, set[str]] = {}  # AccessKey ID -> actions its policy does not allow
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        self._actions: dict[str, Handler] = {
            "ListSpaces": self._list_spaces,
            "GetSpace": self._get_space,
            "ListDevices": self._list_devices,
            "GetDevice": self._get_device,
            "GetDeviceChannelsV2": self._get_device_channels,
            "StartVoiceTalk": self._start_voice_talk,
            "StopVoiceTalk": self._stop_voice_talk,
            "StartStream": self._start_stream,
            "StopStream": self._stop_stream,
            "GetStream": self._get_stream,
            "ListAlarmNotify": self._list_alarm_notify,
            "ListDeviceAlarms": self._list_device_alarms,
        }

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving; ``.url`` becomes ``http://host:port``."""
        app = web.Application()
        app.router.add_route("*", "/", self._api)
        self.talk.add_routes(app)
        self.streams.add_routes(app)
        self.recordings.add_routes(app)
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound}"
        self.streams.base_url = self.recordings.base_url = self.url

    async def stop(self) -> None:
        """Close talk sockets and stop the server."""
        await self.talk.close_all()
        await self.streams.close_all()
        await self.events.close()
        await self.recordings.close()
        for task in list(self._inflight):
            task.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def now(self) -> datetime:
        """Return the emulator's notion of now (real UTC time + ``clock_offset``)."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def deny(self, action: str, access_key: str = EMU_AK) -> None:
        """Take ``action`` out of a key's policy: the gateway answers 403 ``AccessDenied``."""
        self.denied.setdefault(access_key, set()).add(action)

    def allow(self, action: str, access_key: str = EMU_AK) -> None:
        """Give ``action`` back to a key's policy."""
        self.denied.get(access_key, set()).discard(action)

    def requests_for(self, action: str) -> list[RecordedRequest]:
        """Return the recorded requests of one action."""
        return [r for r in self.requests if r.action == action]

    # --- gateway -----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        params: Params = {k: v for k, v in request.query.items() if k not in ("Action", "Version")}
        action = request.query.get("Action")
        record = RecordedRequest(
            action=action,
            method=request.method,
            query=dict(request.query),
            headers=dict(request.headers),
            body=body,
            path=request.path,
        )
        self.requests.append(record)
        meta = {
            "RequestId": f"{self.now():%Y%m%d%H%M%S}{secrets.token_hex(9).upper()}",
            "Action": action or "",
            "Version": request.query.get("Version", ""),
            "Service": "aiotvideo",
            "Region": EMU_REGION,
        }
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            response = await self._dispatch(request, body, params, meta)
        except GatewayError as err:
            error: dict[str, Any] = {"Code": err.code, "Message": err.message}
            if err.code_n is not None:
                error = {"CodeN": err.code_n, **error}
            record.error_code = err.code
            response = web.json_response(
                {"ResponseMetadata": {**meta, "Error": error}}, status=err.status
            )
        finally:
            if task is not None:
                self._inflight.discard(task)
        record.status = response.status
        return response

    async def _dispatch(
        self, request: web.Request, body: bytes, params: Params, meta: dict[str, str]
    ) -> web.StreamResponse:
        if request.method not in ("GET", "POST"):
            raise GatewayError(405, "MethodNotAllowed", f"Method {request.method} not allowed.")
        verified = verify(
            method=request.method,
            path=request.raw_path.partition("?")[0],
            raw_query=request.raw_path.partition("?")[2],
            headers=request.headers,
            body=body,
            credentials=self.credentials,
            now=self.now(),
        )
        meta["Region"] = verified.region
        if meta["Action"] in self.denied.get(verified.access_key, ()):
            raise GatewayError(
                403,
                "AccessDenied",
                f"User is not authorized to perform: aiotvideo:{meta['Action']}",
                CODE_N["AccessDenied"],
            )
        self.recordings.admit(verified.access_key, meta["Action"])
        fault = self.faults.take(meta["Action"])
        if fault is not None and fault.completes:
            late = asyncio.ensure_future(self._late(request, body, params, meta, fault))
            late.add_done_callback(lambda t: t.cancelled() or t.exception())
            return await asyncio.shield(late)
        if fault is not None:
            answer = await self._fault(request, fault)
            if answer is not None:
                return answer
        return await self._act(request, body, params, meta)

    async def _late(
        self,
        request: web.Request,
        body: bytes,
        params: Params,
        meta: dict[str, str],
        fault: Fault,
    ) -> web.StreamResponse:
        await asyncio.sleep(fault.delay)
        return await self._act(request, body, params, meta)

    async def _act(
        self, request: web.Request, body: bytes, params: Params, meta: dict[str, str]
    ) -> web.StreamResponse:
        handler = self._actions.get(meta["Action"])
        if not meta["Action"] or not meta["Version"]:
            raise GatewayError(400, "MissingParameter", "Action and Version are required.", 100002)
        typed = self.ptz.handlers.get(meta["Action"])
        if typed is not None and meta["Version"] == PTZ_VERSION:
            data = _json_object(body) if request.method == "POST" and body.strip() else {}
            return web.json_response(
                {"ResponseMetadata": meta, "Result": await typed(params, data)}
            )
        recording = self.recordings.handlers.get(meta["Action"])
        if recording is not None and meta["Version"] == ACTION_VERSIONS[meta["Action"]]:
            data = _json_object(body) if request.method == "POST" and body.strip() else {}
            result = await recording(request.method, params, data)
            return web.json_response({"ResponseMetadata": meta, "Result": result})
        if handler is None or meta["Version"] != ACTION_VERSIONS.get(meta["Action"], API_VERSION):
            raise GatewayError(
                404,
                "InvalidActionOrVersion",
                f"Could not find operation {meta['Action']} for version {meta['Version']}",
                100008,
            )
        if request.method == "POST" and body.strip():
            params = {**_json_params(body), **params}
        return web.json_response({"ResponseMetadata": meta, "Result": await handler(params)})

    async def _fault(self, request: web.Request, fault: Fault) -> web.StreamResponse | None:
        if fault.delay > 0:
            await asyncio.sleep(fault.delay)
        if fault.disconnect:
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if fault.code is not None:
            code_n = fault.code_n if fault.code_n is not None else CODE_N.get(fault.code)
            raise GatewayError(fault.status, fault.code, fault.message or fault.code, code_n)
        if fault.body is not None or fault.delay <= 0:
            return web.Response(
                status=fault.status,
                body=fault.body or b"",
                headers={"Content-Type": fault.content_type},
            )
        return None

    # --- actions -----------------------------------------------------------------------------

    def _space(self, params: Params) -> str:
        (space_id,) = _required(params, "SpaceID")
        if space_id not in self.state.spaces:
            raise _not_found("Space")
        return space_id

    def _device(self, params: Params) -> Raw:
        space_id = self._space(params)
        (device_id,) = _required(params, "DeviceID")
        device = self.state.device(space_id, device_id)
        if device is None:
            raise _not_found("Device")
        return device

    async def _list_spaces(self, params: Params) -> Raw:
        return _page(params, _ordered(params, list(self.state.spaces.values())), "Spaces")

    async def _get_space(self, params: Params) -> Raw:
        return self.state.spaces[self._space(params)]

    async def _list_devices(self, params: Params) -> Raw:
        devices = list(self.state.devices.get(self._space(params), {}).values())
        for key in ("DeviceID", "DeviceNSID"):
            if params.get(key):
                devices = [d for d in devices if d.get(key) == params[key]]
        if params.get("Status"):
            wanted = set(params["Status"].split(","))
            devices = [d for d in devices if d.get("Status") in wanted]
        if name := params.get("DeviceName"):
            devices = [
                d for d in devices if name in d.get("DeviceName", "") or name == d["DeviceNSID"]
            ]
        return _page(params, _ordered(params, devices), "Devices")

    async def _get_device(self, params: Params) -> Raw:
        return self._device(params)

    async def _get_device_channels(self, params: Params) -> Raw:
        device = self._device(params)
        channels = self.state.device_channels(device)
        if channel_id := params.get("ChannelID"):
            channels = [c for c in channels if c["DeviceItem"].get("DeviceID") == channel_id]
        if status := params.get("ChannelStatus"):
            channels = [c for c in channels if c["DeviceItem"].get("Status") == status]
        channels = sorted(
            channels,
            key=lambda c: c["DeviceItem"].get("DeviceID", ""),
            reverse=params.get("Order") == "-1",
        )
        return {
            "DeviceName": device.get("DeviceName", ""),
            "DeviceID": device["DeviceID"],
            "DeviceNSID": device.get("DeviceNSID", ""),
            "Channels": channels,
        }

    def _talk_device(self, params: Params) -> tuple[str, Raw]:
        space_id = self._space(params)
        (nsid,) = _required(params, "DeviceNSID")
        device = self.state.device_by_nsid(space_id, nsid)
        if device is None:
            raise _not_found("Device")
        return nsid, device

    async def _start_voice_talk(self, params: Params) -> Raw:
        nsid, device = self._talk_device(params)
        transport = params.get("Transport", params.get("transport"))
        if transport is not None and transport not in ("tcp", "udp"):
            raise GatewayError(400, "InvalidParameter", "Transport must be tcp or udp.")
        if device.get("Status") != "online":
            raise GatewayError(
                400,
                "InvalidParameter.DeviceNotOnline",
                "The request is failed due to the device is not online.",
            )
        try:
            path = self.talk.issue(nsid)
        except TalkBusyError:
            raise GatewayError(500, "Busy.VoiceTalkDeviceBusy", BUSY_MESSAGE) from None
        return {"AudioSendUrl": "ws" + self.url.removeprefix("http") + path}

    async def _stop_voice_talk(self, params: Params) -> Raw:
        nsid, _ = self._talk_device(params)
        await self.talk.stop(nsid)
        return {}

    def _stream(self, params: Params) -> tuple[str, str, Raw]:
        (stream_id,) = _required(params, "StreamID")
        spaces = [self._space(params)] if params.get("SpaceID") else list(self.state.spaces)
        for space_id in spaces:
            if (device := self.state.stream_owner(space_id, stream_id)) is not None:
                return space_id, stream_id, device
        raise _not_found("Stream")

    async def _start_stream(self, params: Params) -> Raw:
        space_id, stream_id, device = self._stream(params)
        if device.get("Status") != "online":
            raise GatewayError(
                400,
                "InvalidParameter.DeviceNotOnline",
                "The request is failed due to the device is not online.",
            )
        index = _int_param(params, "StreamingIndex", 0)
        self.state.started_streams[stream_id] = {"SpaceID": space_id, "StreamingIndex": index}
        transcode = params.get("EnableAudioTranscode")
        urls = self.streams.issue(
            stream_id, transcode=None if transcode is None else transcode == "1"
        )
        return {"ID": stream_id, "PullUrls": urls, "TransPullUrls": []}

    async def _get_stream(self, params: Params) -> Raw:
        space_id, stream_id, device = self._stream(params)
        running = self.streams.running(stream_id)
        if running and params.get("FreshExpiredPull") == "1":
            self.streams.issue(stream_id)  # re-signs only the URLs that have expired
        if device.get("Status") != "online":
            status = "offline"
        else:
            status = "online" if running else "init"
        return {
            "SpaceID": space_id,
            "StreamID": stream_id,
            "DeviceNSID": device.get("DeviceNSID", ""),
            "Status": status,
            "PullUrls": self.streams.urls(stream_id),
            "TransPullUrls": [],
        }

    async def _stop_stream(self, params: Params) -> Raw:
        _, stream_id, _ = self._stream(params)
        self.state.started_streams.pop(stream_id, None)
        await self.streams.stop(stream_id)
        return {}

    async def _list_alarm_notify(self, params: Params) -> Raw:
        space_id = self._space(params)
        return _page(params, self.events.list_alarm_notify(space_id, params), "AlarmNotifies")

    async def _list_device_alarms(self, params: Params) -> Raw:
        (device_id,) = _required(params, "DeviceID")
        for space_id in self.state.spaces:
            if (device := self.state.device(space_id, device_id)) is not None:
                return _page(
                    params, self.events.list_device_alarms(device, params), "AlarmNotifies"
                )
        raise _not_found("Device")


def _json_params(body: bytes) -> Params:
    return {
        str(k): v if isinstance(v, str) else json.dumps(v)
        for k, v in _json_object(body).items()
        if v is not None
    }


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise GatewayError(400, "InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise GatewayError(400, "InvalidParameter", "The request body must be a JSON object.")
    return {str(k): v for k, v in data.items()}
