"""End-to-end smoke test against a real, running Home Assistant (any version).

Started by ``scripts/smoke``: it runs the emulator in this process, starts ``hass`` (from the
venv given with ``--hass``) on a throw-away configuration directory, and drives it the way a user
does, over HTTP: onboarding, the config flow (credentials, endpoint in the advanced section,
space), the entities, ``camera_proxy`` snapshots of the camera channels, an HLS view that
ends (StopStream once idle), recordings in the media browser (a cloud recording fetched through
the integration's view, a device recording played as HLS and stopped once idle),
``media_player.play_media`` with a My-media file, and
``volcengine_aiot.play_audio`` (chime + a URL) with its response. Then it checks what the emulator
received (FLV framing, the tone's frequency), unloads the entry, stops Home Assistant and checks
that no ffmpeg is left and the log has no error of the integration.

Events: the motion blueprint is copied into the configuration's ``blueprints/automation/`` (as a
user does; Home Assistant's ``blueprint/import`` only fetches URLs), an automation is created from
it over HTTP, and motion alarms injected into the emulator (polled, then pushed to the webhook
shown in the options) turn the motion sensor on, fire the alarm event and make the camera speak.
It prints the latencies (alarm -> sensor on / event fired / first sound of the announcement).

PTZ: the garden dome's preset select lists the emulator's presets; selecting one, the
``volcengine_aiot.ptz_preset`` action (go to) and a 1 s ``volcengine_aiot.ptz`` move are checked
in the emulator's PTZ command log (the move, then its stop, at least 1 s later).

This is the check that the integration works on the current Home Assistant release, which the
test harness (pinned one release behind) cannot load yet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import datetime
from pathlib import Path
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.audio import alaw_decode, dominant_frequency, make_tone, rms, tones, voiced
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_NSID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_STREAM_ID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
)
from tests.emulator.stream import HEIGHT, WIDTH
from tests.images import jpeg_size

DOMAIN = "volcengine_aiot"
SPEECH_HZ = 550  # what the smoke TTS "says" for "dinner is ready"
ANNOUNCE_HZ = 770  # what it "says" for the motion blueprint's message
ANNOUNCE_MESSAGE = "you are being recorded"
BLUEPRINT = "volcengine_aiot/motion_announce.yaml"  # under blueprints/automation/
AUTOMATION_ID = "smoke_motion_announce"
POLL_SAMPLES = 3  # alarms measured through polling (each waits for the next 10 s tick)
PUSH_SAMPLES = 5  # and through the webhook
PREANNOUNCE_HZ = 3265  # Home Assistant's pre-announce sound, heard through 8 kHz A-law
CONFIGURATION = """\
homeassistant:
  name: Volcengine AIoT smoke test
  media_dirs:
    local: {media}
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
automation: !include automations.yaml
onboarding:
brands:
media_source:
ffmpeg:
stream:
logger:
  default: warning
  logs:
    custom_components.volcengine_aiot: debug
"""

# A minimal TTS integration for the smoke test: "says" the file config/smoke_tts/<message>.mp3.
SMOKE_TTS = {
    "manifest.json": """{"domain": "smoke_tts", "name": "Smoke TTS", "version": "1.0.0",
 "config_flow": true, "dependencies": ["tts"], "codeowners": [], "requirements": [],
 "documentation": "https://example.invalid", "iot_class": "local_push"}
""",
    "__init__.py": """from homeassistant.const import Platform


async def async_setup_entry(hass, entry):
    await hass.config_entries.async_forward_entry_setups(entry, [Platform.TTS])
    return True


async def async_unload_entry(hass, entry):
    return await hass.config_entries.async_unload_platforms(entry, [Platform.TTS])
""",
    "config_flow.py": """from homeassistant.config_entries import ConfigFlow


class SmokeTtsFlow(ConfigFlow, domain="smoke_tts"):
    async def async_step_user(self, user_input=None):
        return self.async_create_entry(title="Smoke TTS", data={})
""",
    "tts.py": """from pathlib import Path

from homeassistant.components.tts import TextToSpeechEntity


async def async_setup_entry(hass, entry, async_add_entities):
    async_add_entities([SmokeTts(Path(hass.config.path("smoke_tts")))])


class SmokeTts(TextToSpeechEntity):
    _attr_name = "Smoke"
    _attr_unique_id = "smoke_tts"
    _attr_supported_languages = ["en"]
    _attr_default_language = "en"

    def __init__(self, folder):
        self._folder = folder

    async def async_get_tts_audio(self, message, language, options):
        data = await self.hass.async_add_executor_job((self._folder / f"{message}.mp3").read_bytes)
        return "mp3", data
""",
}


class SmokeError(Exception):
    """A check failed."""


def check(condition: object, what: str) -> None:
    """Fail the smoke test with a message unless the condition holds."""
    if not condition:
        raise SmokeError(what)
    print(f"  ok  {what}", flush=True)


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Hass:
    """A Home Assistant process and an authenticated REST client for it."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.headers: dict[str, str] = {}
        self.session = 0  # the session ID of the hass process (its PID)

    async def wait_up(self, proc: subprocess.Popen[bytes], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                msg = f"hass exited with {proc.returncode}"
                raise SmokeError(msg)
            with contextlib.suppress(aiohttp.ClientError):
                async with self.http.get(f"{self.url}/api/onboarding") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.5)
        msg = "Home Assistant did not come up"
        raise SmokeError(msg)

    async def wait_running(self, seconds: float) -> None:
        """Wait until start-up is complete: only then has hass its SIGTERM handler."""
        started = time.monotonic()
        async with asyncio.timeout(seconds):
            while (await self.request("GET", "/api/config"))["state"] != "RUNNING":
                await asyncio.sleep(0.5)
        print(f"  start-up complete after {time.monotonic() - started:.1f} s more", flush=True)

    async def onboard(self) -> None:
        client_id = f"{self.url}/"
        async with self.http.post(
            f"{self.url}/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": "Smoke",
                "username": "smoke",
                "password": "smoke-test-password",
                "language": "en",
            },
        ) as resp:
            resp.raise_for_status()
            code = (await resp.json())["auth_code"]
        async with self.http.post(
            f"{self.url}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        ) as resp:
            resp.raise_for_status()
            token = (await resp.json())["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    async def request(self, method: str, path: str, payload: Any = None) -> Any:
        async with self.http.request(
            method, f"{self.url}{path}", json=payload, headers=self.headers
        ) as resp:
            body = await resp.text()
            if resp.status >= 400:
                msg = f"{method} {path}: HTTP {resp.status}: {body}"
                raise SmokeError(msg)
            return await resp.json() if body else None

    async def ws(self, command: dict[str, Any]) -> Any:
        """Send one command on Home Assistant's WebSocket API and return its result."""
        async with self.http.ws_connect(f"{self.url}/api/websocket") as ws:
            await ws.receive_json()  # auth_required
            token = self.headers["Authorization"].removeprefix("Bearer ")
            await ws.send_json({"type": "auth", "access_token": token})
            if (await ws.receive_json())["type"] != "auth_ok":
                msg = "WebSocket authentication failed"
                raise SmokeError(msg)
            await ws.send_json({"id": 1, **command})
            reply = await ws.receive_json()
            if not reply.get("success"):
                msg = f"{command['type']}: {reply.get('error')}"
                raise SmokeError(msg)
            return reply["result"]

    async def states(self, domain: str) -> dict[str, dict[str, Any]]:
        return {
            s["entity_id"]: s
            for s in await self.request("GET", "/api/states")
            if s["entity_id"].startswith(f"{domain}.")
        }


async def run(hass_bin: str, startup: float, *, hls: bool = True) -> None:
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="volcengine-aiot-smoke-"))
    config = workdir / "config"
    media = workdir / "media"
    (config / "custom_components").mkdir(parents=True)
    media.mkdir()
    (config / "custom_components" / DOMAIN).symlink_to(ROOT / "custom_components" / DOMAIN)
    (config / "custom_components" / "smoke_tts").mkdir()
    for name, text in SMOKE_TTS.items():
        (config / "custom_components" / "smoke_tts" / name).write_text(text)
    (config / "smoke_tts").mkdir()
    make_tone(config / "smoke_tts" / "660.mp3", 660, 1.5)
    make_tone(config / "smoke_tts" / "dinner is ready.mp3", SPEECH_HZ, 1.0)
    make_tone(config / "smoke_tts" / f"{ANNOUNCE_MESSAGE}.mp3", ANNOUNCE_HZ, 1.0)
    (config / "configuration.yaml").write_text(CONFIGURATION.format(media=media, port=port))
    (config / "automations.yaml").write_text("[]\n")  # what the automation editor writes to
    make_tone(media / "tone.mp3", 440, 1.0)
    make_tone(workdir / "url.wav", 1000, 0.5)
    make_tone(media / "long.mp3", 300, 30.0)
    log = (workdir / "hass.out").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived server, started once
        [hass_bin, "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        async with aiohttp.ClientSession() as http:
            hass = Hass(http, f"http://127.0.0.1:{port}")
            hass.session = proc.pid
            await hass.wait_up(proc, startup)
            await hass.onboard()
            config_info = await hass.request("GET", "/api/config")
            print(f"Home Assistant {config_info['version']} is up", flush=True)
            await hass.wait_running(startup)
            await confirm_http_config(hass)
            await check_brand_icon(hass)
            speaker, nsid = await scenario(hass, emulator, workdir)
            if hls:
                await hls_view_ends(hass, emulator)
            else:
                print("  ..  HLS view skipped (--skip-hls)", flush=True)
            # after the HLS view: the entry reload that follows the broadcast is over by then
            await recordings(hass, emulator, device=hls)
            await motion_announces(hass, emulator, config)
            await shutdown_while_talking(hass, emulator, proc, speaker, nsid)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        await emulator.stop()
    text = (config / "home-assistant.log").read_text()
    check("TTS audio streamed in-process" in text, "TTS was streamed in-process (not via its URL)")
    check("shares the ffmpeg of" in text, "the two cameras shared one ffmpeg")
    errors = [
        line
        for line in text.splitlines()
        if (" ERROR " in line or "Traceback" in line) and DOMAIN in line
    ]
    check(not errors, "no error of the integration in home-assistant.log" + "".join(errors[:5]))
    # Home Assistant reports a deprecated call of a custom integration as "Detected that custom
    # integration '<domain>' ..." (report_usage); the current release must report none.
    reported = [line for line in text.splitlines() if f"custom integration '{DOMAIN}'" in line]
    check(not reported, "no deprecated call reported for the integration" + "".join(reported[:5]))
    shutil.rmtree(workdir, ignore_errors=True)


async def confirm_http_config(hass: Hass) -> None:
    """Confirm the HTTP settings of configuration.yaml (2026.11 and later).

    Since 2026.11 Home Assistant tries new HTTP settings and, unless they are confirmed within
    5 minutes, reverts them and restarts; the smoke test runs longer than that.
    """
    try:
        await hass.ws({"type": "http/config/promote"})
    except SmokeError as err:  # an older release, or nothing pending
        print(f"  ..  HTTP settings not promoted: {err}", flush=True)
    else:
        print("  ok  HTTP settings confirmed (no revert and restart after 5 minutes)", flush=True)


async def check_brand_icon(hass: Hass) -> None:
    """Home Assistant (since 2026.3, the supported minimum) serves the integration's brand/."""
    icon = (ROOT / "custom_components" / DOMAIN / "brand" / "icon.png").read_bytes()
    url = f"{hass.url}/api/brands/integration/{DOMAIN}/icon.png"
    status, body = 0, b""
    async with asyncio.timeout(60):
        while status in (0, 404):  # 404 (no route) until the brands integration is set up
            if status:
                await asyncio.sleep(0.5)
            async with hass.http.get(url, headers=hass.headers) as resp:
                status, body = resp.status, await resp.read()
    check(
        status == 200 and body == icon,
        f"the brand icon is served from brand/icon.png (HTTP {status}, {len(body)} bytes)",
    )


async def scenario(hass: Hass, emulator: Emulator, workdir: Path) -> tuple[str, str]:
    # The TTS engine first: Assist's preferred pipeline (created when our satellites load
    # Assist) speaks with the engine that exists then.
    flow = await hass.request("POST", "/api/config/config_entries/flow", {"handler": "smoke_tts"})
    check(flow["type"] == "create_entry", "a TTS engine is set up (tts.smoke)")
    async with asyncio.timeout(30):
        while "tts.smoke" not in await hass.states("tts"):
            await asyncio.sleep(0.5)

    flow = await hass.request(
        "POST",
        "/api/config/config_entries/flow",
        {"handler": DOMAIN, "show_advanced_options": False},
    )
    check(flow["step_id"] == "user", "config flow: user step shown")
    flow = await hass.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "access_key_id": EMU_AK,
            "secret_access_key": "wrong",
            "region": "cn-north-1",
            "advanced": {"endpoint": emulator.url},
        },
    )
    check(flow["errors"] == {"base": "invalid_auth"}, "config flow: a wrong SecretKey is refused")
    flow = await hass.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "access_key_id": EMU_AK,
            "secret_access_key": EMU_SK,
            "region": "cn-north-1",
            "advanced": {"endpoint": emulator.url},
        },
    )
    check(flow["step_id"] == "space", "config flow: space step shown")
    flow = await hass.request(
        "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"space_id": SPACE_HOME_ID}
    )
    check(flow["type"] == "create_entry", f"config entry created: {flow['title']}")
    entry_id = flow["result"]["entry_id"]

    async with asyncio.timeout(30):
        while not (players := await hass.states("media_player")):
            await asyncio.sleep(0.5)
    speakers = sorted(e for e in players if e.endswith("_speaker"))
    check(speakers, f"speakers: {', '.join(speakers)}")
    idle = [e for e, s in players.items() if s["state"] == "idle"]
    speaker = idle[0]
    sensors = await hass.states("binary_sensor")
    check(any(e.endswith("_connectivity") for e in sensors), "connectivity sensors exist")
    await live_view(hass)

    nsids = {
        f"media_player.{_slug(d['DeviceName'])}_speaker": d["DeviceNSID"]
        for d in emulator.state.devices[SPACE_HOME_ID].values()
    }
    nsid = nsids[speaker]
    before = len(emulator.talk.sessions_for(nsid))
    await hass.request(
        "POST",
        "/api/services/media_player/play_media",
        {
            "entity_id": speaker,
            "media_content_id": "media-source://media_source/local/tone.mp3",
            "media_content_type": "music",
        },
    )
    sessions = emulator.talk.sessions_for(nsid)
    check(len(sessions) == before + 1, f"play_media on {speaker} opened one talk")
    recording = sessions[-1]
    check(recording.errors == [], "the emulator parsed valid FLV audio tags")
    check(recording.stopped, "the talk was stopped (StopVoiceTalk) after the audio")
    tone = voiced(alaw_decode(recording.alaw()))
    freq = dominant_frequency(tone)
    check(abs(freq - 440) < 5, f"the camera received the 440 Hz tone ({freq:.1f} Hz)")
    check(abs(len(tone) / 8000 - 1.0) < 0.05, f"for 1 s ({len(tone) / 8000:.2f} s)")

    # An announcement to two cameras: both speak, from one shared ffmpeg.
    pair = idle[:2]
    check(len(pair) == 2, f"two idle speakers: {', '.join(pair)}")
    speak = asyncio.create_task(
        hass.request(
            "POST",
            "/api/services/tts/speak",
            {"entity_id": "tts.smoke", "media_player_entity_id": pair, "message": "660"},
        )
    )
    lengths = set()  # the progress bar's length while it plays (a first play: not cached)
    while not speak.done():
        state = await hass.request("GET", f"/api/states/{pair[0]}")
        if state["state"] == "playing":
            lengths.add(state["attributes"].get("media_duration"))
        await asyncio.sleep(0.05)
    await speak
    check(2 in lengths, f"the media panel showed the TTS result's length, 2 s ({lengths})")
    for target in pair:
        recording = emulator.talk.sessions_for(nsids[target])[-1]
        check(recording.errors == [] and recording.stopped, f"tts.speak: {target} talked")
        spoken = voiced(alaw_decode(recording.alaw()))
        freq = dominant_frequency(spoken)
        check(abs(freq - 660) < 5, f"  and received the 660 Hz 'speech' ({freq:.1f} Hz)")
        check(abs(len(spoken) / 8000 - 1.5) < 0.1, f"  for 1.5 s ({len(spoken) / 8000:.2f} s)")

    server = await _serve_file(workdir / "url.wav")
    try:
        result = await hass.request(
            "POST",
            "/api/services/volcengine_aiot/play_audio?return_response",
            {"entity_id": speaker, "media": server.url, "chime": True},
        )
    finally:
        await server.close()
    played = result["service_response"][speaker]
    check(
        played["played_seconds"] > 1.0 and not played["interrupted"],
        f"play_audio (chime + URL) returned {played}",
    )
    state = (await hass.states("media_player"))[speaker]
    check(state["state"] == "idle", "the speaker is idle again")
    check(not emulator.talk.active(nsid), "no talk left open")
    check(not ffmpeg_processes(hass.session), "no ffmpeg process left")

    await broadcast(hass, emulator, entry_id, pair, nsids)
    await ptz(hass, emulator)

    reloaded = await hass.request("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
    check(reloaded["require_restart"] is False, "config entry reloaded")
    async with asyncio.timeout(30):
        while (await hass.states("media_player")).get(speaker, {}).get("state") != "idle":
            await asyncio.sleep(0.5)
    return speaker, nsid


async def broadcast(
    hass: Hass, emulator: Emulator, entry_id: str, pair: list[str], nsids: dict[str, str]
) -> None:
    """Voice: "broadcast that dinner is ready" reaches the cameras whose satellite is enabled."""
    registry = await hass.ws({"type": "config/entity_registry/list"})
    satellites = {
        e["entity_id"]: e
        for e in registry
        if e["platform"] == DOMAIN and e["entity_id"].startswith("assist_satellite.")
    }
    check(
        len(satellites) == len(nsids)
        and all(e["disabled_by"] == "integration" for e in satellites.values()),
        f"one Assist satellite per camera, disabled by default ({len(satellites)})",
    )
    check(not await hass.states("assist_satellite"), "no satellite is active by default")
    enabled = [
        s.replace("media_player.", "assist_satellite.").replace("_speaker", "_announcements")
        for s in pair
    ]
    for entity_id in enabled:
        await hass.ws(
            {"type": "config/entity_registry/update", "entity_id": entity_id, "disabled_by": None}
        )
    await hass.request("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
    async with asyncio.timeout(60):
        while (
            active := sorted(
                e
                for e, s in (await hass.states("assist_satellite")).items()
                if s["state"] == "idle"
            )
        ) != sorted(enabled):
            await asyncio.sleep(0.5)
    check(active, f"satellites enabled: {', '.join(active)}")
    before = {target: len(emulator.talk.sessions_for(nsid)) for target, nsid in nsids.items()}
    result = await hass.request(
        "POST",
        "/api/conversation/process",
        {"text": "broadcast that dinner is ready", "language": "en"},
    )
    response = result["response"]
    check(
        response["response_type"] == "action_done",
        f"Assist: {response['speech'].get('plain', {}).get('speech', response)!r}",
    )
    for target, nsid in nsids.items():
        sessions = emulator.talk.sessions_for(nsid)
        if target not in pair:
            check(len(sessions) == before[target], f"broadcast: {target} (disabled) got nothing")
            continue
        check(len(sessions) == before[target] + 1, f"broadcast: {target} talked")
        recording = sessions[-1]
        check(recording.errors == [] and recording.stopped, "  and the talk was stopped")
        heard = tones(alaw_decode(recording.alaw()), [PREANNOUNCE_HZ, SPEECH_HZ])
        check(heard == [PREANNOUNCE_HZ, SPEECH_HZ], f"  chime, then the 'speech' ({heard} Hz)")


async def shutdown_while_talking(
    hass: Hass, emulator: Emulator, proc: subprocess.Popen[bytes], speaker: str, nsid: str
) -> None:
    """Stop Home Assistant (SIGTERM, as systemd/docker do) in the middle of a long talk."""
    play = asyncio.create_task(
        hass.request(
            "POST",
            "/api/services/media_player/play_media",
            {
                "entity_id": speaker,
                "media_content_id": "media-source://media_source/local/long.mp3",
                "media_content_type": "music",
            },
        )
    )
    async with asyncio.timeout(20):
        while (
            not emulator.talk.active(nsid) or len(emulator.talk.sessions_for(nsid)[-1].frames) < 50
        ):
            await asyncio.sleep(0.05)
    state = (await hass.states("media_player"))[speaker]
    check(state["state"] == "playing", "the speaker is playing a 30 s file")
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(60):
        while proc.poll() is None:
            await asyncio.sleep(0.1)
    took = time.monotonic() - started
    check(
        proc.returncode == 0,
        f"Home Assistant stopped on SIGTERM in {took:.1f} s (exit code {proc.returncode})",
    )
    with contextlib.suppress(Exception):
        await play  # the HTTP request dies with the server
    check(emulator.talk.sessions_for(nsid)[-1].stopped, "the talk was stopped (StopVoiceTalk)")
    check(not emulator.talk.active(nsid), "no talk left open on the platform")
    check(not emulator.streams.streams, "the live streams were stopped (StopStream)")
    check(emulator.streams.active_pulls() == 0, "no pull of a live stream left")
    check(not ffmpeg_processes(hass.session), "no ffmpeg process left")


async def ptz(hass: Hass, emulator: Emulator) -> None:
    """The garden dome's presets in a select; a preset go-to and a timed move over HTTP."""
    dome, select = HOME_NVR_STREAM_IDS[0], "select.recorder_garden_ptz_preset"
    async with asyncio.timeout(30):  # the select reads the presets after it was added
        while (await hass.states("select")).get(select, {}).get("attributes", {}).get(
            "options"
        ) != ["Gate", "Terrace"]:
            await asyncio.sleep(0.5)
    print(f"  ok  {select} lists the platform's presets: Gate, Terrace", flush=True)
    before = len(emulator.ptz.log)
    await hass.request(
        "POST", "/api/services/select/select_option", {"entity_id": select, "option": "Terrace"}
    )
    sent = [(c.cmd, c.preset, c.error) for c in emulator.ptz.log[before:]]
    check(sent == [("goto", 2, None)], f"selecting Terrace sent PresetControl goto 2 ({sent})")
    before = len(emulator.ptz.log)
    await hass.request(
        "POST",
        f"/api/services/{DOMAIN}/ptz_preset",
        {"entity_id": "camera.recorder_garden", "action": "goto", "preset": 1},
    )
    sent = [(c.cmd, c.preset, c.error) for c in emulator.ptz.log[before:]]
    check(sent == [("goto", 1, None)], f"{DOMAIN}.ptz_preset goto 1 was sent ({sent})")
    before = len(emulator.ptz.log)
    started = time.monotonic()
    await hass.request(
        "POST",
        f"/api/services/{DOMAIN}/ptz",
        {"entity_id": "camera.recorder_garden", "command": "left", "speed": 40, "duration": 1},
    )
    returned = time.monotonic() - started
    log = emulator.ptz.log[before:]
    sent = [(c.action, c.cmd, c.para, c.error) for c in log]
    check(
        sent == [("PTZControl", "left", 40, None), ("PTZControl", "stop", 0, None)],
        f"{DOMAIN}.ptz left for 1 s: the move, then its stop ({sent})",
    )
    moved = log[1].at - log[0].at
    check(
        moved >= 1.0,
        f"  the stop came {moved:.2f} s after the move; the call took {returned:.2f} s",
    )
    check(emulator.ptz.channel(dome).moving is None, "  the camera is stopped")


async def live_view(hass: Hass) -> None:
    """Camera entities per channel; camera_proxy returns a JPEG of the emulator's test picture."""
    cameras = await hass.states("camera")
    check(
        {"camera.front_door", "camera.recorder_garden", "camera.recorder_back_yard"}
        <= set(cameras),
        f"camera entities per channel: {', '.join(sorted(cameras))}",
    )
    for query, size in (("", (WIDTH, HEIGHT)), ("?width=320&height=180", (320, 180))):
        async with hass.http.get(
            f"{hass.url}/api/camera_proxy/camera.front_door{query}", headers=hass.headers
        ) as resp:
            body = await resp.read()
            check(resp.status == 200, f"GET /api/camera_proxy/camera.front_door{query}: 200")
            check(
                resp.content_type == "image/jpeg" and jpeg_size(body) == size,
                f"a JPEG decoded to {size[0]}x{size[1]}",
            )


async def recordings(hass: Hass, emulator: Emulator, *, device: bool) -> None:
    """Media -> Volcengine AIoT Video: browse to a day, play a cloud recording (MP4 from the
    integration's view, the signed URL never handed out) and a device recording (HLS from the
    stream integration; StopPlayback once nobody fetches it)."""
    entries = await hass.request("GET", "/api/config/config_entries/entry")
    entry_id = next(e["entry_id"] for e in entries if e["domain"] == DOMAIN)

    async def browse(identifier: str) -> dict[str, Any]:
        folder: dict[str, Any] = await hass.ws(
            {
                "type": "media_source/browse_media",
                "media_content_id": f"media-source://{DOMAIN}/{identifier}".rstrip("/"),
            }
        )
        return folder

    root = await browse("")
    check(root["title"] == "Volcengine AIoT Video", f"media source: {root['title']}")
    space = await browse(entry_id)
    cameras = {c["title"]: c["media_content_id"].split("/", 3)[3] for c in space["children"]}
    check("Front door" in cameras, f"recordings of the cameras {sorted(cameras)}")
    sources = [("Front door", "video/mp4")] + ([("Recorder Garden", "")] if device else [])
    await many_segments(hass, emulator)
    for camera, mime in sources:
        days = await browse(cameras[camera])
        day = await browse(days["children"][1]["media_content_id"].split("/", 3)[3])
        check(day["children"], f"{day['title']}: {len(day['children'])} recordings")
        item = day["children"][0]
        began = time.monotonic()
        play = await hass.ws(
            {"type": "media_source/resolve_media", "media_content_id": item["media_content_id"]}
        )
        check(
            "X-JWT-Token" not in play["url"] and "/playback/" not in play["url"],
            f"{item['title']} resolved to {play['mime_type']}, no signed URL handed out",
        )
        if mime:
            async with hass.http.get(f"{hass.url}{play['url']}") as resp:
                first = await resp.content.read(8)
                started = time.monotonic() - began
                body = first + await resp.read()
            check(
                resp.status == 200 and body[4:8] == b"ftyp",
                f"the cloud recording plays: {len(body)} bytes of MP4 from the view, first bytes "
                f"{started * 1000:.0f} ms after the click (resolve + view)",
            )
            continue
        playlist = f"{hass.url}{play['url']}"
        async with asyncio.timeout(60):  # the stream worker pulls the device playback
            while True:
                async with hass.http.get(playlist) as resp:
                    body = await resp.text() if resp.status == 200 else ""
                if "#EXTINF" in body:
                    break
                await asyncio.sleep(0.2)
        check(
            emulator.recordings.active_playbacks() == 1,
            f"the device recording plays as HLS: first segment {time.monotonic() - began:.1f} s "
            "after the click",
        )
        began = time.monotonic()
        async with asyncio.timeout(60 + 30):  # the playback's idle timeout + slack
            while emulator.recordings.active_playbacks():
                await asyncio.sleep(1)
        stopped = len(emulator.requests_for("StopPlayback")) == 1
        check(stopped, f"StopPlayback {time.monotonic() - began:.0f} s after the last fetch")


async def many_segments(hass: Hass, emulator: Emulator) -> None:
    """The shop space's counter: a day of 4,320 segments, opened in the media browser (timed)."""
    flow = await hass.request("POST", "/api/config/config_entries/flow", {"handler": DOMAIN})
    flow = await hass.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "access_key_id": EMU_AK,
            "secret_access_key": EMU_SK,
            "region": "cn-north-1",
            "advanced": {"endpoint": emulator.url},
        },
    )
    flow = await hass.request(
        "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"space_id": SPACE_SHOP_ID}
    )
    check(flow["type"] == "create_entry", "the shop space is added")
    entry_id = flow["result"]["entry_id"]
    base = f"media-source://{DOMAIN}/{entry_id}/{SHOP_IPC_STREAM_ID}"
    days = await hass.ws({"type": "media_source/browse_media", "media_content_id": base})
    many = f"{base}/{emulator.recordings.many_day.isoformat()}"
    check(any(d["media_content_id"] == many for d in days["children"]), "the busy day is listed")
    times = []
    for _ in range(2):  # the first open lists the day, the second is answered from the cache
        began = time.monotonic()
        day = await hass.ws({"type": "media_source/browse_media", "media_content_id": many})
        times.append(time.monotonic() - began)
    tz = ZoneInfo((await hass.request("GET", "/api/config"))["time_zone"])
    segments = sum(
        1
        for s in emulator.recordings.cloud[SHOP_IPC_STREAM_ID]
        if datetime.fromtimestamp(s.start, tz).date() == emulator.recordings.many_day
    )
    check(
        len(day["children"]) < segments,
        f"{day['title']}: {segments} segments as {len(day['children'])} items, opened in "
        f"{times[0] * 1000:.0f} ms (cached: {times[1] * 1000:.0f} ms)",
    )
    await hass.request("DELETE", f"/api/config/config_entries/entry/{entry_id}")


async def hls_view_ends(hass: Hass, emulator: Emulator) -> None:
    """An HLS view (the stream integration) that ends leads to StopStream once the view is idle.

    The stream integration ends an HLS output about 30 s after its playlist was last fetched;
    the integration then stops the platform stream once nobody asked for it for 5 minutes.
    Home Assistant reloads the entry 30 s after entities were enabled (the broadcast did): a
    reload also stops the stream, so the diagnostics tell whether the same live stream stopped
    it (idle) or a new one replaced it (reload, then the view is tried once more).
    """
    entity, stream_id = "camera.recorder_back_yard", HOME_NVR_STREAM_IDS[1]
    entries = await hass.request("GET", "/api/config/config_entries/entry")
    entry_id = next(e["entry_id"] for e in entries if e["domain"] == DOMAIN)
    for attempt in range(2):
        stops = len(emulator.requests_for("StopStream"))
        result = await hass.ws({"type": "camera/stream", "entity_id": entity, "format": "hls"})
        playlist = f"{hass.url}{result['url']}".replace("master_playlist", "playlist")
        async with asyncio.timeout(60):  # the worker reads the emulator's stream into segments
            while True:
                async with hass.http.get(playlist) as resp:
                    body = await resp.text() if resp.status == 200 else ""
                if "#EXTINF" in body:
                    break
                await asyncio.sleep(1)
        check(emulator.streams.running(stream_id), f"HLS view of {entity}: the stream runs")
        began = time.monotonic()
        async with asyncio.timeout(30 + 300 + 120):  # the stream's idle timeout + ours + slack
            while len(emulator.requests_for("StopStream")) == stops or emulator.streams.running(
                stream_id
            ):
                await asyncio.sleep(2)
        took = time.monotonic() - began
        diagnostics = await hass.request("GET", f"/api/diagnostics/config_entry/{entry_id}")
        camera = next(
            c for c in diagnostics["data"]["cameras"].values() if c["stream_id"] == stream_id
        )
        if camera["starts"] == 1 or attempt:
            break
        print(f"  ..  the entry was reloaded {took:.0f} s after the view: once more", flush=True)
    stopped = [r.query.get("StreamID") for r in emulator.requests_for("StopStream")[stops:]]
    check(
        stopped == [stream_id] and camera["starts"] == 1 and not camera["started"],
        f"the HLS view ended: StopStream {took:.0f} s after the last playlist fetch",
    )


async def motion_announces(hass: Hass, emulator: Emulator, config: Path) -> None:
    """Motion alarms -> motion sensor, alarm event and the blueprint's announcement."""
    target = config / "blueprints" / "automation" / BLUEPRINT
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "blueprints" / "automation" / BLUEPRINT, target)
    blueprints = await hass.ws({"type": "blueprint/list", "domain": "automation"})
    listed = blueprints.get(BLUEPRINT, {})
    check(
        "error" not in listed and "metadata" in listed,
        "the blueprint copied into blueprints/automation/ is listed: "
        f"{listed.get('metadata', {}).get('name', listed)!r}",
    )

    registry = await hass.ws({"type": "config/entity_registry/list"})
    device = next(e["device_id"] for e in registry if e["entity_id"] == "camera.front_door")
    on_device = {e["entity_id"] for e in registry if e["device_id"] == device}
    binary = await hass.states("binary_sensor")
    motion = next(
        e
        for e in sorted(on_device)
        if binary.get(e, {}).get("attributes", {}).get("device_class") == "motion"
    )
    event = next(e for e in sorted(on_device) if e.startswith("event."))
    speaker = next(e for e in sorted(on_device) if e.startswith("media_player."))
    check(
        binary[motion]["state"] == "off",
        f"camera.front_door's device has {motion} (off), {event} and {speaker}",
    )
    events = await hass.states("event")
    check(
        "motion" in events[event]["attributes"]["event_types"],
        f"{event} offers {', '.join(events[event]['attributes']['event_types'])}",
    )

    result = await hass.request(
        "POST",
        f"/api/config/automation/config/{AUTOMATION_ID}",
        {
            "alias": "Front door: announce motion",
            "description": "",
            "use_blueprint": {
                "path": BLUEPRINT,
                "input": {
                    "motion_entity": motion,
                    "tts_entity": "tts.smoke",
                    "message": ANNOUNCE_MESSAGE,
                },
            },
        },
    )
    check(result == {"result": "ok"}, "an automation created from the blueprint over HTTP")
    async with asyncio.timeout(30):
        while not (
            automation := next(
                (
                    (e, s)
                    for e, s in (await hass.states("automation")).items()
                    if s["attributes"].get("id") == AUTOMATION_ID
                ),
                None,
            )
        ):
            await asyncio.sleep(0.5)
    automation_id, state = automation
    check(state["state"] == "on", f"{automation_id} is on")

    # Polling (the default, every 10 s): the first alarm turns the sensor on and makes the
    # camera speak; each alarm fires the event.
    talks = len(emulator.talk.sessions_for(HOME_IPC_NSID))
    sensor_on: dict[str, float] = {}
    fired: dict[str, list[float]] = {"polling": [], "push": []}
    sound = 0.0
    for sample in range(POLL_SAMPLES):
        wall, mono, seen = await _inject_motion(hass, emulator, event, f"poll {sample}")
        fired["polling"].append(seen - wall)
        if sample == 0:
            state = await hass.request("GET", f"/api/states/{motion}")
            check(state["state"] == "on", f"polling: {motion} turned on")
            sensor_on["polling"] = _time(state["last_changed"]) - wall
            async with asyncio.timeout(60):
                while len(sessions := emulator.talk.sessions_for(HOME_IPC_NSID)) == talks or not (
                    sessions[-1].stopped
                ):
                    await asyncio.sleep(0.1)
            recording = sessions[-1]
            check(len(sessions) == talks + 1, f"the automation made {speaker} talk once")
            heard = voiced(alaw_decode(recording.alaw()))
            freq = dominant_frequency(heard)
            check(
                recording.errors == [] and abs(freq - ANNOUNCE_HZ) < 5,
                f"  the camera received the announcement ({freq:.1f} Hz, "
                f"{len(heard) / 8000:.2f} s) and the talk was stopped",
            )
            first = next(f.arrival for f in recording.frames if rms(alaw_decode(f.payload)) > 0.01)
            sound = first - mono
            talks += 1
    check(
        len(emulator.talk.sessions_for(HOME_IPC_NSID)) == talks,
        "more motion within the blueprint's cooldown: no second announcement",
    )

    # Push: the webhook URL the options dialog shows, entered as the space's callback URL.
    entries = await hass.request("GET", "/api/config/config_entries/entry")
    entry_id = next(e["entry_id"] for e in entries if e["domain"] == DOMAIN)
    url = URL(await _webhook_url(hass, entry_id))
    check(
        url.port == URL(hass.url).port and url.path.startswith("/api/webhook/"),
        f"the options show a webhook URL of Home Assistant (port {url.port}, /api/webhook/…)",
    )
    # Home Assistant names its network address; it listens on 127.0.0.1 here, and the emulator
    # calls back loopback addresses only.
    url = url.with_host("127.0.0.1")
    emulator.events.set_callback(SPACE_HOME_ID, str(url))
    async with asyncio.timeout(120):  # the quiet time (30 s) after the last polled alarm
        while (await hass.request("GET", f"/api/states/{motion}"))["state"] != "off":
            await asyncio.sleep(0.5)
    print(f"  ok  {motion} turned off after the quiet time", flush=True)
    deliveries = len(emulator.events.deliveries)
    try:
        for sample in range(PUSH_SAMPLES):
            if sample:  # the polls a callback asks for are spaced by a second: one alarm each
                await asyncio.sleep(1.5)
            wall, _mono, seen = await _inject_motion(hass, emulator, event, f"push {sample}")
            fired["push"].append(seen - wall)
            if sample == 0:
                state = await hass.request("GET", f"/api/states/{motion}")
                check(state["state"] == "on", f"push: {motion} turned on")
                sensor_on["push"] = _time(state["last_changed"]) - wall
    finally:
        emulator.events.set_callback(SPACE_HOME_ID, "")
    answers = [d.status for d in emulator.events.deliveries[deliveries:]]
    check(answers == [200] * PUSH_SAMPLES, f"every callback answered 200 ({answers})")
    for path in ("polling", "push"):
        times = fired[path]
        print(
            f"  ..  {path}: alarm -> {motion} on {sensor_on[path] * 1000:.0f} ms (first alarm); "
            f"-> {event} fired p50 {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms ({len(times)} alarms)",
            flush=True,
        )
    print(
        f"  ..  polling: alarm -> first sound of the announcement {sound:.2f} s "
        f"({sound - sensor_on['polling']:.2f} s after the sensor turned on)",
        flush=True,
    )


async def _webhook_url(hass: Hass, entry_id: str) -> str:
    """The webhook URL the options dialog shows (the flow is opened and closed again)."""
    flow = await hass.request(
        "POST", "/api/config/config_entries/options/flow", {"handler": entry_id}
    )
    await hass.request("DELETE", f"/api/config/config_entries/options/flow/{flow['flow_id']}")
    return str(flow["description_placeholders"]["webhook_url"])


async def _inject_motion(
    hass: Hass, emulator: Emulator, event: str, description: str
) -> tuple[float, float, float]:
    """Inject one motion alarm of the front door; return its wall and monotonic time and when
    the event entity fired it (wall time, from the entity's state)."""
    wall, mono = time.time(), time.monotonic()
    await emulator.events.inject(
        SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, description=description
    )
    async with asyncio.timeout(60):
        while (state := await hass.request("GET", f"/api/states/{event}"))["attributes"].get(
            "description"
        ) != description:
            await asyncio.sleep(0.1)
    check(
        state["attributes"].get("event_type") == "motion",
        f"{event} fired 'motion' ({description})",
    )
    return wall, mono, _time(state["state"])


def _time(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def ffmpeg_processes(session: int) -> list[str]:
    """Every ffmpeg process of the hass session, also orphaned ones (hass runs in its own
    session, its ffmpeg children stay in it; others' ffmpeg on a shared machine do not count)."""
    out = subprocess.run(
        ["pgrep", "-a", "-x", "-s", str(session), "ffmpeg"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return out.splitlines()


class _FileServer:
    def __init__(self, runner: aiohttp.web.AppRunner, url: str) -> None:
        self.runner = runner
        self.url = url

    async def close(self) -> None:
        await self.runner.cleanup()


async def _serve_file(path: Path) -> _FileServer:
    """Serve one file over http on 127.0.0.1 (the 'any http(s) URL' case)."""
    from aiohttp import web  # noqa: PLC0415

    app = web.Application()
    app.router.add_get(f"/{path.name}", lambda _request: web.FileResponse(path))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return _FileServer(runner, f"http://127.0.0.1:{port}/{path.name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hass", required=True, help="the hass executable to test")
    parser.add_argument("--timeout", type=float, default=300, help="start-up timeout (s)")
    parser.add_argument(
        "--skip-hls", action="store_true", help="skip the HLS idle check (about 6 minutes)"
    )
    args = parser.parse_args()
    try:
        asyncio.run(run(args.hass, args.timeout, hls=not args.skip_hls))
    except SmokeError as err:
        print(f"FAIL {err}", flush=True)
        return 1
    print("smoke test passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
