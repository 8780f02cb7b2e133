"""Each camera as an announce-only Assist satellite: voice broadcasts reach its speaker.

Assist sends announcements (the ``HassBroadcast`` intent, ``assist_satellite.announce``) to
Assist satellite entities only. A camera has a speaker and no microphone input here: the
entity announces (pre-announce sound, then the message) through the camera's ``Speaker`` (owned
by the runtime: the media player may be disabled) and offers nothing else (no wake words, no
pipeline runs).

It is disabled by default: a broadcast reaches every satellite, and an outdoor camera must not
speak indoor messages into the street unless the user opted it in.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.components import assist_satellite, tts
from homeassistant.components.assist_pipeline import PipelineEvent
from homeassistant.components.assist_satellite import (
    AssistSatelliteAnnouncement,
    AssistSatelliteConfiguration,
    AssistSatelliteEntity,
    AssistSatelliteEntityDescription,
    AssistSatelliteEntityFeature,
)
from homeassistant.components.assist_satellite.const import PREANNOUNCE_FILENAME, PREANNOUNCE_URL
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
import yarl

from .const import DOMAIN
from .coordinator import VolcengineCoordinator
from .entity import VolcengineTalkEntity, async_add_device_entities
from .media import async_file_source, async_resolve_source, media_label, tts_cache_key
from .playing import async_play, unavailable
from .runtime import VolcengineConfigEntry
from .talk import AudioSource

PARALLEL_UPDATES = 0

ANNOUNCER = AssistSatelliteEntityDescription(
    key="announcer",
    translation_key="announcer",
    entity_registry_enabled_default=False,
)
# Home Assistant's default pre-announce sound, played from its file instead of over HTTP.
PREANNOUNCE_PATH = Path(assist_satellite.__file__).parent / PREANNOUNCE_FILENAME
NO_WAKE_WORDS = AssistSatelliteConfiguration(
    available_wake_words=[], active_wake_words=[], max_active_wake_words=0
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an announcer for every device, now and whenever new ones appear."""
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda device_id: (
            VolcengineAnnouncerEntity(entry.runtime_data.coordinator, device_id, entry),
        ),
    )


class VolcengineAnnouncerEntity(VolcengineTalkEntity, AssistSatelliteEntity):
    """The camera as an Assist satellite that can only announce."""

    entity_description: AssistSatelliteEntityDescription
    _attr_supported_features = AssistSatelliteEntityFeature.ANNOUNCE

    def __init__(
        self, coordinator: VolcengineCoordinator, device_id: str, entry: VolcengineConfigEntry
    ) -> None:
        """Initialize the announcer."""
        super().__init__(coordinator, ANNOUNCER, device_id, entry)

    @callback
    def async_get_configuration(self) -> AssistSatelliteConfiguration:
        """Return the wake-word configuration: none, the camera listens to nothing."""
        return NO_WAKE_WORDS

    async def async_set_configuration(self, config: AssistSatelliteConfiguration) -> None:
        """Refuse wake words: the camera only announces."""
        if config.active_wake_words:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_wake_words")

    def on_pipeline_event(self, event: PipelineEvent) -> None:
        """Never called: no voice pipeline runs from this satellite."""

    async def async_announce(self, announcement: AssistSatelliteAnnouncement) -> None:
        """Play the pre-announce sound and the announcement; return once played."""
        name = self.device_name
        speaker = self._entry.runtime_data.speakers.get(self.device_id)
        if speaker is None or not self.available:
            raise unavailable(name)
        gain = self._entry.runtime_data.volumes.gain(self._entry.options, self.device_id)
        sources: list[AudioSource] = []
        if announcement.preannounce_media_id:
            sources.append(await self._preannounce_source(announcement.preannounce_media_id, gain))
        sources.append(await self._announcement_source(announcement, gain))
        await async_play(
            self.hass,
            self._entry,
            speaker,
            sources,
            name=name,
            entity_id=self.entity_id,
            device_id=self.device_id,
            announce=True,
        )

    async def _preannounce_source(self, media_id: str, gain: float) -> AudioSource:
        """Home Assistant's chime from its file (cached), a custom one from its URL."""
        if yarl.URL(media_id).path == PREANNOUNCE_URL:
            return await async_file_source(str(PREANNOUNCE_PATH), gain, "pre-announce")
        return await async_resolve_source(self.hass, media_id, self.entity_id, gain)

    async def _announcement_source(
        self, announcement: AssistSatelliteAnnouncement, gain: float
    ) -> AudioSource:
        """Synthesised speech streamed in-process, a media source, or a URL."""
        if announcement.media_id_source == "tts" and (
            stream := _tts_stream(self.hass, announcement)
        ):
            return AudioSource(
                stream=stream.async_stream_result,
                gain=gain,
                label=announcement.message[:100] or media_label(announcement.original_media_id),
                key=announcement.original_media_id,
                cache_key=tts_cache_key(announcement.original_media_id),
            )
        if announcement.media_id_source == "media_id":
            # Resolved again for this entity: a local file is read directly (and cached).
            media_id = announcement.original_media_id
        else:
            media_id = announcement.media_id
        return await async_resolve_source(self.hass, media_id, self.entity_id, gain)


def _tts_stream(
    hass: HomeAssistant, announcement: AssistSatelliteAnnouncement
) -> tts.ResultStream | None:
    """Return the synthesis stream of an announcement, None when it is no longer available.

    ``tts_token`` and ``tts.async_get_stream`` are the same in Home Assistant 2026.3 to 2026.11.
    """
    token = announcement.tts_token
    return None if token is None else tts.async_get_stream(hass, token)
