"""Real-browser check of the dashboard: Home Assistant with its frontend, headless Chromium.

Started by ``scripts/browser-smoke`` (not part of CI). It runs the emulator in this process,
starts ``hass`` with the frontend on a throw-away configuration directory, onboards it and adds
the integration (the same HTTP calls as ``scripts/smoke``), creates a dashboard holding the
push-to-talk card over the lovelace websocket API, then drives Debian's Chromium through
Playwright: the real login page, the dashboard, hold the talk button for 3 s with a fake
microphone playing a 1 kHz tone, release. Checks: the emulator got ~3 s of 1 kHz A-law and
StopVoiceTalk after the release; the card picker entry and the visual editor; the error a second
talker sees; the frame latency through Home Assistant; tap-to-toggle in Simplified Chinese; no raw
translation key on the card; no console error of the card; no traceback of the integration in
the Home Assistant log. Screenshots go to a folder it prints.

The run is a list of steps (``STEPS``) sharing one ``Run``: another walk-through (e.g. the
config flow through the UI) is one more step function added to that list.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchmark_ptt import CODES, latencies, pcm_frame, pct
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    TimeoutError as PlaywrightTimeoutError,
    async_playwright,
)
from smoke import DOMAIN, Hass, SmokeError, _slug, check, free_port

from tests.audio import alaw_decode, dominant_frequency, voiced
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_HOME_ID

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
USERNAME = "smoke"
PASSWORD = "smoke-test-password"  # noqa: S105 - a throw-away test instance
DASHBOARD = "talk-smoke"
CARD = "volcengine-aiot-talk-card"
HOLD_SECONDS = 3.0
CONFIGURATION = """\
homeassistant:
  name: Volcengine AIoT browser smoke test
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
api:
config:
onboarding:
lovelace:
media_source:
ffmpeg:
logger:
  default: warning
  logs:
    custom_components.volcengine_aiot: debug
"""
RAW_KEY = re.compile(r"\b(component|ui|state)\.[a-z_]+\.[a-z_.]+|\{[a-z_]+\}")


@dataclass
class Run:
    """What the steps share."""

    hass: Hass
    emulator: Emulator
    browser: Browser
    page: Page
    workdir: Path
    shots: Path
    token: str = ""
    speaker: str = ""
    nsid: str = ""
    console_errors: list[str] = field(default_factory=list)

    async def ws(self, message: dict[str, Any]) -> Any:
        """Send one command on Home Assistant's websocket API and return its result."""
        async with self.hass.http.ws_connect(f"{self.hass.url}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            auth = await ws.receive_json()
            if auth["type"] != "auth_ok":
                raise SmokeError(auth)
            await ws.send_json({"id": 1, **message})
            result = await ws.receive_json()
        if not result["success"]:
            msg = f"{message['type']}: {result['error']}"
            raise SmokeError(msg)
        return result["result"]

    async def screenshot(self, name: str, target: Any = None) -> Path:
        path = self.shots / f"{name}.png"
        await (target or self.page).screenshot(path=str(path))
        print(f"  screenshot {path}", flush=True)
        return path


Step = Callable[[Run], Awaitable[None]]


async def add_integration(run: Run) -> None:
    """The config flow over HTTP (issue 11 may walk it through the UI instead)."""
    hass = run.hass
    flow = await hass.request(
        "POST",
        "/api/config/config_entries/flow",
        {"handler": DOMAIN, "show_advanced_options": True},
    )
    flow = await hass.request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "access_key_id": EMU_AK,
            "secret_access_key": EMU_SK,
            "region": "cn-north-1",
            "advanced": {"endpoint": run.emulator.url},
        },
    )
    flow = await hass.request(
        "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"space_id": SPACE_HOME_ID}
    )
    check(flow["type"] == "create_entry", f"config entry created: {flow['title']}")


async def find_speaker(run: Run) -> None:
    async with asyncio.timeout(30):
        while not (players := await run.hass.states("media_player")):
            await asyncio.sleep(0.5)
    idle = sorted(e for e, s in players.items() if s["state"] == "idle")
    check(idle, f"an idle speaker: {idle[0] if idle else None}")
    run.speaker = idle[0]
    nsids = {
        f"media_player.{_slug(d['DeviceName'])}_speaker": d["DeviceNSID"]
        for d in run.emulator.state.devices[SPACE_HOME_ID].values()
    }
    run.nsid = nsids[run.speaker]


async def create_dashboard(run: Run) -> None:
    """A dashboard holding the card, over the lovelace websocket API."""
    await run.ws(
        {
            "type": "lovelace/dashboards/create",
            "url_path": DASHBOARD,
            "title": "Talk",
            "mode": "storage",
            "show_in_sidebar": True,
            "require_admin": False,
        }
    )
    await run.ws(
        {
            "type": "lovelace/config/save",
            "url_path": DASHBOARD,
            "config": {
                "views": [
                    {
                        "title": "Talk",
                        "cards": [{"type": f"custom:{CARD}", "entity": run.speaker}],
                    }
                ]
            },
        }
    )
    print(f"  ok  dashboard /{DASHBOARD} with the card for {run.speaker}", flush=True)


async def login(run: Run) -> None:
    """The real login page."""
    page = run.page
    await page.goto(f"{run.hass.url}/{DASHBOARD}/0")
    await page.locator("input[name='username']").fill(USERNAME)
    await page.locator("input[name='password']").fill(PASSWORD)
    await run.screenshot("login")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(rf".*/{DASHBOARD}/0"), timeout=30_000)
    print("  ok  logged in through the login page", flush=True)
    # Home Assistant 2026.11 asks to confirm an http: section that differs from the defaults.
    confirm = page.get_by_role("button", name="Confirm")
    with contextlib.suppress(PlaywrightTimeoutError):
        await confirm.click(timeout=8_000)
        await confirm.wait_for(state="hidden", timeout=5_000)
        print("  (confirmed the HTTP server settings dialog)", flush=True)


async def card_text(card: Any) -> str:
    """Return the text the card shows (its shadow root, without the style sheet)."""
    text = await card.evaluate(
        "(el) => [...el.shadowRoot.querySelectorAll('.name, .label, .message')]"
        ".map((n) => n.textContent).join(' | ')"
    )
    if not text.strip(" |"):
        msg = "the card shows no text"
        raise SmokeError(msg)
    return str(text)


async def push_to_talk(run: Run) -> None:
    """Hold the button 3 s with the fake microphone (1 kHz), release, check the emulator."""
    card = run.page.locator(CARD)
    await card.wait_for(timeout=30_000)
    button = card.locator("button")
    await button.wait_for(timeout=10_000)
    await run.page.wait_for_timeout(500)
    check(await card.get_attribute("state") == "idle", "the card is idle")
    idle_text = await card_text(card)
    await run.screenshot("idle", card)
    box = await button.bounding_box()
    if box is None:
        msg = "the talk button is not visible"
        raise SmokeError(msg)
    await run.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    released_at = 0.0
    await run.page.mouse.down()
    pressed = time.monotonic()
    try:
        async with asyncio.timeout(15):
            while await card.get_attribute("state") != "talking":
                await asyncio.sleep(0.05)
        talking_text = await card_text(card)
        await run.screenshot("talking", card)
        await asyncio.sleep(max(0.0, HOLD_SECONDS - (time.monotonic() - pressed)))
    finally:
        await run.page.mouse.up()
        released_at = time.monotonic()
    stats = await card.evaluate("(el) => el.stats")
    print(
        f"  press -> subscribed {stats['subscribedAt'] - stats['pressedAt']:.0f} ms, "
        f"press -> talk open {stats['talkingAt'] - stats['pressedAt']:.0f} ms, "
        f"{stats['framesSent']} frames sent",
        flush=True,
    )
    sessions = run.emulator.talk.sessions_for(run.nsid)
    check(len(sessions) == 1, "one talk session on the emulator")
    rec = sessions[0]
    await rec.wait_closed(10)
    async with asyncio.timeout(10):  # the socket is closed first, then the talk stopped
        while not rec.stopped:
            await asyncio.sleep(0.05)
    check(rec.stopped, "StopVoiceTalk after the release")
    stop = run.emulator.requests_for("StopVoiceTalk")
    check(len(stop) == 1, "exactly one StopVoiceTalk")
    check(rec.closed_at is not None and rec.closed_at >= released_at, "stopped after the release")
    tone = voiced(alaw_decode(rec.alaw()))
    seconds = len(tone) / 8000
    frequency = dominant_frequency(tone) if len(tone) else 0.0
    check(abs(frequency - 1000) <= 20, f"the emulator heard {frequency:.0f} Hz (1 kHz sent)")
    # The talk opens ~0.5 s after the press (the pre-roll); of the audio before, 100 ms is kept.
    check(
        2.4 <= seconds <= 3.6, f"the emulator heard {seconds:.2f} s of it ({HOLD_SECONDS} s held)"
    )
    check(rec.errors == [], "the FLV stream is well formed")
    await run.page.wait_for_timeout(500)
    await run.screenshot("after", card)
    for text in (idle_text, talking_text, await card_text(card)):
        check(not RAW_KEY.search(text), f"no raw translation key on the card: {text!r}")


async def card_picker(run: Run) -> None:
    """The card is offered in the card picker, with a stub config and a visual editor."""
    info = await run.page.evaluate(
        """async (tag) => {
            const cls = customElements.get(tag);
            const hass = document.querySelector("home-assistant").hass;
            const entry = (window.customCards || []).find((c) => c.type === tag);
            const editor = cls.getConfigElement();
            document.body.appendChild(editor);
            editor.setConfig(cls.getStubConfig(hass));
            editor.hass = hass;
            await new Promise((resolve) => setTimeout(resolve, 500));
            const form = editor.querySelector("ha-form");
            const result = {
                name: entry && entry.name,
                stub: cls.getStubConfig(hass),
                editor: editor.tagName.toLowerCase(),
                form: Boolean(form),
                formData: form && form.data,
            };
            editor.remove();
            return result;
        }""",
        CARD,
    )
    check(info["name"], f"listed in the card picker as {info['name']!r}")
    check(info["stub"].get("entity", "").endswith("_speaker"), f"stub config {info['stub']}")
    editor = info["editor"]
    check(info["form"] and info["formData"]["entity"], f"visual editor {editor} with a form")


async def busy_error(run: Run) -> None:
    """Someone else holds the camera: pressing (with the keyboard) shows the reason."""
    card = run.page.locator(CARD)
    async with run.hass.http.ws_connect(f"{run.hass.url}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": run.token})
        await ws.receive_json()
        await ws.send_json({"id": 1, "type": f"{DOMAIN}/talk", "entity_id": run.speaker})
        check((await ws.receive_json())["success"], "another client holds the camera")
        await card.locator("button").focus()
        await run.page.keyboard.down(" ")
        async with asyncio.timeout(10):
            while await card.get_attribute("state") != "error":
                await asyncio.sleep(0.05)
        text = await card_text(card)
        await run.screenshot("busy", card)
        await run.page.keyboard.up(" ")
        check("already talking" in text, f"the card says why: {text!r}")
        check(not RAW_KEY.search(text), "no raw translation key in the error")
        await ws.send_json({"id": 2, "type": "unsubscribe_events", "subscription": 1})
    async with asyncio.timeout(10):
        while run.emulator.talk.active(run.nsid):
            await asyncio.sleep(0.05)
    print("  ok  the other client's talk was stopped", flush=True)


async def latency(run: Run) -> None:
    """Frame leaving a websocket client -> arriving at the emulator, through this Home Assistant."""
    frames = 250
    sent: list[tuple[int, float]] = []
    async with run.hass.http.ws_connect(f"{run.hass.url}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": run.token})
        await ws.receive_json()
        pressed = time.monotonic()
        await ws.send_json({"id": 1, "type": f"{DOMAIN}/talk", "entity_id": run.speaker})
        check((await ws.receive_json())["success"], "a websocket client talks")
        handler = (await ws.receive_json())["event"]["binary_handler_id"]
        talking = await ws.receive_json()
        check(talking["event"]["type"] == "talking", "the talk is open")
        opened = time.monotonic() - pressed
        t0 = time.monotonic()
        for i in range(frames):
            code = CODES[i % len(CODES)]
            sent.append((code, time.monotonic()))
            await ws.send_bytes(bytes([handler]) + pcm_frame(code))
            await asyncio.sleep(max(0.0, t0 + (i + 1) * 0.02 - time.monotonic()))
        await ws.send_json({"id": 2, "type": "unsubscribe_events", "subscription": 1})
        await ws.receive_json()
    rec = run.emulator.talk.sessions_for(run.nsid)[-1]
    await rec.wait_closed(10)
    received = [(f.payload[0], f.arrival) for f in rec.frames if len(set(f.payload)) == 1]
    lat = latencies(sent, [r for r in received if r[0] != 0xD5])
    check(len(lat) >= frames * 0.95, f"{len(lat)} of {frames} frames matched")
    print(
        f"  press -> talk open {opened * 1000:.0f} ms; frame latency p50 / p95 / max "
        f"{pct(lat, 0.5) * 1000:.0f} / {pct(lat, 0.95) * 1000:.0f} / {max(lat) * 1000:.0f} ms",
        flush=True,
    )
    check(pct(lat, 0.95) <= 0.150, "frame latency p95 <= 150 ms")


async def toggle_in_chinese(run: Run) -> None:
    """Tap-to-toggle mode, with the user's language set to Simplified Chinese."""
    await run.ws(
        {
            "type": "frontend/set_user_data",
            "key": "language",
            "value": {"language": "zh-Hans", "number_format": "language"},
        }
    )
    await run.ws(
        {
            "type": "lovelace/config/save",
            "url_path": DASHBOARD,
            "config": {
                "views": [
                    {
                        "title": "Talk",
                        "cards": [
                            {"type": f"custom:{CARD}", "entity": run.speaker, "mode": "toggle"}
                        ],
                    }
                ]
            },
        }
    )
    await run.page.reload()
    card = run.page.locator(CARD)
    await card.wait_for(timeout=30_000)
    async with asyncio.timeout(15):
        while "点击说话" not in await card_text(card):
            await asyncio.sleep(0.1)
    before = len(run.emulator.talk.sessions_for(run.nsid))
    await card.locator("button").click()
    async with asyncio.timeout(15):
        while await card.get_attribute("state") != "talking":
            await asyncio.sleep(0.05)
    text = await card_text(card)
    await run.screenshot("toggle-zh-Hans", card)
    check("再点一次结束" in text, f"talking, in Chinese: {text!r}")
    await asyncio.sleep(1.0)
    await card.locator("button").click()
    sessions = run.emulator.talk.sessions_for(run.nsid)
    check(len(sessions) == before + 1, "a second tap ends the talk")
    async with asyncio.timeout(10):
        while not sessions[-1].stopped:
            await asyncio.sleep(0.05)
    text = await card_text(card)
    check("点击说话" in text and not RAW_KEY.search(text), f"idle again: {text!r}")


STEPS: list[Step] = [
    add_integration,
    find_speaker,
    create_dashboard,
    login,
    push_to_talk,
    card_picker,
    busy_error,
    latency,
    toggle_in_chinese,
]


def write_tone(path: Path) -> Path:
    """A 1 kHz tone (48 kHz mono wav) for Chromium's fake microphone."""
    subprocess.run(
        [
            shutil.which("ffmpeg") or "ffmpeg",
            "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", "sine=frequency=1000:duration=20:sample_rate=48000", "-ac", "1",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


async def onboard(hass: Hass) -> str:
    """Create the user and finish onboarding, so the frontend opens the dashboard."""
    await hass.onboard()
    token = hass.headers["Authorization"].removeprefix("Bearer ")
    await hass.request("POST", "/api/onboarding/core_config")
    await hass.request("POST", "/api/onboarding/analytics")
    await hass.request(
        "POST",
        "/api/onboarding/integration",
        {"client_id": f"{hass.url}/", "redirect_uri": f"{hass.url}/?auth_callback=1"},
    )
    return token


async def main_async(hass_bin: str, startup: float, shots: Path) -> None:
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="volcengine-aiot-browser-"))
    config = workdir / "config"
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / DOMAIN).symlink_to(ROOT / "custom_components" / DOMAIN)
    (config / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
    tone = write_tone(workdir / "tone1k.wav")
    await asyncio.to_thread(shots.mkdir, parents=True, exist_ok=True)
    print(f"Screenshots: {shots}", flush=True)
    log = (workdir / "hass.out").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived server, started once
        [hass_bin, "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        async with aiohttp.ClientSession() as http, async_playwright() as pw:
            hass = Hass(http, f"http://127.0.0.1:{port}")
            await hass.wait_up(proc, startup)
            token = await onboard(hass)
            async with asyncio.timeout(startup):
                while (info := await hass.request("GET", "/api/config"))["state"] != "RUNNING":
                    await asyncio.sleep(0.5)
            print(f"Home Assistant {info['version']} is up", flush=True)
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={tone}",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            )
            page = await browser.new_page(viewport={"width": 1000, "height": 700})
            run = Run(hass, emulator, browser, page, workdir, shots, token=token)

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    run.console_errors.append(message.text)

            page.on("console", on_console)
            page.on("pageerror", lambda err: run.console_errors.append(str(err)))
            try:
                for step in STEPS:
                    print(f"[{step.__name__}]", flush=True)
                    await step(run)
            except Exception:
                with contextlib.suppress(Exception):
                    await run.screenshot("failure")
                raise
            finally:
                await browser.close()
            ours = [e for e in run.console_errors if "volcengine" in e.lower() or CARD in e]
            check(not ours, f"no console error of the card {ours[:3]}")
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
    errors = [
        line
        for line in text.splitlines()
        if (" ERROR " in line or "Traceback" in line) and DOMAIN in line
    ]
    check(not errors, "no error or traceback of the integration in the log " + "".join(errors[:5]))
    print(f"Home Assistant log: {config / 'home-assistant.log'}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hass", required=True, help="the hass executable to run")
    parser.add_argument("--startup", type=float, default=300, help="seconds to wait for hass")
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=Path(tempfile.gettempdir()) / "volcengine-aiot-browser-smoke",
        help="where to save the screenshots",
    )
    args = parser.parse_args()
    try:
        asyncio.run(main_async(args.hass, args.startup, args.screenshots))
    except SmokeError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    print("browser smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
