"""Service actions of the Volcengine AIoT Video integration (stub; the speaker work fills it in)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's service actions."""
