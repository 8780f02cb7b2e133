"""The push-to-talk dashboard card: served from the integration folder, loaded by the frontend."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .const import DOMAIN

CARD_FILE: Final = Path(__file__).parent / "frontend" / "volcengine-aiot-talk-card.js"
CARD_URL: Final = f"/{DOMAIN}/volcengine-aiot-talk-card.js"


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card's JS and add it to every dashboard (no manual resource needed)."""
    content = await hass.async_add_executor_job(CARD_FILE.read_bytes)
    version = hashlib.sha256(content).hexdigest()[:12]  # a new file is a new URL for browsers
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), cache_headers=False)]
    )
    if "frontend" in hass.config.components:  # a headless install has no dashboards
        add_extra_js_url(hass, f"{CARD_URL}?v={version}")
