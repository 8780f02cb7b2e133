"""Push-to-talk over Home Assistant's websocket: the ``volcengine_aiot/talk`` protocol.

The dashboard card subscribes with an entity ID and gets a ``started`` event with a binary
handler ID and the audio format to send (``talk.microphone.PCM_FORMAT``: 20 ms frames of 8 kHz
mono signed 16-bit PCM), then sends frames as binary messages on the same connection. The talk
itself (taking the camera with the first frame, the end reasons) is ``talk.push_to_talk``, on the
camera's speaker from the runtime, so it works with the media player disabled; the runtime holds
the one talk per camera. Unsubscribing (release) or closing the connection ends the talk. The
binary handler stays registered until the client unsubscribes, so frames still in flight when the
server ends a talk are dropped quietly. A refused press (busy, unavailable) is normal use: it is
answered with a translated error and not logged as one.

PTZ for the card's arrows and preset picker: ``volcengine_aiot/ptz/hold`` is a subscription that
moves a camera (``PtzChannel.hold``) until the client unsubscribes (release), the connection
closes or ``MAX_DURATION`` passes, and always ends in a stop; it sends ``{"event": "moving"}``
once the gateway accepted the command and ``{"event": "stopped"}`` (time limit, unload) or an
error event when the server ended it. A fixed camera, an unknown entity or a bad speed is
refused before anything is sent. ``volcengine_aiot/ptz/presets`` answers whether a camera can
move and its presets (read again from the platform).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.auth.permissions.const import POLICY_CONTROL, POLICY_READ
from homeassistant.components import websocket_api
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import voluptuous as vol

from .api import (
    DIRECTIONS,
    PtzCommand,
    VolcengineError,
    VolcenginePtzInputError,
    VolcenginePtzNotSupportedError,
)
from .api.ptz import check_speed
from .const import DOMAIN, LOGGER
from .playing import async_talk_failed, async_talk_played
from .ptz import PtzChannel, PtzError
from .ptz.channel import NOT_SUPPORTED_CODE
from .ptz_control import ptz_channel_of, ptz_error
from .runtime import VolcengineConfigEntry
from .talk import Speaker, TalkError
from .talk.microphone import PCM_FORMAT
from .talk.push_to_talk import PushToTalk

TALK_COMMAND: Final = f"{DOMAIN}/talk"
PTZ_HOLD_COMMAND: Final = f"{DOMAIN}/ptz/hold"
PTZ_PRESETS_COMMAND: Final = f"{DOMAIN}/ptz/presets"
# What an arrow of the card can hold: the 8 directions and the zoom.
HOLD_COMMANDS: Final = (
    *(c for c in DIRECTIONS if c is not PtzCommand.STOP),
    PtzCommand.ZOOM_IN,
    PtzCommand.ZOOM_OUT,
)
PTZ_DISCOVERY_WAIT: Final = 10.0  # seconds: the wait for a device's PTZType read at set-up


@callback
def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register the push-to-talk and PTZ commands."""
    websocket_api.async_register_command(hass, ws_talk)
    websocket_api.async_register_command(hass, ws_ptz_hold)
    websocket_api.async_register_command(hass, ws_ptz_presets)


def hold_speed(command: PtzCommand) -> int:
    """Return the speed of a hold that names none: the middle of the command's range."""
    return (command.max_speed + 1) // 2


def _send_error(
    connection: websocket_api.ActiveConnection, msg_id: int, err: HomeAssistantError
) -> None:
    connection.send_error(
        msg_id,
        websocket_api.ERR_HOME_ASSISTANT_ERROR,
        str(err),
        translation_key=err.translation_key,
        translation_domain=err.translation_domain,
        translation_placeholders=err.translation_placeholders,
    )


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _speaker_of(
    hass: HomeAssistant, entity_id: str
) -> tuple[Speaker, str, str, VolcengineConfigEntry]:
    """Return the speaker behind a speaker entity, its device ID, the camera's name, its entry."""
    entry = er.async_get(hass).async_get(entity_id)
    if entry is None or entry.platform != DOMAIN or entry.domain != "media_player":
        raise _error("talk_entity_not_found", entity_id=entity_id)
    device = dr.async_get(hass).async_get(entry.device_id) if entry.device_id else None
    name = (device.name_by_user or device.name) if device is not None else None
    name = name or entry.name or entry.original_name or entity_id
    config_entry: VolcengineConfigEntry | None = (
        hass.config_entries.async_get_entry(entry.config_entry_id)
        if entry.config_entry_id
        else None
    )
    if device is None or config_entry is None or config_entry.state is not ConfigEntryState.LOADED:
        raise _error("device_unavailable", name=name)
    # The camera's speaker, not the entity's: push-to-talk works with the media player disabled.
    runtime = config_entry.runtime_data
    device_ids = [ident for domain, ident in device.identifiers if domain == DOMAIN]
    device_id = next((i for i in device_ids if i in runtime.speakers), None)
    camera = runtime.coordinator.data.get(device_id) if device_id is not None else None
    if device_id is None or camera is None or not camera.online:
        raise _error("device_unavailable", name=name)
    return runtime.speakers[device_id], device_id, name, config_entry


TALK_SCHEMA: Final[dict[Any, Any]] = {
    vol.Required("type"): TALK_COMMAND,
    vol.Required("entity_id"): cv.entity_id,
}


@websocket_api.websocket_command(TALK_SCHEMA)
@websocket_api.async_response
async def ws_talk(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Start a push-to-talk on a camera speaker; audio follows as binary messages."""
    entity_id: str = msg["entity_id"]
    if not connection.user.permissions.check_entity(entity_id, POLICY_CONTROL):
        raise Unauthorized(context=connection.context(msg), entity_id=entity_id)
    try:
        speaker, device_id, name, config_entry = _speaker_of(hass, entity_id)
        if device_id in config_entry.runtime_data.talks:
            raise _error("talk_in_progress", name=name)
    except HomeAssistantError as err:
        # Normal use (a busy or offline camera): the card shows it; nothing to log as an error.
        LOGGER.debug("%s: push-to-talk refused: %s", entity_id, err)
        connection.send_error(
            msg["id"],
            websocket_api.ERR_HOME_ASSISTANT_ERROR,
            str(err),
            translation_key=err.translation_key,
            translation_domain=err.translation_domain,
            translation_placeholders=err.translation_placeholders,
        )
        return
    TalkSubscription(hass, connection, msg["id"], entity_id, name=name, device_id=device_id).start(
        speaker, config_entry
    )


class _Subscription:
    """A client's subscription to something the server runs (a talk, a held arrow).

    Events reach the client only while it is subscribed; ``task`` is what runs for it.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg_id: int,
        entity_id: str,
        *,
        name: str,
    ) -> None:
        """Initialize for a subscription."""
        self._hass = hass
        self._connection = connection
        self._msg_id = msg_id
        self.entity_id = entity_id
        self._name = name
        self._subscribed = True
        self.task: asyncio.Task[None] | None = None

    def _send(self, event: Mapping[str, Any]) -> None:
        if self._subscribed:
            self._connection.send_event(self._msg_id, event)


class TalkSubscription(_Subscription):
    """The protocol of one push-to-talk: the client's subscription, binary handler and events."""

    def __init__(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg_id: int,
        entity_id: str,
        *,
        name: str,
        device_id: str,
    ) -> None:
        """Initialize for a subscription."""
        super().__init__(hass, connection, msg_id, entity_id, name=name)
        self.device_id = device_id
        self._unregister: Callable[[], None] | None = None
        self._talk: PushToTalk | None = None

    @callback
    def start(self, speaker: Speaker, config_entry: VolcengineConfigEntry) -> None:
        """Answer the subscription; the talk plays what the client sends."""
        talk = self._talk = PushToTalk(speaker, self._send)
        talks = config_entry.runtime_data.talks
        talks[self.device_id] = talk
        handler_id, self._unregister = self._connection.async_register_binary_handler(
            self._on_audio
        )
        self._connection.subscriptions[self._msg_id] = self._unsubscribe
        self._connection.send_result(self._msg_id)
        self._send({"type": "started", "binary_handler_id": handler_id, **PCM_FORMAT})
        self.task = self._hass.async_create_background_task(
            self._run(talk, config_entry),
            f"{DOMAIN} push-to-talk {self.entity_id}",
        )

    @callback
    def _on_audio(
        self, _hass: HomeAssistant, _connection: websocket_api.ActiveConnection, data: bytes
    ) -> None:
        if self._talk is not None:
            self._talk.push(data)

    @callback
    def _unsubscribe(self) -> None:
        """Release, or the connection closed: the talk plays what is buffered, then stops."""
        self._subscribed = False
        if self._talk is not None:
            self._talk.release()
        if self.task is None or self.task.done():
            self._release_handler()

    @callback
    def _release_handler(self) -> None:
        """Unregister the binary handler (late frames would be logged as errors by core)."""
        unregister, self._unregister = self._unregister, None
        if unregister is not None:
            unregister()

    async def _run(self, talk: PushToTalk, config_entry: VolcengineConfigEntry) -> None:
        try:
            result = await talk.run()
        except TalkError as err:
            # Not an action: nothing else logs it (the card shows the translated error).
            LOGGER.warning("%s: push-to-talk failed: %s", self.entity_id, err)
            error = async_talk_failed(
                self._hass, config_entry, err, name=self._name, device_id=self.device_id
            )
            self._send({"type": "error", "code": error.translation_key, "message": str(error)})
        else:
            if result is not None:
                async_talk_played(self._hass, result, device_id=self.device_id)
        finally:
            if not self._subscribed:
                self._release_handler()
            talks = config_entry.runtime_data.talks
            if talks.get(self.device_id) is talk:
                del talks[self.device_id]
            frames = talk.frames
            if talk.opened_at is not None:
                LOGGER.debug(
                    "%s: push-to-talk open after %.0f ms",
                    self.entity_id,
                    (talk.opened_at - talk.pressed_at) * 1000,
                )
            LOGGER.debug(
                "%s: push-to-talk ended (%s): %d frames, %d dropped, %d malformed",
                self.entity_id,
                frames.end_reason,
                frames.received,
                frames.dropped,
                frames.rejected,
            )


# --- PTZ ---------------------------------------------------------------------------------------


async def _ptz_camera(hass: HomeAssistant, entity_id: str) -> tuple[PtzChannel, str]:
    """Return the PTZ channel of a camera entity and the camera's name.

    Waits (bounded) for its device's PTZType read when the entry was set up just now.
    """
    config_entry, channel = ptz_channel_of(hass, entity_id)
    state = hass.states.get(entity_id)
    name = str(state.attributes.get("friendly_name") or entity_id) if state else entity_id
    entry = er.async_get(hass).async_get(entity_id)
    device = dr.async_get(hass).async_get(entry.device_id) if entry and entry.device_id else None
    if device is not None:
        discovery = config_entry.runtime_data.ptz_discovery
        tasks = {
            task
            for domain, ident in device.identifiers
            if domain == DOMAIN and (task := discovery.get(ident)) is not None
        }
        if tasks:
            await asyncio.wait(tasks, timeout=PTZ_DISCOVERY_WAIT)
    return channel, name


def _check_hold(channel: PtzChannel, command: PtzCommand, speed: int, name: str) -> None:
    """Refuse a bad speed or a fixed camera before anything is sent."""
    try:
        check_speed(command, speed)
    except VolcenginePtzInputError as err:
        raise ptz_error(err, name) from err
    if channel.can_move is False:
        fixed = VolcenginePtzNotSupportedError(NOT_SUPPORTED_CODE, "fixed camera", status=0)
        raise ptz_error(fixed, name)


PTZ_HOLD_SCHEMA: Final[dict[Any, Any]] = {
    vol.Required("type"): PTZ_HOLD_COMMAND,
    vol.Required("entity_id"): cv.entity_id,
    vol.Required("command"): vol.In([str(c) for c in HOLD_COMMANDS]),
    vol.Optional("speed"): vol.All(int, vol.Range(min=0)),
}


@websocket_api.websocket_command(PTZ_HOLD_SCHEMA)
@websocket_api.async_response
async def ws_ptz_hold(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Move a camera while the client holds an arrow; always end in a stop."""
    entity_id: str = msg["entity_id"]
    if not connection.user.permissions.check_entity(entity_id, POLICY_CONTROL):
        raise Unauthorized(context=connection.context(msg), entity_id=entity_id)
    command = PtzCommand(msg["command"])
    try:
        channel, name = await _ptz_camera(hass, entity_id)
        speed: int = msg.get("speed", hold_speed(command))
        _check_hold(channel, command, speed, name)
    except HomeAssistantError as err:
        LOGGER.debug("%s: PTZ hold refused: %s", entity_id, err)
        _send_error(connection, msg["id"], err)
        return
    PtzHold(hass, connection, msg["id"], entity_id, name=name).start(channel, command, speed)


class PtzHold(_Subscription):
    """One held arrow: the client's subscription and the move that runs while it lasts."""

    @callback
    def start(self, channel: PtzChannel, command: PtzCommand, speed: int) -> None:
        """Answer the subscription and start the move."""
        self._connection.subscriptions[self._msg_id] = self._unsubscribe
        self._connection.send_result(self._msg_id)
        self.task = self._hass.async_create_background_task(
            self._run(channel, command, speed),
            f"{DOMAIN} PTZ hold {self.entity_id} {command}",
        )

    @callback
    def _unsubscribe(self) -> None:
        """Release, or the connection closed: the move is cancelled and sends its stop."""
        self._subscribed = False
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _run(self, channel: PtzChannel, command: PtzCommand, speed: int) -> None:
        try:
            await channel.hold(command, speed, started=lambda: self._send({"event": "moving"}))
        except asyncio.CancelledError:
            self._send({"event": "stopped"})  # unloaded under a held arrow
            raise
        except (VolcengineError, PtzError) as err:
            # Not an action: nothing else logs it (the card shows the translated error).
            LOGGER.warning("%s: PTZ hold failed: %s", self.entity_id, err)
            error = ptz_error(err, self._name)
            self._send({"event": "error", "code": error.translation_key, "message": str(error)})
        else:
            self._send({"event": "stopped"})  # the time limit


PTZ_PRESETS_SCHEMA: Final[dict[Any, Any]] = {
    vol.Required("type"): PTZ_PRESETS_COMMAND,
    vol.Required("entity_id"): cv.entity_id,
}


@websocket_api.websocket_command(PTZ_PRESETS_SCHEMA)
@websocket_api.async_response
async def ws_ptz_presets(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Answer whether a camera can move and its presets (read again from the platform)."""
    entity_id: str = msg["entity_id"]
    if not connection.user.permissions.check_entity(entity_id, POLICY_READ):
        raise Unauthorized(context=connection.context(msg), entity_id=entity_id)
    try:
        channel, _name = await _ptz_camera(hass, entity_id)
    except HomeAssistantError as err:
        _send_error(connection, msg["id"], err)
        return
    can_move = channel.can_move
    presets = channel.presets
    if can_move is not False:
        try:
            presets = await channel.refresh_presets()
        except VolcenginePtzNotSupportedError:
            can_move = False  # the camera said so
        except VolcengineError as err:  # the last known presets (an offline camera)
            LOGGER.debug("%s: presets not read: %s", entity_id, err)
    connection.send_result(
        msg["id"],
        {
            "can_move": can_move,
            "presets": [{"id": p.preset_id, "name": p.name or str(p.preset_id)} for p in presets],
        },
    )
