"""Per-channel listeners of alarms: entities subscribe, the runtime dispatches.

HA-free: the registry holds callables, never entities, so the runtime that owns it does not
know the entities that listen.
"""

from __future__ import annotations

from collections.abc import Callable

from ..api.models import Alarm

type AlarmListener = Callable[[Alarm], None]


class AlarmListeners:
    """Routes each alarm to the listeners of its device (GB ID) and channel."""

    def __init__(self) -> None:
        """Initialize an empty registry."""
        # device GB ID -> channel ID -> listeners
        self._listeners: dict[str, dict[str, list[AlarmListener]]] = {}
        self.dispatched = 0  # alarms handed to at least one listener
        self.unrouted = 0  # alarms of no subscribed device or channel

    def subscribe(
        self, device_nsid: str, channel_id: str, listener: AlarmListener
    ) -> Callable[[], None]:
        """Listen to the alarms of one channel; return the function that unsubscribes."""
        channels = self._listeners.setdefault(device_nsid, {})
        channels.setdefault(channel_id, []).append(listener)

        def unsubscribe() -> None:
            listeners = channels.get(channel_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                channels.pop(channel_id, None)
            if not channels and self._listeners.get(device_nsid) is channels:
                del self._listeners[device_nsid]

        return unsubscribe

    def listeners_of(self, alarm: Alarm) -> list[AlarmListener]:
        """Return the listeners of an alarm's channel.

        An alarm whose ``ChannelID`` is no subscribed channel (missing, or the device's own GB
        ID, as single-channel cameras may send) goes to the device's channel when it has only one.
        """
        channels = self._listeners.get(alarm.device_nsid, {})
        if alarm.channel_id is not None and alarm.channel_id in channels:
            return list(channels[alarm.channel_id])
        if len(channels) == 1:
            return list(next(iter(channels.values())))
        return []

    def dispatch(self, alarm: Alarm) -> bool:
        """Hand an alarm to its channel's listeners; return whether any received it."""
        listeners = self.listeners_of(alarm)
        if not listeners:
            self.unrouted += 1
            return False
        self.dispatched += 1
        for listener in listeners:
            listener(alarm)
        return True
