"""HA-free recordings helpers: merged items per day, a paced and cached library, playbacks."""

from .library import RateLimiter, RecordingClient, RecordingLibrary, day_windows
from .merge import RecordingItem, merge_segments
from .playbacks import STOP_TIMEOUT, DevicePlaybacks, PlaybackClient

__all__ = [
    "STOP_TIMEOUT",
    "DevicePlaybacks",
    "PlaybackClient",
    "RateLimiter",
    "RecordingClient",
    "RecordingItem",
    "RecordingLibrary",
    "day_windows",
    "merge_segments",
]
