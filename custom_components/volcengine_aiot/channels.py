"""The live stream and snapshot cache of every video channel: owned by the runtime.

Every channel with a StreamID gets one ``LiveChannel`` from the runtime (``runtime.py``) when
the entry is set up (and when its device appears later), built from the coordinator's data and
the entry's live options; it is closed when its device leaves the space and on unload
(StopStream when this integration started the stream). The camera entity is a view of it; the
diagnostics read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .api import Stream
from .live import LiveStream, SnapshotCache


@dataclass(slots=True)
class LiveChannel:
    """What one video channel owns: its live stream and its snapshot cache."""

    stream: LiveStream
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)

    async def async_close(self) -> None:
        """Cancel snapshot grabs (their ffmpeg ends); StopStream if this integration started it."""
        await self.snapshots.async_close()
        await self.stream.async_close()


def video_channels(streams: tuple[Stream, ...]) -> Iterator[Stream]:
    """Return the channels of a device that have a stream to pull."""
    seen: set[str] = set()
    for stream in streams:
        if stream.stream_id and stream.stream_id not in seen:
            seen.add(stream.stream_id)
            yield stream


def channel_key(device_id: str, channel: Stream) -> str:
    """Return the key of a channel in the runtime data (like its camera entity's unique ID)."""
    return f"{device_id}_{channel.channel_id or channel.stream_id}_camera"
