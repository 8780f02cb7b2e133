"""PTZ of the aiotvideo OpenAPI: ``CloudControl`` and ``QueryPresetInfo`` (Version 2023-10-01).

Facts (Volcengine docs 6521/1167737 and 6521/1169957, the Go SDK ``volc-sdk-golang``
service/aiot and the Python SDK ``volcenginesdk-aiotvideo20231001``):

* ``CloudControl`` (POST) body ``{"StreamID", "Action", "Cmd", "Para"}``, ``Para`` an integer:
  ``PTZControl`` moves (8 directions, ``stop``) with speed 0-255 and zooms (``zoomin``,
  ``zoomout``) with speed 0-15; ``FiControl`` focus (``focusnear``, ``focusfar``), iris
  (``irisin``, ``irisout``) and ``stop`` with 0-255; ``PresetControl`` ``set``/``goto``/
  ``remove`` with the preset number 1-255. A move or zoom goes on until a ``stop``.
* The doc and the Python SDK spell the body key ``Action``, the Go SDK marshals ``action``.
  The client sends ``Action`` first; if the gateway answers that the key is missing or invalid
  (nothing was carried out), it sends ``action``. The form that worked is kept in
  ``PtzDialect`` and used from then on.
* ``QueryPresetInfo`` (POST): the doc puts ``StreamID`` in the query, the Go SDK in a JSON body
  with ``TimeOut``; the client sends both. ``PresetID`` is a string in the doc and an int in the
  Go SDK: both are parsed, and the form seen is kept in ``PtzDialect``.
* The doc labels ``zoomin`` "缩小" (shrink) and ``zoomout`` "放大" (enlarge); GB/T 28181
  zoom-in is telephoto, so the labels look swapped. The commands are named by their wire value
  here; which one enlarges must be checked on a real camera.

Retries: a request the gateway answered with an error did nothing, so the transport's rules
(throttled, busy, connection errors) apply. A timeout is different: the command may still reach
the camera. A move or zoom is never re-sent after a timeout (a late duplicate could arrive after
the ``stop`` and leave the camera moving); a ``stop`` is, as are ``goto``/``set`` (repeating
them ends in the same state) and the preset query. ``remove`` is not (a retry would answer
"no such preset" for a preset the first request removed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Literal, Protocol, Self

from .errors import (
    VolcengineApiError,
    VolcenginePtzCommandError,
    VolcenginePtzInputError,
    VolcenginePtzPresetError,
    VolcenginePtzSpeedError,
    VolcengineResponseError,
)
from .models import JsonObject
from .transport import Transport

PTZ_API_VERSION: Final = "2023-10-01"
MAX_SPEED: Final = 255
MAX_ZOOM_SPEED: Final = 15
MIN_PRESET: Final = 1
MAX_PRESET: Final = 255
KEY_FORMS: Final = ("Action", "action")

type KeyForm = Literal["Action", "action"]
type PresetIdForm = Literal["string", "number"]


class PtzControl(StrEnum):
    """The ``Action`` of a CloudControl request."""

    PTZ = "PTZControl"
    LENS = "FiControl"
    PRESET = "PresetControl"


class PtzCommand(StrEnum):
    """A continuous PTZ command (``Cmd``), or ``stop``; moves and zooms run until a stop."""

    UP = "up"
    DOWN = "down"
    LEFT = "left"
    RIGHT = "right"
    LEFT_UP = "leftup"
    LEFT_DOWN = "leftdown"
    RIGHT_UP = "rightup"
    RIGHT_DOWN = "rightdown"
    ZOOM_IN = "zoomin"
    ZOOM_OUT = "zoomout"
    FOCUS_NEAR = "focusnear"
    FOCUS_FAR = "focusfar"
    IRIS_IN = "irisin"
    IRIS_OUT = "irisout"
    STOP = "stop"

    @property
    def control(self) -> PtzControl:
        """Return the CloudControl ``Action`` the command is sent with."""
        return PtzControl.LENS if self in _LENS else PtzControl.PTZ

    @property
    def max_speed(self) -> int:
        """Return the largest speed the docs allow (zoom 15, the others 255)."""
        return MAX_ZOOM_SPEED if self in _ZOOM else MAX_SPEED


_ZOOM: Final = frozenset({PtzCommand.ZOOM_IN, PtzCommand.ZOOM_OUT})
_LENS: Final = frozenset(
    {PtzCommand.FOCUS_NEAR, PtzCommand.FOCUS_FAR, PtzCommand.IRIS_IN, PtzCommand.IRIS_OUT}
)
DIRECTIONS: Final = tuple(c for c in PtzCommand if c.control is PtzControl.PTZ and c not in _ZOOM)


class PresetCommand(StrEnum):
    """A ``PresetControl`` command."""

    SET = "set"
    GOTO = "goto"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class Preset:
    """A preset of a channel: its number (1-255) and name (None when the camera has none)."""

    preset_id: int
    name: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Self:
        """Build from a QueryPresetInfo ``Items[]`` entry (``PresetID`` a string or an int)."""
        raw = data.get("PresetID")
        try:
            preset_id = int(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else 0
        except ValueError:
            preset_id = 0
        if not MIN_PRESET <= preset_id <= MAX_PRESET:
            msg = f"QueryPresetInfo item with PresetID {raw!r}"
            raise VolcengineResponseError(msg, status=200)
        name = data.get("PresetName")
        return cls(preset_id, str(name) if name not in (None, "") else None)


@dataclass(slots=True)
class PtzDialect:
    """What the gateway accepted: the CloudControl key form and the PresetID form it returns."""

    key: KeyForm | None = None
    preset_id_form: PresetIdForm | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Return the dialect for diagnostics (None: not learned yet)."""
        return {"key": self.key, "preset_id_form": self.preset_id_form}


class _Transport(Transport, Protocol):
    ptz_dialect: PtzDialect


def parse_command(command: PtzCommand | str) -> PtzCommand:
    """Return ``command`` as a ``PtzCommand``, or raise ``VolcenginePtzCommandError``."""
    try:
        return PtzCommand(command)
    except ValueError:
        msg = f"Unknown PTZ command {command!r}"
        raise VolcenginePtzCommandError(msg, command=str(command)) from None


def check_speed(command: PtzCommand, speed: int) -> int:
    """Return ``speed`` if it is in the command's range, else raise ``VolcenginePtzSpeedError``."""
    if isinstance(speed, bool) or not isinstance(speed, int) or not 0 <= speed <= command.max_speed:
        msg = f"Speed {speed!r} of {command} is outside 0-{command.max_speed}"
        raise VolcenginePtzSpeedError(
            msg, command=command.value, speed=str(speed), max_speed=str(command.max_speed)
        )
    return speed


def check_preset(preset_id: int) -> int:
    """Return ``preset_id`` if it is 1-255, else raise ``VolcenginePtzPresetError``."""
    if isinstance(preset_id, bool) or not isinstance(preset_id, int):
        valid = False
    else:
        valid = MIN_PRESET <= preset_id <= MAX_PRESET
    if not valid:
        msg = f"Preset {preset_id!r} is outside {MIN_PRESET}-{MAX_PRESET}"
        raise VolcenginePtzPresetError(
            msg, preset=str(preset_id), min_preset=str(MIN_PRESET), max_preset=str(MAX_PRESET)
        )
    return preset_id


def _check_stream(stream_id: str) -> str:
    if not isinstance(stream_id, str) or not stream_id:
        msg = "A StreamID is required"
        raise VolcenginePtzInputError(msg)
    return stream_id


def _key_refused(err: VolcengineApiError) -> bool:
    """Return whether an error says the body's action key was missing or not understood."""
    return err.code.startswith(("MissingParameter", "InvalidParameter")) and (
        "action" in err.message.lower()
    )


class PtzMixin:
    """CloudControl and QueryPresetInfo methods of ``VolcengineClient``."""

    async def ptz_control(
        self: _Transport, stream_id: str, command: PtzCommand | str, speed: int
    ) -> None:
        """Start a continuous move, zoom, focus or iris command (or ``stop``) at ``speed``.

        A move runs until ``ptz_stop``; it is not re-sent after a timeout (see the module).
        """
        cmd = parse_command(command)
        check_speed(cmd, speed)
        await _cloud_control(
            self,
            _check_stream(stream_id),
            cmd.control,
            cmd.value,
            speed,
            idempotent=cmd is PtzCommand.STOP,
        )

    async def ptz_stop(self: _Transport, stream_id: str, *, lens: bool = False) -> None:
        """Stop a move or zoom (``PTZControl stop``) or a focus/iris command (``lens``)."""
        control = PtzControl.LENS if lens else PtzControl.PTZ
        await _cloud_control(self, _check_stream(stream_id), control, "stop", 0, idempotent=True)

    async def preset_goto(self: _Transport, stream_id: str, preset_id: int) -> None:
        """Drive the camera to a preset."""
        await _preset(self, stream_id, PresetCommand.GOTO, preset_id, idempotent=True)

    async def preset_set(self: _Transport, stream_id: str, preset_id: int) -> None:
        """Store the camera's position as a preset (the platform names it, not the client)."""
        await _preset(self, stream_id, PresetCommand.SET, preset_id, idempotent=True)

    async def preset_remove(self: _Transport, stream_id: str, preset_id: int) -> None:
        """Remove a preset."""
        await _preset(self, stream_id, PresetCommand.REMOVE, preset_id, idempotent=False)

    async def list_presets(
        self: _Transport, stream_id: str, *, camera_wait: int | None = None
    ) -> list[Preset]:
        """Return a channel's presets (``camera_wait``: the body's ``TimeOut``, seconds)."""
        _check_stream(stream_id)
        body: dict[str, Any] = {"StreamID": stream_id}
        if camera_wait is not None:
            body["TimeOut"] = camera_wait
        result = await self.request(
            "QueryPresetInfo",
            {"StreamID": stream_id},
            method="POST",
            body=body,
            version=PTZ_API_VERSION,
        )
        items = result.get("Items")
        raw = [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
        forms = {type(i.get("PresetID")) for i in raw}
        if forms == {str}:
            self.ptz_dialect.preset_id_form = "string"
        elif forms == {int}:
            self.ptz_dialect.preset_id_form = "number"
        return [Preset.from_json(item) for item in raw]


async def _preset(
    client: _Transport,
    stream_id: str,
    command: PresetCommand,
    preset_id: int,
    *,
    idempotent: bool,
) -> None:
    check_preset(preset_id)
    await _cloud_control(
        client,
        _check_stream(stream_id),
        PtzControl.PRESET,
        command.value,
        preset_id,
        idempotent=idempotent,
    )


async def _cloud_control(
    client: _Transport,
    stream_id: str,
    control: PtzControl,
    cmd: str,
    para: int,
    *,
    idempotent: bool,
) -> None:
    """Send one CloudControl request, learning the action key form on the first success."""
    dialect = client.ptz_dialect
    forms: tuple[KeyForm, ...] = (dialect.key,) if dialect.key else KEY_FORMS
    for index, key in enumerate(forms):
        body = {"StreamID": stream_id, key: control.value, "Cmd": cmd, "Para": para}
        try:
            await client.request(
                "CloudControl",
                method="POST",
                body=body,
                idempotent=idempotent,
                version=PTZ_API_VERSION,
            )
        except VolcengineApiError as err:
            if index + 1 < len(forms) and _key_refused(err):
                continue
            raise
        dialect.key = key
        return
