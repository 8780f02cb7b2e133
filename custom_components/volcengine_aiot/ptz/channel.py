"""The PTZ of one video channel: what it can do, its presets, its moves (HA-free).

Whether a channel can move comes from GetDeviceChannelsV2 ``DeviceItem.Info.PTZType``
(GB/T 28181: 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled). A fixed channel refuses every
command here, before anything is sent; a channel that reports no PTZType is tried (the camera's
"not supported" answer becomes ``VolcenginePtzNotSupportedError`` in the client).

Moves go through the entry's ``PtzMover``: a timed move and a hold always end in a stop, and the
moves of one channel are serialised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import logging
from typing import Final, Protocol

from ..api import (
    Channel,
    Preset,
    PresetCommand,
    PtzCommand,
    VolcengineError,
    VolcenginePtzNotSupportedError,
)
from ..api.ptz import check_preset
from .move import MAX_DURATION, PtzClient, PtzMover

_LOGGER = logging.getLogger(__name__)

MOVING_TYPES: Final = frozenset({1, 2, 4})  # dome, half-dome, remote-controlled
FIXED_TYPE: Final = 3
NOT_SUPPORTED_CODE: Final = "InvalidParameter.PTZNotSupported"


class PtzChannelClient(PtzClient, Protocol):
    """What a channel needs of ``VolcengineClient`` besides the moves."""

    async def preset_goto(self, stream_id: str, preset_id: int) -> None:
        """Drive the camera to a preset."""

    async def preset_set(self, stream_id: str, preset_id: int) -> None:
        """Store the camera's position as a preset."""

    async def preset_remove(self, stream_id: str, preset_id: int) -> None:
        """Remove a preset."""

    async def list_presets(self, stream_id: str, *, camera_wait: int | None = None) -> list[Preset]:
        """Return a channel's presets."""


def can_move(ptz_type: int | None) -> bool | None:
    """Return True for a PTZType that moves, False for a fixed one, None when not reported."""
    if ptz_type in MOVING_TYPES:
        return True
    return False if ptz_type == FIXED_TYPE else None


def default_speed(command: PtzCommand) -> int:
    """Return the speed used when none is given: half the command's range (127, zoom 7)."""
    return command.max_speed // 2


def ptz_types(channels: Iterable[Channel]) -> dict[str, int | None]:
    """Return the PTZType of every channel of a GetDeviceChannelsV2 answer.

    Keyed by StreamID and by channel ID (GB/T 28181 ID), so a channel listed without its
    StreamID is still found.
    """
    found = list(channels)
    return {
        **{c.channel_id: c.ptz_type for c in found},
        **{c.stream_id: c.ptz_type for c in found if c.stream_id},
    }


class PtzChannel:
    """The PTZ of one channel (by StreamID): presets, moves, holds and stops."""

    def __init__(
        self,
        client: PtzChannelClient,
        mover: PtzMover,
        stream_id: str,
        ptz_type: int | None,
    ) -> None:
        """Initialize; ``ptz_type`` is the channel's GB/T 28181 PTZType (None: not reported)."""
        self._client = client
        self._mover = mover
        self.stream_id = stream_id
        self.ptz_type = ptz_type
        self._presets: tuple[Preset, ...] = ()
        self._listeners: list[Callable[[], None]] = []

    @property
    def can_move(self) -> bool | None:
        """Return whether the channel can move (None: the platform does not say)."""
        return can_move(self.ptz_type)

    @property
    def presets(self) -> tuple[Preset, ...]:
        """Return the presets last read from the platform."""
        return self._presets

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` whenever the presets were read; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def refresh_presets(self) -> tuple[Preset, ...]:
        """Read the presets from the platform (QueryPresetInfo) and tell the listeners."""
        self._check_can_move()
        presets = await self._client.list_presets(self.stream_id)
        self._presets = tuple(sorted(presets, key=lambda p: p.preset_id))
        for listener in list(self._listeners):
            listener()
        return self._presets

    async def move(self, command: PtzCommand | str, speed: int, duration: float) -> None:
        """Run ``command`` for ``duration`` seconds, then stop (also on error and cancel)."""
        self._check_can_move()
        await self._mover.move(self.stream_id, command, speed, duration)

    async def hold(
        self,
        command: PtzCommand | str,
        speed: int,
        *,
        started: Callable[[], object] | None = None,
    ) -> None:
        """Run ``command`` until the awaiting task is cancelled (at most ``MAX_DURATION``).

        Always ends in a stop; returns normally when ``MAX_DURATION`` passed. ``started`` is
        called once the gateway accepted the command.
        """
        self._check_can_move()
        await self._mover.move(self.stream_id, command, speed, MAX_DURATION, started=started)

    async def stop(self) -> None:
        """Stop a move or zoom, and a focus or iris command, now."""
        self._check_can_move()
        await self._mover.stop(self.stream_id)
        await self._mover.stop(self.stream_id, lens=True)

    async def preset(self, command: PresetCommand, preset_id: int) -> None:
        """Go to, set or remove a preset; after a set or remove the presets are read again.

        A failed re-read after a set/remove that went through is logged, not raised.
        """
        check_preset(preset_id)
        self._check_can_move()
        command = PresetCommand(command)
        if command is PresetCommand.GOTO:
            await self._client.preset_goto(self.stream_id, preset_id)
            return
        if command is PresetCommand.SET:
            await self._client.preset_set(self.stream_id, preset_id)
        else:
            await self._client.preset_remove(self.stream_id, preset_id)
        try:
            await self.refresh_presets()
        except VolcengineError as err:
            _LOGGER.debug("Presets of %s not read after %s: %s", self.stream_id, command, err)

    def _check_can_move(self) -> None:
        if self.can_move is False:
            msg = f"The channel is fixed (PTZType {self.ptz_type})"
            raise VolcenginePtzNotSupportedError(NOT_SUPPORTED_CODE, msg, status=0)
