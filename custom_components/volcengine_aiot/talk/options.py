"""Talk options: the framing names and the defaults, defined once (the HA glue reads them here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

FRAMING_FLV: Final = "flv"
FRAMING_RAW: Final = "raw_alaw"
FRAMINGS: Final = (FRAMING_FLV, FRAMING_RAW)

DEFAULT_FRAMING: Final = FRAMING_FLV
DEFAULT_TRANSPORT: Final = "tcp"
DEFAULT_PREROLL: Final = 0.5  # seconds
DEFAULT_TAIL: Final = 0.3  # seconds
DEFAULT_MAX_DURATION: Final = 600  # seconds


@dataclass(frozen=True, slots=True)
class TalkOptions:
    """How the speaker talks."""

    framing: str = DEFAULT_FRAMING
    transport: str = DEFAULT_TRANSPORT
    preroll: float = DEFAULT_PREROLL
    tail: float = DEFAULT_TAIL
    max_duration: float = DEFAULT_MAX_DURATION
    busy_retries: int = 3
    busy_retry_delay: float = 1.0
