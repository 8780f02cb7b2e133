"""What a loaded entry owns: the client, the coordinator and one resource per device or channel.

The runtime data holds library objects only, never entities: one ``Speaker`` per camera, one
``LiveChannel`` (live stream and snapshot cache) and one ``PtzChannel`` per video channel, built
from the coordinator's data and the entry's options, closed when their device leaves the space
and on unload. Every entity is a view of them. The recordings (media browser) and the device
playbacks are the entry's too: a channel's playback stops when its device leaves and on unload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .alarms import VolcengineAlarms
from .api import (
    DEFAULT_ENDPOINT,
    DEFAULT_REGION,
    Stream,
    VolcengineClient,
    VolcengineError,
)
from .channels import LiveChannel, channel_key, video_channels
from .const import (
    CONF_ACCESS_KEY_ID,
    CONF_ENDPOINT,
    CONF_REGION,
    CONF_SECRET_ACCESS_KEY,
    LOGGER,
)
from .coordinator import VolcengineCoordinator
from .live import LiveStream
from .options import live_options, talk_options
from .playback_streams import PlaybackStreams
from .ptz import PtzChannel, PtzMover, ptz_types
from .recordings import DevicePlaybacks, RecordingLibrary
from .speakers import SpeakerVolumes
from .talk import ClientTalkOpener, Speaker
from .talk.cache import CachingTranscoderPool
from .talk.push_to_talk import PushToTalk


@dataclass(slots=True)
class VolcengineRuntimeData:
    """Everything a loaded entry owns."""

    client: VolcengineClient
    coordinator: VolcengineCoordinator
    space_id: str
    hub_device_id: str
    transcoders: CachingTranscoderPool  # shared by the speakers: one ffmpeg per announcement
    alarms: VolcengineAlarms  # the space's alarm poller and the per-channel alarm listeners
    volumes: SpeakerVolumes  # of the speakers, saved across restarts
    ptz: PtzMover  # timed moves of every channel, each ending in a stop; closed on unload

    recordings: RecordingLibrary  # the channels' recordings (media browser), cached briefly
    playbacks: DevicePlaybacks  # the device playbacks started, one per channel
    playback_streams: PlaybackStreams  # their HLS streams; stops them (idle, unload...)
    speakers: dict[str, Speaker] = field(default_factory=dict)  # one per camera
    talks: dict[str, PushToTalk] = field(default_factory=dict)  # push-to-talk per camera
    channels: dict[str, LiveChannel] = field(default_factory=dict)  # live stream per channel
    # PTZ per video channel, keyed like ``channels`` (fixed ones too: they answer "cannot move")
    ptz_channels: dict[str, PtzChannel] = field(default_factory=dict)
    # device ID -> the GetDeviceChannelsV2 read that sets its channels' PTZType (done or running)
    ptz_discovery: dict[str, asyncio.Task[None]] = field(default_factory=dict)


type VolcengineConfigEntry = ConfigEntry[VolcengineRuntimeData]


def create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> VolcengineClient:
    """Build the OpenAPI client from entry data (or the config flow's input, same keys).

    The one place both the config flow and the setup build the client, so what the flow
    validated is what the entry runs with. Raises ``VolcengineSettingsError`` (a
    ``ValueError``) for a value the client refuses; nothing is sent then.
    """
    return VolcengineClient(
        async_get_clientsession(hass),
        data[CONF_ACCESS_KEY_ID],
        data[CONF_SECRET_ACCESS_KEY],
        region=data.get(CONF_REGION) or DEFAULT_REGION,
        endpoint=data.get(CONF_ENDPOINT) or DEFAULT_ENDPOINT,
    )


@callback
def async_setup_speakers(hass: HomeAssistant, entry: VolcengineConfigEntry) -> None:
    """Give every camera of the entry its speaker, now and whenever cameras come or go.

    Registered before the platforms: a new camera has its speaker before its entities are added.
    A camera that leaves the space has its speaker closed (its talk ends), like its streams.
    """
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    http = async_get_clientsession(hass)
    options = talk_options(entry.options)

    @callback
    def update_speakers() -> None:
        for device_id, device in coordinator.data.items():
            if device_id in runtime.speakers:
                continue
            runtime.speakers[device_id] = Speaker(
                http=http,
                opener=ClientTalkOpener(
                    runtime.client, runtime.space_id, device.nsid, options.transport
                ),
                transcoders=runtime.transcoders,
                options=options,
                name=device.name,
            )
        gone = [
            runtime.speakers.pop(device_id)
            for device_id in set(runtime.speakers) - set(coordinator.data)
        ]
        if gone:
            entry.async_create_background_task(
                hass,
                _async_close_speakers(gone),
                "volcengine_aiot close the speakers of removed devices",
            )

    update_speakers()
    entry.async_on_unload(coordinator.async_add_listener(update_speakers))


async def _async_close_speakers(speakers: list[Speaker]) -> None:
    await asyncio.gather(*(speaker.close() for speaker in speakers), return_exceptions=True)


async def _async_close_all(channels: list[LiveChannel]) -> None:
    await asyncio.gather(*(channel.async_close() for channel in channels), return_exceptions=True)


@callback
def async_setup_channels(hass: HomeAssistant, entry: VolcengineConfigEntry) -> None:
    """Give every channel of the entry its live stream, now and whenever devices come or go.

    Registered before the platforms: a new channel has its stream before its camera is added.
    """
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    options = live_options(entry.options)
    devices: dict[str, list[str]] = {}  # device ID -> its channels' keys

    @callback
    def update_channels() -> None:
        for device_id, device in coordinator.data.items():
            if device_id in devices:
                continue
            keys = devices[device_id] = []
            for channel in video_channels(device.streams):
                key = channel_key(device_id, channel)
                keys.append(key)
                runtime.channels[key] = LiveChannel(
                    LiveStream(
                        runtime.client,
                        runtime.space_id,
                        str(channel.stream_id),
                        protocol=options.protocol,
                        transcode_audio=options.transcode_audio,
                    )
                )
        gone = [
            runtime.channels.pop(key)
            for device_id in set(devices) - set(coordinator.data)
            for key in devices.pop(device_id)
            if key in runtime.channels
        ]
        if gone:
            entry.async_create_background_task(
                hass, _async_close_all(gone), "volcengine_aiot close the streams of removed devices"
            )
            gone_streams = {channel.stream.stream_id for channel in gone}
            for stream_id in gone_streams:
                runtime.recordings.forget(stream_id)
            entry.async_create_background_task(
                hass,
                runtime.playback_streams.async_stop_channels(gone_streams),
                "volcengine_aiot stop the playbacks of removed devices",
            )

    update_channels()
    entry.async_on_unload(coordinator.async_add_listener(update_channels))


PTZ_DISCOVERY_TIMEOUT = 10.0  # seconds one device's GetDeviceChannelsV2 may take
PTZ_DISCOVERY_CONCURRENCY = 2  # devices read at once (a large space must not hit the throttle)


@callback
def async_setup_ptz(hass: HomeAssistant, entry: VolcengineConfigEntry) -> None:
    """Give every video channel its ``PtzChannel``, now and whenever devices come or go.

    The channel is there at once (PTZType not known yet: None); one bounded GetDeviceChannelsV2
    per device then fills in what the platform reports (a failure leaves None). The entities
    that depend on it wait for ``runtime.ptz_discovery[device_id]``. Registered before the
    platforms, like the live channels.
    """
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    devices: dict[str, list[str]] = {}  # device ID -> its channels' keys
    limit = asyncio.Semaphore(PTZ_DISCOVERY_CONCURRENCY)

    async def discover(device_id: str, channels: list[tuple[Stream, PtzChannel]]) -> None:
        async with limit:
            try:
                async with asyncio.timeout(PTZ_DISCOVERY_TIMEOUT):
                    found = await runtime.client.get_device_channels(runtime.space_id, device_id)
            except (VolcengineError, TimeoutError) as err:
                LOGGER.debug("PTZ type of the channels of %s not read: %s", device_id, err)
                return
        types = ptz_types(found)
        for stream, ptz in channels:
            ptz.ptz_type = types.get(ptz.stream_id, types.get(stream.channel_id or ""))

    @callback
    def update_ptz() -> None:
        for device_id, device in coordinator.data.items():
            if device_id in devices:
                continue
            keys = devices[device_id] = []
            channels: list[tuple[Stream, PtzChannel]] = []
            for channel in video_channels(device.streams):
                key = channel_key(device_id, channel)
                keys.append(key)
                ptz = PtzChannel(runtime.client, runtime.ptz, str(channel.stream_id), None)
                runtime.ptz_channels[key] = ptz
                channels.append((channel, ptz))
            if channels:  # a device without video channels has nothing to read
                runtime.ptz_discovery[device_id] = entry.async_create_background_task(
                    hass,
                    discover(device_id, channels),
                    f"volcengine_aiot PTZ type of {device_id}",
                )
        for device_id in set(devices) - set(coordinator.data):
            for key in devices.pop(device_id):
                runtime.ptz_channels.pop(key, None)
            if (task := runtime.ptz_discovery.pop(device_id, None)) is not None:
                task.cancel()

    update_ptz()
    entry.async_on_unload(coordinator.async_add_listener(update_ptz))
