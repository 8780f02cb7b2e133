"""The talk pipeline's basic types: what to play and what a talk reads, frame by frame."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol


class FrameSource(Protocol):
    """What a speaker reads: started, then polled frame by frame, then closed."""

    done: bool

    @property
    def duration(self) -> float | None:
        """Return how long the source plays, once known (None: not known, or not yet)."""

    async def start(self) -> None:
        """Start producing frames (raises the source's start errors)."""

    def next_frame(self) -> bytes | None:
        """Return the next frame if one is ready (raises the source's error)."""

    async def aclose(self) -> None:
        """Stop and release everything."""


@dataclass(frozen=True, slots=True)
class AudioSource:
    """What to play: a local path or URL for ffmpeg, a byte stream (TTS) or live frames. One."""

    location: str | None = None
    stream: Callable[[], AsyncIterator[bytes]] | None = None
    gain: float = 1.0
    label: str = ""
    key: str | None = None  # identifies a stream's content, so equal streams can share ffmpeg
    cache_key: str | None = None  # identifies the content for the A-law cache (None: never cached)
    live: Callable[[], FrameSource] | None = None  # ready A-law frames (push-to-talk), no ffmpeg

    def __post_init__(self) -> None:
        """Check that exactly one input is given."""
        if sum(x is not None for x in (self.location, self.stream, self.live)) != 1:
            msg = "an AudioSource needs exactly one of location, stream and live"
            raise ValueError(msg)

    @property
    def share_key(self) -> tuple[str, float] | None:
        """Return what makes two sources decode to the same frames (None: never shared)."""
        content = self.location if self.stream is None else self.key
        return None if content is None else (content, round(self.gain, 4))

    @property
    def is_url(self) -> bool:
        """Return whether the location is a network URL."""
        return self.location is not None and self.location.startswith(("http://", "https://"))
