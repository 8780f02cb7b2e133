"""Errors raised by the Volcengine AIoT Video client.

One hierarchy, mapped from ``ResponseMetadata.Error.Code`` and the HTTP status. Messages carry the
gateway's code, message and request ID, never a credential or a talk URL.
"""

from __future__ import annotations


class VolcengineError(Exception):
    """Base class of every client error."""


class VolcengineSettingsError(ValueError):
    """A client setting cannot be used; raised when the client is built, nothing is sent.

    ``setting`` names the offending argument (``access_key_id``, ``secret_access_key``,
    ``region`` or ``endpoint``). The message never contains the value.
    """

    def __init__(self, setting: str, reason: str) -> None:
        """Initialize with the setting's name and why it is refused."""
        super().__init__(f"Invalid {setting}: {reason}")
        self.setting = setting
        self.reason = reason


class VolcengineInvalidEndpointError(VolcengineSettingsError):
    """The endpoint is not an ``http(s)://host[:port]`` URL."""

    def __init__(self, reason: str) -> None:
        """Initialize with why the endpoint is refused."""
        super().__init__("endpoint", reason)


class VolcengineInvalidCredentialsError(VolcengineSettingsError):
    """The AccessKey ID, SecretKey or region holds characters a signed request cannot carry."""


class VolcengineConnectionError(VolcengineError):
    """The gateway could not be reached (DNS, refused, reset, TLS)."""


class VolcengineTimeoutError(VolcengineConnectionError):
    """The gateway did not answer within the client's timeout."""


class VolcengineResponseError(VolcengineError):
    """The gateway answered with something that is not a valid OpenAPI envelope."""

    def __init__(self, message: str, *, status: int) -> None:
        """Initialize with the HTTP status of the bad answer."""
        super().__init__(f"{message} (HTTP {status})")
        self.status = status


class VolcengineApiError(VolcengineError):
    """The gateway or the service returned an error envelope."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int,
        request_id: str | None = None,
        code_n: int | None = None,
    ) -> None:
        """Initialize from the envelope's Error object."""
        super().__init__(f"{code}: {message} (HTTP {status}, RequestId {request_id or '-'})")
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.code_n = code_n


class VolcengineAuthError(VolcengineApiError):
    """The AccessKey or SecretKey is wrong, missing or revoked."""


class VolcengineClockSkewError(VolcengineApiError):
    """The request's timestamp is outside the gateway's window: the system clock is wrong."""


class VolcenginePermissionError(VolcengineApiError):
    """The key is valid but lacks the permission (policy) for this action."""


class VolcengineThrottledError(VolcengineApiError):
    """The account or API is rate limited."""


class VolcengineServiceBusyError(VolcengineApiError):
    """The service is temporarily busy or unavailable."""


class VolcengineDeviceBusyError(VolcengineApiError):
    """The device already has a voice talk session."""


class VolcengineDeviceUnreachableError(VolcengineApiError):
    """The device is offline or did not answer the platform's request."""


class VolcengineNotFoundError(VolcengineApiError):
    """The space, device or action does not exist."""


class VolcenginePtzNotSupportedError(VolcengineApiError):
    """The channel cannot move (a fixed camera) or the device refused the PTZ command."""


class VolcenginePresetNotFoundError(VolcengineNotFoundError):
    """The preset to go to or remove is not set on the camera."""


class VolcengineNoRecordingPlanError(VolcengineApiError):
    """The stream has no cloud recording plan (template): it has no cloud recordings."""

    translation_key = "recording_no_plan"


class VolcengineRecordNotFoundError(VolcengineNotFoundError):
    """No recording (cloud or on the device) covers the requested time range."""

    translation_key = "recording_not_found"


class VolcengineRecordingInputError(VolcengineError, ValueError):
    """A recording argument is refused before anything is sent; ``translation_key`` names it."""

    translation_key = "recording_invalid_window"

    def __init__(self, message: str, **placeholders: str) -> None:
        """Initialize with a message and translation placeholders."""
        super().__init__(message)
        self.placeholders: dict[str, str] = placeholders


class VolcengineRecordingWindowError(VolcengineRecordingInputError):
    """The time range is longer than the platform allows (24 h)."""

    translation_key = "recording_window_too_long"


class VolcenginePlaybackControlError(VolcengineRecordingInputError):
    """The playback control command, position or speed is not a documented value."""

    translation_key = "recording_invalid_control"


class VolcenginePtzInputError(VolcengineError, ValueError):
    """A PTZ argument is refused before anything is sent; ``translation_key`` names the text."""

    translation_key = "ptz_invalid"

    def __init__(self, message: str, **placeholders: str) -> None:
        """Initialize with a message and translation placeholders."""
        super().__init__(message)
        self.placeholders: dict[str, str] = placeholders


class VolcenginePtzCommandError(VolcenginePtzInputError):
    """The PTZ command is not one of the documented ``Cmd`` values."""

    translation_key = "ptz_invalid_command"


class VolcenginePtzSpeedError(VolcenginePtzInputError):
    """The speed is outside the command's documented range (0-255, zoom 0-15)."""

    translation_key = "ptz_speed_out_of_range"


class VolcenginePtzPresetError(VolcenginePtzInputError):
    """The preset number is outside 1-255 (``PresetControl`` ``Para`` 0x01-0xFF)."""

    translation_key = "ptz_preset_out_of_range"


AUTH_CODES = frozenset(
    {
        "InvalidAccessKey",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
        "MissingSignature",
        "InvalidSecretToken",
        "InvalidAuthorization",
        "InvalidCredential",
    }
)
PERMISSION_CODES = frozenset({"AccessDenied", "LackPolicy", "LackProjectPolicy", "Forbidden"})
THROTTLE_CODES = frozenset(
    {"FlowLimitExceeded", "AccountFlowLimitExceeded", "RequestLimitExceeded"}
)
BUSY_CODES = frozenset({"ServiceBusy", "ServiceUnavailableTemp", "InternalServiceTimeout"})
DEVICE_BUSY_CODES = frozenset({"Busy.VoiceTalkDeviceBusy"})
NOT_FOUND_PREFIXES = (
    "NotFound",
    "InvalidParameter.DeviceNotExist",
    "InvalidParameter.StreamNotExist",
    "InvalidParameter.StreamNotFound",
)
# Not named by the docs: the emulator's choice for a fixed channel; verify on a real gateway.
PTZ_NOT_SUPPORTED_CODES = frozenset({"InvalidParameter.PTZNotSupported"})
PRESET_NOT_FOUND_CODES = frozenset({"InvalidParameter.PresetNotExist"})
# Not named by the docs: the emulator's choices for a stream without a cloud recording plan and
# a time range without recordings; verify on a real gateway.
RECORDING_CODES: dict[str, type[VolcengineApiError]] = {
    "InvalidParameter.RecordPlanNotExist": VolcengineNoRecordingPlanError,
    "InvalidParameter.RecordNotExist": VolcengineRecordNotFoundError,
}
UNREACHABLE_CODES = frozenset(
    {"InternalError.VoiceTalkDeviceFail", "InvalidParameter.DeviceNotOnline"}
)


def error_class(code: str, status: int) -> type[VolcengineApiError]:
    """Return the exception class for an error code and HTTP status."""
    if code in AUTH_CODES:
        return VolcengineAuthError
    if code == "InvalidTimestamp":
        return VolcengineClockSkewError
    if code in PERMISSION_CODES:
        return VolcenginePermissionError
    if code in THROTTLE_CODES or status == 429:  # noqa: PLR2004
        return VolcengineThrottledError
    if code in DEVICE_BUSY_CODES:
        return VolcengineDeviceBusyError
    if code in UNREACHABLE_CODES:
        return VolcengineDeviceUnreachableError
    if code in PTZ_NOT_SUPPORTED_CODES:
        return VolcenginePtzNotSupportedError
    if code in PRESET_NOT_FOUND_CODES:
        return VolcenginePresetNotFoundError
    if code in RECORDING_CODES:
        return RECORDING_CODES[code]
    if code in BUSY_CODES or status in (502, 503, 504):
        return VolcengineServiceBusyError
    if status == 404 or code.startswith(NOT_FOUND_PREFIXES):  # noqa: PLR2004
        return VolcengineNotFoundError
    if status == 401:  # noqa: PLR2004
        return VolcengineAuthError
    return VolcengineApiError


def is_retryable(error: VolcengineError) -> bool:
    """Return whether a request that failed with ``error`` is safe to retry."""
    if isinstance(error, VolcengineThrottledError | VolcengineServiceBusyError):
        return True
    if isinstance(error, VolcengineResponseError):
        return error.status in (502, 503, 504)
    return isinstance(error, VolcengineConnectionError)
