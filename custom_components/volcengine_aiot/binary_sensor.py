"""Connectivity of each camera (diagnostic) and motion of each video channel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later

from . import compat
from .alarms import motion_quiet
from .api import Alarm, AlarmEventType, Device, Stream
from .entity import (
    VolcengineChannelEntity,
    VolcengineEntity,
    async_add_device_entities,
    channel_entities,
)
from .runtime import VolcengineConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class VolcengineBinarySensorEntityDescription(BinarySensorEntityDescription):
    """Describes a binary sensor of a camera."""

    is_on_fn: Callable[[Device], bool]


BINARY_SENSORS: tuple[VolcengineBinarySensorEntityDescription, ...] = (
    VolcengineBinarySensorEntityDescription(
        key="connectivity",
        translation_key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda device: device.online,
    ),
)

MOTION = BinarySensorEntityDescription(
    key="motion", translation_key="motion", device_class=BinarySensorDeviceClass.MOTION
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add binary sensors for every device, now and whenever new ones appear."""
    runtime = entry.runtime_data

    def create(device_id: str) -> list[VolcengineEntity]:
        def motion(channel: Stream, single: bool) -> VolcengineMotionSensor:  # noqa: FBT001
            return VolcengineMotionSensor(entry, device_id, channel, single=single)

        return [
            *(
                VolcengineBinarySensorEntity(
                    runtime.coordinator, description, device_id, runtime.hub_device_id
                )
                for description in BINARY_SENSORS
            ),
            *channel_entities(runtime.coordinator, device_id, motion),
        ]

    async_add_device_entities(entry, async_add_entities, create)


class VolcengineBinarySensorEntity(VolcengineEntity, BinarySensorEntity):
    """A binary sensor of a camera."""

    entity_description: VolcengineBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """Return the state."""
        device = self.device
        return None if device is None else self.entity_description.is_on_fn(device)


class VolcengineMotionSensor(VolcengineChannelEntity, BinarySensorEntity):
    """On while motion alarms of the channel arrive, off after the quiet time.

    It starts off (a motion seen before a restart is over); a motion alarm that ended before the
    poller started (listed late, after a restart) fires the event entity but not this sensor.
    """

    _attr_is_on = False

    def __init__(
        self, entry: VolcengineConfigEntry, device_id: str, channel: Stream, *, single: bool
    ) -> None:
        """Initialize the motion sensor of a channel."""
        runtime = entry.runtime_data
        super().__init__(
            runtime.coordinator, MOTION, device_id, runtime.hub_device_id, channel, single=single
        )
        self._alarms = runtime.alarms
        self._quiet = timedelta(seconds=motion_quiet(entry.options))
        self._unsub_off: CALLBACK_TYPE | None = None

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Apply a new entity ID in place: nothing here is keyed on it."""
        compat.entity_id_changed(super(), old_entity_id)

    async def async_added_to_hass(self) -> None:
        """Listen to the alarms of the channel."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._alarms.listeners.subscribe(self.device_nsid, self.channel_id, self._on_alarm)
        )
        self.async_on_remove(self._cancel_off)

    @callback
    def _on_alarm(self, alarm: Alarm) -> None:
        if alarm.event_type is not AlarmEventType.MOTION:
            return
        if alarm.time + self._quiet < self._alarms.started_at:
            return  # over before this run started: no motion now
        self._cancel_off()
        self._unsub_off = async_call_later(self.hass, self._quiet, self._turn_off)
        self._attr_is_on = True
        self.async_write_ha_state()

    @callback
    def _turn_off(self, _now: datetime) -> None:
        self._unsub_off = None
        self._attr_is_on = False
        self.async_write_ha_state()

    @callback
    def _cancel_off(self) -> None:
        if self._unsub_off is not None:
            self._unsub_off()
            self._unsub_off = None
