"""Errors of the talk pipeline, each with the translation key the HA glue shows."""

from __future__ import annotations

from typing import Final


class TalkError(Exception):
    """Base class: a talk could not be played."""

    translation_key = "talk_failed"

    def __init__(self, message: str = "", **placeholders: str) -> None:
        """Initialize with a message and translation placeholders."""
        super().__init__(message or self.translation_key)
        self.placeholders: dict[str, str] = placeholders


class TalkMediaError(TalkError):
    """ffmpeg could not decode the media (corrupt, unsupported, a protocol refused)."""

    translation_key = "media_error"


class TalkMediaFetchError(TalkMediaError):
    """A URL source could not be fetched: connection refused, HTTP error, DNS, dropped."""

    translation_key = "media_fetch_failed"


class TalkMediaInterruptedError(TalkMediaError):
    """ffmpeg failed in the middle of the media (killed, read or decode error)."""

    translation_key = "media_interrupted"


class TalkFfmpegError(TalkError):
    """ffmpeg itself could not be started."""

    translation_key = "ffmpeg_failed"


class TalkMediaNotFoundError(TalkError):
    """The local media file does not exist."""

    translation_key = "media_not_found"


class TalkEmptyAudioError(TalkError):
    """The media decoded to no audio at all."""

    translation_key = "empty_audio"


class TalkConnectError(TalkError):
    """The talk WebSocket could not be opened."""

    translation_key = "talk_connect_failed"


class TalkConnectionLostError(TalkError):
    """The server closed the talk WebSocket in the middle of the talk."""

    translation_key = "talk_connection_lost"


class TalkMaxDurationError(TalkError):
    """A playback reached the configured maximum duration."""

    translation_key = "max_duration_reached"


class TalkDeviceBusyError(TalkError):
    """The device kept reporting another talk in progress."""

    translation_key = "device_busy"


class TalkAuthError(TalkError):
    """The platform rejected the AccessKey when starting or stopping the talk."""

    translation_key = "invalid_auth"


class TalkDeviceUnreachableError(TalkError):
    """The platform could not reach the camera (offline, no voice channel)."""

    translation_key = "device_unreachable"


class TalkStartError(TalkError):
    """StartVoiceTalk (or StopVoiceTalk) failed for another reason.

    ``may_have_started``: the request may have reached the platform (no answer in time), so a
    talk of ours may be open there.
    """

    translation_key = "talk_failed"

    def __init__(
        self, message: str = "", *, may_have_started: bool = False, **placeholders: str
    ) -> None:
        """Initialize; see the class docstring."""
        super().__init__(message, **placeholders)
        self.may_have_started = may_have_started


class TalkInternalError(TalkError):
    """Something unexpected went wrong in the talk session (a bug): reported, never hidden."""

    translation_key = "talk_failed"


# The caller's mistakes (the media), not the camera's or the cloud's: a validation error.
CALLER_ERRORS: Final = (TalkMediaError, TalkMediaNotFoundError, TalkEmptyAudioError)
# Errors that concern one playback only: the session goes on with the next one.
PLAYBACK_ERRORS: Final = (*CALLER_ERRORS, TalkMaxDurationError)
