"""A "Play test tone" button per camera: what to press first after setup (diagnostic)."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import VolcengineCoordinator
from .entity import VolcengineTalkEntity, async_add_device_entities
from .playing import async_play, unavailable
from .runtime import VolcengineConfigEntry
from .talk.tone import tone_source

PARALLEL_UPDATES = 0

TEST_TONE = ButtonEntityDescription(
    key="test_tone",
    translation_key="test_tone",
    entity_category=EntityCategory.DIAGNOSTIC,
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
