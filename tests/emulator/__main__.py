"""Run the emulator for development: ``python -m tests.emulator --host 127.0.0.1 --port 8686``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .app import Emulator
from .data import EMU_AK, EMU_REGION, EMU_SK, SPACE_BIG_ID, SPACE_HOME_ID, SPACE_SHOP_ID


async def _serve(host: str, port: int) -> None:
    emu = Emulator()
    await emu.start(host, port)
    print(f"Volcengine AIoT emulator listening on {emu.url}")
    print(f"  endpoint: {emu.url}")
    print(f"  region:   {EMU_REGION}")
    print(f"  AK:       {EMU_AK}")
    print(f"  SK:       {EMU_SK}")
    for name, space_id in (("home", SPACE_HOME_ID), ("shop", SPACE_SHOP_ID), ("big", SPACE_BIG_ID)):
        print(f"  space {name:5} {space_id} ({len(emu.state.devices[space_id])} devices)")
    print("Ctrl-C to stop.", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8686)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
