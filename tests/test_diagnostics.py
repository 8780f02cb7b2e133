"""Diagnostics are complete and redacted (snapshot)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
import json

from homeassistant.components.camera import async_get_stream_source
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.volcengine_aiot.media import CHIME_PATH
from custom_components.volcengine_aiot.talk import AudioSource
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_IPC_PASSWORD,
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
)

GARDEN_KEY = f"{HOME_NVR_ID}_{HOME_NVR_CHANNEL_IDS[0]}_camera"


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)  # the first alarm poll
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    text = json.dumps(diagnostics)
    for secret in (EMU_SK, EMU_AK, HOME_IPC_PASSWORD, "token="):
        assert secret not in text
    # the alarm cursor starts at the time of the setup (checked in tests/test_events.py)
    assert diagnostics["alarms"]["cursor_time"] is not None
    assert diagnostics["alarms"]["last_success"] is not None
    assert diagnostics == snapshot(exclude=props("endpoint", "cursor_time", "last_success"))


async def test_diagnostics_keep_what_the_talk_server_said(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    emulator: Emulator,
) -> None:
    emulator.talk.say_next(HOME_IPC_NSID, frames=3, messages=["hello from the cloud"])
    speaker = init_integration.runtime_data.speakers[HOME_IPC_ID]
    await speaker.play([AudioSource(location=str(CHIME_PATH))])
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    ((_, token),) = emulator.talk.issued
    assert token not in json.dumps(diagnostics)
    (talk,) = diagnostics["speakers"][HOME_IPC_ID]["talks"]
    assert talk["framing"] == "flv"
    assert talk["closed_by"] == "client"
    assert talk["server_messages"] == [
        {
            "type": "TEXT",
            "size": 20,
            "at": talk["server_messages"][0]["at"],
            "text": "hello from the cloud",
        }
    ]


async def test_diagnostics_redact_pull_urls(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, init_integration: MockConfigEntry
) -> None:
    url = await async_get_stream_source(hass, "camera.front_door")
    assert url is not None
    assert "volcSecret=" in url
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    text = json.dumps(diagnostics)
    assert "volcSecret" not in text
    assert "volcTime" not in text
    assert "pull.emulator.invalid" not in text  # the device list's pull URLs too
    (camera,) = (c for c in diagnostics["cameras"].values() if c["started"])
    assert camera["url"] == url.partition("?")[0]
    assert camera["starts"] == 1


async def test_diagnostics_show_a_talk_left_open_and_its_later_stops(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    emulator: Emulator,
) -> None:
    speaker = init_integration.runtime_data.speakers[HOME_IPC_ID]
    speaker.options = replace(speaker.options, stale_stop_delays=(0.2,))
    emulator.talk.issue(HOME_IPC_NSID)  # a talk of ours the platform opened after our timeout
    speaker.talk_left_open()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics["speakers"][HOME_IPC_ID]["talk_left_open"] is True
    async with asyncio.timeout(10):
        while speaker.stale:
            await asyncio.sleep(0.01)
    assert not emulator.talk.active(HOME_IPC_NSID)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    shown = diagnostics["speakers"][HOME_IPC_ID]
    assert shown["talk_left_open"] is False
    (stop,) = shown["stale_stops"]
    assert stop["result"] == "stopped"
    assert stop["after"] >= 0.2


async def test_diagnostics_show_the_learned_ptz_dialect(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: Emulator,
    init_integration: MockConfigEntry,
) -> None:
    """A gateway that takes only the Go SDK's forms: ``action`` and numeric PresetIDs."""
    await hass.async_block_till_done(wait_background_tasks=True)
    emulator.ptz.key_forms = {"action"}
    emulator.ptz.preset_id_form = "number"
    runtime = init_integration.runtime_data
    runtime.client.ptz_dialect.preset_id_form = None
    garden = runtime.ptz_channels[GARDEN_KEY]
    await garden.refresh_presets()
    await garden.move("left", 10, 0.01)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics["ptz"]["dialect"] == {"key": "action", "preset_id_form": "number"}
    channel = diagnostics["ptz"]["channels"][GARDEN_KEY]
    assert channel == {
        "stream_id": HOME_NVR_STREAM_IDS[0],
        "ptz_type": 1,
        "can_move": True,
        "preset_count": 2,
        "moving": False,
    }
