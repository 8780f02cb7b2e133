"""Live view of the camera channels, free of Home Assistant.

``LiveStream`` owns one channel's stream on the platform (StartStream, GetStream with
``FreshExpiredPull``, StopStream after idle) and hands out only unexpired signed pull URLs;
``SnapshotCache`` shares and caches still-image grabs.
"""

from .errors import (
    LiveDeviceOfflineError,
    LiveNoUrlError,
    LiveStreamError,
    LiveStreamNotFoundError,
    LiveThrottledError,
)
from .snapshot import SnapshotCache, scale_filter, snapshot_input
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
    "LiveNoUrlError",
    "LiveStream",
    "LiveStreamError",
    "LiveStreamNotFoundError",
    "LiveThrottledError",
    "SnapshotCache",
    "pick_url",
    "protocol_or_default",
    "scale_filter",
    "snapshot_input",
    "url_expiry",
]
