"""How long a local media file plays, read from ffmpeg's description of its input.

The speaker entity shows a progress bar when the duration is known. ffmpeg describes its input on
stderr (``Duration: 00:00:05.02, start: …``) before decoding anything, so asking it for a file
that is not decoded (no output) is fast and needs no other tool. URLs are never probed (a second
fetch of the media); only local files.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Final

from .transcode import PROTOCOLS_FILE

PROBE_TIMEOUT: Final = 5.0
_DURATION: Final = re.compile(rb"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


def parse_duration(stderr: bytes) -> float | None:
    """Return the first ``Duration:`` of ffmpeg's input description, None if it has none."""
    if (match := _DURATION.search(stderr)) is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


async def probe_duration(ffmpeg: str, path: str) -> float | None:
    """Return the seconds a local file plays, None when ffmpeg cannot tell (or not in time)."""
    try:
        process = await asyncio.create_subprocess_exec(
            ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-protocol_whitelist",
            PROTOCOLS_FILE,
            "-i",
            f"file:{path}",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError:
        return None
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            _, stderr = await process.communicate()
    except TimeoutError:
        return None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return parse_duration(stderr)
