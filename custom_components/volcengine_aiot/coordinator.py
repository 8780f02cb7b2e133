"""Discovery of the space's devices: one coordinator per config entry."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    Device,
    VolcengineAuthError,
    VolcengineClient,
    VolcengineClockSkewError,
    VolcengineError,
    VolcenginePermissionError,
    VolcengineThrottledError,
)
from .const import CONF_SPACE_ID, DOMAIN, LOGGER, SCAN_INTERVAL

THROTTLED_RETRY_AFTER = 60
STALE_AFTER = 2  # device lists in a row a device must be missing from before it is removed
ISSUE_CLOCK_SKEW = "clock_skew"
ISSUE_MISSING_PERMISSION = "missing_permission"


def permission_issue_id(entry: ConfigEntry) -> str:
    """Return the ID of the entry's "missing permission" repair issue."""
    return f"{ISSUE_MISSING_PERMISSION}_{entry.entry_id}"


@callback
def async_create_clock_skew_issue(hass: HomeAssistant) -> None:
    """Ask the user to fix the host's clock: one issue, whichever call found the skew."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        ISSUE_CLOCK_SKEW,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_CLOCK_SKEW,
    )


class VolcengineCoordinator(DataUpdateCoordinator[dict[str, Device]]):
    """Lists every device of the space (all pages) on an interval."""

    config_entry: ConfigEntry[Any]

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], client: VolcengineClient
    ) -> None:
        """Initialize the coordinator."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=SCAN_INTERVAL,
            always_update=False,
        )
        self.client = client
        self.space_id: str = entry.data[CONF_SPACE_ID]
        self._missing: dict[str, int] = {}  # device ID -> device lists it was missing from

    async def _async_update_data(self) -> dict[str, Device]:
        """Fetch the devices and drop the ones that left the space."""
        try:
            devices = await self.client.list_devices(self.space_id)
        except VolcengineAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except VolcenginePermissionError as err:
            # The key itself works (a new key would be accepted by reauth and fail again):
            # the user's policy lacks an action, so tell which one and keep retrying.
            placeholders = {"space": self.config_entry.title, "permission": "ListDevices"}
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                permission_issue_id(self.config_entry),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_MISSING_PERMISSION,
                translation_placeholders=placeholders,
            )
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="no_permission",
                translation_placeholders=placeholders,
            ) from err
        except VolcengineClockSkewError as err:
            async_create_clock_skew_issue(self.hass)
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="clock_skew") from err
        except VolcengineThrottledError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="throttled",
                retry_after=THROTTLED_RETRY_AFTER,
            ) from err
        except VolcengineError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        ir.async_delete_issue(self.hass, DOMAIN, ISSUE_CLOCK_SKEW)
        ir.async_delete_issue(self.hass, DOMAIN, permission_issue_id(self.config_entry))
        data = {device.device_id: device for device in devices}
        self._remove_stale_devices(data)
        return data

    @property
    def device_ids(self) -> set[str]:
        """Return the devices that have entities: the listed ones and those kept while missing."""
        return set(self.data) | set(self._missing)

    def _remove_stale_devices(self, data: dict[str, Device]) -> None:
        """Remove registry devices of cameras that are no longer in the space.

        A device is removed once it is missing from ``STALE_AFTER`` device lists in a row, so one
        incomplete answer cannot wipe devices (and the user's names and areas for them).
        """
        registry = dr.async_get(self.hass)
        missing: dict[str, int] = {}
        for entry in dr.async_entries_for_config_entry(registry, self.config_entry.entry_id):
            device_ids = {ident for domain, ident in entry.identifiers if domain == DOMAIN}
            if not device_ids or device_ids & (set(data) | {self.space_id}):
                continue
            device_id = min(device_ids)
            missing[device_id] = self._missing.get(device_id, 0) + 1
            if missing[device_id] >= STALE_AFTER:
                LOGGER.debug("Removing device %s: it left the space", entry.name)
                registry.async_remove_device(entry.id)
                del missing[device_id]
        self._missing = missing
