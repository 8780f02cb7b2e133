"""Connectivity of each camera (diagnostic)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Device
from .coordinator import VolcengineConfigEntry
from .entity import VolcengineEntity, async_add_device_entities

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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add binary sensors for every device, now and whenever new ones appear."""
    runtime = entry.runtime_data
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda device_id: (
            VolcengineBinarySensorEntity(
                runtime.coordinator, description, device_id, runtime.hub_device_id
            )
            for description in BINARY_SENSORS
        ),
    )


class VolcengineBinarySensorEntity(VolcengineEntity, BinarySensorEntity):
    """A binary sensor of a camera."""

    entity_description: VolcengineBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """Return the state."""
        device = self.device
        return None if device is None else self.entity_description.is_on_fn(device)
