"""The calls whose form depends on the Home Assistant release, in one place.

The integration supports every release from the minimum in hacs.json (2026.3.0) to the current
one. Each difference is feature-detected here (never by comparing version numbers), so the rest of
the integration is written once and the current release reports no deprecation. When the minimum
moves past the release that introduced a form, delete its fallback here (and this module once it
is empty).
"""

from __future__ import annotations

import inspect
from typing import cast

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

# The link of a device to its hub: by the hub's device registry ID (`via_device_id`, accepted
# since 2026.8; `via_device` is reported as deprecated since 2026.9 and removed in 2027.8), or
# by one of the hub's identifiers (`via_device`, the only form up to 2026.7).
HAS_VIA_DEVICE_ID = (
    "via_device_id" in inspect.signature(dr.DeviceRegistry.async_get_or_create).parameters
)


def via_device(hub_device_id: str, hub_identifier: tuple[str, str]) -> DeviceInfo:
    """Return the device-info keywords that link a device to its hub device.

    A plain dict to unpack into ``DeviceInfo(...)`` (a TypedDict up to 2026.10, a dataclass
    since 2026.11: keyword arguments work with both).
    """
    if HAS_VIA_DEVICE_ID:
        return cast("DeviceInfo", {"via_device_id": hub_device_id})
    return cast("DeviceInfo", {"via_device": hub_identifier})


# The device of an identifier within one config entry: `async_get_device_by_identifier` since
# 2026.8 (`async_get_device` is reported as deprecated since 2026.9, as identifiers are no longer
# unique across config entries); up to 2026.7 `async_get_device`, filtered by config entry.
HAS_GET_DEVICE_BY_IDENTIFIER = hasattr(dr.DeviceRegistry, "async_get_device_by_identifier")


def async_get_device_by_identifier(
    registry: dr.DeviceRegistry, identifier: tuple[str, str], config_entry_id: str
) -> dr.DeviceEntry | None:
    """Return the device of the config entry with this identifier, None if there is none."""
    if HAS_GET_DEVICE_BY_IDENTIFIER:
        return registry.async_get_device_by_identifier(identifier, config_entry_id)
    device = registry.async_get_device(identifiers={identifier})
    if device is None or config_entry_id not in device.config_entries:
        return None
    return device


def entity_id_changed(parent: object, old_entity_id: str) -> None:
    """Call the base classes' ``async_entity_id_changed`` (Home Assistant 2026.11 and later).

    Older versions have no such hook (they re-add the entity instead) and never call it.
    """
    hook = getattr(parent, "async_entity_id_changed", None)
    if hook is not None:
        hook(old_entity_id)
