"""Poll the alarms of one space: one list call per interval, paged, deduplicated, resumable.

Which list action (both are in the reference, VDOC 6521/129581 and the Go SDK):

* ``ListAlarmNotify`` (2021-01-01) is the primary. It has a public doc page, takes ``SpaceID``
  and lists every device and channel of the space, so a poll is one call per space per interval
  (plus one per further page of 100), whatever the number of devices; it is the same API
  version as every other action we use, and its filters carry the GB alarm-type table.
* ``ListDeviceAlarms`` (2023-10-01) is known from the Go SDK only and takes one ``DeviceID``:
  polling a space with it is one call per device per interval (5,000 calls for the big space).
  ``VolcengineClient.list_device_alarms`` keeps it for confirming one device's alarms.

The cursor (``AlarmCursor``) holds ``since``, the time (unix s) of the newest alarm reported, and
the IDs (with their times) reported in the last ``lookback`` seconds before it. A poll lists from
``since - lookback`` (alarm times are the device's, in whole seconds, and an alarm can reach the
platform after a newer one), oldest first, and reports only the IDs not seen: so several alarms
in the same second are all reported, none twice. ``since`` never passes the local clock, so a
device whose clock runs ahead cannot hide the alarms that follow. The cursor moves only when a
poll succeeded completely: a failed poll (any page) reports nothing and the next one lists the
same range again, so nothing is lost. ``as_dict``/``from_dict`` store it across restarts
(JSON-safe).

Cost: a poll lists the look-back window again, so it takes one call per 100 alarms of the last
``lookback`` seconds plus the new ones: one call per space per interval while a space has fewer
than 100 alarms a minute (360 calls an hour at a 10 s interval, whatever its number of devices).

When one poll hits the page bound (``MAX_ALARM_PAGES`` x 100 alarms) it reports what it read and
the next poll continues from its last alarm without the look-back. Limits, far beyond a home:
more than the page bound in a single second of one space loses the rest of that second (a poll
that finds nothing new then moves past it, counted in ``dropped_seconds`` with a warning,
instead of reading the same pages for ever); more than ``MAX_SEEN`` alarms within the look-back
can be reported twice. Pushed IDs (``is_new``) are remembered in memory only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import logging
import time
from typing import Any, Final

from ..api.client import MAX_ALARM_PAGES, VolcengineClient
from ..api.models import Alarm

_LOGGER = logging.getLogger(__name__)

CURSOR_VERSION: Final = 1
DEFAULT_LOOKBACK: Final = 60  # seconds listed again before the newest alarm (late arrivals)
MAX_SEEN: Final = 4096  # IDs kept for deduplication; the oldest go first
MAX_PUSHED: Final = 1024  # IDs of pushed alarms remembered (replays), the oldest go first


@dataclass(frozen=True, slots=True)
class AlarmCursor:
    """Where the next poll starts: the newest alarm time and the recently reported IDs."""

    since: int
    seen: Mapping[str, int] = field(default_factory=dict)  # AlarmNotifyID -> alarm time
    backlog: bool = False  # the last poll stopped at the page bound

    @classmethod
    def start(cls, now: float) -> AlarmCursor:
        """Return the cursor of a space never polled: alarms from ``now`` on."""
        return cls(int(now))

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-safe form for the store."""
        return {
            "version": CURSOR_VERSION,
            "since": self.since,
            "seen": [[alarm_id, at] for alarm_id, at in self.seen.items()],
            "backlog": self.backlog,
        }

    @classmethod
    def from_dict(cls, data: object) -> AlarmCursor | None:
        """Return a stored cursor, or None when ``data`` is not one (start afresh then)."""
        if not isinstance(data, Mapping) or data.get("version") != CURSOR_VERSION:
            return None
        since = data.get("since")
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            return None
        seen: dict[str, int] = {}
        items = data.get("seen")
        for item in items if isinstance(items, list) else []:
            if (
                isinstance(item, list)
                and len(item) == 2  # noqa: PLR2004
                and isinstance(item[0], str)
                and isinstance(item[1], int)
                and not isinstance(item[1], bool)
            ):
                seen[item[0]] = item[1]
        return cls(since, seen, data.get("backlog") is True)


class AlarmPoller:
    """Lists the new alarms of one space; HA-free, driven by the glue's timer."""

    def __init__(
        self,
        client: VolcengineClient,
        space_id: str,
        cursor: AlarmCursor | None = None,
        *,
        lookback: int = DEFAULT_LOOKBACK,
        max_pages: int = MAX_ALARM_PAGES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Initialize from a stored cursor, or from now when there is none."""
        self._client = client
        self.space_id = space_id
        self._lookback = lookback
        self._max_pages = max_pages
        self._clock = clock
        self._cursor = cursor if cursor is not None else AlarmCursor.start(clock())
        self.polls = 0
        self.skipped = 0  # list items that were no alarm (for diagnostics)
        self.dropped_seconds = 0  # seconds skipped with more alarms than the page bound
        self.duplicates = 0  # alarms listed or pushed again and not reported a second time
        self._pushed: dict[str, None] = {}  # in arrival order

    @property
    def cursor(self) -> AlarmCursor:
        """Return the cursor after the last successful poll (store it)."""
        return self._cursor

    def reported(self, alarm_id: str) -> bool:
        """Return whether an alarm ID was reported (listed or pushed) and is still remembered."""
        return alarm_id in self._cursor.seen or alarm_id in self._pushed

    def is_new(self, alarm: Alarm) -> bool:
        """Return whether an alarm (e.g. pushed) has not been reported yet; remember it if so.

        It joins the seen IDs without moving ``since``, so the poll still lists everything
        before it and reports this one no second time; a replay of it (even older than the
        look-back) is not new either.
        """
        if alarm.alarm_id in self._cursor.seen or alarm.alarm_id in self._pushed:
            self.duplicates += 1
            return False
        self._pushed[alarm.alarm_id] = None
        while len(self._pushed) > MAX_PUSHED:
            del self._pushed[next(iter(self._pushed))]
        cursor = self._cursor
        self._cursor = AlarmCursor(
            cursor.since,
            self._pruned({**cursor.seen, alarm.alarm_id: alarm.timestamp}, cursor.since),
            cursor.backlog,
        )
        return True

    async def poll(self) -> list[Alarm]:
        """List the alarms since the cursor; return the new ones, oldest first.

        Raises the client's ``VolcengineError`` when a page fails; the cursor is then unchanged.
        """
        cursor = self._cursor
        start = cursor.since if cursor.backlog else max(cursor.since - self._lookback, 0)
        result = await self._client.list_alarms(self.space_id, start, max_pages=self._max_pages)
        self.polls += 1
        self.skipped += result.skipped
        new: list[Alarm] = []
        seen = dict(self._cursor.seen)  # a push may have added IDs while the call ran
        for alarm in sorted(result.alarms, key=lambda a: a.timestamp):  # stable: list order
            if alarm.timestamp < start:
                continue
            if alarm.alarm_id in seen or alarm.alarm_id in self._pushed:
                self.duplicates += 1
                continue
            seen[alarm.alarm_id] = alarm.timestamp
            new.append(alarm)
        newest = max((a.timestamp for a in result.alarms if a.timestamp >= start), default=0)
        # A device clock ahead of ours must not push the window past alarms still to come:
        # ``since`` never passes our clock (future-dated alarms stay deduplicated by ID).
        since = max(cursor.since, min(newest, int(self._clock())))
        if not result.complete and not new and cursor.backlog:
            since = max(since, start + 1)
            self.dropped_seconds += 1
            _LOGGER.warning(
                "Space %s: more alarms in one second than %d pages hold; skipping that second",
                self.space_id,
                self._max_pages,
            )
        self._cursor = AlarmCursor(since, self._pruned(seen, since), not result.complete)
        if not result.complete:
            _LOGGER.debug(
                "Space %s: %d alarms, more than %d pages; continuing from %d",
                self.space_id,
                result.total,
                self._max_pages,
                since,
            )
        return new

    def _pruned(self, seen: Mapping[str, int], since: int) -> dict[str, int]:
        """Keep the IDs a later poll can list again (within the look-back), newest first."""
        floor = since - self._lookback
        kept = sorted(
            ((alarm_id, at) for alarm_id, at in seen.items() if at >= floor),
            key=lambda item: item[1],
            reverse=True,
        )[:MAX_SEEN]
        return dict(kept)
