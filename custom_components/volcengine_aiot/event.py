"""Alarm events: one event entity per video channel, fired for every new alarm of the channel.

Every event carries ``recording``: the media-source ID of the recording of that moment
(``media-source://volcengine_aiot/<entry>/<stream>/at/<alarm time>``, ``recording_ids.py``).
It is built from the alarm's time and channel only (the entity exists only while its entry is
loaded): firing asks the cloud nothing, as the recording usually is not uploaded yet. Which
recording covers that moment is looked up when the ID is played (``media_source.py``).
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.components.media_source import generate_media_source_id
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import compat
from .api import Alarm, AlarmEventType, Stream
from .const import DOMAIN
from .entity import VolcengineChannelEntity, async_add_device_entities, channel_entities
from .recording_ids import moment_identifier
from .runtime import VolcengineConfigEntry

PARALLEL_UPDATES = 0

ALARM = EventEntityDescription(
    key="alarm",
    translation_key="alarm",
    event_types=[event_type.value for event_type in AlarmEventType],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an alarm event entity for every channel of every device, now and later."""

    def create(device_id: str) -> list[VolcengineAlarmEventEntity]:
        def alarm(channel: Stream, single: bool) -> VolcengineAlarmEventEntity:  # noqa: FBT001
            return VolcengineAlarmEventEntity(entry, device_id, channel, single=single)

        return channel_entities(entry.runtime_data.coordinator, device_id, alarm)

    async_add_device_entities(entry, async_add_entities, create)


def alarm_attributes(alarm: Alarm) -> dict[str, Any]:
    """Return the event attributes of an alarm (raw method and type for ``other``)."""
    attributes: dict[str, Any] = {
        "priority": alarm.priority,
        "description": alarm.description,
        "alarm_time": alarm.time.isoformat(),
        "channel": alarm.channel_id,
    }
    if alarm.event_type is AlarmEventType.OTHER:
        attributes["alarm_method"] = alarm.method
        attributes["alarm_type"] = alarm.alarm_type
        attributes["gb_type"] = alarm.gb_type
    return attributes


class VolcengineAlarmEventEntity(VolcengineChannelEntity, EventEntity):
    """The alarms of one channel as events (motion, intrusion, ..., other)."""

    entity_description: EventEntityDescription

    def __init__(
        self, entry: VolcengineConfigEntry, device_id: str, channel: Stream, *, single: bool
    ) -> None:
        """Initialize the event entity of a channel."""
        runtime = entry.runtime_data
        super().__init__(
            runtime.coordinator, ALARM, device_id, runtime.hub_device_id, channel, single=single
        )
        self._listeners = runtime.alarms.listeners
        self._entry_id = entry.entry_id
        self._stream_id = str(channel.stream_id)

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Apply a new entity ID in place: nothing here is keyed on it."""
        compat.entity_id_changed(super(), old_entity_id)

    async def async_added_to_hass(self) -> None:
        """Listen to the alarms of the channel."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._listeners.subscribe(self.device_nsid, self.channel_id, self._on_alarm)
        )

    @callback
    def _on_alarm(self, alarm: Alarm) -> None:
        recording = moment_identifier(self._entry_id, self._stream_id, alarm.time)
        self._trigger_event(
            alarm.event_type.value,
            {**alarm_attributes(alarm), "recording": generate_media_source_id(DOMAIN, recording)},
        )
        self.async_write_ha_state()
