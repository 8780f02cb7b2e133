"""Live view of the camera channels, free of Home Assistant.

``LiveStream`` owns one channel's stream on the platform (StartStream, GetStream with
``FreshExpiredPull``, StopStream after idle) and hands out only unexpired signed pull URLs;
``grab_frame`` reads one frame of it and ``SnapshotCache`` shares that picture (and copies of it
scaled per request) for a few seconds.
"""

from .errors import (
    LiveDeviceOfflineError,
    LiveFfmpegError,
    LiveNoUrlError,
    LiveSnapshotError,
    LiveStreamError,
    LiveStreamNotFoundError,
    LiveThrottledError,
)
from .snapshot import Picture, SnapshotCache, fit_size, grab_frame, read_frame
from .stream import (
    DEFAULT_URL_TTL,
    PROTOCOL_FLV,
    PROTOCOL_HLS,
    PROTOCOL_RTMP,
    PROTOCOLS,
    LiveStream,
    pick_url,
    protocol_or_default,
    url_expiry,
)

__all__ = [
    "DEFAULT_URL_TTL",
    "PROTOCOLS",
    "PROTOCOL_FLV",
    "PROTOCOL_HLS",
    "PROTOCOL_RTMP",
    "LiveDeviceOfflineError",
    "LiveFfmpegError",
    "LiveNoUrlError",
    "LiveSnapshotError",
    "LiveStream",
    "LiveStreamError",
    "LiveStreamNotFoundError",
    "LiveThrottledError",
    "Picture",
    "SnapshotCache",
    "fit_size",
    "grab_frame",
    "pick_url",
    "protocol_or_default",
    "read_frame",
    "url_expiry",
]
