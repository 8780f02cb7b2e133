"""Alarm side of the emulator: injected GB/T 28181 alarms, the list actions and the callback.

Control API (``emulator.events``):

* ``inject(space_id, device_nsid, channel_id, method=5, alarm_type=2, ...)`` stores one alarm
  (an ``AlarmNotify``) and, when the space has a ``CallbackURL``, POSTs the ``device_alarm``
  callback to it; ``await`` it to have the delivery done (``deliveries`` records each one).
  ``deliver=False`` stores without calling back (an alarm whose push got lost).
* ``set_callback(space_id, url)`` sets the space's ``CallbackURL`` (what ``UpdateSpace`` does in
  the console). Only loopback targets (127.0.0.0/8, ``[::1]``, ``localhost``) are accepted.
* ``post_raw(space_id, body)`` POSTs any bytes to the callback URL (malformed-callback tests).

Actions (see ``list_alarm_notify`` and ``list_device_alarms``), both signature-verified by the
gateway like every action:

* ``ListAlarmNotify`` (2021-01-01, documented page 6521/129581; item shape from the Go SDK's
  ``AlarmNotify``): ``SpaceID`` in the query (required here), body ``DeviceNSID``,
  ``ChannelID``, ``StartTime``/``EndTime`` (unix s, both inclusive), ``AlarmMethod[]``,
  ``AlarmPriority[]``, ``AlarmType2[]``/``AlarmType5[]``/``AlarmType6[]``, ``Order``;
  ``PageNumber``/``PageSize`` in the query (the Go SDK's form). Items carry the alarm type in
  ``Info.AlarmType`` and the region event in ``Info.AlarmTypeParam.EventType``.
* ``ListDeviceAlarms`` (2023-10-01, Go SDK only): body ``DeviceID`` (the platform UUID; required
  here), ``StreamID``, the same time, method and priority filters and ``Order``. Items are
  flat: ``AlarmType`` and ``EventType`` at the top level, no ``SpaceID``.
* ``Order``: ``0`` (the default) ascending by alarm time, anything else descending: the rule the
  Go SDK documents for ListDeviceAlarms; for ListAlarmNotify it is INFERRED (a uint32 there).
* Result: ``PageNumber``, ``PageSize``, ``TotalCount``, ``AlarmNotifies[]``.

Callback envelope (documented, page 6521/124201): ``{"CallbackMeta": {"MsgID", "App",
"Version": "v1", "Url": [...]}, "CallbackHeader": {"EventObject", "ObjectTag", "EventType":
"device_alarm", "EventTime": <ns>}, "Detail": "<base64>"}``; the receiver answers 200.
The decoded ``Detail`` of ``device_alarm`` is NOT documented anywhere: this emulator sends the
``AlarmNotify`` object exactly as ``ListAlarmNotify`` lists it (INFERRED, not confirmed), with
``EventObject`` ``device`` and ``ObjectTag`` the device's GB ID (INFERRED as well).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
import ipaddress
import json
import secrets
import time
import uuid

import aiohttp
from yarl import URL

from .data import Raw, State
from .signature import GatewayError

DELIVERY_TIMEOUT = 5.0
LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(eq=False)
class Delivery:
    """One callback POST: the target, the envelope sent and the receiver's answer."""

    url: str
    body: bytes
    status: int | None = None
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


def is_loopback(url: str) -> bool:
    """Return whether ``url`` is an http(s) URL whose host is a loopback address."""
    try:
        parsed = URL(url)
        host = parsed.host
    except ValueError:
        return False
    if parsed.scheme not in ("http", "https") or not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _int_list(value: str | None, name: str) -> set[int]:
    if value is None or value in ("", "null"):
        return set()
    try:
        data = json.loads(value) if value.startswith("[") else value.split(",")
        return {int(v) for v in data}
    except TypeError, ValueError:
        raise GatewayError(400, "InvalidParameter", f"{name} must be a list of integers.") from None


def _time(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise GatewayError(400, "InvalidParameter", f"{name} must be a unix time.") from None


class EventServer:
    """Injected alarms of every space, the two list actions and callback delivery."""

    def __init__(self, state: State, now: Callable[[], datetime]) -> None:
        """Initialize with the emulator's account and clock."""
        self.state = state
        self._now = now
        self.alarms: list[Raw] = []  # insertion order = arrival at the platform
        self.deliveries: list[Delivery] = []
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[None]] = set()

    # --- control API ---------------------------------------------------------------------------

    def set_callback(self, space_id: str, url: str) -> None:
        """Set a space's ``CallbackURL``; only loopback targets (or ``""``, none) are accepted."""
        if url and not is_loopback(url):
            msg = f"The emulator only calls back loopback addresses, not {url!r}"
            raise ValueError(msg)
        self.state.spaces[space_id]["CallbackURL"] = url

    async def inject(
        self,
        space_id: str,
        device_nsid: str,
        channel_id: str,
        *,
        method: int = 5,
        alarm_type: int = 2,
        priority: int = 1,
        alarm_time: int | None = None,
        description: str = "",
        event_type: int = 0,
        alarm_id: str | None = None,
        deliver: bool = True,
    ) -> Raw:
        """Store one alarm (``AlarmNotify``) and call the space's ``CallbackURL`` back."""
        if space_id not in self.state.spaces:
            msg = f"unknown space {space_id}"
            raise KeyError(msg)
        raw: Raw = {
            "AccountID": "2100000001",
            "SpaceID": space_id,
            "DeviceNSID": device_nsid,
            "CmdType": "Alarm",
            "SN": len(self.alarms) + 1,
            "ChannelID": channel_id,
            "AlarmPriority": priority,
            "AlarmMethod": method,
            "AlarmTime": int(self._now().timestamp()) if alarm_time is None else alarm_time,
            "AlarmDescription": description,
            "Longitude": "",
            "Latitude": "",
            "AlarmInfo": "",
            "AlarmNotifyID": alarm_id or secrets.token_hex(12),
            "Info": {"AlarmType": alarm_type, "AlarmTypeParam": {"EventType": event_type}},
        }
        self.alarms.append(raw)
        if deliver:
            await self._deliver(space_id, raw)
        return raw

    async def post_raw(self, space_id: str, body: bytes) -> Delivery | None:
        """POST ``body`` as it is to the space's callback URL (None when there is none)."""
        url = self.state.spaces[space_id].get("CallbackURL") or ""
        if not url:
            return None
        return await self._post(url, body)

    async def close(self) -> None:
        """Wait for deliveries under way and close the HTTP client."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- delivery ------------------------------------------------------------------------------

    def envelope(self, space_id: str, raw: Raw, url: str) -> bytes:
        """Return the documented callback envelope of one alarm (``Detail``: INFERRED)."""
        detail = json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode()
        return json.dumps(
            {
                "CallbackMeta": {
                    "MsgID": str(uuid.uuid4()),
                    "App": f"aiotvideo-{space_id[:8]}",
                    "Version": "v1",
                    "Url": [url],
                },
                "CallbackHeader": {
                    "EventObject": "device",
                    "ObjectTag": raw["DeviceNSID"],
                    "EventType": "device_alarm",
                    "EventTime": time.time_ns(),
                },
                "Detail": base64.b64encode(detail).decode(),
            },
            separators=(",", ":"),
        ).encode()

    async def _deliver(self, space_id: str, raw: Raw) -> None:
        url = self.state.spaces[space_id].get("CallbackURL") or ""
        if url:
            await self._post(url, self.envelope(space_id, raw, url))

    async def _post(self, url: str, body: bytes) -> Delivery:
        if not is_loopback(url):  # the URL may have been written into the state directly
            msg = f"The emulator only calls back loopback addresses, not {url!r}"
            raise ValueError(msg)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        delivery = Delivery(url, body)
        self.deliveries.append(delivery)
        try:
            async with self._session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT),
                allow_redirects=False,
            ) as response:
                delivery.status = response.status
                await response.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            delivery.error = type(err).__name__
        return delivery

    # --- actions -------------------------------------------------------------------------------

    def _filtered(self, params: dict[str, str], items: list[Raw]) -> list[Raw]:
        start = _time(params.get("StartTime"), "StartTime")
        end = _time(params.get("EndTime"), "EndTime")
        if start is not None and end is not None and end < start:
            raise GatewayError(400, "InvalidParameter", "EndTime must not be before StartTime.")
        methods = _int_list(params.get("AlarmMethod"), "AlarmMethod")
        priorities = _int_list(params.get("AlarmPriority"), "AlarmPriority")
        types = {
            method: _int_list(params.get(f"AlarmType{method}"), f"AlarmType{method}")
            for method in (2, 5, 6)
        }
        found = []
        for raw in items:
            alarm_time = raw["AlarmTime"]
            method = raw["AlarmMethod"]
            if (start is not None and alarm_time < start) or (end is not None and alarm_time > end):
                continue
            if (methods and method not in methods) or (
                priorities and raw["AlarmPriority"] not in priorities
            ):
                continue
            if types.get(method) and raw["Info"]["AlarmType"] not in types[method]:
                continue
            found.append(raw)
        # A stable sort by alarm time keeps arrival order for equal times.
        descending = params.get("Order", "0") not in ("", "0")
        return sorted(found, key=lambda r: r["AlarmTime"], reverse=descending)

    def list_alarm_notify(self, space_id: str, params: dict[str, str]) -> list[Raw]:
        """Return the ListAlarmNotify items of a space (filtered and ordered, not paged)."""
        items = [a for a in self.alarms if a["SpaceID"] == space_id]
        if nsid := params.get("DeviceNSID"):
            items = [a for a in items if a["DeviceNSID"] == nsid]
        if channel := params.get("ChannelID"):
            items = [a for a in items if a["ChannelID"] == channel]
        return self._filtered(params, items)

    def list_device_alarms(self, device: Raw, params: dict[str, str]) -> list[Raw]:
        """Return the ListDeviceAlarms items of a device (its flat V3 shape, not paged)."""
        nsid = device.get("DeviceNSID")
        items = [a for a in self.alarms if a["DeviceNSID"] == nsid]
        if stream_id := params.get("StreamID"):
            streams = device.get("DeviceStreams")
            values = streams.items() if isinstance(streams, dict) else []
            channels = {ch for ch, s in values if s.get("StreamID") == stream_id}
            channels |= {
                c["DeviceItem"].get("DeviceID")
                for c in self.state.channels.get(device["DeviceID"], [])
                if c.get("StreamID") == stream_id
            }
            items = [a for a in items if a["ChannelID"] in channels]
        return [
            {
                "AlarmNotifyID": a["AlarmNotifyID"],
                "DeviceNSID": a["DeviceNSID"],
                "ChannelID": a["ChannelID"],
                "AlarmPriority": a["AlarmPriority"],
                "AlarmMethod": a["AlarmMethod"],
                "AlarmType": a["Info"]["AlarmType"],
                "EventType": a["Info"]["AlarmTypeParam"]["EventType"],
                "AlarmTime": a["AlarmTime"],
                "AlarmDescription": a["AlarmDescription"],
                "Longitude": a["Longitude"],
                "Latitude": a["Latitude"],
            }
            for a in self._filtered(params, items)
        ]
