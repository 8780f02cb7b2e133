"""Announcements through Assist (the announce-only satellite of each camera), repeated sounds.

HassBroadcast and assist_satellite.announce → satellite → the camera's speaker → emulator, with
the real ffmpeg and Home Assistant's own pre-announce sound.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from homeassistant.components.assist_satellite import AssistSatelliteConfiguration
from homeassistant.components.media_player import (
    ATTR_MEDIA_ANNOUNCE,
    ATTR_MEDIA_ENQUEUE,
    DOMAIN as MP_DOMAIN,
    MediaPlayerEnqueue,
)
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er, intent
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.volcengine_aiot.assist_satellite import VolcengineAnnouncerEntity
from custom_components.volcengine_aiot.const import DOMAIN
from custom_components.volcengine_aiot.media import tts_cache_key
from custom_components.volcengine_aiot.talk import TalkOptions
from tests.audio import (
    alaw_decode,
    dominant_frequency,
    ffmpeg_children,
    make_tone,
    rms,
    tones,
    voiced,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_IPC_OFFLINE_ID,
    HOME_IPC_OFFLINE_NSID,
    HOME_NVR_ID,
    HOME_NVR_NSID,
)
from tests.entities import entities_of
from tests.test_media_player import play, setup_fake_tts

SATELLITE = "assist_satellite"
CHIME_HZ = 3265  # Home Assistant's pre-announce sound, as heard through 8 kHz A-law
TTS_HZ = 800
SILENCE = bytes([0xD5]) * 160


def local(name: str) -> str:
    return f"media-source://media_source/local/{name}"


pytestmark = pytest.mark.usefixtures("no_leftover_ffmpeg")


@pytest.fixture
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    hass.config.media_dirs = {"local": str(folder)}
    make_tone(folder / "tone440.wav", 440, 0.6)
    make_tone(folder / "tone1000.mp3", 1000, 0.6)
    make_tone(folder / "long.wav", 300, 8.0)
    return folder


@pytest.fixture
async def tts_entity(hass: HomeAssistant, tmp_path: Path) -> str:
    """A TTS engine that 'says' an 800 Hz tone, set up before Assist picks its pipeline."""
    return await setup_fake_tts(hass, make_tone(tmp_path / "say.mp3", TTS_HZ, 1.0).read_bytes())


def satellite_id(entity_registry: er.EntityRegistry, device_id: str) -> str:
    entity_id = entity_registry.async_get_entity_id(SATELLITE, DOMAIN, f"{device_id}_announcer")
    assert entity_id is not None
    return entity_id


async def enable(
    hass: HomeAssistant, entry: MockConfigEntry, entity_registry: er.EntityRegistry, *devices: str
) -> list[str]:
    """Enable the satellites of some cameras (what the user does in the UI), then reload."""
    entity_ids = [satellite_id(entity_registry, device) for device in devices]
    for entity_id in entity_ids:
        entity_registry.async_update_entity(entity_id, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    return entity_ids


@pytest.fixture
async def loaded(
    hass: HomeAssistant,
    tts_entity: str,
    media_dir: Path,
    init_integration: MockConfigEntry,
) -> MockConfigEntry:
    return init_integration


@pytest.fixture
async def front_door(
    hass: HomeAssistant, loaded: MockConfigEntry, entity_registry: er.EntityRegistry
) -> str:
    """The enabled satellite of the front door camera."""
    (entity_id,) = await enable(hass, loaded, entity_registry, HOME_IPC_ID)
    return entity_id


async def announce(hass: HomeAssistant, entity_id: str | list[str], **data: Any) -> None:
    await hass.services.async_call(
        SATELLITE, "announce", {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )


async def wait_for_sound(emulator: Emulator, frames: int = 15) -> None:
    """Wait until the front door has received some non-silent audio."""
    async with asyncio.timeout(10):
        while (
            sum(
                f.payload != SILENCE
                for r in emulator.talk.sessions_for(HOME_IPC_NSID)
                for f in r.frames
            )
            < frames
        ):
            await asyncio.sleep(0.01)


def heard(emulator: Emulator, nsid: str, expected: list[float]) -> list[float]:
    (recording,) = emulator.talk.sessions_for(nsid)
    assert recording.errors == []
    assert recording.stopped
    return tones(alaw_decode(recording.alaw()), expected)


async def test_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One satellite per camera, on the camera's device, disabled by default."""
    monkeypatch.setattr("custom_components.volcengine_aiot.PLATFORMS", [Platform.ASSIST_SATELLITE])
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    entities = entities_of(hass, mock_config_entry.entry_id)
    assert entities == snapshot
    assert len(entities) == 4
    assert all(
        e["entry"]["disabled_by"] is er.RegistryEntryDisabler.INTEGRATION for e in entities.values()
    )
    assert hass.states.async_entity_ids(SATELLITE) == []


async def test_enabled_entity(
    hass: HomeAssistant, front_door: str, loaded: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    assert entities_of(hass, loaded.entry_id)[front_door] == snapshot
    state = hass.states.get(front_door)
    assert state is not None
    assert state.state == "idle"
    assert state.attributes["supported_features"] == 1  # ANNOUNCE only
    assert state.attributes["friendly_name"] == "Front door Announcements"


async def test_broadcast_reaches_enabled_cameras_only(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """ "Broadcast that dinner is ready": chime then speech on the enabled, online cameras."""
    front, nvr, offline = await enable(
        hass, loaded, entity_registry, HOME_IPC_ID, HOME_NVR_ID, HOME_IPC_OFFLINE_ID
    )
    assert hass.states.get(offline).state == "unavailable"
    response = await intent.async_handle(
        hass, "test", intent.INTENT_BROADCAST, {"message": {"value": "dinner is ready"}}
    )
    assert response.response_type == intent.IntentResponseType.ACTION_DONE
    # Home Assistant lists every enabled satellite; its announce action skips unavailable ones.
    assert {target.id for target in response.success_results} == {front, nvr, offline}
    for nsid in (HOME_IPC_NSID, HOME_NVR_NSID):
        assert heard(emulator, nsid, [CHIME_HZ, TTS_HZ]) == [CHIME_HZ, TTS_HZ]
    # The disabled satellites (and the offline camera) got nothing.
    assert emulator.talk.sessions_for(HOME_IPC_OFFLINE_NSID) == []
    assert hass.states.get(front).state == "idle"


async def test_broadcast_skips_disabled_cameras(
    hass: HomeAssistant, emulator: Emulator, front_door: str
) -> None:
    await intent.async_handle(
        hass, "test", intent.INTENT_BROADCAST, {"message": {"value": "dinner is ready"}}
    )
    assert heard(emulator, HOME_IPC_NSID, [CHIME_HZ, TTS_HZ]) == [CHIME_HZ, TTS_HZ]
    assert emulator.talk.sessions_for(HOME_NVR_NSID) == []


async def test_announce_message(
    hass: HomeAssistant, emulator: Emulator, front_door: str, spawned: list[str]
) -> None:
    states: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: (
            states.append(event.data["new_state"].state)
            if event.data["entity_id"] == front_door
            else None
        ),
    )
    await announce(hass, front_door, message="dinner is ready")
    await hass.async_block_till_done()  # the satellite's return to idle is written after the call
    assert heard(emulator, HOME_IPC_NSID, [CHIME_HZ, TTS_HZ]) == [CHIME_HZ, TTS_HZ]
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    speech = alaw_decode(recording.alaw())[-16000:]  # the last 2 s: speech, then the tail
    assert abs(len(voiced(speech)) / 8000 - 1.0) < 0.1
    assert states == ["responding", "idle"]
    assert spawned == ["pre-announce", "dinner is ready"]  # the speech streamed in-process


async def test_announce_media_id_without_preannounce(
    hass: HomeAssistant, emulator: Emulator, front_door: str
) -> None:
    await announce(hass, front_door, media_id=local("tone1000.mp3"), preannounce=False)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    tone = voiced(alaw_decode(recording.alaw()))
    assert abs(dominant_frequency(tone) - 1000) < 10
    assert abs(len(tone) / 8000 - 0.6) < 0.05  # no chime before it
    assert recording.stopped


async def test_announce_media_selector_value(
    hass: HomeAssistant, emulator: Emulator, front_door: str
) -> None:
    await announce(
        hass,
        front_door,
        media_id={"media_content_id": local("tone1000.mp3"), "media_content_type": "music"},
    )
    assert heard(emulator, HOME_IPC_NSID, [CHIME_HZ, 1000]) == [CHIME_HZ, 1000]


async def test_announce_with_custom_preannounce(
    hass: HomeAssistant, emulator: Emulator, front_door: str, http_media: str
) -> None:
    await announce(
        hass,
        front_door,
        message="dinner is ready",
        preannounce_media_id=f"{http_media}/tone440.wav",
    )
    assert heard(emulator, HOME_IPC_NSID, [CHIME_HZ, 440, TTS_HZ]) == [440, TTS_HZ]


async def test_announce_url(
    hass: HomeAssistant, emulator: Emulator, front_door: str, http_media: str
) -> None:
    await announce(hass, front_door, media_id=f"{http_media}/tone1000.mp3", preannounce=False)
    assert heard(emulator, HOME_IPC_NSID, [1000]) == [1000]


async def test_announce_interrupts_media_player_playback(
    hass: HomeAssistant,
    emulator: Emulator,
    front_door: str,
    entity_registry: er.EntityRegistry,
) -> None:
    """An announcement cuts into a long playback of the same camera, in the same talk."""
    speaker = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_IPC_ID}_speaker")
    assert speaker is not None
    playing = hass.async_create_task(play(hass, speaker, local("long.wav")))
    await wait_for_sound(emulator)
    await announce(hass, front_door, media_id=local("tone1000.mp3"), preannounce=False)
    await playing  # interrupted: returns without error
    assert heard(emulator, HOME_IPC_NSID, [300, 1000]) == [300, 1000]
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert len(recording.frames) < 5 * 50  # the 8 s file did not play to its end
    assert hass.states.get(speaker).state == "idle"
    assert hass.states.get(front_door).state == "idle"


async def test_media_player_announcement_keeps_the_queue(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """play_media with announce (tts.speak's way): at once; what was queued plays after it."""
    speaker = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_IPC_ID}_speaker")
    assert speaker is not None
    playing = hass.async_create_task(play(hass, speaker, local("long.wav")))
    await wait_for_sound(emulator)
    queued = hass.async_create_task(
        play(hass, speaker, local("tone440.wav"), **{ATTR_MEDIA_ENQUEUE: MediaPlayerEnqueue.ADD})
    )
    await asyncio.sleep(0)
    await play(hass, speaker, local("tone1000.mp3"), **{ATTR_MEDIA_ANNOUNCE: True})
    await asyncio.gather(playing, queued)
    assert heard(emulator, HOME_IPC_NSID, [300, 440, 1000]) == [300, 1000, 440]
    assert hass.states.get(speaker).state == "idle"


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        ({"code": "Busy.VoiceTalkDeviceBusy", "status": 500, "times": 50}, "device_busy"),
        ({"code": "InternalError.VoiceTalkDeviceFail", "status": 500}, "device_unreachable"),
    ],
)
async def test_announce_failures(
    hass: HomeAssistant,
    emulator: Emulator,
    front_door: str,
    fault: dict[str, Any],
    key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Busy or unreachable camera: a translated error, nothing left running."""
    init = TalkOptions.__init__

    def fast_busy(self: TalkOptions, *args: Any, **kwargs: Any) -> None:
        kwargs["busy_retry_delay"] = 0.01
        init(self, *args, **kwargs)

    monkeypatch.setattr(TalkOptions, "__init__", fast_busy)
    await hass.config_entries.async_reload(hass.config_entries.async_entries(DOMAIN)[0].entry_id)
    await hass.async_block_till_done()
    emulator.faults.add("StartVoiceTalk", **{"times": 1, **fault})
    with pytest.raises(HomeAssistantError) as info:
        await announce(hass, front_door, message="dinner is ready")
    assert info.value.translation_key == key
    assert "Front door" in str(info.value)
    assert "{" not in str(info.value)
    assert hass.states.get(front_door).state == "idle"
    assert not emulator.talk.active(HOME_IPC_NSID)
    assert ffmpeg_children() == []


async def test_offline_camera_is_unavailable_and_skipped(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    (offline,) = await enable(hass, loaded, entity_registry, HOME_IPC_OFFLINE_ID)
    assert hass.states.get(offline).state == "unavailable"
    await announce(hass, offline, message="dinner is ready")  # Home Assistant skips it
    assert emulator.talk.sessions_for(HOME_IPC_OFFLINE_NSID) == []


async def test_camera_offline_when_the_announcement_starts(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """An announcement that reaches a camera gone offline meanwhile: a translated error."""
    (offline,) = await enable(hass, loaded, entity_registry, HOME_IPC_OFFLINE_ID)
    entity = hass.data["assist_satellite"].get_entity(offline)
    assert isinstance(entity, VolcengineAnnouncerEntity)
    with pytest.raises(HomeAssistantError) as info:
        await entity.async_internal_announce(media_id=local("tone1000.mp3"), preannounce=False)
    assert info.value.translation_key == "device_unavailable"
    assert "Garage" in str(info.value)
    assert emulator.talk.sessions_for(HOME_IPC_OFFLINE_NSID) == []


async def test_announce_with_the_speaker_disabled(
    hass: HomeAssistant,
    emulator: Emulator,
    front_door: str,
    loaded: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The speaker belongs to the camera: announcements play with its media player disabled.

    The volume set on the media player before is kept across the reload and applied.
    """
    speaker = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_IPC_ID}_speaker")
    assert speaker is not None
    await announce(hass, front_door, media_id=local("tone1000.mp3"), preannounce=False)
    await hass.services.async_call(
        MP_DOMAIN, "volume_set", {ATTR_ENTITY_ID: speaker, "volume_level": 0.25}, blocking=True
    )
    entity_registry.async_update_entity(speaker, disabled_by=er.RegistryEntryDisabler.USER)
    assert await hass.config_entries.async_reload(loaded.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(speaker) is None
    await announce(hass, front_door, media_id=local("tone1000.mp3"), preannounce=False)
    loud, quiet = (
        rms(voiced(alaw_decode(r.alaw()))) for r in emulator.talk.sessions_for(HOME_IPC_NSID)
    )
    assert abs(quiet / loud - 0.25) < 0.03
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_announce_follows_the_speaker_volume(
    hass: HomeAssistant,
    emulator: Emulator,
    front_door: str,
    entity_registry: er.EntityRegistry,
) -> None:
    speaker = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_IPC_ID}_speaker")
    await announce(hass, front_door, media_id=local("tone1000.mp3"), preannounce=False)
    await hass.services.async_call(
        MP_DOMAIN, "volume_set", {ATTR_ENTITY_ID: speaker, "volume_level": 0.25}, blocking=True
    )
    await announce(hass, front_door, media_id=local("tone1000.mp3"), preannounce=False)
    loud, quiet = (
        rms(voiced(alaw_decode(r.alaw()))) for r in emulator.talk.sessions_for(HOME_IPC_NSID)
    )
    assert abs(quiet / loud - 0.25) < 0.03


async def test_no_wake_words(hass: HomeAssistant, front_door: str) -> None:
    """A camera only announces: no wake words to offer or to set."""
    entity = hass.data["assist_satellite"].get_entity(front_door)
    assert isinstance(entity, VolcengineAnnouncerEntity)
    config = entity.async_get_configuration()
    assert config.available_wake_words == []
    assert config.active_wake_words == []
    assert config.max_active_wake_words == 0
    await entity.async_set_configuration(config)
    with pytest.raises(ServiceValidationError) as info:
        await entity.async_set_configuration(
            AssistSatelliteConfiguration(
                available_wake_words=[], active_wake_words=["okay_nabu"], max_active_wake_words=1
            )
        )
    assert info.value.translation_key == "no_wake_words"
    entity.on_pipeline_event(None)  # type: ignore[arg-type]  # never called by Home Assistant


async def test_wake_words_over_websocket(
    hass: HomeAssistant, front_door: str, hass_ws_client: Any
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "assist_satellite/get_configuration", "entity_id": front_door}
    )
    response = await client.receive_json()
    assert response["success"]
    assert response["result"]["available_wake_words"] == []
    assert response["result"]["active_wake_words"] == []


async def test_repeated_announcement_is_served_from_the_cache(
    hass: HomeAssistant, emulator: Emulator, front_door: str, spawned: list[str]
) -> None:
    """The second time, the chime and the speech start without ffmpeg, with the same audio."""
    await announce(hass, front_door, message="dinner is ready")
    assert spawned == ["pre-announce", "dinner is ready"]
    await announce(hass, front_door, message="dinner is ready")
    assert spawned == ["pre-announce", "dinner is ready"]  # no new ffmpeg
    first, second = emulator.talk.sessions_for(HOME_IPC_NSID)
    silence = bytes([0xD5]) * 160
    assert [f.payload for f in first.frames if f.payload != silence] == [
        f.payload for f in second.frames if f.payload != silence
    ]
    assert heard_all(second) == [CHIME_HZ, TTS_HZ]


@pytest.fixture
def speaker(loaded: MockConfigEntry, entity_registry: er.EntityRegistry) -> str:
    entity_id = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_IPC_ID}_speaker")
    assert entity_id is not None
    return entity_id


# --- repeated sounds on the media player: from the A-law cache, URLs never -------------------


def sounds(emulator: Emulator) -> list[list[bytes]]:
    """Return the non-silent frames of every talk of the front door, in order."""
    return [
        [f.payload for f in recording.frames if f.payload != SILENCE]
        for recording in emulator.talk.sessions_for(HOME_IPC_NSID)
    ]


async def test_media_player_local_file_repeat(
    hass: HomeAssistant, emulator: Emulator, speaker: str, spawned: list[str]
) -> None:
    await play(hass, speaker, local("tone440.wav"))
    await play(hass, speaker, local("tone440.wav"))
    assert spawned == ["tone440.wav"]
    first, second = sounds(emulator)
    assert second == first
    assert len(first) == 30  # 0.6 s


async def test_media_player_url_is_never_cached(
    hass: HomeAssistant, emulator: Emulator, speaker: str, http_media: str, spawned: list[str]
) -> None:
    await play(hass, speaker, f"{http_media}/tone1000.mp3")
    await play(hass, speaker, f"{http_media}/tone1000.mp3")
    assert spawned == ["tone1000.mp3", "tone1000.mp3"]


async def test_media_player_tts_repeat(
    hass: HomeAssistant, emulator: Emulator, speaker: str, tts_entity: str, spawned: list[str]
) -> None:
    """The same message with the same engine and options is the same TTS result."""
    for message in ("hello", "hello", "bye"):
        await hass.services.async_call(
            "tts",
            "speak",
            {ATTR_ENTITY_ID: tts_entity, "media_player_entity_id": speaker, "message": message},
            blocking=True,
        )
    assert spawned == ["hello", "bye"]
    hello, again, _ = sounds(emulator)
    assert again == hello


@pytest.mark.parametrize("gain_db", [0, 6])
async def test_media_player_chime_repeat(
    hass: HomeAssistant, emulator: Emulator, speaker: str, spawned: list[str], gain_db: float
) -> None:
    for _ in range(2):
        await hass.services.async_call(
            DOMAIN,
            "play_audio",
            {
                ATTR_ENTITY_ID: speaker,
                "media": local("tone1000.mp3"),
                "chime": True,
                "gain_db": gain_db,
            },
            blocking=True,
            return_response=True,
        )
    assert spawned == ["chime", "tone1000.mp3"]
    first, second = sounds(emulator)
    assert second == first


def heard_all(recording: Any) -> list[float]:
    return tones(alaw_decode(recording.alaw()), [CHIME_HZ, TTS_HZ])


@pytest.mark.parametrize(
    ("media_id", "key"),
    [
        ("media-source://tts/tts.fake?message=hi", "tts:media-source://tts/tts.fake?message=hi"),
        ("media-source://tts/-stream-/abc123", None),  # a one-off stream: no identity
        ("media-source://media_source/local/a.mp3", None),
        ("http://example.invalid/a.mp3", None),
    ],
)
def test_tts_cache_key(media_id: str, key: str | None) -> None:
    assert tts_cache_key(media_id) == key
