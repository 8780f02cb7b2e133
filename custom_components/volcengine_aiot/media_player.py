"""Each camera's speaker: a media player that talks through StartVoiceTalk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homeassistant.components import media_source
from homeassistant.components.media_player import (
    ATTR_MEDIA_ANNOUNCE,
    ATTR_MEDIA_ENQUEUE,
    ATTR_MEDIA_VOLUME_LEVEL,
    BrowseMedia,
    MediaPlayerDeviceClass,
    MediaPlayerEnqueue,
    MediaPlayerEntity,
    MediaPlayerEntityDescription,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util import dt as dt_util

from . import compat
from .coordinator import VolcengineCoordinator
from .entity import VolcengineTalkEntity, async_add_device_entities
from .media import async_resolve_source
from .playing import async_play, async_play_audio, unavailable
from .runtime import VolcengineConfigEntry
from .talk import AudioSource, PlayResult, Speaker

PARALLEL_UPDATES = 0

SPEAKER = MediaPlayerEntityDescription(
    key="speaker",
    translation_key="speaker",
    device_class=MediaPlayerDeviceClass.SPEAKER,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a speaker for every device, now and whenever new ones appear."""
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda device_id: (
            VolcengineSpeakerEntity(entry.runtime_data.coordinator, device_id, entry),
        ),
    )


def _seconds(duration: float) -> int:
    """Return a duration in whole seconds for the progress bar (at least 1)."""
    return max(1, round(duration))


class VolcengineSpeakerEntity(VolcengineTalkEntity, MediaPlayerEntity, RestoreEntity):
    """The speaker of a camera."""

    _attr_media_content_type = MediaType.MUSIC
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY_MEDIA
        | MediaPlayerEntityFeature.STOP
        | MediaPlayerEntityFeature.BROWSE_MEDIA
        | MediaPlayerEntityFeature.MEDIA_ANNOUNCE
        | MediaPlayerEntityFeature.MEDIA_ENQUEUE
        | MediaPlayerEntityFeature.VOLUME_SET
        | MediaPlayerEntityFeature.VOLUME_STEP
    )
    _attr_volume_step = 0.1

    def __init__(
        self, coordinator: VolcengineCoordinator, device_id: str, entry: VolcengineConfigEntry
    ) -> None:
        """Initialize the speaker."""
        super().__init__(coordinator, SPEAKER, device_id, entry)
        self._speaker: Speaker | None = None
        self._shown: AudioSource | None = None  # the source the progress is about

    @property
    def state(self) -> MediaPlayerState:
        """Return playing while talking, idle otherwise."""
        if self._speaker is not None and self._speaker.is_playing:
            return MediaPlayerState.PLAYING
        return MediaPlayerState.IDLE

    @property
    def media_title(self) -> str | None:
        """Return what is playing."""
        if self._speaker is None or (current := self._speaker.current) is None:
            return None
        return current.label or None

    @property
    def volume_level(self) -> float:
        """Return the camera's volume (kept by the integration, not in this entity's state)."""
        return self._entry.runtime_data.volumes.get(self.device_id)

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Apply a new entity ID in place: nothing here is keyed on it."""
        compat.entity_id_changed(super(), old_entity_id)

    async def async_added_to_hass(self) -> None:
        """Show the camera's speaker; take over a volume only this entity's state still has."""
        await super().async_added_to_hass()
        volumes = self._entry.runtime_data.volumes
        if (
            self.device_id not in volumes
            and (last := await self.async_get_last_state()) is not None
            and isinstance(volume := last.attributes.get(ATTR_MEDIA_VOLUME_LEVEL), int | float)
        ):
            volumes.set(self.device_id, volume)
        self._speaker = self._entry.runtime_data.speakers.get(self.device_id)
        if self._speaker is not None:
            self.async_on_remove(self._speaker.add_listener(self._on_speaker_change))

    async def async_will_remove_from_hass(self) -> None:
        """Stop following the speaker (it keeps playing for the camera's other views)."""
        self._speaker = None
        await super().async_will_remove_from_hass()

    @callback
    def _on_speaker_change(self) -> None:
        if self.hass is not None and self._speaker is not None:
            self._track_progress(self._speaker.current, self._speaker.current_duration)
            self.async_write_ha_state()

    @callback
    def _track_progress(self, source: AudioSource | None, duration: float | None) -> None:
        """Start the progress of a new source at 0; show its duration once the speaker knows it.

        The speaker knows it at once for a cached sound, once all of a TTS result has arrived,
        and once ffmpeg has described a local file.
        """
        if source is not None and source is self._shown:
            if duration is not None and self._attr_media_duration is None:
                self._attr_media_duration = _seconds(duration)
            return
        self._shown = source
        self._attr_media_duration = None
        if source is None:
            self._attr_media_position = self._attr_media_position_updated_at = None
            return
        self._attr_media_position = 0
        self._attr_media_position_updated_at = dt_util.utcnow()
        if duration is not None:
            self._attr_media_duration = _seconds(duration)

    async def async_set_volume_level(self, volume: float) -> None:
        """Set the software gain (0..1, 1 = unchanged)."""
        self._entry.runtime_data.volumes.set(self.device_id, volume)
        self.async_write_ha_state()

    async def async_media_stop(self) -> None:
        """Stop talking and clear the queue."""
        if self._speaker is not None:
            await self._speaker.stop()

    async def async_browse_media(
        self, media_content_type: MediaType | str | None = None, media_content_id: str | None = None
    ) -> BrowseMedia:
        """Browse audio media sources (TTS, local media...)."""
        return await media_source.async_browse_media(
            self.hass,
            media_content_id,
            content_filter=lambda item: item.media_content_type.startswith("audio/"),
        )

    async def async_play_media(
        self, media_type: MediaType | str, media_id: str, **kwargs: Any
    ) -> None:
        """Play a media-source ID or URL; returns when it has been played."""
        enqueue = kwargs.get(ATTR_MEDIA_ENQUEUE) in (
            MediaPlayerEnqueue.ADD,
            MediaPlayerEnqueue.NEXT,
        )
        # An announcement (tts.speak) plays at once; what was queued plays after it.
        announce = kwargs.get(ATTR_MEDIA_ANNOUNCE) is True
        source = await async_resolve_source(self.hass, media_id, self.entity_id, self._gain())
        await self._async_play([source], enqueue=enqueue, announce=announce)

    async def async_play_audio(
        self,
        media: str,
        gain_db: float | None = None,
        chime: bool = False,  # noqa: FBT001, FBT002 - service call data
        enqueue: bool = False,  # noqa: FBT001, FBT002 - service call data
    ) -> dict[str, Any]:
        """Play audio (optionally after the chime) and return how long was played."""
        return await async_play_audio(
            self.hass,
            self._entry,
            self.device_id,
            entity_id=self.entity_id,
            media=media,
            gain_db=gain_db,
            chime=chime,
            enqueue=enqueue,
        )

    def _gain(self, extra_db: float = 0.0) -> float:
        return self._entry.runtime_data.volumes.gain(self._entry.options, self.device_id, extra_db)

    async def _async_play(
        self, sources: Sequence[AudioSource], *, enqueue: bool, announce: bool = False
    ) -> PlayResult:
        """Play through the speaker, turning every failure into a translated error."""
        if self._speaker is None or not self.available:
            raise unavailable(self.device_name)
        return await async_play(
            self.hass,
            self._entry,
            self._speaker,
            sources,
            name=self.device_name,
            entity_id=self.entity_id,
            device_id=self.device_id,
            enqueue=enqueue,
            announce=announce,
        )
