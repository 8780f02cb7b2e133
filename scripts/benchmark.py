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
* CPU seconds (this process + its ffmpeg children) per second of audio delivered.

The emulator runs in a separate process so its CPU is not counted; arrival times use
CLOCK_MONOTONIC, which is shared by all processes.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
import multiprocessing as mp
from multiprocessing.connection import Connection
from pathlib import Path
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.talk import (
    AudioSource,
    ClientTalkOpener,
    Speaker,
    TalkOptions,
    Transcoder,
    TranscoderPool,
)
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_BIG_ID

SILENCE = bytes([0xD5]) * 160
CLIP_SECONDS = 5.0


def nsid(index: int) -> str:
    return f"3402000000132{index:07d}"


# --- the emulator process --------------------------------------------------------------------


def emulator_process(conn: Connection, cameras: int) -> None:
    asyncio.run(_emulator_main(conn, cameras))


async def _emulator_main(conn: Connection, cameras: int) -> None:
    emulator = Emulator()
    for index in range(cameras):
        emulator.state.add_device(
            SPACE_BIG_ID,
            {
                "DeviceID": f"bench-{index}",
                "DeviceNSID": nsid(index),
                "DeviceName": f"bench {index}",
                "Status": "online",
            },
        )
    await emulator.start("127.0.0.1", 0)
    conn.send(emulator.url)
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, conn.recv)) != "quit":
        if command == "collect":
            result = {}
            for index in range(cameras):
                sessions = emulator.talk.sessions_for(nsid(index))
                result[nsid(index)] = [
                    [(f.arrival, f.payload == SILENCE) for f in rec.frames] for rec in sessions
                ]
            conn.send(result)
        elif command == "reset":
            emulator.talk.sessions.clear()
            conn.send("ok")
    await emulator.stop()


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
        target=emulator_process, args=(child, cameras), daemon=True
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


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    return f"{p50 * 1000:7.1f} / {ordered[-1] * 1000:7.1f}"


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


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
        for i in range(max(args.cameras)):
            copies.append(Path(tmp) / f"clip{i}.mp3")
            shutil.copyfile(clip, copies[-1])
        runs = []
        for cameras in args.cameras:
            for mode in args.modes:
                print(f"running {cameras} camera(s), {mode} clip...", flush=True)
                clips = [clip] * cameras if mode == "same" else copies[:cameras]
                runs.append(asyncio.run(measure(cameras, clips, ffmpeg, mode)))
        report(runs)


if __name__ == "__main__":
    main()
