"""The card's PTZ over Home Assistant's websocket: ``volcengine_aiot/ptz/hold`` and ``/presets``.

Against the emulator over real HTTP: a held arrow moves the camera until the client lets go
(unsubscribe, closed connection, the time limit) and always ends in a stop in the emulator's
command log; what is refused is refused before anything is sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.volcengine_aiot.ptz import channel as ptz_channel
from tests.emulator.app import Emulator
from tests.emulator.data import HOME_NVR_STREAM_IDS

GARDEN = "camera.recorder_garden"  # PTZType 1 (dome), presets 1 "Gate" and 2 "Terrace"
BACK_YARD = "camera.recorder_back_yard"  # PTZType 3 (fixed)
DOME = HOME_NVR_STREAM_IDS[0]

pytestmark = pytest.mark.usefixtures("init_integration")


class Holder:
    """A dashboard client holding one arrow of the card."""

    def __init__(self, client: MockHAClientWebSocket) -> None:
        self.client = client
        self.sub_id = 0

    async def press(self, command: str, entity_id: str = GARDEN, **extra: Any) -> dict[str, Any]:
        await self.client.send_json_auto_id(
            {"type": "volcengine_aiot/ptz/hold", "entity_id": entity_id, "command": command} | extra
        )
        result: dict[str, Any] = await self.client.receive_json()
        self.sub_id = result["id"]
        return result

    async def event(self) -> dict[str, Any]:
        msg = await self.client.receive_json(timeout=10)
        assert msg["type"] == "event", msg
        assert msg["id"] == self.sub_id
        event: dict[str, Any] = msg["event"]
        return event

    async def release(self) -> None:
        await self.client.send_json_auto_id(
            {"type": "unsubscribe_events", "subscription": self.sub_id}
        )
        result = await self.client.receive_json()
        assert result["success"], result


def moves(emulator: Emulator) -> list[tuple[str | None, Any]]:
    """Return the carried-out CloudControl commands of the Garden dome: (Cmd, Para)."""
    return [(c.cmd, c.para) for c in emulator.ptz.commands(DOME)]


async def wait_stopped(hass: HomeAssistant, emulator: Emulator, count: int) -> None:
    """Wait until ``count`` commands were logged and the last one is a stop."""
    async with asyncio.timeout(10):
        while len(moves(emulator)) < count or moves(emulator)[-1][0] != "stop":
            await asyncio.sleep(0.01)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert emulator.ptz.channel(DOME).moving is None


async def test_hold_moves_until_released(
    hass: HomeAssistant, emulator: Emulator, hass_ws_client: WebSocketGenerator
) -> None:
    """Held: the move is sent, ``moving`` follows; released: the stop is sent."""
    holder = Holder(await hass_ws_client(hass))
    result = await holder.press("leftup")
    assert result["success"], result
    assert await holder.event() == {"event": "moving"}
    assert moves(emulator) == [("leftup", 128)]  # the middle of 0-255
    assert emulator.ptz.channel(DOME).moving == "leftup"
    await asyncio.sleep(0.2)
    assert moves(emulator) == [("leftup", 128)]  # still moving: no stop while held
    await holder.release()
    await wait_stopped(hass, emulator, 2)
    assert moves(emulator) == [("leftup", 128), ("stop", 0)]


async def test_hold_zoom_with_a_speed(
    hass: HomeAssistant, emulator: Emulator, hass_ws_client: WebSocketGenerator
) -> None:
    holder = Holder(await hass_ws_client(hass))
    assert (await holder.press("zoomin"))["success"]
    assert await holder.event() == {"event": "moving"}
    await holder.release()
    assert (await holder.press("zoomout", speed=3))["success"]
    assert await holder.event() == {"event": "moving"}
    await holder.release()
    await wait_stopped(hass, emulator, 4)
    assert moves(emulator) == [("zoomin", 8), ("stop", 0), ("zoomout", 3), ("stop", 0)]


async def test_closed_connection_stops_the_camera(
    hass: HomeAssistant, emulator: Emulator, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    holder = Holder(client)
    assert (await holder.press("right"))["success"]
    assert await holder.event() == {"event": "moving"}
    await client.close()
    await wait_stopped(hass, emulator, 2)
    assert moves(emulator) == [("right", 128), ("stop", 0)]


async def test_time_limit_stops_the_camera(
    hass: HomeAssistant,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hold nobody releases ends at MAX_DURATION (here 0.3 s) with a stop and ``stopped``."""
    monkeypatch.setattr(ptz_channel, "MAX_DURATION", 0.3)
    holder = Holder(await hass_ws_client(hass))
    assert (await holder.press("down"))["success"]
    assert await holder.event() == {"event": "moving"}
    assert await holder.event() == {"event": "stopped"}
    await wait_stopped(hass, emulator, 2)
    assert moves(emulator) == [("down", 128), ("stop", 0)]
    await holder.release()  # the card's unsubscribe after the end is answered quietly


async def test_two_clients_holding_end_stopped(
    hass: HomeAssistant, emulator: Emulator, hass_ws_client: WebSocketGenerator
) -> None:
    """The second hold waits for the first one's stop, then moves; both end in a stop."""
    first = Holder(await hass_ws_client(hass))
    second = Holder(await hass_ws_client(hass))
    assert (await first.press("left"))["success"]
    assert await first.event() == {"event": "moving"}
    assert (await second.press("right"))["success"]
    await asyncio.sleep(0.1)
    assert moves(emulator) == [("left", 128)]  # the second waits for its turn
    await first.release()
    assert await second.event() == {"event": "moving"}
    assert moves(emulator) == [("left", 128), ("stop", 0), ("right", 128)]
    await second.release()
    await wait_stopped(hass, emulator, 4)


async def test_released_while_waiting_sends_nothing(
    hass: HomeAssistant, emulator: Emulator, hass_ws_client: WebSocketGenerator
) -> None:
    first = Holder(await hass_ws_client(hass))
    second = Holder(await hass_ws_client(hass))
    assert (await first.press("up"))["success"]
    assert await first.event() == {"event": "moving"}
    assert (await second.press("down"))["success"]
    await second.release()
    await first.release()
    await wait_stopped(hass, emulator, 2)
    assert moves(emulator) == [("up", 128), ("stop", 0)]


@pytest.mark.parametrize(
    ("entity_id", "command", "extra", "key"),
    [
        (BACK_YARD, "up", {}, "ptz_not_supported"),
        ("camera.nope", "up", {}, "not_a_ptz_camera"),
        ("media_player.recorder_speaker", "up", {}, "not_a_ptz_camera"),
        (GARDEN, "zoomin", {"speed": 16}, "ptz_speed_out_of_range"),
    ],
)
async def test_refused_hold_sends_nothing(
    hass: HomeAssistant,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
    entity_id: str,
    command: str,
    extra: dict[str, Any],
    key: str,
) -> None:
    """A fixed camera, another entity or a bad speed: a translated error, nothing sent."""
    result = await Holder(await hass_ws_client(hass)).press(command, entity_id, **extra)
    assert not result["success"]
    assert result["error"]["translation_key"] == key
    assert "{" not in result["error"]["message"]  # the placeholders were filled in
    await hass.async_block_till_done(wait_background_tasks=True)
    assert emulator.requests_for("CloudControl") == []


async def test_bad_command_is_refused(
    hass: HomeAssistant, emulator: Emulator, hass_ws_client: WebSocketGenerator
) -> None:
    result = await Holder(await hass_ws_client(hass)).press("stop")
    assert not result["success"]
    assert result["error"]["code"] == "invalid_format"
    assert emulator.requests_for("CloudControl") == []


async def test_hold_needs_control_permission(
    hass: HomeAssistant,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    client = await hass_ws_client(hass, access_token=hass_read_only_access_token)
    result = await Holder(client).press("up")
    assert not result["success"]
    assert result["error"]["code"] == "unauthorized"
    assert emulator.requests_for("CloudControl") == []


async def test_offline_camera_ends_in_an_error_event(
    hass: HomeAssistant,
    emulator: Emulator,
    hass_ws_client: WebSocketGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """The gateway refuses the move (the camera went offline): a translated error event."""
    devices = [
        d
        for space in emulator.state.devices.values()
        for d in space.values()
        if d.get("DeviceName") == "Recorder"
    ]
    assert devices
    for device in devices:
        device["Status"] = "offline"
    holder = Holder(await hass_ws_client(hass))
    assert (await holder.press("up"))["success"]
    event = await holder.event()
    assert event["event"] == "error"
    assert event["code"] == "ptz_offline"
    assert "Recorder" in event["message"]
    await hass.async_block_till_done(wait_background_tasks=True)
    assert emulator.ptz.commands(DOME) == []
    await holder.release()


async def test_presets(
    hass: HomeAssistant, emulator: Emulator, hass_ws_client: WebSocketGenerator
) -> None:
    client = await hass_ws_client(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    queries = len(emulator.requests_for("QueryPresetInfo"))  # the preset select's own read
    await client.send_json_auto_id({"type": "volcengine_aiot/ptz/presets", "entity_id": GARDEN})
    result = await client.receive_json()
    assert result["success"], result
    assert result["result"] == {
        "can_move": True,
        "presets": [{"id": 1, "name": "Gate"}, {"id": 2, "name": "Terrace"}],
    }
    assert len(emulator.requests_for("QueryPresetInfo")) == queries + 1  # read again for the card
    await client.send_json_auto_id({"type": "volcengine_aiot/ptz/presets", "entity_id": BACK_YARD})
    result = await client.receive_json()
    assert result["result"] == {"can_move": False, "presets": []}
    assert len(emulator.requests_for("QueryPresetInfo")) == queries + 1  # a fixed one: not asked
    await client.send_json_auto_id({"type": "volcengine_aiot/ptz/presets", "entity_id": "camera.x"})
    result = await client.receive_json()
    assert not result["success"]
    assert result["error"]["translation_key"] == "not_a_ptz_camera"
