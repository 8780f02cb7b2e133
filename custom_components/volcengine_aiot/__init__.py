"""The Volcengine AIoT Video integration: make the GB/T 28181 cameras of a space speak."""

from __future__ import annotations

import asyncio

from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .alarms import VolcengineAlarms, alarm_permission_issue_id, alarm_store, push_issue_id
from .api import (
    VolcengineInvalidCredentialsError,
    VolcengineSettingsError,
)
from .card import async_register_card
from .const import (
    CONF_REGION,
    CONF_SPACE_ID,
    DOMAIN,
)
from .coordinator import VolcengineCoordinator, permission_issue_id
from .playback_streams import PlaybackStreams
from .ptz import PtzMover
from .push import async_remove_cloudhook
from .recordings import DevicePlaybacks, RecordingLibrary
from .runtime import (
    VolcengineConfigEntry,
    VolcengineRuntimeData,
    async_setup_channels,
    async_setup_ptz,
    async_setup_speakers,
    create_client,
)
from .services import async_setup_services
from .speakers import SpeakerVolumes, volume_store
from .talk.cache import CachingTranscoderPool
from .views import async_register_view
from .websocket_api import async_setup_websocket

PLATFORMS: list[Platform] = [
    Platform.ASSIST_SATELLITE,
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.MEDIA_PLAYER,
    Platform.SELECT,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's service actions."""
    async_setup_services(hass)
    async_setup_websocket(hass)
    async_register_view(hass)
    await async_register_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: VolcengineConfigEntry) -> bool:
    """Set up a space: discover its devices and add their entities."""
    try:
        client = create_client(hass, entry.data)
    except VolcengineInvalidCredentialsError as err:
        if err.setting != CONF_REGION:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_settings",
            translation_placeholders={"setting": err.setting},
        ) from err
    except VolcengineSettingsError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_settings",
            translation_placeholders={"setting": err.setting},
        ) from err
    coordinator = VolcengineCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    playbacks = DevicePlaybacks(client)

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
        transcoders=CachingTranscoderPool(get_ffmpeg_manager(hass).binary),
        alarms=VolcengineAlarms(hass, entry, client, entry.data[CONF_SPACE_ID]),
        volumes=await SpeakerVolumes.async_load(hass, entry.entry_id),
        ptz=PtzMover(client),
        recordings=RecordingLibrary(client),
        playbacks=playbacks,
        playback_streams=PlaybackStreams(hass, playbacks),
    )
    async_setup_speakers(hass, entry)
    async_setup_channels(hass, entry)
    async_setup_ptz(hass, entry)

    async def _stop_talks(_event: Event) -> None:
        await _async_close_speakers(entry)

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop_talks))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # The entities have subscribed to their channels: alarms found from now on reach them.
    await entry.runtime_data.alarms.async_start()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: VolcengineConfigEntry) -> bool:
    """Unload a space; the alarm poll stops and every talk in progress is ended."""
    await entry.runtime_data.alarms.async_stop()
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    await _async_close_speakers(entry)
    await entry.runtime_data.volumes.async_save()
    entry.runtime_data.recordings.forget()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: VolcengineConfigEntry) -> None:
    """Drop the entry's repair issues and its stored alarm cursor when the entry is deleted."""
    ir.async_delete_issue(hass, DOMAIN, permission_issue_id(entry))
    ir.async_delete_issue(hass, DOMAIN, alarm_permission_issue_id(entry))
    ir.async_delete_issue(hass, DOMAIN, push_issue_id(entry))
    store = alarm_store(hass, entry.entry_id)
    stored = await store.async_load()
    webhook_id = stored.get("webhook_id") if isinstance(stored, dict) else None
    if isinstance(webhook_id, str) and webhook_id:
        await async_remove_cloudhook(hass, webhook_id)
    await store.async_remove()
    await volume_store(hass, entry.entry_id).async_remove()


async def _async_close_speakers(entry: VolcengineConfigEntry) -> None:
    """End every talk, live stream, PTZ move and device playback (unload, HA shutdown).

    A running PTZ move is cancelled and its stop sent (bounded) before this returns.
    """
    speakers = list(entry.runtime_data.speakers.values())
    channels = list(entry.runtime_data.channels.values())
    await asyncio.gather(
        *(speaker.close() for speaker in speakers),
        *(channel.async_close() for channel in channels),
        entry.runtime_data.ptz.aclose(),
        entry.runtime_data.playback_streams.async_close(),
        return_exceptions=True,
    )
