"""Connectivity binary sensors (snapshot)."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.volcengine_aiot import PLATFORMS
from tests.entities import entities_of


@pytest.fixture
def platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("custom_components.volcengine_aiot.PLATFORMS", [Platform.BINARY_SENSOR])


async def test_entities(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    assert Platform.BINARY_SENSOR in PLATFORMS
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert entities_of(hass, mock_config_entry.entry_id) == snapshot
