"""Alarm polling (and push) of a space: the HA side of ``events.AlarmPoller``.

One ``VolcengineAlarms`` per config entry (held by the runtime data): it lists the space's new
alarms on the poll interval option with Home Assistant's time tracking, keeps the poller's
cursor in a ``Store`` (no alarm lost or reported twice across a restart), maps errors like the
device coordinator (reauth, repair issues, a throttled pause) and hands every new alarm to the
listeners of its channel (``events.AlarmListeners``): the entities subscribe, this object never
holds them. Pushed callbacks (``push.AlarmPush``) only make it poll at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
import math
from typing import Any, Final

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api import (
    Alarm,
    VolcengineAuthError,
    VolcengineClient,
    VolcengineClockSkewError,
    VolcengineError,
    VolcenginePermissionError,
    VolcengineThrottledError,
)
from .const import (
    CONF_ALARM_INTERVAL,
    CONF_MOTION_QUIET,
    DEFAULT_ALARM_INTERVAL,
    DEFAULT_MOTION_QUIET,
    DOMAIN,
    LOGGER,
    MAX_ALARM_INTERVAL,
    MAX_MOTION_QUIET,
    MIN_ALARM_INTERVAL,
    MIN_MOTION_QUIET,
)
from .coordinator import ISSUE_CLOCK_SKEW, THROTTLED_RETRY_AFTER, async_create_clock_skew_issue
from .events import AlarmCursor, AlarmListeners, AlarmPoller
from .push import AlarmPush

STORAGE_VERSION: Final = 1
ALARM_PERMISSION: Final = "ListAlarmNotify"
ISSUE_MISSING_ALARM_PERMISSION: Final = "missing_alarm_permission"
ISSUE_PUSH_SILENT: Final = "push_silent"
# Push is reported silent when it delivered alarms before, but none for this long while the
# poll found new ones.
PUSH_SILENT_AFTER: Final = timedelta(hours=1)
PUSH_MIN_GAP: Final = 1.0  # seconds between two polls asked for by callbacks


def option_seconds(
    options: Mapping[str, Any], key: str, default: int, minimum: int, maximum: int
) -> int:
    """Return a whole-seconds option; a missing, invalid or out-of-range value gives the default."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if not minimum <= value <= maximum:
        return default
    return int(value)


def alarm_interval(options: Mapping[str, Any]) -> int:
    """Return the poll interval option (seconds)."""
    return option_seconds(
        options, CONF_ALARM_INTERVAL, DEFAULT_ALARM_INTERVAL, MIN_ALARM_INTERVAL, MAX_ALARM_INTERVAL
    )


def motion_quiet(options: Mapping[str, Any]) -> int:
    """Return the motion quiet time option (seconds)."""
    return option_seconds(
        options, CONF_MOTION_QUIET, DEFAULT_MOTION_QUIET, MIN_MOTION_QUIET, MAX_MOTION_QUIET
    )


def alarm_permission_issue_id(entry: ConfigEntry) -> str:
    """Return the ID of the entry's "missing permission" issue for listing alarms."""
    return f"{ISSUE_MISSING_ALARM_PERMISSION}_{entry.entry_id}"


def push_issue_id(entry: ConfigEntry) -> str:
    """Return the ID of the entry's "no alarm pushed any more" issue."""
    return f"{ISSUE_PUSH_SILENT}_{entry.entry_id}"


def alarm_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Return the store of an entry's alarm cursor and webhook ID."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.alarms")


class VolcengineAlarms:
    """Polls a space's alarms and dispatches the new ones to the listeners of their channel."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: VolcengineClient,
        space_id: str,
    ) -> None:
        """Initialize; nothing runs before ``async_start``."""
        self.hass = hass
        self._entry = entry
        self._client = client
        self.space_id = space_id
        self.interval = timedelta(seconds=alarm_interval(entry.options))
        self.listeners = AlarmListeners()
        self.poller: AlarmPoller | None = None
        self.started_at: datetime = dt_util.utcnow()
        self._store = alarm_store(hass, entry.entry_id)
        self._webhook_id = ""
        self._saved: AlarmCursor | None = None
        self.push: AlarmPush | None = None
        self._again = False  # a callback asked for a poll while one ran
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._unsub_deferred: CALLBACK_TYPE | None = None  # a push-asked poll, spaced out
        self._last_push_poll = -PUSH_MIN_GAP  # loop time of the last poll a callback started
        self.unknown_types: dict[str, int] = {}  # "method/type" of alarms outside the GB table
        self._task: asyncio.Task[None] | None = None
        self._paused = 0  # intervals left to skip after a throttled answer
        self.failures = 0  # polls that failed
        self.overlaps = 0  # intervals skipped because the previous poll still ran
        self.last_error: str | None = None  # error class of the last poll, None after a success
        self.last_success: datetime | None = None

    async def async_start(self) -> None:
        """Load the stored cursor, open the webhook and poll now and on every interval."""
        stored = await self._store.async_load() or {}
        cursor = AlarmCursor.from_dict(stored.get("cursor"))
        webhook_id = stored.get("webhook_id")
        if not isinstance(webhook_id, str) or not webhook_id:
            webhook_id = webhook.async_generate_id()
        self.started_at = dt_util.utcnow()
        self.poller = AlarmPoller(self._client, self.space_id, cursor)
        self._webhook_id = webhook_id
        await self._store.async_save(self._stored())
        self._saved = self.poller.cursor
        self.push = AlarmPush(
            self.hass,
            f"{self._entry.title} alarms",
            webhook_id,
            reported=self.poller.reported,
            request_poll=self.async_request_poll,
            on_alarm_callback=self._push_works,
        )
        await self.push.async_start()
        self._unsub_timer = async_track_time_interval(
            self.hass,
            self._async_tick,
            self.interval,
            name=f"{DOMAIN} alarms {self.space_id}",
            cancel_on_shutdown=True,
        )
        self._start_poll()

    async def async_stop(self) -> None:
        """Stop the timer and the webhook, end a poll under way and store the cursor.

        Nothing keeps running afterwards.
        """
        if self.push is not None:
            self.push.stop()
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        if self._unsub_deferred is not None:
            self._unsub_deferred()
            self._unsub_deferred = None
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        await self._async_save()

    @callback
    def async_request_poll(self) -> None:
        """Poll now (a callback announced an alarm), unless paused or a poll runs (then after).

        Polls asked for by callbacks start at most once per ``PUSH_MIN_GAP``: a flood of
        callbacks cannot turn into a flood of list calls.
        """
        if self.poller is None or self._unsub_timer is None or self._paused > 0:
            return
        if self.running:
            self._again = True
            return
        now = self.hass.loop.time()
        wait = self._last_push_poll + PUSH_MIN_GAP - now
        if wait > 0:
            if self._unsub_deferred is None:
                self._unsub_deferred = async_call_later(self.hass, wait, self._deferred_poll)
            return
        self._last_push_poll = now
        self._start_poll()

    @callback
    def _deferred_poll(self, _now: datetime) -> None:
        self._unsub_deferred = None
        self.async_request_poll()

    @property
    def running(self) -> bool:
        """Return whether a poll is under way."""
        return self._task is not None and not self._task.done()

    @callback
    def _async_tick(self, _now: datetime) -> None:
        if self._paused > 0:
            self._paused -= 1
            return
        if self.running:
            self.overlaps += 1
            return
        self._start_poll()

    @callback
    def _start_poll(self) -> None:
        self._task = self._entry.async_create_background_task(
            self.hass, self.async_poll(), f"{DOMAIN} alarm poll {self.space_id}"
        )

    async def async_poll(self) -> None:
        """List the new alarms, dispatch them and store the cursor; errors are logged once.

        Lists again at once when a callback asked for a poll while this one ran.
        """
        poller = self.poller
        while poller is not None:
            self._again = False
            try:
                alarms = await poller.poll()
            except VolcengineError as err:
                self._failed(err)
                return
            self._succeeded()
            for alarm in alarms:
                self._dispatch(alarm)
            self._check_push(alarms)
            await self._async_save()
            if not self._again:
                return

    def _check_push(self, alarms: list[Alarm]) -> None:
        """Raise a repair issue when push worked once but the poll alone finds the alarms now."""
        push = self.push
        if push is None or not alarms or push.last_alarm_callback is None:
            return
        if any(push.announced(alarm.alarm_id) for alarm in alarms):
            return
        if dt_util.utcnow() - push.last_alarm_callback < PUSH_SILENT_AFTER:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            push_issue_id(self._entry),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_PUSH_SILENT,
            translation_placeholders={"space": self._entry.title},
        )

    @callback
    def _push_works(self) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, push_issue_id(self._entry))

    def _dispatch(self, alarm: Alarm) -> None:
        if not alarm.known:  # an "other" event; each kind logged once, all counted
            kind = f"{alarm.method}/{alarm.alarm_type}"
            if kind not in self.unknown_types:
                LOGGER.info(
                    "Alarm type %s (AlarmMethod/AlarmType) is not in the GB/T 28181 table: "
                    "reported as event type other",
                    kind,
                )
            self.unknown_types[kind] = self.unknown_types.get(kind, 0) + 1
        if not self.listeners.dispatch(alarm):
            LOGGER.debug(
                "Alarm %s of device %s channel %s: no entity for it",
                alarm.alarm_id,
                alarm.device_nsid,
                alarm.channel_id,
            )

    async def _async_save(self) -> None:
        poller = self.poller
        if poller is None or poller.cursor == self._saved:
            return
        cursor = poller.cursor
        await self._store.async_save(self._stored())
        self._saved = cursor

    def _stored(self) -> dict[str, Any]:
        poller = self.poller
        return {
            "cursor": None if poller is None else poller.cursor.as_dict(),
            "webhook_id": self._webhook_id,
        }

    def _failed(self, err: VolcengineError) -> None:
        self.failures += 1
        kind = type(err).__name__
        first = self.last_error != kind
        self.last_error = kind
        if isinstance(err, VolcengineAuthError):
            self._entry.async_start_reauth(self.hass)
        elif isinstance(err, VolcenginePermissionError):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                alarm_permission_issue_id(self._entry),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_MISSING_ALARM_PERMISSION,
                translation_placeholders={
                    "space": self._entry.title,
                    "permission": ALARM_PERMISSION,
                },
            )
        elif isinstance(err, VolcengineClockSkewError):
            async_create_clock_skew_issue(self.hass)
        elif isinstance(err, VolcengineThrottledError):
            # Like the device coordinator's retry_after: no call for a minute.
            self._paused = math.ceil(THROTTLED_RETRY_AFTER / self.interval.total_seconds()) - 1
        if first:  # logged once per kind of failure, not every interval
            LOGGER.warning(
                "Listing the alarms of space %s failed (%s: %s); retrying every %s s",
                self._entry.title,
                kind,
                err,
                int(self.interval.total_seconds()),
            )

    def _succeeded(self) -> None:
        if self.last_error is not None:
            LOGGER.info("Listing the alarms of space %s works again", self._entry.title)
        ir.async_delete_issue(self.hass, DOMAIN, alarm_permission_issue_id(self._entry))
        ir.async_delete_issue(self.hass, DOMAIN, ISSUE_CLOCK_SKEW)
        self.last_error = None
        self.last_success = dt_util.utcnow()

    def diagnostics(self) -> dict[str, Any]:
        """Return the counters and the cursor (no secrets in them)."""
        poller = self.poller
        cursor = poller.cursor if poller is not None else None
        return {
            "interval": int(self.interval.total_seconds()),
            "running": self.running,
            "polls": poller.polls if poller else 0,
            "failures": self.failures,
            "overlaps": self.overlaps,
            "skipped": poller.skipped if poller else 0,
            "duplicates": poller.duplicates if poller else 0,
            "dropped_seconds": poller.dropped_seconds if poller else 0,
            "dispatched": self.listeners.dispatched,
            "unrouted": self.listeners.unrouted,
            "last_error": self.last_error,
            "last_success": None if self.last_success is None else self.last_success.isoformat(),
            "unknown_types": dict(sorted(self.unknown_types.items())),
            "cursor_time": None
            if cursor is None
            else dt_util.utc_from_timestamp(cursor.since).isoformat(),
            "cursor_seen": 0 if cursor is None else len(cursor.seen),
            "backlog": False if cursor is None else cursor.backlog,
            "push": None if self.push is None else self.push.diagnostics(),
        }
