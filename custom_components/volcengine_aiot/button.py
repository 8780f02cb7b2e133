"""Buttons: "Play test tone" per camera, and the common PTZ moves per channel that can move.

The test tone is what to press first after setup (diagnostic). A PTZ move button runs a short
timed move (``BUTTON_MOVE_DURATION``) that ends in a stop, like the ``ptz`` action with its
defaults; the stop button stops at once. The move buttons are disabled by default (as Reolink
does); "Refresh presets" reads the channel's presets again for its preset select.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import PtzCommand, Stream
from .coordinator import VolcengineCoordinator
from .entity import (
    VolcenginePtzEntity,
    VolcengineTalkEntity,
    async_add_device_entities,
    async_add_ptz_entities,
    async_wait_for_ptz_entities,
)
from .playing import async_play, unavailable
from .ptz import PtzChannel, default_speed
from .ptz_control import async_ptz_call
from .runtime import VolcengineConfigEntry
from .talk.tone import tone_source

PARALLEL_UPDATES = 0

TEST_TONE = ButtonEntityDescription(
    key="test_tone",
    translation_key="test_tone",
    entity_category=EntityCategory.DIAGNOSTIC,
)

BUTTON_MOVE_DURATION: Final = 0.5  # seconds a move button moves before its stop


@dataclass(frozen=True, kw_only=True)
class PtzButtonEntityDescription(ButtonEntityDescription):
    """A PTZ button: the command it sends (``stop``: stop now; None: refresh the presets)."""

    command: PtzCommand | None


PTZ_BUTTONS: Final = (
    *(
        PtzButtonEntityDescription(
            key=key, translation_key=key, command=command, entity_registry_enabled_default=False
        )
        for key, command in (
            ("ptz_up", PtzCommand.UP),
            ("ptz_down", PtzCommand.DOWN),
            ("ptz_left", PtzCommand.LEFT),
            ("ptz_right", PtzCommand.RIGHT),
            ("ptz_zoom_in", PtzCommand.ZOOM_IN),
            ("ptz_zoom_out", PtzCommand.ZOOM_OUT),
            ("ptz_stop", PtzCommand.STOP),
        )
    ),
    PtzButtonEntityDescription(
        key="ptz_refresh_presets",
        translation_key="ptz_refresh_presets",
        command=None,
        entity_category=EntityCategory.CONFIG,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a test-tone button for every device, now and whenever new ones appear."""
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda device_id: (
            VolcengineTestToneButton(entry.runtime_data.coordinator, device_id, entry),
        ),
    )

    def create(
        device_id: str,
        channel: Stream,
        ptz: PtzChannel,
        single: bool,  # noqa: FBT001
    ) -> list[VolcenginePtzEntity]:
        return [
            VolcenginePtzButton(entry, description, device_id, channel, ptz, single=single)
            for description in PTZ_BUTTONS
        ]

    await async_wait_for_ptz_entities(
        async_add_ptz_entities(hass, entry, async_add_entities, create)
    )


class VolcengineTestToneButton(VolcengineTalkEntity, ButtonEntity):
    """Plays a 2 s 1 kHz tone on the camera through the normal talk pipeline."""

    def __init__(
        self, coordinator: VolcengineCoordinator, device_id: str, entry: VolcengineConfigEntry
    ) -> None:
        """Initialize the button."""
        super().__init__(coordinator, TEST_TONE, device_id, entry)

    async def async_press(self) -> None:
        """Play the tone; returns when it has been played, raises the playback's errors."""
        name = self.device_name
        speaker = self._entry.runtime_data.speakers.get(self.device_id)
        if speaker is None or not self.available:
            raise unavailable(name)
        gain = self._entry.runtime_data.volumes.gain(self._entry.options, self.device_id)
        await async_play(
            self.hass,
            self._entry,
            speaker,
            [tone_source(gain)],
            name=name,
            entity_id=self.entity_id,
            device_id=self.device_id,
        )


class VolcenginePtzButton(VolcenginePtzEntity, ButtonEntity):
    """A short PTZ move that ends in a stop, a stop, or a re-read of the presets."""

    entity_description: PtzButtonEntityDescription

    def __init__(
        self,
        entry: VolcengineConfigEntry,
        description: PtzButtonEntityDescription,
        device_id: str,
        channel: Stream,
        ptz: PtzChannel,
        *,
        single: bool,
    ) -> None:
        """Initialize a PTZ button of a channel."""
        super().__init__(entry, description, device_id, channel, ptz, single=single)

    async def async_press(self) -> None:
        """Move for ``BUTTON_MOVE_DURATION`` and stop, stop now, or read the presets."""
        command = self.entity_description.command
        if command is None:
            await async_ptz_call(self.ptz.refresh_presets(), self.camera_name)
        elif command is PtzCommand.STOP:
            await async_ptz_call(self.ptz.stop(), self.camera_name)
        else:
            move = self.ptz.move(command, default_speed(command), BUTTON_MOVE_DURATION)
            await async_ptz_call(move, self.camera_name)
