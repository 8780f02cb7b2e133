"""Shared fixtures for the Volcengine AIoT Video tests."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "pytest_homeassistant_custom_component",
    "tests.emulator.pytest_plugin",
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/ in every test."""
