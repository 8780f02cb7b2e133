"""Constants for the Volcengine AIoT Video integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

from .live.stream import PROTOCOL_FLV, PROTOCOLS

DOMAIN: Final = "volcengine_aiot"
LOGGER = logging.getLogger(__package__)

# Config entry data
CONF_ACCESS_KEY_ID: Final = "access_key_id"
CONF_SECRET_ACCESS_KEY: Final = "secret_access_key"  # noqa: S105 - a key name
CONF_REGION: Final = "region"
CONF_ENDPOINT: Final = "endpoint"
CONF_SPACE_ID: Final = "space_id"

# The default region and endpoint belong to the API client (api.DEFAULT_REGION/DEFAULT_ENDPOINT).
REGIONS: Final = ("cn-north-1", "cn-beijing", "cn-shanghai", "cn-guangzhou")

# Options
CONF_TRANSPORT: Final = "transport"
CONF_FRAMING: Final = "framing"
CONF_GAIN_DB: Final = "gain_db"
CONF_MAX_DURATION: Final = "max_duration"
CONF_PREROLL: Final = "preroll"
CONF_TAIL: Final = "tail"
CONF_STREAM_PROTOCOL: Final = "stream_protocol"
CONF_AUDIO_TRANSCODE: Final = "audio_transcode"

TRANSPORTS: Final = ("tcp", "udp")
# Framing names and talk defaults are defined once, in talk/options.py.
DEFAULT_GAIN_DB: Final = 0.0
# The pull protocols are defined once, in live/stream.py.
STREAM_PROTOCOLS: Final = PROTOCOLS
DEFAULT_STREAM_PROTOCOL: Final = PROTOCOL_FLV
DEFAULT_AUDIO_TRANSCODE: Final = False

SCAN_INTERVAL: Final = timedelta(minutes=5)

# Alarm events (motion sensor and event entities)
CONF_ALARM_INTERVAL: Final = "alarm_interval"
CONF_MOTION_QUIET: Final = "motion_quiet"
DEFAULT_ALARM_INTERVAL: Final = 10  # seconds between two alarm lists of a space
MIN_ALARM_INTERVAL: Final = 5
MAX_ALARM_INTERVAL: Final = 3600
DEFAULT_MOTION_QUIET: Final = 30  # seconds without motion alarm before the sensor turns off
MIN_MOTION_QUIET: Final = 5
MAX_MOTION_QUIET: Final = 3600
