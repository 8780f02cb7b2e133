"""Helpers to check pictures and FLV streams without a decoder library."""

from __future__ import annotations

SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Return (width, height) from a JPEG's start-of-frame segment."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    pos = 2
    while pos + 4 <= len(data):
        assert data[pos] == 0xFF, f"bad marker at {pos}"
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4])
        if marker in SOF_MARKERS:
            height = int.from_bytes(data[pos + 5 : pos + 7])
            width = int.from_bytes(data[pos + 7 : pos + 9])
            return width, height
        pos += 2 + length
    msg = "no start-of-frame segment"
    raise AssertionError(msg)


def flv_codecs(data: bytes) -> tuple[int | None, int | None]:
    """Return the (video, audio) codec IDs of the first tags of an FLV stream."""
    assert data[:3] == b"FLV", "not FLV"
    pos = int.from_bytes(data[5:9]) + 4
    video = audio = None
    while pos + 12 <= len(data) and (video is None or audio is None):
        tag_type = data[pos]
        size = int.from_bytes(data[pos + 1 : pos + 4])
        if pos + 11 + size > len(data):
            break
        first = data[pos + 11] if size else 0
        if tag_type == 9 and video is None:
            video = first & 0x0F
        elif tag_type == 8 and audio is None:
            audio = first >> 4
        pos += 11 + size + 4
    return video, audio
