"""Recordings in the media browser: browse every level, play cloud and device, errors.

Against the emulator's recordings (cloud plan for the front door and the shop's counter,
device recordings for the NVR's garden channel and the offline garage camera) over real HTTP;
device playbacks through Home Assistant's real ``stream`` integration (PyAV pulls the
emulator's RTMP server).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.components import media_source
from homeassistant.components.media_player import BrowseError
from homeassistant.components.media_source import BrowseMediaSource, PlayMedia, Unresolvable
from homeassistant.components.stream.const import DOMAIN as STREAM_DOMAIN
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.volcengine_aiot import playback_streams
from custom_components.volcengine_aiot.const import CONF_SPACE_ID, DOMAIN
from custom_components.volcengine_aiot.diagnostics import async_get_config_entry_diagnostics
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_OFFLINE_STREAM_ID,
    HOME_IPC_STREAM_ID,
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_STREAM_ID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
)

ENTRY_ID = "01JVOLCENGINEHOMEENTRY0000"
SHOP_ENTRY_ID = "01JVOLCENGINESHOPENTRY0000"
FRONT = f"{ENTRY_ID}/{HOME_IPC_STREAM_ID}"
GARDEN = f"{ENTRY_ID}/{HOME_NVR_STREAM_IDS[0]}"
BACK_YARD = f"{ENTRY_ID}/{HOME_NVR_STREAM_IDS[1]}"
GARAGE = f"{ENTRY_ID}/{HOME_IPC_OFFLINE_STREAM_ID}"
COUNTER = f"{SHOP_ENTRY_ID}/{SHOP_IPC_STREAM_ID}"
TOKEN_MARKS = ("X-JWT-Token", "volcSecret", "/playback/")


@pytest.fixture(autouse=True)
def no_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    """The media source needs no entity platform."""
    monkeypatch.setattr("custom_components.volcengine_aiot.PLATFORMS", list[Platform]())


@pytest.fixture
async def home(hass: HomeAssistant, init_integration: MockConfigEntry) -> MockConfigEntry:
    """Set up the home space."""
    return init_integration


@pytest.fixture
async def shop(hass: HomeAssistant, entry_data: dict[str, Any]) -> AsyncIterator[MockConfigEntry]:
    """Set up the shop space (its counter camera has a day of thousands of segments)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="shop",
        unique_id=SPACE_SHOP_ID,
        data={**entry_data, CONF_SPACE_ID: SPACE_SHOP_ID},
        entry_id=SHOP_ENTRY_ID,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
async def stream(hass: HomeAssistant) -> None:
    """Set up Home Assistant's stream integration (device playbacks need it)."""
    assert await async_setup_component(hass, STREAM_DOMAIN, {})


async def browse(hass: HomeAssistant, identifier: str = "") -> BrowseMediaSource:
    uri = f"media-source://{DOMAIN}" + (f"/{identifier}" if identifier else "")
    result = await media_source.async_browse_media(hass, uri)
    assert isinstance(result, BrowseMediaSource)
    assert result.domain == DOMAIN
    for child in result.children or []:
        assert isinstance(child, BrowseMediaSource)
        assert child.domain == DOMAIN
    return result


async def resolve(hass: HomeAssistant, identifier: str) -> PlayMedia:
    return await media_source.async_resolve_media(
        hass, f"media-source://{DOMAIN}/{identifier}", None
    )


def identifiers(folder: BrowseMediaSource) -> list[str]:
    return [
        str(child.identifier)
        for child in folder.children or []
        if isinstance(child, BrowseMediaSource)
    ]


def tree(folder: BrowseMediaSource) -> dict[str, Any]:
    """The parts of a folder the media browser shows (the same on every harness release)."""
    return {
        "title": folder.title,
        "media_content_id": folder.media_content_id,
        "media_class": str(folder.media_class),
        "media_content_type": str(folder.media_content_type),
        "can_play": folder.can_play,
        "can_expand": folder.can_expand,
        "children": [tree(child) for child in folder.children or []],
    }


def recording_times(folder: BrowseMediaSource) -> list[tuple[int, int]]:
    times = []
    for identifier in identifiers(folder):
        start, end = identifier.rsplit("/", 1)[1].split("-")
        times.append((int(start), int(end)))
    return times


async def newest_recording(hass: HomeAssistant, camera: str) -> str:
    days = await browse(hass, camera)
    day = await browse(hass, identifiers(days)[0])
    return identifiers(day)[0]


# --- browse ------------------------------------------------------------------------------------


async def test_root_space_and_cameras(
    hass: HomeAssistant, home: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """Volcengine AIoT Video → the space → its cameras, without asking the cloud."""
    root = await browse(hass)
    assert root.title == "Volcengine AIoT Video"
    assert identifiers(root) == [ENTRY_ID]
    space = await browse(hass, ENTRY_ID)
    assert space.title == "home"
    assert set(identifiers(space)) == {FRONT, GARDEN, BACK_YARD, GARAGE}
    assert [child.title for child in space.children or []] == [
        "Front door",
        "Garage",
        "Recorder Back yard",
        "Recorder Garden",
    ]
    assert (tree(root), tree(space)) == snapshot


async def test_cloud_camera_days_newest_first(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    camera = await browse(hass, FRONT)
    assert camera.title == "Front door · Cloud recordings"
    days = [identifier.rsplit("/", 1)[1] for identifier in identifiers(camera)]
    assert days == sorted(days, reverse=True)
    assert len(days) >= 7
    assert days[0] == dt_util.now().date().isoformat() or len(days) == 8


async def test_cloud_day_lists_merged_recordings_newest_first(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    camera = await browse(hass, FRONT)
    day_id = identifiers(camera)[1]  # yesterday: a whole day
    day = await browse(hass, day_id)
    assert day.title == f"Front door · {day_id.rsplit('/', 1)[1]} · Cloud recordings"
    times = recording_times(day)
    assert times == sorted(times, reverse=True)
    children = [c for c in day.children or [] if isinstance(c, BrowseMediaSource)]
    assert all(child.can_play and not child.can_expand for child in children)
    assert all(child.media_content_type == "video/mp4" for child in children)
    # every 2 h three adjacent 2 min segments: one 6 min recording
    plain = [c.title for c in children if not c.title.startswith("Alarm · ")]
    assert plain
    assert all(title.endswith("(6:00)") for title in plain)
    # the 30 s alarm recordings (every 6 h in the emulator) are marked
    tz = dt_util.get_default_time_zone()
    day_of = date.fromisoformat(day_id.rsplit("/", 1)[1])
    expected = [
        s
        for s in emulator.recordings.cloud[HOME_IPC_STREAM_ID]
        if s.alarm and datetime.fromtimestamp(s.start, tz).date() == day_of
    ]
    alarms = [c.title for c in children if c.title.startswith("Alarm · ")]
    assert len(alarms) == len(expected)
    assert all("(0:30)" in title for title in alarms)
    start, _ = times[0]
    assert (
        children[0]
        .title.removeprefix("Alarm · ")
        .startswith(datetime.fromtimestamp(start, UTC).astimezone(tz).strftime("%H:%M:%S"))
    )


async def test_a_folder_costs_one_listing_then_is_cached(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    camera = await browse(hass, FRONT)
    day_id = identifiers(camera)[1]
    listed = len(emulator.requests_for("ListStreamRecords"))
    await browse(hass, day_id)
    assert len(emulator.requests_for("ListStreamRecords")) == listed + 1
    await browse(hass, day_id)
    assert len(emulator.requests_for("ListStreamRecords")) == listed + 1


async def test_a_day_of_thousands_of_segments_is_merged(
    hass: HomeAssistant, shop: MockConfigEntry, emulator: Emulator
) -> None:
    await hass.config.async_set_time_zone("UTC")
    day_id = f"{COUNTER}/{emulator.recordings.many_day.isoformat()}"
    listed = len(emulator.requests_for("ListStreamRecords"))
    await browse(hass, COUNTER)  # the source and the days first
    listed = len(emulator.requests_for("ListStreamRecords"))
    day = await browse(hass, day_id)
    assert len(emulator.requests_for("ListStreamRecords")) == listed + 1
    times = recording_times(day)
    # 4320 segments of 20 s: items of at most 10 min, the alarm segments on their own
    assert 24 * 6 <= len(times) <= 24 * 6 + 2 * 24
    assert all(end - start <= 600 for start, end in times)
    assert sum(end - start for start, end in times) == 24 * 3600
    assert times == sorted(times, reverse=True)
    alarms = [c for c in day.children or [] if c.title.startswith("Alarm · ")]
    assert len(alarms) == 24


async def test_device_camera_says_device_recordings(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    camera = await browse(hass, GARDEN)
    assert camera.title.endswith("· Device recordings")
    day = await browse(hass, identifiers(camera)[1])
    assert day.title.endswith("· Device recordings")
    children = [c for c in day.children or [] if isinstance(c, BrowseMediaSource)]
    assert children
    assert all(child.media_content_type == "application/x-mpegURL" for child in children)
    assert any(child.title.startswith("Alarm · ") for child in children)


async def test_camera_without_recordings_has_no_days(
    hass: HomeAssistant, home: MockConfigEntry
) -> None:
    camera = await browse(hass, BACK_YARD)
    assert identifiers(camera) == []


async def test_titles_in_chinese(hass: HomeAssistant, home: MockConfigEntry) -> None:
    hass.config.language = "zh-Hans"
    camera = await browse(hass, FRONT)
    assert camera.title == "Front door · 云端录像"
    garden = await browse(hass, GARDEN)
    assert garden.title.endswith("· 设备录像")
    day = await browse(hass, identifiers(garden)[1])
    assert any(c.title.startswith("报警 · ") for c in day.children or [])
    with pytest.raises(BrowseError) as info:
        await browse(hass, GARAGE)
    assert "摄像头离线" in str(info.value)


# --- browse errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("01JNOSUCHENTRY", "recording_unknown_space"),
        (f"{ENTRY_ID}/no-such-stream", "recording_unknown_camera"),
        (f"{FRONT}/not-a-day", "recording_unknown_item"),
        (f"{FRONT}/2026-13-45", "recording_unknown_item"),
        (f"{FRONT}/2026-01-01/x", "recording_unknown_item"),
    ],
)
async def test_browse_unknown(
    hass: HomeAssistant, home: MockConfigEntry, identifier: str, key: str
) -> None:
    with pytest.raises(BrowseError) as info:
        await browse(hass, identifier)
    assert info.value.translation_key == key
    assert str(info.value) != key  # the text, not the key


async def test_browse_offline_device_recordings(hass: HomeAssistant, home: MockConfigEntry) -> None:
    with pytest.raises(BrowseError) as info:
        await browse(hass, GARAGE)
    assert info.value.translation_key == "recording_device_offline"
    assert "Garage" in str(info.value)


async def test_browse_throttled_after_retries(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    emulator.faults.add("ListStreamRecords", code="FlowLimitExceeded", status=429, times=1000)
    with pytest.raises(BrowseError) as info:
        await browse(hass, FRONT)
    assert info.value.translation_key == "recording_throttled"
    tries = len(emulator.requests_for("ListStreamRecords"))
    assert 1 < tries < 20  # retried, a bounded number of times
    emulator.faults.clear()
    assert identifiers(await browse(hass, FRONT))  # answered again: browses again


async def test_throttled_once_is_retried(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    emulator.faults.add("ListStreamRecords", code="FlowLimitExceeded", status=429, times=1)
    assert identifiers(await browse(hass, FRONT))


# --- play: cloud -------------------------------------------------------------------------------


async def test_play_cloud_recording_through_the_view(
    hass: HomeAssistant,
    home: MockConfigEntry,
    emulator: Emulator,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    recording = await newest_recording(hass, FRONT)
    played = len(emulator.requests_for("PlayCloudRecord"))
    play = await resolve(hass, recording)
    assert play.mime_type == "video/mp4"
    assert play.url.startswith(f"/api/{DOMAIN}/recordings/{recording}")
    assert "?" not in play.url  # no token: the view resolves the signed URL itself
    client = await hass_client()
    response = await client.get(play.url)
    assert response.status == 200
    body = await response.read()
    assert body[4:8] == b"ftyp"  # an MP4 file
    ranged = await client.get(play.url, headers={"Range": "bytes=0-99"})
    assert ranged.status == 206
    assert len(await ranged.read()) == 100
    assert ranged.headers["Content-Range"].startswith("bytes 0-99/")
    # resolved at play time: one URL to check the recording, one per request of the view
    assert len(emulator.requests_for("PlayCloudRecord")) == played + 3
    assert not any(mark in caplog.text for mark in TOKEN_MARKS)
    diagnostics = await async_get_config_entry_diagnostics(hass, home)
    assert not any(mark in str(diagnostics) for mark in TOKEN_MARKS)


async def test_cloud_view_needs_authentication(
    hass: HomeAssistant,
    home: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    recording = await newest_recording(hass, FRONT)
    play = await resolve(hass, recording)
    client = await hass_client_no_auth()
    assert (await client.get(play.url)).status == 401


async def test_cloud_view_refuses_unknown(
    hass: HomeAssistant, home: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    client = await hass_client()
    base = f"/api/{DOMAIN}/recordings"
    assert (await client.get(f"{base}/nope/{HOME_IPC_STREAM_ID}/1-2.mp4")).status == 404
    assert (await client.get(f"{base}/{ENTRY_ID}/nope/1-2.mp4")).status == 404
    assert (await client.get(f"{base}/{FRONT}/2-1.mp4")).status == 400
    # a time range without recordings
    assert (await client.get(f"{base}/{FRONT}/1000-1060.mp4")).status == 502


async def test_play_cloud_without_plan(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    recording = await newest_recording(hass, FRONT)
    emulator.recordings.cloud_plans.discard(HOME_IPC_STREAM_ID)  # the plan is unbound
    with pytest.raises(Unresolvable) as info:
        await resolve(hass, recording)
    assert info.value.translation_key == "recording_no_plan"
    assert str(info.value) == (
        "This camera has no cloud recording plan on Volcengine, so it has no cloud recordings."
    )


async def test_play_cloud_throttled(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    recording = await newest_recording(hass, FRONT)
    emulator.faults.add("PlayCloudRecord", code="FlowLimitExceeded", status=429, times=1000)
    with pytest.raises(Unresolvable) as info:
        await resolve(hass, recording)
    assert info.value.translation_key == "recording_throttled"


async def test_play_a_time_without_recordings(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    await browse(hass, FRONT)
    for camera in (FRONT, GARDEN):
        with pytest.raises(Unresolvable) as info:
            await resolve(hass, f"{camera}/1000-1060")
        assert info.value.translation_key == "recording_not_found"
        assert str(info.value) == "No recording covers the chosen time."
    assert emulator.recordings.active_playbacks() == 0


async def test_play_the_recording_of_a_moment(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    """``<camera>/at/<time>`` (an alarm event's link) plays the recording covering that moment.

    The alarm recording first where an alarm and a plain recording overlap.
    """
    segments = emulator.recordings.cloud[HOME_IPC_STREAM_ID]
    alarm = next(s for s in reversed(segments) if s.alarm)
    plain = next(s for s in reversed(segments) if not s.alarm)
    played = {}
    for moment in (alarm.start + 10, plain.start + 10):
        play = await resolve(hass, f"{FRONT}/at/{moment}")
        assert play.mime_type == "video/mp4"
        assert "?" not in play.url
        times = play.url.removeprefix(f"/api/{DOMAIN}/recordings/{FRONT}/").removesuffix(".mp4")
        start, end = (int(t) for t in times.split("-"))
        assert start <= moment < end
        played[moment] = (start, end)
    assert played[alarm.start + 10] == (alarm.start, alarm.end)


async def test_play_a_moment_without_recordings(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    """No recording covers the moment (yet): translated, nothing started."""
    newest = max(s.end for s in emulator.recordings.cloud[HOME_IPC_STREAM_ID])
    for moment in (1000, newest + 60):
        with pytest.raises(Unresolvable) as info:
            await resolve(hass, f"{FRONT}/at/{moment}")
        assert info.value.translation_key == "recording_not_found"
        assert str(info.value) == "No recording covers the chosen time."
    assert not emulator.requests_for("PlayCloudRecord")


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        (f"01JNOSUCHENTRY/{HOME_IPC_STREAM_ID}/1-2", "recording_unknown_space"),
        (f"{ENTRY_ID}/no-such-stream/1-2", "recording_unknown_camera"),
        (f"{ENTRY_ID}/no-such-stream/at/1", "recording_unknown_camera"),
        (f"{FRONT}/2-1", "recording_unknown_item"),
        (f"{FRONT}/2026-01-01", "recording_unknown_item"),
        (f"{FRONT}/at/soon", "recording_unknown_item"),
        (f"{FRONT}/at/-1", "recording_unknown_item"),
        (f"{FRONT}/at", "recording_unknown_item"),
        (f"{FRONT}/when/1", "recording_unknown_item"),
        (FRONT, "recording_unknown_item"),
    ],
)
async def test_resolve_unknown(
    hass: HomeAssistant, home: MockConfigEntry, identifier: str, key: str
) -> None:
    with pytest.raises(Unresolvable) as info:
        await resolve(hass, identifier)
    assert info.value.translation_key == key


# --- play: device ------------------------------------------------------------------------------


async def wait_for(predicate: Any, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def test_play_device_recording_stops_when_idle(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    recording = await newest_recording(hass, GARDEN)
    play = await resolve(hass, recording)
    assert play.mime_type == "application/x-mpegURL"
    assert play.url.startswith("/api/hls/")
    assert emulator.recordings.active_playbacks(HOME_NVR_STREAM_IDS[0]) == 1
    sessions = home.runtime_data.playback_streams
    (session,) = sessions._sessions.values()
    hls = session.stream.outputs()["hls"]
    await wait_for(lambda: hls.last_segment is not None)  # PyAV pulls the playback's RTMP
    # nobody fetches the playlist: the stream integration's idle timeout passes
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=playback_streams.PLAYBACK_IDLE_TIMEOUT + 1)
    )
    await hass.async_block_till_done()
    async_fire_time_changed(
        hass,
        dt_util.utcnow()
        + timedelta(seconds=playback_streams.PLAYBACK_IDLE_TIMEOUT + 1)
        + playback_streams.WATCH_INTERVAL,
    )
    await hass.async_block_till_done()
    await wait_for(lambda: emulator.recordings.active_playbacks() == 0)
    assert sessions.active == 0
    assert len(emulator.requests_for("StopPlayback")) == 1


async def test_a_new_playback_of_the_channel_stops_the_previous(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    camera = await browse(hass, GARDEN)
    day = await browse(hass, identifiers(camera)[1])
    first, second = identifiers(day)[:2]
    await resolve(hass, first)
    await resolve(hass, second)
    assert emulator.recordings.active_playbacks() == 1
    assert len(emulator.requests_for("StopPlayback")) == 1
    assert home.runtime_data.playback_streams.active == 1


async def test_unload_stops_device_playbacks(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    await resolve(hass, await newest_recording(hass, GARDEN))
    assert emulator.recordings.active_playbacks() == 1
    assert await hass.config_entries.async_unload(home.entry_id)
    await hass.async_block_till_done()
    assert emulator.recordings.active_playbacks() == 0


async def test_a_device_that_leaves_has_its_playback_stopped(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    await browse(hass, FRONT)
    await resolve(hass, await newest_recording(hass, GARDEN))
    assert emulator.recordings.active_playbacks() == 1
    emulator.state.remove_device(SPACE_HOME_ID, HOME_NVR_ID)
    for _ in range(2):  # removed after two device lists without it
        await home.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
    await wait_for(lambda: emulator.recordings.active_playbacks() == 0)
    assert home.runtime_data.playback_streams.active == 0
    cached = home.runtime_data.recordings._sources  # the channel's listings are forgotten
    assert HOME_NVR_STREAM_IDS[0] not in cached
    assert HOME_IPC_STREAM_ID in cached  # the other cameras' stay


async def test_home_assistant_stop_stops_device_playbacks(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    await resolve(hass, await newest_recording(hass, GARDEN))
    assert emulator.recordings.active_playbacks() == 1
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    await wait_for(lambda: emulator.recordings.active_playbacks() == 0)


async def test_device_playback_ends_after_the_recordings_length(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    """A viewer that keeps the stream busy for ever still has the playback stopped."""
    recording = await newest_recording(hass, GARDEN)
    start, end = (int(t) for t in recording.rsplit("/", 1)[1].split("-"))
    await resolve(hass, recording)
    sessions = home.runtime_data.playback_streams
    (session,) = sessions._sessions.values()
    assert session.stream.outputs()  # a player that keeps fetching: never idle
    later = dt_util.utcnow() + timedelta(seconds=end - start) + playback_streams.PLAYBACK_MARGIN
    sessions._async_watch(later - timedelta(seconds=10))  # the watch's periodic check
    assert sessions.active == 1
    with patch.object(dt_util, "utcnow", return_value=later):
        sessions._async_watch(later)
    await hass.async_block_till_done()
    await wait_for(lambda: emulator.recordings.active_playbacks() == 0)
    assert home.runtime_data.playback_streams.active == 0


async def test_no_device_playback_starts_once_closed(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    """A play that lands while the entry unloads: refused, or stopped at once."""
    recording = await newest_recording(hass, GARDEN)
    sessions = home.runtime_data.playback_streams
    playing = hass.async_create_task(resolve(hass, recording))
    await asyncio.sleep(0)  # StartPlayback is on its way
    await sessions.async_close()
    with pytest.raises(Unresolvable) as info:
        await playing
    assert info.value.translation_key == "recording_unknown_space"
    with pytest.raises(Unresolvable):
        await resolve(hass, recording)
    await wait_for(lambda: emulator.recordings.active_playbacks() == 0)
    assert sessions.active == 0


async def test_device_playback_that_fails_is_stopped(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    """The stream stays unavailable (the pull fails): the playback is stopped."""
    await resolve(hass, await newest_recording(hass, GARDEN))
    sessions = home.runtime_data.playback_streams
    (session,) = sessions._sessions.values()
    hls = session.stream.outputs()["hls"]
    await wait_for(lambda: hls.last_segment is not None)  # the worker has reported "available"
    # its later reports (it may reconnect to the emulator meanwhile) are left out
    session.stream._set_state = lambda _available: None  # type: ignore[method-assign]
    session.stream._async_update_state(False)  # what the stream worker reports when it fails
    await hass.async_block_till_done()
    assert sessions.active == 1  # it may reconnect
    later = dt_util.utcnow() + playback_streams.UNAVAILABLE_GRACE
    with patch.object(dt_util, "utcnow", return_value=later):
        sessions._async_watch(later)  # the watch's periodic check
    await hass.async_block_till_done()
    await wait_for(lambda: emulator.recordings.active_playbacks() == 0)
    assert sessions.active == 0


async def test_device_playback_survives_a_reconnect(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    """The stream worker fails once and reconnects within the grace time: it plays on."""
    await resolve(hass, await newest_recording(hass, GARDEN))
    sessions = home.runtime_data.playback_streams
    (session,) = sessions._sessions.values()
    hls = session.stream.outputs()["hls"]
    await wait_for(lambda: hls.last_segment is not None)
    session.stream._set_state = lambda _available: None  # type: ignore[method-assign]
    session.stream._async_update_state(False)
    session.stream._async_update_state(True)  # reconnected
    later = dt_util.utcnow() + playback_streams.UNAVAILABLE_GRACE
    with patch.object(dt_util, "utcnow", return_value=later):
        sessions._async_watch(later)
    await hass.async_block_till_done()
    assert sessions.active == 1
    assert emulator.recordings.active_playbacks() == 1


async def test_device_playback_needs_the_stream_integration(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator
) -> None:
    recording = await newest_recording(hass, GARDEN)
    with pytest.raises(Unresolvable) as info:
        await resolve(hass, recording)
    assert info.value.translation_key == "recording_needs_stream"
    assert emulator.recordings.active_playbacks() == 0


async def test_stream_integration_refusing_the_url_stops_the_playback(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    recording = await newest_recording(hass, GARDEN)
    with (
        patch.object(playback_streams, "create_stream", side_effect=HomeAssistantError("refused")),
        pytest.raises(Unresolvable) as info,
    ):
        await resolve(hass, recording)
    assert info.value.translation_key == "recording_failed"
    await wait_for(lambda: emulator.recordings.active_playbacks() == 0)
    assert len(emulator.requests_for("StopPlayback")) == 1
    assert home.runtime_data.playback_streams.active == 0


async def test_device_playback_of_an_offline_camera(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    now = int(dt_util.utcnow().timestamp())
    with pytest.raises(Unresolvable) as info:
        await resolve(hass, f"{GARAGE}/{now - 7200}-{now - 3600}")
    assert info.value.translation_key == "recording_device_offline"
    assert not emulator.requests_for("StartPlayback")


async def test_device_refuses_playback(
    hass: HomeAssistant, home: MockConfigEntry, emulator: Emulator, stream: None
) -> None:
    """The camera does not answer the platform: translated, nothing left running."""
    recording = await newest_recording(hass, GARDEN)
    emulator.faults.add("StartPlayback", code="InvalidParameter.DeviceNotOnline", status=400)
    with pytest.raises(Unresolvable) as info:
        await resolve(hass, recording)
    assert info.value.translation_key == "recording_device_offline"
    assert emulator.recordings.active_playbacks() == 0
    assert home.runtime_data.playback_streams.active == 0
