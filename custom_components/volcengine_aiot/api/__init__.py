"""HA-free client of the Volcengine AIoT Video OpenAPI (service ``aiotvideo``)."""

from .client import DEFAULT_ENDPOINT, DEFAULT_REGION, VolcengineClient
from .errors import (
    VolcengineApiError,
    VolcengineAuthError,
    VolcengineClockSkewError,
    VolcengineConnectionError,
    VolcengineDeviceBusyError,
    VolcengineDeviceUnreachableError,
    VolcengineError,
    VolcengineNotFoundError,
    VolcenginePermissionError,
    VolcengineResponseError,
    VolcengineServiceBusyError,
    VolcengineThrottledError,
    VolcengineTimeoutError,
)
from .models import Channel, Device, DeviceStatus, Space, Stream, StreamUrls, VoiceTalk

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_REGION",
    "Channel",
    "Device",
    "DeviceStatus",
    "Space",
    "Stream",
    "StreamUrls",
    "VoiceTalk",
    "VolcengineApiError",
    "VolcengineAuthError",
    "VolcengineClient",
    "VolcengineClockSkewError",
    "VolcengineConnectionError",
    "VolcengineDeviceBusyError",
    "VolcengineDeviceUnreachableError",
    "VolcengineError",
    "VolcengineNotFoundError",
    "VolcenginePermissionError",
    "VolcengineResponseError",
    "VolcengineServiceBusyError",
    "VolcengineThrottledError",
    "VolcengineTimeoutError",
]
