"""How long a source plays, for the speaker's progress bar.

A local file: ffmpeg describes its input on stderr (``Duration: 00:00:05.02, start: …``) before
decoding anything, so asking it for a file that is not decoded (no output) is fast and needs no
other tool. Piped input (TTS), once it has all arrived: decoded once more at full speed, as the
transcode decodes it, and its A-law counted. URLs are never measured (a second fetch of the
media).
"""

from __future__ import annotations

from collections.abc import Sequence
import re
from typing import Final

from ..util import Finished, run_to_end
from .ffmpeg import PROTOCOLS_FILE
from .flv import SAMPLE_RATE

PROBE_TIMEOUT: Final = 5.0
MEASURE_TIMEOUT: Final = 10.0
_DURATION: Final = re.compile(rb"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


def parse_duration(stderr: bytes) -> float | None:
    """Return the first ``Duration:`` of ffmpeg's input description, None if it has none."""
    if (match := _DURATION.search(stderr)) is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


async def probe_duration(ffmpeg: str, path: str) -> float | None:
    """Return the seconds a local file plays, None when ffmpeg cannot tell (or not in time)."""
    args = [ffmpeg, "-nostdin", "-hide_banner", "-protocol_whitelist", PROTOCOLS_FILE]
    result = await _run([*args, "-i", f"file:{path}"], within=PROBE_TIMEOUT)
    return None if result is None else parse_duration(result.stderr)


async def decoded_seconds(args: Sequence[str], data: bytes) -> float | None:
    """Return how long complete piped input plays: ``args`` decode it to A-law on stdout.

    With the transcode's own arguments, the length of the output is the length of the audio
    that will be sent. None when ffmpeg fails or takes too long.
    """
    result = await _run(args, data=data, within=MEASURE_TIMEOUT)
    if result is None or result.code != 0 or not result.stdout:
        return None
    return len(result.stdout) / SAMPLE_RATE


async def _run(args: Sequence[str], *, within: float, data: bytes | None = None) -> Finished | None:
    """Run ffmpeg to its end; None when it cannot be started or has not ended in time."""
    try:
        return await run_to_end(args, within=within, data=data)
    except OSError:
        return None
