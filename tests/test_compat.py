"""The version-dependent calls: both forms of each, whichever release runs the suite."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.volcengine_aiot import compat
from custom_components.volcengine_aiot.const import DOMAIN


@pytest.mark.parametrize("has_via_device_id", [True, False])
def test_via_device(monkeypatch: pytest.MonkeyPatch, has_via_device_id: bool) -> None:
    monkeypatch.setattr(compat, "HAS_VIA_DEVICE_ID", has_via_device_id)
    link = compat.via_device("hub-device-id", (DOMAIN, "space"))
    if has_via_device_id:
        assert link == {"via_device_id": "hub-device-id"}
    else:
        assert link == {"via_device": (DOMAIN, "space")}


def test_via_device_matches_the_running_release(hass: HomeAssistant) -> None:
    """The detected form is the one the running release's device registry accepts."""
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    hub = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "hub")}
    )
    camera = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, "camera")},
        **compat.via_device(hub.id, (DOMAIN, "hub")),
    )
    assert camera.via_device_id == hub.id


@pytest.mark.parametrize("has_by_identifier", [True, False])
def test_get_device_by_identifier(
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    has_by_identifier: bool,
) -> None:
    if has_by_identifier and not compat.HAS_GET_DEVICE_BY_IDENTIFIER:
        pytest.skip("this release has only async_get_device")
    deprecated_fallback = compat.HAS_GET_DEVICE_BY_IDENTIFIER and not has_by_identifier
    monkeypatch.setattr(compat, "HAS_GET_DEVICE_BY_IDENTIFIER", has_by_identifier)
    mine = MockConfigEntry(domain=DOMAIN)
    other = MockConfigEntry(domain=DOMAIN)
    mine.add_to_hass(hass)
    other.add_to_hass(hass)
    registry = dr.async_get(hass)
    device = registry.async_get_or_create(
        config_entry_id=mine.entry_id, identifiers={(DOMAIN, "camera")}
    )
    assert compat.async_get_device_by_identifier(registry, (DOMAIN, "camera"), mine.entry_id) == (
        device
    )
    assert compat.async_get_device_by_identifier(registry, (DOMAIN, "camera"), other.entry_id) is (
        None
    )
    assert compat.async_get_device_by_identifier(registry, (DOMAIN, "none"), mine.entry_id) is None
    if deprecated_fallback:
        # Why the new form is preferred where it exists: the old one is reported there.
        assert "`device_registry.async_get_device`, which is deprecated" in caplog.text
        caplog.clear()
