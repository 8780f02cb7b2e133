"""Push-to-talk latency: a frame leaving the client -> the frame arriving at the emulator.

A client sends 20 ms frames of 16-bit PCM in real time as binary WebSocket messages prefixed
with a handler byte (the way the dashboard card sends them on Home Assistant's connection) to a
small WebSocket server in this process that hands them to the integration's live source
(``talk.microphone.LiveFrames``: A-law, 100 ms jitter buffer), played by a ``Speaker`` with the
default options through the paced sender to the emulator (in its own process: its CPU is not
counted, arrival times use CLOCK_MONOTONIC, which all processes share). Each frame carries one A-law
code, so every frame the emulator receives is matched to the moment it was sent.

Printed: press -> talk open (the client's first frame, which starts the talk as in
``websocket_api``; StartVoiceTalk, the socket, the 0.5 s pre-roll), and the frame
latency p50 / p95 / max, for 1 and 10 simultaneous talkers. The cloud is not part of it; the
websocket hop is loopback, as in a browser on the same LAN as Home Assistant.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
from multiprocessing.connection import Connection
from pathlib import Path
import statistics
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_emulator import emulator_process, nsid

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.talk import (
    ClientTalkOpener,
    Speaker,
    TalkOptions,
    TranscoderPool,
)
from custom_components.volcengine_aiot.talk.microphone import LiveFrames, live_source
from tests.audio import ALAW_TABLE
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_BIG_ID

HANDLER = 1
SECONDS = 5.0
SILENCE_CODE = 0xD5
CODES = [c for c in range(256) if c != SILENCE_CODE and abs(int(ALAW_TABLE[c])) > 64]


def answer(emulator: Emulator, cameras: int, command: str) -> Any:
    """Every talk's frames that carry a tone code (code, arrival), then forget them."""
    frames = {
        rec.nsid: [(f.payload[0], f.arrival) for f in rec.frames if len(set(f.payload)) == 1]
        for rec in emulator.talk.sessions
    }
    emulator.talk.sessions.clear()
    return frames


class Server:
    """Stands in for Home Assistant's websocket: binary handler byte, then one PCM frame."""

    def __init__(self) -> None:
        self.frames: dict[str, LiveFrames] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws/{nsid}", self._ws)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        self.url = f"http://127.0.0.1:{port}"

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        frames = self.frames[request.match_info["nsid"]]
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY and msg.data[0] == HANDLER:
                frames.push(msg.data[1:])
        frames.end()
        return ws


def pcm_frame(code: int) -> bytes:
    return int(ALAW_TABLE[code]).to_bytes(2, "little", signed=True) * 160


async def talker(
    http: aiohttp.ClientSession, server: Server, client: VolcengineClient, device: str
) -> tuple[float, list[tuple[int, float]]]:
    """One press: returns press -> open and the (code, send time) of every frame sent."""
    opened = asyncio.get_running_loop().create_future()
    frames = LiveFrames(on_open=lambda: opened.set_result(time.monotonic()))
    server.frames[device] = frames
    speaker = Speaker(
        http=http,
        opener=ClientTalkOpener(client, SPACE_BIG_ID, device, "tcp"),
        transcoders=TranscoderPool("ffmpeg"),
        options=TalkOptions(),
        name=device,
    )
    pressed = time.monotonic()

    async def play_on_audio() -> None:
        if await frames.wait_audio():  # as websocket_api: the first frame starts the talk
            await speaker.play([live_source(frames)])

    play = asyncio.create_task(play_on_audio())
    sent: list[tuple[int, float]] = []
    async with http.ws_connect(f"{server.url}/ws/{device}") as ws:
        await ws.send_bytes(bytes([HANDLER]) + pcm_frame(SILENCE_CODE))  # the microphone's first
        open_at = await opened
        t0 = time.monotonic()
        for i in range(round(SECONDS / 0.02)):
            code = CODES[i % len(CODES)]
            sent.append((code, time.monotonic()))
            await ws.send_bytes(bytes([HANDLER]) + pcm_frame(code))
            await asyncio.sleep(max(0.0, t0 + (i + 1) * 0.02 - time.monotonic()))
    await play
    return open_at - pressed, sent


def latencies(sent: list[tuple[int, float]], received: list[tuple[int, float]]) -> list[float]:
    """Match each received frame to the last frame sent with its code before it arrived."""
    out = []
    for code, arrival in received:
        times = [t for c, t in sent if c == code and t <= arrival]
        if times:
            out.append(arrival - times[-1])
    return out


async def measure(url: str, conn: Connection, talkers: int) -> tuple[list[float], list[float]]:
    server = Server()
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=url)
            devices = [nsid(i) for i in range(talkers)]
            results = await asyncio.gather(*(talker(http, server, client, d) for d in devices))
    finally:
        if server.runner is not None:
            await server.runner.cleanup()
    conn.send("frames")
    received = conn.recv()
    opens = [r[0] for r in results]
    lat = [
        x for (_, sent), device in zip(results, devices, strict=True)
        for x in latencies(sent, received.get(device, []))
    ]  # fmt: skip
    return opens, lat


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talkers", type=int, nargs="*", default=[1, 10])
    args = parser.parse_args()
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(
        target=emulator_process, args=(child, max(args.talkers), answer), daemon=True
    )
    proc.start()
    url = parent.recv()
    print("| talkers | press -> talk open (p50) | frame latency p50 / p95 / max | frames |")
    print("| --- | --- | --- | --- |")
    try:
        for talkers in args.talkers:
            opens, lat = asyncio.run(measure(url, parent, talkers))
            print(
                f"| {talkers} | {statistics.median(opens) * 1000:.0f} ms | "
                f"{pct(lat, 0.5) * 1000:.0f} / {pct(lat, 0.95) * 1000:.0f} / "
                f"{max(lat) * 1000:.0f} ms | {len(lat)} |",
                flush=True,
            )
    finally:
        parent.send("quit")
        proc.join(10)


if __name__ == "__main__":
    main()
