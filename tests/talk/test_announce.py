"""Speaker.play(announce=True): at once, interrupting what plays, the queue kept for after it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import VolcengineClient
from custom_components.volcengine_aiot.talk import AudioSource, Speaker, TranscoderPool
from custom_components.volcengine_aiot.talk.flv import ALAW_SILENCE
from tests.audio import FFMPEG, alaw_decode, ffmpeg_children, make_tone, tones
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, HOME_IPC_NSID
from tests.talk.test_session import FAST, Opener

SILENCE = bytes([ALAW_SILENCE]) * 160


@pytest.fixture
async def speaker(emulator: Emulator) -> AsyncIterator[Speaker]:
    async with aiohttp.ClientSession() as http:
        client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url)
        speaker = Speaker(
            http=http, opener=Opener(client), transcoders=TranscoderPool(FFMPEG), options=FAST
        )
        yield speaker
        await speaker.close()
    assert ffmpeg_children() == []
    assert not emulator.talk.active(HOME_IPC_NSID)


@pytest.fixture
def sounds(tmp_path: Path) -> dict[str, Path]:
    return {
        "long": make_tone(tmp_path / "long.wav", 300, 10.0),
        "queued": make_tone(tmp_path / "queued.wav", 440, 0.6),
        "first": make_tone(tmp_path / "first.mp3", 700, 0.6),
        "second": make_tone(tmp_path / "second.mp3", 1000, 0.6),
    }


@pytest.fixture
def stream_of(sounds: dict[str, Path]) -> Callable[[str], AudioSource]:
    """A streamed source (like TTS): queued by play() without awaiting anything."""
    data = {name: path.read_bytes() for name, path in sounds.items()}

    def make(name: str) -> AudioSource:
        async def stream() -> AsyncIterator[bytes]:
            yield data[name]

        return AudioSource(stream=stream, label=name)

    return make


async def wait_for_sound(emulator: Emulator, frames: int = 15) -> None:
    async with asyncio.timeout(10):
        while (
            sum(
                f.payload != SILENCE
                for r in emulator.talk.sessions_for(HOME_IPC_NSID)
                for f in r.frames
            )
            < frames
        ):
            await asyncio.sleep(0.01)


async def test_announcement_interrupts_and_keeps_the_queue(
    speaker: Speaker,
    emulator: Emulator,
    sounds: dict[str, Path],
    stream_of: Callable[[str], AudioSource],
) -> None:
    playing = asyncio.create_task(speaker.play([AudioSource(location=str(sounds["long"]))]))
    await wait_for_sound(emulator)
    queued = asyncio.create_task(speaker.play([stream_of("queued")], enqueue=True))
    await asyncio.sleep(0)  # a streamed source is queued in the task's first step
    # Two announcements at once: the newer one replaces the one that has not started yet.
    first = asyncio.create_task(speaker.play([stream_of("first")], announce=True))
    second = asyncio.create_task(speaker.play([stream_of("second")], announce=True))
    results = await asyncio.gather(playing, queued, first, second)
    assert [r.interrupted for r in results] == [True, False, True, False]
    assert abs(results[3].seconds - 0.6) < 0.05
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)  # one talk for all of it
    assert recording.stopped
    heard = tones(alaw_decode(recording.alaw()), [300, 440, 700, 1000])
    assert heard == [300, 1000, 440]


async def test_announcement_when_idle(
    speaker: Speaker, emulator: Emulator, stream_of: Callable[[str], AudioSource]
) -> None:
    result = await speaker.play([stream_of("second")], announce=True)
    assert not result.interrupted
    (recording,) = emulator.talk.sessions_for(HOME_IPC_NSID)
    assert tones(alaw_decode(recording.alaw()), [1000]) == [1000]
