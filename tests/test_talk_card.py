"""The push-to-talk card's own code in node, against Home Assistant's real websocket.

``tests/js/card_harness.mjs`` loads the card file with a minimal DOM and a fake microphone and
connects with the frontend's websocket library (home-assistant-js-websocket, with its reconnect
and resubscribe logic), installed by scripts/setup under the cache dir.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
import os
from pathlib import Path
import shutil
from typing import Any

from homeassistant.components.media_player import (
    DOMAIN as MP_DOMAIN,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.volcengine_aiot import websocket_api
from custom_components.volcengine_aiot.talk import microphone as live
from tests.emulator.app import Emulator
from tests.emulator.data import HOME_IPC_NSID, HOME_NVR_STREAM_IDS

# the fixtures of the push-to-talk tests (a short pre-roll, the speaker's entity, an 8 s file)
from tests.test_push_to_talk import (  # noqa: F401
    _wait_frames,
    entry_options,
    long_media,
    mock_config_entry,
    play_in_background,
    speaker,
    talks,
)

HARNESS = Path(__file__).parent / "js" / "card_harness.mjs"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "volcengine-aiot"
NODE_MODULES = Path(os.environ.get("VOLCENGINE_AIOT_NODE_DIR", CACHE / "node")) / "node_modules"

pytestmark = pytest.mark.usefixtures("no_leftover_ffmpeg")


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "home-assistant-js-websocket").is_dir():
        message = f"node and {NODE_MODULES} (scripts/setup installs them) are needed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return node


async def run_harness(*args: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Run a scenario of the harness; return its JSON lines (the last one is the result)."""
    proc = await asyncio.create_subprocess_exec(
        _node(),
        str(HARNESS),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_MODULES": str(NODE_MODULES)},
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert proc.returncode == 0, (lines, err.decode()[-2000:])
    assert lines
    assert lines[-1].get("done"), lines
    return lines


@pytest.fixture
async def card_runner(
    hass: HomeAssistant,
    speaker: str,  # noqa: F811
    aiohttp_client: ClientSessionGenerator,
    hass_access_token: str,
    socket_enabled: None,
) -> Callable[[str], Any]:
    """Run a harness scenario against this Home Assistant's websocket on 127.0.0.1."""
    assert await async_setup_component(hass, "websocket_api", {})
    client = await aiohttp_client(hass.http.app)
    url = str(client.make_url("")).rstrip("/")

    async def run(scenario: str, *extra: str) -> list[dict[str, Any]]:
        return await run_harness(scenario, url, hass_access_token, speaker, *extra)

    return run


async def _settled(hass: HomeAssistant, emulator: Emulator) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)
    assert talks(hass) == {}
    for rec in emulator.talk.sessions_for(HOME_IPC_NSID):
        await rec.wait_closed()
        assert rec.stopped
    assert not emulator.talk.active(HOME_IPC_NSID)


async def test_reconnect_after_a_talk_starts_nothing(
    hass: HomeAssistant,
    emulator: Emulator,
    card_runner: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server ended the talk (silence); a reconnect later does not send the talk again."""
    monkeypatch.setattr(live, "IDLE_TIMEOUT", 0.3)
    lines = await card_runner("after_end")
    ended = next(line for line in lines if line.get("step") == "ended")
    assert ended["state"] == "error"
    assert "no sound from the microphone" in ended["message"]
    assert lines[-1]["talkMessages"] == 1  # the press, and nothing after the reconnect
    assert lines[-1]["unhandled"] == []
    assert lines[-1]["microphoneLive"] == 0
    await _settled(hass, emulator)
    assert len(emulator.requests_for("StartVoiceTalk")) == 1
    assert len(emulator.requests_for("StopVoiceTalk")) == 1


async def test_reconnect_during_a_talk_starts_nothing(
    hass: HomeAssistant, emulator: Emulator, card_runner: Callable[[str], Any]
) -> None:
    """The connection drops while talking: the talk ends, comes not back, the next press works."""
    lines = await card_runner("during")
    after = next(line for line in lines if line.get("step") == "after_reconnect")
    assert after["state"] == "error"
    assert "connection to Home Assistant was lost" in after["message"]
    assert lines[-1]["talkMessages"] == 2  # the two presses
    assert lines[-1]["unhandled"] == []
    assert lines[-1]["microphoneLive"] == 0
    await _settled(hass, emulator)
    assert len(emulator.requests_for("StartVoiceTalk")) == 2
    assert len(emulator.requests_for("StopVoiceTalk")) == 2


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ("refused", "Microphone access was denied"),
        ("mute", "the microphone delivered no sound"),
    ],
)
async def test_press_without_microphone_audio_leaves_the_playback_alone(
    hass: HomeAssistant,
    emulator: Emulator,
    long_media: Path,  # noqa: F811
    speaker: str,  # noqa: F811
    card_runner: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    text: str,
) -> None:
    """A press whose microphone is refused or delivers nothing says so; the file plays on."""
    monkeypatch.setattr(live, "FIRST_AUDIO_TIMEOUT", 1.0, raising=False)
    play = play_in_background(hass, speaker, long_media)
    rec = await _wait_frames(emulator, 20)
    lines = await card_runner(scenario)
    pressed = next(line for line in lines if line.get("step") == scenario)
    assert text in pressed["message"]
    assert lines[-1]["unhandled"] == []
    assert lines[-1]["microphoneLive"] == 0
    frames = len(rec.frames)
    await _wait_frames(emulator, frames + 10)
    assert not play.done()
    assert len(emulator.requests_for("StartVoiceTalk")) == 1  # the file's
    assert emulator.requests_for("StopVoiceTalk") == []
    await hass.services.async_call(
        MP_DOMAIN, "media_stop", {ATTR_ENTITY_ID: speaker}, blocking=True
    )
    await asyncio.wait_for(play, 5)
    await _settled(hass, emulator)


@pytest.mark.parametrize("sample_rate", [8000, 16000])
async def test_card_frames_by_the_started_event(
    hass: HomeAssistant,
    emulator: Emulator,
    card_runner: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
    sample_rate: int,
) -> None:
    """The card's worklet cuts the frames the server's started event describes (its own code,
    fed 48 kHz audio): 20 ms at 8 kHz are 320 bytes; told 16 kHz, it sends 640-byte frames."""
    monkeypatch.setattr(live, "FIRST_AUDIO_TIMEOUT", 1.0)
    audio_format = live.PcmFormat(
        sample_rate=sample_rate,
        frame_ms=20,
        sample_format="s16le",
        frame_bytes=sample_rate * 20 // 1000 * 2,
    )
    if sample_rate != live.SAMPLE_RATE:  # the server plays 8 kHz: its frames are refused
        monkeypatch.setattr(websocket_api, "PCM_FORMAT", audio_format)
    assert audio_format["frame_bytes"] == 320 or sample_rate != 8000
    lines = await card_runner("format")
    result = next(line for line in lines if line.get("step") == "format")
    assert result["formats"] == [{"rate": sample_rate, "samples": sample_rate // 50}]
    assert len(result["frameSizes"]) >= 5
    assert set(result["frameSizes"]) == {1 + audio_format["frame_bytes"]}
    assert lines[-1]["unhandled"] == []
    assert lines[-1]["microphoneLive"] == 0
    await _settled(hass, emulator)


async def test_card_picker_entry_stub_and_insecure_page() -> None:
    """The picker entry follows the user's language, a new card gets an available camera, and
    on an insecure page the button says it cannot work before it is pressed."""
    (result,) = await run_harness("offline")
    names = result["names"]
    assert names["en"]["name"] == "Push-to-talk (Volcengine AIoT)"
    assert "对讲" in names["zh-Hans"]["name"]
    assert "对讲" in names["zh-Hans"]["description"]
    assert names["user"]["name"] == names["zh-Hans"]["name"]
    assert result["stub"] == {
        "entity": "media_player.front_door_speaker",
        "mode": "hold",
        "show_picture": True,
        "show_ptz": True,
        "show_presets": True,
    }
    assert result["allOffline"]["entity"] in {
        "media_player.back_yard_speaker",
        "media_player.front_door_speaker",
    }
    insecure = result["insecure"]
    assert insecure["disabled"] is True
    assert "secure page" in insecure["message"]
    assert result["pressed"]["microphoneOpened"] == 0
    assert result["pressed"]["state"] in {"idle", "error"}
    assert result["labels"] == {
        "entity": "摄像头扬声器",
        "mode": "模式",
        "options": ["按住说话", "点击开始，再点击结束"],  # noqa: RUF001
        "camera": [
            "显示实时画面",
            "显示云台方向和变焦按钮",
            "显示预置位",
            "显示和控制的摄像头（默认：扬声器所在的摄像头）",  # noqa: RUF001
        ],
        "noCamera": "没有找到此扬声器的摄像头：请在卡片设置中选择一个。",  # noqa: RUF001
    }


GARDEN = "camera.recorder_garden"  # the demo NVR's dome, presets "Gate" and "Terrace"
BACK_YARD = "camera.recorder_back_yard"  # fixed
DOME = HOME_NVR_STREAM_IDS[0]


async def _ptz_settled(hass: HomeAssistant, emulator: Emulator) -> list[tuple[str | None, Any]]:
    """Wait until the dome's last command is a stop; return its commands (Cmd, Para)."""
    async with asyncio.timeout(10):
        while not (log := emulator.ptz.commands(DOME)) or log[-1].cmd != "stop":
            await asyncio.sleep(0.02)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert emulator.ptz.channel(DOME).moving is None
    return [(c.cmd, c.para) for c in emulator.ptz.commands(DOME)]


async def test_card_holds_an_arrow_until_released(
    hass: HomeAssistant, emulator: Emulator, card_runner: Callable[..., Any]
) -> None:
    """The card's arrows (touch, arrow keys, Space) move while held; a release, a lost pointer
    capture and a hidden page each end the hold with a stop."""
    lines = await card_runner("ptz_hold", GARDEN)
    steps = {line["step"]: line for line in lines if "step" in line}
    assert steps["presets"]["presets"] == {
        "can_move": True,
        "presets": [{"id": 1, "name": "Gate"}, {"id": 2, "name": "Terrace"}],
    }
    assert steps["presets"]["controlsHidden"] is False
    assert steps["moving"]["held"] == "left"
    for step in ("released", "key_released", "capture_lost", "page_hidden"):
        assert steps[step]["held"] is None, step
    assert lines[-1]["holdMessages"] == 5
    assert lines[-1]["unhandled"] == []
    assert await _ptz_settled(hass, emulator) == [
        ("left", 128),
        ("stop", 0),
        ("up", 128),
        ("stop", 0),
        ("zoomin", 8),
        ("stop", 0),
        ("rightdown", 128),
        ("stop", 0),
        ("right", 128),
        ("stop", 0),
    ]


async def test_card_hold_ends_with_a_dropped_connection(
    hass: HomeAssistant, emulator: Emulator, card_runner: Callable[..., Any]
) -> None:
    """The connection drops during a hold: the camera is stopped, the move is not sent again
    after the reconnect, and the next press works."""
    lines = await card_runner("ptz_drop", GARDEN)
    after = next(line for line in lines if line.get("step") == "after_reconnect")
    assert after["held"] is None
    assert after["message"] == "The connection to Home Assistant was lost."
    assert lines[-1]["holdMessages"] == 2  # the two presses, nothing re-sent
    assert lines[-1]["unhandled"] == []
    assert await _ptz_settled(hass, emulator) == [
        ("up", 128),
        ("stop", 0),
        ("down", 128),
        ("stop", 0),
    ]


async def test_card_fixed_camera_hides_the_arrows(
    hass: HomeAssistant, emulator: Emulator, card_runner: Callable[..., Any]
) -> None:
    lines = await card_runner("ptz_fixed", BACK_YARD)
    steps = {line["step"]: line for line in lines if "step" in line}
    assert steps["fixed"]["presets"] == {"can_move": False, "presets": []}
    assert steps["fixed"]["controlsHidden"] is True
    assert "cannot move" in steps["fixed"]["message"]
    assert "cannot pan, tilt or zoom" not in steps["pressed"]["message"]  # the card's words
    assert "cannot move" in steps["pressed"]["message"]
    await hass.async_block_till_done(wait_background_tasks=True)
    assert emulator.requests_for("CloudControl") == []
