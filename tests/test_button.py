"""The "Play test tone" button: a 2 s 1 kHz tone through the normal talk pipeline."""

from __future__ import annotations

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.media_player import (
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
    SERVICE_VOLUME_SET,
)
from homeassistant.const import ATTR_ENTITY_ID, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.volcengine_aiot.const import DOMAIN
from tests.audio import alaw_decode, dominant_frequency, ffmpeg_children, rms, voiced
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_IPC_OFFLINE_ID,
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
    SPACE_HOME_ID,
)
from tests.entities import entities_of


def button_of(entity_registry: er.EntityRegistry, device_id: str) -> str:
    entity_id = entity_registry.async_get_entity_id(BUTTON_DOMAIN, DOMAIN, f"{device_id}_test_tone")
    assert entity_id is not None
    return entity_id


async def press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    buttons = {
        entity_id: data
        for entity_id, data in entities_of(hass, init_integration.entry_id).items()
        if entity_id.startswith("button.") and data["entry"]["unique_id"].endswith("_test_tone")
    }
    assert buttons
    assert all(
        data["entry"]["entity_category"] is EntityCategory.DIAGNOSTIC for data in buttons.values()
    )
    assert buttons == snapshot


async def test_press_plays_a_2_s_1_khz_tone(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    await press(hass, button_of(entity_registry, HOME_IPC_ID))
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.errors == []
    assert recording.stopped
    tone = voiced(alaw_decode(recording.alaw()))
    assert abs(len(tone) / 8000 - 2.0) < 0.05
    assert abs(dominant_frequency(tone) - 1000) < 10
    assert not emulator.talk.active(HOME_IPC_NSID)
    assert ffmpeg_children() == []


async def test_press_raises_the_playback_error(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    emulator.talk.refuse_next(HOME_IPC_NSID)
    with pytest.raises(HomeAssistantError) as info:
        await press(hass, button_of(entity_registry, HOME_IPC_ID))
    assert info.value.translation_key == "talk_connect_failed"
    assert "{" not in str(info.value)
    assert not emulator.talk.active(HOME_IPC_NSID)
    assert ffmpeg_children() == []
    speaker = init_integration.runtime_data.speakers[HOME_IPC_ID]
    assert not speaker.is_playing


async def test_an_offline_camera_cannot_be_pressed(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    entity_id = button_of(entity_registry, HOME_IPC_OFFLINE_ID)
    assert hass.states.get(entity_id).state == "unavailable"
    speaker = init_integration.runtime_data.speakers.pop(HOME_IPC_ID)
    try:
        with pytest.raises(HomeAssistantError) as info:
            await press(hass, button_of(entity_registry, HOME_IPC_ID))
        assert info.value.translation_key == "device_unavailable"
    finally:
        init_integration.runtime_data.speakers[HOME_IPC_ID] = speaker
    assert emulator.requests_for("StartVoiceTalk") == []


async def test_press_with_the_speaker_disabled(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The tone plays on the camera's own speaker: the media player may be disabled.

    The volume set on it before applies (one gain formula for every playback).
    """
    button = button_of(entity_registry, HOME_IPC_ID)
    speaker = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_IPC_ID}_speaker")
    assert speaker is not None
    await press(hass, button)
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
    await press(hass, button)
    full, half = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert half.errors == []
    assert abs(dominant_frequency(voiced(alaw_decode(half.alaw()))) - 1000) < 10
    ratio = rms(voiced(alaw_decode(half.alaw()))) / rms(voiced(alaw_decode(full.alaw())))
    assert 0.45 < ratio < 0.55
    assert not emulator.talk.active(HOME_IPC_NSID)


# --- PTZ buttons ---------------------------------------------------------------------------------

GARDEN_BUTTONS = {
    "button.recorder_garden_tilt_up": ("up", 127),
    "button.recorder_garden_tilt_down": ("down", 127),
    "button.recorder_garden_pan_left": ("left", 127),
    "button.recorder_garden_pan_right": ("right", 127),
    "button.recorder_garden_zoom_in": ("zoomin", 7),
    "button.recorder_garden_zoom_out": ("zoomout", 7),
}
GARDEN_STOP = "button.recorder_garden_ptz_stop"
DOME = HOME_NVR_STREAM_IDS[0]


@pytest.fixture
async def ptz_buttons(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> MockConfigEntry:
    """The entry with the garden's PTZ buttons enabled (what the user does in the UI)."""
    for entity_id in (*GARDEN_BUTTONS, GARDEN_STOP):
        entity_registry.async_update_entity(entity_id, disabled_by=None)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    return init_integration


async def test_ptz_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """The dome channel gets the move buttons (disabled by default) and a refresh button."""
    buttons = {
        entity_id: data
        for entity_id, data in entities_of(hass, init_integration.entry_id).items()
        if entity_id.startswith("button.") and "_ptz_" in data["entry"]["unique_id"]
    }
    assert set(buttons) == {*GARDEN_BUTTONS, GARDEN_STOP, "button.recorder_garden_refresh_presets"}
    assert all(
        data["entry"]["unique_id"].startswith(f"{HOME_NVR_ID}_{HOME_NVR_CHANNEL_IDS[0]}_")
        for data in buttons.values()
    )
    disabled = {e for e, data in buttons.items() if data["entry"]["disabled_by"] is not None}
    assert disabled == {*GARDEN_BUTTONS, GARDEN_STOP}
    assert buttons == snapshot


async def test_ptz_press_is_a_short_move_that_ends_in_a_stop(
    hass: HomeAssistant, emulator: Emulator, ptz_buttons: MockConfigEntry
) -> None:
    for entity_id, (cmd, speed) in GARDEN_BUTTONS.items():
        await press(hass, entity_id)
        assert [(c.cmd, c.para) for c in emulator.ptz.commands(DOME)[-2:]] == [
            (cmd, speed),
            ("stop", 0),
        ]
        assert emulator.ptz.channel(DOME).moving is None
    await press(hass, GARDEN_STOP)
    assert [(c.action, c.cmd) for c in emulator.ptz.commands(DOME)[-2:]] == [
        ("PTZControl", "stop"),
        ("FiControl", "stop"),
    ]


async def test_ptz_press_errors(
    hass: HomeAssistant, emulator: Emulator, ptz_buttons: MockConfigEntry
) -> None:
    emulator.state.set_status(SPACE_HOME_ID, HOME_NVR_ID, "offline")
    with pytest.raises(HomeAssistantError) as info:
        await press(hass, "button.recorder_garden_pan_left")
    assert info.value.translation_key == "ptz_offline"
    assert emulator.ptz.channel(DOME).moving is None
