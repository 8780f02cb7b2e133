"""The motion announcement blueprint: valid for Home Assistant, and it speaks on the camera."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import models
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from tests.emulator.app import Emulator
from tests.emulator.data import HOME_IPC_CHANNEL_ID, HOME_IPC_NSID, SPACE_HOME_ID

BLUEPRINT = (
    Path(__file__).parents[1]
    / "blueprints"
    / "automation"
    / "volcengine_aiot"
    / "motion_announce.yaml"
)
MOTION = "binary_sensor.front_door_motion"
SPEAKER = "media_player.front_door_speaker"


def test_blueprint_is_valid() -> None:
    blueprint = models.Blueprint(
        load_yaml_dict(BLUEPRINT),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    blueprint.validate()
    assert set(blueprint.inputs) == {
        "motion_entity",
        "tts_entity",
        "message",
        "cooldown",
        "window_start",
        "window_end",
    }


@pytest.fixture
def spoken(hass: HomeAssistant) -> list[ServiceCall]:
    return async_mock_service(hass, "tts", "speak")


async def setup_automation(
    hass: HomeAssistant, tmp_path: Path, *, start: str = "00:00:00", end: str = "00:00:00"
) -> None:
    target = tmp_path / "blueprints" / "automation" / "volcengine_aiot"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "gate",
                "use_blueprint": {
                    "path": "volcengine_aiot/motion_announce.yaml",
                    "input": {
                        "motion_entity": MOTION,
                        "tts_entity": "tts.test",
                        "message": "You are being recorded",
                        "cooldown": 60,
                        "window_start": start,
                        "window_end": end,
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    assert hass.states.get("automation.gate").state == STATE_ON


async def motion(hass: HomeAssistant, emulator: Emulator, freezer: FrozenDateTimeFactory) -> None:
    """An alarm on the platform, listed at the next poll; then the motion has passed."""
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(MOTION).state == STATE_ON
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_motion_is_announced_on_the_same_camera_with_a_cooldown(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    spoken: list[ServiceCall],
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)
    await setup_automation(hass, tmp_path)
    await motion(hass, emulator, freezer)
    assert [(c.data["media_player_entity_id"], c.data["message"]) for c in spoken] == [
        (SPEAKER, "You are being recorded")
    ]
    await motion(hass, emulator, freezer)  # 42 s later: within the cooldown
    assert len(spoken) == 1
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    await motion(hass, emulator, freezer)  # the cooldown is over
    assert len(spoken) == 2


async def test_no_announcement_outside_the_time_window(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    spoken: list[ServiceCall],
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)
    now = dt_util.now()
    start = (now + timedelta(hours=2)).strftime("%H:%M:%S")
    end = (now + timedelta(hours=3)).strftime("%H:%M:%S")
    await setup_automation(hass, tmp_path, start=start, end=end)
    await motion(hass, emulator, freezer)
    assert spoken == []
