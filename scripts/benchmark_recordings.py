"""Benchmark of the recordings path against the emulator (``scripts/benchmark-recordings``).

The HA-free parts the integration runs (``RecordingLibrary``, ``DevicePlaybacks``) with the real
API client over HTTP; the emulator runs in this process (its CPU shares the core) and ffprobe
reads the media. It prints p50/p95 over ``--runs`` runs of:

* folder open: ``RecordingLibrary.day()`` of the emulator's busy day (4,320 cloud segments of
  20 s, merged into items): cold (a new library whose stream source is known: one
  ``ListStreamRecords`` of the whole day) and cached (the same library again).
* play start, cloud: ``RecordingLibrary.cloud_urls()`` (one ``PlayCloudRecord``), and until
  ffprobe has read the first video packet of the ``mp4`` URL.
* play start, device: ``DevicePlaybacks.start()`` (one ``StartPlayback``) until ffprobe has read
  the first video packet from the RTMP pull URL, with minimal probing (``-analyzeduration 0``)
  and with ffprobe's defaults (a player that probes up to 5 s before the first packet), then
  ``StopPlayback``.

Runs are spaced so that the emulator's 10 requests/s limit is not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from pathlib import Path
import shutil
import statistics
import sys
import time

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.recordings import DevicePlaybacks, RecordingLibrary
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, HOME_IPC_STREAM_ID, HOME_NVR_STREAM_IDS
from tests.emulator.recordings import MANY_SEGMENT_COUNT, MANY_SEGMENTS_STREAM, RATE_LIMIT

FFPROBE = shutil.which("ffprobe") or "ffprobe"
FAST_PROBE = ("-analyzeduration", "0", "-probesize", "32", "-fflags", "nobuffer")
SPACING = 2.5 / RATE_LIMIT  # seconds between runs (each run sends up to 2 requests)


def fmt(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(values) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
        f"  (n={len(values)})"
    )


async def first_video_packet(url: str, *probing: str) -> None:
    """Return once ffprobe has read the first video packet of ``url``."""
    proc = await asyncio.create_subprocess_exec(
        FFPROBE,
        "-v",
        "error",
        *probing,
        "-select_streams",
        "v",
        "-show_entries",
        "packet=pts_time",
        "-read_intervals",
        "%+#1",
        "-of",
        "csv",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(30):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if not out.startswith(b"packet"):
        msg = "no video packet"
        raise RuntimeError(msg)


async def timed(runs: int, step: Callable[[], Awaitable[float | None]]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await step()
        times.append(result if result is not None else time.perf_counter() - started)
        await asyncio.sleep(SPACING)
    return times


async def main(runs: int, device_runs: int) -> None:
    emulator = Emulator()
    await emulator.start()
    try:
        async with aiohttp.ClientSession() as http:
            client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url)
            anchor = emulator.recordings.anchor

            def new_library() -> RecordingLibrary:
                return RecordingLibrary(client, now=lambda: anchor)

            day = emulator.recordings.many_day
            warm = new_library()
            items = await warm.day(MANY_SEGMENTS_STREAM, day, tz=UTC)

            async def cold() -> float:
                library = new_library()
                await library.source(MANY_SEGMENTS_STREAM)
                started = time.perf_counter()
                await library.day(MANY_SEGMENTS_STREAM, day, tz=UTC)
                return time.perf_counter() - started

            async def cached() -> None:
                await warm.day(MANY_SEGMENTS_STREAM, day, tz=UTC)

            print(f"folder open: the busy day, {MANY_SEGMENT_COUNT} segments -> {len(items)} items")
            print(f"  cold   {fmt(await timed(runs, cold))}")
            print(f"  cached {fmt(await timed(runs, cached))}")

            window = (anchor - timedelta(hours=2), anchor)

            async def resolve() -> None:
                await warm.cloud_urls(HOME_IPC_STREAM_ID, *window)

            async def cloud_play() -> None:
                urls = await warm.cloud_urls(HOME_IPC_STREAM_ID, *window)
                if urls.mp4 is None:
                    msg = "no mp4 URL"
                    raise RuntimeError(msg)
                await first_video_packet(urls.mp4)

            print("play start, cloud")
            print(f"  URL resolved (PlayCloudRecord)          {fmt(await timed(runs, resolve))}")
            print(f"  first video packet of the mp4           {fmt(await timed(runs, cloud_play))}")

            playbacks = DevicePlaybacks(client)
            stream_id = HOME_NVR_STREAM_IDS[0]
            device_window = (anchor - timedelta(hours=3), anchor)

            def device_play(*probing: str) -> Callable[[], Awaitable[None]]:
                async def step() -> None:
                    playback = await playbacks.start(stream_id, *device_window)
                    await first_video_packet(playback.pull_urls[0], *probing)
                    await playbacks.stop(playback.playback_id)

                return step

            await device_play(*FAST_PROBE)()  # the emulator makes its clip once
            print("play start, device (StartPlayback -> first video packet over RTMP)")
            fast = await timed(device_runs, device_play(*FAST_PROBE))
            print(f"  minimal probing                         {fmt(fast)}")
            slow = await timed(max(1, device_runs // 2), device_play())
            print(f"  ffprobe's default probing               {fmt(slow)}")
            await playbacks.aclose()
            print(f"  device playbacks left running: {emulator.recordings.active_playbacks()}")
    finally:
        await emulator.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per listing/cloud measure")
    parser.add_argument("--device-runs", type=int, default=6, help="runs per device measure")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.device_runs))
