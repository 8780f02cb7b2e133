"""FLV framing of A-law frames, byte for byte as the talk guide describes it."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp
import pytest

from custom_components.volcengine_aiot.talk.flv import FLV_HEADER, FRAME_BYTES, audio_tag
from custom_components.volcengine_aiot.talk.options import (
    FRAMING_FLV,
    FRAMING_FLV_JOINED,
    FRAMING_RAW,
    FRAMINGS,
    framing_or_default,
)
from custom_components.volcengine_aiot.talk.sender import TalkSocket
from tests.audio import FFMPEG
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


# --- framing variants (issue 14): byte for byte what ffmpeg's own muxers write ----------------

SINE = "sine=f=1000:sample_rate=8000:samples_per_frame=160:d=0.2"  # 10 frames of 160 samples


def ffmpeg_output(*args: str) -> bytes:
    """Run ffmpeg on the sine test source and return what it writes to stdout."""
    return subprocess.run(  # noqa: S603 - fixed arguments
        [
            *(FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", SINE),
            *("-ac", "1", "-c:a", "pcm_alaw", *args, "-"),
        ],
        check=True,
        capture_output=True,
    ).stdout


@pytest.fixture(scope="module")
def muxed_flv() -> bytes:
    """ffmpeg's FLV muxer: header, then one audio tag per 160-sample packet (no metadata)."""
    return ffmpeg_output("-flvflags", "no_metadata", "-f", "flv")


@pytest.fixture(scope="module")
def raw_alaw() -> bytes:
    return ffmpeg_output("-f", "alaw")


def payloads_of(flv: bytes) -> list[bytes]:
    """Return the A-law payloads of ffmpeg's FLV stream."""
    parser = FlvStreamParser()
    frames = parser.feed(flv, 0.0)
    assert parser.errors == []
    return [frame.payload for frame in frames]


async def messages(framing: str, payloads: list[bytes]) -> list[bytes]:
    """Return the WebSocket messages a talk socket sends for these frames, in order."""
    async with aiohttp.ClientSession() as http:
        socket = TalkSocket(http, "ws://127.0.0.1/unused", framing)
        opening = socket.opening()
        return [
            *([opening] if opening is not None else []),
            *(socket.message(p) for p in payloads),
        ]


async def test_flv_header_alone_then_tags_match_ffmpeg(muxed_flv: bytes) -> None:
    payloads = payloads_of(muxed_flv)
    assert len(payloads) == 10
    sent = await messages(FRAMING_FLV, payloads)
    assert sent[0] == FLV_HEADER == muxed_flv[:13]
    assert [len(m) for m in sent[1:]] == [176] * 10
    assert b"".join(sent) == muxed_flv


async def test_flv_header_joined_with_the_first_tag_matches_ffmpeg(muxed_flv: bytes) -> None:
    payloads = payloads_of(muxed_flv)
    sent = await messages(FRAMING_FLV_JOINED, payloads)
    assert [len(m) for m in sent] == [13 + 176] + [176] * 9
    assert b"".join(sent) == muxed_flv


async def test_raw_alaw_frames_match_ffmpeg(muxed_flv: bytes, raw_alaw: bytes) -> None:
    payloads = payloads_of(muxed_flv)
    sent = await messages(FRAMING_RAW, payloads)
    assert [len(m) for m in sent] == [160] * 10
    assert b"".join(sent) == raw_alaw


@pytest.mark.parametrize("framing", FRAMINGS)
def test_the_emulator_parses_every_variant(framing: str) -> None:
    """Whatever the message boundaries of a variant, the emulator sees 10 clean frames."""
    payloads = [bytes([0x10 + n]) * 160 for n in range(10)]
    sent = asyncio.run(messages(framing, payloads))
    parser = FlvStreamParser()
    frames = [frame for message in sent for frame in parser.feed(message, 0.0)]
    parser.finish()
    assert parser.errors == []
    assert [frame.payload for frame in frames] == payloads
    assert parser.raw == (framing == FRAMING_RAW)
    expected = None if framing == FRAMING_RAW else [20 * n for n in range(10)]
    assert (parser.header is None) == (framing == FRAMING_RAW)
    if expected is not None:
        assert [frame.timestamp_ms for frame in frames] == expected


def test_an_unknown_stored_framing_falls_back_to_the_default() -> None:
    assert framing_or_default("flv_joined") == FRAMING_FLV_JOINED
    assert framing_or_default("something_removed") == FRAMING_FLV
    assert framing_or_default(None) == FRAMING_FLV
