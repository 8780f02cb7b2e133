"""The camera speaker end to end: HA service → entity → talk → emulator, with the real ffmpeg."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import logging
import os
from pathlib import Path
import signal
import socket
import traceback
from typing import Any, ClassVar
from unittest.mock import Mock, patch

from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    ATTR_MEDIA_ENQUEUE,
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
    MediaPlayerEnqueue,
)
from homeassistant.components.media_source import MediaSource, MediaSourceItem, PlayMedia
from homeassistant.components.tts import (
    TextToSpeechEntity,
    TTSAudioRequest,
    TTSAudioResponse,
    TtsAudioType,
)
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_MEDIA_STOP,
    SERVICE_VOLUME_SET,
    Platform,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_config_flow,
    mock_integration,
    mock_platform,
    mock_restore_cache,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.volcengine_aiot.const import CONF_MAX_DURATION, DOMAIN
from custom_components.volcengine_aiot.media import async_file_source
from custom_components.volcengine_aiot.talk import sender
from custom_components.volcengine_aiot.talk.flv import SILENCE_FRAME
from tests.audio import (
    FFMPEG,
    alaw_decode,
    dominant_frequency,
    ffmpeg_children,
    make_tone,
    rms,
    voiced,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_NVR_ID,
    HOME_NVR_NSID,
    SPACE_HOME_ID,
)
from tests.entities import entities_of
from tests.media_server import MediaServer, hls_playlist, make_ts

SPEAKER_UID = f"{HOME_IPC_ID}_speaker"


pytestmark = pytest.mark.usefixtures("no_leftover_ffmpeg")


@pytest.fixture
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A 'My media' folder with test sounds."""
    folder = tmp_path / "media"
    folder.mkdir()
    hass.config.media_dirs = {"local": str(folder)}
    make_tone(folder / "tone440.wav", 440, 1.0)
    make_tone(folder / "tone1000.mp3", 1000, 0.6)
    make_tone(folder / "long.wav", 300, 8.0)
    (folder / "corrupt.mp3").write_bytes(b"\xff\xfb" + b"garbage" * 500)
    return folder


@pytest.fixture
async def loaded(
    hass: HomeAssistant, media_dir: Path, init_integration: MockConfigEntry
) -> MockConfigEntry:
    return init_integration


@pytest.fixture
def speaker(
    hass: HomeAssistant, loaded: MockConfigEntry, entity_registry: er.EntityRegistry
) -> str:
    entity_id = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, SPEAKER_UID)
    assert entity_id is not None
    return entity_id


async def play(hass: HomeAssistant, entity_id: str, media_id: str, **extra: Any) -> None:
    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_PLAY_MEDIA,
        {
            ATTR_ENTITY_ID: entity_id,
            ATTR_MEDIA_CONTENT_ID: media_id,
            ATTR_MEDIA_CONTENT_TYPE: "music",
            **extra,
        },
        blocking=True,
    )


async def wait_for_state(hass: HomeAssistant, entity_id: str, state: str) -> None:
    async with asyncio.timeout(10):
        while hass.states.get(entity_id).state != state:
            await asyncio.sleep(0.01)


async def wait_for_audio(emulator: Emulator, nsid: str = HOME_IPC_NSID, frames: int = 40) -> None:
    """Wait until the camera has received some audio (past the pre-roll)."""
    async with asyncio.timeout(10):
        while sum(len(r.frames) for r in emulator.talk.sessions_for(nsid)) < frames:
            await asyncio.sleep(0.01)


def local(name: str) -> str:
    return f"media-source://media_source/local/{name}"


async def test_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("custom_components.volcengine_aiot.PLATFORMS", [Platform.MEDIA_PLAYER])
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert entities_of(hass, mock_config_entry.entry_id) == snapshot


async def test_play_local_media(hass: HomeAssistant, emulator: Emulator, speaker: str) -> None:
    states: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: (
            states.append(event.data["new_state"].state)
            if event.data["entity_id"] == speaker
            else None
        ),
    )
    await play(hass, speaker, local("tone440.wav"))
    await hass.async_block_till_done()
    assert states[0] == "playing"
    assert hass.states.get(speaker).state == "idle"

    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.errors == []
    assert recording.header is not None
    assert recording.stopped
    samples = alaw_decode(recording.alaw())
    tone = voiced(samples)
    assert abs(dominant_frequency(tone) - 440) < 5
    assert abs(len(tone) / 8000 - 1.0) < 0.05
    assert [f.timestamp_ms for f in recording.frames] == [
        20 * i for i in range(len(recording.frames))
    ]
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_play_url(
    hass: HomeAssistant, emulator: Emulator, speaker: str, http_media: str
) -> None:
    await play(hass, speaker, f"{http_media}/tone1000.mp3")
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    tone = voiced(alaw_decode(recording.alaw()))
    assert abs(dominant_frequency(tone) - 1000) < 10


class FakeTTS(TextToSpeechEntity):
    """A text-to-speech entity that 'says' a 800 Hz tone."""

    _attr_name = "Fake"
    _attr_unique_id = "fake_tts"
    _attr_supported_languages: ClassVar[list[str]] = ["en"]
    _attr_default_language = "en"

    def __init__(self, audio: bytes) -> None:
        self._audio = audio

    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> TtsAudioType:
        return "mp3", self._audio


class SlowTTS(FakeTTS):
    """A streaming TTS entity: half of its audio at once, the rest once ``gate`` is set."""

    def __init__(self, audio: bytes, gate: asyncio.Event) -> None:
        super().__init__(audio)
        self._gate = gate

    async def async_stream_tts_audio(self, request: TTSAudioRequest) -> TTSAudioResponse:
        async for _ in request.message_gen:
            pass

        async def synthesis() -> AsyncIterator[bytes]:
            yield self._audio[: len(self._audio) // 2]
            await self._gate.wait()
            yield self._audio[len(self._audio) // 2 :]

        return TTSAudioResponse("mp3", synthesis())


async def setup_fake_tts(
    hass: HomeAssistant, audio: bytes, entity: TextToSpeechEntity | None = None
) -> str:
    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(entry, ["tts"])
        return True

    async def setup_tts_platform(
        hass: HomeAssistant, entry: ConfigEntry, async_add_entities: Any
    ) -> None:
        async_add_entities([entity or FakeTTS(audio)])

    mock_integration(hass, MockModule("fake_tts", async_setup_entry=setup_entry))
    mock_platform(hass, "fake_tts.tts", MockPlatform(async_setup_entry=setup_tts_platform))
    mock_platform(hass, "fake_tts.config_flow")
    assert await async_setup_component(hass, "tts", {})
    entry = MockConfigEntry(domain="fake_tts")
    entry.add_to_hass(hass)
    with mock_config_flow("fake_tts", FakeTTSFlow):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return "tts.fake"


class FakeTTSFlow(ConfigFlow):
    """Config flow of the fake TTS integration (never shown)."""

    VERSION = 1


async def test_tts_speak(
    hass: HomeAssistant, emulator: Emulator, speaker: str, tmp_path: Path
) -> None:
    """tts.speak targeting the speaker streams the synthesis in-process."""
    tts_entity = await setup_fake_tts(hass, make_tone(tmp_path / "say.mp3", 800, 1.0).read_bytes())
    await hass.services.async_call(
        "tts",
        "speak",
        {
            ATTR_ENTITY_ID: tts_entity,
            "media_player_entity_id": speaker,
            "message": "有人在门口",
        },
        blocking=True,
    )
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    speech = voiced(alaw_decode(recording.alaw()))
    assert abs(dominant_frequency(speech) - 800) < 10
    assert abs(len(speech) / 8000 - 1.0) < 0.1
    assert recording.errors == []
    assert hass.states.get(speaker).state == "idle"


async def test_tts_speak_cache_false_bypasses_the_transcoded_audio_cache(
    hass: HomeAssistant, emulator: Emulator, speaker: str, loaded: MockConfigEntry, tmp_path: Path
) -> None:
    """tts.speak with cache: false is transcoded every time: the A-law is neither read nor kept.

    (Home Assistant's ``cache`` is about its own file cache; the integration keeps none of it.)
    """
    cache = loaded.runtime_data.transcoders.cache
    tts_entity = await setup_fake_tts(hass, make_tone(tmp_path / "say.mp3", 800, 1.0).read_bytes())

    async def speak(**extra: Any) -> None:
        await hass.services.async_call(
            "tts",
            "speak",
            {
                ATTR_ENTITY_ID: tts_entity,
                "media_player_entity_id": speaker,
                "message": "same words",
                **extra,
            },
            blocking=True,
        )
        recording = emulator.talk.sessions_for(HOME_IPC_NSID)[-1]
        assert abs(dominant_frequency(voiced(alaw_decode(recording.alaw()))) - 800) < 10

    for _ in range(2):
        await speak(cache=False)
    assert cache.stats()["entries"] == 0
    assert cache.stats()["hits"] == 0
    for _ in range(2):  # the default (cache: true) is kept and repeated from memory
        await speak()
    assert cache.stats()["entries"] == 1
    assert cache.stats()["hits"] == 1


async def test_progress_of_a_first_tts_play(
    hass: HomeAssistant, emulator: Emulator, speaker: str, tmp_path: Path
) -> None:
    """A TTS result's duration shows once it has been synthesised, on its first play too."""
    tts_entity = await setup_fake_tts(hass, make_tone(tmp_path / "say.mp3", 800, 3.0).read_bytes())
    playing: list[Any] = []

    def record(event: Any) -> None:
        state = event.data["new_state"]
        if state is not None and state.entity_id == speaker and state.state == "playing":
            playing.append(state.attributes.get("media_duration"))

    unsubscribe = hass.bus.async_listen("state_changed", record)
    await hass.services.async_call(
        "tts",
        "speak",
        {ATTR_ENTITY_ID: tts_entity, "media_player_entity_id": speaker, "message": "long"},
        blocking=True,
    )
    unsubscribe()
    assert playing[0] is None  # not known when it starts: the synthesis is piped to ffmpeg
    assert 3 in playing  # known while it plays, not only on a repeat from the cache
    assert hass.states.get(speaker).state == "idle"
    assert "media_duration" not in hass.states.get(speaker).attributes


async def test_progress_of_a_tts_result_shows_once_it_is_synthesised(
    hass: HomeAssistant, emulator: Emulator, speaker: str, tmp_path: Path
) -> None:
    gate = asyncio.Event()
    audio = make_tone(tmp_path / "say.mp3", 800, 6.0).read_bytes()
    tts_entity = await setup_fake_tts(hass, audio, SlowTTS(audio, gate))
    task = hass.async_create_task(
        hass.services.async_call(
            "tts",
            "speak",
            {ATTR_ENTITY_ID: tts_entity, "media_player_entity_id": speaker, "message": "slow"},
            blocking=True,
        )
    )
    await wait_for_sound(emulator)  # playing the first half, the rest is not synthesised yet
    assert hass.states.get(speaker).attributes.get("media_duration") is None
    gate.set()
    async with asyncio.timeout(10):
        while hass.states.get(speaker).attributes.get("media_duration") is None:
            await asyncio.sleep(0.05)
    state = hass.states.get(speaker)
    assert state.state == "playing"
    assert state.attributes["media_duration"] == 6
    assert state.attributes["media_position"] == 0  # counted from the start of the sound
    await hass.services.async_call(
        MP_DOMAIN, SERVICE_MEDIA_STOP, {ATTR_ENTITY_ID: speaker}, blocking=True
    )
    await task


async def test_announcement_to_two_cameras_decodes_once(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    entity_registry: er.EntityRegistry,
    tmp_path: Path,
    spawned: list[str],
) -> None:
    """tts.speak to two speakers: one synthesis stream, one ffmpeg, both cameras speak."""
    nvr = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_NVR_ID}_speaker")
    tts_entity = await setup_fake_tts(hass, make_tone(tmp_path / "say.mp3", 800, 1.0).read_bytes())
    await hass.services.async_call(
        "tts",
        "speak",
        {ATTR_ENTITY_ID: tts_entity, "media_player_entity_id": [speaker, nvr], "message": "hi"},
        blocking=True,
    )
    assert spawned == ["hi"]
    for nsid in (HOME_IPC_NSID, HOME_NVR_NSID):
        (recording,) = emulator.talk.sessions_for(nsid)
        speech = voiced(alaw_decode(recording.alaw()))
        assert abs(dominant_frequency(speech) - 800) < 10
        assert abs(len(speech) / 8000 - 1.0) < 0.1


async def test_play_audio_service_with_chime(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    response = await hass.services.async_call(
        DOMAIN,
        "play_audio",
        {
            ATTR_ENTITY_ID: speaker,
            "media": {"media_content_id": local("tone440.wav"), "media_content_type": "audio/wav"},
            "chime": True,
            "gain_db": -6,
        },
        blocking=True,
        return_response=True,
    )
    result = response[speaker]
    assert result["interrupted"] is False
    assert 1.6 < result["played_seconds"] < 1.9  # 0.7 s chime + 1.0 s tone
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.errors == []


async def test_volume_is_a_gain(hass: HomeAssistant, emulator: Emulator, speaker: str) -> None:
    await play(hass, speaker, local("tone440.wav"))
    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_VOLUME_SET,
        {ATTR_ENTITY_ID: speaker, ATTR_MEDIA_VOLUME_LEVEL: 0.5},
        blocking=True,
    )
    assert hass.states.get(speaker).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.5
    await play(hass, speaker, local("tone440.wav"))
    full, half = emulator.talk.sessions_for(HOME_IPC_NSID)
    ratio = rms(voiced(alaw_decode(half.alaw()))) / rms(voiced(alaw_decode(full.alaw())))
    assert 0.45 < ratio < 0.55


async def test_volume_is_restored(
    hass: HomeAssistant, media_dir: Path, mock_config_entry: MockConfigEntry
) -> None:
    mock_restore_cache(
        hass, [State("media_player.front_door_speaker", "idle", {ATTR_MEDIA_VOLUME_LEVEL: 0.3})]
    )
    mock_config_entry.add_to_hass(hass)
    registry = er.async_get(hass)
    registry.async_get_or_create(
        MP_DOMAIN,
        DOMAIN,
        SPEAKER_UID,
        suggested_object_id="front_door_speaker",
        config_entry=mock_config_entry,
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get("media_player.front_door_speaker")
    assert state.attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.3
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_volume_is_kept_by_the_integration(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    media_dir: Path,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The volume is saved with the entry, not only in the entity's state."""
    store_key = f"{DOMAIN}.{mock_config_entry.entry_id}.volumes"
    hass_storage[store_key] = {"version": 1, "key": store_key, "data": {HOME_IPC_ID: 0.3}}
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    speaker = er.async_get(hass).async_get_entity_id(MP_DOMAIN, DOMAIN, SPEAKER_UID)
    assert speaker is not None
    assert hass.states.get(speaker).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.3
    await hass.services.async_call(
        MP_DOMAIN,
        SERVICE_VOLUME_SET,
        {ATTR_ENTITY_ID: speaker, ATTR_MEDIA_VOLUME_LEVEL: 0.7},
        blocking=True,
    )
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    assert hass_storage[store_key]["data"] == {HOME_IPC_ID: 0.7}


async def test_stop(hass: HomeAssistant, emulator: Emulator, speaker: str) -> None:
    task = hass.async_create_task(play(hass, speaker, local("long.wav")))
    await wait_for_state(hass, speaker, "playing")
    await wait_for_audio(emulator)
    assert hass.states.get(speaker).attributes["media_title"] == "long.wav"
    await hass.services.async_call(
        MP_DOMAIN, SERVICE_MEDIA_STOP, {ATTR_ENTITY_ID: speaker}, blocking=True
    )
    assert hass.states.get(speaker).state == "idle"
    await asyncio.wait_for(task, 5)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.stopped
    assert len(recording.frames) * 0.02 < 5


async def test_new_play_interrupts(hass: HomeAssistant, emulator: Emulator, speaker: str) -> None:
    first = hass.async_create_task(play(hass, speaker, local("long.wav")))
    await wait_for_audio(emulator)
    await play(hass, speaker, local("tone1000.mp3"))
    await asyncio.wait_for(first, 5)
    tail = voiced(alaw_decode(b"".join(f.payload for f in _all_frames(emulator)[-40:])))
    assert abs(dominant_frequency(tail) - 1000) < 15
    assert hass.states.get(speaker).state == "idle"


async def test_enqueue_plays_in_the_same_session(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    first = hass.async_create_task(play(hass, speaker, local("tone440.wav")))
    await wait_for_state(hass, speaker, "playing")
    await play(hass, speaker, local("tone1000.mp3"), **{ATTR_MEDIA_ENQUEUE: MediaPlayerEnqueue.ADD})
    await asyncio.wait_for(first, 5)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    samples = voiced(alaw_decode(recording.alaw()))
    assert len(samples) / 8000 > 1.5
    assert [f.timestamp_ms for f in recording.frames] == [
        20 * i for i in range(len(recording.frames))
    ]


async def test_two_cameras_in_parallel(
    hass: HomeAssistant, emulator: Emulator, speaker: str, entity_registry: er.EntityRegistry
) -> None:
    nvr = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_NVR_ID}_speaker")
    assert nvr is not None
    await asyncio.gather(
        play(hass, speaker, local("tone440.wav")), play(hass, nvr, local("tone440.wav"))
    )
    (nvr_talk,) = emulator.talk.sessions_for(HOME_NVR_NSID)
    (ipc_talk,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    # in parallel, not one after the other: the two talks were open at the same time
    assert max(nvr_talk.connected_at, ipc_talk.connected_at) < min(
        nvr_talk.closed_at, ipc_talk.closed_at
    )


def _all_frames(emulator: Emulator) -> list[Any]:
    return [frame for rec in emulator.talk.sessions_for(HOME_IPC_NSID) for frame in rec.frames]


async def test_browse_media(hass: HomeAssistant, speaker: str, hass_ws_client: Any) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "media_player/browse_media", "entity_id": speaker})
    response = await client.receive_json()
    assert response["success"]
    assert response["result"]["children"]


@pytest.mark.parametrize(
    ("media_id", "key"),
    [
        (local("missing.wav"), "media_not_found"),
        ("media-source://nope/thing", "media_not_found"),
        ("ftp://example.com/a.mp3", "unsupported_media"),
        ("just some text", "unsupported_media"),
        (local("corrupt.mp3"), "media_error"),
    ],
)
async def test_caller_mistakes(
    hass: HomeAssistant, emulator: Emulator, speaker: str, media_id: str, key: str
) -> None:
    with pytest.raises(ServiceValidationError) as info:
        await play(hass, speaker, media_id)
    assert info.value.translation_key == key
    assert "{" not in str(info.value)
    assert key not in str(info.value)  # the translated message, not the key
    assert hass.states.get(speaker).state == "idle"
    assert not emulator.talk.active(HOME_IPC_NSID)


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        ({"code": "InternalError.VoiceTalkDeviceFail", "status": 500}, "device_unreachable"),
        ({"code": "Busy.VoiceTalkDeviceBusy", "status": 500, "times": 50}, "device_busy"),
        ({"code": "AccessDenied", "status": 403}, "talk_failed"),
    ],
)
async def test_talk_start_failures(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    fault: dict[str, Any],
    key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from custom_components.volcengine_aiot import talk  # noqa: PLC0415

    monkeypatch.setattr(talk.TalkOptions, "__init__", _fast_busy(talk.TalkOptions.__init__))
    emulator.faults.add("StartVoiceTalk", **{"times": 1, **fault})
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, local("tone440.wav"))
    assert info.value.translation_key == key
    assert "{" not in str(info.value)
    assert "Front door" in str(info.value)
    assert hass.states.get(speaker).state == "idle"


def _fast_busy(init: Any) -> Any:
    def patched(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["busy_retry_delay"] = 0.01
        init(self, *args, **kwargs)

    return patched


async def test_auth_failure_starts_reauth(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    emulator.faults.add("StartVoiceTalk", code="InvalidAccessKey", status=401)
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, local("tone440.wav"))
    assert info.value.translation_key == "invalid_auth"
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_socket_closed_mid_talk(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    emulator.talk.close_after(HOME_IPC_NSID, 30)
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, local("long.wav"))
    assert info.value.translation_key == "talk_connection_lost"
    assert hass.states.get(speaker).state == "idle"
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_socket_refused(hass: HomeAssistant, emulator: Emulator, speaker: str) -> None:
    emulator.talk.refuse_next(HOME_IPC_NSID)
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, local("tone440.wav"))
    assert info.value.translation_key == "talk_connect_failed"
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_max_duration(
    hass: HomeAssistant, emulator: Emulator, media_dir: Path, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_MAX_DURATION: 1.0})
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    entity_id = er.async_get(hass).async_get_entity_id(MP_DOMAIN, DOMAIN, SPEAKER_UID)
    assert entity_id is not None
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, entity_id, local("long.wav"))
    assert info.value.translation_key == "max_duration_reached"
    assert not emulator.talk.active(HOME_IPC_NSID)
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_unload_during_playback(
    hass: HomeAssistant, emulator: Emulator, speaker: str, loaded: MockConfigEntry
) -> None:
    task = hass.async_create_task(play(hass, speaker, local("long.wav")))
    await wait_for_state(hass, speaker, "playing")
    await wait_for_audio(emulator)
    assert await hass.config_entries.async_unload(loaded.entry_id)
    await asyncio.wait_for(task, 5)
    assert not emulator.talk.active(HOME_IPC_NSID)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.stopped


async def test_shutdown_ends_talks(hass: HomeAssistant, emulator: Emulator, speaker: str) -> None:
    task = hass.async_create_task(play(hass, speaker, local("long.wav")))
    await wait_for_state(hass, speaker, "playing")
    await wait_for_audio(emulator)
    hass.bus.async_fire("homeassistant_stop")
    await asyncio.wait_for(task, 5)
    await hass.async_block_till_done()
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_removed_device_ends_its_talk(
    hass: HomeAssistant, emulator: Emulator, loaded: MockConfigEntry, media_dir: Path
) -> None:
    """A camera that leaves the space has its speaker closed: its talk ends, like its streams."""
    new_id, nsid = "6851c282-c7f6-4a04-9d1e-00000000beef", "34020000001320000097"
    emulator.state.add_device(
        SPACE_HOME_ID,
        {"DeviceID": new_id, "DeviceNSID": nsid, "DeviceName": "Shed", "Status": "online"},
    )
    coordinator = loaded.runtime_data.coordinator
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    speaker = loaded.runtime_data.speakers[new_id]
    source = await async_file_source(str(media_dir / "long.wav"), 1.0, "long")
    task = hass.async_create_task(speaker.play([source]))
    await wait_for_audio(emulator, nsid)
    emulator.state.remove_device(SPACE_HOME_ID, new_id)
    for _ in range(2):  # removed after two device lists without it
        await coordinator.async_refresh()
        await hass.async_block_till_done()
    assert new_id not in loaded.runtime_data.speakers
    assert speaker.closed
    result = await asyncio.wait_for(task, 5)
    assert result.interrupted
    (recording,) = emulator.talk.sessions_for(nsid)
    await recording.wait_closed()  # our socket is closed (StopVoiceTalk: the device is gone)
    assert recording.closed_by == "client"
    async with asyncio.timeout(5):  # StopVoiceTalk tried (the platform no longer knows it)
        while not emulator.requests_for("StopVoiceTalk"):
            await asyncio.sleep(0.01)


class UrlSource(MediaSource):
    """A media source whose items resolve to a URL (like radio or a NAS)."""

    def __init__(self, url: str) -> None:
        super().__init__("fake_media")
        self.url = url

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        return PlayMedia(f"{self.url}/{item.identifier}", "audio/mpeg")


async def test_media_source_resolving_to_a_url(
    hass: HomeAssistant, emulator: Emulator, speaker: str, http_media: str
) -> None:
    async def get_source(hass: HomeAssistant) -> MediaSource:
        return UrlSource(http_media)

    mock_integration(hass, MockModule("fake_media"))
    mock_platform(hass, "fake_media.media_source", Mock(async_get_media_source=get_source))
    assert await async_setup_component(hass, "fake_media", {})
    await play(hass, speaker, "media-source://fake_media/tone1000.mp3")
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert abs(dominant_frequency(voiced(alaw_decode(recording.alaw()))) - 1000) < 10


async def test_relative_url_is_fetched_from_home_assistant(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    """A relative URL becomes a (signed) URL of Home Assistant; here nothing serves it."""
    with pytest.raises(ServiceValidationError) as info:
        await play(hass, speaker, "/local/door.mp3")
    assert info.value.translation_key == "media_fetch_failed"  # connection refused
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_relative_url_without_a_home_assistant_url(hass: HomeAssistant, speaker: str) -> None:
    with (
        patch(
            "homeassistant.components.media_player.browse_media.get_url",
            side_effect=NoURLAvailableError,
        ),
        pytest.raises(ServiceValidationError) as info,
    ):
        await play(hass, speaker, "/local/door.mp3")
    assert info.value.translation_key == "media_not_found"


async def test_play_audio_enqueued_without_chime(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    response = await hass.services.async_call(
        DOMAIN,
        "play_audio",
        {ATTR_ENTITY_ID: speaker, "media": local("tone1000.mp3"), "enqueue": True},
        blocking=True,
        return_response=True,
    )
    assert abs(response[speaker]["played_seconds"] - 0.6) < 0.05


# --- media that fails after some audio, URLs that fail or try to reach local files ----------


@pytest.fixture
async def media_server(socket_enabled: None, media_dir: Path) -> AsyncIterator[MediaServer]:
    """Serves the media folder over HTTP, with routes that drop, redirect or need a password."""
    server = MediaServer(media_dir)
    await server.start()
    yield server
    await server.close()


async def wait_for_sound(emulator: Emulator, nsid: str = HOME_IPC_NSID) -> None:
    """Wait until the camera has received a frame that is not silence (not only pre-roll)."""
    async with asyncio.timeout(10):
        while not any(
            frame.payload != SILENCE_FRAME
            for recording in emulator.talk.sessions_for(nsid)
            for frame in recording.frames
        ):
            await asyncio.sleep(0.01)


def _logs(caplog: pytest.LogCaptureFixture) -> str:
    """Return every log line but the test server's own access log."""
    return "\n".join(
        caplog.handler.format(record)
        for record in caplog.records
        if record.name != "aiohttp.access"
    )


def _with_password(url: str, password: str = "password") -> str:  # noqa: S107
    return url.replace("http://", f"http://user:{password}@")


async def test_url_dropped_mid_file_fails_the_play(
    hass: HomeAssistant, emulator: Emulator, speaker: str, media_server: MediaServer
) -> None:
    """The server drops the connection after 40 % of the file: played, then an error."""
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, f"{media_server.url}/drop/long.wav")
    assert info.value.translation_key == "media_fetch_failed"
    assert str(info.value).startswith("Cannot fetch the media: ")
    assert hass.states.get(speaker).state == "idle"
    assert not emulator.talk.active(HOME_IPC_NSID)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.stopped
    sound = sum(frame.payload != SILENCE_FRAME for frame in recording.frames) * 0.02
    assert abs(sound - 0.4 * 8.0) < 0.1  # what arrived was played first


async def test_ffmpeg_killed_mid_talk_fails_the_play(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    response = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "play_audio",
            {ATTR_ENTITY_ID: speaker, "media": local("long.wav")},
            blocking=True,
            return_response=True,
        )
    )
    await wait_for_sound(emulator)  # ffmpeg has produced audio: it fails mid-way
    async with asyncio.timeout(10):  # the duration probe (a second, short ffmpeg) has ended
        while hass.states.get(speaker).attributes.get("media_duration") is None:
            await asyncio.sleep(0.05)
    (pid,) = ffmpeg_children()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(HomeAssistantError) as info:
        await asyncio.wait_for(response, 10)
    assert info.value.translation_key == "media_interrupted"
    assert "SIGKILL" in str(info.value)
    assert hass.states.get(speaker).state == "idle"
    assert not emulator.talk.active(HOME_IPC_NSID)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.stopped
    sound = sum(frame.payload != SILENCE_FRAME for frame in recording.frames) * 0.02
    assert 0 < sound < 6.0  # not the whole 8 s file


@pytest.mark.parametrize("failure", ["refused", "404", "401"])
async def test_fetch_failures_are_their_own_error(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    media_server: MediaServer,
    failure: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cannot fetch (not "cannot decode"), and the URL's password and query are never shown."""
    caplog.set_level(logging.DEBUG)
    if failure == "refused":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{sock.getsockname()[1]}/tone440.wav"
        url = _with_password(url)
    elif failure == "404":
        url = _with_password(f"{media_server.url}/files/missing.wav")
    else:
        url = _with_password(f"{media_server.url}/auth/tone440.wav", "wrong-password")
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, f"{url}?token=secret-token")
    for text in (str(info.value), str(info.value.translation_placeholders), _logs(caplog)):
        assert "password" not in text
        assert "secret-token" not in text
    assert info.value.translation_key == "media_fetch_failed"
    assert str(info.value).startswith("Cannot fetch the media: ")
    assert {"refused": "Connection refused", "404": "404", "401": "401"}[failure] in str(info.value)
    assert hass.states.get(speaker).state == "idle"
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_credentials_in_a_url_are_used_but_never_shown(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    media_server: MediaServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = _with_password(f"{media_server.url}/auth/long.wav") + "?token=secret-token"
    task = hass.async_create_task(play(hass, speaker, url))
    await wait_for_sound(emulator)
    state = hass.states.get(speaker)
    assert state.state == "playing"
    assert state.attributes["media_title"] == "long.wav"
    await hass.services.async_call(
        MP_DOMAIN, SERVICE_MEDIA_STOP, {ATTR_ENTITY_ID: speaker}, blocking=True
    )
    await asyncio.wait_for(task, 10)
    assert "password" not in _logs(caplog)
    assert "secret-token" not in _logs(caplog)


async def test_hls_playlist_cannot_play_a_local_file(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    media_server: MediaServer,
    tmp_path: Path,
) -> None:
    """An http playlist naming a file outside every media folder: nothing of it is sent."""
    secret = make_ts(tmp_path / "secret.ts", 300, 2.0)
    (media_server.folder / "evil.m3u8").write_text(hls_playlist((f"file://{secret}", 2.0)))
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, f"{media_server.url}/files/evil.m3u8")
    assert info.value.translation_key == "media_error"
    assert "not on whitelist" in str(info.value)
    for recording in emulator.talk.sessions_for(HOME_IPC_NSID):
        assert rms(alaw_decode(recording.alaw())) < 0.001  # silence (pre-roll) at most
    assert not emulator.talk.active(HOME_IPC_NSID)


@pytest.mark.parametrize(
    "media_id",
    [
        "media-source://media_source/local/%2E%2E/secret.unknowntype",  # AssertionError in HA
        "media-source://media_source/local/no-extension",
    ],
)
async def test_media_source_ids_a_source_fails_on(
    hass: HomeAssistant, emulator: Emulator, speaker: str, media_id: str
) -> None:
    with pytest.raises(ServiceValidationError) as info:
        await play(hass, speaker, media_id)
    assert info.value.translation_key == "media_not_found"
    assert str(info.value).startswith("The media media-source://media_source/local/")
    assert hass.states.get(speaker).state == "idle"
    assert not emulator.talk.sessions_for(HOME_IPC_NSID)


async def test_unload_while_the_talk_server_does_not_read(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    loaded: MockConfigEntry,
    media_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A peer that stops reading (TCP back-pressure) cannot hold unload."""
    monkeypatch.setattr(sender, "SEND_BUFFER", 4096)  # back-pressure within seconds
    make_tone(media_dir / "minute.wav", 300, 60.0)
    emulator.talk.stop_reading(HOME_IPC_NSID, frames=5)
    task = hass.async_create_task(play(hass, speaker, local("minute.wav")))
    talk = loaded.runtime_data.speakers[HOME_IPC_ID]
    async with asyncio.timeout(60):  # until our sends wait for the peer
        while True:
            session = talk._session
            socket = session._socket if session is not None else None
            transport = socket._transport if socket is not None else None
            if transport is not None and transport.get_write_buffer_size() > sender.MAX_BACKLOG:
                break
            await asyncio.sleep(0.02)
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert recording.stalled
    async with asyncio.timeout(15):
        assert await hass.config_entries.async_unload(loaded.entry_id)
        await task  # interrupted by the unload: returns
    assert not emulator.talk.active(HOME_IPC_NSID)
    await recording.wait_closed()


async def test_a_refused_socket_leaks_no_token(
    hass: HomeAssistant, emulator: Emulator, speaker: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No exception text, chained exception, traceback or log line carries the talk token."""
    caplog.set_level(logging.DEBUG)
    emulator.talk.refuse_next(HOME_IPC_NSID)
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, local("tone440.wav"))
    assert info.value.translation_key == "talk_connect_failed"
    ((_, token),) = emulator.talk.issued
    assert token not in "".join(traceback.format_exception(info.value))
    assert caplog.records
    assert token not in caplog.text


async def test_an_unexpected_talk_error_is_an_error_of_the_action(
    hass: HomeAssistant, speaker: str, loaded: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_start() -> str:
        raise RuntimeError("boom")

    talk = loaded.runtime_data.speakers[HOME_IPC_ID]
    monkeypatch.setattr(talk.opener, "start", broken_start)
    with pytest.raises(HomeAssistantError) as info:
        await play(hass, speaker, local("tone440.wav"))
    assert info.value.translation_key == "talk_failed"
    assert "unexpected RuntimeError" in str(info.value)
    assert hass.states.get(speaker).state == "idle"


# --- first-run polish: a camera that cannot talk, errors logged once, the progress bar ---------


async def test_voice_talk_device_fail_is_a_repair_issue_until_a_talk_plays(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    issues = ir.async_get(hass)
    issue_id = f"voice_channel_{HOME_IPC_ID}"
    emulator.faults.add(
        "StartVoiceTalk", code="InternalError.VoiceTalkDeviceFail", status=500, times=2
    )
    for _ in range(2):  # every refusal keeps the one issue of the camera
        with pytest.raises(HomeAssistantError) as info:
            await play(hass, speaker, local("tone440.wav"))
        assert info.value.translation_key == "device_unreachable"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "voice_channel"
    assert issue.translation_placeholders == {"name": "Front door"}
    assert issue.severity is ir.IssueSeverity.WARNING
    assert [i for i in issues.issues.values() if i.domain == DOMAIN] == [issue]

    await play(hass, speaker, local("tone440.wav"))  # the camera talks again
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_other_start_failures_are_no_repair_issue(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    emulator.faults.add("StartVoiceTalk", code="InvalidParameter.DeviceNotOnline", status=400)
    with pytest.raises(HomeAssistantError):
        await play(hass, speaker, local("tone440.wav"))
    assert not [i for i in ir.async_get(hass).issues.values() if i.domain == DOMAIN]


async def test_a_failed_play_is_not_logged_by_the_integration(
    hass: HomeAssistant, emulator: Emulator, speaker: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Raised once: Home Assistant logs the failed action; a second line would be a duplicate."""
    caplog.set_level(logging.INFO)
    with pytest.raises(ServiceValidationError):
        await play(hass, speaker, local("corrupt.mp3"))
    emulator.faults.add("StartVoiceTalk", code="InternalError.VoiceTalkDeviceFail", status=500)
    with pytest.raises(HomeAssistantError):
        await play(hass, speaker, local("tone440.wav"))
    ours = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.volcengine_aiot") and r.levelno >= logging.INFO
    ]
    assert ours == []


async def test_progress_of_a_local_file(
    hass: HomeAssistant, emulator: Emulator, speaker: str
) -> None:
    task = asyncio.create_task(play(hass, speaker, local("long.wav")))
    await wait_for_sound(emulator)
    async with asyncio.timeout(10):  # the duration arrives once ffmpeg has described the file
        while hass.states.get(speaker).attributes.get("media_duration") is None:
            await asyncio.sleep(0.05)
    attributes = hass.states.get(speaker).attributes
    assert attributes["media_duration"] == 8
    assert attributes["media_position"] == 0
    assert attributes["media_position_updated_at"] is not None
    await hass.services.async_call(
        MP_DOMAIN, SERVICE_MEDIA_STOP, {ATTR_ENTITY_ID: speaker}, blocking=True
    )
    await task
    attributes = hass.states.get(speaker).attributes
    assert "media_duration" not in attributes
    assert "media_position" not in attributes


async def test_progress_of_a_repeated_sound_comes_from_the_cache(
    hass: HomeAssistant, emulator: Emulator, speaker: str, spawned: list[str]
) -> None:
    """A repeat's duration is the kept A-law's length: no ffmpeg at all, not even to probe."""
    await play(hass, speaker, local("tone440.wav"))
    spawned.clear()
    durations: list[Any] = []

    def record(event: Any) -> None:
        if (state := event.data["new_state"]) is not None and state.state == "playing":
            durations.append(state.attributes.get("media_duration"))

    unsubscribe = hass.bus.async_listen("state_changed", record)
    await play(hass, speaker, local("tone440.wav"))
    unsubscribe()
    assert spawned == []
    assert 1 in durations


async def test_playback_returns_with_its_duration_probe_reaped(
    hass: HomeAssistant,
    emulator: Emulator,
    media_dir: Path,
    mock_config_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """A playback that ends while the file's duration probe still runs leaves no ffmpeg behind.

    The probe (a second, short ffmpeg) is made slow by a wrapper of the real ffmpeg; the play
    returns only once the cancelled probe has reaped its child.
    """
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(
        "#!/bin/bash\n"
        "# the duration probe (-nostdin -hide_banner -protocol_whitelist X -i F) hangs\n"
        '[ "$#" -eq 6 ] && exec -a ffmpeg-slow-probe sleep 30\n'
        f'exec {FFMPEG} "$@"\n'
    )
    wrapper.chmod(0o755)
    assert await async_setup_component(hass, "ffmpeg", {"ffmpeg": {"ffmpeg_bin": str(wrapper)}})
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    entity_id = er.async_get(hass).async_get_entity_id(MP_DOMAIN, DOMAIN, SPEAKER_UID)
    assert entity_id is not None
    await play(hass, entity_id, local("tone440.wav"))
    assert ffmpeg_children() == []  # checked before the event loop runs anything else
    task = hass.async_create_task(play(hass, entity_id, local("long.wav")))
    await wait_for_state(hass, entity_id, "playing")
    await hass.services.async_call(
        MP_DOMAIN, "media_stop", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert ffmpeg_children() == []
    await task
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
