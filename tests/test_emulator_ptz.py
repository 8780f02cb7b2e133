"""Emulator PTZ: CloudControl and QueryPresetInfo (2023-10-01) answer and refuse as documented."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_STREAM_ID,
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_STREAM_ID,
    SPACE_HOME_ID,
)
from tests.test_emulator import call, error_of

DOME = HOME_NVR_STREAM_IDS[0]  # PTZType 1, presets 1 "Gate" and 2 "Terrace"
FIXED = HOME_NVR_STREAM_IDS[1]  # PTZType 3


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def control(
    session: aiohttp.ClientSession, emulator: Emulator, body: Any, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    return await call(
        session,
        emulator,
        "CloudControl",
        method="POST",
        body=body,
        version="2023-10-01",
        **kwargs,
    )


def move(cmd: str, para: Any = 2, *, key: str = "Action", stream: str = DOME) -> dict[str, Any]:
    return {"StreamID": stream, key: "PTZControl", "Cmd": cmd, "Para": para}


async def test_move_then_stop_is_logged_and_tracked(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    status, data = await control(session, emulator, move("leftup", 200))
    assert status == 200, data
    assert "Error" not in data["ResponseMetadata"]
    assert emulator.ptz.channel(DOME).moving == "leftup"
    assert emulator.ptz.channel(DOME).speed == 200
    status, _ = await control(session, emulator, move("stop", 0, key="action"))
    assert status == 200
    assert emulator.ptz.channel(DOME).moving is None
    log = emulator.ptz.commands(DOME)
    assert [(c.cmd, c.speed, c.key) for c in log] == [
        ("leftup", 200, "Action"),
        ("stop", 0, "action"),
    ]
    assert log[0].channel_id == "34020000001310000011"
    assert log[0].at <= log[1].at


async def test_zoom_focus_iris(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    assert (await control(session, emulator, move("zoomin", 15)))[0] == 200
    assert emulator.ptz.channel(DOME).moving == "zoomin"
    for cmd in ("focusnear", "focusfar", "irisin", "irisout", "stop"):
        body = {"StreamID": DOME, "Action": "FiControl", "Cmd": cmd, "Para": 255}
        assert (await control(session, emulator, body))[0] == 200
    assert emulator.ptz.channel(DOME).lens is None
    assert [c.cmd for c in emulator.ptz.commands()] == [
        "zoomin",
        "focusnear",
        "focusfar",
        "irisin",
        "irisout",
        "stop",
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (move("left", 256), "InvalidParameter"),
        (move("left", -1), "InvalidParameter"),
        (move("zoomout", 16), "InvalidParameter"),
        (move("left", "2"), "InvalidParameter"),  # Para is an integer (SDKs: int, uint8)
        (move("left", True), "InvalidParameter"),
        (move("spin"), "InvalidParameter"),
        (move("focusfar"), "InvalidParameter"),  # a FiControl Cmd under PTZControl
        ({"StreamID": DOME, "Action": "Zoom", "Cmd": "zoomin", "Para": 1}, "InvalidParameter"),
        (
            {"StreamID": DOME, "Action": "FiControl", "Cmd": "irisin", "Para": 256},
            "InvalidParameter",
        ),
        (
            {"StreamID": DOME, "Action": "PresetControl", "Cmd": "set", "Para": 0},
            "InvalidParameter",
        ),
        (
            {"StreamID": DOME, "Action": "PresetControl", "Cmd": "set", "Para": 256},
            "InvalidParameter",
        ),
        (
            {"StreamID": DOME, "Action": "PresetControl", "Cmd": "set", "Para": "3"},
            "InvalidParameter",
        ),
        ({"StreamID": DOME, "Action": "PTZControl", "Cmd": "left"}, "MissingParameter"),
        ({"StreamID": DOME, "Action": "PTZControl", "Para": 1}, "MissingParameter"),
        ({"StreamID": DOME, "Cmd": "left", "Para": 1}, "MissingParameter"),
        ({"Action": "PTZControl", "Cmd": "left", "Para": 1}, "MissingParameter"),
        (move("left", stream="no-such-stream"), "InvalidParameter.StreamNotExist"),
        (move("left", stream=FIXED), "InvalidParameter.PTZNotSupported"),
        (move("left", stream=HOME_IPC_STREAM_ID), "InvalidParameter.PTZNotSupported"),
    ],
)
async def test_refused_commands_change_nothing(
    session: aiohttp.ClientSession, emulator: Emulator, body: dict[str, Any], code: str
) -> None:
    status, data = await control(session, emulator, body)
    assert status in (400, 404), data
    assert error_of(data)["Code"] == code
    assert emulator.ptz.commands() == []
    assert [c.error for c in emulator.ptz.log] == [code]
    assert emulator.ptz.channel(DOME).moving is None


async def test_cloud_control_parameters_only_in_the_body(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    body = {"Action": "PTZControl", "Cmd": "left", "Para": 1}
    status, data = await control(session, emulator, body, params={"StreamID": DOME})
    assert status == 400
    assert error_of(data)["Code"] == "MissingParameter"
    assert emulator.ptz.commands() == []


async def test_offline_device_is_refused(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    emulator.state.set_status(SPACE_HOME_ID, HOME_NVR_ID, "offline")
    status, data = await control(session, emulator, move("up"))
    assert status == 400
    assert error_of(data)["Code"] == "InvalidParameter.DeviceNotOnline"
    status, data = await call(
        session,
        emulator,
        "QueryPresetInfo",
        {"StreamID": DOME},
        method="POST",
        version="2023-10-01",
    )
    assert error_of(data)["Code"] == "InvalidParameter.DeviceNotOnline"


async def test_channel_without_ptz_type_is_forwarded(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    """The shop's Counter reports no PTZType: the platform forwards the command."""
    assert (await control(session, emulator, move("right", stream=SHOP_IPC_STREAM_ID)))[0] == 200
    assert emulator.ptz.channel(SHOP_IPC_STREAM_ID).moving == "right"


async def test_key_forms_can_be_narrowed(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    emulator.ptz.key_forms = {"action"}  # a gateway that speaks the Go SDK's form only
    status, data = await control(session, emulator, move("up"))
    assert status == 400
    assert error_of(data) == {
        "CodeN": 100002,
        "Code": "MissingParameter",
        "Message": "The parameter action is required.",
    }
    assert (await control(session, emulator, move("up", key="action")))[0] == 200


async def test_presets_set_goto_remove_and_query(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    async def preset(cmd: str, number: int) -> tuple[int, dict[str, Any]]:
        body = {"StreamID": DOME, "Action": "PresetControl", "Cmd": cmd, "Para": number}
        return await control(session, emulator, body)

    async def query(**kwargs: Any) -> dict[str, Any]:
        status, data = await call(
            session, emulator, "QueryPresetInfo", method="POST", version="2023-10-01", **kwargs
        )
        assert status == 200, data
        result: dict[str, Any] = data["Result"]
        return result

    # The doc's form: StreamID in the query, no body; PresetID a string.
    assert await query(params={"StreamID": DOME}) == {
        "Num": 2,
        "Items": [
            {"PresetID": "1", "PresetName": "Gate"},
            {"PresetID": "2", "PresetName": "Terrace"},
        ],
    }
    assert (await preset("set", 7))[0] == 200
    assert (await preset("goto", 7))[0] == 200
    assert (await preset("remove", 1))[0] == 200
    status, data = await preset("goto", 1)
    assert status == 404
    assert error_of(data)["Code"] == "InvalidParameter.PresetNotExist"
    assert (await preset("remove", 9))[0] == 404
    # The Go SDK's form: a JSON body with StreamID and TimeOut; PresetID a number.
    emulator.ptz.preset_id_form = "number"
    assert await query(body={"StreamID": DOME, "TimeOut": 5}) == {
        "Num": 2,
        "Items": [
            {"PresetID": 2, "PresetName": "Terrace"},
            {"PresetID": 7, "PresetName": "预置位7"},
        ],
    }
    assert [(c.cmd, c.preset) for c in emulator.ptz.commands()] == [
        ("set", 7),
        ("goto", 7),
        ("remove", 1),
    ]


async def test_query_refusals(session: aiohttp.ClientSession, emulator: Emulator) -> None:
    for kwargs, code in (
        ({}, "MissingParameter"),
        ({"body": {"StreamID": DOME, "TimeOut": "soon"}}, "InvalidParameter"),
        ({"body": {"StreamID": DOME, "TimeOut": "5"}}, "InvalidParameter"),
        ({"params": {"StreamID": FIXED}}, "InvalidParameter.PTZNotSupported"),
        ({"params": {"StreamID": "nope"}}, "InvalidParameter.StreamNotExist"),
    ):
        _, data = await call(
            session, emulator, "QueryPresetInfo", method="POST", version="2023-10-01", **kwargs
        )
        assert error_of(data)["Code"] == code, kwargs


async def test_ptz_actions_are_signed_and_versioned(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    status, data = await control(session, emulator, move("up"), secret_key="wrong")
    assert status == 401
    assert error_of(data)["Code"] == "SignatureDoesNotMatch"
    status, data = await call(
        session, emulator, "CloudControl", method="POST", body=move("up")
    )  # 2021-01-01 has no such action
    assert error_of(data)["Code"] == "InvalidActionOrVersion"
    assert emulator.ptz.log == []
