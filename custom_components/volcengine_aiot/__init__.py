"""The Volcengine AIoT Video integration: make the GB/T 28181 cameras of a space speak."""

from __future__ import annotations

import asyncio

from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import VolcengineClient
from .const import (
    CONF_ACCESS_KEY_ID,
    CONF_ENDPOINT,
    CONF_REGION,
    CONF_SECRET_ACCESS_KEY,
    CONF_SPACE_ID,
    DEFAULT_ENDPOINT,
    DEFAULT_REGION,
    DOMAIN,
)
from .coordinator import VolcengineConfigEntry, VolcengineCoordinator, VolcengineRuntimeData
from .services import async_setup_services
from .talk import TranscoderPool

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.CAMERA, Platform.MEDIA_PLAYER]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's service actions."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: VolcengineConfigEntry) -> bool:
    """Set up a space: discover its devices and add their entities."""
    client = VolcengineClient(
        async_get_clientsession(hass),
        entry.data[CONF_ACCESS_KEY_ID],
        entry.data[CONF_SECRET_ACCESS_KEY],
        region=entry.data.get(CONF_REGION, DEFAULT_REGION),
        endpoint=entry.data.get(CONF_ENDPOINT, DEFAULT_ENDPOINT),
    )
    coordinator = VolcengineCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()

    hub = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.data[CONF_SPACE_ID])},
        name=entry.title,
        manufacturer="Volcengine",
        model="AIoT Video space",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    entry.runtime_data = VolcengineRuntimeData(
        client=client,
        coordinator=coordinator,
        space_id=entry.data[CONF_SPACE_ID],
        hub_device_id=hub.id,
        transcoders=TranscoderPool(get_ffmpeg_manager(hass).binary),
    )

    async def _stop_talks(_event: Event) -> None:
        await _async_close_speakers(entry)

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop_talks))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: VolcengineConfigEntry) -> bool:
    """Unload a space; every talk in progress is ended."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    await _async_close_speakers(entry)
    return unloaded


async def _async_close_speakers(entry: VolcengineConfigEntry) -> None:
    """End every talk and live stream of the entry (unload, HA shutdown)."""
    speakers = list(entry.runtime_data.speakers.values())
    cameras = list(entry.runtime_data.cameras.values())
    await asyncio.gather(
        *(speaker.close() for speaker in speakers),
        *(camera.async_close() for camera in cameras),
        return_exceptions=True,
    )
