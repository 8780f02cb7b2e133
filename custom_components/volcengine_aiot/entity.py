"""Base entity of a camera of the space."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from . import compat
from .api import Device, Stream
from .channels import video_channels
from .const import DOMAIN
from .coordinator import VolcengineCoordinator
from .runtime import VolcengineConfigEntry


@callback
def async_add_device_entities(
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[str], Iterable[VolcengineEntity]],
) -> None:
    """Add the entities of every device now, and of every device that appears later."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new_devices() -> None:
        # A device removed from Home Assistant may come back; one kept while it was missing
        # from a device list still has its entities.
        known.intersection_update(coordinator.device_ids)
        new = sorted(set(coordinator.data) - known)
        known.update(new)
        async_add_entities(entity for device_id in new for entity in create(device_id))

    add_new_devices()
    entry.async_on_unload(coordinator.async_add_listener(add_new_devices))


class VolcengineEntity(CoordinatorEntity[VolcengineCoordinator]):
    """An entity of one GB/T 28181 device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: VolcengineCoordinator,
        description: EntityDescription,
        device_id: str,
        hub_device_id: str,
    ) -> None:
        """Initialize the entity and describe its device."""
        super().__init__(coordinator)
        self.entity_description = description
        self.device_id = device_id
        self._attr_unique_id = f"{device_id}_{description.key}"
        device = coordinator.data[device_id]
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_id)},
            name=device.name,
            manufacturer=device.manufacturer,
            model=device.model or device.type,
            serial_number=device.nsid,
            **compat.via_device(hub_device_id, (DOMAIN, coordinator.space_id)),
        )

    @property
    def device(self) -> Device | None:
        """Return the latest data of the device, None once it left the space."""
        return self.coordinator.data.get(self.device_id)

    @property
    def available(self) -> bool:
        """Return whether the device is still in the space and the data is current."""
        return super().available and self.device is not None


class VolcengineTalkEntity(VolcengineEntity):
    """An entity that plays on the camera's speaker (speaker, announcer, test tone).

    Available while the camera is online (an offline camera cannot talk, and an unavailable
    satellite is left out of broadcasts).
    """

    def __init__(
        self,
        coordinator: VolcengineCoordinator,
        description: EntityDescription,
        device_id: str,
        entry: VolcengineConfigEntry,
    ) -> None:
        """Initialize the entity of a camera of the entry."""
        super().__init__(coordinator, description, device_id, entry.runtime_data.hub_device_id)
        self._entry = entry

    @property
    def available(self) -> bool:
        """Return whether the camera is online."""
        device = self.device
        return super().available and device is not None and device.online

    @property
    def device_name(self) -> str:
        """Return the camera's name for messages (its ID once it left the space)."""
        device = self.device
        return device.name if device is not None else self.device_id


class VolcengineChannelEntity(VolcengineEntity):
    """An entity of one video channel, on its device (like the channel's camera entity).

    A device with one channel names it after the description (*Motion*); on an NVR the name
    carries the channel's (*Gate motion*), with the ``<key>_channel`` translation key.
    """

    def __init__(
        self,
        coordinator: VolcengineCoordinator,
        description: EntityDescription,
        device_id: str,
        hub_device_id: str,
        channel: Stream,
        *,
        single: bool,
    ) -> None:
        """Initialize the entity of a channel (one that has a StreamID)."""
        super().__init__(coordinator, description, device_id, hub_device_id)
        self.channel_id = channel.channel_id or str(channel.stream_id)
        self.device_nsid = coordinator.data[device_id].nsid
        self._attr_unique_id = f"{device_id}_{self.channel_id}_{description.key}"
        if not single:
            self._attr_translation_key = f"{description.translation_key}_channel"
            self._attr_translation_placeholders = {"channel": channel.name or self.channel_id}

    @property
    def available(self) -> bool:
        """Return whether the device is in the space.

        Alarms come from their own list call: a failed device list must not hide them.
        """
        return self.device is not None


def channel_entities[T: VolcengineChannelEntity](
    coordinator: VolcengineCoordinator,
    device_id: str,
    create: Callable[[Stream, bool], T],
) -> list[T]:
    """Return one entity per video channel of a device."""
    channels = list(video_channels(coordinator.data[device_id].streams))
    return [create(channel, len(channels) == 1) for channel in channels]
