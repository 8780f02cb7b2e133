"""PTZ through Home Assistant: the runtime's channels, the entity services, their errors."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.volcengine_aiot.ptz_control import ptz_channel_of
from custom_components.volcengine_aiot.runtime import VolcengineConfigEntry
from tests.emulator.app import Emulator
from tests.emulator.data import HOME_IPC_STREAM_ID, HOME_NVR_STREAM_IDS

FRONT_DOOR = "camera.front_door"
GARDEN = "camera.recorder_garden"
BACK_YARD = "camera.recorder_back_yard"
DOME = HOME_NVR_STREAM_IDS[0]
FIXED = HOME_NVR_STREAM_IDS[1]


async def test_every_camera_has_its_ptz_channel(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    entry: VolcengineConfigEntry = init_integration
    runtime = entry.runtime_data
    ent_reg = er.async_get(hass)
    cameras = {
        e.unique_id
        for e in er.async_entries_for_config_entry(ent_reg, entry.entry_id)
        if e.domain == "camera"
    }
    assert set(runtime.ptz_channels) == set(runtime.channels) == cameras
    types = {c.stream_id: c.ptz_type for c in runtime.ptz_channels.values()}
    assert types[DOME] == 1
    assert types[FIXED] == 3
    assert types[HOME_IPC_STREAM_ID] == 3  # derived channels of the demo are fixed
    # one GetDeviceChannelsV2 per device, not per channel
    devices = [r.query["DeviceID"] for r in emulator.requests_for("GetDeviceChannelsV2")]
    assert sorted(devices) == sorted(set(devices))
    assert len(devices) == len(runtime.coordinator.data)

    found_entry, garden = ptz_channel_of(hass, GARDEN)
    assert found_entry is entry
    assert garden.stream_id == DOME
    assert garden.can_move is True
    assert ptz_channel_of(hass, BACK_YARD)[1].can_move is False


@pytest.mark.parametrize("entity_id", ["camera.nope", "media_player.front_door_speaker"])
async def test_unknown_entity_is_not_a_ptz_camera(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_id: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        ptz_channel_of(hass, entity_id)
    assert err.value.translation_key == "not_a_ptz_camera"
    assert err.value.translation_placeholders == {"entity_id": entity_id}


async def test_unloaded_entry_has_no_ptz_camera(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError):
        ptz_channel_of(hass, GARDEN)
