"""Resolving what a caller asks to play: every failure translated, no URL secret shown."""

from __future__ import annotations

from typing import Any
from unittest.mock import Mock

from homeassistant.components.media_source import MediaSource, MediaSourceItem, PlayMedia
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockModule,
    mock_integration,
    mock_platform,
)

from custom_components.volcengine_aiot.media import async_resolve_source, media_label


@pytest.mark.parametrize(
    ("media_id", "label"),
    [
        ("media-source://tts/cloud?message=Hello+there&language=en", "Hello there"),
        ("media-source://media_source/local/door.mp3", "door.mp3"),
        ("http://user:password@nas.local/music/door.mp3?sig=x", "door.mp3"),
        ("http://user:password@nas.local/?message=secret", "nas.local"),
        ("http://user:password@[::1/a.mp3?sig=x", "http://[::1/a.mp3"),  # not a valid URL
    ],
)
def test_media_label_never_shows_credentials_or_a_query(media_id: str, label: str) -> None:
    assert media_label(media_id) == label


@pytest.mark.parametrize(
    ("media_id", "key", "shown"),
    [
        ("ftp://user:password@nas/a.mp3?sig=x", "unsupported_media", "ftp://nas/a.mp3"),
        ("http://user:password@[::1/a.mp3?sig=x", "unsupported_media", "http://[::1/a.mp3"),
        ("http://user:password@nas:99999/a.mp3", "unsupported_media", "http://nas:99999/a.mp3"),
        ("file:///etc/passwd", "unsupported_media", "file:///etc/passwd"),
    ],
)
async def test_unusable_urls(hass: HomeAssistant, media_id: str, key: str, shown: str) -> None:
    with pytest.raises(ServiceValidationError) as info:
        await async_resolve_source(hass, media_id, "media_player.x", 1.0)
    assert info.value.translation_key == key
    assert info.value.translation_placeholders == {"media": shown}


class BrokenSource(MediaSource):
    """A media source with a bug: resolving raises something that is not Unresolvable."""

    def __init__(self, error: Exception) -> None:
        super().__init__("broken_media")
        self.error = error

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        raise self.error


@pytest.mark.parametrize("error", [AssertionError(), KeyError("x"), ValueError("bad")])
async def test_any_media_source_failure_is_translated(
    hass: HomeAssistant, error: Exception
) -> None:
    async def get_source(hass: HomeAssistant) -> Any:
        return BrokenSource(error)

    mock_integration(hass, MockModule("broken_media"))
    mock_platform(hass, "broken_media.media_source", Mock(async_get_media_source=get_source))
    assert await async_setup_component(hass, "media_source", {})
    assert await async_setup_component(hass, "broken_media", {})
    with pytest.raises(ServiceValidationError) as info:
        await async_resolve_source(
            hass, "media-source://broken_media/a.mp3?token=t", "media_player.x", 1.0
        )
    assert info.value.translation_key == "media_not_found"
    assert info.value.translation_placeholders == {"media": "media-source://broken_media/a.mp3"}
