"""Play on a camera's speaker from an entity: every talk failure becomes a translated error.

Shared by the speaker entity (play_media, tts.speak, play_audio), the announce-only satellite,
the test-tone button and push-to-talk, so all raise the same errors. The talk pipeline raises one
error family (``TalkError``), each with its translation key; an authentication failure starts
re-authentication. The error is raised once and Home Assistant logs it (the failed action): this
module logs it only at debug level.

A camera that is online but keeps refusing the talk (``InternalError.VoiceTalkDeviceFail``: no
type-137 voice output channel, or a model that cannot talk over the internet) gets a repair issue
telling what to configure; the next talk that plays audio removes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, LOGGER
from .media import CHIME_PATH, async_file_source, async_resolve_source
from .runtime import VolcengineConfigEntry
from .talk import (
    AudioSource,
    PlayResult,
    Speaker,
    TalkAuthError,
    TalkDeviceUnreachableError,
    TalkError,
)
from .talk.errors import CALLER_ERRORS

VOICE_TALK_DEVICE_FAIL = "InternalError.VoiceTalkDeviceFail"
ISSUE_VOICE_CHANNEL = "voice_channel"


def voice_channel_issue_id(device_id: str) -> str:
    """Return the repair issue of a camera that refuses voice talk."""
    return f"{ISSUE_VOICE_CHANNEL}_{device_id}"


def unavailable(name: str) -> HomeAssistantError:
    """Return the error for a camera that is offline (or not set up yet)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="device_unavailable",
        translation_placeholders={"name": name},
    )


def talk_error(
    hass: HomeAssistant, entry: VolcengineConfigEntry, err: TalkError, *, name: str
) -> HomeAssistantError:
    """Return the translated error of a talk failure (an auth failure starts reauth)."""
    if isinstance(err, CALLER_ERRORS):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=err.placeholders,
        )
    if isinstance(err, TalkAuthError):
        entry.async_start_reauth(hass)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=err.translation_key,
        translation_placeholders={"name": name, "error": str(err), **err.placeholders},
    )


def async_talk_failed(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    err: TalkError,
    *,
    name: str,
    device_id: str,
) -> HomeAssistantError:
    """Record what a failure says about the camera; return its translated error."""
    if (
        isinstance(err, TalkDeviceUnreachableError)
        and err.placeholders.get("error") == VOICE_TALK_DEVICE_FAIL
    ):
        ir.async_create_issue(
            hass,
            DOMAIN,
            voice_channel_issue_id(device_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_VOICE_CHANNEL,
            translation_placeholders={"name": name},
        )
    return talk_error(hass, entry, err, name=name)


def async_talk_played(hass: HomeAssistant, result: PlayResult, *, device_id: str) -> None:
    """Remove the repair issue of a camera once a talk sent audio (it can talk)."""
    if result.seconds > 0:
        ir.async_delete_issue(hass, DOMAIN, voice_channel_issue_id(device_id))


async def async_play(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    speaker: Speaker,
    sources: Sequence[AudioSource],
    *,
    name: str,
    entity_id: str,
    device_id: str,
    enqueue: bool = False,
    announce: bool = False,
) -> PlayResult:
    """Play through the speaker; every failure is raised once as a translated error."""
    try:
        result = await speaker.play(sources, enqueue=enqueue, announce=announce)
    except TalkError as err:
        LOGGER.debug("%s: cannot play: %s", entity_id, err)
        raise async_talk_failed(hass, entry, err, name=name, device_id=device_id) from err
    async_talk_played(hass, result, device_id=device_id)
    return result


async def async_play_audio(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    device_id: str,
    *,
    entity_id: str,
    media: str,
    gain_db: float | None = None,
    chime: bool = False,
    enqueue: bool = False,
) -> dict[str, Any]:
    """Play the play_audio action on a camera's speaker; return how long was played.

    Works from the runtime's speaker alone, so it needs no enabled entity: the media player
    and the domain action (a device target, or a disabled speaker entity) share it.
    """
    runtime = entry.runtime_data
    device = runtime.coordinator.data.get(device_id)
    name = device.name if device is not None else device_id
    speaker = runtime.speakers.get(device_id)
    if (
        speaker is None
        or device is None
        or not device.online
        or not runtime.coordinator.last_update_success
    ):
        raise unavailable(name)
    gain = runtime.volumes.gain(entry.options, device_id, gain_db or 0.0)
    sources: list[AudioSource] = []
    if chime:
        sources.append(await async_file_source(str(CHIME_PATH), gain, "chime"))
    sources.append(await async_resolve_source(hass, media, entity_id, gain))
    result = await async_play(
        hass,
        entry,
        speaker,
        sources,
        name=name,
        entity_id=entity_id,
        device_id=device_id,
        enqueue=enqueue,
    )
    return {"played_seconds": round(result.seconds, 2), "interrupted": result.interrupted}
