"""The live stream and snapshot cache of every video channel: owned by the runtime.

Every channel with a StreamID gets one ``LiveChannel`` from the runtime (``runtime.py``) when
the entry is set up (and when its device appears later), built from the coordinator's data and
the entry's live options; it is closed when its device leaves the space and on unload
(StopStream when this integration started the stream). The camera entity is a view of it; the
diagnostics read it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .api import Stream
from .const import (
    CONF_AUDIO_TRANSCODE,
    CONF_STREAM_PROTOCOL,
    DEFAULT_AUDIO_TRANSCODE,
    DEFAULT_STREAM_PROTOCOL,
    LOGGER,
)
from .live import LiveStream, SnapshotCache, protocol_or_default


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """The live-view options of an entry, unknown stored values replaced by the defaults."""

    protocol: str = DEFAULT_STREAM_PROTOCOL
    transcode_audio: bool = DEFAULT_AUDIO_TRANSCODE


def live_options(options: Mapping[str, Any]) -> LiveOptions:
    """Read the live-view options; a value this version does not know falls back (a warning)."""
    transcode = options.get(CONF_AUDIO_TRANSCODE, DEFAULT_AUDIO_TRANSCODE)
    if not isinstance(transcode, bool):
        LOGGER.warning("Unknown audio transcoding option %r: using the default", transcode)
        transcode = DEFAULT_AUDIO_TRANSCODE
    return LiveOptions(
        protocol_or_default(options.get(CONF_STREAM_PROTOCOL, DEFAULT_STREAM_PROTOCOL)),
        transcode,
    )


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
