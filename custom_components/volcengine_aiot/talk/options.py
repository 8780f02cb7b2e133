"""Talk options: the framing names and the defaults, defined once (the HA glue reads them here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# How the audio is framed on the talk WebSocket (Volcengine documents only "PCMA in FLV"):
FRAMING_FLV: Final = "flv"  # the 13-byte FLV header as its own message, then one tag per message
FRAMING_FLV_JOINED: Final = "flv_joined"  # the FLV header sent together with the first tag
FRAMING_RAW: Final = "raw_alaw"  # bare 20 ms A-law frames
# In the order to try them. Stored by name: a variant can be added without a migration, and
# an unknown stored name falls back to the default (``framing_or_default``).
FRAMINGS: Final = (FRAMING_FLV, FRAMING_FLV_JOINED, FRAMING_RAW)

DEFAULT_FRAMING: Final = FRAMING_FLV
DEFAULT_TRANSPORT: Final = "tcp"
DEFAULT_PREROLL: Final = 0.5  # seconds
DEFAULT_TAIL: Final = 0.3  # seconds
DEFAULT_MAX_DURATION: Final = 600  # seconds
# A talk of ours that may still be open on the platform (a StartVoiceTalk answered after our
# timeout, a StopVoiceTalk that failed) is stopped again this many seconds later. Volcengine
# documents no talk timeout: the last stop comes after a minute, when a comparable platform
# (Qiniu) has ended an idle talk by itself; it is repeated (bounded) until one succeeds.
STALE_STOP_DELAYS: Final = (3.0, 10.0, 30.0, 70.0)
STALE_STOP_RETRIES: Final = 3  # more stops, one per minute, if the last planned one failed
STALE_STOP_RETRY_DELAY: Final = 60.0


def framing_or_default(framing: object) -> str:
    """Return a known framing name (an unknown or removed one falls back to the default)."""
    return framing if isinstance(framing, str) and framing in FRAMINGS else DEFAULT_FRAMING


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
    stale_stop_delays: tuple[float, ...] = STALE_STOP_DELAYS
    stale_stop_retries: int = STALE_STOP_RETRIES
    stale_stop_retry_delay: float = STALE_STOP_RETRY_DELAY
