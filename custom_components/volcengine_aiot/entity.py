"""Base entity of a camera of the space."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from . import compat
from .api import Device, Stream
from .channels import channel_key, video_channels
from .const import DOMAIN
from .coordinator import VolcengineCoordinator
from .ptz import PtzChannel
from .runtime import VolcengineConfigEntry

PTZ_SETUP_WAIT = 10.0  # seconds a platform's setup waits for the channels' PTZType


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


@callback
def async_add_ptz_entities(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[str, Stream, PtzChannel, bool], Iterable[VolcenginePtzEntity]],
) -> asyncio.Task[None]:
    """Add the PTZ entities of every channel that may move, now and for devices that appear.

    A device's entities are added once its channels' PTZType was read (``ptz_discovery``):
    none for a fixed channel; ``create`` decides what a channel that reports nothing gets
    (disabled by default). Returns the task adding the devices known at setup, which the
    platform's setup awaits (bounded) so the entities are there when the entry is loaded.
    """
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    known: set[str] = set()

    async def add(device_ids: list[str]) -> None:
        tasks = [t for d in device_ids if (t := runtime.ptz_discovery.get(d)) is not None]
        if tasks:
            await asyncio.wait(tasks)  # never raises: a cancelled read means the device left
        entities: list[VolcenginePtzEntity] = []
        for device_id in device_ids:
            if device_id not in coordinator.data:
                continue
            channels = list(video_channels(coordinator.data[device_id].streams))
            for channel in channels:
                ptz = runtime.ptz_channels.get(channel_key(device_id, channel))
                if ptz is not None and ptz.can_move is not False:
                    entities.extend(create(device_id, channel, ptz, len(channels) == 1))
        async_add_entities(entities)

    @callback
    def add_new_devices() -> asyncio.Task[None]:
        known.intersection_update(coordinator.device_ids)
        new = sorted(set(coordinator.data) - known)
        known.update(new)
        return entry.async_create_background_task(
            hass, add(new), "volcengine_aiot add PTZ entities"
        )

    @callback
    def on_update() -> None:
        add_new_devices()

    first = add_new_devices()
    entry.async_on_unload(coordinator.async_add_listener(on_update))
    return first


async def async_wait_for_ptz_entities(task: asyncio.Task[None]) -> None:
    """Wait (at most ``PTZ_SETUP_WAIT``) until the PTZ entities known at setup were added."""
    await asyncio.wait([task], timeout=PTZ_SETUP_WAIT)


class VolcenginePtzEntity(VolcengineChannelEntity):
    """A PTZ entity of a channel that may move (a view of the runtime's ``PtzChannel``).

    Enabled by default when the platform reports a PTZ camera and the description enables
    it; disabled when the channel reports nothing (it may not move). Available while the
    device is online.
    """

    def __init__(
        self,
        entry: VolcengineConfigEntry,
        description: EntityDescription,
        device_id: str,
        channel: Stream,
        ptz: PtzChannel,
        *,
        single: bool,
    ) -> None:
        """Initialize the entity of a channel's PTZ."""
        runtime = entry.runtime_data
        super().__init__(
            runtime.coordinator,
            description,
            device_id,
            runtime.hub_device_id,
            channel,
            single=single,
        )
        self.entry = entry
        self.ptz = ptz
        if ptz.can_move is not True:
            self._attr_entity_registry_enabled_default = False

    @property
    def available(self) -> bool:
        """Return whether the device is in the space and online."""
        device = self.device
        return super().available and device is not None and device.online

    @property
    def camera_name(self) -> str:
        """Return a name of the channel for messages (the entity ID)."""
        return self.entity_id
