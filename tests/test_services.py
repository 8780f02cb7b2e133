"""The play_audio action: registration, schema, targets and permissions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.media_player import (
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
    SERVICE_VOLUME_SET,
)
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
import voluptuous as vol

from custom_components.volcengine_aiot.const import DOMAIN
from custom_components.volcengine_aiot.services import PLAY_AUDIO_SCHEMA, SERVICE_PLAY_AUDIO
from tests.audio import alaw_decode, dominant_frequency, make_tone, rms, voiced
from tests.emulator.app import Emulator
from tests.emulator.data import HOME_IPC_ID, HOME_IPC_NSID


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


@pytest.fixture
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A 'My media' folder with a 1 s 440 Hz tone."""
    folder = tmp_path / "media"
    folder.mkdir()
    hass.config.media_dirs = {"local": str(folder)}
    make_tone(folder / "tone440.wav", 440, 1.0)
    return folder


TONE = "media-source://media_source/local/tone440.wav"


def _speaker(entity_registry: er.EntityRegistry) -> str:
    entity_id = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_IPC_ID}_speaker")
    assert entity_id is not None
    return entity_id


def _camera_device(entity_registry: er.EntityRegistry) -> str:
    entry = entity_registry.async_get(_speaker(entity_registry))
    assert entry is not None
    assert entry.device_id is not None
    return entry.device_id


async def _play_audio(
    hass: HomeAssistant, target: dict[str, Any], context: Context | None = None
) -> ServiceResponse:
    return await hass.services.async_call(
        DOMAIN,
        SERVICE_PLAY_AUDIO,
        {**target, "media": TONE},
        blocking=True,
        return_response=True,
        context=context,
    )


@pytest.mark.usefixtures("no_leftover_ffmpeg", "media_dir")
async def test_play_audio_with_the_speaker_disabled(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The camera's device (or the disabled entity's ID) reaches the runtime's speaker.

    The volume set on the media player before it was disabled applies.
    """
    speaker = _speaker(entity_registry)
    device = _camera_device(entity_registry)
    response = await _play_audio(hass, {ATTR_DEVICE_ID: device})
    assert response is not None
    assert set(response) == {speaker}
    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_VOLUME_SET,
        {ATTR_ENTITY_ID: speaker, ATTR_MEDIA_VOLUME_LEVEL: 0.5},
        blocking=True,
    )
    entity_registry.async_update_entity(speaker, disabled_by=er.RegistryEntryDisabler.USER)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(speaker) is None

    response = await _play_audio(hass, {ATTR_DEVICE_ID: device})
    assert response is not None
    assert set(response) == {speaker}
    result = response[speaker]
    assert isinstance(result, dict)
    assert result["interrupted"] is False
    assert 0.9 < float(result["played_seconds"]) < 1.2
    response = await _play_audio(hass, {ATTR_ENTITY_ID: speaker})
    assert response is not None
    assert set(response) == {speaker}

    full, half, by_entity = emulator.talk.sessions_for(HOME_IPC_NSID)
    for recording in (half, by_entity):
        assert recording.errors == []
        assert abs(dominant_frequency(voiced(alaw_decode(recording.alaw()))) - 440) < 10
    ratio = rms(voiced(alaw_decode(half.alaw()))) / rms(voiced(alaw_decode(full.alaw())))
    assert 0.45 < ratio < 0.55
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_play_audio_refuses_what_is_not_a_speaker(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """An unknown entity, another integration's device or a camera's other entity is refused."""
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    foreign = device_registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}, name="Foreign"
    )
    button = entity_registry.async_get_entity_id("button", DOMAIN, f"{HOME_IPC_ID}_test_tone")
    assert button is not None
    for target in (
        {ATTR_ENTITY_ID: "media_player.nope"},
        {ATTR_DEVICE_ID: foreign.id},
        {ATTR_ENTITY_ID: button},
        {ATTR_ENTITY_ID: [_speaker(entity_registry), "media_player.nope"]},
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _play_audio(hass, target)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "not_a_speaker_target"
    assert emulator.requests_for("StartVoiceTalk") == []


async def test_play_audio_checks_the_users_permission(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    hass_read_only_user: MockUser,
) -> None:
    """A user who may not control the speaker entity is refused, by entity or by device."""
    context = Context(user_id=hass_read_only_user.id)
    for target in (
        {ATTR_ENTITY_ID: _speaker(entity_registry)},
        {ATTR_DEVICE_ID: _camera_device(entity_registry)},
    ):
        with pytest.raises(Unauthorized):
            await _play_audio(hass, target, context)
    assert emulator.requests_for("StartVoiceTalk") == []
