"""PTZ through Home Assistant: the runtime's channels, the entity services, their errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol
import yaml

from custom_components.volcengine_aiot.api import PresetCommand, PtzCommand
from custom_components.volcengine_aiot.const import DOMAIN
from custom_components.volcengine_aiot.ptz import MAX_DURATION
from custom_components.volcengine_aiot.ptz_control import ptz_channel_of
from custom_components.volcengine_aiot.runtime import VolcengineConfigEntry
from custom_components.volcengine_aiot.services import SERVICE_PTZ, SERVICE_PTZ_PRESET
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_STREAM_ID,
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
    SPACE_HOME_ID,
)

INTEGRATION = Path(__file__).parent.parent / "custom_components" / DOMAIN

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
    await asyncio.wait(runtime.ptz_discovery.values())  # bounded by PTZ_DISCOVERY_TIMEOUT
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
    with_channels = {d for d, device in runtime.coordinator.data.items() if device.streams}
    assert set(devices) == with_channels  # a device without video channels is not asked

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


# --- the entity services -------------------------------------------------------------------------


def cmds(emulator: Emulator, stream_id: str = DOME) -> list[tuple[str | None, object]]:
    return [(c.cmd, c.para) for c in emulator.ptz.commands(stream_id)]


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def ptz(hass: HomeAssistant, entity_id: str = GARDEN, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN, SERVICE_PTZ, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


async def preset(hass: HomeAssistant, action: str, number: int, entity_id: str = GARDEN) -> None:
    await hass.services.async_call(
        DOMAIN,
        SERVICE_PTZ_PRESET,
        {ATTR_ENTITY_ID: entity_id, "action": action, "preset": number},
        blocking=True,
    )


def test_service_options_are_the_commands() -> None:
    described = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    options = described[SERVICE_PTZ]["fields"]["command"]["selector"]["select"]["options"]
    assert options == [c.value for c in PtzCommand]
    actions = described[SERVICE_PTZ_PRESET]["fields"]["action"]["selector"]["select"]["options"]
    assert set(actions) == {c.value for c in PresetCommand}
    duration = described[SERVICE_PTZ]["fields"]["duration"]["selector"]["number"]
    assert duration["max"] == MAX_DURATION


async def test_timed_move_ends_in_a_stop(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    await ptz(hass, command="left", speed=40, duration=0.05)
    assert cmds(emulator) == [("left", 40), ("stop", 0)]
    assert emulator.ptz.channel(DOME).moving is None


async def test_defaults_and_stop(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    await ptz(hass, command="zoomin")  # default speed: half the zoom range; default duration
    await ptz(hass, command="rightdown", duration=0.01)
    await ptz(hass, command="stop")
    assert cmds(emulator) == [
        ("zoomin", 7),
        ("stop", 0),
        ("rightdown", 127),
        ("stop", 0),
        ("stop", 0),  # PTZControl stop ...
        ("stop", 0),  # ... and FiControl stop
    ]
    assert [c.action for c in emulator.ptz.commands(DOME)[-2:]] == ["PTZControl", "FiControl"]
    await ptz(hass, command="focusfar", speed=255, duration=0.01)
    assert [(c.action, c.cmd) for c in emulator.ptz.commands(DOME)[-2:]] == [
        ("FiControl", "focusfar"),
        ("FiControl", "stop"),
    ]


async def test_presets(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    await preset(hass, "goto", 2)
    await preset(hass, "set", 9)
    await preset(hass, "remove", 1)
    assert cmds(emulator) == [("goto", 2), ("set", 9), ("remove", 1)]
    assert sorted(emulator.ptz.channel(DOME).presets) == [2, 9]
    _, channel = ptz_channel_of(hass, GARDEN)
    assert [p.preset_id for p in channel.presets] == [2, 9]  # read again after set/remove


@pytest.mark.parametrize(
    ("service", "data", "key", "placeholders"),
    [
        (
            SERVICE_PTZ,
            {"command": "left", "speed": 256},
            "ptz_speed_out_of_range",
            {"command": "left", "speed": "256", "max_speed": "255"},
        ),
        (
            SERVICE_PTZ,
            {"command": "zoomout", "speed": 16},
            "ptz_speed_out_of_range",
            {"command": "zoomout", "speed": "16", "max_speed": "15"},
        ),
        (
            SERVICE_PTZ,
            {"command": "up", "speed": -1},
            "ptz_speed_out_of_range",
            {"command": "up", "speed": "-1", "max_speed": "255"},
        ),
        (
            SERVICE_PTZ,
            {"command": "up", "duration": 0},
            "ptz_duration_out_of_range",
            {"duration": "0.0", "max_duration": "60"},
        ),
        (
            SERVICE_PTZ,
            {"command": "up", "duration": 61},
            "ptz_duration_out_of_range",
            {"duration": "61.0", "max_duration": "60"},
        ),
        (
            SERVICE_PTZ_PRESET,
            {"action": "goto", "preset": 0},
            "ptz_preset_out_of_range",
            {"preset": "0", "min_preset": "1", "max_preset": "255"},
        ),
        (
            SERVICE_PTZ_PRESET,
            {"action": "set", "preset": 256},
            "ptz_preset_out_of_range",
            {"preset": "256", "min_preset": "1", "max_preset": "255"},
        ),
    ],
)
async def test_out_of_range_is_refused_before_sending(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: Emulator,
    service: str,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, service, {ATTR_ENTITY_ID: GARDEN, **data}, blocking=True
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert err.value.translation_placeholders == placeholders
    assert str(err.value)  # the translated message
    assert emulator.requests_for("CloudControl") == []
    assert emulator.ptz.channel(DOME).moving is None


async def test_unknown_command_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    with pytest.raises(vol.Invalid):
        await ptz(hass, command="spin")
    assert emulator.requests_for("CloudControl") == []


async def test_fixed_camera_cannot_move(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    for call in (ptz(hass, BACK_YARD, command="left"), preset(hass, "goto", 1, BACK_YARD)):
        with pytest.raises(HomeAssistantError) as err:
            await call
        assert err.value.translation_key == "ptz_not_supported"
        assert err.value.translation_placeholders == {
            "camera": BACK_YARD,
            "error": "InvalidParameter.PTZNotSupported",
        }
        assert "cannot pan, tilt or zoom" in str(err.value)
    assert emulator.requests_for("CloudControl") == []  # refused before sending


async def test_not_supported_answer(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """A channel that reports no PTZType is tried; the platform's refusal is translated."""
    ptz_channel_of(hass, BACK_YARD)[1].ptz_type = None
    with pytest.raises(HomeAssistantError) as err:
        await ptz(hass, BACK_YARD, command="left")
    assert err.value.translation_key == "ptz_not_supported"
    assert [c.error for c in emulator.ptz.log] == ["InvalidParameter.PTZNotSupported"] * 2
    assert [c.cmd for c in emulator.ptz.log] == ["left", "stop"]  # the stop was still tried
    assert emulator.ptz.channel(FIXED).moving is None


async def test_offline_camera(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    emulator.state.set_status(SPACE_HOME_ID, HOME_NVR_ID, "offline")
    with pytest.raises(HomeAssistantError) as err:
        await ptz(hass, command="up", duration=0.01)
    assert err.value.translation_key == "ptz_offline"
    assert str(err.value).startswith(f"{GARDEN} is offline: it cannot be moved now")
    with pytest.raises(HomeAssistantError) as err:
        await preset(hass, "goto", 1)
    assert err.value.translation_key == "ptz_offline"
    assert emulator.ptz.channel(DOME).moving is None
    assert [c.cmd for c in emulator.ptz.log] == ["up", "stop", "goto"]


async def test_preset_not_set(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await preset(hass, "goto", 42)
    assert err.value.translation_key == "ptz_preset_not_found"
    assert err.value.translation_placeholders == {"camera": GARDEN, "preset": "42"}


async def test_cancelled_call_stops(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    task = asyncio.create_task(ptz(hass, command="right", speed=90, duration=30))
    await until(lambda: emulator.ptz.channel(DOME).moving == "right")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cmds(emulator) == [("right", 90), ("stop", 0)]
    assert emulator.ptz.channel(DOME).moving is None


async def test_two_callers_end_in_a_stop(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    await asyncio.gather(
        ptz(hass, command="left", speed=10, duration=0.05),
        ptz(hass, command="right", speed=20, duration=0.05),
    )
    log = cmds(emulator)
    assert sorted(log) == sorted([("left", 10), ("right", 20), ("stop", 0), ("stop", 0)])
    assert log[1] == log[3] == ("stop", 0)  # each move is followed by its stop
    assert emulator.ptz.channel(DOME).moving is None


async def test_unload_during_a_move_stops(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    task = asyncio.create_task(ptz(hass, command="down", speed=30, duration=30))
    await until(lambda: emulator.ptz.channel(DOME).moving == "down")
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert cmds(emulator) == [("down", 30), ("stop", 0)]
    assert emulator.ptz.channel(DOME).moving is None
    with pytest.raises((asyncio.CancelledError, HomeAssistantError)):
        await task


async def test_home_assistant_stop_during_a_move_stops(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    task = asyncio.create_task(ptz(hass, command="zoomout", speed=3, duration=30))
    await until(lambda: emulator.ptz.channel(DOME).moving == "zoomout")
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await until(lambda: emulator.ptz.channel(DOME).moving is None)
    assert cmds(emulator) == [("zoomout", 3), ("stop", 0)]
    with pytest.raises((asyncio.CancelledError, HomeAssistantError)):
        await task


async def test_other_refusal_names_the_code(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    emulator.faults.add("CloudControl", code="InvalidParameter.Whatever", status=400)
    with pytest.raises(HomeAssistantError) as err:
        await preset(hass, "goto", 1)
    assert err.value.translation_key == "ptz_command_failed"
    assert err.value.translation_placeholders == {
        "camera": GARDEN,
        "error": "InvalidParameter.Whatever",
    }


async def test_channel_listed_without_stream_id_is_found_by_its_channel_id(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, emulator: Emulator
) -> None:
    for item in emulator.state.channels[HOME_NVR_ID]:
        del item["StreamID"]
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ptz_channel_of(hass, GARDEN)[1].ptz_type == 1
    assert ptz_channel_of(hass, BACK_YARD)[1].ptz_type == 3
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_stop_refused_after_a_move(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    """The move went through, its stop was refused: the error says the camera may move."""
    task = asyncio.create_task(ptz(hass, command="up", speed=5, duration=0.5))
    await until(lambda: emulator.ptz.channel(DOME).moving == "up")
    emulator.faults.add("CloudControl", code="InvalidParameter", status=400)
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_key == "ptz_stop_failed"
    assert "may still be moving" in str(err.value)
    await ptz(hass, command="stop")  # what the README says to do
    assert emulator.ptz.channel(DOME).moving is None


async def test_closed_mover_is_a_translated_error(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: Emulator
) -> None:
    await init_integration.runtime_data.ptz.aclose()
    with pytest.raises(HomeAssistantError) as err:
        await ptz(hass, command="up", duration=0.01)
    assert err.value.translation_key == "ptz_failed"
    assert emulator.requests_for("CloudControl") == []


async def test_type_not_read_leaves_the_entities_disabled(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """GetDeviceChannelsV2 fails: the type stays unknown, the PTZ entities are disabled."""
    emulator.faults.add("GetDeviceChannelsV2", code="InvalidParameter", status=400, times=10)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    garden = ptz_channel_of(hass, GARDEN)[1]
    assert garden.ptz_type is None
    assert garden.can_move is None
    select = entity_registry.async_get("select.recorder_garden_ptz_preset")
    assert select is not None
    assert select.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    await ptz(hass, command="left", duration=0.01)  # the actions still try it
    assert [c.cmd for c in emulator.ptz.commands(DOME)] == ["left", "stop"]
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
