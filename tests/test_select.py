"""The preset select of a channel that can move: names from the platform, selecting = go to."""

from __future__ import annotations

from typing import Any

from homeassistant.components.select import (
    ATTR_OPTION,
    ATTR_OPTIONS,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.volcengine_aiot.api import Preset
from custom_components.volcengine_aiot.const import CONF_SPACE_ID, DOMAIN
from custom_components.volcengine_aiot.select import VolcenginePresetSelect, preset_options
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_ID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
    channel,
)
from tests.entities import entities_of

GARDEN = "select.recorder_garden_ptz_preset"
REFRESH = "button.recorder_garden_refresh_presets"
DOME = HOME_NVR_STREAM_IDS[0]


@pytest.fixture
async def loaded(hass: HomeAssistant, init_integration: MockConfigEntry) -> MockConfigEntry:
    """The entry, once the selects read their presets (a background task)."""
    await hass.async_block_till_done(wait_background_tasks=True)
    return init_integration


async def select(hass: HomeAssistant, option: str, entity_id: str = GARDEN) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: option},
        blocking=True,
    )


def options(hass: HomeAssistant, entity_id: str = GARDEN) -> list[str]:
    state = hass.states.get(entity_id)
    assert state is not None
    return list(state.attributes[ATTR_OPTIONS])


async def test_entities(
    hass: HomeAssistant, loaded: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """Only the dome channel gets a select: the fixed ones get none."""
    selects = {
        entity_id: data
        for entity_id, data in entities_of(hass, loaded.entry_id).items()
        if entity_id.startswith("select.")
    }
    assert list(selects) == [GARDEN]
    for data in selects.values():  # an enum key since 2026.x, a string before: the same text
        capabilities = data["entry"]["capabilities"]
        data["entry"]["capabilities"] = {str(key): value for key, value in capabilities.items()}
    assert selects == snapshot


def test_preset_options() -> None:
    presets = (Preset(1, "Gate"), Preset(2, None), Preset(3, "Gate"), Preset(4, "Terrace"))
    assert preset_options(presets) == {
        "Gate (1)": 1,
        "Preset 2": 2,
        "Gate (3)": 3,
        "Terrace": 4,
    }
    assert preset_options(()) == {}


async def test_names_from_the_platform_and_go_to(
    hass: HomeAssistant, loaded: MockConfigEntry, emulator: Emulator
) -> None:
    assert options(hass) == ["Gate", "Terrace"]
    assert hass.states.get(GARDEN).state == STATE_UNKNOWN  # the position is not known
    await select(hass, "Terrace")
    assert [(c.cmd, c.preset) for c in emulator.ptz.commands(DOME)] == [("goto", 2)]
    assert hass.states.get(GARDEN).state == STATE_UNKNOWN


async def test_refreshed_after_set_and_remove(
    hass: HomeAssistant, loaded: MockConfigEntry, emulator: Emulator
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "ptz_preset",
        {ATTR_ENTITY_ID: "camera.recorder_garden", "action": "set", "preset": 5},
        blocking=True,
    )
    assert options(hass) == ["Gate", "Terrace", "预置位5"]  # the platform names it
    await hass.services.async_call(
        DOMAIN,
        "ptz_preset",
        {ATTR_ENTITY_ID: "camera.recorder_garden", "action": "remove", "preset": 1},
        blocking=True,
    )
    assert options(hass) == ["Terrace", "预置位5"]


async def test_refresh_button(
    hass: HomeAssistant, loaded: MockConfigEntry, emulator: Emulator
) -> None:
    """Presets changed on the camera itself appear when the refresh button is pressed."""
    emulator.ptz.channel(DOME).presets[9] = ""  # a preset without a name
    assert options(hass) == ["Gate", "Terrace"]  # not polled
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: REFRESH}, blocking=True)
    assert options(hass) == ["Gate", "Terrace", "Preset 9"]
    await select(hass, "Preset 9")
    assert [(c.cmd, c.preset) for c in emulator.ptz.commands(DOME)] == [("goto", 9)]


async def test_go_to_errors(
    hass: HomeAssistant, loaded: MockConfigEntry, emulator: Emulator
) -> None:
    del emulator.ptz.channel(DOME).presets[1]  # removed on the camera, still listed here
    with pytest.raises(ServiceValidationError) as err:
        await select(hass, "Gate")
    assert err.value.translation_key == "ptz_preset_not_found"
    assert err.value.translation_placeholders == {"camera": GARDEN, "preset": "1"}
    emulator.state.set_status(SPACE_HOME_ID, HOME_NVR_ID, "offline")
    with pytest.raises(HomeAssistantError) as err:
        await select(hass, "Terrace")
    assert err.value.translation_key == "ptz_offline"
    assert emulator.ptz.channel(DOME).moving is None


async def test_option_gone_meanwhile(
    hass: HomeAssistant, loaded: MockConfigEntry, emulator: Emulator
) -> None:
    entity = hass.data["entity_components"][SELECT_DOMAIN].get_entity(GARDEN)
    assert isinstance(entity, VolcenginePresetSelect)
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_select_option("Pool")
    assert err.value.translation_key == "ptz_preset_unknown"
    assert emulator.requests_for("CloudControl") == []


async def test_channel_reporting_nothing_is_disabled(
    hass: HomeAssistant, entry_data: dict[str, Any], emulator: Emulator
) -> None:
    """The shop's camera reports no PTZType: its select exists, disabled by default."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="shop",
        unique_id=SPACE_SHOP_ID,
        data={**entry_data, CONF_SPACE_ID: SPACE_SHOP_ID},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    registry = er.async_get(hass)
    ptz = [
        e
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if "_ptz_" in (e.unique_id or "")
    ]
    assert {e.domain for e in ptz} == {"select", "button"}
    assert all(e.unique_id.startswith(SHOP_IPC_ID) for e in ptz)
    assert {e.disabled_by for e in ptz} == {er.RegistryEntryDisabler.INTEGRATION}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_ptz_entities_follow_the_device_list(
    hass: HomeAssistant, loaded: MockConfigEntry, emulator: Emulator
) -> None:
    """A dome that joins the space gets its select once its PTZType was read; gone with it."""
    new_id, stream, channel_id = (
        "6851c282-c7f6-4a04-9d1e-00000000cafe",
        "c0ffee00-0000-4000-8000-0000000000ca",
        "34020000001310000098",
    )
    emulator.state.add_device(
        SPACE_HOME_ID,
        {
            "DeviceID": new_id,
            "DeviceNSID": "34020000001320000098",
            "DeviceName": "Side gate",
            "Status": "online",
            "DeviceStreams": {channel_id: {"StreamID": stream, "Name": "Side gate"}},
        },
    )
    emulator.state.channels[new_id] = [
        channel(channel_id, stream, "Side gate", "Hikvision", "DS-2DE", parent_id="x", ptz_type=2)
    ]
    emulator.state.presets[stream] = {4: "Gate"}
    runtime = loaded.runtime_data
    await runtime.coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert options(hass, "select.side_gate_ptz_preset") == ["Gate"]
    key = f"{new_id}_{channel_id}_camera"
    assert runtime.ptz_channels[key].ptz_type == 2
    emulator.state.remove_device(SPACE_HOME_ID, new_id)
    for _ in range(2):  # removed after two device lists without it
        await runtime.coordinator.async_refresh()
        await hass.async_block_till_done()
    assert key not in runtime.ptz_channels
    assert hass.states.get("select.side_gate_ptz_preset") is None


async def test_first_read_retried_when_the_camera_is_back(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, emulator: Emulator
) -> None:
    """Offline at setup: no presets; read at the first device list that finds it online."""
    emulator.state.set_status(SPACE_HOME_ID, HOME_NVR_ID, "offline")
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(GARDEN).state == "unavailable"
    reads = len(emulator.requests_for("QueryPresetInfo"))
    coordinator = mock_config_entry.runtime_data.coordinator
    await coordinator.async_refresh()  # still offline: not asked again
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(emulator.requests_for("QueryPresetInfo")) == reads
    emulator.state.set_status(SPACE_HOME_ID, HOME_NVR_ID, "online")
    await coordinator.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert options(hass) == ["Gate", "Terrace"]
    await coordinator.async_refresh()  # read once: not asked again
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(emulator.requests_for("QueryPresetInfo")) == reads + 1
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
