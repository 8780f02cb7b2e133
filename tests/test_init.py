"""Setup, unload, retry and reauth of a config entry."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.volcengine_aiot.compat import async_get_device_by_identifier
from custom_components.volcengine_aiot.const import DOMAIN
from tests.emulator.app import Emulator
from tests.emulator.data import SPACE_HOME_ID


async def test_setup_and_unload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    hub = async_get_device_by_identifier(device_registry, (DOMAIN, SPACE_HOME_ID), entry.entry_id)
    assert hub is not None
    assert hub.entry_type is dr.DeviceEntryType.SERVICE
    cameras = [
        device
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        if device.id != hub.id
    ]
    assert cameras
    assert all(device.via_device_id == hub.id for device in cameras)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize(
    "fault",
    [
        {"code": "ServiceBusy", "status": 500, "times": 10},
        {"code": "InternalError", "status": 500},
        {"body": b"<html>bad gateway</html>", "status": 502, "times": 10},
        {"code": "FlowLimitExceeded", "status": 429, "times": 10},
    ],
)
async def test_setup_retry(
    hass: HomeAssistant,
    emulator: Emulator,
    mock_config_entry: MockConfigEntry,
    fault: dict[str, object],
) -> None:
    emulator.faults.add("ListDevices", **fault)  # type: ignore[arg-type]
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_auth_failure_starts_reauth(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    emulator.faults.add("ListDevices", code="InvalidAccessKey", status=401)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_clock_skew_raises_a_repair_issue(
    hass: HomeAssistant,
    emulator: Emulator,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    emulator.clock_offset = -3600
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert issue_registry.async_get_issue(DOMAIN, "clock_skew") is not None

    emulator.clock_offset = 0
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, "clock_skew") is None


async def test_setup_permission_error_is_a_repair_issue(
    hass: HomeAssistant,
    emulator: Emulator,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A missing permission is not an authentication failure: retry, tell which one."""
    emulator.deny("ListDevices")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert hass.config_entries.flow.async_progress() == []
    issue_id = f"missing_permission_{mock_config_entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    assert await hass.config_entries.async_remove(mock_config_entry.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize(
    ("data", "state", "flows"),
    [
        ({"endpoint": "http://user:password@127.0.0.1"}, ConfigEntryState.SETUP_ERROR, []),
        ({"region": "cn-north-1\n"}, ConfigEntryState.SETUP_ERROR, []),
        ({"access_key_id": "AK\r\nX: 1"}, ConfigEntryState.SETUP_ERROR, [SOURCE_REAUTH]),
    ],
)
async def test_stored_settings_the_client_refuses(
    hass: HomeAssistant,
    emulator: Emulator,
    entry_data: dict[str, object],
    data: dict[str, object],
    state: ConfigEntryState,
    flows: list[str],
) -> None:
    """Entry data from before the validation existed fails setup cleanly, sending nothing."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=SPACE_HOME_ID, data={**entry_data, **data})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is state
    assert [f["context"]["source"] for f in hass.config_entries.flow.async_progress()] == flows
    assert emulator.requests == []
