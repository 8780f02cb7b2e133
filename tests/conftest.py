"""Shared fixtures for the Volcengine AIoT Video tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from homeassistant.components import tts
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.amber import AmberSnapshotExtension

from custom_components.volcengine_aiot.api import VolcengineClient, client as api_client
from custom_components.volcengine_aiot.const import (
    CONF_ACCESS_KEY_ID,
    CONF_ENDPOINT,
    CONF_REGION,
    CONF_SECRET_ACCESS_KEY,
    CONF_SPACE_ID,
    DOMAIN,
)
from custom_components.volcengine_aiot.talk import Transcoder
from tests.audio import describe_processes, ffmpeg_children
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_HOME_ID

pytest_plugins = [
    "pytest_homeassistant_custom_component",
    "tests.emulator.pytest_plugin",
]


@pytest.fixture(autouse=True)
async def auto_enable_custom_integrations(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Let Home Assistant load custom_components/ in every test.

    The core integration is set up as in every real instance: Assist (our satellites load
    its pipeline and conversation agent) relies on it.
    """
    assert await async_setup_component(hass, "homeassistant", {})


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry throttled/busy answers without the backoff delay (the count is still tested)."""
    monkeypatch.setattr(api_client, "_BACKOFF_BASE", 0.0)


@pytest.fixture(autouse=True)
def own_tts_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every test its own TTS file cache.

    Home Assistant keeps TTS results in the config folder, which the harness shares between
    tests and runs: a message synthesised by another test (or an earlier run) would be read
    from there, complete at once, instead of being synthesised by the test's own engine.
    """

    def cache_dir(hass: HomeAssistant, cache_dir: str) -> str:
        path = tmp_path / "tts"
        path.mkdir(exist_ok=True)
        return str(path)

    monkeypatch.setattr(tts, "_init_tts_cache_dir", cache_dir)


@pytest.fixture
def no_leftover_ffmpeg() -> Iterator[None]:
    """Fail the test if an ffmpeg child of this process outlives it (use it per module)."""
    yield
    left = ffmpeg_children()
    assert left == [], describe_processes(left)


@pytest.fixture
def entry_data(emulator: Emulator) -> dict[str, Any]:
    """Return config entry data pointing at the emulator."""
    return {
        CONF_ACCESS_KEY_ID: EMU_AK,
        CONF_SECRET_ACCESS_KEY: EMU_SK,
        CONF_REGION: "cn-north-1",
        CONF_ENDPOINT: emulator.url,
        CONF_SPACE_ID: SPACE_HOME_ID,
    }


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """Return an HTTP session for the library tests (HA's own is for the integration tests)."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(session: aiohttp.ClientSession, emulator: Emulator) -> VolcengineClient:
    """Return the OpenAPI client of the emulator's account (no retry back-off)."""
    return VolcengineClient(session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0)


@pytest.fixture
def mock_config_entry(entry_data: dict[str, Any]) -> MockConfigEntry:
    """Return the config entry of the emulator's home space."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="home",
        unique_id=SPACE_HOME_ID,
        data=entry_data,
        entry_id="01JVOLCENGINEHOMEENTRY0000",
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """Set up the integration against the emulator."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    yield mock_config_entry
    if mock_config_entry.state.recoverable:
        await hass.config_entries.async_unload(mock_config_entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every transcode started (its source's label, else its location).

    Not counted: the short ffmpeg runs that measure a file or a TTS result for the progress bar.
    """
    started: list[str] = []
    start = Transcoder.start

    async def counting_start(self: Transcoder) -> None:
        started.append(self._source.label or str(self._source.location))
        await start(self)

    monkeypatch.setattr(Transcoder, "start", counting_start)
    return started


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in tests/__snapshots__, the same files on every supported harness.

    Which ``snapshot`` fixture wins, syrupy's or the harness's (with its own directory), depends
    on the plugin order of the harness release; this one is explicit.
    """
    return snapshot.use_extension(AmberSnapshotExtension)


@pytest.fixture(autouse=True)
def no_deprecated_call(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test in which Home Assistant reports a deprecated call of the integration.

    Home Assistant logs them as "Detected that custom integration '<domain>' ...": calls whose
    form depends on the release go through custom_components/volcengine_aiot/compat.py.
    """
    yield
    reported = [
        record.getMessage()
        for when in ("setup", "call")
        for record in caplog.get_records(when)
        if f"custom integration '{DOMAIN}'" in record.getMessage()
    ]
    assert not reported, reported


@pytest.fixture
async def http_media(socket_enabled: None, media_dir: Path) -> AsyncIterator[str]:
    """A plain HTTP server on 127.0.0.1 serving the test module's ``media_dir``."""
    app = web.Application()
    app.router.add_static("/", media_dir)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()
