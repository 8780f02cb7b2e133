"""Errors of the live view, each with the translation key the HA glue shows."""

from __future__ import annotations


class LiveStreamError(Exception):
    """Base class: the live stream of a channel could not be started."""

    translation_key = "stream_failed"

    def __init__(self, message: str = "", **placeholders: str) -> None:
        """Initialize with a message and translation placeholders."""
        super().__init__(message or self.translation_key)
        self.placeholders: dict[str, str] = placeholders


class LiveStreamNotFoundError(LiveStreamError):
    """The platform does not know the stream (``InvalidParameter.StreamNotExist``/``NotFound``)."""

    translation_key = "stream_not_found"


class LiveDeviceOfflineError(LiveStreamError):
    """The device is offline or did not answer the platform's invite."""

    translation_key = "stream_device_offline"


class LiveThrottledError(LiveStreamError):
    """The account's API rate limit was hit."""

    translation_key = "stream_throttled"


class LiveNoUrlError(LiveStreamError):
    """The platform returned no usable (unexpired) pull URL of the chosen protocol."""

    translation_key = "stream_no_url"


class LiveSnapshotError(LiveStreamError):
    """No picture could be read from the live stream (after starting it once more)."""

    translation_key = "snapshot_failed"


class LiveFfmpegError(LiveStreamError):
    """ffmpeg could not be started (the binary is missing or not executable)."""

    translation_key = "ffmpeg_failed"
