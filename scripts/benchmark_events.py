"""Benchmark of the alarm path against the emulator (``scripts/benchmark-events``).

The HA-free parts the integration runs (``AlarmPoller``, ``parse_callback``, ``AlarmListeners``)
with the real API client over HTTP; the emulator runs in this process (its CPU shares the core).
It prints:

* poll: the time of one ``ListAlarmNotify`` poll of a space (p50/max), for the 4-device home
  space and the 5,000-device space, with 0, 50 and 250 alarms in the look-back window (pages of
  100), and the API calls per hour per space at the default 10 s interval. With polling, an alarm
  waits for the next tick (uniformly 0 to 10 s) plus one poll: p50 about 5 s + poll, max 10 s +
  poll (the tick wait is arithmetic, not timed here).
* push: alarm injected -> the emulator POSTs the documented callback -> parsed -> a confirming
  poll -> dispatched to the channel's listener (p50/max). The integration's webhook adds Home
  Assistant's HTTP routing to this.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import statistics
import sys
import time

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.volcengine_aiot.api import Alarm, VolcengineClient
from custom_components.volcengine_aiot.api.client import ALARM_PAGE_SIZE
from custom_components.volcengine_aiot.events import (
    AlarmListeners,
    AlarmPoller,
    CallbackError,
    parse_callback,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_NSID,
    SPACE_BIG_ID,
    SPACE_HOME_ID,
    big_device_nsid,
)

INTERVAL = 10  # the default poll interval (s)
POLLS = 30
PUSHES = 30


def fmt(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms"


async def poll_times(
    client: VolcengineClient, emulator: Emulator, space: str, nsid: str, alarms: int
) -> tuple[list[float], int]:
    emulator.events.alarms.clear()
    for _ in range(alarms):
        await emulator.events.inject(space, nsid, nsid, deliver=False)
    poller = AlarmPoller(client, space)
    before = len(emulator.requests_for("ListAlarmNotify"))
    times = []
    for _ in range(POLLS):
        started = time.perf_counter()
        await poller.poll()
        times.append(time.perf_counter() - started)
    calls = (len(emulator.requests_for("ListAlarmNotify")) - before) // POLLS
    return times, calls


async def push_times(client: VolcengineClient, emulator: Emulator) -> list[float]:
    emulator.events.alarms.clear()
    poller = AlarmPoller(client, SPACE_HOME_ID)
    listeners = AlarmListeners()
    arrived: dict[str, float] = {}

    def listener(alarm: Alarm) -> None:
        arrived[alarm.alarm_id] = time.perf_counter()

    listeners.subscribe(HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, listener)

    async def handle(request: web.Request) -> web.Response:
        try:
            callback = parse_callback(await request.read())
        except CallbackError:
            return web.Response(status=400)
        if callback.alarm is not None and not poller.reported(callback.alarm.alarm_id):
            for alarm in await poller.poll():  # the confirmation
                listeners.dispatch(alarm)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
    emulator.events.set_callback(SPACE_HOME_ID, f"http://127.0.0.1:{port}/hook")
    times = []
    try:
        for _ in range(PUSHES):
            started = time.perf_counter()
            raw = await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
            times.append(arrived[raw["AlarmNotifyID"]] - started)
    finally:
        emulator.events.set_callback(SPACE_HOME_ID, "")
        await runner.cleanup()
    return times


async def main() -> None:
    emulator = Emulator()
    await emulator.start()
    try:
        async with aiohttp.ClientSession() as http:
            client = VolcengineClient(http, EMU_AK, EMU_SK, endpoint=emulator.url)
            print(f"poll (one ListAlarmNotify poll of a space, {POLLS} polls each)")
            for name, space, nsid in (
                ("home, 4 devices", SPACE_HOME_ID, HOME_IPC_NSID),
                ("big, 5,000 devices", SPACE_BIG_ID, big_device_nsid(0)),
            ):
                for alarms in (0, 50, 250):
                    times, calls = await poll_times(client, emulator, space, nsid, alarms)
                    per_hour = 3600 // INTERVAL * calls
                    print(
                        f"  {name:20} {alarms:3} alarms in the window: {fmt(times)}"
                        f"  {calls} call(s)/poll, {per_hour} calls/hour at {INTERVAL} s"
                    )
            print(f"  (pages of {ALARM_PAGE_SIZE}; the number of devices does not add calls)")
            print(
                f"polling latency: tick wait 0-{INTERVAL} s (p50 {INTERVAL / 2:.0f} s) + one poll"
            )
            print(f"push (alarm injected -> callback -> confirming poll -> listener, {PUSHES}x)")
            print(f"  {fmt(await push_times(client, emulator))}")
    finally:
        await emulator.events.close()
        await emulator.stop()


if __name__ == "__main__":
    asyncio.run(main())
