"""HA glue of the PTZ, shared by the entity services, the entities and the websocket API.

``ptz_channel_of`` finds the ``PtzChannel`` of a camera entity of a loaded entry;
``async_ptz_call`` runs a PTZ coroutine and turns every failure into a translated
``ServiceValidationError`` (bad input: nothing was sent) or ``HomeAssistantError``.
"""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.components.camera import DOMAIN as CAMERA_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er

from .api import (
    VolcengineApiError,
    VolcengineDeviceUnreachableError,
    VolcengineError,
    VolcenginePresetNotFoundError,
    VolcenginePtzInputError,
    VolcenginePtzNotSupportedError,
)
from .const import DOMAIN
from .ptz import PtzChannel, PtzDurationError, PtzError
from .runtime import VolcengineConfigEntry


@callback
def ptz_channel_of(hass: HomeAssistant, entity_id: str) -> tuple[VolcengineConfigEntry, PtzChannel]:
    """Return the loaded entry and the PTZ channel of one of its camera entities.

    Raises a translated ``ServiceValidationError`` for any other entity ID.
    """
    entity = er.async_get(hass).async_get(entity_id)
    if (
        entity is not None
        and entity.platform == DOMAIN
        and entity.domain == CAMERA_DOMAIN
        and entity.config_entry_id is not None
        and (entry := hass.config_entries.async_get_entry(entity.config_entry_id)) is not None
        and entry.domain == DOMAIN
        and entry.state is ConfigEntryState.LOADED
        and (channel := entry.runtime_data.ptz_channels.get(entity.unique_id)) is not None
    ):
        return entry, channel
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_ptz_camera",
        translation_placeholders={"entity_id": entity_id},
    )


def ptz_error(err: Exception, camera: str, preset: int | None = None) -> HomeAssistantError:
    """Return the translated error for a failed PTZ call on ``camera`` (a name)."""
    if isinstance(err, VolcenginePtzInputError | PtzDurationError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=err.placeholders,
        )
    if isinstance(err, VolcenginePresetNotFoundError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="ptz_preset_not_found",
            translation_placeholders={"camera": camera, "preset": str(preset or "-")},
        )
    key = "ptz_command_failed"
    if isinstance(err, VolcenginePtzNotSupportedError):
        key = "ptz_not_supported"
    elif isinstance(err, VolcengineDeviceUnreachableError):
        key = "ptz_offline"
    elif isinstance(err, PtzError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=err.placeholders,
        )
    error = err.code if isinstance(err, VolcengineApiError) else type(err).__name__
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"camera": camera, "error": error},
    )


async def async_ptz_call[T](call: Awaitable[T], camera: str, preset: int | None = None) -> T:
    """Await a PTZ call; raise its failure as a translated Home Assistant error."""
    try:
        return await call
    except (VolcengineError, PtzError) as err:
        raise ptz_error(err, camera, preset) from err
