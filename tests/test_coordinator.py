"""Discovery: dynamic devices, stale devices, status changes and update failures."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.volcengine_aiot.compat import async_get_device_by_identifier
from custom_components.volcengine_aiot.const import DOMAIN, SCAN_INTERVAL
from tests.emulator.app import Emulator
from tests.emulator.data import HOME_DEVICE_IDS, HOME_IPC_ID, HOME_NVR_ID, SPACE_HOME_ID

NEW_ID = "6851c282-c7f6-4a04-9d1e-00000000beef"


def entity_id(registry: er.EntityRegistry, platform: str, device_id: str, key: str) -> str:
    found = registry.async_get_entity_id(platform, DOMAIN, f"{device_id}_{key}")
    assert found is not None
    return found


class Clock:
    """Moves Home Assistant's time to the coordinator's next refresh."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.now = dt_util.utcnow()

    async def tick(self) -> None:
        self.now += SCAN_INTERVAL + timedelta(seconds=1)
        async_fire_time_changed(self.hass, self.now)
        await self.hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
def clock(hass: HomeAssistant) -> Clock:
    return Clock(hass)


async def test_every_device_gets_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    for device_id in HOME_DEVICE_IDS:
        entity_id(entity_registry, "media_player", device_id, "speaker")
        entity_id(entity_registry, "binary_sensor", device_id, "connectivity")


async def test_dynamic_devices(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    clock: Clock,
) -> None:
    emulator.state.add_device(
        SPACE_HOME_ID,
        {
            "DeviceID": NEW_ID,
            "DeviceNSID": "34020000001320000099",
            "DeviceName": "Garage",
            "Status": "online",
            "Type": "IPC",
            "Manufactory": "Dahua",
        },
    )
    await clock.tick()
    speaker = entity_id(entity_registry, "media_player", NEW_ID, "speaker")
    assert hass.states.get(speaker).state == "idle"
    device = async_get_device_by_identifier(
        device_registry, (DOMAIN, NEW_ID), init_integration.entry_id
    )
    assert device is not None
    assert (device.name, device.manufacturer, device.serial_number) == (
        "Garage",
        "Dahua",
        "34020000001320000099",
    )


async def test_stale_devices(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    clock: Clock,
) -> None:
    speaker = entity_id(entity_registry, "media_player", HOME_NVR_ID, "speaker")
    emulator.state.remove_device(SPACE_HOME_ID, HOME_NVR_ID)
    await clock.tick()
    # missing from one list: kept (one incomplete answer must not wipe it), but unavailable
    assert async_get_device_by_identifier(
        device_registry, (DOMAIN, HOME_NVR_ID), init_integration.entry_id
    )
    assert hass.states.get(speaker).state == STATE_UNAVAILABLE
    await clock.tick()
    assert (
        async_get_device_by_identifier(
            device_registry, (DOMAIN, HOME_NVR_ID), init_integration.entry_id
        )
        is None
    )
    assert entity_registry.async_get(speaker) is None
    assert hass.states.get(speaker) is None
    # the space's hub device stays
    assert async_get_device_by_identifier(
        device_registry, (DOMAIN, SPACE_HOME_ID), init_integration.entry_id
    )


async def test_device_missing_once_is_kept(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A device missing from one answer only comes back with its entities untouched."""
    speaker = entity_id(entity_registry, "media_player", HOME_NVR_ID, "speaker")
    entity_registry.async_update_entity(speaker, name="Yard speaker")
    raw = emulator.state.devices[SPACE_HOME_ID][HOME_NVR_ID]
    emulator.state.remove_device(SPACE_HOME_ID, HOME_NVR_ID)
    await clock.tick()
    emulator.state.add_device(SPACE_HOME_ID, raw)
    await clock.tick()
    await clock.tick()
    assert async_get_device_by_identifier(
        device_registry, (DOMAIN, HOME_NVR_ID), init_integration.entry_id
    )
    entry = entity_registry.async_get(speaker)
    assert entry is not None
    assert entry.name == "Yard speaker"
    assert hass.states.get(speaker).state == "idle"
    assert "already exists" not in caplog.text  # its entities were not added a second time


async def test_device_going_offline(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    clock: Clock,
) -> None:
    speaker = entity_id(entity_registry, "media_player", HOME_IPC_ID, "speaker")
    connectivity = entity_id(entity_registry, "binary_sensor", HOME_IPC_ID, "connectivity")
    assert hass.states.get(connectivity).state == STATE_ON
    emulator.state.set_status(SPACE_HOME_ID, HOME_IPC_ID, "offline")
    await clock.tick()
    assert hass.states.get(speaker).state == STATE_UNAVAILABLE
    assert hass.states.get(connectivity).state == STATE_OFF
    emulator.state.set_status(SPACE_HOME_ID, HOME_IPC_ID, "online")
    await clock.tick()
    assert hass.states.get(speaker).state == "idle"
    assert hass.states.get(connectivity).state == STATE_ON


async def test_update_failure_makes_entities_unavailable(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    clock: Clock,
) -> None:
    connectivity = entity_id(entity_registry, "binary_sensor", HOME_IPC_ID, "connectivity")
    emulator.faults.add("ListDevices", code="ServiceBusy", status=500, times=20)
    await clock.tick()
    assert hass.states.get(connectivity).state == STATE_UNAVAILABLE
    emulator.faults.clear()
    await clock.tick()
    assert hass.states.get(connectivity).state == STATE_ON


async def test_throttling_backs_off(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    clock: Clock,
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    emulator.faults.add("ListDevices", code="FlowLimitExceeded", status=429, times=20)
    await clock.tick()
    assert not coordinator.last_update_success
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "throttled"  # type: ignore[attr-defined]


async def test_auth_failure_later_starts_reauth(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    clock: Clock,
) -> None:
    emulator.faults.add("ListDevices", code="InvalidAccessKey", status=401, times=20)
    await clock.tick()
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_permission_error_later_is_a_repair_issue_not_reauth(
    hass: HomeAssistant,
    emulator: Emulator,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    clock: Clock,
) -> None:
    """A key whose policy lost ListDevices: a repair issue naming it, no reauth loop."""
    coordinator = init_integration.runtime_data.coordinator
    issue_id = f"missing_permission_{init_integration.entry_id}"
    emulator.deny("ListDevices")
    await clock.tick()
    assert not coordinator.last_update_success
    assert coordinator.last_exception.translation_key == "no_permission"  # type: ignore[union-attr]
    assert hass.config_entries.flow.async_progress() == []  # no reauth
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "missing_permission"
    assert issue.translation_placeholders == {"space": "home", "permission": "ListDevices"}

    emulator.allow("ListDevices")
    await clock.tick()
    assert coordinator.last_update_success
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
