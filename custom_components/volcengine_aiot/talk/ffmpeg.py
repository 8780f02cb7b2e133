"""What every ffmpeg child of the talk may open, and short ffmpeg runs (to their end, bounded)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import contextlib
import os
from typing import Final, Literal

# What ffmpeg may open, per kind of input (never more): a URL must not reach local files,
# neither directly, nor through a playlist (HLS, ffconcat) or a redirect.
PROTOCOLS_FILE: Final = "file"
PROTOCOLS_URL: Final = "http,https,tcp,tls,crypto"  # crypto: AES-128 HLS segments
PROTOCOLS_PIPE: Final = "pipe"

# Decoding needs little CPU; the start-up burst of an ffmpeg must not delay the event loop.
FFMPEG_NICENESS: Final = 5


def lower_priority(pid: int) -> None:
    """Run an ffmpeg child at FFMPEG_NICENESS (where the system allows it)."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, FFMPEG_NICENESS)


async def run_to_end(
    args: Sequence[str],
    *,
    output: Literal["stdout", "stderr"],
    within: float,
    data: bytes | None = None,
) -> tuple[int, bytes] | None:
    """Run a short ffmpeg to its end; return its exit code and the output asked for.

    ``data`` is its input (else none). None when it cannot be started or has not ended within
    ``within`` seconds; the child is killed and reaped whatever happens, cancellation included.
    """
    pipe, devnull = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=devnull if data is None else pipe,
            stdout=pipe if output == "stdout" else devnull,
            stderr=pipe if output == "stderr" else devnull,
        )
    except OSError:
        return None
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
    return code, stdout if output == "stdout" else stderr
