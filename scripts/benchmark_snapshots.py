"""Benchmark of camera snapshots against the emulator (``scripts/benchmark --snapshots``).

For 1 and 10 cameras requested at once (a dashboard), the latency of one snapshot per camera,
p50/p95 over several rounds, in three states:

* cold: the stream is not started and nothing is cached (StartStream + ffmpeg pulls the signed
  HTTP-FLV URL and decodes the first frame);
* warm: the stream is started, the cached image has expired (only the ffmpeg pull + first frame);
* cached: within the cache's few seconds (no pull at all).

The same code as the camera entities (LiveStream, SnapshotCache, haffmpeg's ImageFrame with the
integration's input options). The emulator (which encodes one H.264 test stream per pull with
ffmpeg) runs in a separate process; on a small machine its encoders compete with the grabs for
the CPU, as a real camera's encoder does not.
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
from haffmpeg.tools import IMAGE_JPEG, ImageFrame

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_emulator import emulator_process, stream_id

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.live import LiveStream, SnapshotCache, snapshot_input
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_BIG_ID

ROUNDS = {1: 10, 10: 4}
REQUESTS_PER_CAMERA = 5  # concurrent requests per camera (several cards / browsers)


def answer(emulator: Emulator, cameras: int, command: str) -> Any:
    """``pulls``: how many pulls of a live stream the emulator has served."""
    return emulator.streams.pull_count if command == "pulls" else None


class Camera:
    """What a camera entity does for a snapshot, without Home Assistant."""

    def __init__(self, client: VolcengineClient, stream: str, ffmpeg: str) -> None:
        self.live = LiveStream(client, SPACE_BIG_ID, stream)
        self.cache = SnapshotCache()
        self.ffmpeg = ffmpeg

    async def _grab(self) -> bytes | None:
        source = await self.live.async_url()
        image: bytes | None = await ImageFrame(self.ffmpeg).get_image(
            snapshot_input(source), output_format=IMAGE_JPEG
        )
        return image

    async def snapshot(self) -> float:
        started = time.monotonic()
        if not await self.cache.get(None, self._grab):
            msg = "no image"
            raise RuntimeError(msg)
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
    requests = 0
    async with aiohttp.ClientSession() as http:
        client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=url)
        for _ in range(ROUNDS[cameras]):
            cams = [Camera(client, stream_id(i), ffmpeg) for i in range(cameras)]

            async def dashboard(cams: list[Camera] = cams) -> list[float]:
                requests = [cam.snapshot() for cam in cams for _ in range(REQUESTS_PER_CAMERA)]
                return list(await asyncio.gather(*requests))

            cold += (await dashboard())[::REQUESTS_PER_CAMERA]
            cached += await dashboard()
            for cam in cams:
                cam.cache.clear()
            warm += (await dashboard())[::REQUESTS_PER_CAMERA]
            requests += 3 * cameras * REQUESTS_PER_CAMERA
            await asyncio.gather(*(cam.live.async_close() for cam in cams))
    parent.send("pulls")
    pulls = parent.recv()
    parent.send("quit")
    proc.join(10)
    return {
        "cameras": cameras,
        "cold": cold,
        "warm": warm,
        "cached": cached,
        "requests": requests,
        "pulls": pulls,
    }


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
    print("| cameras | cold p50 / p95 | warm p50 / p95 | cached p50 / p95 | requests / pulls |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['cameras']} | {fmt(r['cold'])} | {fmt(r['warm'])} | "  # type: ignore[arg-type]
            f"{fmt(r['cached'])} | {r['requests']} / {r['pulls']} |"  # type: ignore[arg-type]
        )
    print()
    print(f"{REQUESTS_PER_CAMERA} concurrent requests per camera share one grab; cold includes")
    print("StartStream, warm only the pull and the first frame.")
