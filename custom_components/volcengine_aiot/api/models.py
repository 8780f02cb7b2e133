"""Typed, frozen models of the aiotvideo answers, built tolerantly from the JSON.

Unknown fields are ignored, optional fields default, documented spelling variants are accepted,
and a missing required field raises ``VolcengineResponseError`` instead of a ``KeyError``.
Secrets (talk URL tokens, pull URLs) are kept out of ``repr``; a GB registration password is not
kept at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Self

from .errors import VolcengineResponseError

type JsonObject = Mapping[str, Any]


class DeviceStatus(StrEnum):
    """Registration status of a GB/T 28181 device."""

    ONLINE = "online"
    OFFLINE = "offline"
    UNREGISTERED = "unregistered"
    INVALID_PASSWORD = "invalid_password"  # noqa: S105 - a status name, not a password
    CHANNEL_UPDATE = "channel_update"
    DISABLED = "disabled"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: object) -> DeviceStatus:
        """Parse a status, accepting the documented ``unregisterd`` spelling."""
        text = str(value or "").strip().lower()
        if text == "unregisterd":
            return cls.UNREGISTERED
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN


def _required(data: JsonObject, key: str, model: str) -> str:
    value = data.get(key)
    if value is None or value == "":
        msg = f"{model} without {key} in the answer"
        raise VolcengineResponseError(msg, status=200)
    return str(value)


def _str(data: JsonObject, *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _int(data: JsonObject, key: str, default: int = 0) -> int:
    try:
        return int(data.get(key, default))
    except TypeError, ValueError:
        return default


def _object(value: object) -> JsonObject:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Space:
    """A space (空间): the container of devices the integration is configured for."""

    space_id: str
    name: str
    description: str | None = None
    region: str | None = None
    access_type: str | None = None
    status: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Self:
        """Build from a ListSpaces/GetSpace space object."""
        space_id = _required(data, "SpaceID", "Space")
        return cls(
            space_id=space_id,
            name=_str(data, "SpaceName") or space_id,
            description=_str(data, "Description"),
            region=_str(data, "Region"),
            access_type=_str(data, "AccessType"),
            status=_str(data, "Status"),
        )


def _urls(value: object) -> tuple[str, ...]:
    """Parse a URL list; a map (protocol -> URLs, the Go SDK's TransPullUrls) is flattened."""
    if isinstance(value, Mapping):
        return tuple(url for item in value.values() for url in _urls(item))
    if isinstance(value, list):
        return tuple(str(url) for url in value if isinstance(url, str) and url)
    return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Stream:
    """One main stream of a device, keyed by its channel."""

    channel_id: str | None
    stream_id: str | None
    name: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    status: str | None = None
    pull_urls: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JsonObject, channel_id: str | None = None) -> Self:
        """Build from a DeviceStreams entry."""
        return cls(
            channel_id=channel_id or _str(data, "ChannelID"),
            stream_id=_str(data, "StreamID"),
            name=_str(data, "Name"),
            manufacturer=_str(data, "Manufacturer"),
            model=_str(data, "Model"),
            status=_str(data, "ChannelStatus", "Status"),
            pull_urls=_urls(data.get("PullUrls")),
        )


def _streams(value: object) -> tuple[Stream, ...]:
    """Parse DeviceStreams given as a map (channel -> stream) or as a list."""
    if isinstance(value, Mapping):
        return tuple(
            Stream.from_json(item, str(key))
            for key, item in value.items()
            if isinstance(item, Mapping)
        )
    if isinstance(value, list):
        return tuple(Stream.from_json(item) for item in value if isinstance(item, Mapping))
    return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """A GB/T 28181 device (IPC, NVR or platform) of a space."""

    device_id: str
    nsid: str
    space_id: str | None
    name: str
    type: str | None = None
    status: DeviceStatus = DeviceStatus.UNKNOWN
    manufacturer: str | None = None
    model: str | None = None
    description: str | None = None
    channel_num: int = 0
    ip_address: str | None = None
    rtp_transport_tcp: bool | None = None
    streams: tuple[Stream, ...] = ()

    @property
    def online(self) -> bool:
        """Return whether the device is registered and online."""
        return self.status is DeviceStatus.ONLINE

    @classmethod
    def from_json(cls, data: JsonObject) -> Self:
        """Build from a ListDevices/GetDevice device object."""
        device_id = _required(data, "DeviceID", "Device")
        nsid = _required(data, "DeviceNSID", "Device")
        streams = _streams(data.get("DeviceStreams"))
        manufacturer = _str(data, "Manufactory", "Manufacturer") or next(
            (s.manufacturer for s in streams if s.manufacturer), None
        )
        model = _str(data, "Model") or next((s.model for s in streams if s.model), None)
        rtp_tcp = data.get("RtpTransportTcp")
        return cls(
            device_id=device_id,
            nsid=nsid,
            space_id=_str(data, "SpaceID"),
            name=_str(data, "DeviceName") or nsid,
            type=_str(data, "Type"),
            status=DeviceStatus.parse(data.get("Status")),
            manufacturer=manufacturer,
            model=model,
            description=_str(data, "Description"),
            channel_num=_int(data, "ChannelNum"),
            ip_address=_str(data, "DeviceIP"),
            rtp_transport_tcp=rtp_tcp if isinstance(rtp_tcp, bool) else None,
            streams=streams,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """A channel of a device (GetDeviceChannelsV2)."""

    channel_id: str
    name: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    status: str | None = None
    stream_id: str | None = None
    # GB/T 28181 PTZType (DeviceItem.Info): 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled;
    # None when the channel does not report it.
    ptz_type: int | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Self:
        """Build from a Channels[] item (DeviceItem as an object or a one-item list)."""
        item_raw = data.get("DeviceItem")
        if isinstance(item_raw, list):
            item_raw = item_raw[0] if item_raw else {}
        item = _object(item_raw)
        return cls(
            channel_id=_str(item, "ChannelID", "DeviceID")
            or _required(data, "ChannelID", "Channel"),
            name=_str(item, "Name"),
            manufacturer=_str(item, "Manufacturer"),
            model=_str(item, "Model"),
            status=_str(item, "Status"),
            stream_id=_str(data, "StreamID"),
            ptz_type=_ptz_type(_object(item.get("Info")).get("PTZType")),
        )


def _ptz_type(value: object) -> int | None:
    """Parse a PTZType (an int, or its digits as a string); anything else is not reported."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass(frozen=True, slots=True)
class VoiceTalk:
    """A started voice talk: the WebSocket URL to push audio to (a capability URL: secret)."""

    audio_send_url: str = field(repr=False)

    def __repr__(self) -> str:
        """Return a representation without the URL's token."""
        return "VoiceTalk(audio_send_url=**REDACTED**)"

    @classmethod
    def from_json(cls, data: JsonObject) -> Self:
        """Build from the StartVoiceTalk result."""
        return cls(_required(data, "AudioSendUrl", "StartVoiceTalk result"))


@dataclass(frozen=True, slots=True)
class StreamUrls:
    """Pull URLs of a started stream (signed: kept out of ``repr``)."""

    stream_id: str
    pull_urls: tuple[str, ...] = field(default=(), repr=False)
    trans_pull_urls: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_json(cls, data: JsonObject, stream_id: str) -> Self:
        """Build from the StartStream result."""
        return cls(
            _str(data, "ID") or stream_id,
            _urls(data.get("PullUrls")),
            _urls(data.get("TransPullUrls")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamInfo:
    """A stream as GetStream describes it: its status and (signed) pull URLs."""

    stream_id: str
    status: str | None = None
    pull_urls: tuple[str, ...] = field(default=(), repr=False)
    trans_pull_urls: tuple[str, ...] = field(default=(), repr=False)

    @property
    def pulling(self) -> bool:
        """Return whether the platform reports the stream as running (``online``/``pulling``)."""
        return (self.status or "").lower() in ("online", "pulling")

    @classmethod
    def from_json(cls, data: JsonObject, stream_id: str) -> Self:
        """Build from the GetStream result."""
        return cls(
            stream_id=_str(data, "StreamID", "ID") or stream_id,
            status=_str(data, "Status"),
            pull_urls=_urls(data.get("PullUrls")),
            trans_pull_urls=_urls(data.get("TransPullUrls")),
        )


class AlarmEventType(StrEnum):
    """What an alarm means for Home Assistant (the ``event`` entity's event types)."""

    MOTION = "motion"
    INTRUSION = "intrusion"
    LINE_CROSSING = "line_crossing"
    LOITERING = "loitering"
    TAMPER = "tamper"
    VIDEO_LOSS = "video_loss"
    OTHER = "other"


# GB/T 28181 ``AlarmMethod`` (报警方式), as ListAlarmNotify documents it (VDOC 6521/129581).
ALARM_METHODS: Final[Mapping[int, str]] = {
    1: "phone",
    2: "device",
    3: "sms",
    4: "gps",
    5: "video",
    6: "device_fault",
    7: "other",
}

# (AlarmMethod, AlarmType) -> (GB name, event type). The alarm types are documented per method by
# ListAlarmNotify's filters: ``AlarmType2`` (device alarms), ``AlarmType5`` (video alarms) and
# ``AlarmType6`` (faults). The event-type column is our mapping (INFERRED: the platform names
# none); every other pair is ``other`` and keeps its raw method and type.
GB_ALARM_TYPES: Final[Mapping[tuple[int, int], tuple[str, AlarmEventType]]] = {
    (2, 1): ("video_lost", AlarmEventType.VIDEO_LOSS),
    (2, 2): ("tamper", AlarmEventType.TAMPER),
    (2, 3): ("disk_full", AlarmEventType.OTHER),
    (2, 4): ("high_temperature", AlarmEventType.OTHER),
    (2, 5): ("low_temperature", AlarmEventType.OTHER),
    (5, 1): ("manual", AlarmEventType.OTHER),
    (5, 2): ("motion_detection", AlarmEventType.MOTION),
    (5, 3): ("object_left_behind", AlarmEventType.OTHER),
    (5, 4): ("object_removed", AlarmEventType.OTHER),
    (5, 5): ("tripwire", AlarmEventType.LINE_CROSSING),
    (5, 6): ("intrusion", AlarmEventType.INTRUSION),
    (5, 7): ("wrong_direction", AlarmEventType.OTHER),
    (5, 8): ("loitering", AlarmEventType.LOITERING),
    (5, 9): ("people_counting", AlarmEventType.OTHER),
    (5, 10): ("crowd_density", AlarmEventType.OTHER),
    (5, 11): ("video_anomaly", AlarmEventType.OTHER),
    (5, 12): ("fast_movement", AlarmEventType.OTHER),
    (6, 1): ("disk_fault", AlarmEventType.OTHER),
    (6, 2): ("fan_fault", AlarmEventType.OTHER),
}
_MS_THRESHOLD = 10**12  # an AlarmTime above this is in milliseconds, not seconds


def _optional_int(data: JsonObject, *keys: str) -> int | None:
    for key in keys:
        value = data.get(key)
        if value is None or isinstance(value, bool) or value == "":
            continue
        try:
            return int(value)
        except TypeError, ValueError, OverflowError:
            continue
    return None


def _alarm_time(value: object) -> datetime:
    """Parse ``AlarmTime``: unix seconds (int or digits), milliseconds or an ISO 8601 string."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    elif not isinstance(value, bool) and isinstance(value, int | float | str):
        try:
            number = int(value)
            if number > _MS_THRESHOLD:
                number //= 1000
            return datetime.fromtimestamp(number, UTC)
        except OverflowError, OSError, ValueError:
            pass
    msg = "Alarm without a valid AlarmTime in the answer"
    raise VolcengineResponseError(msg, status=200)


@dataclass(frozen=True, slots=True, kw_only=True)
class Alarm:
    """One GB/T 28181 alarm (an ``AlarmNotify``) of a device channel.

    Built from a ListAlarmNotify item (type in ``Info.AlarmType``), a ListDeviceAlarms item (flat
    ``AlarmType``/``EventType``) or a decoded ``device_alarm`` callback ``Detail`` (INFERRED to be
    an AlarmNotify). ``alarm_id`` is ``AlarmNotifyID``; an item without one gets a stable ID made
    of its device, channel, method, type and time, so that it is still deduplicated.
    """

    alarm_id: str
    device_nsid: str
    channel_id: str | None
    method: int | None
    alarm_type: int | None
    event_type: AlarmEventType
    gb_type: str | None  # the GB name of (method, type); None for an unknown pair
    region_event: int | None = None  # ``EventType``: 1 entered the region, 2 left it
    priority: int | None = None  # 1 (most urgent) to 4
    time: datetime
    description: str | None = None
    space_id: str | None = None
    device_id: str | None = None

    @property
    def timestamp(self) -> int:
        """Return the alarm time as unix seconds (what the list actions filter on)."""
        return int(self.time.timestamp())

    @property
    def known(self) -> bool:
        """Return whether (method, type) is in the documented GB table."""
        return self.gb_type is not None

    @classmethod
    def from_json(
        cls, data: JsonObject, *, space_id: str | None = None, device_id: str | None = None
    ) -> Self:
        """Build from an AlarmNotify object (list item or callback detail)."""
        nsid = _required(data, "DeviceNSID", "Alarm")
        info = _object(data.get("Info"))
        param = _object(info.get("AlarmTypeParam"))
        method = _optional_int(data, "AlarmMethod")
        alarm_type = _optional_int(data, "AlarmType")
        if alarm_type is None:
            alarm_type = _optional_int(info, "AlarmType")
        region_event = _optional_int(data, "EventType")
        if region_event is None:
            region_event = _optional_int(param, "EventType")
        alarm_time = _alarm_time(data.get("AlarmTime"))
        channel_id = _str(data, "ChannelID")
        gb_type, event_type = GB_ALARM_TYPES.get(
            (method or 0, alarm_type or 0), (None, AlarmEventType.OTHER)
        )
        alarm_id = _str(data, "AlarmNotifyID", "ID") or (
            f"{nsid}:{channel_id or ''}:{method}:{alarm_type}:{int(alarm_time.timestamp())}"
        )
        return cls(
            alarm_id=alarm_id,
            device_nsid=nsid,
            channel_id=channel_id,
            method=method,
            alarm_type=alarm_type,
            event_type=event_type,
            gb_type=gb_type,
            region_event=region_event or None,
            priority=_optional_int(data, "AlarmPriority"),
            time=alarm_time,
            description=_str(data, "AlarmDescription"),
            space_id=_str(data, "SpaceID") or space_id,
            device_id=_str(data, "DeviceID") or device_id,
        )


@dataclass(frozen=True, slots=True)
class AlarmList:
    """The alarms of one list call over all its pages.

    ``complete`` is False when the page bound stopped the listing before ``total`` was reached
    (the caller continues from the last alarm); ``skipped`` counts items that were no alarm.
    """

    alarms: tuple[Alarm, ...]
    total: int
    complete: bool = True
    skipped: int = 0
