"""The PTZ of one channel: what the platform reports, presets, moves and holds ending in a stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from custom_components.volcengine_aiot.api import (
    Channel,
    Preset,
    PresetCommand,
    PtzCommand,
    VolcengineClient,
    VolcenginePresetNotFoundError,
    VolcenginePtzNotSupportedError,
    VolcenginePtzPresetError,
)
from custom_components.volcengine_aiot.ptz import PtzChannel, PtzMover, can_move, ptz_types
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_ID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_CHANNEL_ID,
    SHOP_IPC_ID,
    SHOP_IPC_STREAM_ID,
    SPACE_HOME_ID,
    SPACE_SHOP_ID,
)

DOME = HOME_NVR_STREAM_IDS[0]
FIXED = HOME_NVR_STREAM_IDS[1]


@pytest.fixture
async def mover(client: VolcengineClient) -> AsyncIterator[PtzMover]:
    mover = PtzMover(client, stop_timeout=5.0, late_stop_delay=0.5)
    yield mover
    await mover.aclose()


def cmds(emulator: Emulator, stream_id: str = DOME) -> list[str | None]:
    return [c.cmd for c in emulator.ptz.commands(stream_id)]


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    ("ptz_type", "expected"),
    [(1, True), (2, True), (4, True), (3, False), (None, None), (0, None), (7, None)],
)
def test_can_move_follows_gb28181(ptz_type: int | None, expected: bool | None) -> None:
    assert can_move(ptz_type) is expected


def test_channel_ptz_type_parsed() -> None:
    def item(info: object) -> dict[str, object]:
        return {"StreamID": "s", "DeviceItem": {"DeviceID": "c", "Info": info}}

    assert Channel.from_json(item({"PTZType": 1})).ptz_type == 1
    assert Channel.from_json(item({"PTZType": "2"})).ptz_type == 2
    assert Channel.from_json(item({"PTZType": True})).ptz_type is None
    assert Channel.from_json(item({"PTZType": "dome"})).ptz_type is None
    assert Channel.from_json(item({})).ptz_type is None
    assert Channel.from_json(item(None)).ptz_type is None


async def test_ptz_types_from_the_platform(client: VolcengineClient) -> None:
    nvr = ptz_types(await client.get_device_channels(SPACE_HOME_ID, HOME_NVR_ID))
    assert nvr == {
        DOME: 1,
        HOME_NVR_CHANNEL_IDS[0]: 1,
        FIXED: 3,
        HOME_NVR_CHANNEL_IDS[1]: 3,
    }
    shop = ptz_types(await client.get_device_channels(SPACE_SHOP_ID, SHOP_IPC_ID))
    assert shop == {SHOP_IPC_STREAM_ID: None, SHOP_IPC_CHANNEL_ID: None}
    # a channel listed without its StreamID is found by its channel ID
    (bare,) = ptz_types([Channel(channel_id="34020000001310000077", ptz_type=4)]).items()
    assert bare == ("34020000001310000077", 4)


async def test_presets_named_by_the_platform(
    client: VolcengineClient, mover: PtzMover, emulator: Emulator
) -> None:
    channel = PtzChannel(client, mover, DOME, 1)
    assert channel.can_move is True
    assert channel.presets == ()
    seen: list[int] = []
    remove = channel.add_listener(lambda: seen.append(len(channel.presets)))
    presets = await channel.refresh_presets()
    assert presets == channel.presets == (Preset(1, "Gate"), Preset(2, "Terrace"))
    await channel.preset(PresetCommand.SET, 7)  # read again after a set
    assert [p.preset_id for p in channel.presets] == [1, 2, 7]
    await channel.preset(PresetCommand.REMOVE, 7)  # and after a remove
    assert [p.preset_id for p in channel.presets] == [1, 2]
    assert seen == [2, 3, 2]
    remove()
    await channel.preset(PresetCommand.GOTO, 2)  # a go-to does not read them again
    assert seen == [2, 3, 2]
    assert cmds(emulator) == ["set", "remove", "goto"]
    with pytest.raises(VolcenginePresetNotFoundError):
        await channel.preset(PresetCommand.GOTO, 9)
    with pytest.raises(VolcenginePtzPresetError):
        await channel.preset(PresetCommand.GOTO, 256)


async def test_fixed_channel_refuses_before_sending(
    client: VolcengineClient, mover: PtzMover, emulator: Emulator
) -> None:
    channel = PtzChannel(client, mover, FIXED, 3)
    assert channel.can_move is False
    for call in (
        channel.move(PtzCommand.LEFT, 10, 0.01),
        channel.hold(PtzCommand.UP, 10),
        channel.stop(),
        channel.preset(PresetCommand.GOTO, 1),
        channel.refresh_presets(),
    ):
        with pytest.raises(VolcenginePtzNotSupportedError):
            await call
    assert emulator.requests_for("CloudControl") == []
    assert emulator.requests_for("QueryPresetInfo") == []


async def test_unreported_channel_is_tried(
    client: VolcengineClient, mover: PtzMover, emulator: Emulator
) -> None:
    """A channel that reports no PTZType is forwarded; the platform's refusal is raised."""
    unknown = PtzChannel(client, mover, SHOP_IPC_STREAM_ID, None)
    assert unknown.can_move is None
    await unknown.move(PtzCommand.ZOOM_IN, 3, 0.01)
    assert cmds(emulator, SHOP_IPC_STREAM_ID) == ["zoomin", "stop"]
    lying = PtzChannel(client, mover, FIXED, None)  # fixed, but not told: the platform refuses
    with pytest.raises(VolcenginePtzNotSupportedError):
        await lying.move(PtzCommand.LEFT, 10, 0.01)
    assert emulator.ptz.channel(FIXED).moving is None


async def test_move_and_stop(client: VolcengineClient, mover: PtzMover, emulator: Emulator) -> None:
    channel = PtzChannel(client, mover, DOME, 1)
    await channel.move(PtzCommand.RIGHT_UP, 30, 0.01)
    assert cmds(emulator) == ["rightup", "stop"]
    await channel.stop()
    assert [(c.action, c.cmd) for c in emulator.ptz.commands(DOME)[2:]] == [
        ("PTZControl", "stop"),
        ("FiControl", "stop"),
    ]


async def test_hold_moves_until_cancelled(
    client: VolcengineClient, mover: PtzMover, emulator: Emulator
) -> None:
    channel = PtzChannel(client, mover, DOME, 1)
    task = asyncio.create_task(channel.hold(PtzCommand.LEFT, 50))
    await until(lambda: emulator.ptz.channel(DOME).moving == "left")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cmds(emulator) == ["left", "stop"]
    assert emulator.ptz.channel(DOME).moving is None


async def test_failed_re_read_after_a_set_is_not_an_error(
    client: VolcengineClient, mover: PtzMover, emulator: Emulator
) -> None:
    channel = PtzChannel(client, mover, DOME, 1)
    emulator.faults.add("QueryPresetInfo", code="InvalidParameter", status=400)
    await channel.preset(PresetCommand.SET, 8)  # went through; the list is read next time
    assert cmds(emulator) == ["set"]
    assert channel.presets == ()
    await channel.refresh_presets()
    assert [p.preset_id for p in channel.presets] == [1, 2, 8]
