"""Tolerant parser of Volcengine's event callback (POSTed to the space's ``CallbackURL``).

The envelope is documented (VDOC 6521/124201)::

    {"CallbackMeta": {"MsgID": "...", "App": "<callback id>", "Version": "v1", "Url": [...]},
     "CallbackHeader": {"EventObject": "stream", "ObjectTag": "livestream0001",
                        "EventType": "stream_online", "EventTime": 1637831812009935076},
     "Detail": "<base64>"}

``EventTime`` is in nanoseconds; the receiver answers 200. Event types: ``device_online`` /
``device_offline``, ``online`` / ``offline`` (channel), ``stream_online`` / ``stream_offline``,
``stream_record_aiot``, ``stream_snapshot_aiot``, ``gb_media_download(_error)`` and
``device_alarm``.

The decoded ``Detail`` of ``device_alarm`` is documented nowhere: it is INFERRED to be the
``AlarmNotify`` object that ``ListAlarmNotify`` lists (``DeviceNSID``, ``ChannelID``,
``AlarmMethod``, ``Info.AlarmType`` or ``AlarmType``, ``AlarmPriority``, ``AlarmTime``, ...), so
it is parsed with ``Alarm.from_json`` and its keys outside that set are reported in
``Callback.unknown_keys`` (for diagnostics). Confirm a pushed alarm against the list before
trusting it where that matters.

Every malformed body raises ``CallbackError`` (a ``ValueError`` with a short, secret-free reason);
nothing else escapes ``parse_callback``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
from typing import Any, Final

from ..api.errors import VolcengineResponseError
from ..api.models import Alarm

type JsonObject = Mapping[str, Any]

MAX_CALLBACK_BYTES: Final = 64 * 1024
DEVICE_ALARM: Final = "device_alarm"
# The AlarmNotify keys (Go SDK ``AlarmNotify`` and ``AlarmNotifyV3``) a Detail is expected to have.
KNOWN_DETAIL_KEYS: Final = frozenset(
    {
        "AccountID",
        "SpaceID",
        "DeviceID",
        "DeviceNSID",
        "CmdType",
        "SN",
        "ChannelID",
        "AlarmPriority",
        "AlarmMethod",
        "AlarmType",
        "EventType",
        "AlarmTime",
        "AlarmDescription",
        "Longitude",
        "Latitude",
        "AlarmInfo",
        "AlarmNotifyID",
        "Info",
    }
)
_NS_THRESHOLD = 10**17  # EventTime above this is in ns; above 10**14 in µs; 10**11 in ms
_US_THRESHOLD = 10**14
_MS_THRESHOLD = 10**11


class CallbackError(ValueError):
    """A callback body that is not a usable event envelope."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Callback:
    """One parsed callback: the envelope's fields and, for ``device_alarm``, the alarm."""

    event_type: str
    msg_id: str | None = None
    app: str | None = None
    version: str | None = None
    event_object: str | None = None
    object_tag: str | None = None
    event_time: datetime | None = None
    detail: JsonObject = field(default_factory=dict, repr=False)
    alarm: Alarm | None = None
    unknown_keys: frozenset[str] = frozenset()


def _text(data: JsonObject, key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _event_time(value: object) -> datetime | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    if value > _NS_THRESHOLD:
        seconds = value / 1e9
    elif value > _US_THRESHOLD:
        seconds = value / 1e6
    elif value > _MS_THRESHOLD:
        seconds = value / 1e3
    else:
        seconds = float(value)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        return None


def _decode_detail(value: object) -> JsonObject:
    """Decode ``Detail``: base64 (standard or URL-safe, padding optional) of a JSON object."""
    if isinstance(value, Mapping):  # tolerate a sender that did not encode it
        return value
    if not isinstance(value, str) or not value.strip():
        msg = "Detail is missing or not a string"
        raise CallbackError(msg)
    text = "".join(value.split())
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError) as err:
        msg = f"Detail is not base64-encoded JSON ({type(err).__name__})"
        raise CallbackError(msg) from None
    if not isinstance(data, Mapping):
        msg = "Detail is not a JSON object"
        raise CallbackError(msg)
    return data


def parse_callback(body: bytes | str) -> Callback:
    """Parse a callback body; raise ``CallbackError`` when it is not a usable envelope."""
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_CALLBACK_BYTES:
        msg = f"body larger than {MAX_CALLBACK_BYTES} bytes"
        raise CallbackError(msg)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        msg = f"body is not JSON ({type(err).__name__})"
        raise CallbackError(msg) from None
    if not isinstance(data, Mapping):
        msg = "body is not a JSON object"
        raise CallbackError(msg)
    header = data.get("CallbackHeader")
    if not isinstance(header, Mapping):
        msg = "CallbackHeader is missing"
        raise CallbackError(msg)
    event_type = _text(header, "EventType")
    if event_type is None:
        msg = "CallbackHeader.EventType is missing"
        raise CallbackError(msg)
    meta = data.get("CallbackMeta")
    meta = meta if isinstance(meta, Mapping) else {}
    alarm: Alarm | None = None
    unknown: frozenset[str] = frozenset()
    if event_type == DEVICE_ALARM:
        detail = _decode_detail(data.get("Detail"))
        try:
            alarm = Alarm.from_json(detail)
        except (VolcengineResponseError, TypeError, ValueError) as err:
            msg = f"Detail is not an alarm: {err}"
            raise CallbackError(msg) from None
        unknown = frozenset(str(key) for key in detail) - KNOWN_DETAIL_KEYS
    else:
        try:
            detail = _decode_detail(data.get("Detail"))
        except CallbackError:
            detail = {}  # other events are not used: their detail is best effort
    return Callback(
        event_type=event_type,
        msg_id=_text(meta, "MsgID"),
        app=_text(meta, "App"),
        version=_text(meta, "Version"),
        event_object=_text(header, "EventObject"),
        object_tag=_text(header, "ObjectTag"),
        event_time=_event_time(header.get("EventTime")),
        detail=detail,
        alarm=alarm,
        unknown_keys=unknown,
    )
