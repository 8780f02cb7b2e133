"""Play on a camera's speaker from an entity: every talk failure becomes a translated error.

Shared by the speaker entity (play_media, tts.speak, play_audio) and the test-tone button, so
both raise the same errors. The talk pipeline raises one error family (``TalkError``), each with
its translation key; an authentication failure starts re-authentication.
"""

from __future__ import annotations

from collections.abc import Sequence

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN, LOGGER
from .coordinator import VolcengineConfigEntry
from .talk import (
    AudioSource,
    PlayResult,
    Speaker,
    TalkAuthError,
    TalkEmptyAudioError,
    TalkError,
    TalkMediaError,
    TalkMediaNotFoundError,
)

# The caller's mistakes (the media), not the camera's or the cloud's.
CALLER_ERRORS = (TalkMediaError, TalkMediaNotFoundError, TalkEmptyAudioError)


def unavailable(name: str) -> HomeAssistantError:
    """Return the error for a camera that is offline (or not set up yet)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="device_unavailable",
        translation_placeholders={"name": name},
    )


async def async_play(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    speaker: Speaker,
    sources: Sequence[AudioSource],
    *,
    name: str,
    entity_id: str,
    enqueue: bool = False,
    announce: bool = False,
) -> PlayResult:
    """Play through the speaker, turning every failure into a translated error (logged once)."""
    try:
        return await speaker.play(sources, enqueue=enqueue, announce=announce)
    except CALLER_ERRORS as err:
        LOGGER.warning("%s cannot play %s: %s", entity_id, err.placeholders, err)
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=err.placeholders,
        ) from err
    except TalkError as err:
        if isinstance(err, TalkAuthError):
            entry.async_start_reauth(hass)
        LOGGER.warning("%s: talk failed: %s", entity_id, err)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders={"name": name, "error": str(err), **err.placeholders},
        ) from err
