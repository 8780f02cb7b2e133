"""Alarm push: Volcengine's event callback received on a Home Assistant webhook.

A callback is a hint, never trusted by itself: Volcengine documents no signature for it, so a
``device_alarm`` whose alarm has not been reported yet makes the space's poller list the alarms
at once (a signed call of ours), and only an alarm that list returns fires an entity. So a
forged or replayed callback fires nothing, and push cuts the delay to one list call instead of
up to one poll interval. Malformed bodies are answered 400, logged once and counted; other event
types (device or stream online, ...) are answered 200 and counted.

The URL is a Home Assistant Cloud cloudhook when Cloud is logged in, else the instance's own
webhook URL; the options dialog shows it, to be entered as the space's event callback URL in the
Volcengine console (the integration never changes the space's settings itself).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .events import MAX_CALLBACK_BYTES, CallbackError, parse_callback

MAX_UNKNOWN_KEYS: Final = 32  # unknown Detail keys kept for diagnostics
MAX_ANNOUNCED: Final = 1024  # alarm IDs of callbacks remembered


class AlarmPush:
    """The webhook of one space: parses callbacks and asks the poller to confirm alarms."""

    def __init__(
        self,
        hass: HomeAssistant,
        name: str,
        webhook_id: str,
        *,
        reported: Callable[[str], bool],
        request_poll: Callable[[], None],
        on_alarm_callback: Callable[[], None],
    ) -> None:
        """Initialize; nothing is registered before ``async_start``."""
        self.hass = hass
        self._name = name
        self.webhook_id = webhook_id
        self._reported = reported
        self._request_poll = request_poll
        self._on_alarm_callback = on_alarm_callback
        self.last_alarm_callback: datetime | None = None  # None: push not seen working yet
        self._announced: dict[str, None] = {}  # alarm IDs of recent callbacks, oldest first
        self.url: str | None = None
        self.cloudhook = False
        self.received = 0  # callbacks received
        self.malformed = 0  # bodies that are no callback envelope
        self.ignored = 0  # callbacks of other event types
        self.duplicates = 0  # alarms already reported (replays, or found by a poll first)
        self.confirmations = 0  # polls asked for by a callback
        self.last_received: datetime | None = None
        self.last_malformed: str | None = None
        self.unknown_keys: set[str] = set()

    async def async_start(self) -> None:
        """Register the webhook and find its URL (a cloudhook when Cloud is logged in)."""
        webhook.async_register(
            self.hass,
            DOMAIN,
            self._name,
            self.webhook_id,
            self._async_handle,
            allowed_methods=["POST"],
        )
        self.url = await self._async_url()

    def stop(self) -> None:
        """Unregister the webhook (callbacks are answered like any unknown webhook then)."""
        webhook.async_unregister(self.hass, self.webhook_id)

    async def _async_url(self) -> str | None:
        if "cloud" in self.hass.config.components:
            from homeassistant.components import cloud  # noqa: PLC0415 - only when loaded

            if cloud.async_active_subscription(self.hass):
                try:
                    url = await cloud.async_get_or_create_cloudhook(self.hass, self.webhook_id)
                except cloud.CloudNotConnected:
                    LOGGER.debug("Home Assistant Cloud is not connected: no cloudhook")
                else:
                    self.cloudhook = True
                    return url
        try:
            return webhook.async_generate_url(self.hass, self.webhook_id)
        except NoURLAvailableError:
            return None

    async def _async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        self.received += 1
        self.last_received = dt_util.utcnow()
        body = await request.content.read(MAX_CALLBACK_BYTES + 1)
        try:
            callback = parse_callback(body)
        except CallbackError as err:
            self._malformed(str(err))
            return web.Response(status=400)
        alarm = callback.alarm
        if alarm is None:
            self.ignored += 1
            return web.Response(status=200)
        self.last_alarm_callback = self.last_received
        self._announced[alarm.alarm_id] = None
        while len(self._announced) > MAX_ANNOUNCED:
            del self._announced[next(iter(self._announced))]
        self._on_alarm_callback()
        if callback.unknown_keys - self.unknown_keys:
            LOGGER.debug("Alarm callback with unknown keys: %s", sorted(callback.unknown_keys))
            self.unknown_keys.update(sorted(callback.unknown_keys)[:MAX_UNKNOWN_KEYS])
        if self._reported(alarm.alarm_id):
            self.duplicates += 1
        else:
            self.confirmations += 1
            self._request_poll()
        return web.Response(status=200)

    def announced(self, alarm_id: str) -> bool:
        """Return whether a callback announced this alarm (recently)."""
        return alarm_id in self._announced

    def _malformed(self, reason: str) -> None:
        self.malformed += 1
        first = self.last_malformed is None
        self.last_malformed = reason
        if first:  # once; the count is in the diagnostics
            LOGGER.warning("Ignored a malformed alarm callback of %s: %s", self._name, reason)
        else:
            LOGGER.debug("Ignored a malformed alarm callback of %s: %s", self._name, reason)

    def diagnostics(self) -> dict[str, Any]:
        """Return the counters (the URL is a capability: never in diagnostics)."""
        return {
            "url_available": self.url is not None,
            "cloudhook": self.cloudhook,
            "received": self.received,
            "malformed": self.malformed,
            "ignored": self.ignored,
            "duplicates": self.duplicates,
            "confirmations": self.confirmations,
            "last_received": None if self.last_received is None else self.last_received.isoformat(),
            "last_alarm_callback": None
            if self.last_alarm_callback is None
            else self.last_alarm_callback.isoformat(),
            "last_malformed": self.last_malformed,
            "unknown_keys": sorted(self.unknown_keys),
        }


async def async_remove_cloudhook(hass: HomeAssistant, webhook_id: str) -> None:
    """Delete the cloudhook of a removed entry (nothing when Cloud is not loaded)."""
    if "cloud" not in hass.config.components:
        return
    from homeassistant.components import cloud  # noqa: PLC0415 - only when loaded

    if cloud.async_active_subscription(hass):
        try:
            await cloud.async_delete_cloudhook(hass, webhook_id)
        except (cloud.CloudNotAvailable, ValueError) as err:
            LOGGER.debug("Could not delete the cloudhook: %s", type(err).__name__)
