"""The play_audio action: registration and schema."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
import pytest
import voluptuous as vol

from custom_components.volcengine_aiot.const import DOMAIN
from custom_components.volcengine_aiot.services import PLAY_AUDIO_SCHEMA, SERVICE_PLAY_AUDIO


async def test_registered_without_entries(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    assert hass.services.has_service(DOMAIN, SERVICE_PLAY_AUDIO)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"media": "media-source://tts/x?message=hi"}, "media-source://tts/x?message=hi"),
        (
            {"media": {"media_content_id": "http://a/b.mp3", "media_content_type": "music"}},
            "http://a/b.mp3",
        ),
    ],
)
def test_schema_accepts_strings_and_media_selector_values(
    data: dict[str, object], expected: str
) -> None:
    result = vol.Schema(PLAY_AUDIO_SCHEMA)(data)
    assert result == {"media": expected, "chime": False, "enqueue": False}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"media": ""},
        {"media": {"media_content_type": "music"}},
        {"media": "x", "gain_db": 50},
        {"media": "x", "chime": "maybe"},
    ],
)
def test_schema_rejects(data: dict[str, object]) -> None:
    with pytest.raises(vol.Invalid):
        vol.Schema(PLAY_AUDIO_SCHEMA)(data)


async def test_call_without_matching_entity(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            SERVICE_PLAY_AUDIO,
            {"entity_id": "media_player.nope", "media": "x"},
            blocking=True,
            return_response=True,
        )
