"""Live view and snapshots: one camera entity per video channel of a device.

NVR channels are entities of the NVR's device (named after the channel), not devices of their
own: the platform registers the NVR as one GB/T 28181 device with one online status and one
voice channel, so that is the device users see in the space; an IPC's single channel is the
device's camera entity.
"""

from __future__ import annotations

from aiohttp import web
from homeassistant.components.camera import (
    Camera,
    CameraEntityDescription,
    CameraEntityFeature,
    WebRTCError,
    WebRTCMessage,
    WebRTCSendMessage,
    async_get_still_stream,
)
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.components.stream import Stream
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import compat
from .api import PresetCommand, PtzCommand, Stream as ChannelStream
from .channels import LiveChannel, channel_key, video_channels
from .const import DOMAIN, LOGGER
from .coordinator import VolcengineCoordinator
from .entity import VolcengineEntity, async_add_device_entities
from .live import (
    PROTOCOL_FLV,
    PROTOCOL_HLS,
    PROTOCOL_RTMP,
    LiveStreamError,
    Picture,
    grab_frame,
    pick_url,
)
from .ptz import default_speed
from .ptz_control import async_ptz_call
from .runtime import VolcengineConfigEntry

PARALLEL_UPDATES = 0
SNAPSHOT_TIMEOUT = 15  # seconds ffmpeg may take to read one frame
CHANNEL_ONLINE = frozenset({"on", "online"})

CAMERA = CameraEntityDescription(key="camera", translation_key="camera")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VolcengineConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a camera for every channel of every device, now and whenever new devices appear."""

    def create(device_id: str) -> list[VolcengineCameraEntity]:
        coordinator = entry.runtime_data.coordinator
        channels = list(video_channels(coordinator.data[device_id].streams))
        return [
            VolcengineCameraEntity(
                coordinator,
                entry,
                device_id,
                channel,
                entry.runtime_data.channels[channel_key(device_id, channel)],
                single=len(channels) == 1,
            )
            for channel in channels
        ]

    async_add_device_entities(entry, async_add_entities, create)


class VolcengineCameraEntity(VolcengineEntity, Camera):
    """The live picture of one channel."""

    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(
        self,
        coordinator: VolcengineCoordinator,
        entry: VolcengineConfigEntry,
        device_id: str,
        channel: ChannelStream,
        live: LiveChannel,
        *,
        single: bool,
    ) -> None:
        """Initialize the camera of a channel (one that has a StreamID)."""
        super().__init__(coordinator, CAMERA, device_id, entry.runtime_data.hub_device_id)
        Camera.__init__(self)
        # The WebRTC offer is overridden only to count the session as a viewer; the provider
        # (go2rtc) still answers it: not a native WebRTC camera, which would skip providers.
        self._supports_native_async_webrtc = False
        self.stream_id = str(channel.stream_id)
        self.channel_id = channel.channel_id or self.stream_id
        self._attr_unique_id = f"{device_id}_{self.channel_id}_{CAMERA.key}"
        if single:
            self._attr_name = None  # the device's camera: named like the device
        else:
            self._attr_translation_key = "channel"
            self._attr_translation_placeholders = {"channel": channel.name or self.channel_id}
        # The channel's live stream and snapshots belong to the runtime: this is their view.
        self.live = live.stream
        self.snapshots = live.snapshots
        self.ptz = entry.runtime_data.ptz_channels[self._attr_unique_id]
        self._probing = False

    @property
    def channel(self) -> ChannelStream | None:
        """Return the channel's latest data, None once it is gone."""
        device = self.device
        if device is None:
            return None
        return next((s for s in device.streams if s.stream_id == self.stream_id), None)

    @property
    def available(self) -> bool:
        """Return whether the device is online and the channel reports no fault."""
        device, channel = self.device, self.channel
        if not super().available or device is None or channel is None or not device.online:
            return False
        return channel.status is None or channel.status.lower() in CHANNEL_ONLINE

    @callback
    def async_entity_id_changed(self, old_entity_id: str) -> None:
        """Apply a new entity ID in place: nothing here is keyed on it."""
        compat.entity_id_changed(super(), old_entity_id)

    async def async_added_to_hass(self) -> None:
        """Let the live stream know when Home Assistant's stream worker still reads it."""
        await super().async_added_to_hass()
        self.live.busy = self._stream_in_use

    async def async_will_remove_from_hass(self) -> None:
        """Stop the stream and the snapshot grabs of this camera (nothing else views them)."""
        self.live.busy = None
        await self.snapshots.async_close()
        await self.live.async_stop()
        await super().async_will_remove_from_hass()

    def _stream_in_use(self) -> bool:
        """Return whether HA's stream worker has an output (HLS until its idle timeout)."""
        stream: Stream | None = self.stream
        return stream is not None and bool(stream.outputs())

    async def async_handle_async_webrtc_offer(
        self, offer_sdp: str, session_id: str, send_message: WebRTCSendMessage
    ) -> None:
        """Count the session as a viewer until it is closed or its offer fails."""

        @callback
        def send(message: WebRTCMessage) -> None:
            if isinstance(message, WebRTCError):
                self.live.close_viewer(session_id)
            send_message(message)

        self.live.open_viewer(session_id)
        try:
            await super().async_handle_async_webrtc_offer(offer_sdp, session_id, send)
        except BaseException:
            self.live.close_viewer(session_id)
            raise

    @callback
    def close_webrtc_session(self, session_id: str) -> None:
        """End a WebRTC session; without viewers the stream is stopped after the idle time."""
        self.live.close_viewer(session_id)
        super().close_webrtc_session(session_id)

    async def async_refresh_providers(self, *, write_state: bool = True) -> None:
        """Find the WebRTC provider without starting a stream (see ``stream_source``)."""
        self._probing = True
        try:
            await super().async_refresh_providers(write_state=write_state)
        finally:
            self._probing = False

    def _probe_source(self) -> str | None:
        """Return a URL of the chosen protocol without calling the platform.

        Home Assistant asks for the stream source to pick a WebRTC provider (when the entity is
        added and when providers change); the provider only looks at the URL's scheme. Starting a
        stream for that would invite every camera at every start, so the current URL, else the
        URL from the device list, else a placeholder of the protocol's scheme answers.
        """
        if self.live.url is not None:
            return self.live.url
        channel = self.channel
        listed = pick_url(channel.pull_urls, self.live.protocol) if channel else None
        if listed is not None:
            return listed
        scheme = "rtmp" if self.live.protocol == PROTOCOL_RTMP else "http"
        suffix = {PROTOCOL_FLV: ".flv", PROTOCOL_HLS: ".m3u8"}.get(self.live.protocol, "")
        return f"{scheme}://stream.invalid/live/{self.stream_id}{suffix}"

    def _check_available(self) -> None:
        if not self.available:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="camera_unavailable",
                translation_placeholders={"entity": self.entity_id},
            )

    async def stream_source(self) -> str | None:
        """Return a pull URL of the channel that is valid for a while (never an expired one)."""
        if self._probing:
            return self._probe_source()
        return await self._live_url()

    async def _live_url(self) -> str:
        """Return the channel's fresh pull URL, failures as translated errors."""
        self._check_available()
        try:
            return await self.live.async_url()
        except LiveStreamError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=err.translation_key,
                translation_placeholders={"entity": self.entity_id, **err.placeholders},
            ) from err

    async def async_create_stream(self) -> Stream | None:
        """Create HA's stream worker, or point an existing one at a re-signed URL."""
        stream = await super().async_create_stream()
        if stream is not None:
            source = await self.stream_source()
            if source and source != stream.source:
                stream.update_source(source)
        return stream

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return a JPEG frame of the live stream fitted to the size asked for.

        One frame per camera is grabbed at the stream's own size and shared by the requests of
        a few seconds, whatever size they ask for; each size is scaled from it, never above it.
        """
        self._check_available()
        try:
            return await self.snapshots.get(self._grab, width, height)
        except LiveStreamError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=err.translation_key,
                translation_placeholders={"entity": self.entity_id, **err.placeholders},
            ) from err

    async def handle_async_still_stream(
        self, request: web.Request, interval: float
    ) -> web.StreamResponse:
        """Serve frames as MJPEG (the frontend's fallback when no live stream plays).

        A frame that cannot be had (the camera is offline, the platform refused the stream)
        ends the stream quietly: the reason is the stream's error, already sent to the frontend,
        and raising it here would only leave a traceback after the response started.
        """

        async def frame() -> bytes | None:
            try:
                return await self.async_camera_image()
            except HomeAssistantError as err:
                LOGGER.debug("MJPEG stream of %s ended: %s", self.entity_id, err)
                return None

        return await async_get_still_stream(request, frame, self.content_type, interval)

    async def async_ptz(self, command: str, duration: float, speed: int | None = None) -> None:
        """Run a PTZ command for ``duration`` seconds, then stop (action ``ptz``).

        ``stop`` stops a move, zoom, focus or iris command at once. Returns when the stop was
        sent; a cancelled call, an unload or Home Assistant stopping sends it too.
        """
        cmd = PtzCommand(command)
        if cmd is PtzCommand.STOP:
            await async_ptz_call(self.ptz.stop(), self.entity_id)
            return
        if speed is None:
            speed = default_speed(cmd)
        await async_ptz_call(self.ptz.move(cmd, speed, duration), self.entity_id)

    async def async_ptz_preset(self, action: str, preset: int) -> None:
        """Go to, set or remove a preset (action ``ptz_preset``)."""
        await async_ptz_call(self.ptz.preset(PresetCommand(action), preset), self.entity_id, preset)

    async def _grab(self) -> Picture:
        binary = get_ffmpeg_manager(self.hass).binary
        with self.live.viewing():  # the stream is not stopped under the grab
            return await grab_frame(binary, self.live, within=SNAPSHOT_TIMEOUT)
