"""PTZ client methods against the emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import (
    DIRECTIONS,
    Preset,
    PtzCommand,
    PtzControl,
    VolcengineClient,
    VolcengineDeviceUnreachableError,
    VolcengineNotFoundError,
    VolcenginePresetNotFoundError,
    VolcenginePtzCommandError,
    VolcenginePtzInputError,
    VolcenginePtzNotSupportedError,
    VolcenginePtzPresetError,
    VolcenginePtzSpeedError,
    VolcengineResponseError,
    VolcengineTimeoutError,
)
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, HOME_NVR_ID, HOME_NVR_STREAM_IDS, SPACE_HOME_ID

DOME = HOME_NVR_STREAM_IDS[0]
FIXED = HOME_NVR_STREAM_IDS[1]


def bodies(emulator: Emulator) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in emulator.requests_for("CloudControl")]


def test_commands_are_the_documented_ones() -> None:
    assert [c.value for c in DIRECTIONS] == [
        "up",
        "down",
        "left",
        "right",
        "leftup",
        "leftdown",
        "rightup",
        "rightdown",
        "stop",
    ]
    assert PtzCommand.ZOOM_IN.max_speed == 15
    assert PtzCommand.LEFT.max_speed == 255
    assert PtzCommand.IRIS_OUT.control is PtzControl.LENS
    assert PtzCommand.ZOOM_OUT.control is PtzControl.PTZ


async def test_move_and_stop(client: VolcengineClient, emulator: Emulator) -> None:
    assert client.ptz_dialect.as_dict() == {"key": None, "preset_id_form": None}
    await client.ptz_control(DOME, PtzCommand.RIGHT_DOWN, 128)
    assert emulator.ptz.channel(DOME).moving == "rightdown"
    await client.ptz_control(DOME, "zoomin", 15)
    await client.ptz_stop(DOME)
    await client.ptz_control(DOME, PtzCommand.FOCUS_FAR, 10)
    await client.ptz_stop(DOME, lens=True)
    assert emulator.ptz.channel(DOME).moving is None
    assert emulator.ptz.channel(DOME).lens is None
    assert bodies(emulator) == [
        {"StreamID": DOME, "Action": "PTZControl", "Cmd": "rightdown", "Para": 128},
        {"StreamID": DOME, "Action": "PTZControl", "Cmd": "zoomin", "Para": 15},
        {"StreamID": DOME, "Action": "PTZControl", "Cmd": "stop", "Para": 0},
        {"StreamID": DOME, "Action": "FiControl", "Cmd": "focusfar", "Para": 10},
        {"StreamID": DOME, "Action": "FiControl", "Cmd": "stop", "Para": 0},
    ]
    assert {r.query["Version"] for r in emulator.requests} == {"2023-10-01"}
    assert client.ptz_dialect.key == "Action"


async def test_the_go_sdk_key_form_is_learned(client: VolcengineClient, emulator: Emulator) -> None:
    """A gateway that knows only ``action``: one refused request, then ``action`` for good."""
    emulator.ptz.key_forms = {"action"}
    await client.ptz_control(DOME, PtzCommand.UP, 5)
    await client.ptz_stop(DOME)
    assert [next(k for k in b if k.lower() == "action") for b in bodies(emulator)] == [
        "Action",
        "action",
        "action",
    ]
    assert client.ptz_dialect.key == "action"
    assert [c.cmd for c in emulator.ptz.commands()] == ["up", "stop"]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.ptz_control(DOME, PtzCommand.LEFT, 256), VolcenginePtzSpeedError),
        (lambda c: c.ptz_control(DOME, PtzCommand.LEFT, -1), VolcenginePtzSpeedError),
        (lambda c: c.ptz_control(DOME, PtzCommand.ZOOM_OUT, 16), VolcenginePtzSpeedError),
        (lambda c: c.ptz_control(DOME, PtzCommand.LEFT, True), VolcenginePtzSpeedError),
        (lambda c: c.ptz_control(DOME, "spin", 1), VolcenginePtzCommandError),
        (lambda c: c.ptz_control("", PtzCommand.UP, 1), VolcenginePtzInputError),
        (lambda c: c.preset_goto(DOME, 0), VolcenginePtzPresetError),
        (lambda c: c.preset_set(DOME, 256), VolcenginePtzPresetError),
        (lambda c: c.preset_remove(DOME, "1"), VolcenginePtzPresetError),
    ],
)
async def test_bad_input_is_refused_before_sending(
    client: VolcengineClient, emulator: Emulator, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        await call(client)
    assert isinstance(caught.value, ValueError)
    assert caught.value.translation_key.startswith("ptz_")  # type: ignore[attr-defined]
    assert emulator.requests == []


async def test_speed_error_placeholders(client: VolcengineClient) -> None:
    with pytest.raises(VolcenginePtzSpeedError) as caught:
        await client.ptz_control(DOME, PtzCommand.ZOOM_IN, 20)
    assert caught.value.translation_key == "ptz_speed_out_of_range"
    assert caught.value.placeholders == {"command": "zoomin", "speed": "20", "max_speed": "15"}


async def test_platform_refusals(client: VolcengineClient, emulator: Emulator) -> None:
    with pytest.raises(VolcenginePtzNotSupportedError):
        await client.ptz_control(FIXED, PtzCommand.UP, 1)
    with pytest.raises(VolcenginePresetNotFoundError) as caught:
        await client.preset_goto(DOME, 9)
    assert isinstance(caught.value, VolcengineNotFoundError)
    emulator.state.set_status(SPACE_HOME_ID, HOME_NVR_ID, "offline")
    with pytest.raises(VolcengineDeviceUnreachableError):
        await client.ptz_control(DOME, PtzCommand.UP, 1)
    # Refused for a reason other than the key: the other key form is not tried.
    assert all("Action" in body for body in bodies(emulator))


async def test_presets(client: VolcengineClient, emulator: Emulator) -> None:
    assert await client.list_presets(DOME) == [Preset(1, "Gate"), Preset(2, "Terrace")]
    assert client.ptz_dialect.preset_id_form == "string"
    await client.preset_set(DOME, 3)
    await client.preset_goto(DOME, 3)
    await client.preset_remove(DOME, 1)
    emulator.ptz.preset_id_form = "number"
    assert await client.list_presets(DOME, camera_wait=5) == [
        Preset(2, "Terrace"),
        Preset(3, "预置位3"),
    ]
    assert client.ptz_dialect.as_dict() == {"key": "Action", "preset_id_form": "number"}
    query = emulator.requests_for("QueryPresetInfo")[-1]
    assert query.query["StreamID"] == DOME
    assert json.loads(query.body) == {"StreamID": DOME, "TimeOut": 5}
    assert [(c.cmd, c.preset) for c in emulator.ptz.commands()] == [
        ("set", 3),
        ("goto", 3),
        ("remove", 1),
    ]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"PresetID": "7", "PresetName": "Door"}, Preset(7, "Door")),
        ({"PresetID": 7, "PresetName": ""}, Preset(7, None)),
        ({"PresetID": 255}, Preset(255, None)),
    ],
)
def test_preset_parsing(item: dict[str, Any], expected: Preset) -> None:
    assert Preset.from_json(item) == expected


@pytest.mark.parametrize("raw", [None, "", "x", 0, 256, True, 1.5])
def test_preset_parsing_refuses(raw: object) -> None:
    with pytest.raises(VolcengineResponseError):
        Preset.from_json({"PresetID": raw})


async def test_a_move_is_not_resent_after_a_timeout(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    """The timed-out move still lands (late): a re-send could arrive after the stop."""
    client = VolcengineClient(
        session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0, timeout=0.2
    )
    emulator.faults.add("CloudControl", delay=0.5, completes=True)
    with pytest.raises(VolcengineTimeoutError):
        await client.ptz_control(DOME, PtzCommand.LEFT, 3)
    assert len(emulator.requests_for("CloudControl")) == 1
    emulator.faults.add("CloudControl", delay=0.5, completes=True)
    await client.ptz_stop(DOME)  # a stop is re-sent: the second one answers in time
    assert len(emulator.requests_for("CloudControl")) == 3
    async with asyncio.timeout(5):  # the late move and the late first stop land too
        while len(emulator.ptz.commands()) < 3:
            await asyncio.sleep(0.02)
    assert sorted(c.cmd for c in emulator.ptz.commands()) == ["left", "stop", "stop"]


async def test_busy_gateway_retries_a_move(client: VolcengineClient, emulator: Emulator) -> None:
    """An answered error carried nothing out: the move is retried like any request."""
    emulator.faults.add("CloudControl", code="ServiceBusy", status=503)
    await client.ptz_control(DOME, PtzCommand.DOWN, 3)
    assert len(emulator.requests_for("CloudControl")) == 2
    assert [c.cmd for c in emulator.ptz.commands()] == ["down"]
