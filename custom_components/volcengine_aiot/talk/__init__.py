"""The voice-talk pipeline, free of Home Assistant.

media → ffmpeg → 8 kHz mono A-law → 20 ms frames → FLV audio tags → paced WebSocket.
"""

from .errors import (
    TalkConnectError,
    TalkConnectionLostError,
    TalkDeviceBusyError,
    TalkEmptyAudioError,
    TalkError,
    TalkFfmpegError,
    TalkMaxDurationError,
    TalkMediaError,
    TalkMediaFetchError,
    TalkMediaInterruptedError,
    TalkMediaNotFoundError,
)
from .flv import FLV_HEADER, FRAME_BYTES, FRAME_MS, audio_tag
from .opener import ClientTalkOpener
from .pool import TranscoderPool
from .redact import redact_text, redact_url
from .sender import FRAMING_FLV, FRAMING_RAW, TalkSocket
from .speaker import PlayResult, Speaker, TalkOpener, TalkOptions
from .transcode import AudioSource, Transcoder

__all__ = [
    "FLV_HEADER",
    "FRAME_BYTES",
    "FRAME_MS",
    "FRAMING_FLV",
    "FRAMING_RAW",
    "AudioSource",
    "ClientTalkOpener",
    "PlayResult",
    "Speaker",
    "TalkConnectError",
    "TalkConnectionLostError",
    "TalkDeviceBusyError",
    "TalkEmptyAudioError",
    "TalkError",
    "TalkFfmpegError",
    "TalkMaxDurationError",
    "TalkMediaError",
    "TalkMediaFetchError",
    "TalkMediaInterruptedError",
    "TalkMediaNotFoundError",
    "TalkOpener",
    "TalkOptions",
    "TalkSocket",
    "Transcoder",
    "TranscoderPool",
    "audio_tag",
    "redact_text",
    "redact_url",
]
