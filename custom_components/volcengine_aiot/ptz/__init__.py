"""HA-free PTZ helpers: timed moves that always end in a stop, one move at a time per channel."""

from .channel import PtzChannel, PtzChannelClient, can_move, default_speed, ptz_types
from .errors import PtzDurationError, PtzError, PtzStopError
from .move import MAX_DURATION, STOP_TIMEOUT, PtzClient, PtzMover

__all__ = [
    "MAX_DURATION",
    "STOP_TIMEOUT",
    "PtzChannel",
    "PtzChannelClient",
    "PtzClient",
    "PtzDurationError",
    "PtzError",
    "PtzMover",
    "PtzStopError",
    "can_move",
    "default_speed",
    "ptz_types",
]
