"""Errors of the PTZ helpers, each with the translation key the HA glue shows."""

from __future__ import annotations


class PtzError(Exception):
    """Base class: a PTZ request could not be carried out."""

    translation_key = "ptz_failed"

    def __init__(self, message: str = "", **placeholders: str) -> None:
        """Initialize with a message and translation placeholders."""
        super().__init__(message or self.translation_key)
        self.placeholders: dict[str, str] = placeholders


class PtzDurationError(PtzError, ValueError):
    """The duration of a timed move is not in (0, ``MAX_DURATION``] seconds."""

    translation_key = "ptz_duration_out_of_range"


class PtzStopError(PtzError):
    """The stop after a move failed: the camera may still be moving."""

    translation_key = "ptz_stop_failed"
