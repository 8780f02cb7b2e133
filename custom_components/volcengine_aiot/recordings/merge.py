"""Browsable recording items made of the platform's segments.

Cloud recordings come as short segments (a busy day has thousands), device recordings as files
of any length. ``merge_segments`` joins adjacent segments of one source (at most ``gap`` apart)
into items of at most ``max_length``; a longer single segment stays one item (it is never cut).
An alarm segment keeps an item of its own, marked ``alarm``, so alarms can be found in a day.
Items come newest first, as the media browser shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
from typing import Final, Self

from ..api import Recording, RecordSource

DEFAULT_GAP: Final = timedelta(seconds=2)
DEFAULT_MAX_LENGTH: Final = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class RecordingItem:
    """One browsable recording: a run of segments (or one alarm segment)."""

    source: RecordSource
    start: datetime  # UTC, aware
    end: datetime
    alarm: bool
    segments: int

    @property
    def duration(self) -> timedelta:
        """Return the item's length."""
        return self.end - self.start

    @property
    def identifier(self) -> str:
        """Return ``"<start unix s>-<end unix s>"`` (start floored, end rounded up)."""
        return f"{math.floor(self.start.timestamp())}-{math.ceil(self.end.timestamp())}"

    @classmethod
    def window_of(cls, identifier: str) -> tuple[datetime, datetime]:
        """Return the (start, end) of an ``identifier``; ``ValueError`` if it is not one."""
        first, sep, last = identifier.partition("-")
        if not sep or not first.isdigit() or not last.isdigit() or int(last) <= int(first):
            msg = f"Not a recording identifier: {identifier!r}"
            raise ValueError(msg)
        return datetime.fromtimestamp(int(first), UTC), datetime.fromtimestamp(int(last), UTC)

    @classmethod
    def of(cls, recording: Recording) -> Self:
        """Return the item of a single segment."""
        return cls(recording.source, recording.start, recording.end, recording.alarm, 1)


def merge_segments(
    recordings: Iterable[Recording],
    *,
    gap: timedelta = DEFAULT_GAP,
    max_length: timedelta = DEFAULT_MAX_LENGTH,
) -> list[RecordingItem]:
    """Return the items of a list of segments, newest first (see the module)."""
    items: list[RecordingItem] = []
    run: RecordingItem | None = None
    seen: set[tuple[RecordSource, datetime, datetime]] = set()
    for segment in sorted(recordings, key=lambda r: (r.source, r.start, r.end)):
        key = (segment.source, segment.start, segment.end)
        if key in seen:
            continue
        seen.add(key)
        if segment.alarm:
            items.append(RecordingItem.of(segment))
            continue
        if (
            run is not None
            and run.source == segment.source
            and segment.start - run.end <= gap
            and max(run.end, segment.end) - run.start <= max_length
        ):
            run = RecordingItem(
                run.source,
                run.start,
                max(run.end, segment.end),
                alarm=False,
                segments=run.segments + 1,
            )
            continue
        if run is not None:
            items.append(run)
        run = RecordingItem.of(segment)
    if run is not None:
        items.append(run)
    items.sort(key=lambda item: (item.start, item.end), reverse=True)
    return items
