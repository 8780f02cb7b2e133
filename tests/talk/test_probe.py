"""How long a local file plays, from ffmpeg's description of its input."""

from __future__ import annotations

from pathlib import Path
import shutil

from custom_components.volcengine_aiot.talk.probe import parse_duration, probe_duration
from tests.audio import make_tone

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


def test_parse_duration() -> None:
    text = b"Input #0, wav, from 'a.wav':\n  Duration: 01:02:03.25, bitrate: 128 kb/s\n"
    assert parse_duration(text) == 3723.25
    assert parse_duration(b"  Duration: N/A, start: 0.000000\n") is None
    assert parse_duration(b"") is None


async def test_probe_duration_of_files(tmp_path: Path) -> None:
    make_tone(tmp_path / "a.wav", 440, 2.5)
    make_tone(tmp_path / "b.mp3", 440, 1.0)
    assert abs((await probe_duration(FFMPEG, str(tmp_path / "a.wav")) or 0) - 2.5) < 0.05
    assert abs((await probe_duration(FFMPEG, str(tmp_path / "b.mp3")) or 0) - 1.0) < 0.1
    (tmp_path / "junk.mp3").write_bytes(b"not audio")
    assert await probe_duration(FFMPEG, str(tmp_path / "junk.mp3")) is None
    assert await probe_duration(FFMPEG, str(tmp_path / "missing.wav")) is None
    assert await probe_duration(str(tmp_path / "no-ffmpeg"), str(tmp_path / "a.wav")) is None
