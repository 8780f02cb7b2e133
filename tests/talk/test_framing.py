"""FLV framing of A-law frames, byte for byte as the talk guide describes it."""

from __future__ import annotations

import pytest

from custom_components.volcengine_aiot.talk.flv import FLV_HEADER, FRAME_BYTES, audio_tag
from tests.emulator.talk import FlvStreamParser


def test_header() -> None:
    assert bytes.fromhex("464C5601040000000900000000") == FLV_HEADER


def test_tag_layout() -> None:
    payload = bytes(range(160))
    tag = audio_tag(20, payload)
    assert tag[:11] == bytes.fromhex("080000A1000014 00 000000".replace(" ", ""))
    assert tag[11] == 0x72
    assert tag[12:172] == payload
    assert tag[172:] == bytes.fromhex("000000AC")
    assert len(tag) == 176


def test_extended_timestamp() -> None:
    tag = audio_tag(0x01020304, b"\xd5" * FRAME_BYTES)
    assert tag[4:7] == bytes.fromhex("020304")
    assert tag[7] == 0x01


def test_frame_size_is_checked() -> None:
    with pytest.raises(ValueError, match="160 bytes"):
        audio_tag(0, b"\x00" * 159)


def test_emulator_parses_our_stream_split_anywhere() -> None:
    """What we send parses cleanly however the bytes are cut into messages."""
    stream = FLV_HEADER + b"".join(audio_tag(20 * i, bytes([i]) * 160) for i in range(50))
    for cut in (1, 7, 176, 1000):
        parser = FlvStreamParser()
        frames = []
        for offset in range(0, len(stream), cut):
            frames += parser.feed(stream[offset : offset + cut], 0.0)
        assert parser.errors == []
        assert [f.timestamp_ms for f in frames] == [20 * i for i in range(50)]
        assert [f.payload[0] for f in frames] == list(range(50))
