"""The emulator in a child process for the benchmarks, so its work is not measured as ours.

``emulator_process(conn, cameras, answer, streams)`` adds ``cameras`` online devices to the big
space (``nsid(i)``; with ``streams``, each with one stream ``stream_id(i)``), sends the endpoint
URL on ``conn``, then answers every command received on ``conn`` with ``answer(emulator, cameras,
command)`` until ``"quit"``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
import sys
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.emulator.app import Emulator
from tests.emulator.data import SPACE_BIG_ID

type Answer = Callable[[Emulator, int, str], Any]


def nsid(index: int) -> str:
    return f"3402000000132{index:07d}"


def stream_id(index: int) -> str:
    return f"bench-stream-{index:04d}"


def emulator_process(
    conn: Connection, cameras: int, answer: Answer, *, streams: bool = False
) -> None:
    asyncio.run(_emulator_main(conn, cameras, answer, streams=streams))


async def _emulator_main(conn: Connection, cameras: int, answer: Answer, *, streams: bool) -> None:
    emulator = Emulator()
    for index in range(cameras):
        device: dict[str, Any] = {
            "DeviceID": f"bench-{index}",
            "DeviceNSID": nsid(index),
            "DeviceName": f"bench {index}",
            "Status": "online",
        }
        if streams:
            device["DeviceStreams"] = {f"3402000000131{index:07d}": {"StreamID": stream_id(index)}}
        emulator.state.add_device(SPACE_BIG_ID, device)
    await emulator.start("127.0.0.1", 0)
    conn.send(emulator.url)
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, conn.recv)) != "quit":
        conn.send(answer(emulator, cameras, command))
    await emulator.stop()
