"""What the speakers of an entry share: talk options, volumes kept in a Store, the gain formula.

Every camera gets one ``Speaker`` from the runtime (``runtime.py``) when the entry is set up
(and when it appears later), built from the coordinator's data and these options, closed on
unload. The media player, the announce-only satellite, the test-tone button and push-to-talk are
views of it: disabling one of them changes nothing for the others. The volume (set on the media
player) is stored per entry, so it applies after a restart even while the media player is
disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import CONF_GAIN_DB, DEFAULT_GAIN_DB, DOMAIN

STORAGE_VERSION: Final = 1
VOLUME_SAVE_DELAY: Final = 1.0  # seconds: a slider moved quickly is written once


def gain_factor(gain_db: float) -> float:
    """Return the linear factor of a gain in dB."""
    return float(10 ** (gain_db / 20))


def volume_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, float]]:
    """Return the Store of an entry's speaker volumes (device ID -> 0..1)."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.volumes")


def _clamp(volume: float) -> float:
    return min(1.0, max(0.0, float(volume)))


class SpeakerVolumes:
    """The volume of every speaker of an entry (1.0 until set), saved across restarts."""

    def __init__(self, store: Store[dict[str, float]], volumes: dict[str, float]) -> None:
        """Initialize from what was stored."""
        self._store = store
        self._volumes = volumes
        self._dirty = False

    @classmethod
    async def async_load(cls, hass: HomeAssistant, entry_id: str) -> SpeakerVolumes:
        """Load the stored volumes of an entry (none stored: every volume is 1.0)."""
        store = volume_store(hass, entry_id)
        stored = await store.async_load()
        volumes = (
            {
                device_id: _clamp(volume)
                for device_id, volume in stored.items()
                if isinstance(volume, int | float)
            }
            if isinstance(stored, dict)
            else {}
        )
        return cls(store, volumes)

    def __contains__(self, device_id: object) -> bool:
        """Return whether a volume was set for a camera."""
        return device_id in self._volumes

    def get(self, device_id: str) -> float:
        """Return a camera's volume (0..1)."""
        return self._volumes.get(device_id, 1.0)

    @callback
    def set(self, device_id: str, volume: float) -> None:
        """Set a camera's volume (clamped to 0..1) and save it shortly."""
        self._volumes[device_id] = _clamp(volume)
        self._dirty = True
        self._store.async_delay_save(self._data, VOLUME_SAVE_DELAY)

    def _data(self) -> dict[str, float]:
        self._dirty = False
        return dict(self._volumes)

    async def async_save(self) -> None:
        """Write a volume not saved yet now (unload: the entry may be set up again at once)."""
        if self._dirty:
            await self._store.async_save(self._data())

    def gain(self, options: Mapping[str, Any], device_id: str, extra_db: float = 0.0) -> float:
        """Return the factor a camera's audio is multiplied by: the one gain formula.

        Volume x 10^((output gain option + per-call gain) / 20).
        """
        options_db = float(options.get(CONF_GAIN_DB, DEFAULT_GAIN_DB))
        return self.get(device_id) * gain_factor(options_db + extra_db)
