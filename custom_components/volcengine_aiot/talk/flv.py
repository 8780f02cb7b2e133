"""FLV framing of G.711 A-law audio: the file header and one audio tag per 20 ms frame."""

from __future__ import annotations

from typing import Final

SAMPLE_RATE: Final = 8000
FRAME_MS: Final = 20
FRAME_SECONDS: Final = FRAME_MS / 1000
FRAME_BYTES: Final = SAMPLE_RATE * FRAME_MS // 1000  # 160 samples, one byte each
ALAW_SILENCE: Final = 0xD5
SILENCE_FRAME: Final = bytes([ALAW_SILENCE]) * FRAME_BYTES

# "FLV", version 1, audio only, header size 9, then PreviousTagSize0 = 0.
FLV_HEADER: Final = b"FLV\x01\x04\x00\x00\x00\x09\x00\x00\x00\x00"
TAG_AUDIO: Final = 0x08
# SoundFormat 7 (G.711 A-law) << 4 | rate 0 | 16-bit << 1 | mono: what ffmpeg writes for pcm_alaw.
ALAW_FLAGS: Final = 0x72
_DATA_SIZE: Final = 1 + FRAME_BYTES  # 161
_TAG_SIZE: Final = 11 + _DATA_SIZE  # 172
_DATA_SIZE_BYTES: Final = _DATA_SIZE.to_bytes(3, "big")
_TRAILER: Final = _TAG_SIZE.to_bytes(4, "big")


def audio_tag(timestamp_ms: int, payload: bytes) -> bytes:
    """Return one FLV audio tag (header, 0x72, payload) followed by its PreviousTagSize."""
    if len(payload) != FRAME_BYTES:
        msg = f"an A-law frame is {FRAME_BYTES} bytes, got {len(payload)}"
        raise ValueError(msg)
    ts = timestamp_ms & 0xFFFFFFFF
    header = (
        bytes([TAG_AUDIO])
        + _DATA_SIZE_BYTES
        + (ts & 0xFFFFFF).to_bytes(3, "big")
        + bytes([ts >> 24])
        + b"\x00\x00\x00"
    )
    return header + bytes([ALAW_FLAGS]) + payload + _TRAILER
