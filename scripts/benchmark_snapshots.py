"""Benchmark of camera snapshots against the emulator (``scripts/benchmark --snapshots``).

For 1 and 10 cameras requested at once (a dashboard asking every camera for several sizes at
once, ``WIDTHS``), the latency of a snapshot, p50/p95 over several rounds, in three states:

* cold: the stream is not started and nothing is cached (StartStream + ffmpeg pulls the signed
  HTTP-FLV URL and decodes the first frame, then each size is scaled from it);
* warm: the stream is started, the cached picture has expired (only the pull, the first frame
  and the scaling);
* cached: within the cache's few seconds (no pull, no scaling).

It also counts the pulls per camera and grab (one, whatever sizes are asked) and the memory
the cache keeps per camera: after the dashboard, after ``MANY_SIZES`` different sizes, and after
the cache's time to live (nothing).

The same code as the camera entities (LiveStream, grab_frame, SnapshotCache). The emulator
(which encodes one H.264 test stream per pull with ffmpeg) runs in a separate process; on a
small machine its encoders compete with the grabs for the CPU, as a real camera's encoder does
not.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from pathlib import Path
import shutil
import statistics
import sys
import time
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_emulator import emulator_process, stream_id

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.live import LiveStream, Picture, SnapshotCache, grab_frame
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_BIG_ID

ROUNDS = {1: 10, 10: 4}
# Concurrent requests per camera (cards, thumbnails, browsers), each of its own width
# (None: the full picture; 1280: above the 640x360 test picture, which is served as is).
WIDTHS = (None, 1280, 640, 480, 320, 240, 160, 100)
REQUESTS_PER_CAMERA = len(WIDTHS)
MANY_SIZES = 300  # different sizes asked of one camera for the memory bound
GRAB_WITHIN = 15.0


def answer(emulator: Emulator, cameras: int, command: str) -> Any:
    """``pulls``: how many pulls of a live stream the emulator has served."""
    return emulator.streams.pull_count if command == "pulls" else None


class Camera:
    """What a camera entity does for a snapshot, without Home Assistant."""

    def __init__(
        self, client: VolcengineClient, stream: str, ffmpeg: str, ttl: float | None = None
    ) -> None:
        self.live = LiveStream(client, SPACE_BIG_ID, stream)
        self.cache = SnapshotCache() if ttl is None else SnapshotCache(ttl)
        self.ffmpeg = ffmpeg

    async def grab(self) -> Picture:
        return await grab_frame(self.ffmpeg, self.live, within=GRAB_WITHIN)

    async def snapshot(self, width: int | None) -> float:
        started = time.monotonic()
        await self.cache.get(self.grab, width)
        return time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fmt(values: list[float]) -> str:
    p50, p95 = statistics.median(values), percentile(values, 0.95)
    if p95 < 0.001:
        return f"{p50 * 1e6:.0f} µs / {p95 * 1e6:.0f} µs"
    return f"{p50 * 1000:.0f} ms / {p95 * 1000:.0f} ms"


async def measure(cameras: int, ffmpeg: str) -> dict[str, object]:
    parent, child = mp.Pipe()
    proc = mp.Process(
        target=emulator_process,
        args=(child, cameras, answer),
        kwargs={"streams": True},
        daemon=True,
    )
    proc.start()
    url = parent.recv()
    cold: list[float] = []
    warm: list[float] = []
    cached: list[float] = []
    requests = grabs = 0
    kept: list[int] = []
    kept_many: list[int] = []
    kept_expired: list[int] = []
    async with aiohttp.ClientSession() as http:
        client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=url)
        for _ in range(ROUNDS[cameras]):
            cams = [Camera(client, stream_id(i), ffmpeg) for i in range(cameras)]

            async def dashboard(cams: list[Camera] = cams) -> list[float]:
                requests = [cam.snapshot(width) for cam in cams for width in WIDTHS]
                return list(await asyncio.gather(*requests))

            cold += await dashboard()
            kept += [cam.cache.memory for cam in cams]
            cached += await dashboard()
            for cam in cams:
                cam.cache.clear()
            warm += await dashboard()
            requests += 3 * cameras * REQUESTS_PER_CAMERA
            grabs += 2 * cameras  # the cold and the warm dashboard grab, the cached one not
            await asyncio.gather(*(cam.cache.async_close() for cam in cams))
            await asyncio.gather(*(cam.live.async_close() for cam in cams))
        parent.send("pulls")
        pulls = parent.recv()
        # Many sizes of one picture (a cache that does not expire meanwhile), then its expiry.
        cams = [Camera(client, stream_id(i), ffmpeg, ttl=3600) for i in range(cameras)]
        for cam in cams:
            for width in range(100, 100 + MANY_SIZES):
                await cam.snapshot(width)
            kept_many.append(cam.cache.memory)
            cam.cache.clear()  # what its timer does once the time to live has passed
            kept_expired.append(cam.cache.memory)
            await cam.cache.async_close()
            await cam.live.async_close()
    parent.send("quit")
    proc.join(10)
    return {
        "cameras": cameras,
        "cold": cold,
        "warm": warm,
        "cached": cached,
        "requests": requests,
        "pulls": pulls,
        "grabs": grabs,
        "kept": kept,
        "kept_many": kept_many,
        "kept_expired": kept_expired,
    }


def kib(values: list[int]) -> str:
    return f"{max(values) / 1024:.0f} KiB"


def main(cameras_list: list[int]) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        sys.exit("ffmpeg not found")
    results = []
    for cameras in cameras_list:
        ROUNDS.setdefault(cameras, 3)
        print(f"snapshots of {cameras} camera(s)...", flush=True)
        results.append(asyncio.run(measure(cameras, ffmpeg)))
    print()
    print(
        "| cameras | cold p50 / p95 | warm p50 / p95 | cached p50 / p95 | requests / pulls "
        "| pulls per camera and grab | kept per camera: dashboard / "
        f"{MANY_SIZES} sizes / expired |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['cameras']} | {fmt(r['cold'])} | {fmt(r['warm'])} | "  # type: ignore[arg-type]
            f"{fmt(r['cached'])} | {r['requests']} / {r['pulls']} | "  # type: ignore[arg-type]
            f"{r['pulls'] / r['grabs']:g} | {kib(r['kept'])} / "  # type: ignore[operator,arg-type]
            f"{kib(r['kept_many'])} / {kib(r['kept_expired'])} |"  # type: ignore[arg-type]
        )
    print()
    print(f"{REQUESTS_PER_CAMERA} concurrent requests per camera, each of another width")
    print(f"({', '.join(str(w) for w in WIDTHS)}), share one grab; cold includes StartStream,")
    print("warm only the pull, the first frame and the scaling. Memory: the most one camera")
    print("kept (max over rounds).")
