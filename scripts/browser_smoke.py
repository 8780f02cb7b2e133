"""Real-browser walk-through of a new user and of the dashboard card: Home Assistant, Chromium.

Started by ``scripts/browser-smoke`` (not part of CI). It runs the emulator in this process,
starts ``hass`` with the frontend on a throw-away configuration directory (a 2 s 1 kHz file in
its My media), onboards it over REST, then drives Debian's Chromium through Playwright: the real
login page; in English the integration added through Settings -> Devices & services -> Add
integration (a wrong SecretAccessKey first: error, typed values and the open Advanced section
kept; then the right key; the space step), a camera's device page, its speaker's more-info
dialog, the My-media file played on that speaker from the media panel (the emulator must hear
1 kHz), the entry's Configure dialog; then a second space and Configure in Simplified Chinese.
Then the push-to-talk card: a dashboard holding it, hold the talk button for 3 s with a fake
microphone playing a 1 kHz tone, release; the card picker entry and visual editor; the error a
second talker sees; the frame latency through Home Assistant; Home Assistant's connection
dropped and re-established (the frontend's own reconnect) after the server ended a talk and in the
middle of one: no talk starts again; a press with the microphone refused while a file plays: the
file plays on; the card on a page that is not a secure context (a host name mapped to 127.0.0.1):
disabled, saying why before a press; tap-to-toggle in Chinese. Then the card with the live picture
and PTZ on the Garden dome (``ptz_card``): an arrow held with the mouse for 1 s, the arrow keys and
Space, the emulator's command log (each move, then a stop), a preset picked; en and zh-Hans.
Every page is screenshotted and fails the run on a raw translation key, a console error of the
integration or an error or traceback of the integration in the Home Assistant log. Screenshots
(and each page's text) go to a folder it prints.

The run is a list of steps (``STEPS``) sharing one ``Run``: another walk-through is one more
step function added to that list.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import re
import shutil
import signal
import statistics
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
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_NSID,
    HOME_IPC_STREAM_ID,
    HOME_NVR_STREAM_IDS,
    SPACE_HOME_ID,
)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
USERNAME = "smoke"
PASSWORD = "smoke-test-password"  # noqa: S105 - a throw-away test instance
DASHBOARD = "talk-smoke"
CARD = "volcengine-aiot-talk-card"
HOLD_SECONDS = 3.0
LONG_FILE = "long-1khz.wav"  # 8 s: plays on while a press without a microphone is tried
# A name for 127.0.0.1 (Chromium's --host-resolver-rules): http:// on it is not a secure context,
# like a LAN address, while http://127.0.0.1 is.
INSECURE_HOST = "volcengine-aiot.test"
CONFIGURATION = """\
homeassistant:
  name: Volcengine AIoT browser smoke test
  media_dirs:
    local: {media}
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
stream:
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
    """The real login page, on the way to Settings -> Devices & services."""
    page = run.page
    await page.goto(f"{run.hass.url}/config/integrations/dashboard")
    await page.locator("input[name='username']").fill(USERNAME)
    await page.locator("input[name='password']").fill(PASSWORD)
    await run.screenshot("login")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/config/integrations/dashboard"), timeout=30_000)
    print("  ok  logged in through the login page", flush=True)
    # Home Assistant 2026.11 asks to confirm an http: section that differs from the defaults.
    confirm = page.get_by_role("button", name="Confirm")
    with contextlib.suppress(PlaywrightTimeoutError):
        await confirm.click(timeout=8_000)
        await confirm.wait_for(state="hidden", timeout=5_000)
        print("  (confirmed the HTTP server settings dialog)", flush=True)


async def open_dashboard(run: Run) -> None:
    """The dashboard holding the card, once the speaker is idle again (options reload it)."""
    async with asyncio.timeout(30):
        while (await run.hass.request("GET", f"/api/states/{run.speaker}"))["state"] != "idle":
            await asyncio.sleep(0.5)
    await run.page.goto(f"{run.hass.url}/{DASHBOARD}/0")
    await run.page.locator(CARD).wait_for(timeout=30_000)


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
    sessions_before = len(run.emulator.talk.sessions_for(run.nsid))
    stops_before = len(run.emulator.requests_for("StopVoiceTalk"))
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
    since = {
        key: f"{stats[key] - stats['pressedAt']:.0f} ms" if stats.get(key) is not None else "?"
        for key in ("subscribedAt", "microphoneAt", "firstFrameAt", "talkingAt")
    }
    print(
        f"  press -> subscribed {since['subscribedAt']}, microphone open "
        f"{since['microphoneAt']}, its first frame {since['firstFrameAt']}, talk open "
        f"{since['talkingAt']}, {stats['framesSent']} frames sent",
        flush=True,
    )
    sessions = run.emulator.talk.sessions_for(run.nsid)[sessions_before:]
    check(len(sessions) == 1, "one talk session on the emulator")
    rec = sessions[0]
    await rec.wait_closed(10)
    async with asyncio.timeout(10):  # the socket is closed first, then the talk stopped
        while not rec.stopped:
            await asyncio.sleep(0.05)
    check(rec.stopped, "StopVoiceTalk after the release")
    stop = run.emulator.requests_for("StopVoiceTalk")
    check(len(stop) == stops_before + 1, "exactly one StopVoiceTalk")
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


async def press_latency(run: Run) -> None:
    """Press -> talk open on the card, 5 more presses (the first one of the page is above)."""
    card = run.page.locator(CARD)
    opens: list[float] = []
    for _ in range(5):
        await card.locator("button").hover()
        await run.page.mouse.down()
        try:
            await wait_state(card, "talking")
            await asyncio.sleep(0.3)
        finally:
            await run.page.mouse.up()
        stats = await card.evaluate("(el) => el.stats")
        opens.append(stats["talkingAt"] - stats["pressedAt"])
        async with asyncio.timeout(10):
            while run.emulator.talk.active(run.nsid):
                await asyncio.sleep(0.05)
        await wait_state(card, "idle")
    print(
        f"  press -> talk open, 5 presses: p50 {statistics.median(opens):.0f} ms, "
        f"max {max(opens):.0f} ms ({', '.join(f'{o:.0f}' for o in opens)})",
        flush=True,
    )


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
        # the microphone's first frame (silence, not matched below): the talk starts with it
        await ws.send_bytes(bytes([handler]) + pcm_frame(0xD5))
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


# --- Home Assistant's connection dropping and coming back (the frontend's own reconnect) ---

DROP_JS = """() => {
    const conn = document.querySelector("home-assistant").hass.connection;
    window.__volcReady = 0;
    conn.addEventListener("ready", () => { window.__volcReady += 1; });
    conn.socket.close();  // like a network change or a waking tablet: not asked for by the app
}"""


async def drop_connection(run: Run) -> None:
    """Close the page's websocket; wait until the frontend has reconnected, and 2 s more."""
    await run.page.evaluate(DROP_JS)
    async with asyncio.timeout(20):
        while not await run.page.evaluate(
            "() => window.__volcReady > 0 && "
            "document.querySelector('home-assistant').hass.connection.connected"
        ):
            await asyncio.sleep(0.1)
    print("  ok  the frontend reconnected", flush=True)
    await asyncio.sleep(2.0)  # whatever the frontend re-sends after a reconnect has arrived


async def hold(run: Run) -> Any:
    """Press and hold the card's button; return the card once it is talking."""
    card = run.page.locator(CARD)
    await card.locator("button").wait_for(timeout=10_000)
    await run.page.wait_for_timeout(500)  # the page settles (its connection, the card's hass)
    box = await card.locator("button").bounding_box()
    if box is None:
        msg = "the talk button is not visible"
        raise SmokeError(msg)
    await run.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await run.page.mouse.down()
    return card


async def wait_state(card: Any, *states: str) -> str:
    async with asyncio.timeout(15):
        while (state := await card.get_attribute("state")) not in states:
            await asyncio.sleep(0.05)
    return str(state)


async def play_file(run: Run, name: str) -> asyncio.Task[Any]:
    """Play a My-media file on the speaker (the service call returns when it has played)."""
    return asyncio.create_task(
        run.hass.request(
            "POST",
            "/api/services/media_player/play_media",
            {
                "entity_id": run.speaker,
                "media_content_id": f"media-source://media_source/local/{name}",
                "media_content_type": "music",
            },
        )
    )


async def reconnect_after_talk(run: Run) -> None:
    """A talk ended by the server (a playback took the camera); then the connection drops and
    comes back while the button is still held: no talk starts."""
    await open_dashboard(run)
    card = await hold(run)
    try:
        await wait_state(card, "talking")
        play = await play_file(run, MEDIA_FILE)  # interrupts the talk
        await wait_state(card, "error")
        text = await card_text(card)
        check("another playback" in text, f"the card says the talk ended: {text!r}")
        await asyncio.wait_for(play, 30)
        async with asyncio.timeout(15):
            while run.emulator.talk.active(run.nsid):
                await asyncio.sleep(0.05)
        starts = len(run.emulator.requests_for("StartVoiceTalk"))
        await drop_connection(run)
        check(
            len(run.emulator.requests_for("StartVoiceTalk")) == starts
            and not run.emulator.talk.active(run.nsid),
            "no talk started after the reconnect",
        )
        await run.screenshot("reconnect-after-talk", card)
    finally:
        await run.page.mouse.up()


async def reconnect_during_talk(run: Run) -> None:
    """The connection drops in the middle of a talk: the talk ends (StopVoiceTalk), the card
    says so, and the reconnect does not start it again."""
    await open_dashboard(run)
    card = await hold(run)
    try:
        await wait_state(card, "talking")
        await asyncio.sleep(0.5)
        rec = run.emulator.talk.sessions_for(run.nsid)[-1]
        stops = len(run.emulator.requests_for("StopVoiceTalk"))
        await drop_connection(run)
        await rec.wait_closed(10)
        check(rec.stopped, "the talk was stopped when the connection dropped")
        text = await card_text(card)
        # the frontend may re-create the dashboard's cards after a reconnect (then idle)
        state = await card.get_attribute("state")
        check(
            state == "idle" or (state == "error" and "connection" in text),
            f"the card is not talking after the reconnect: {state} {text!r}",
        )
        starts = len(run.emulator.requests_for("StartVoiceTalk"))
        await asyncio.sleep(1.0)
        check(
            len(run.emulator.requests_for("StartVoiceTalk")) == starts
            and len(run.emulator.requests_for("StopVoiceTalk")) == stops + 1
            and not run.emulator.talk.active(run.nsid),
            "no talk started after the reconnect",
        )
        await run.screenshot("reconnect-during-talk", card)
    finally:
        await run.page.mouse.up()


REFUSE_JS = """() => {
    navigator.mediaDevices.getUserMedia = () => new Promise((resolve, reject) => setTimeout(
        () => reject(new DOMException("Permission denied", "NotAllowedError")), 500));
}"""


async def refused_microphone(run: Run) -> None:
    """A press with the microphone refused while a file plays: the file plays on."""
    await open_dashboard(run)
    await run.page.evaluate(REFUSE_JS)
    starts = len(run.emulator.requests_for("StartVoiceTalk"))
    play = await play_file(run, LONG_FILE)
    async with asyncio.timeout(15):
        while len(run.emulator.requests_for("StartVoiceTalk")) == starts:
            await asyncio.sleep(0.05)
    rec = run.emulator.talk.sessions_for(run.nsid)[-1]
    while len(rec.frames) < 50:  # 1 s of the file
        await asyncio.sleep(0.05)
    card = await hold(run)
    try:
        await wait_state(card, "error")
        await asyncio.sleep(1.0)
        text = await card_text(card)
        await run.screenshot("microphone-refused", card)
    finally:
        await run.page.mouse.up()
    check("denied" in text, f"the card says the microphone was refused: {text!r}")
    frames = len(rec.frames)
    await asyncio.sleep(1.0)
    check(
        len(rec.frames) >= frames + 40 and not rec.stopped and not play.done(),
        "the file plays on",
    )
    check(len(run.emulator.requests_for("StartVoiceTalk")) == starts + 1, "no talk was started")
    await asyncio.wait_for(play, 30)
    tone = voiced(alaw_decode(rec.alaw()))
    check(len(tone) / 8000 >= 7.5, f"the whole file was played ({len(tone) / 8000:.2f} s of 8 s)")
    await run.page.reload()  # the real microphone again


async def insecure_page(run: Run) -> None:
    """On a page that is not a secure context the card says so before anyone presses."""
    url = run.hass.url.replace("127.0.0.1", INSECURE_HOST)
    context = await run.browser.new_context(viewport={"width": 1000, "height": 700})
    try:
        page = await context.new_page()
        await page.goto(f"{url}/{DASHBOARD}/0")
        await page.locator("input[name='username']").fill(USERNAME)
        await page.locator("input[name='password']").fill(PASSWORD)
        await page.keyboard.press("Enter")
        card = page.locator(CARD)
        await card.locator("button").wait_for(timeout=30_000)
        secure = await page.evaluate("() => window.isSecureContext")
        check(not secure, f"{url} is not a secure context")
        text = await card_text(card)
        disabled = await card.locator("button").is_disabled()
        await run.screenshot("insecure-page", card)
        check(disabled and "secure page" in text, f"the card says why before a press: {text!r}")
    finally:
        await context.close()


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
    entry = await run.page.evaluate(
        "(tag) => { const c = window.customCards.find((e) => e.type === tag);"
        " return [c.name, c.description]; }",
        CARD,
    )
    check("对讲" in entry[0], f"the card picker lists it in Chinese (search 对讲): {entry}")


# --- The walk-through of a new user (issue 11): the UI, in English and then in Chinese. ---

# Home Assistant's own labels the walk-through clicks (its frontend translations).
UI = {
    "en": {
        "add": "Add integration",
        "search": "Search for a brand name",
        "submit": "Submit",
        "finish": "Finish",
        "configure": "Configure",
    },
    "zh-Hans": {
        "add": "添加集成",
        "search": "搜索品牌名称",
        "submit": "提交",
        "finish": "完成",
        "configure": "配置",
    },
}
FLOW = "dialog-data-entry-flow"
# Debug aid on failure: every input with its attributes and the custom elements around it.
INPUTS_JS = """() => {
    const out = [];
    const walk = (node, path) => {
        if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE)
            return;
        const tag = node.nodeName.toLowerCase();
        const here = tag.includes("-") ? [...path, tag] : path;
        if (tag === "input" || tag === "textarea") {
            const attrs = [...node.attributes].map((a) => `${a.name}=${a.value}`).join(" ");
            out.push(`${here.slice(-4).join(" > ")} :: ${attrs}`);
        }
        if (node.shadowRoot) walk(node.shadowRoot, here);
        for (const child of node.children || []) walk(child, here);
    };
    walk(document.body, []);
    return out.join("\\n");
}"""
RAW_PAGE_KEYS = (f"component.{DOMAIN}.", "[%key:")
INTEGRATION_NAME = "Volcengine AIoT Video"
WRONG_SECRET = "d3Jvbmctc2VjcmV0LWtleQ=="  # noqa: S105 - not a real key
MEDIA_FILE = "doorbell-1khz.wav"
# Text of every node, through open shadow roots (what the user can read; no style sheets).
PAGE_TEXT_JS = """() => {
    const out = [];
    const walk = (node) => {
        if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
        if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE)
            return;
        if (node.nodeName === "STYLE" || node.nodeName === "SCRIPT") return;
        if (node.shadowRoot) walk(node.shadowRoot);
        for (const child of node.childNodes) walk(child);
    };
    walk(document.body);
    return out.join(" ").replace(/\\s+/g, " ");
}"""


def strings(language: str) -> dict[str, Any]:
    """Return the integration's translations for a language."""
    path = ROOT / "custom_components" / DOMAIN / "translations" / f"{language}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def log_problems(config: Path) -> list[str]:
    """Return the log records (with their tracebacks) that are errors of the integration."""
    log = config / "home-assistant.log"
    if not log.exists():
        return []
    records: list[str] = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if re.match(r"\d{4}-\d\d-\d\d ", line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return [
        r
        for r in records
        # the domain: our loggers, our files, core's messages about the integration (not the
        # word "volcengine" alone: the venv's own path under the cache dir has it)
        if (" ERROR " in r or "Traceback" in r) and DOMAIN in r
    ]


async def check_page(run: Run, name: str) -> str:
    """Screenshot the page and check it: no raw key, no console or log error of ours."""
    await run.page.wait_for_timeout(400)
    await run.screenshot(name)
    text = str(await run.page.evaluate(PAGE_TEXT_JS))
    (run.shots / f"{name}.txt").write_text(text, encoding="utf-8")
    raw = [key for key in RAW_PAGE_KEYS if key in text]
    if raw:
        at = text.find(raw[0])
        msg = f"{name}: raw translation key on the page: {text[max(0, at - 80) : at + 120]!r}"
        raise SmokeError(msg)
    ours = [e for e in run.console_errors if "volcengine" in e.lower() or CARD in e]
    if ours:
        msg = f"{name}: console error of the integration: {ours[:3]}"
        raise SmokeError(msg)
    problems = log_problems(run.workdir / "config")
    if problems:
        msg = f"{name}: error of the integration in the Home Assistant log:\n" + "\n".join(
            problems[:3]
        )
        raise SmokeError(msg)
    print(f"  ok  {name}: no raw key, no console or log error", flush=True)
    return text


async def expect_text(run: Run, text: str) -> None:
    """Wait (up to 20 s) until the page shows a text (through shadow roots)."""
    async with asyncio.timeout(20):
        while text not in str(await run.page.evaluate(PAGE_TEXT_JS)):
            await asyncio.sleep(0.2)


async def set_language(run: Run, language: str) -> None:
    await run.ws(
        {
            "type": "frontend/set_user_data",
            "key": "language",
            "value": {"language": language, "number_format": "language"},
        }
    )


async def form_field(run: Run, name: str) -> Any:
    """The input of a flow form field, by its key (the wa-input does not expose its label)."""
    box = run.page.locator(FLOW).locator(f"input[name='{name}']")
    await box.wait_for(state="attached", timeout=15_000)
    return box


async def config_flow(run: Run, language: str, space: str, others: list[str]) -> None:
    """Add the integration through the UI: a wrong key first, then the right one, the space."""
    ui, tr = UI[language], strings(language)["config"]
    user, page = tr["step"]["user"], run.page
    add = page.get_by_role("button", name=ui["add"]).first
    for attempt in range(3):  # a page reloading (language, entry) may still navigate away
        await page.goto(f"{run.hass.url}/config/integrations/dashboard")
        try:
            await add.click(timeout=20_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    await page.get_by_placeholder(ui["search"]).fill("Volcengine", timeout=15_000)
    await (
        page.locator("dialog-add-integration")
        .get_by_text(INTEGRATION_NAME)
        .first.click(timeout=15_000)
    )
    await expect_text(run, user["title"])
    text = await check_page(run, f"{language}-flow-credentials")
    for label in (user["description"], user["sections"]["advanced"]["name"]):
        check(label in text, f"{label!r} shown")
    await (await form_field(run, "access_key_id")).fill(EMU_AK)
    await (await form_field(run, "secret_access_key")).fill(WRONG_SECRET)
    advanced = user["sections"]["advanced"]
    await page.locator(FLOW).get_by_text(advanced["name"], exact=True).click()
    await (await form_field(run, "endpoint")).fill(run.emulator.url)
    await (await form_field(run, "endpoint")).scroll_into_view_if_needed()
    await check_page(run, f"{language}-flow-credentials-filled")
    await page.get_by_role("button", name=ui["submit"]).click()
    await expect_text(run, tr["error"]["invalid_auth"])
    await check_page(run, f"{language}-flow-wrong-key")
    check(
        await (await form_field(run, "access_key_id")).input_value() == EMU_AK,
        "the AccessKey ID stays after the error",
    )
    endpoint = await form_field(run, "endpoint")
    check(await endpoint.is_visible(), "the Advanced section stays open after the error")
    check(await endpoint.input_value() == run.emulator.url, "the endpoint stays after the error")
    await endpoint.scroll_into_view_if_needed()
    await check_page(run, f"{language}-flow-wrong-key-advanced")
    secret = await form_field(run, "secret_access_key")
    await secret.fill(EMU_SK)
    await page.get_by_role("button", name=ui["submit"]).click()
    step = tr["step"]["space"]
    await expect_text(run, step["title"])
    text = await check_page(run, f"{language}-flow-space")
    for name in others:
        check(name in text, f"space {name!r} offered")
    radios = page.locator(FLOW).get_by_role("radio")
    checked = [await r.is_checked() for r in await radios.all()]
    check(
        len(checked) == len(others) + 1, f"{len(checked)} spaces offered (configured ones left out)"
    )
    check(not any(checked), "no space pre-selected")
    await page.get_by_role("button", name=ui["submit"]).click()
    await expect_text(run, tr["error"]["space_required"])
    await check_page(run, f"{language}-flow-space-none-chosen")
    await page.locator(FLOW).get_by_role("radio", name=space, exact=True).check()
    await page.get_by_role("button", name=ui["submit"]).click()
    finish = page.get_by_role("button", name=ui["finish"])
    await finish.wait_for(timeout=30_000)
    await check_page(run, f"{language}-flow-created")
    await finish.click()
    async with asyncio.timeout(30):
        while not any(
            e["title"] == space and e["state"] == "loaded"
            for e in await run.hass.request("GET", "/api/config/config_entries/entry")
        ):
            await asyncio.sleep(0.5)
    print(f"  ok  the space {space!r} was added through the UI ({language})", flush=True)


async def add_integration(run: Run) -> None:
    """Settings -> Devices & services -> Add integration, in English."""
    await config_flow(run, "en", "home", ["shop", "big"])


async def device_page(run: Run) -> None:
    """The device page of the online camera and the speaker's more-info dialog."""
    devices = await run.ws({"type": "config/device_registry/list"})
    ours = [d for d in devices if any(i[0] == DOMAIN for i in d["identifiers"])]
    entity = await run.ws({"type": "config/entity_registry/get", "entity_id": run.speaker})
    device = next(d for d in ours if d["id"] == entity["device_id"])
    await run.page.goto(f"{run.hass.url}/config/devices/device/{device['id']}")
    await expect_text(run, device["name_by_user"] or device["name"])
    await check_page(run, "en-device")
    await run.page.evaluate(
        """(entityId) => document.querySelector("home-assistant").dispatchEvent(
            new CustomEvent(
                "hass-more-info", {detail: {entityId}, bubbles: true, composed: true}
            ))""",
        run.speaker,
    )
    await run.page.locator("ha-more-info-dialog").wait_for(state="attached", timeout=15_000)
    await run.page.wait_for_timeout(1000)
    await check_page(run, "en-speaker-more-info")
    await run.page.keyboard.press("Escape")


def visible_text(run: Run, text: str) -> Any:
    """The first visible element showing exactly this text."""
    return run.page.get_by_text(text, exact=True).locator("visible=true").first


async def play_my_media(run: Run) -> None:
    """Media -> My media -> a file, on the camera's speaker: the emulator hears it."""
    page = run.page
    # The player picker lists the entity's name ("Speaker") over its device's name.
    name = next(
        d["DeviceName"]
        for d in run.emulator.state.devices[SPACE_HOME_ID].values()
        if d["DeviceNSID"] == run.nsid
    )
    before = len(run.emulator.talk.sessions_for(run.nsid))
    await page.goto(f"{run.hass.url}/media-browser/browser")
    await visible_text(run, "Web browser").click(timeout=30_000)
    await visible_text(run, name).click(timeout=10_000)
    await visible_text(run, "My media").click(timeout=30_000)
    await visible_text(run, MEDIA_FILE).wait_for(timeout=15_000)
    await check_page(run, "en-media-my-media")
    await visible_text(run, MEDIA_FILE).click()
    async with asyncio.timeout(30):
        while len(run.emulator.talk.sessions_for(run.nsid)) == before:
            await asyncio.sleep(0.1)
    await check_page(run, "en-media-playing")
    rec = run.emulator.talk.sessions_for(run.nsid)[-1]
    await rec.wait_closed(30)
    tone = voiced(alaw_decode(rec.alaw()))
    frequency = dominant_frequency(tone) if len(tone) else 0.0
    check(abs(frequency - 1000) <= 20, f"the emulator heard {frequency:.0f} Hz from My media")
    check(1.5 <= len(tone) / 8000 <= 2.5, f"{len(tone) / 8000:.2f} s of it (2 s file)")


async def options_dialog(run: Run) -> None:
    """The entry's Configure dialog."""
    page, tr = run.page, strings("en")["options"]["step"]["init"]
    await page.goto(f"{run.hass.url}/config/integrations/integration/{DOMAIN}")
    await expect_text(run, "home")
    await check_page(run, "en-integration")
    await page.get_by_role("button", name=UI["en"]["configure"]).first.click(timeout=30_000)
    await expect_text(run, tr["title"])
    text = await check_page(run, "en-options")
    for label in tr["data"].values():
        check(label in text, f"option {label!r} shown")
    await page.get_by_role("button", name=UI["en"]["submit"]).click()
    await (
        page.locator(FLOW)
        .get_by_role("button", name=UI["en"]["submit"])
        .wait_for(state="hidden", timeout=15_000)
    )
    print("  ok  the options were saved", flush=True)


async def walk_in_chinese(run: Run) -> None:
    """The same flow with the user's language set to Simplified Chinese: the second space."""
    await set_language(run, "zh-Hans")
    await config_flow(run, "zh-Hans", "shop", ["big"])
    tr = strings("zh-Hans")["options"]["step"]["init"]
    page = run.page
    await page.goto(f"{run.hass.url}/config/integrations/integration/{DOMAIN}")
    await page.get_by_role("button", name=UI["zh-Hans"]["configure"]).first.click(timeout=30_000)
    await expect_text(run, tr["title"])
    text = await check_page(run, "zh-Hans-options")
    for label in tr["data"].values():
        check(label in text, f"option {label!r} shown")
    english = strings("en")["options"]["step"]["init"]["title"]
    check(english not in text, "no English title of ours left")
    await page.keyboard.press("Escape")
    await page.goto(f"{run.hass.url}/config/repairs")
    await page.wait_for_timeout(1500)
    await check_page(run, "zh-Hans-repairs")
    await set_language(run, "en")


async def events_on_device_page(run: Run) -> None:
    """A camera's motion sensor and alarm event on its device page after a motion alarm, in
    English and in Simplified Chinese (entity names follow Home Assistant's language, the
    frontend's texts the user's: both switched, the entry reloaded for the names)."""
    camera = await run.ws({"type": "config/entity_registry/get", "entity_id": "camera.front_door"})
    registry = await run.ws({"type": "config/entity_registry/list"})
    on_device = {
        e["translation_key"]: e
        for e in registry
        if e["device_id"] == camera["device_id"] and e["platform"] == DOMAIN
    }
    motion, alarm = on_device["motion"]["entity_id"], on_device["alarm"]["entity_id"]
    check(
        on_device["motion"]["disabled_by"] is None and on_device["alarm"]["disabled_by"] is None,
        f"{motion} and {alarm} are on the camera's device, enabled",
    )
    entry_id = on_device["motion"]["config_entry_id"]
    await run.emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    for language in ("en", "zh-Hans"):
        if language != "en":
            await _set_hass_language(run, entry_id, language)
            await run.emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
        async with asyncio.timeout(60):  # the next poll (every 10 s)
            while (await run.hass.request("GET", f"/api/states/{motion}"))["state"] != "on":
                await asyncio.sleep(0.5)
        event = await run.hass.request("GET", f"/api/states/{alarm}")
        check(event["attributes"]["event_type"] == "motion", f"{alarm} fired 'motion'")
        entity = strings(language)["entity"]
        texts = (
            entity["binary_sensor"]["motion"]["name"],
            entity["event"]["alarm"]["name"],
            entity["event"]["alarm"]["state_attributes"]["event_type"]["state"]["motion"],
        )
        await set_language(run, language)
        await run.page.goto(f"{run.hass.url}/config/devices/device/{camera['device_id']}")
        await expect_text(run, texts[1])
        text = await check_page(run, f"{language}-device-events")
        for shown in texts:
            check(shown in text, f"{language}: {shown!r} shown on the device page")
    await _set_hass_language(run, entry_id, "en")
    await set_language(run, "en")


async def _media_titles(run: Run, identifier: str) -> list[str]:
    """The titles of a media-source folder's children, as the media browser lists them."""
    folder = await run.ws(
        {
            "type": "media_source/browse_media",
            "media_content_id": f"media-source://{DOMAIN}/{identifier}",
        }
    )
    return [child["title"] for child in folder["children"]]


async def _video_frame(run: Run) -> tuple[float, int]:
    """Wait until the play dialog's video shows frames; return its time and width."""
    video = run.page.locator("video").first
    await video.wait_for(state="attached", timeout=30_000)
    async with asyncio.timeout(30):
        while True:
            now, width = await video.evaluate("v => [v.currentTime, v.videoWidth]")
            if now > 0 and width > 0:
                return float(now), int(width)
            await asyncio.sleep(0.2)


async def recordings_in_media_browser(run: Run) -> None:
    """Media -> Volcengine AIoT Video -> home -> Front door -> a day -> a cloud recording plays
    in the browser (video frames shown), then a device recording of the NVR's garden channel
    (through Home Assistant's stream integration), in English and in Simplified Chinese (folder
    titles follow Home Assistant's language: both switched, the entry reloaded)."""
    entries = await run.hass.request("GET", "/api/config/config_entries/entry")
    entry_id = next(
        e["entry_id"] for e in entries if e["domain"] == DOMAIN and e["title"] == "home"
    )
    page = run.page
    for language in ("en", "zh-Hans"):
        await _set_hass_language(run, entry_id, language)
        await set_language(run, language)
        tr = strings(language)["selector"]["recording_titles"]["options"]
        for camera, stream_id, source in (
            ("Front door", HOME_IPC_STREAM_ID, "cloud"),
            ("Recorder Garden", HOME_NVR_STREAM_IDS[0], "device"),
        ):
            await page.goto(f"{run.hass.url}/media-browser/browser")
            await visible_text(run, "Volcengine AIoT Video").click(timeout=30_000)
            await visible_text(run, "home").click(timeout=15_000)
            await visible_text(run, camera).click(timeout=15_000)
            title = tr["camera"].format(camera=camera, source=tr[source])
            await expect_text(run, title)
            await check_page(run, f"{language}-recordings-{source}-days")
            days = await _media_titles(run, f"{entry_id}/{stream_id}")
            check(days == sorted(days, reverse=True) and len(days) >= 7, f"{camera}: days {days}")
            await visible_text(run, days[1]).click(timeout=15_000)
            items = await _media_titles(run, f"{entry_id}/{stream_id}/{days[1]}")
            check(bool(items), f"{camera} {days[1]}: {len(items)} recordings")
            await expect_text(run, items[0])
            await check_page(run, f"{language}-recordings-{source}-day")
            before = run.emulator.recordings.active_playbacks()
            await visible_text(run, items[0]).click(timeout=15_000)
            now, width = await _video_frame(run)
            check(now > 0 and width > 0, f"{camera}: {items[0]} plays ({now:.1f} s, {width} px)")
            await check_page(run, f"{language}-recordings-{source}-playing")
            if source == "device":
                check(
                    run.emulator.recordings.active_playbacks() == max(before, 1),
                    "one device playback of the channel",
                )
            await page.keyboard.press("Escape")
            # the dialog's close goes back in the history: let it land before navigating on
            await page.locator("video").first.wait_for(state="detached", timeout=15_000)
            await page.wait_for_timeout(1000)
    await _set_hass_language(run, entry_id, "en")
    await set_language(run, "en")


async def _set_hass_language(run: Run, entry_id: str, language: str) -> None:
    """Set Home Assistant's language and reload the entry (entity names are set up in it)."""
    await run.ws({"type": "config/core/update", "language": language})
    await run.hass.request("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
    async with asyncio.timeout(60):
        while not any(
            e["entry_id"] == entry_id and e["state"] == "loaded"
            for e in await run.hass.request("GET", "/api/config/config_entries/entry")
        ):
            await asyncio.sleep(0.5)


async def open_more_info(run: Run, entity_id: str) -> None:
    await run.page.evaluate(
        """(entityId) => document.querySelector("home-assistant").dispatchEvent(
            new CustomEvent(
                "hass-more-info", {detail: {entityId}, bubbles: true, composed: true}
            ))""",
        entity_id,
    )
    await run.page.locator("ha-more-info-dialog").wait_for(state="attached", timeout=15_000)


def log_errors(run: Run) -> list[str]:
    """Every ERROR record of the Home Assistant log (any logger)."""
    log = run.workdir / "config" / "home-assistant.log"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if " ERROR " in line]


async def dialog_record(run: Run, name: str) -> str:
    """Screenshot the page and save its text; the console errors seen meanwhile are printed."""
    await run.screenshot(name)
    text = str(await run.page.evaluate(PAGE_TEXT_JS))
    (run.shots / f"{name}.txt").write_text(text, encoding="utf-8")
    dialog = text[text.rfind("Related") - 300 :] if "Related" in text else text[-400:]
    print(f"  {name}: dialog text ...{dialog[-300:]!r}", flush=True)
    print(f"  {name}: console errors {run.console_errors}", flush=True)
    run.console_errors.clear()
    return text


async def offline_cameras(run: Run) -> None:
    """The more-info dialog of an offline camera says why there is no picture (en, zh-Hans)."""
    cameras = await run.hass.states("camera")
    listed = sorted(e for e, s in cameras.items() if s["state"] == "unavailable")
    online = sorted(e for e, s in cameras.items() if s["state"] != "unavailable")
    check(listed and online, f"an offline ({listed[:1]}) and an online camera ({online[:1]})")
    for language in ("en", "zh-Hans"):
        await set_language(run, language)
        await run.page.goto(f"{run.hass.url}/config/entities")
        await run.page.wait_for_timeout(1500)
        before = len(log_errors(run))
        await open_more_info(run, listed[0])
        await run.page.wait_for_timeout(4000)
        await dialog_record(run, f"{language}-camera-listed-offline")
        await run.page.keyboard.press("Escape")
        print(f"  log ERRORs (listed offline): {log_errors(run)[before:]}", flush=True)
        fault = run.emulator.faults.add(
            "StartStream", code="InvalidParameter.DeviceNotOnline", status=400, times=0
        )
        await run.page.goto(f"{run.hass.url}/config/entities")
        await run.page.wait_for_timeout(1500)
        before = len(log_errors(run))
        await open_more_info(run, online[0])
        await run.page.wait_for_timeout(8000)
        await dialog_record(run, f"{language}-camera-invite-unanswered")
        await run.page.keyboard.press("Escape")
        run.emulator.faults.pending.remove(fault)
        print(f"  log ERRORs (invite unanswered): {log_errors(run)[before:]}", flush=True)
        # Home Assistant 2026.11's HLS player shows no text for a stream that did not start (it
        # falls back to the MJPEG picture): the reason is core's "Error requesting stream" log.
        reasons = [e for e in log_errors(run) if "Error requesting stream" in e]
        check(
            any("could not be started: the camera is offline" in e for e in reasons)
            and any("is unavailable: the camera or its channel is offline" in e for e in reasons),
            "the log says why each camera has no picture",
        )
        problems = log_problems(run.workdir / "config")
        check(not problems, f"no error or traceback of the integration {problems[:1]}")
    await set_language(run, "en")


# --- the card with the live picture and PTZ on the Garden dome -----------------------------------

PTZ_DASHBOARD = "ptz-smoke"
PTZ_HOLD_SECONDS = 1.0


async def garden_camera(run: Run) -> tuple[str, str]:
    """Return the Garden dome's camera entity and the speaker of its device (the NVR)."""
    entries = await run.ws({"type": "config/entity_registry/list"})
    ours = [e for e in entries if e["platform"] == DOMAIN]
    camera = next(
        e
        for e in ours
        if e["entity_id"].startswith("camera.") and e["entity_id"].endswith("_garden")
    )
    speaker = next(
        e["entity_id"]
        for e in ours
        if e["device_id"] == camera["device_id"] and e["entity_id"].startswith("media_player.")
    )
    return camera["entity_id"], speaker


def ptz_log(run: Run, since: int) -> list[tuple[str | None, Any]]:
    """The emulator's carried-out CloudControl commands of the Garden dome since ``since``."""
    return [(c.cmd, c.para) for c in run.emulator.ptz.commands(HOME_NVR_STREAM_IDS[0])[since:]]


async def wait_log(run: Run, since: int, count: int, last: str) -> list[tuple[str | None, Any]]:
    async with asyncio.timeout(15):
        while len(log := ptz_log(run, since)) < count or log[-1][0] != last:
            await asyncio.sleep(0.02)
    return log


async def ptz_card(run: Run) -> None:
    """The card with the live picture and PTZ on the Garden dome: hold an arrow with the mouse
    for 1 s, then the arrow keys and Space; pick a preset; en and zh-Hans screenshots."""
    camera, speaker = await garden_camera(run)
    card_config = {
        "type": f"custom:{CARD}",
        "entity": speaker,
        "camera": camera,
        "show_picture": True,
        "show_ptz": True,
        "show_presets": True,
    }
    await run.ws(
        {
            "type": "lovelace/dashboards/create",
            "url_path": PTZ_DASHBOARD,
            "title": "PTZ",
            "mode": "storage",
            "show_in_sidebar": True,
            "require_admin": False,
        }
    )
    await run.ws(
        {
            "type": "lovelace/config/save",
            "url_path": PTZ_DASHBOARD,
            "config": {"views": [{"title": "PTZ", "cards": [card_config]}]},
        }
    )
    await set_language(run, "en")  # an earlier step (tap-to-toggle) left Chinese
    page = run.page
    await page.goto(f"{run.hass.url}/{PTZ_DASHBOARD}/0")
    await page.reload()  # the page takes the user's language as it loads
    card = page.locator(CARD)
    await card.wait_for(timeout=30_000)
    await card.locator(".controls").wait_for(state="visible", timeout=30_000)
    check(await card.locator("ha-camera-stream").count() == 1, "the frontend's ha-camera-stream")
    await wait_video(run, card)
    # arrows over the picture: the pad inside the picture's box
    view = await card.locator(".view").bounding_box()
    pad = await card.locator(".pad").bounding_box()
    check(
        view is not None
        and pad is not None
        and view["y"] <= pad["y"]
        and pad["y"] + pad["height"] <= view["y"] + view["height"],
        "the arrows sit over the picture",
    )
    options = await card.locator("select.presets option").all_text_contents()
    check(options == ["Presets", "Gate", "Terrace"], f"the preset picker lists {options}")
    label = await card.locator('button[data-command="left"]').get_attribute("aria-label")
    check(label == "Pan left", f"the left arrow's aria-label: {label!r}")
    await run.screenshot("ptz-en", card)

    # the mouse: press and hold the left arrow for ~1 s
    since = len(run.emulator.ptz.commands(HOME_NVR_STREAM_IDS[0]))
    box = await card.locator('button[data-command="left"]').bounding_box()
    if box is None:
        msg = "the left arrow is not visible"
        raise SmokeError(msg)
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    try:
        await wait_log(run, since, 1, "left")
        await asyncio.sleep(PTZ_HOLD_SECONDS)
        check(ptz_log(run, since) == [("left", 128)], "moving left while held, no stop yet")
        await run.screenshot("ptz-held", card)
    finally:
        await page.mouse.up()
    log = await wait_log(run, since, 2, "stop")
    check(log == [("left", 128), ("stop", 0)], f"mouse: {log}")
    stats = await card.evaluate("(el) => el.ptzStats")
    print(
        f"  press -> moving {stats['movingAt'] - stats['pressedAt']:.0f} ms on the card",
        flush=True,
    )

    # the keyboard: an arrow key on the focused pad, then Space on the zoom-in button
    since = len(run.emulator.ptz.commands(HOME_NVR_STREAM_IDS[0]))
    await card.locator(".controls").focus()
    await page.keyboard.down("ArrowUp")
    try:
        await wait_log(run, since, 1, "up")
        await asyncio.sleep(0.5)
    finally:
        await page.keyboard.up("ArrowUp")
    await wait_log(run, since, 2, "stop")
    await card.locator('button[data-command="zoomin"]').focus()
    await page.keyboard.down(" ")
    try:
        await wait_log(run, since, 3, "zoomin")
        await asyncio.sleep(0.5)
    finally:
        await page.keyboard.up(" ")
    log = await wait_log(run, since, 4, "stop")
    check(log == [("up", 128), ("stop", 0), ("zoomin", 8), ("stop", 0)], f"keyboard: {log}")

    # a preset
    since = len(run.emulator.ptz.log)
    await card.locator("select.presets").select_option(label="Terrace")
    async with asyncio.timeout(15):
        while not any(c.action == "PresetControl" for c in run.emulator.ptz.log[since:]):
            await asyncio.sleep(0.05)
    goto = [(c.cmd, c.para, c.error) for c in run.emulator.ptz.log[since:]]
    check(goto == [("goto", 2, None)], f"the preset picker went to Terrace: {goto}")
    text = await card_text(card)
    check(not RAW_KEY.search(text), f"no raw translation key on the card: {text!r}")
    await check_page(run, "ptz-page-en")

    # in Chinese: the labels (and aria-labels) follow the user's language
    await set_language(run, "zh-Hans")
    await page.reload()
    await card.locator(".controls").wait_for(state="visible", timeout=30_000)
    await wait_video(run, card)
    label = await card.locator('button[data-command="left"]').get_attribute("aria-label")
    check(label == "向左", f"the left arrow's aria-label in Chinese: {label!r}")
    pad_label = await card.locator(".controls").get_attribute("aria-label")
    check(bool(pad_label) and "方向" in str(pad_label), f"the pad's aria-label: {pad_label!r}")
    await run.screenshot("ptz-zh-Hans", card)
    await check_page(run, "ptz-page-zh-Hans")
    await set_language(run, "en")


async def wait_video(run: Run, card: Any) -> None:
    """Wait (up to 30 s) until the camera stream element plays a picture."""
    playing = False
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            while not (playing := bool(await card.evaluate(VIDEO_JS))):
                await asyncio.sleep(0.25)
    check(playing, "the live picture plays in the card")


# A video (HLS/WebRTC) with frames, or an image (MJPEG/still) that has loaded, under the card.
VIDEO_JS = """(card) => {
    const found = [];
    const walk = (node) => {
        if (!node) return;
        const video = node.nodeName === "VIDEO" && node.readyState >= 2 && node.videoWidth > 0;
        if (video) found.push(node);
        if (node.nodeName === "IMG" && node.complete && node.naturalWidth > 0) found.push(node);
        if (node.shadowRoot) walk(node.shadowRoot);
        for (const child of node.children || []) walk(child);
    };
    walk(card.shadowRoot);
    return found.length > 0;
}"""


STEPS: list[Step] = [
    login,
    add_integration,
    find_speaker,
    device_page,
    play_my_media,
    options_dialog,
    walk_in_chinese,
    events_on_device_page,
    recordings_in_media_browser,
    create_dashboard,
    open_dashboard,
    push_to_talk,
    press_latency,
    card_picker,
    busy_error,
    latency,
    reconnect_after_talk,
    reconnect_during_talk,
    refused_microphone,
    insecure_page,
    toggle_in_chinese,
    ptz_card,
    offline_cameras,
]


def write_tone(path: Path, seconds: int = 20) -> Path:
    """A 1 kHz tone (48 kHz mono wav): Chromium's fake microphone, the My-media file."""
    subprocess.run(
        [
            shutil.which("ffmpeg") or "ffmpeg",
            "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"sine=frequency=1000:duration={seconds}:sample_rate=48000", "-ac", "1",
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


async def main_async(
    hass_bin: str, startup: float, shots: Path, only: list[str] | None = None
) -> None:
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="volcengine-aiot-browser-"))
    config = workdir / "config"
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / DOMAIN).symlink_to(ROOT / "custom_components" / DOMAIN)
    (config / "configuration.yaml").write_text(
        CONFIGURATION.format(port=port, media=config / "media")
    )
    tone = write_tone(workdir / "tone1k.wav")
    (config / "media").mkdir()
    write_tone(config / "media" / MEDIA_FILE, seconds=2)
    write_tone(config / "media" / LONG_FILE, seconds=8)
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
                    f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
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
                    if only is not None and step.__name__ not in only:
                        continue
                    print(f"[{step.__name__}]", flush=True)
                    await step(run)
            except Exception:
                with contextlib.suppress(Exception):
                    await run.screenshot("failure")
                    text = await run.page.evaluate(PAGE_TEXT_JS)
                    (shots / "failure.txt").write_text(str(text), encoding="utf-8")
                    inputs = await run.page.evaluate(INPUTS_JS)
                    (shots / "failure-inputs.txt").write_text(str(inputs), encoding="utf-8")
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
        if (" ERROR " in line or "Traceback" in line)
        # core's websocket logs a push-to-talk frame that found no handler without our name
        and (DOMAIN in line or "binary message for non-existing handler" in line)
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
    parser.add_argument(
        "--only",
        help="comma-separated step names to run (the steps they need first, e.g. "
        "login,add_integration,find_speaker,offline_cameras)",
    )
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    if only is not None and (unknown := set(only) - {step.__name__ for step in STEPS}):
        parser.error(f"unknown steps: {sorted(unknown)}")
    try:
        asyncio.run(main_async(args.hass, args.startup, args.screenshots, only))
    except SmokeError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    print("browser smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
