"""Camera entities: one per channel, live pull URLs, snapshots from the stream, cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import time

import aiohttp
from homeassistant.components.camera import (
    Camera,
    async_get_image,
    async_get_stream_source,
)
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.components.camera.webrtc import (
    CameraWebRTCProvider,
    RTCIceCandidateInit,
    WebRTCAnswer,
    WebRTCError,
    WebRTCMessage,
    WebRTCSendMessage,
    async_register_webrtc_provider,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.volcengine_aiot import PLATFORMS
from custom_components.volcengine_aiot.camera import VolcengineCameraEntity
from custom_components.volcengine_aiot.const import CONF_AUDIO_TRANSCODE, CONF_STREAM_PROTOCOL
from custom_components.volcengine_aiot.live import Picture
from tests.audio import ffmpeg_children
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_STREAM_ID,
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
    SPACE_HOME_ID,
)
from tests.emulator.stream import HEIGHT, WIDTH
from tests.entities import entities_of
from tests.images import jpeg_size

FRONT_DOOR = "camera.front_door"
GARDEN = "camera.recorder_garden"


@pytest.fixture
def platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("custom_components.volcengine_aiot.PLATFORMS", [Platform.CAMERA])


@pytest.fixture
async def cameras(
    hass: HomeAssistant, platforms: None, init_integration: MockConfigEntry
) -> MockConfigEntry:
    """Set up the integration with only its cameras."""
    return init_integration


def camera_entity(hass: HomeAssistant, entity_id: str) -> VolcengineCameraEntity:
    camera = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert isinstance(camera, VolcengineCameraEntity)
    return camera


async def pull(url: str) -> int:
    """Open a pull URL and return the HTTP status (reading a little of a stream)."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        if response.status == 200:
            assert (await response.content.readexactly(3)) == b"FLV"
        return response.status


async def test_entities(
    hass: HomeAssistant,
    cameras: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    assert Platform.CAMERA in PLATFORMS
    entities = entities_of(hass, cameras.entry_id)
    # the IPC's camera, the offline IPC's, one per NVR channel; none for a device without streams
    assert sorted(entities) == sorted(
        ["camera.garage", FRONT_DOOR, "camera.recorder_back_yard", GARDEN]
    )
    for entity in entities.values():
        entity["state"]["attributes"].pop("access_token", None)
        entity["state"]["attributes"].pop("entity_picture", None)
    assert entities == snapshot
    nvr = [e for e in entities.values() if e["entry"]["unique_id"].startswith(HOME_NVR_ID)]
    assert len(nvr) == len(HOME_NVR_STREAM_IDS)
    assert {e["device"]["name"] for e in nvr} == {"Recorder"}  # channels of the NVR's device


async def test_stream_source_is_a_url_the_platform_serves(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    url = await async_get_stream_source(hass, FRONT_DOOR)
    assert url is not None
    assert url.startswith(f"{emulator.url}/live/{HOME_IPC_STREAM_ID}.flv?")
    assert await pull(url) == 200
    assert await async_get_stream_source(hass, FRONT_DOOR) == url  # still fresh: reused
    (start,) = emulator.requests_for("StartStream")
    assert start.query["EnableAudioTranscode"] == "0"
    garden = await async_get_stream_source(hass, GARDEN)
    assert garden is not None
    assert HOME_NVR_STREAM_IDS[0] in garden


async def test_expired_url_is_refreshed(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    first = await async_get_stream_source(hass, FRONT_DOOR)
    assert first is not None
    camera = camera_entity(hass, FRONT_DOOR)
    skew = emulator.streams.pull_ttl + 60
    emulator.clock_offset = skew  # the signed URL's expiry has passed for the platform ...
    assert await pull(first) == 403
    camera.live._clock = lambda: time.time() + skew  # ... and for the integration
    second = await async_get_stream_source(hass, FRONT_DOOR)
    assert second is not None
    assert second != first
    assert await pull(second) == 200
    (get,) = emulator.requests_for("GetStream")
    assert get.query["FreshExpiredPull"] == "1"
    assert len(emulator.requests_for("StartStream")) == 1


async def test_url_is_served_until_it_expires(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    """In the last seconds of a URL's life the camera serves it (the platform re-signs it later)."""
    first = await async_get_stream_source(hass, FRONT_DOOR)
    assert first is not None
    camera = camera_entity(hass, FRONT_DOOR)
    skew = emulator.streams.pull_ttl - 20  # 20 s left
    emulator.clock_offset = skew
    camera.live._clock = lambda: time.time() + skew
    assert await async_get_stream_source(hass, FRONT_DOOR) == first
    assert await pull(first) == 200


async def test_options_choose_protocol_and_audio(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_STREAM_PROTOCOL: "rtmp", CONF_AUDIO_TRANSCODE: True}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    url = await async_get_stream_source(hass, FRONT_DOOR)
    assert url is not None
    assert url.startswith("rtmp://")
    assert emulator.requests_for("StartStream")[0].query["EnableAudioTranscode"] == "1"
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_unknown_stored_options_fall_back(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Options another version wrote (an unknown protocol) do not break the cameras."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_STREAM_PROTOCOL: "webrtc", CONF_AUDIO_TRANSCODE: "yes"}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    url = await async_get_stream_source(hass, FRONT_DOOR)
    assert url is not None
    assert url.startswith(f"{emulator.url}/live/{HOME_IPC_STREAM_ID}.flv?")
    assert emulator.requests_for("StartStream")[0].query["EnableAudioTranscode"] == "0"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "Unknown live view protocol 'webrtc': using flv" in warnings
    assert "Unknown audio transcoding option 'yes': using the default" in warnings
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_late_stream_start_is_stopped_at_unload(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    """A StartStream answered after the client's timeout runs a stream: unloading stops it."""
    cameras.runtime_data.client._timeout = aiohttp.ClientTimeout(total=0.2)
    emulator.faults.add("StartStream", delay=0.5, completes=True)
    with pytest.raises(HomeAssistantError) as info:
        await async_get_stream_source(hass, FRONT_DOOR)
    assert info.value.translation_key == "stream_failed"
    async with asyncio.timeout(10):
        while not emulator.streams.running(HOME_IPC_STREAM_ID):
            await asyncio.sleep(0.05)
    assert await hass.config_entries.async_unload(cameras.entry_id)
    await hass.async_block_till_done()
    (stop,) = emulator.requests_for("StopStream")
    assert stop.query["StreamID"] == HOME_IPC_STREAM_ID
    assert not emulator.streams.streams


async def test_snapshot_is_a_jpeg_of_the_stream(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    camera_entity(hass, FRONT_DOOR).snapshots.ttl = 60  # no expiry between the requests
    image = await async_get_image(hass, FRONT_DOOR)
    assert image.content_type == "image/jpeg"
    assert jpeg_size(image.content) == (WIDTH, HEIGHT)
    small = await async_get_image(hass, FRONT_DOOR, width=320)
    assert jpeg_size(small.content) == (320, 180)
    exact = await async_get_image(hass, FRONT_DOOR, width=160, height=90)
    assert jpeg_size(exact.content) == (160, 90)
    assert emulator.streams.pull_count == 1  # every size is scaled from one frame


async def test_snapshot_sizes_share_one_pull(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    """A dashboard asks for several widths at once: one pull of the camera serves them all."""
    widths = (None, 640, 480, 400, 320, 240, 160, 100)
    images = await asyncio.gather(
        *(async_get_image(hass, FRONT_DOOR, width=width) for width in widths)
    )
    sizes = [jpeg_size(image.content) for image in images]
    assert sizes == [(w or WIDTH, round((w or WIDTH) * HEIGHT / WIDTH)) for w in widths]
    assert emulator.streams.pull_count == 1
    assert len(emulator.requests_for("StartStream")) == 1
    camera = camera_entity(hass, FRONT_DOOR)
    assert camera.snapshots.grabs == 1
    assert ffmpeg_children() == []


async def test_snapshot_never_above_the_picture(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    """A size above the stream's picture gets the picture: ffmpeg never renders huge frames."""
    camera_entity(hass, FRONT_DOOR).snapshots.ttl = 60  # no expiry between the requests
    for width, height, size in (
        (1280, None, (WIDTH, HEIGHT)),
        (1280, 720, (WIDTH, HEIGHT)),
        (None, 10000, (WIDTH, HEIGHT)),
        (4000, 10, (WIDTH, HEIGHT)),
        (320, 320, (569, 320)),  # at least the box asked for, the aspect kept
        (100, 20, (100, 56)),
    ):
        image = await async_get_image(hass, FRONT_DOOR, width=width, height=height)
        assert jpeg_size(image.content) == size, (width, height)
    assert emulator.streams.pull_count == 1


async def test_snapshot_memory_is_bounded(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    """One picture per camera plus a few scaled copies, dropped when they expire."""
    camera_entity(hass, FRONT_DOOR).snapshots.ttl = 60  # no expiry between the requests
    camera = camera_entity(hass, FRONT_DOOR)
    picture = await camera.async_camera_image()
    assert picture is not None
    await asyncio.gather(*(camera.async_camera_image(width=w) for w in range(100, 400, 10)))
    assert emulator.streams.pull_count == 1
    scaled = camera.snapshots.memory - len(picture)
    assert 0 < scaled <= camera.snapshots.max_scaled * len(picture)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=camera.snapshots.ttl))
    assert camera.snapshots.memory == 0


async def test_stream_ended_by_the_platform_is_restarted(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    """The platform ended the stream (idle, camera reboot): the snapshot starts it again."""
    camera = camera_entity(hass, FRONT_DOOR)
    assert await camera.async_camera_image()
    url = camera.live.url
    await emulator.streams.stop(HOME_IPC_STREAM_ID)  # URL still signed, nothing served: 404
    camera.snapshots.clear()
    image = await camera.async_camera_image(width=320)
    assert image is not None
    assert jpeg_size(image) == (320, 180)
    assert 404 in emulator.streams.rejected
    assert len(emulator.requests_for("StartStream")) == 2
    assert camera.live.url != url
    assert ffmpeg_children() == []


async def test_snapshot_without_ffmpeg(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
) -> None:
    """Without the ffmpeg binary a snapshot says so, and starts no stream."""
    assert await async_setup_component(
        hass, "ffmpeg", {"ffmpeg": {"ffmpeg_bin": "/nonexistent/ffmpeg"}}
    )
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as info:
        await async_get_image(hass, FRONT_DOOR)
    assert info.value.translation_key == "ffmpeg_failed"
    assert info.value.translation_placeholders["entity"] == FRONT_DOOR
    assert "/nonexistent/ffmpeg" in info.value.translation_placeholders["error"]
    assert not emulator.requests_for("StartStream")
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_snapshot_requests_share_one_pull(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    images = await asyncio.gather(*(async_get_image(hass, FRONT_DOOR) for _ in range(5)))
    assert len({image.content for image in images}) == 1
    assert emulator.streams.pull_count == 1
    cached = await async_get_image(hass, FRONT_DOOR)  # within the cache's few seconds
    assert cached.content == images[0].content
    assert emulator.streams.pull_count == 1
    assert len(emulator.requests_for("StartStream")) == 1


async def test_camera_proxy_over_http(
    hass: HomeAssistant,
    cameras: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy/{GARDEN}?width=320&height=180")
    assert response.status == 200
    assert jpeg_size(await response.read()) == (320, 180)


@pytest.mark.parametrize("entity_id", ["camera.garage", FRONT_DOOR])
async def test_mjpeg_of_an_offline_camera_ends_quietly(
    hass: HomeAssistant,
    cameras: MockConfigEntry,
    emulator: Emulator,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    entity_id: str,
) -> None:
    """The frontend's MJPEG fallback (after the live stream failed) logs no traceback.

    ``camera.garage`` is offline in the device list; the front door is listed online but does
    not answer the platform's invite.
    """
    emulator.faults.add("StartStream", code="InvalidParameter.DeviceNotOnline", status=400, times=0)
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{entity_id}")
    assert response.status == 200
    assert await response.read() == b""  # no frame: the stream ended
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert "Traceback" not in caplog.text


async def test_offline_camera_is_unavailable(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    state = hass.states.get("camera.garage")
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError) as info:
        await async_get_stream_source(hass, "camera.garage")
    assert info.value.translation_key == "camera_unavailable"
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, "camera.garage")
    assert not emulator.requests_for("StartStream")


async def test_channel_offline_goes_unavailable(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    nvr = emulator.state.device(SPACE_HOME_ID, HOME_NVR_ID)
    assert nvr is not None
    channel = next(iter(nvr["DeviceStreams"].values()))
    channel["ChannelStatus"] = "OFF"
    await cameras.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    garden = hass.states.get(GARDEN)
    back_yard = hass.states.get("camera.recorder_back_yard")
    assert garden is not None
    assert back_yard is not None
    assert garden.state == STATE_UNAVAILABLE
    assert back_yard.state != STATE_UNAVAILABLE


@pytest.mark.parametrize(
    ("code", "status", "key"),
    [
        ("InvalidParameter.StreamNotExist", 404, "stream_not_found"),
        ("InvalidParameter.DeviceNotOnline", 400, "stream_device_offline"),
        ("FlowLimitExceeded", 429, "stream_throttled"),
        ("InternalError", 500, "stream_failed"),
    ],
)
async def test_stream_start_failures_are_translated(
    hass: HomeAssistant,
    cameras: MockConfigEntry,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    status: int,
    key: str,
) -> None:
    emulator.faults.add("StartStream", code=code, status=status, times=0)
    with pytest.raises(HomeAssistantError) as info:
        await async_get_stream_source(hass, FRONT_DOOR)
    assert info.value.translation_key == key
    assert info.value.translation_placeholders["entity"] == FRONT_DOOR
    with pytest.raises(HomeAssistantError) as image_info:
        await async_get_image(hass, FRONT_DOOR)
    assert image_info.value.translation_key == key
    assert emulator.streams.pull_count == 0


async def test_unreadable_stream_is_a_translated_error(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    await async_get_stream_source(hass, FRONT_DOOR)
    emulator.streams.refuse_pulls = 404  # the CDN serves nothing, even after a new start
    camera = camera_entity(hass, FRONT_DOOR)
    with pytest.raises(HomeAssistantError) as info:
        await camera.async_camera_image()
    assert info.value.translation_key == "snapshot_failed"
    assert emulator.streams.rejected == [404, 404]  # read, started once more, read again
    assert len(emulator.requests_for("StartStream")) == 2
    assert ffmpeg_children() == []


async def test_stream_worker_gets_the_refreshed_url(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    assert await async_setup_component(hass, "stream", {})
    camera = camera_entity(hass, FRONT_DOOR)
    stream = await camera.async_create_stream()
    assert stream is not None
    first = stream.source
    skew = emulator.streams.pull_ttl + 60
    emulator.clock_offset = skew
    camera.live._clock = lambda: time.time() + skew
    assert await camera.async_create_stream() is stream
    assert stream.source != first
    assert stream.source == camera.live.url
    assert not camera._stream_in_use()  # no viewer: the idle stop may stop it


async def test_unload_stops_streams_and_ffmpeg(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    camera = camera_entity(hass, FRONT_DOOR)
    await async_get_image(hass, FRONT_DOOR)
    await async_get_stream_source(hass, GARDEN)
    started = asyncio.Event()
    original = camera._grab

    async def slow_grab() -> Picture:
        started.set()
        return await original()

    camera._grab = slow_grab  # type: ignore[method-assign]
    camera.snapshots.clear()  # the first picture has expired: the next request grabs
    grab = hass.async_create_task(camera.async_camera_image(width=64))
    await started.wait()
    assert await hass.config_entries.async_unload(cameras.entry_id)
    await hass.async_block_till_done()
    assert cameras.state is ConfigEntryState.NOT_LOADED
    with pytest.raises(asyncio.CancelledError):
        await grab
    stopped = {r.query["StreamID"] for r in emulator.requests_for("StopStream")}
    assert stopped == {HOME_IPC_STREAM_ID, HOME_NVR_STREAM_IDS[0]}
    assert not emulator.streams.streams
    assert emulator.streams.active_pulls() == 0
    assert ffmpeg_children() == []


def test_is_a_camera() -> None:
    assert issubclass(VolcengineCameraEntity, Camera)


async def test_cameras_follow_the_device_list(
    hass: HomeAssistant,
    cameras: MockConfigEntry,
    emulator: Emulator,
    entity_registry: er.EntityRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new_id, stream = "6851c282-c7f6-4a04-9d1e-00000000cafe", "c0ffee00-0000-4000-8000-0000000000ca"
    emulator.state.add_device(
        SPACE_HOME_ID,
        {
            "DeviceID": new_id,
            "DeviceNSID": "34020000001320000098",
            "DeviceName": "Side gate",
            "Status": "online",
            "DeviceStreams": {  # a stream listed twice gets one camera
                "34020000001310000098": {"StreamID": stream, "Name": "Side gate"},
                "34020000001310000097": {"StreamID": stream, "Name": "Side gate"},
            },
        },
    )
    coordinator = cameras.runtime_data.coordinator
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    state = hass.states.get("camera.side_gate")
    assert state is not None
    assert state.state == "idle"
    # no pull URLs in the device list: the provider probe gets a placeholder of the protocol
    probe = camera_entity(hass, "camera.side_gate")._probe_source()
    assert probe == f"http://stream.invalid/live/{stream}.flv"
    url = await async_get_stream_source(hass, "camera.side_gate")
    assert url is not None
    assert stream in url
    emulator.state.remove_device(SPACE_HOME_ID, new_id)
    for _ in range(2):  # removed after two device lists without it
        await coordinator.async_refresh()
        await hass.async_block_till_done()
    assert entity_registry.async_get("camera.side_gate") is None
    assert hass.states.get("camera.side_gate") is None
    assert stream not in {c.stream.stream_id for c in cameras.runtime_data.channels.values()}
    (stop,) = emulator.requests_for("StopStream")  # tried; the platform no longer knows it
    assert stop.query["StreamID"] == stream


class PlayingProvider(CameraWebRTCProvider):
    """A WebRTC provider that, like go2rtc, asks the camera for its source at every offer."""

    def __init__(self) -> None:
        self.sources: list[str | None] = []
        self.refuse = False  # answer the next offers with an error, as go2rtc does

    @property
    def domain(self) -> str:
        return "test_webrtc"

    @callback
    def async_is_supported(self, stream_source: str) -> bool:
        return stream_source.partition(":")[0] in ("http", "rtmp")

    async def async_handle_async_webrtc_offer(
        self,
        camera: Camera,
        offer_sdp: str,
        session_id: str,
        send_message: WebRTCSendMessage,
    ) -> None:
        if self.refuse:
            send_message(WebRTCError("go2rtc_webrtc_offer_failed", "refused"))
            return
        self.sources.append(await camera.stream_source())
        send_message(WebRTCAnswer(answer="v=0"))

    async def async_on_webrtc_candidate(
        self, session_id: str, candidate: RTCIceCandidateInit
    ) -> None:
        """Nothing to do."""


async def test_webrtc_provider_without_starting_streams(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
) -> None:
    assert await async_setup_component(hass, "camera", {})
    provider = PlayingProvider()
    unregister = async_register_webrtc_provider(hass, provider)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    camera = camera_entity(hass, FRONT_DOOR)
    garage = camera_entity(hass, "camera.garage")
    # HA asked every camera for its source to pick the provider: no stream was started for it
    # `webrtc_provider` is public in newer releases, private in 2026.3
    assert getattr(camera, "webrtc_provider", camera._webrtc_provider) is provider
    assert getattr(garage, "webrtc_provider", garage._webrtc_provider) is provider  # offline too
    assert not emulator.requests_for("StartStream")

    answers: list[WebRTCMessage] = []
    await camera.async_handle_async_webrtc_offer("v=0", "session-1", answers.append)
    assert len(answers) == 1
    (source,) = provider.sources
    assert source is not None
    assert source == camera.live.url
    assert source.startswith(f"{emulator.url}/live/{HOME_IPC_STREAM_ID}.flv?")
    assert camera._probe_source() == source  # the current URL while there is one
    assert len(emulator.requests_for("StartStream")) == 1

    clock_now = time.time() + camera.live.idle_timeout + 1
    camera.live._clock = lambda: clock_now
    assert not await camera.live.async_stop_if_idle()  # the WebRTC session still plays it
    camera.close_webrtc_session("session-1")
    assert await camera.live.async_stop_if_idle()
    assert len(emulator.requests_for("StopStream")) == 1
    with pytest.raises(HomeAssistantError):  # an offline camera's offer fails, translated
        await garage.async_handle_async_webrtc_offer("v=0", "session-2", answers.append)
    assert not garage._stream_in_use()

    # the probe answers with the current URL, else the listed one, else the protocol's scheme
    await camera.async_refresh_providers()
    assert getattr(camera, "webrtc_provider", camera._webrtc_provider) is provider
    object.__setattr__(camera.live, "protocol", "rtmp")
    assert camera._probe_source() == f"rtmp://pull.emulator.invalid/live/{HOME_IPC_STREAM_ID}"
    unregister()
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()


async def test_hls_snapshot(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    emulator: Emulator,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_STREAM_PROTOCOL: "hls"})
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    url = await async_get_stream_source(hass, FRONT_DOOR)
    assert url is not None
    assert ".m3u8?" in url
    image = await async_get_image(hass, FRONT_DOOR, width=320)
    assert jpeg_size(image.content) == (320, 180)
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert not emulator.streams.streams
    assert ffmpeg_children() == []


@pytest.fixture
async def provider(
    hass: HomeAssistant, platforms: None, mock_config_entry: MockConfigEntry
) -> AsyncIterator[PlayingProvider]:
    """The integration's cameras, played by a WebRTC provider (as with go2rtc loaded)."""
    assert await async_setup_component(hass, "camera", {})
    provider = PlayingProvider()
    unregister = async_register_webrtc_provider(hass, provider)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    yield provider
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    unregister()


async def test_hls_view_that_ends_stops_the_stream(
    hass: HomeAssistant,
    provider: PlayingProvider,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """An HLS view counts until the stream integration's idle timeout, then StopStream."""
    assert await async_setup_component(hass, "stream", {})
    camera = camera_entity(hass, FRONT_DOOR)
    assert getattr(camera, "webrtc_provider", camera._webrtc_provider) is provider
    client = await hass_ws_client(hass)  # what the frontend's HLS player asks for
    await client.send_json_auto_id({"type": "camera/stream", "entity_id": FRONT_DOOR})
    assert (await client.receive_json())["success"]
    stream = camera.stream
    assert stream is not None
    hls = stream.outputs()["hls"]
    async with asyncio.timeout(30):  # the worker pulls the emulator's stream
        while hls.last_segment is None:
            await asyncio.sleep(0.1)
    later = time.time() + camera.live.idle_timeout + 1
    camera.live._clock = lambda: later
    assert not await camera.live.async_stop_if_idle()  # the HLS view still plays it
    assert not emulator.requests_for("StopStream")
    # nobody fetches the playlist any more: the stream integration's idle timeout passes
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done()
    assert not stream.outputs()
    assert camera.live.viewers == 0
    assert await camera.live.async_stop_if_idle()
    (stop,) = emulator.requests_for("StopStream")
    assert stop.query["StreamID"] == HOME_IPC_STREAM_ID
    assert not emulator.streams.running(HOME_IPC_STREAM_ID)


async def test_webrtc_sessions_are_counted_by_id(
    hass: HomeAssistant, provider: PlayingProvider, emulator: Emulator
) -> None:
    camera = camera_entity(hass, FRONT_DOOR)
    messages: list[WebRTCMessage] = []
    await camera.async_handle_async_webrtc_offer("v=0", "live", messages.append)
    assert camera.live.viewers == 1
    later = time.time() + camera.live.idle_timeout + 1
    camera.live._clock = lambda: later
    # an offer that fails before it asks for a source (the platform throttles the next start)
    emulator.faults.add("GetStream", code="FlowLimitExceeded", status=429, times=0)
    emulator.faults.add("StartStream", code="FlowLimitExceeded", status=429, times=0)
    camera.live._url = None
    with pytest.raises(HomeAssistantError):
        await camera.async_handle_async_webrtc_offer("v=0", "failed", messages.append)
    camera.close_webrtc_session("failed")
    provider.refuse = True  # an offer the provider answers with an error (go2rtc)
    await camera.async_handle_async_webrtc_offer("v=0", "refused", messages.append)
    assert isinstance(messages[-1], WebRTCError)
    assert camera.live.viewers == 1
    camera.close_webrtc_session("refused")
    assert camera.live.viewers == 1  # the live session still plays it
    assert not await camera.live.async_stop_if_idle()
    camera.close_webrtc_session("live")
    assert camera.live.viewers == 0
    camera.live._clock = lambda: later + camera.live.idle_timeout  # the failed offer asked too
    assert await camera.live.async_stop_if_idle()
    assert len(emulator.requests_for("StopStream")) == 1


async def test_snapshot_grab_is_a_viewer(
    hass: HomeAssistant, cameras: MockConfigEntry, emulator: Emulator
) -> None:
    camera = camera_entity(hass, FRONT_DOOR)
    original = camera.live.async_url
    seen: list[int] = []

    async def url() -> str:
        seen.append(camera.live.viewers)
        return await original()

    camera.live.async_url = url  # type: ignore[method-assign]
    await async_get_image(hass, FRONT_DOOR)
    assert seen == [1]  # the grab counted while it read the stream
    assert camera.live.viewers == 0


async def test_offline_camera_offer_says_why(
    hass: HomeAssistant, provider: PlayingProvider, emulator: Emulator
) -> None:
    """The WebRTC player shows the offer's error: for an offline camera, the translated reason."""
    garage = camera_entity(hass, "camera.garage")
    messages: list[WebRTCMessage] = []
    with pytest.raises(HomeAssistantError) as info:
        await garage.async_handle_async_webrtc_offer("v=0", "session", messages.append)
    # go2rtc answers a failed source with WebRTCError(str(err)), the frontend shows its text
    assert str(info.value) == "camera.garage is unavailable: the camera or its channel is offline"
    assert garage.live.viewers == 0
    assert not emulator.requests_for("StartStream")
