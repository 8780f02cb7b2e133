"""How long a local file plays, from ffmpeg's description of its input."""

from __future__ import annotations

import asyncio
from pathlib import Path
import shutil

from custom_components.volcengine_aiot.talk import AudioSource, Transcoder
from custom_components.volcengine_aiot.talk.probe import parse_duration, probe_duration
from tests.audio import ffmpeg_children, make_tone

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


async def test_a_transcoder_learns_how_long_its_file_plays(tmp_path: Path) -> None:
    """Every caller of the speaker (media player, satellite, play_audio) sees a file's length."""
    make_tone(tmp_path / "a.wav", 440, 2.5)
    transcoder = Transcoder(FFMPEG, AudioSource(location=str(tmp_path / "a.wav"), label="a"))
    await transcoder.start()
    try:
        async with asyncio.timeout(10):
            while transcoder.duration is None and await transcoder.read_frame() is not None:
                await asyncio.sleep(0.02)  # the probe runs beside the decode, at a talk's pace
        assert transcoder.duration is not None
        assert abs(transcoder.duration - 2.5) < 0.05
    finally:
        await transcoder.aclose()
    assert ffmpeg_children() == []


async def test_closing_a_transcoder_reaps_its_probe(tmp_path: Path) -> None:
    """A playback that ends while its file is still being probed leaves no ffmpeg behind."""
    make_tone(tmp_path / "a.wav", 440, 2.5)
    slow = tmp_path / "ffmpeg"
    slow.write_text(
        "#!/bin/bash\n"
        "# the duration probe (-nostdin -hide_banner -protocol_whitelist X -i F) hangs\n"
        '[ "$#" -eq 6 ] && exec -a ffmpeg-slow-probe sleep 30\n'
        f'exec {FFMPEG} "$@"\n'
    )
    slow.chmod(0o755)
    transcoder = Transcoder(str(slow), AudioSource(location=str(tmp_path / "a.wav"), label="a"))
    await transcoder.start()
    assert await transcoder.read_frame() is not None
    await transcoder.aclose()
    assert transcoder.duration is None
    assert ffmpeg_children() == []  # the slow probe (a "sleep" named ffmpeg-slow-probe) too
