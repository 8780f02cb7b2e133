"""A select of the presets of every channel that can move: selecting one drives the camera there.

The options are the preset names the platform reports (QueryPresetInfo), "Preset N" for a
preset without a name. They are read when the entity is added (again at each device list while
that has not succeeded yet, e.g. the camera was offline), after every preset set or removed
through this integration, and when the channel's "Refresh presets" button is pressed:
QueryPresetInfo asks the camera over GB/T 28181 (slow, it may time out), and presets only
change when someone sets or removes one, so they are not polled.
"""

from __future__ import annotations

import asyncio

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Preset, PresetCommand, Stream, VolcengineError
from .const import DOMAIN, LOGGER
from .entity import VolcenginePtzEntity, async_add_ptz_entities, async_wait_for_ptz_entities
from .ptz import PtzChannel, PtzError
from .ptz_control import async_ptz_call
from .runtime import VolcengineConfigEntry

PARALLEL_UPDATES = 0

PTZ_PRESET = SelectEntityDescription(key="ptz_preset", translation_key="ptz_preset")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a preset select for every channel that may move, now and for new devices."""

    def create(
        device_id: str,
        channel: Stream,
        ptz: PtzChannel,
        single: bool,  # noqa: FBT001
    ) -> list[VolcenginePtzEntity]:
        return [VolcenginePresetSelect(entry, device_id, channel, ptz, single=single)]

    await async_wait_for_ptz_entities(
        async_add_ptz_entities(hass, entry, async_add_entities, create)
    )


def preset_options(presets: tuple[Preset, ...]) -> dict[str, int]:
    """Return the option of every preset (its name, "Preset N" unnamed), unique, in order."""
    names = [p.name or f"Preset {p.preset_id}" for p in presets]
    options: dict[str, int] = {}
    for preset, name in zip(presets, names, strict=True):
        option = name if names.count(name) == 1 else f"{name} ({preset.preset_id})"
        options[option] = preset.preset_id
    return options


class VolcenginePresetSelect(VolcenginePtzEntity, SelectEntity):
    """The presets of a channel; selecting one drives the camera to it (no current option)."""

    _attr_current_option = None

    def __init__(
        self,
        entry: VolcengineConfigEntry,
        device_id: str,
        channel: Stream,
        ptz: PtzChannel,
        *,
        single: bool,
    ) -> None:
        """Initialize the select of a channel's presets."""
        super().__init__(entry, PTZ_PRESET, device_id, channel, ptz, single=single)
        self._options: dict[str, int] = preset_options(ptz.presets)
        self._read = False  # the presets were read once (by any caller)
        self._reading: asyncio.Task[None] | None = None

    @property
    def options(self) -> list[str]:
        """Return the presets' names."""
        return list(self._options)

    async def async_added_to_hass(self) -> None:
        """Follow the channel's presets and read them once now (in the background)."""
        await super().async_added_to_hass()
        self.async_on_remove(self.ptz.add_listener(self._presets_read))
        self._start_first_read()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Try the first read again once the device is online (it failed or was not done)."""
        if not self._read and self._reading is None and self.available:
            self._start_first_read()
        super()._handle_coordinator_update()

    @callback
    def _start_first_read(self) -> None:
        self._reading = self.entry.async_create_background_task(
            self.hass, self._async_first_read(), f"volcengine_aiot presets of {self.entity_id}"
        )

    async def _async_first_read(self) -> None:
        try:
            await self.ptz.refresh_presets()
        except (VolcengineError, PtzError) as err:
            LOGGER.debug("Presets of %s not read: %s", self.entity_id, err)
        finally:
            self._reading = None

    @callback
    def _presets_read(self) -> None:
        self._read = True
        self._options = preset_options(self.ptz.presets)
        self.async_write_ha_state()

    async def async_select_option(self, option: str) -> None:
        """Drive the camera to the preset."""
        preset = self._options.get(option)
        if preset is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="ptz_preset_unknown",
                translation_placeholders={"camera": self.camera_name, "option": option},
            )
        await async_ptz_call(self.ptz.preset(PresetCommand.GOTO, preset), self.camera_name, preset)
