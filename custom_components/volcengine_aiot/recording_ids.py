"""The identifiers of recordings (media browser, proxy view) and the channels they name.

An identifier carries the config entry's ID, the channel's StreamID and a day or a time range,
nothing else (no URL, no token): ``<entry>``, ``<entry>/<stream>``, ``<entry>/<stream>/<date>``
(a day, ISO ``YYYY-MM-DD`` in Home Assistant's time zone), ``<entry>/<stream>/<start>-<end>``
(a recording, Unix seconds, as ``RecordingItem.identifier``) and ``<entry>/<stream>/at/<time>``
(the recording that covers a moment, Unix seconds: the link of an alarm event, built from the
alarm's time and channel only; which recording it is, is looked up when it is played).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .api import Device, Stream
from .channels import video_channels
from .const import DOMAIN
from .runtime import VolcengineConfigEntry

SEPARATOR = "/"
AT = "at"  # the identifier part before a moment


@dataclass(frozen=True, slots=True)
class RecordingChannel:
    """A video channel of a loaded entry."""

    entry: VolcengineConfigEntry
    device: Device
    channel: Stream
    single: bool  # the device's only channel

    @property
    def stream_id(self) -> str:
        """Return the channel's StreamID."""
        return str(self.channel.stream_id)

    @property
    def title(self) -> str:
        """Return the channel's name as its camera is named: the device, then the channel."""
        if self.single:
            return self.device.name
        return f"{self.device.name} {self.channel.name or self.channel.channel_id or ''}".strip()


def loaded_entries(hass: HomeAssistant) -> list[VolcengineConfigEntry]:
    """Return the loaded entries of the integration (one per space)."""
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def loaded_entry(hass: HomeAssistant, entry_id: str) -> VolcengineConfigEntry | None:
    """Return a loaded entry of the integration by its ID, None if there is none."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        return None
    return entry


def entry_channels(entry: VolcengineConfigEntry) -> list[RecordingChannel]:
    """Return the video channels of an entry, in the coordinator's order."""
    found: list[RecordingChannel] = []
    for device in entry.runtime_data.coordinator.data.values():
        channels = list(video_channels(device.streams))
        found.extend(
            RecordingChannel(entry, device, channel, len(channels) == 1) for channel in channels
        )
    return found


def find_channel(entry: VolcengineConfigEntry, stream_id: str) -> RecordingChannel | None:
    """Return the channel of an entry with this StreamID, None if it has none."""
    return next((c for c in entry_channels(entry) if c.stream_id == stream_id), None)


def parse_day(value: str) -> date | None:
    """Return the day of a ``YYYY-MM-DD`` identifier part, None if it is not one."""
    try:
        return date.fromisoformat(value) if len(value) == len("YYYY-MM-DD") else None
    except ValueError:
        return None


def parse_range(value: str) -> tuple[datetime, datetime] | None:
    """Return the UTC start and end of a ``<start>-<end>`` part, None if it is not one."""
    start, sep, end = value.partition("-")
    if not sep or not start.isdigit() or not end.isdigit() or int(start) >= int(end):
        return None
    try:
        return datetime.fromtimestamp(int(start), UTC), datetime.fromtimestamp(int(end), UTC)
    except OverflowError, OSError, ValueError:
        return None


def range_part(start: datetime, end: datetime) -> str:
    """Return the ``<start>-<end>`` identifier part of a time range."""
    return f"{int(start.timestamp())}-{int(end.timestamp())}"


def moment_identifier(entry_id: str, stream_id: str, at: datetime) -> str:
    """Return the ``<entry>/<stream>/at/<time>`` identifier of the recording covering a moment."""
    return SEPARATOR.join((entry_id, stream_id, AT, str(int(at.timestamp()))))


def parse_moment(parts: list[str]) -> datetime | None:
    """Return the UTC moment of ``at/<time>`` identifier parts, None if they are not one."""
    if len(parts) != 2 or parts[0] != AT or not parts[1].isdigit():  # noqa: PLR2004
        return None
    try:
        return datetime.fromtimestamp(int(parts[1]), UTC)
    except OverflowError, OSError, ValueError:
        return None
