"""Service actions of the Volcengine AIoT Video integration."""

from __future__ import annotations

from typing import Any

from homeassistant.components.media_player import DOMAIN as MEDIA_PLAYER_DOMAIN
from homeassistant.core import HomeAssistant, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv, service
import voluptuous as vol

from .const import DOMAIN

SERVICE_PLAY_AUDIO = "play_audio"
ATTR_MEDIA = "media"
ATTR_GAIN_DB = "gain_db"
ATTR_CHIME = "chime"
ATTR_ENQUEUE = "enqueue"


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


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's service actions."""
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_PLAY_AUDIO,
        entity_domain=MEDIA_PLAYER_DOMAIN,
        schema=PLAY_AUDIO_SCHEMA,
        func="async_play_audio",
        supports_response=SupportsResponse.OPTIONAL,
    )
