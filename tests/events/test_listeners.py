"""Per-channel alarm listeners: routing, the single-channel fallback, unsubscribing."""

from __future__ import annotations

from custom_components.volcengine_aiot.api import Alarm
from custom_components.volcengine_aiot.events import AlarmListeners

NVR = "34020000001180000001"
IPC = "34020000001320000001"


def alarm(nsid: str, channel: str | None) -> Alarm:
    raw = {"DeviceNSID": nsid, "AlarmMethod": 5, "AlarmTime": 1_760_000_000}
    if channel is not None:
        raw["ChannelID"] = channel
    return Alarm.from_json(raw)


def test_routes_to_the_channel_and_counts() -> None:
    listeners = AlarmListeners()
    got: dict[str, list[Alarm]] = {"a": [], "b": [], "ipc": []}
    listeners.subscribe(NVR, "ch-a", got["a"].append)
    listeners.subscribe(NVR, "ch-b", got["b"].append)
    listeners.subscribe(IPC, "ch-ipc", got["ipc"].append)
    assert listeners.dispatch(alarm(NVR, "ch-b"))
    assert not listeners.dispatch(alarm(NVR, NVR))  # which of two channels: none
    assert not listeners.dispatch(alarm("34020000001320000999", "x"))  # unknown device
    assert listeners.dispatch(alarm(IPC, IPC))  # the device's one channel
    assert listeners.dispatch(alarm(IPC, None))
    assert [len(got[key]) for key in ("a", "b", "ipc")] == [0, 1, 2]
    assert (listeners.dispatched, listeners.unrouted) == (3, 2)


def test_every_listener_of_a_channel_and_unsubscribe() -> None:
    listeners = AlarmListeners()
    first: list[Alarm] = []
    second: list[Alarm] = []
    unsub_first = listeners.subscribe(IPC, "ch", first.append)
    unsub_second = listeners.subscribe(IPC, "ch", second.append)
    listeners.dispatch(alarm(IPC, "ch"))
    unsub_first()
    unsub_first()  # twice is harmless
    listeners.dispatch(alarm(IPC, "ch"))
    unsub_second()
    assert not listeners.dispatch(alarm(IPC, "ch"))
    assert (len(first), len(second)) == (1, 2)
    assert not listeners._listeners  # nothing kept for a device without listeners
