"""Run the emulator for development: ``python -m tests.emulator --host 127.0.0.1 --port 8686``.

``--alarm-every SECONDS`` injects a motion alarm on the home IPC at that interval;
``--callback URL`` (loopback only) makes the home space call that URL back for each alarm.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .app import Emulator
from .data import (
    EMU_AK,
    EMU_REGION,
    EMU_SK,
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_NSID,
    SPACE_BIG_ID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
)


async def _alarms(emu: Emulator, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        raw = await emu.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
        print(f"  alarm {raw['AlarmNotifyID']} (motion) on {HOME_IPC_NSID}", flush=True)


async def _serve(host: str, port: int, alarm_every: float, callback: str) -> None:
    emu = Emulator()
    if callback:
        emu.events.set_callback(SPACE_HOME_ID, callback)
    await emu.start(host, port)
    print(f"Volcengine AIoT emulator listening on {emu.url}")
    print(f"  endpoint: {emu.url}")
    print(f"  region:   {EMU_REGION}")
    print(f"  AK:       {EMU_AK}")
    print(f"  SK:       {EMU_SK}")
    for name, space_id in (("home", SPACE_HOME_ID), ("shop", SPACE_SHOP_ID), ("big", SPACE_BIG_ID)):
        print(f"  space {name:5} {space_id} ({len(emu.state.devices[space_id])} devices)")
    print("Ctrl-C to stop.", flush=True)
    alarms = asyncio.create_task(_alarms(emu, alarm_every)) if alarm_every > 0 else None
    try:
        await asyncio.Event().wait()
    finally:
        if alarms is not None:
            alarms.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await alarms
        await emu.stop()


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8686)
    parser.add_argument("--alarm-every", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--callback", default="", metavar="URL")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.alarm_every, args.callback))


if __name__ == "__main__":
    main()
