"""PTZ of the emulator: ``CloudControl`` and ``QueryPresetInfo`` (Version 2023-10-01, POST).

Facts (Volcengine docs 6521/1167737 and 6521/1169957, the Go SDK ``volc-sdk-golang``
service/aiot and the Python SDK ``volcenginesdk-aiotvideo20231001``):

* ``CloudControl`` body ``{"StreamID", "Action", "Cmd", "Para"}``, all four required and only
  in the body, ``Para`` an integer (Python SDK ``int``, Go SDK ``uint8``: a string is refused);
  the answer has no ``Result`` fields.
  The doc and the Python SDK spell the key ``Action``, the Go SDK ``CloudControlRequestV3``
  marshals ``action``: both forms are accepted (``PtzService.key_forms`` narrows them, to
  play a gateway that knows only one).

  ======================  ==========================================================  =========
  Action                  Cmd                                                         Para
  ======================  ==========================================================  =========
  PTZControl              stop right left down up rightup rightdown leftup leftdown   0-255
  PTZControl              zoomin zoomout                                              0-15
  FiControl               stop focusfar focusnear irisin irisout                      0-255
  PresetControl           set goto remove                                             1-255
  ======================  ==========================================================  =========

  The doc labels ``zoomin`` "缩小" (shrink) and ``zoomout`` "放大" (enlarge); GB/T 28181 zoom-in
  is telephoto, so the labels look swapped. The emulator only records the command.
* ``QueryPresetInfo``: the doc puts ``StreamID`` in the query with no body; the Go SDK sends a
  JSON body ``{"StreamID", "TimeOut"}`` (``TimeOut`` an int). Both are accepted. Result
  ``{"Num": n, "Items": [{"PresetID": "1", "PresetName": "预置位1"}]}``: the doc types
  ``PresetID`` as a string, the Go SDK parses an int (``PtzService.preset_id_form``).

Which channel can move: GetDeviceChannelsV2 reports ``DeviceItem.Info.PTZType`` (GB/T 28181:
1 dome, 2 half-dome, 3 fixed, 4 remote-controlled). A fixed channel refuses every command; a
channel that reports no PTZType is forwarded like a PTZ one (the platform cannot know).

Error codes where the docs name none (chosen here, like the other emulator codes): a bad Cmd,
Action or Para answers 400 ``InvalidParameter``; a missing one 400 ``MissingParameter``; a
fixed channel 400 ``InvalidParameter.PTZNotSupported``; a preset that is not set 404
``InvalidParameter.PresetNotExist``; an offline device 400 ``InvalidParameter.DeviceNotOnline``
(the documented code of other device actions).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
import time
from typing import Any, Literal

from .data import Raw, State
from .signature import GatewayError

PTZ_VERSION = "2023-10-01"
MOVES = frozenset(
    {"stop", "right", "left", "down", "up", "rightup", "rightdown", "leftup", "leftdown"}
)
ZOOMS = frozenset({"zoomin", "zoomout"})
FI = frozenset({"stop", "focusfar", "focusnear", "irisin", "irisout"})
PRESETS = frozenset({"set", "goto", "remove"})
FIXED = 3  # GB/T 28181 PTZType of a camera that cannot move
MAX_PARA = 0xFF
MAX_ZOOM_SPEED = 15

type Query = dict[str, str]
type TypedHandler = Callable[[Query, dict[str, Any]], Awaitable[Raw]]


@dataclass(frozen=True, slots=True)
class PtzCommand:
    """One CloudControl request as the gateway read it, and how it was answered."""

    at: float
    stream_id: str
    channel_id: str | None
    action: str | None
    cmd: str | None
    para: Any
    key: str | None  # "Action" or "action": the body key the request used
    error: str | None = None  # the error code answered, None when carried out

    @property
    def speed(self) -> int | None:
        """Return the speed of a move, zoom, focus or iris command."""
        if self.action in ("PTZControl", "FiControl") and isinstance(self.para, int):
            return self.para
        return None

    @property
    def preset(self) -> int | None:
        """Return the preset number of a PresetControl command."""
        if self.action == "PresetControl" and isinstance(self.para, int):
            return self.para
        return None


@dataclass(slots=True)
class ChannelPtz:
    """PTZ state of one channel (by StreamID)."""

    moving: str | None = None  # the running PTZControl command (a direction or a zoom)
    lens: str | None = None  # the running FiControl command (focus or iris)
    presets: dict[int, str] = field(default_factory=dict)
    speed: int | None = None


def _invalid(message: str) -> GatewayError:
    return GatewayError(400, "InvalidParameter", message)


def _missing(name: str) -> GatewayError:
    return GatewayError(400, "MissingParameter", f"The parameter {name} is required.", 100002)


def _offline() -> GatewayError:
    return GatewayError(
        400,
        "InvalidParameter.DeviceNotOnline",
        "The request is failed due to the device is not online.",
    )


class PtzService:
    """CloudControl and QueryPresetInfo over the emulator's account, with a command log."""

    def __init__(self, state: State) -> None:
        """Initialize over an account (demo presets come from ``PRESET_NAMES`` in data)."""
        self.state = state
        self.log: list[PtzCommand] = []
        self.channels: dict[str, ChannelPtz] = {}
        self.key_forms: set[str] = {"Action", "action"}
        self.preset_id_form: Literal["string", "number"] = "string"
        self.handlers: dict[str, TypedHandler] = {
            "CloudControl": self._cloud_control,
            "QueryPresetInfo": self._query_preset_info,
        }

    def channel(self, stream_id: str) -> ChannelPtz:
        """Return the PTZ state of a channel (created stopped, with the demo presets)."""
        if stream_id not in self.channels:
            self.channels[stream_id] = ChannelPtz(
                presets=dict(self.state.presets.get(stream_id, {}))
            )
        return self.channels[stream_id]

    def commands(self, stream_id: str | None = None) -> list[PtzCommand]:
        """Return the carried-out commands (of one stream)."""
        return [
            c
            for c in self.log
            if c.error is None and (stream_id is None or c.stream_id == stream_id)
        ]

    # --- lookup ------------------------------------------------------------------------------

    def _find(self, stream_id: str) -> tuple[Raw, Raw | None]:
        """Return the owning device and the GetDeviceChannelsV2 channel of a stream."""
        for space_id in self.state.spaces:
            device = self.state.stream_owner(space_id, stream_id)
            if device is not None:
                channel = next(
                    (
                        c
                        for c in self.state.device_channels(device)
                        if c.get("StreamID") == stream_id
                    ),
                    None,
                )
                return device, channel
        raise GatewayError(
            404,
            "InvalidParameter.StreamNotExist",
            "The request is failed due to the stream does not exist.",
        )

    def _ready(self, stream_id: str) -> Raw | None:
        """Check that a stream's device is online and can move; return its channel."""
        device, channel = self._find(stream_id)
        if device.get("Status") != "online":
            raise _offline()
        info = (channel or {}).get("DeviceItem", {}).get("Info", {})
        if info.get("PTZType") == FIXED:
            raise GatewayError(
                400,
                "InvalidParameter.PTZNotSupported",
                "The request is failed due to the channel does not support PTZ.",
            )
        return channel

    # --- actions -----------------------------------------------------------------------------

    async def _cloud_control(self, query: Query, body: dict[str, Any]) -> Raw:
        del query  # every documented parameter is in the body
        stream_id = body.get("StreamID")
        key = next((k for k in ("Action", "action") if k in body), None)
        command = PtzCommand(
            at=time.monotonic(),
            stream_id=str(stream_id or ""),
            channel_id=None,
            action=body.get(key) if key else None,
            cmd=body.get("Cmd"),
            para=body.get("Para"),
            key=key,
        )
        try:
            channel_id = self._control(command)
        except GatewayError as err:
            self.log.append(replace(command, error=err.code))
            raise
        self.log.append(replace(command, channel_id=channel_id))
        return {}

    def _control(self, command: PtzCommand) -> str | None:
        if not command.stream_id or not isinstance(command.stream_id, str):
            raise _missing("StreamID")
        if command.key is None or command.key not in self.key_forms:
            raise _missing(min(self.key_forms))
        for name, value in (("Cmd", command.cmd), ("Para", command.para)):
            if value is None:
                raise _missing(name)
        para = command.para
        if isinstance(para, bool) or not isinstance(para, int):
            raise _invalid("Para must be an integer.")
        action, cmd = command.action, command.cmd
        if action == "PTZControl" and cmd in MOVES | ZOOMS:
            top = MAX_ZOOM_SPEED if cmd in ZOOMS else MAX_PARA
            if not 0 <= para <= top:
                raise _invalid(f"Para of {cmd} must be between 0 and {top}.")
        elif action == "FiControl" and cmd in FI:
            if not 0 <= para <= MAX_PARA:
                raise _invalid(f"Para of {cmd} must be between 0 and {MAX_PARA}.")
        elif action == "PresetControl" and cmd in PRESETS:
            if not 1 <= para <= MAX_PARA:
                raise _invalid(f"The preset number must be between 1 and {MAX_PARA}.")
        elif action in ("PTZControl", "FiControl", "PresetControl"):
            raise _invalid(f"Cmd {cmd!r} is not valid for {action}.")
        else:
            raise _invalid("Action must be PTZControl, FiControl or PresetControl.")
        channel = self._ready(command.stream_id)
        self._apply(self.channel(command.stream_id), action, cmd, para)
        return (channel or {}).get("DeviceItem", {}).get("DeviceID")

    @staticmethod
    def _apply(state: ChannelPtz, action: str, cmd: str, para: int) -> None:
        if action == "PTZControl":
            state.moving, state.speed = (None, None) if cmd == "stop" else (cmd, para)
        elif action == "FiControl":
            state.lens = None if cmd == "stop" else cmd
        elif cmd == "set":
            state.presets[para] = state.presets.get(para) or f"预置位{para}"
        elif para not in state.presets:
            raise GatewayError(
                404,
                "InvalidParameter.PresetNotExist",
                f"The request is failed due to the preset {para} does not exist.",
            )
        elif cmd == "remove":
            del state.presets[para]
        else:  # goto: the camera drives to the preset and stops there
            state.moving = None

    async def _query_preset_info(self, query: Query, body: dict[str, Any]) -> Raw:
        stream_id = query.get("StreamID") or body.get("StreamID")
        if not stream_id or not isinstance(stream_id, str):
            raise _missing("StreamID")
        timeout = body.get("TimeOut")  # the Go SDK's int (seconds)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
            raise _invalid("TimeOut must be an integer.")
        self._ready(stream_id)
        presets = self.channel(stream_id).presets
        return {
            "Num": len(presets),
            "Items": [
                {
                    "PresetID": str(n) if self.preset_id_form == "string" else n,
                    "PresetName": name,
                }
                for n, name in sorted(presets.items())
            ],
        }
