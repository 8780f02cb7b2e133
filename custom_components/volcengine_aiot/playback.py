"""Play on a camera's speaker for an entity, turning every failure into a translated error.

The media player and the Assist satellite of a camera play through the same ``Speaker``; this is
the one place that maps what the talk pipeline and the API raise to what the user sees.
"""

from __future__ import annotations

from collections.abc import Sequence

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import VolcengineAuthError, VolcengineDeviceUnreachableError, VolcengineError
from .const import DOMAIN, LOGGER
from .coordinator import VolcengineConfigEntry
from .talk import (
    AudioSource,
    PlayResult,
    Speaker,
    TalkEmptyAudioError,
    TalkError,
    TalkMediaError,
    TalkMediaNotFoundError,
)

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
        LOGGER.warning("%s: talk failed: %s", entity_id, err)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders={"name": name, **err.placeholders},
        ) from err
    except VolcengineAuthError as err:
        entry.async_start_reauth(hass)
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="invalid_auth") from err
    except VolcengineDeviceUnreachableError as err:
        LOGGER.warning("%s: the camera did not accept the talk: %s", entity_id, err)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="device_unreachable",
            translation_placeholders={"name": name, "error": err.code},
        ) from err
    except VolcengineError as err:
        LOGGER.warning("%s: talk failed: %s", entity_id, err)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="talk_failed",
            translation_placeholders={"name": name, "error": str(err)},
        ) from err
