"""Push-to-talk over Home Assistant's websocket into the emulator (volcengine_aiot/talk)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
import re
import time
from typing import Any

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, UrlManager
from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    DOMAIN as MP_DOMAIN,
    SERVICE_PLAY_MEDIA,
)
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.volcengine_aiot.const import CONF_MAX_DURATION, CONF_PREROLL, DOMAIN
from custom_components.volcengine_aiot.talk import microphone as live
from custom_components.volcengine_aiot.talk.push_to_talk import PushToTalk
from tests.audio import alaw_decode, dominant_frequency, make_tone, voiced
from tests.emulator.app import Emulator
from tests.emulator.data import HOME_IPC_ID, HOME_IPC_NSID, SPACE_HOME_ID
from tests.emulator.talk import TalkRecording

SPEAKER_UID = f"{HOME_IPC_ID}_speaker"
RATE = 8000
FRAME = 160


def talks(hass: HomeAssistant) -> dict[str, PushToTalk]:
    """Return the push-to-talks of the loaded entries (by camera device ID)."""
    return {
        device_id: talk
        for entry in hass.config_entries.async_loaded_entries(DOMAIN)
        for device_id, talk in entry.runtime_data.talks.items()
    }


async def talks_over(hass: HomeAssistant) -> None:
    """Wait (bounded) until no push-to-talk is left."""
    async with asyncio.timeout(5):
        while talks(hass):
            await asyncio.sleep(0.01)


def tone_frames(count: int, frequency: float = 1000.0, start: int = 0) -> list[bytes]:
    """Return ``count`` 20 ms frames of a sine tone as s16le PCM."""
    n = np.arange(start * FRAME, (start + count) * FRAME)
    samples = (0.5 * 32767 * np.sin(2 * np.pi * frequency * n / RATE)).astype("<i2")
    return [samples[i * FRAME : (i + 1) * FRAME].tobytes() for i in range(count)]


@pytest.fixture
def entry_options() -> dict[str, Any]:
    return {CONF_PREROLL: 0.1}


@pytest.fixture
def mock_config_entry(entry_data: dict[str, Any], entry_options: dict[str, Any]) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="home",
        unique_id=SPACE_HOME_ID,
        data=entry_data,
        options=entry_options,
        entry_id="01JVOLCENGINEHOMEENTRY0000",
    )


@pytest.fixture
def speaker(init_integration: MockConfigEntry, entity_registry: er.EntityRegistry) -> str:
    entity_id = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, SPEAKER_UID)
    assert entity_id is not None
    return entity_id


pytestmark = pytest.mark.usefixtures("no_leftover_ffmpeg")


class Talker:
    """A dashboard client: subscribes, streams frames in real time, releases."""

    def __init__(self, client: MockHAClientWebSocket, entity_id: str) -> None:
        self.client = client
        self.entity_id = entity_id
        self.sub_id = 0
        self.handler = 0
        self.events: list[dict[str, Any]] = []
        self.started: dict[str, Any] = {}

    async def press(self) -> dict[str, Any]:
        await self.client.send_json_auto_id(
            {"type": "volcengine_aiot/talk", "entity_id": self.entity_id}
        )
        result = await self.client.receive_json()
        self.sub_id = result["id"]
        if result["success"]:
            started = await self.event()
            assert started["type"] == "started"
            assert started["frame_bytes"] == 320
            self.handler = started["binary_handler_id"]
            self.started = started
        return result

    async def event(self) -> dict[str, Any]:
        msg = await self.client.receive_json(timeout=10)
        assert msg["type"] == "event", msg
        assert msg["id"] == self.sub_id
        self.events.append(msg["event"])
        return msg["event"]

    async def first_frame(self) -> None:
        """Send the microphone's first frame: nothing starts on the camera before it."""
        await self.client.send_bytes(bytes([self.handler]) + tone_frames(1)[0])

    async def wait_talking(self) -> None:
        """Send the first frame, wait for the talk to be open."""
        await self.first_frame()
        assert (await self.event())["type"] == "talking"

    async def stream(self, frames: list[bytes]) -> None:
        t0 = time.monotonic()
        for i, frame in enumerate(frames):
            await self.client.send_bytes(bytes([self.handler]) + frame)
            await asyncio.sleep(max(0.0, t0 + (i + 1) * 0.02 - time.monotonic()))

    async def release(self) -> None:
        await self.client.send_json_auto_id(
            {"type": "unsubscribe_events", "subscription": self.sub_id}
        )
        result = await self.client.receive_json()
        assert result["success"], result


async def talk_ended(hass: HomeAssistant, emulator: Emulator) -> TalkRecording:
    """Wait until the push-to-talk is over and return what the emulator recorded."""
    await hass.async_block_till_done(wait_background_tasks=True)
    assert talks(hass) == {}
    (rec,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    await rec.wait_closed()
    assert rec.stopped
    assert not emulator.talk.active(HOME_IPC_NSID)
    assert len(emulator.requests_for("StopVoiceTalk")) == 1
    assert rec.errors == []
    return rec


async def test_talk_plays_the_tone(
    hass: HomeAssistant, emulator: Emulator, speaker: str, hass_ws_client: WebSocketGenerator
) -> None:
    """A 1 kHz tone streamed from the client is played with its frequency and duration."""
    talker = Talker(await hass_ws_client(hass), speaker)
    assert (await talker.press())["success"]
    await talker.wait_talking()
    assert hass.states.get(speaker).state == "playing"
    await talker.stream(tone_frames(50))  # 1 s
    await talker.release()
    rec = await talk_ended(hass, emulator)
    tone = voiced(alaw_decode(rec.alaw()))
    assert dominant_frequency(tone) == pytest.approx(1000, abs=10)
    # every frame arrives (a stall of the test host may only add silence in between)
    assert 0.9 <= len(tone) / RATE <= 1.3
    assert hass.states.get(speaker).state == "idle"


async def test_talk_with_the_speaker_disabled(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Push-to-talk uses the camera's own speaker: its media player may be disabled.

    The card still names the speaker entity (the entity registry keeps its device).
    """
    entity_registry.async_update_entity(speaker, disabled_by=er.RegistryEntryDisabler.USER)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(speaker) is None
    talker = Talker(await hass_ws_client(hass), speaker)
    assert (await talker.press())["success"]
    await talker.wait_talking()
    await talker.stream(tone_frames(25))
    await talker.release()
    rec = await talk_ended(hass, emulator)
    assert dominant_frequency(voiced(alaw_decode(rec.alaw()))) == pytest.approx(1000, abs=10)


async def test_empty_message_ends_the_audio(
    hass: HomeAssistant, emulator: Emulator, speaker: str, hass_ws_client: WebSocketGenerator
) -> None:
    """A binary message with no payload says the client has no more audio."""
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    await talker.stream(tone_frames(10))
    await talker.client.send_bytes(bytes([talker.handler]))
    ended = await talker.event()
    assert ended["type"] == "ended"
    assert ended["reason"] == "released"
    assert ended["seconds"] == pytest.approx(0.2, abs=0.05)
    await talk_ended(hass, emulator)


async def test_permission_denied(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """A user who may not control the speaker cannot talk through it."""
    client = await hass_ws_client(hass, access_token=hass_read_only_access_token)
    result = await Talker(client, speaker).press()
    assert not result["success"]
    assert result["error"]["code"] == "unauthorized"
    assert emulator.requests_for("StartVoiceTalk") == []


async def test_unknown_entity(
    hass: HomeAssistant, emulator: Emulator, speaker: str, hass_ws_client: WebSocketGenerator
) -> None:
    """An entity that is not one of our speakers is refused with a translated error."""
    client = await hass_ws_client(hass)
    for entity_id in ("media_player.nope", speaker.replace("_speaker", "_connectivity")):
        result = await Talker(client, entity_id).press()
        assert not result["success"]
        assert result["error"]["translation_key"] == "talk_entity_not_found"
        assert entity_id in result["error"]["message"]
    connectivity = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{HOME_IPC_ID}_connectivity"
    )
    assert connectivity is not None
    result = await Talker(client, connectivity).press()
    assert result["error"]["translation_key"] == "talk_entity_not_found"


async def test_unavailable_entity(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """An offline camera is refused before any talk is started."""
    emulator.state.set_status(SPACE_HOME_ID, HOME_IPC_ID, "offline")
    await init_integration.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(speaker).state == STATE_UNAVAILABLE
    client = await hass_ws_client(hass)
    result = await Talker(client, speaker).press()
    assert result["error"]["translation_key"] == "device_unavailable"
    assert "offline" in result["error"]["message"]
    # an unloaded entry
    await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    result = await Talker(client, speaker).press()
    assert result["error"]["translation_key"] == "device_unavailable"
    assert emulator.requests_for("StartVoiceTalk") == []


async def test_second_talker_refused(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One push-to-talk per camera: the second one gets a clear error."""
    first = Talker(await hass_ws_client(hass), speaker)
    await first.press()
    second = Talker(await hass_ws_client(hass), speaker)
    result = await second.press()
    assert not result["success"]
    assert result["error"]["translation_key"] == "talk_in_progress"
    assert "already talking" in result["error"]["message"]
    # normal use, not an error of Home Assistant or the integration
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    await first.wait_talking()
    await first.release()
    await talk_ended(hass, emulator)


async def test_websocket_close_ends_the_talk(
    hass: HomeAssistant, emulator: Emulator, speaker: str, hass_ws_client: WebSocketGenerator
) -> None:
    """Closing the connection (tab closed, network lost) ends the talk with StopVoiceTalk."""
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    await talker.stream(tone_frames(10))
    await talker.client.close()
    await talk_ended(hass, emulator)
    assert hass.states.get(speaker).state == "idle"


async def test_silence_ends_the_talk(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No audio for the idle timeout (2 s by default) ends the talk."""
    monkeypatch.setattr(live, "IDLE_TIMEOUT", 0.3)
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    await talker.stream(tone_frames(4))  # with the first frame: 100 ms
    ended = await talker.event()
    assert ended == {"type": "ended", "reason": "silence", "seconds": 0.1}
    await talk_ended(hass, emulator)
    await talker.release()  # the client releases afterwards: nothing left to end


@pytest.mark.parametrize("entry_options", [{CONF_PREROLL: 0.1, CONF_MAX_DURATION: 0.2}])
async def test_max_duration_ends_the_talk(
    hass: HomeAssistant, emulator: Emulator, speaker: str, hass_ws_client: WebSocketGenerator
) -> None:
    """The maximum talk duration of the entry applies to push-to-talk too."""
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    await talker.stream(tone_frames(15))
    error = await talker.event()
    assert error["type"] == "error"
    assert error["code"] == "max_duration_reached"
    assert "maximum duration" in error["message"]
    await talk_ended(hass, emulator)


async def test_malformed_frames(
    hass: HomeAssistant, emulator: Emulator, speaker: str, hass_ws_client: WebSocketGenerator
) -> None:
    """Wrong sizes are dropped, a burst only keeps the newest 100 ms, the talk goes on."""
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    client = talker.client
    await client.send_bytes(bytes([talker.handler]) + b"\x01\x02\x03")  # not a frame
    await client.send_bytes(bytes([talker.handler]) + b"\x00" * 640)  # two frames at once
    await client.send_bytes(bytes([200]) + b"\x00" * 320)  # no such handler
    burst = tone_frames(200, frequency=500)
    for frame in burst:  # 4 s of audio at once: far too fast
        await client.send_bytes(bytes([talker.handler]) + frame)
    await talker.stream(tone_frames(25, start=200))
    talk = talks(hass)[HOME_IPC_ID]
    await talker.release()
    rec = await talk_ended(hass, emulator)
    assert talk.frames.rejected == 2
    assert talk.frames.dropped >= 190
    audio = alaw_decode(rec.alaw())
    tone = voiced(audio)
    # at most the 100 ms buffer of the burst was played, then the 0.5 s of 1 kHz
    assert len(tone) / RATE <= 0.5 + 0.1 + 0.3
    assert dominant_frequency(tone[-2000:]) == pytest.approx(1000, abs=10)
    # the connection still works
    await client.send_json_auto_id({"type": "ping"})
    assert (await client.receive_json())["type"] == "pong"


def play_in_background(hass: HomeAssistant, speaker: str, media: Path) -> asyncio.Task[Any]:
    """Start playing a My-media file on the speaker; the task ends when it has been played."""
    return hass.async_create_task(
        hass.services.async_call(
            MP_DOMAIN,
            SERVICE_PLAY_MEDIA,
            {
                ATTR_ENTITY_ID: speaker,
                ATTR_MEDIA_CONTENT_ID: f"media-source://media_source/local/{media.name}",
                ATTR_MEDIA_CONTENT_TYPE: "music",
            },
            blocking=True,
        )
    )


@pytest.fixture
def long_media(hass: HomeAssistant, tmp_path: Path) -> Path:
    """An 8 s file in My media (set up before the integration)."""
    hass.config.media_dirs = {"local": str(tmp_path)}
    return make_tone(tmp_path / "long.wav", 300, 8.0)


async def test_push_to_talk_interrupts_playback(
    hass: HomeAssistant,
    emulator: Emulator,
    long_media: Path,
    speaker: str,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A push-to-talk takes the camera: the playing media is interrupted."""
    media = long_media
    play = play_in_background(hass, speaker, media)
    (rec,) = [r for r in [await _first_session(emulator)] if r]
    while len(rec.frames) < 20:  # the media is playing
        await asyncio.sleep(0.02)
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    await asyncio.wait_for(play, 5)  # the playback returned, interrupted
    await talker.stream(tone_frames(25))
    await talker.release()
    rec = await talk_ended(hass, emulator)  # one talk session: the camera was taken over
    audio = alaw_decode(rec.alaw())
    assert dominant_frequency(voiced(audio)[-2000:]) == pytest.approx(1000, abs=10)
    assert len(voiced(audio)) / RATE < 8.0


async def _first_session(emulator: Emulator) -> TalkRecording:
    for _ in range(500):
        if sessions := emulator.talk.sessions_for(HOME_IPC_NSID):
            return sessions[0]
        await asyncio.sleep(0.01)
    raise AssertionError


@pytest.mark.parametrize(
    ("code", "key", "text"),
    [
        ("InternalError.VoiceTalkDeviceFail", "device_unreachable", "VoiceTalkDeviceFail"),
        ("InvalidAccessKey", "invalid_auth", "Re-authenticate"),
        ("InternalError", "talk_failed", "failed"),
    ],
)
async def test_talk_start_failure(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    hass_ws_client: WebSocketGenerator,
    code: str,
    key: str,
    text: str,
) -> None:
    """A refused talk is reported to the client, translated; nothing is left running."""
    emulator.faults.add("StartVoiceTalk", code=code, status=400, times=10)
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.first_frame()
    error = await talker.event()
    assert error["type"] == "error"
    assert error["code"] == key
    assert text in error["message"]
    await hass.async_block_till_done(wait_background_tasks=True)
    assert talks(hass) == {}
    assert emulator.talk.sessions_for(HOME_IPC_NSID) == []


async def test_playback_interrupts_push_to_talk(
    hass: HomeAssistant,
    emulator: Emulator,
    long_media: Path,
    speaker: str,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A playback started meanwhile takes the camera: the client is told."""
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    play = play_in_background(hass, speaker, long_media)
    ended = await talker.event()
    assert ended["type"] == "ended"
    assert ended["reason"] == "interrupted"
    await hass.services.async_call(
        MP_DOMAIN, "media_stop", {ATTR_ENTITY_ID: speaker}, blocking=True
    )
    await asyncio.wait_for(play, 5)
    await talker.release()
    await talk_ended(hass, emulator)


async def test_card_is_served(hass: HomeAssistant, speaker: str, hass_client: Any) -> None:
    """The card's JS is served from the integration folder."""
    client = await hass_client()
    resp = await client.get("/volcengine_aiot/volcengine-aiot-talk-card.js")
    assert resp.status == 200
    text = await resp.text()
    assert "customElements.define(CARD_TAG" in text
    assert "volcengine_aiot/talk" in text


async def test_card_is_added_to_the_frontend(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """With a frontend, every dashboard loads the card (a versioned URL)."""
    urls: list[str] = []
    hass.config.components.add("frontend")
    hass.data[DATA_EXTRA_MODULE_URL] = UrlManager(lambda _change, url: urls.append(url), [])
    mock_config_entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    assert len(urls) == 1
    assert urls[0].startswith("/volcengine_aiot/volcengine-aiot-talk-card.js?v=")
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


def test_card_strings_en_and_zh_hans() -> None:
    """The card words everything in English and Simplified Chinese, the same keys in both."""
    text = (
        Path(__file__).parent.parent
        / "custom_components/volcengine_aiot/frontend/volcengine-aiot-talk-card.js"
    ).read_text()
    block = text[text.index("const STRINGS = {") : text.index("// Server error translation")]
    en, zh = block.split('"zh-Hans": {')
    key = re.compile(r"^ {4}(\w+):", re.MULTILINE)
    assert set(key.findall(en)) == set(key.findall(zh))
    assert len(key.findall(en)) > 20
    assert re.search(r"[\u4e00-\u9fff]", zh)
    assert not re.search(r"[\u4e00-\u9fff]", en)
    server_keys = text[
        text.index("const SERVER_KEYS = {") : text.index("};", text.index("const SERVER_KEYS"))
    ]
    assert len(re.findall(r'^  (\w+): "\w+",$', server_keys, re.MULTILINE)) >= 4
    for server_key in re.findall(r'^  (\w+): "\w+",$', server_keys, re.MULTILINE):
        assert (
            server_key
            in json.loads(
                (
                    Path(__file__).parent.parent
                    / "custom_components/volcengine_aiot/translations/en.json"
                ).read_text()
            )["exceptions"]
        )


async def test_unload_ends_the_talk(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Unloading the entry (or stopping Home Assistant) in the middle of a talk ends it."""
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    await talker.stream(tone_frames(5))
    await hass.config_entries.async_unload(init_integration.entry_id)
    ended = await talker.event()
    assert ended["type"] == "ended"
    assert ended["reason"] == "interrupted"
    await talk_ended(hass, emulator)
    # the binary handler is gone: late frames are ignored
    await talker.client.send_bytes(bytes([talker.handler]) + tone_frames(1)[0])
    await talker.client.send_json_auto_id({"type": "ping"})
    assert (await talker.client.receive_json())["type"] == "pong"


async def test_frames_after_the_end_are_dropped_quietly(
    hass: HomeAssistant,
    emulator: Emulator,
    speaker: str,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Frames in flight when the server ends a talk are dropped quietly until the release."""
    monkeypatch.setattr(live, "IDLE_TIMEOUT", 0.3)
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    await talker.wait_talking()
    assert (await talker.event())["reason"] == "silence"
    await talk_ended(hass, emulator)
    # the card's frames still on their way (and a little more) reach the server after the end
    await talker.stream(tone_frames(10))
    await talker.client.send_json_auto_id({"type": "ping"})
    assert (await talker.client.receive_json())["type"] == "pong"
    await talker.release()
    await talker.client.send_json_auto_id({"type": "ping"})
    assert (await talker.client.receive_json())["type"] == "pong"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(emulator.requests_for("StartVoiceTalk")) == 1


async def _wait_frames(emulator: Emulator, count: int) -> TalkRecording:
    rec = await _first_session(emulator)
    async with asyncio.timeout(10):
        while len(rec.frames) < count:
            await asyncio.sleep(0.02)
    return rec


@pytest.mark.parametrize("timeout", [False, True], ids=["released", "no_audio_in_time"])
async def test_press_without_audio_does_not_touch_the_camera(
    hass: HomeAssistant,
    emulator: Emulator,
    long_media: Path,
    speaker: str,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
    timeout: bool,
) -> None:
    """A press whose microphone delivers nothing starts no talk and interrupts nothing."""
    monkeypatch.setattr(live, "FIRST_AUDIO_TIMEOUT", 0.3, raising=False)
    play = play_in_background(hass, speaker, long_media)
    rec = await _wait_frames(emulator, 20)  # the file is playing
    talker = Talker(await hass_ws_client(hass), speaker)
    assert (await talker.press())["success"]  # the microphone is refused, missing or failing
    talk: PushToTalk = talks(hass)[HOME_IPC_ID]
    if timeout:  # nothing came in time
        ended = await talker.event()
        assert ended == {"type": "ended", "reason": "no_audio", "seconds": 0.0}
    else:
        await talker.release()  # the card gives up
    await talks_over(hass)
    assert talk.frames.end_reason == ("no_audio" if timeout else "released")
    assert talks(hass) == {}
    # the file plays on, in its one talk session; the camera was not touched
    frames = len(rec.frames)
    await _wait_frames(emulator, frames + 10)
    assert not play.done()
    assert hass.states.get(speaker).state == "playing"
    assert len(emulator.requests_for("StartVoiceTalk")) == 1
    assert emulator.requests_for("StopVoiceTalk") == []
    await hass.services.async_call(
        MP_DOMAIN, "media_stop", {ATTR_ENTITY_ID: speaker}, blocking=True
    )
    await asyncio.wait_for(play, 5)
    await hass.async_block_till_done(wait_background_tasks=True)
    if timeout:
        await talker.release()


async def test_started_carries_the_audio_format(
    hass: HomeAssistant, emulator: Emulator, speaker: str, hass_ws_client: WebSocketGenerator
) -> None:
    """The started event says what the client sends: the one server-side definition."""
    talker = Talker(await hass_ws_client(hass), speaker)
    await talker.press()
    assert talker.started == {
        "type": "started",
        "binary_handler_id": talker.handler,
        "sample_rate": 8000,
        "frame_ms": 20,
        "sample_format": "s16le",
        "frame_bytes": 320,
    }
    assert {k: v for k, v in talker.started.items() if k in live.PCM_FORMAT} == live.PCM_FORMAT
    await talker.release()
    await talks_over(hass)
