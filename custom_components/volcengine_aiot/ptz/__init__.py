"""HA-free PTZ helpers: timed moves that always end in a stop, one move at a time per channel."""

from .errors import PtzDurationError, PtzError, PtzStopError
from .move import MAX_DURATION, STOP_TIMEOUT, PtzClient, PtzMover

__all__ = [
    "MAX_DURATION",
    "STOP_TIMEOUT",
    "PtzClient",
    "PtzDurationError",
    "PtzError",
    "PtzMover",
    "PtzStopError",
]
