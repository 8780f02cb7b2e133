"""Short child processes (ffmpeg) run to their end: bounded, always killed and reaped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
import os
from typing import Final

# Decoding needs little CPU; the start-up burst of an ffmpeg must not delay the event loop.
FFMPEG_NICENESS: Final = 5


def lower_priority(pid: int) -> None:
    """Run a child at FFMPEG_NICENESS (where the system allows it)."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, FFMPEG_NICENESS)


@dataclass(frozen=True, slots=True)
class Finished:
    """How a child ended: its exit code and what it wrote."""

    code: int
    stdout: bytes
    stderr: bytes


async def run_to_end(
    args: Sequence[str], *, within: float, data: bytes | None = None
) -> Finished | None:
    """Run a child to its end, with ``data`` as its input (else none), at a lower priority.

    Raises ``OSError`` when it cannot be started. None when it has not ended within ``within``
    seconds (or its pipes failed); the child is killed and reaped whatever happens,
    cancellation included.
    """
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL if data is None else pipe,
        stdout=pipe,
        stderr=pipe,
    )
    try:
        lower_priority(process.pid)
        async with asyncio.timeout(within):
            stdout, stderr = await process.communicate(data)
            code = await process.wait()
    except TimeoutError, OSError:
        return None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return Finished(code, stdout, stderr)
