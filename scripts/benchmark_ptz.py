"""PTZ latency through Home Assistant: arrow pressed -> move at the emulator, released -> stop.

Started by ``scripts/benchmark-ptz``. Runs the emulator in this process and a real ``hass`` on a
throw-away configuration directory, adds the integration over REST (config flow), then holds
the Garden dome's arrows the way the dashboard card does: a ``volcengine_aiot/ptz/hold``
subscription on Home Assistant's websocket (press), held for ``--hold`` seconds, then
``unsubscribe_events`` (release). The emulator stamps every CloudControl request when its
handler starts (``time.monotonic``, the same clock as the client here), so the figures are:

* press -> move: the hold message leaving the client -> the move's CloudControl at the emulator;
* press -> ``moving``: -> the client receiving the ``moving`` event (the gateway answered);
* release -> stop: the unsubscribe leaving the client -> the stop's CloudControl at the emulator.

p50 / p95 / max over ``--presses`` presses, directions in turn. Everything is on loopback: the
cloud's round trip is not part of it (add it for a real camera).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
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

from benchmark_ptt import pct
from smoke import DOMAIN, Hass, SmokeError, check, confirm_http_config, free_port

from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, HOME_NVR_STREAM_IDS, SPACE_HOME_ID

DOME = HOME_NVR_STREAM_IDS[0]  # the demo NVR's "Garden" channel (PTZType 1)
COMMANDS = ("left", "right", "up", "down", "leftup", "rightdown", "zoomin", "zoomout")
CONFIGURATION = """\
homeassistant:
  name: Volcengine AIoT PTZ benchmark
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
logger:
  default: warning
"""


async def add_space(hass: Hass, emulator: Emulator) -> str:
    """Add the emulator's home space through the config flow; return the Garden camera."""
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
        "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"space_id": SPACE_HOME_ID}
    )
    check(flow["type"] == "create_entry", f"config entry created: {flow['title']}")
    async with asyncio.timeout(60):
        while not (garden := [c for c in await hass.states("camera") if c.endswith("_garden")]):
            await asyncio.sleep(0.5)
    return garden[0]


def expect(condition: object, what: str) -> None:
    """Raise (quietly when true: the presses are many)."""
    if not condition:
        raise SmokeError(what)


async def wait_command(emulator: Emulator, index: int) -> Any:
    """Wait until the dome's command number ``index`` (0-based) was carried out; return it."""
    async with asyncio.timeout(15):
        while len(log := emulator.ptz.commands(DOME)) <= index:
            await asyncio.sleep(0.002)
    return log[index]


async def measure(
    hass: Hass, emulator: Emulator, camera: str, presses: int, hold: float
) -> dict[str, list[float]]:
    """Hold the arrows ``presses`` times on one connection; return the latencies (s)."""
    out: dict[str, list[float]] = {"move": [], "moving": [], "stop": []}
    token = hass.headers["Authorization"].removeprefix("Bearer ")
    async with hass.http.ws_connect(f"{hass.url}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        expect((await ws.receive_json())["type"] == "auth_ok", "websocket authenticated")
        msg_id = 0
        for n in range(presses + 1):  # the first press warms up (connection pool, lookups)
            command = COMMANDS[n % len(COMMANDS)]
            index = len(emulator.ptz.commands(DOME))
            msg_id += 1
            sub = msg_id
            pressed = time.monotonic()
            await ws.send_json(
                {
                    "id": sub,
                    "type": f"{DOMAIN}/ptz/hold",
                    "entity_id": camera,
                    "command": command,
                }
            )
            result = await ws.receive_json(timeout=15)
            expect(result.get("success"), f"hold {command} accepted")
            event = await ws.receive_json(timeout=15)
            moving_at = time.monotonic()
            expect(event.get("event") == {"event": "moving"}, f"moving: {event}")
            move = await wait_command(emulator, index)
            expect(move.cmd == command, f"the emulator got {move.cmd} ({command} pressed)")
            await asyncio.sleep(max(0.0, pressed + hold - time.monotonic()))
            msg_id += 1
            released = time.monotonic()
            await ws.send_json({"id": msg_id, "type": "unsubscribe_events", "subscription": sub})
            expect((await ws.receive_json(timeout=15)).get("success"), "released")
            stop = await wait_command(emulator, index + 1)
            expect(stop.cmd == "stop", f"a stop after the release ({stop.cmd})")
            if n == 0:
                continue
            out["move"].append(move.at - pressed)
            out["moving"].append(moving_at - pressed)
            out["stop"].append(stop.at - released)
            await asyncio.sleep(0.1)
    return out


async def run(hass_bin: str, startup: float, presses: int, hold: float) -> None:
    emulator = Emulator()
    await emulator.start("127.0.0.1", 0)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="volcengine-aiot-ptz-bench-"))
    config = workdir / "config"
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / DOMAIN).symlink_to(ROOT / "custom_components" / DOMAIN)
    (config / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
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
            await hass.wait_up(proc, startup)
            await hass.onboard()
            info = await hass.request("GET", "/api/config")
            await hass.wait_running(startup)
            await confirm_http_config(hass)
            camera = await add_space(hass, emulator)
            print(f"Home Assistant {info['version']}: {presses} presses on {camera}", flush=True)
            result = await measure(hass, emulator, camera, presses, hold)
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
    check(emulator.ptz.channel(DOME).moving is None, "the dome ended stopped")
    for name, label in (
        ("move", "press -> move at the emulator"),
        ("moving", "press -> 'moving' at the client"),
        ("stop", "release -> stop at the emulator"),
    ):
        values = result[name]
        print(
            f"{label}: p50 {pct(values, 0.5) * 1000:.1f} ms, p95 {pct(values, 0.95) * 1000:.1f} "
            f"ms, max {max(values) * 1000:.1f} ms",
            flush=True,
        )
    shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hass", required=True, help="the hass executable to run")
    parser.add_argument("--startup", type=float, default=300, help="seconds to wait for hass")
    parser.add_argument("--presses", type=int, default=40, help="presses measured")
    parser.add_argument("--hold", type=float, default=0.3, help="seconds each arrow is held")
    args = parser.parse_args()
    try:
        asyncio.run(run(args.hass, args.startup, args.presses, args.hold))
    except SmokeError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
