"""Stable snapshots of the entities of a config entry.

``snapshot_platform`` of the harness serializes registry entries with their volatile fields
(creation times, random IDs) under syrupy 6; this keeps what describes the entity.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

ENTRY_FIELDS = (
    "entity_id",
    "unique_id",
    "platform",
    "original_name",
    "translation_key",
    "original_device_class",
    "entity_category",
    "capabilities",
    "supported_features",
    "has_entity_name",
    "disabled_by",
)


def entities_of(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """Return registry entries, devices and states of an entry's entities, keyed by entity ID."""
    entity_registry = er.async_get(hass)
    device_registry = dr.async_get(hass)
    result: dict[str, Any] = {}
    for entry in sorted(
        er.async_entries_for_config_entry(entity_registry, entry_id), key=lambda e: e.entity_id
    ):
        device = device_registry.async_get(entry.device_id) if entry.device_id else None
        state = hass.states.get(entry.entity_id)
        result[entry.entity_id] = {
            "entry": {name: getattr(entry, name) for name in ENTRY_FIELDS},
            "device": None
            if device is None
            else {
                "name": device.name,
                "manufacturer": device.manufacturer,
                "model": device.model,
                "serial_number": device.serial_number,
                "identifiers": sorted(device.identifiers),
                "via_device": device.via_device_id is not None,
            },
            "state": None
            if state is None
            # Attribute names as strings: newer releases key them with StrEnum members
            # (equal to the same strings, and the same in the API and the frontend).
            else {
                "state": state.state,
                "attributes": {str(key): value for key, value in state.attributes.items()},
            },
        }
    return result
