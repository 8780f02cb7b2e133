"""Benchmark of the talk pipeline against the emulator: latency, pacing and CPU.

For 1, 10 and 50 cameras playing a 5 s clip at once, with the integration's default options
(0.5 s pre-roll, 0.3 s tail), in two modes: "same" (one clip announced on every camera: the
speakers share one ffmpeg through the transcoder pool, as in the integration) and "each" (every
camera its own clip, so one ffmpeg per camera: the worst case). It prints:

* time from play() to the first frame the emulator received, and to the first non-silent one;
* the floor measured in the same run: StartVoiceTalk round trip + WebSocket handshake, and
  ffmpeg's own time to its first output on the same input;
* pacing error: |arrival - schedule| in ms (mean/p99/max), the schedule being a perfect 20 ms
  grid placed on the median (the sender runs a constant two frames ahead of real time);
* total talk time (play() call to return) over the audio duration;
* CPU seconds (this process + its ffmpeg children) per second of audio delivered;
* how late a failure of ffmpeg in the middle of the audio is noticed: a long clip read at
  real-time pace, ffmpeg killed after 3 s, the time until the error and the audio still played
  after the kill (what ffmpeg had read ahead).

The emulator runs in a separate process so its CPU is not counted; arrival times use
CLOCK_MONOTONIC, which is shared by all processes.

``--cache`` adds rows for the A-law cache: the same clip played on 1, 10 and 50 cameras with
pre-roll 0, first transcoded (one shared ffmpeg, which fills the cache), then three times from the
cache. It prints the time from play() to the first non-silent frame, the CPU seconds per second of
audio per stream (for the cached repeat: the median of the three), the event loop's wake-ups per
second, and how many ffmpeg processes each round started; with two floors measured in the same
run: waking up every 20 ms (a blocking sleep loop) and sending one frame per camera per tick.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
import multiprocessing as mp
from multiprocessing.connection import Connection
import os
from pathlib import Path
import resource
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

from bench_emulator import emulator_process, nsid

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.talk import (
    AudioSource,
    ClientTalkOpener,
    Speaker,
    TalkError,
    TalkOptions,
    Transcoder,
    TranscoderPool,
)
from custom_components.volcengine_aiot.talk.cache import CachingTranscoderPool, file_cache_key
from custom_components.volcengine_aiot.talk.clock import FrameClock
from custom_components.volcengine_aiot.talk.flv import FLV_HEADER, FRAME_SECONDS, audio_tag
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_BIG_ID

SILENCE = bytes([0xD5]) * 160
CLIP_SECONDS = 5.0


def answer(emulator: Emulator, cameras: int, command: str) -> Any:
    """``collect``: every camera's frames (arrival, silent); ``reset``: forget them."""
    if command == "collect":
        return {
            nsid(index): [
                [(f.arrival, f.payload == SILENCE) for f in rec.frames]
                for rec in emulator.talk.sessions_for(nsid(index))
            ]
            for index in range(cameras)
        }
    emulator.talk.sessions.clear()
    return "ok"


# --- the measurements --------------------------------------------------------------------------


@dataclass
class Run:
    cameras: int
    mode: str
    first_frame: list[float]
    first_sound: list[float]
    talk_floor: list[float]
    ffmpeg_floor: list[float]
    pacing: list[float]
    ratio: list[float]
    cpu_per_audio_second: float


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def talk_floor(http: aiohttp.ClientSession, client: VolcengineClient, device: str) -> float:
    start = time.monotonic()
    url = (await client.start_voice_talk(SPACE_BIG_ID, device)).audio_send_url
    ws = await http.ws_connect(url)
    elapsed = time.monotonic() - start
    await ws.close()
    await client.stop_voice_talk(SPACE_BIG_ID, device)
    return elapsed


async def ffmpeg_floor(ffmpeg: str, clip: Path) -> float:
    start = time.monotonic()
    transcoder = Transcoder(ffmpeg, AudioSource(location=str(clip)))
    await transcoder.start()
    try:
        while transcoder.next_frame() is None:
            await asyncio.sleep(0.001)
        return time.monotonic() - start
    finally:
        await transcoder.aclose()


async def measure(cameras: int, clips: list[Path], ffmpeg: str, mode: str) -> Run:
    parent, child = mp.Pipe()
    process = mp.get_context("spawn").Process(
        target=emulator_process, args=(child, cameras, answer), daemon=True
    )
    process.start()
    url = parent.recv()
    try:
        async with aiohttp.ClientSession() as http:
            client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=url)
            devices = [nsid(i) for i in range(cameras)]
            talk = await asyncio.gather(*(talk_floor(http, client, d) for d in devices))
            decode = await asyncio.gather(*(ffmpeg_floor(ffmpeg, clip) for clip in clips))
            parent.send("reset")
            parent.recv()

            pool = TranscoderPool(ffmpeg)
            speakers = [
                Speaker(
                    http=http,
                    opener=ClientTalkOpener(client, SPACE_BIG_ID, d),
                    transcoders=pool,
                    options=TalkOptions(),
                )
                for d in devices
            ]
            cpu_before = cpu_seconds()
            started = time.monotonic()

            async def play(speaker: Speaker, clip: Path) -> float:
                await speaker.play([AudioSource(location=str(clip))])
                return time.monotonic() - started

            plays = (play(s, c) for s, c in zip(speakers, clips, strict=True))
            durations = await asyncio.gather(*plays)
            cpu = cpu_seconds() - cpu_before
            parent.send("collect")
            recordings = parent.recv()
    finally:
        parent.send("quit")
        process.join(10)

    first_frame, first_sound, pacing = [], [], []
    for device in devices:
        (frames,) = recordings[device]
        first_frame.append(frames[0][0] - started)
        first_sound.append(next(a for a, silent in frames if not silent) - started)
        # The schedule is a perfect 20 ms grid, placed where the frames are on the median
        # (the sender deliberately runs two frames ahead of real time).
        offsets = [arrival - i * 0.02 for i, (arrival, _) in enumerate(frames)]
        origin = statistics.median(offsets)
        pacing += [offset - origin for offset in offsets]
    return Run(
        cameras=cameras,
        mode=mode,
        first_frame=first_frame,
        first_sound=first_sound,
        talk_floor=list(talk),
        ffmpeg_floor=list(decode),
        pacing=pacing,
        ratio=[d / CLIP_SECONDS for d in durations],
        cpu_per_audio_second=cpu / (cameras * CLIP_SECONDS),
    )


KILL_AFTER = 3.0
FAILURE_RUNS = 5


async def failure_notice(ffmpeg: str, clip: Path) -> tuple[float, float]:
    """Read a clip at real-time pace, kill ffmpeg after KILL_AFTER seconds of audio.

    Returns the seconds from the kill to the error, and the audio taken after the kill.
    """
    transcoder = Transcoder(ffmpeg, AudioSource(location=str(clip)))
    await transcoder.start()
    process = transcoder._process  # noqa: SLF001 - the benchmark kills it on purpose
    if process is None:
        raise RuntimeError("ffmpeg did not start")
    start = time.monotonic()
    ticks = audio = after = 0
    killed_at: float | None = None
    try:
        while True:
            await asyncio.sleep(max(0.0, start + ticks * 0.02 - time.monotonic()))
            ticks += 1
            if killed_at is None and audio * 0.02 >= KILL_AFTER:
                os.kill(process.pid, signal.SIGKILL)
                killed_at = time.monotonic()
            try:
                frame = transcoder.next_frame()
            except TalkError:
                if killed_at is None:
                    raise  # failed on its own: not what is measured
                return time.monotonic() - killed_at, after * 0.02
            if frame is not None:
                audio += 1
                after += killed_at is not None
    finally:
        await transcoder.aclose()


async def failure_notices(ffmpeg: str, clip: Path) -> list[tuple[float, float]]:
    return [await failure_notice(ffmpeg, clip) for _ in range(FAILURE_RUNS)]


@dataclass
class CacheRun:
    cameras: int
    round: str
    first_sound: list[float]
    cpu_per_audio_second: float
    ffmpeg_started: int
    wakeups_per_second: float | None = None


CACHED_REPEATS = 3  # the cached repeat is measured this many times; its CPU row is the median


class WakeupCounter:
    """Counts the event loop's waits for I/O or a timer (each one is a system call)."""

    def __init__(self) -> None:
        self.count = 0
        self._selector: Any = None
        self._select: Any = None

    def install(self) -> None:
        self._selector = asyncio.get_running_loop()._selector  # type: ignore[attr-defined]  # noqa: SLF001
        self._select = select = self._selector.select

        def counting(timeout: float | None = None) -> Any:
            self.count += 1
            return select(timeout)

        self._selector.select = counting

    def remove(self) -> None:
        self._selector.select = self._select


async def measure_cache(cameras: int, clip: Path, ffmpeg: str) -> list[CacheRun]:
    """Play one clip on every camera: transcoded (fills the cache), then cached (3 times)."""
    parent, child = mp.Pipe()
    process = mp.get_context("spawn").Process(
        target=emulator_process, args=(child, cameras, answer), daemon=True
    )
    process.start()
    url = parent.recv()
    started_ffmpeg = 0
    start = Transcoder.start

    async def counting_start(self: Transcoder) -> None:
        nonlocal started_ffmpeg
        started_ffmpeg += 1
        await start(self)

    Transcoder.start = counting_start  # type: ignore[method-assign]
    wakeups = WakeupCounter()
    wakeups.install()
    runs = []
    try:
        async with aiohttp.ClientSession() as http:
            client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=url)
            devices = [nsid(i) for i in range(cameras)]
            pool = CachingTranscoderPool(ffmpeg)
            speakers = [
                Speaker(
                    http=http,
                    opener=ClientTalkOpener(client, SPACE_BIG_ID, d),
                    transcoders=pool,
                    options=TalkOptions(preroll=0.0),
                )
                for d in devices
            ]
            source = AudioSource(location=str(clip), cache_key=await file_cache_key(str(clip)))
            runs.append(machine_floor(cameras))
            runs.append(await sender_floor(http, client, devices, parent, wakeups))
            repeats = []
            for name in ("first play", *["cached repeat"] * CACHED_REPEATS):
                parent.send("reset")
                parent.recv()
                started_ffmpeg = 0
                wakeups.count = 0
                cpu_before = cpu_seconds()
                started = time.monotonic()
                await asyncio.gather(*(s.play([source]) for s in speakers))
                cpu = cpu_seconds() - cpu_before
                elapsed = time.monotonic() - started
                parent.send("collect")
                recordings = parent.recv()
                first_sound = []
                for device in devices:
                    (frames,) = recordings[device]
                    first_sound.append(next(a for a, silent in frames if not silent) - started)
                run = CacheRun(
                    cameras=cameras,
                    round=name,
                    first_sound=first_sound,
                    cpu_per_audio_second=cpu / (cameras * CLIP_SECONDS),
                    ffmpeg_started=started_ffmpeg,
                    wakeups_per_second=wakeups.count / elapsed,
                )
                if name == "first play":
                    runs.append(run)
                else:
                    repeats.append(run)
            runs.append(
                CacheRun(
                    cameras=cameras,
                    round="cached repeat",
                    first_sound=[t for r in repeats for t in r.first_sound],
                    cpu_per_audio_second=statistics.median(r.cpu_per_audio_second for r in repeats),
                    ffmpeg_started=max(r.ffmpeg_started for r in repeats),
                    wakeups_per_second=statistics.median(
                        r.wakeups_per_second or 0.0 for r in repeats
                    ),
                )
            )
    finally:
        wakeups.remove()
        Transcoder.start = start  # type: ignore[method-assign]
        parent.send("quit")
        process.join(10)
    return runs


def machine_floor(cameras: int) -> CacheRun:
    """What waking up 50 times a second costs this machine: a blocking sleep loop, no Python
    event loop, no socket (one wake-up serves every camera, as with the shared frame grid)."""
    cpu_before = cpu_seconds()
    start = time.monotonic()
    for n in range(round(CLIP_SECONDS / FRAME_SECONDS)):
        time.sleep(max(0.0, start + n * FRAME_SECONDS - time.monotonic()))
    cpu = cpu_seconds() - cpu_before
    return CacheRun(
        cameras=cameras,
        round="floor: wake-up",
        first_sound=[],
        cpu_per_audio_second=cpu / (cameras * CLIP_SECONDS),
        ffmpeg_started=0,
        wakeups_per_second=1 / FRAME_SECONDS,
    )


async def sender_floor(
    http: aiohttp.ClientSession,
    client: VolcengineClient,
    devices: list[str],
    parent: Connection,
    wakeups: WakeupCounter,
) -> CacheRun:
    """The floor: StartVoiceTalk, then one 20 ms frame per tick of the shared frame grid
    (FrameClock, as the talk sessions), no audio source, no session."""

    async def talk(device: str) -> None:
        url = (await client.start_voice_talk(SPACE_BIG_ID, device)).audio_send_url
        async with http.ws_connect(url) as ws:
            await ws.send_bytes(FLV_HEADER)
            clock = FrameClock()
            for n in range(round(CLIP_SECONDS / FRAME_SECONDS)):
                await clock.wait_slot()
                await ws.send_bytes(audio_tag(n * 20, SILENCE))
                clock.frames += 1
        await client.stop_voice_talk(SPACE_BIG_ID, device)

    wakeups.count = 0
    cpu_before = cpu_seconds()
    started = time.monotonic()
    await asyncio.gather(*(talk(d) for d in devices))
    cpu = cpu_seconds() - cpu_before
    elapsed = time.monotonic() - started
    parent.send("reset")
    parent.recv()
    return CacheRun(
        cameras=len(devices),
        round="floor: send",
        first_sound=[],
        cpu_per_audio_second=cpu / (len(devices) * CLIP_SECONDS),
        ffmpeg_started=0,
        wakeups_per_second=wakeups.count / elapsed,
    )


def report_cache(runs: list[CacheRun]) -> None:
    print()
    print(
        f"A-law cache: {CLIP_SECONDS:.0f} s mp3 clip, first play then {CACHED_REPEATS} cached "
        "repeats (CPU: their median), pre-roll 0, tail 0.3 s"
    )
    header = (
        f"{'cameras':>7} | {'round':>14} | {'first sound p50/max ms':>22} | "
        f"{'CPU s/audio s/stream':>20} | {'loop wake-ups/s':>15} | {'ffmpeg started':>14}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        wakeups = f"{run.wakeups_per_second:.0f}" if run.wakeups_per_second is not None else "-"
        print(
            f"{run.cameras:>7} | {run.round:>14} | "
            f"{ms(run.first_sound) if run.first_sound else '-':>22} | "
            f"{run.cpu_per_audio_second:>20.4f} | {wakeups:>15} | {run.ffmpeg_started:>14}"
        )
    print()
    print("floor: wake-up is a blocking sleep loop waking every 20 ms (no event loop, no socket),")
    print("its CPU shared by the cameras: what this machine charges to wake up 50 times a second.")
    print("floor: send adds the event loop and one WebSocket message per camera per tick, with no")
    print("audio source: what real-time sending costs on this machine whatever is played.")
    print("loop wake-ups/s counts the event loop's waits (each a system call); the talks of all")
    print("cameras share the 20 ms grid, so a tick wakes the loop once for all of them.")


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    return f"{p50 * 1000:7.1f} / {ordered[-1] * 1000:7.1f}"


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def report_failures(notices: list[tuple[float, float]]) -> None:
    delays = sorted(delay for delay, _ in notices)
    audio = sorted(seconds for _, seconds in notices)
    print()
    print(
        f"ffmpeg killed after {KILL_AFTER:.0f} s of a long clip read in real time "
        f"({FAILURE_RUNS} runs, p50 / max):"
    )
    print(
        f"  error raised {statistics.median(delays):.2f} / {delays[-1]:.2f} s after the kill; "
        f"audio played after the kill {statistics.median(audio):.2f} / {audio[-1]:.2f} s"
    )


def report(runs: list[Run]) -> None:
    print()
    print(f"clip: {CLIP_SECONDS:.0f} s mp3 tone; options: pre-roll 0.5 s, tail 0.3 s, FLV framing")
    print("latencies in ms as p50 / max over the cameras of a run")
    header = (
        f"{'cameras':>7} | {'clip':>4} | {'first frame':>15} | {'first sound':>15} | "
        f"{'floor: talk':>15} | "
        f"{'floor: ffmpeg':>15} | {'|pacing error| mean/p99/max':>27} | {'talk/audio':>10} | "
        f"{'CPU s/audio s':>13}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        errors = [abs(e) for e in run.pacing]
        pacing = (
            f"{statistics.fmean(errors) * 1000:6.2f}/{p99(errors) * 1000:6.2f}/"
            f"{max(errors) * 1000:6.2f}"
        )
        print(
            f"{run.cameras:>7} | {run.mode:>4} | {ms(run.first_frame):>15} | "
            f"{ms(run.first_sound):>15} | "
            f"{ms(run.talk_floor):>15} | {ms(run.ffmpeg_floor):>15} | {pacing:>27} | "
            f"{max(run.ratio):>10.3f} | {run.cpu_per_audio_second:>13.4f}"
        )
    print()
    print("talk/audio is the slowest camera's play() time over the clip length; it includes")
    print("pre-roll, tail and closing the talk (StopVoiceTalk).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="*", default=[1, 10, 50])
    parser.add_argument("--modes", nargs="*", choices=["same", "each"], default=["same", "each"])
    parser.add_argument(
        "--failure-only", action="store_true", help="only measure how late a failure is noticed"
    )
    parser.add_argument(
        "--cache", action="store_true", help="also measure first play vs cached repeat"
    )
    parser.add_argument(
        "--cache-cameras", type=int, nargs="*", default=[1, 10, 50], help="cameras for --cache"
    )
    parser.add_argument(
        "--snapshots",
        action="store_true",
        help="camera snapshot latency instead (default cameras: 1 10)",
    )
    args = parser.parse_args()
    if args.snapshots:
        from benchmark_snapshots import main as snapshots  # noqa: PLC0415 - only this mode

        snapshots(args.cameras if "--cameras" in sys.argv else [1, 10])
        return
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        sys.exit("ffmpeg not found")
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp3"
        subprocess.run(
            [ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
             f"sine=frequency=440:duration={CLIP_SECONDS}", str(clip)],
            check=True,
        )  # fmt: skip
        copies = []
        for i in range(max(args.cameras, default=0)):
            copies.append(Path(tmp) / f"clip{i}.mp3")
            shutil.copyfile(clip, copies[-1])
        long_clip = Path(tmp) / "long.wav"
        subprocess.run(
            [ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
             "sine=frequency=440:duration=60", str(long_clip)],
            check=True,
        )  # fmt: skip
        notices = asyncio.run(failure_notices(ffmpeg, long_clip))
        if args.failure_only:
            report_failures(notices)
            return
        runs = []
        for cameras in args.cameras:
            for mode in args.modes:
                print(f"running {cameras} camera(s), {mode} clip...", flush=True)
                clips = [clip] * cameras if mode == "same" else copies[:cameras]
                runs.append(asyncio.run(measure(cameras, clips, ffmpeg, mode)))
        cache_runs = []
        if args.cache:
            for cameras in args.cache_cameras:
                print(f"running {cameras} camera(s), first play and cached repeat...", flush=True)
                cache_runs += asyncio.run(measure_cache(cameras, clip, ffmpeg))
        if runs:
            report(runs)
        report_failures(notices)
        if cache_runs:
            report_cache(cache_runs)


if __name__ == "__main__":
    main()
