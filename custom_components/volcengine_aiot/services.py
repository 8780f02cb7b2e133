"""Service actions of the Volcengine AIoT Video integration.

``ptz`` and ``ptz_preset`` are entity actions of the camera entities (like core's ONVIF
``onvif.ptz``), registered here on the camera platform and carried out by the entity's
``async_ptz``/``async_ptz_preset``. Their fields are only coerced here: the ranges (speed per
command, preset 1-255, duration) are checked by the PTZ helpers, whose translated errors say
which range applies.

``play_audio`` is a domain action: its targets (speaker entities, camera devices, areas) are
resolved to the cameras' speakers, which the runtime owns. A disabled speaker media player is
still reached through its camera's device or its own entity ID; an enabled one plays through the
entity (its progress is shown). The user needs control permission on the speaker entity, as for
an entity action.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.components.camera import DOMAIN as CAMERA_DOMAIN
from homeassistant.components.media_player import DOMAIN as MEDIA_PLAYER_DOMAIN
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID, ENTITY_MATCH_ALL
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_platform,
    entity_registry as er,
    service,
    target,
)
import voluptuous as vol

from . import compat
from .api import PresetCommand, PtzCommand
from .const import DOMAIN
from .playing import async_play_audio
from .runtime import VolcengineConfigEntry

SERVICE_PLAY_AUDIO = "play_audio"
ATTR_MEDIA = "media"
ATTR_GAIN_DB = "gain_db"
ATTR_CHIME = "chime"
ATTR_ENQUEUE = "enqueue"
SPEAKER_KEY = "speaker"  # the media player's entity description key

SERVICE_PTZ = "ptz"
SERVICE_PTZ_PRESET = "ptz_preset"
ATTR_COMMAND = "command"
ATTR_SPEED = "speed"
ATTR_DURATION = "duration"
ATTR_ACTION = "action"
ATTR_PRESET = "preset"
DEFAULT_PTZ_DURATION = 0.5  # seconds: a short nudge, like ONVIF's continuous_duration

PTZ_SCHEMA: dict[str | vol.Marker, Any] = {
    vol.Required(ATTR_COMMAND): vol.In([command.value for command in PtzCommand]),
    vol.Optional(ATTR_SPEED): vol.Coerce(int),
    vol.Optional(ATTR_DURATION, default=DEFAULT_PTZ_DURATION): vol.Coerce(float),
}
PTZ_PRESET_SCHEMA: dict[str | vol.Marker, Any] = {
    vol.Required(ATTR_ACTION): vol.In([command.value for command in PresetCommand]),
    vol.Required(ATTR_PRESET): vol.Coerce(int),
}


def _media(value: Any) -> str:
    """Accept a media selector value or a plain media-source ID / URL."""
    if isinstance(value, dict):
        value = value.get("media_content_id")
    return vol.All(cv.string, vol.Length(min=1))(value)  # type: ignore[no-any-return]


PLAY_AUDIO_SCHEMA: dict[str | vol.Marker, Any] = {
    vol.Required(ATTR_MEDIA): _media,
    vol.Optional(ATTR_GAIN_DB): vol.All(vol.Coerce(float), vol.Range(min=-30, max=20)),
    vol.Optional(ATTR_CHIME, default=False): cv.boolean,
    vol.Optional(ATTR_ENQUEUE, default=False): cv.boolean,
}


@runtime_checkable
class AudioPlayer(Protocol):
    """An enabled speaker entity: plays the action and shows its progress."""

    async def async_play_audio(
        self, media: str, *, gain_db: float | None, chime: bool, enqueue: bool
    ) -> dict[str, Any]:
        """Play audio and return how long was played."""


@dataclass(frozen=True, slots=True)
class _Target:
    """A targeted camera speaker."""

    entry: VolcengineConfigEntry
    device_id: str  # the camera's ID in the space
    entity_id: str  # its speaker media player (the key of the response)
    explicit: bool  # named by entity ID (not through a device or an area)


def _not_a_speaker(targets: set[str]) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_speaker_target",
        translation_placeholders={"targets": ", ".join(sorted(targets)) or "-"},
    )


@callback
def _cameras(
    hass: HomeAssistant, dev_reg: dr.DeviceRegistry
) -> dict[str, tuple[VolcengineConfigEntry, str]]:
    """Return the loaded entry and the space's ID of every camera, by device registry ID."""
    cameras: dict[str, tuple[VolcengineConfigEntry, str]] = {}
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        for device_id in entry.runtime_data.speakers:
            device = compat.async_get_device_by_identifier(
                dev_reg, (DOMAIN, device_id), entry.entry_id
            )
            if device is not None:
                cameras[device.id] = (entry, device_id)
    return cameras


@callback
def _speaker_entity_id(ent_reg: er.EntityRegistry, device_id: str) -> str | None:
    return ent_reg.async_get_entity_id(MEDIA_PLAYER_DOMAIN, DOMAIN, f"{device_id}_{SPEAKER_KEY}")


@callback
def _async_targets(hass: HomeAssistant, call: ServiceCall) -> list[_Target]:
    """Resolve the targets to speakers (disabled speaker entities included)."""
    ent_reg = er.async_get(hass)
    dev_reg = dr.async_get(hass)
    found: dict[str, _Target] = {}
    unknown: set[str] = set()
    if call.data.get(ATTR_ENTITY_ID) == ENTITY_MATCH_ALL:
        for entry in hass.config_entries.async_loaded_entries(DOMAIN):
            for device_id in entry.runtime_data.speakers:
                if (entity_id := _speaker_entity_id(ent_reg, device_id)) is not None:
                    found[entity_id] = _Target(entry, device_id, entity_id, explicit=False)
        return list(found.values())
    selected = target.async_extract_referenced_entity_ids(hass, target.TargetSelection(call.data))
    cameras = _cameras(hass, dev_reg)
    for entity_id in selected.referenced:
        entity = ent_reg.async_get(entity_id)
        camera = (
            cameras.get(entity.device_id)
            if entity is not None
            and entity.device_id is not None
            and entity.platform == DOMAIN
            and entity.domain == MEDIA_PLAYER_DOMAIN
            else None
        )
        if camera is None:
            unknown.add(entity_id)
            continue
        found[entity_id] = _Target(*camera, entity_id, explicit=True)
    for device_reg_id in selected.referenced_devices:
        if (camera := cameras.get(device_reg_id)) is None:
            if device_reg_id in cv.ensure_list(call.data.get(ATTR_DEVICE_ID)):  # not an area's
                device = dev_reg.async_get(device_reg_id)
                unknown.add(device.name or device_reg_id if device else device_reg_id)
            continue
        entity_id = _speaker_entity_id(ent_reg, camera[1])
        if entity_id is not None and entity_id not in found:
            found[entity_id] = _Target(*camera, entity_id, explicit=False)
    if unknown or not found:
        raise _not_a_speaker(unknown)
    return list(found.values())


async def _async_permitted(
    hass: HomeAssistant, call: ServiceCall, targets: list[_Target]
) -> list[_Target]:
    """Keep what the user may control, as an entity action does.

    A speaker named by entity ID the user may not control refuses the call; one reached
    through a device or an area is left out.
    """
    if not call.context.user_id:
        return targets
    user = await hass.auth.async_get_user(call.context.user_id)
    if user is None:
        raise UnknownUser(context=call.context)
    if user.is_admin:
        return targets
    permitted: list[_Target] = []
    for speaker in targets:
        if user.permissions.check_entity(speaker.entity_id, POLICY_CONTROL):
            permitted.append(speaker)
        elif speaker.explicit:
            raise Unauthorized(
                context=call.context, entity_id=speaker.entity_id, permission=POLICY_CONTROL
            )
    if not permitted:
        raise Unauthorized(context=call.context, permission=POLICY_CONTROL)
    return permitted


async def _async_play_one(
    hass: HomeAssistant, speaker: _Target, call: ServiceCall
) -> dict[str, Any]:
    media: str = call.data[ATTR_MEDIA]
    gain_db: float | None = call.data.get(ATTR_GAIN_DB)
    chime: bool = call.data[ATTR_CHIME]
    enqueue: bool = call.data[ATTR_ENQUEUE]
    entity: object = next(
        (
            platform.entities[speaker.entity_id]
            for platform in entity_platform.async_get_platforms(hass, DOMAIN)
            if platform.domain == MEDIA_PLAYER_DOMAIN and speaker.entity_id in platform.entities
        ),
        None,
    )
    if isinstance(entity, AudioPlayer):
        return await entity.async_play_audio(media, gain_db=gain_db, chime=chime, enqueue=enqueue)
    return await async_play_audio(
        hass,
        speaker.entry,
        speaker.device_id,
        entity_id=speaker.entity_id,
        media=media,
        gain_db=gain_db,
        chime=chime,
        enqueue=enqueue,
    )


async def _async_handle_play_audio(call: ServiceCall) -> ServiceResponse:
    """Play on every targeted speaker at once; the first failure is raised once all ended."""
    hass = call.hass
    targets = await _async_permitted(hass, call, _async_targets(hass, call))
    results = await asyncio.gather(
        *(_async_play_one(hass, speaker, call) for speaker in targets), return_exceptions=True
    )
    response: dict[str, Any] = {}
    for speaker, result in zip(targets, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        response[speaker.entity_id] = result
    return response


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's service actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_PLAY_AUDIO,
        _async_handle_play_audio,
        schema=cv.make_entity_service_schema(PLAY_AUDIO_SCHEMA),
        supports_response=SupportsResponse.OPTIONAL,
    )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_PTZ,
        entity_domain=CAMERA_DOMAIN,
        schema=PTZ_SCHEMA,
        func="async_ptz",
    )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_PTZ_PRESET,
        entity_domain=CAMERA_DOMAIN,
        schema=PTZ_PRESET_SCHEMA,
        func="async_ptz_preset",
    )
