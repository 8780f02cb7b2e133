"""Recordings in the media browser: Volcengine AIoT Video → space → camera → day → recordings.

One folder per loaded entry (space), one per video channel, one per day that has recordings
(newest first, in Home Assistant's time zone) and one item per merged recording (newest first,
titled with its start time and length, alarm recordings marked). A channel's recordings come
from the cloud when it has a cloud recording plan or cloud recordings, else from the device
(``RecordingLibrary.source``); the camera and day titles say which. Every folder costs at most
one listing (cached briefly, rate limited, retried when throttled: ``RecordingLibrary``).

Playing resolves the recording at play time, never from the browse result:

* A cloud recording plays through ``CloudRecordingView`` (``views.py``): an authenticated
  Home Assistant path that asks PlayCloudRecord for a fresh ``mp4`` URL at every request and
  relays the file. The signed URL (its ``X-JWT-Token``) therefore never reaches the browser,
  a cast device or the media player's state, is never stored and cannot be served expired.
  Resolving asks PlayCloudRecord once (and discards the URL) so that a missing recording plan or
  throttling is reported here, translated, instead of as a broken video.
* A device recording is pulled by Home Assistant's ``stream`` integration (StartPlayback's
  RTMP/FLV is not playable in a browser) and served as HLS, as Reolink's media source does;
  ``PlaybackStreams`` (``playback_streams.py``) always stops it (idle, new playback of the
  channel, device gone, unload).

Identifiers carry the entry ID, the StreamID and a day, a time range or a moment only
(``recording_ids.py``). A moment (``<entry>/<stream>/at/<time>``, the ``recording`` of an alarm
event, ``event.py``) plays the recording that covers it, an alarm recording first
(``RecordingLibrary.item_at``: the day's listing, cached), looked up when it is played; none
(yet) is ``recording_not_found``. Errors are raised translated, in Home Assistant's language
(the media browser shows the message as it is sent).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import override

from homeassistant.components.media_player import BrowseError, MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .api import (
    VolcengineDeviceUnreachableError,
    VolcengineError,
    VolcengineNotFoundError,
    VolcengineThrottledError,
)
from .api.errors import VolcengineNoRecordingPlanError, VolcengineRecordingInputError
from .api.recordings import RecordSource
from .const import DOMAIN, LOGGER
from .playback_streams import MIME_HLS, PlaybackClosedError, PlaybackUrlError
from .recording_ids import (
    SEPARATOR,
    RecordingChannel,
    entry_channels,
    find_channel,
    loaded_entries,
    loaded_entry,
    parse_day,
    parse_moment,
    parse_range,
    range_part,
)
from .runtime import VolcengineConfigEntry
from .views import recording_url

NAME = "Volcengine AIoT Video"
MIME_MP4 = "video/mp4"
TITLES = "recording_titles"  # the selector whose options hold the folder and item titles


async def async_get_media_source(hass: HomeAssistant) -> VolcengineMediaSource:
    """Return the media source of the integration's recordings."""
    return VolcengineMediaSource(hass)


def format_duration(length: timedelta) -> str:
    """Return a length as ``m:ss``, or ``h:mm:ss`` from an hour on."""
    seconds = max(0, round(length.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


class VolcengineMediaSource(MediaSource):
    """The recordings of the cameras of every loaded space."""

    name = NAME

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize the media source."""
        super().__init__(DOMAIN)
        self.hass = hass

    # --- translated texts ------------------------------------------------------------------

    async def _text(self, category: str, key: str, placeholders: dict[str, str]) -> str:
        """Return a text in Home Assistant's language (English when it has none)."""
        texts = await async_get_translations(
            self.hass, self.hass.config.language, category, {DOMAIN}
        )
        text = texts.get(f"component.{DOMAIN}.{category}.{key}", key)
        try:
            return text.format(**placeholders)
        except KeyError, IndexError, ValueError:
            return text

    async def _title(self, key: str, **placeholders: str) -> str:
        return await self._text("selector", f"{TITLES}.options.{key}", placeholders)

    async def _error[E: HomeAssistantError](self, cls: type[E], key: str, **placeholders: str) -> E:
        """Return an error with its text in Home Assistant's language (and its key)."""
        return cls(
            await self._text("exceptions", f"{key}.message", placeholders),
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        )

    async def _api_error[E: HomeAssistantError](
        self, cls: type[E], err: VolcengineError | PlaybackUrlError, channel: RecordingChannel
    ) -> E:
        camera = channel.title
        if isinstance(err, VolcengineRecordingInputError):
            return await self._error(cls, err.translation_key, camera=camera, **err.placeholders)
        if isinstance(err, VolcengineNoRecordingPlanError):
            return await self._error(cls, "recording_no_plan", camera=camera)
        if isinstance(err, VolcengineThrottledError):
            return await self._error(cls, "recording_throttled", camera=camera)
        if isinstance(err, VolcengineDeviceUnreachableError):
            return await self._error(cls, "recording_device_offline", camera=camera)
        if isinstance(err, VolcengineNotFoundError):
            return await self._error(cls, "recording_not_found", camera=camera)
        LOGGER.debug("Recordings of %s failed: %s", channel.stream_id, err)
        code = getattr(err, "code", None) or type(err).__name__
        return await self._error(cls, "recording_failed", camera=camera, error=str(code))

    # --- identifiers -------------------------------------------------------------------------

    async def _entry[E: HomeAssistantError](
        self, cls: type[E], entry_id: str
    ) -> VolcengineConfigEntry:
        if (entry := loaded_entry(self.hass, entry_id)) is None:
            raise await self._error(cls, "recording_unknown_space")
        return entry

    async def _channel[E: HomeAssistantError](
        self, cls: type[E], entry: VolcengineConfigEntry, stream_id: str
    ) -> RecordingChannel:
        if (channel := find_channel(entry, stream_id)) is None:
            raise await self._error(cls, "recording_unknown_camera")
        return channel

    # --- browse ------------------------------------------------------------------------------

    @override
    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Return the folder an identifier names."""
        if not item.identifier:
            return self._root()
        parts = item.identifier.split(SEPARATOR)
        entry = await self._entry(BrowseError, parts[0])
        if len(parts) == 1:
            return self._space(entry)
        channel = await self._channel(BrowseError, entry, parts[1])
        try:
            if len(parts) == 2:  # noqa: PLR2004
                return await self._camera(channel)
            if len(parts) == 3 and (day := parse_day(parts[2])) is not None:  # noqa: PLR2004
                return await self._day(channel, day)
        except VolcengineError as err:
            raise await self._api_error(BrowseError, err, channel) from err
        raise await self._error(BrowseError, "recording_unknown_item")

    def _folder(
        self, identifier: str | None, title: str, children: list[BrowseMediaSource]
    ) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=MediaClass.DIRECTORY,
            media_content_type=MediaType.PLAYLIST,
            title=title,
            can_play=False,
            can_expand=True,
            children=children,
            children_media_class=MediaClass.DIRECTORY,
        )

    def _root(self) -> BrowseMediaSource:
        root = self._folder(
            None, NAME, [self._folder(e.entry_id, e.title, []) for e in loaded_entries(self.hass)]
        )
        root.media_class = MediaClass.APP
        return root

    def _space(self, entry: VolcengineConfigEntry) -> BrowseMediaSource:
        cameras = [
            self._folder(SEPARATOR.join((entry.entry_id, c.stream_id)), c.title, [])
            for c in sorted(entry_channels(entry), key=lambda c: c.title.casefold())
        ]
        return self._folder(entry.entry_id, entry.title, cameras)

    @staticmethod
    def _tz() -> tzinfo:
        return dt_util.get_default_time_zone()

    async def _source(self, channel: RecordingChannel) -> RecordSource:
        """Return where a channel's recordings are listed from; a device must be online."""
        source = await channel.entry.runtime_data.recordings.source(channel.stream_id)
        if source is RecordSource.DEVICE and not channel.device.online:
            raise await self._error(BrowseError, "recording_device_offline", camera=channel.title)
        return source

    async def _camera(self, channel: RecordingChannel) -> BrowseMediaSource:
        library = channel.entry.runtime_data.recordings
        source = await self._source(channel)
        tz = self._tz()
        days = await library.days(channel.stream_id, tz=tz, today=dt_util.now(tz).date())
        base = SEPARATOR.join((channel.entry.entry_id, channel.stream_id))
        children = [
            self._folder(SEPARATOR.join((base, day.isoformat())), day.isoformat(), [])
            for day in days
        ]
        title = await self._title(
            "camera", camera=channel.title, source=await self._title(str(source))
        )
        return self._folder(base, title, children)

    async def _day(self, channel: RecordingChannel, day: date) -> BrowseMediaSource:
        library = channel.entry.runtime_data.recordings
        source = await self._source(channel)
        tz = self._tz()
        items = await library.day(channel.stream_id, day, tz=tz)
        base = SEPARATOR.join((channel.entry.entry_id, channel.stream_id))
        titles = {  # one lookup for the thousands of items of a busy day
            key: await self._title(key, start="{start}", duration="{duration}")
            for key in ("recording", "alarm_recording")
        }
        children = [
            BrowseMediaSource(
                domain=DOMAIN,
                identifier=SEPARATOR.join((base, item.identifier)),
                media_class=MediaClass.VIDEO,
                media_content_type=MIME_MP4 if source is RecordSource.CLOUD else MIME_HLS,
                title=titles["alarm_recording" if item.alarm else "recording"].format(
                    start=item.start.astimezone(tz).strftime("%H:%M:%S"),
                    duration=format_duration(item.duration),
                ),
                can_play=True,
                can_expand=False,
            )
            for item in items
        ]
        title = await self._title(
            "day",
            camera=channel.title,
            day=day.isoformat(),
            source=await self._title(str(source)),
        )
        folder = self._folder(SEPARATOR.join((base, day.isoformat())), title, children)
        folder.children_media_class = MediaClass.VIDEO
        return folder

    # --- play --------------------------------------------------------------------------------

    @override
    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return what plays a recording: resolved now, never from the browse result."""
        parts = (item.identifier or "").split(SEPARATOR)
        entry = await self._entry(Unresolvable, parts[0])
        target: tuple[datetime, datetime] | datetime | None = None  # a recording or a moment
        if len(parts) == 3:  # noqa: PLR2004
            target = parse_range(parts[2])
        elif len(parts) == 4:  # noqa: PLR2004
            target = parse_moment(parts[2:])
        if target is None:
            raise await self._error(Unresolvable, "recording_unknown_item")
        channel = await self._channel(Unresolvable, entry, parts[1])
        runtime = entry.runtime_data
        try:
            start, end = (
                target if isinstance(target, tuple) else await self._covering(channel, target)
            )
            source = await runtime.recordings.source(channel.stream_id)
            if source is RecordSource.CLOUD:
                return await self._play_cloud(channel, start, end)
            return await self._play_device(channel, start, end)
        except (VolcengineError, PlaybackUrlError) as err:
            raise await self._api_error(Unresolvable, err, channel) from err

    async def _covering(
        self, channel: RecordingChannel, moment: datetime
    ) -> tuple[datetime, datetime]:
        """Return the times of the recording covering a moment (an alarm recording first)."""
        library = channel.entry.runtime_data.recordings
        found = await library.item_at(channel.stream_id, moment, tz=self._tz())
        if found is None:  # expired, deleted or not uploaded yet
            raise await self._error(Unresolvable, "recording_not_found", camera=channel.title)
        return found.start, found.end

    async def _play_cloud(
        self, channel: RecordingChannel, start: datetime, end: datetime
    ) -> PlayMedia:
        urls = await channel.entry.runtime_data.recordings.cloud_urls(channel.stream_id, start, end)
        if not urls.mp4:
            raise await self._error(Unresolvable, "recording_not_found", camera=channel.title)
        path = recording_url(channel.entry.entry_id, channel.stream_id, range_part(start, end))
        return PlayMedia(path, MIME_MP4)

    async def _play_device(
        self, channel: RecordingChannel, start: datetime, end: datetime
    ) -> PlayMedia:
        if not channel.device.online:
            raise await self._error(Unresolvable, "recording_device_offline", camera=channel.title)
        if "stream" not in self.hass.config.components:
            raise await self._error(Unresolvable, "recording_needs_stream", camera=channel.title)
        try:
            url = await channel.entry.runtime_data.playback_streams.async_start(
                channel.stream_id, start, end
            )
        except PlaybackClosedError as err:  # the entry is being unloaded
            raise await self._error(Unresolvable, "recording_unknown_space") from err
        except HomeAssistantError as err:  # the stream integration refused the URL
            LOGGER.debug("Device playback of %s failed: %s", channel.stream_id, err)
            raise await self._error(
                Unresolvable, "recording_failed", camera=channel.title, error="stream"
            ) from err
        return PlayMedia(url, MIME_HLS)
