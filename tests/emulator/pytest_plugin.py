"""Pytest fixtures that run the emulator on 127.0.0.1 (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .app import Emulator
from .data import EMU_AK, EMU_SK


@pytest.fixture
async def emulator(socket_enabled: None) -> AsyncIterator[Emulator]:
    """Run a fresh emulator (demo account) on 127.0.0.1, an ephemeral port."""
    emu = Emulator()
    await emu.start("127.0.0.1", 0)
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
def emulator_credentials() -> tuple[str, str]:
    """Return the emulator's (AccessKey ID, SecretAccessKey)."""
    return EMU_AK, EMU_SK
