"""The voice-talk pipeline, free of Home Assistant.

media → ffmpeg → 8 kHz mono A-law → 20 ms frames → FLV audio tags → paced WebSocket.
"""

from .errors import (
    TalkAuthError,
    TalkConnectError,
    TalkConnectionLostError,
    TalkDeviceBusyError,
    TalkDeviceUnreachableError,
    TalkEmptyAudioError,
    TalkError,
    TalkFfmpegError,
    TalkInternalError,
    TalkMaxDurationError,
    TalkMediaError,
    TalkMediaFetchError,
    TalkMediaInterruptedError,
    TalkMediaNotFoundError,
    TalkStartError,
)
from .opener import ClientTalkOpener
from .options import FRAMING_FLV, FRAMING_RAW, FRAMINGS, TalkOptions
from .pool import TranscoderPool
from .session import PlayResult, TalkOpener, TalkStats
from .source import AudioSource
from .speaker import Speaker
from .transcode import Transcoder

__all__ = [
    "FRAMINGS",
    "FRAMING_FLV",
    "FRAMING_RAW",
    "AudioSource",
    "ClientTalkOpener",
    "PlayResult",
    "Speaker",
    "TalkAuthError",
    "TalkConnectError",
    "TalkConnectionLostError",
    "TalkDeviceBusyError",
    "TalkDeviceUnreachableError",
    "TalkEmptyAudioError",
    "TalkError",
    "TalkFfmpegError",
    "TalkInternalError",
    "TalkMaxDurationError",
    "TalkMediaError",
    "TalkMediaFetchError",
    "TalkMediaInterruptedError",
    "TalkMediaNotFoundError",
    "TalkOpener",
    "TalkOptions",
    "TalkStartError",
    "TalkStats",
    "Transcoder",
    "TranscoderPool",
]
