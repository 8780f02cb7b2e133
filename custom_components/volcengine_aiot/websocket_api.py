"""Push-to-talk over Home Assistant's websocket: ``volcengine_aiot/talk``.

The dashboard card subscribes with an entity ID, gets a binary handler ID, and sends 20 ms
frames of 8 kHz mono 16-bit PCM as binary messages on the same connection. The frames are
played on the camera through its speaker (``talk.live``): a push-to-talk takes the camera (what
is playing is interrupted, the queue cleared), but only once the first frame arrived, so a press
whose microphone delivers nothing never touches the camera. Unsubscribing (release), closing the
connection, 2 s without audio and the maximum talk duration end the talk; the speaker always
stops it. The binary handler stays registered until the client unsubscribes, so frames still in
flight when the server ends a talk are dropped quietly. A refused press (busy, unavailable) is
normal use: it is answered with a translated error and not logged as one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.components import websocket_api
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.util.hass_dict import HassKey
import voluptuous as vol

from .const import DOMAIN, LOGGER
from .playback import async_talk_failed, async_talk_played
from .runtime import VolcengineConfigEntry
from .talk import Speaker, TalkError
from .talk.flv import FRAME_MS, SAMPLE_RATE
from .talk.live import END_NO_AUDIO, PCM_FRAME_BYTES, LiveFrames, live_source

TALK_COMMAND: Final = f"{DOMAIN}/talk"
DATA_TALKS: HassKey[dict[str, PushToTalk]] = HassKey(f"{DOMAIN}_talks")


@callback
def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register the push-to-talk command."""
    hass.data.setdefault(DATA_TALKS, {})
    websocket_api.async_register_command(hass, ws_talk)


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
    talks = hass.data[DATA_TALKS]
    try:
        speaker, device_id, name, config_entry = _speaker_of(hass, entity_id)
        if entity_id in talks:
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
    talk = PushToTalk(hass, connection, msg["id"], entity_id, name=name, device_id=device_id)
    talks[entity_id] = talk
    talk.start(speaker, config_entry)


class PushToTalk:
    """One push-to-talk: the client's subscription, its binary handler and the playback."""

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
        self._hass = hass
        self._connection = connection
        self._msg_id = msg_id
        self.entity_id = entity_id
        self._name = name
        self.device_id = device_id
        self._subscribed = True
        self._pressed_at = hass.loop.time()
        self.frames = LiveFrames(on_open=self._on_open)
        self.task: asyncio.Task[None] | None = None
        self._unregister: Callable[[], None] | None = None

    @callback
    def start(self, speaker: Speaker, config_entry: VolcengineConfigEntry) -> None:
        """Answer the subscription; play what the client sends once its first frame arrived."""
        handler_id, self._unregister = self._connection.async_register_binary_handler(
            self._on_audio
        )
        self._connection.subscriptions[self._msg_id] = self._unsubscribe
        self._connection.send_result(self._msg_id)
        self._send(
            {
                "type": "started",
                "binary_handler_id": handler_id,
                "sample_rate": SAMPLE_RATE,
                "frame_ms": FRAME_MS,
                "frame_bytes": PCM_FRAME_BYTES,
            }
        )
        self.task = self._hass.async_create_background_task(
            self._run(speaker, config_entry),
            f"{DOMAIN} push-to-talk {self.entity_id}",
        )

    def _send(self, event: dict[str, Any]) -> None:
        if self._subscribed:
            self._connection.send_event(self._msg_id, event)

    def _on_open(self) -> None:
        LOGGER.debug(
            "%s: push-to-talk open after %.0f ms",
            self.entity_id,
            (self._hass.loop.time() - self._pressed_at) * 1000,
        )
        self._send({"type": "talking"})

    @callback
    def _on_audio(
        self, _hass: HomeAssistant, _connection: websocket_api.ActiveConnection, data: bytes
    ) -> None:
        if data:
            self.frames.push(data)
        else:  # an empty message: the client has no more audio
            self.frames.end()

    @callback
    def _unsubscribe(self) -> None:
        """Release, or the connection closed: play what is buffered, then stop."""
        self._subscribed = False
        self.frames.end()
        if self.task is None or self.task.done():
            self._release_handler()

    @callback
    def _release_handler(self) -> None:
        """Unregister the binary handler (late frames would be logged as errors by core)."""
        unregister, self._unregister = self._unregister, None
        if unregister is not None:
            unregister()

    async def _run(self, speaker: Speaker, config_entry: VolcengineConfigEntry) -> None:
        try:
            if not await self.frames.wait_audio():
                # Released, closed or no microphone audio in time: the camera was not touched.
                why = self.frames.end_reason or END_NO_AUDIO
                self._send({"type": "ended", "reason": why, "seconds": 0.0})
                return
            result = await speaker.play([live_source(self.frames)])
        except TalkError as err:
            # Not an action: nothing else logs it (the card shows the translated error).
            LOGGER.warning("%s: push-to-talk failed: %s", self.entity_id, err)
            error = async_talk_failed(
                self._hass, config_entry, err, name=self._name, device_id=self.device_id
            )
            self._send({"type": "error", "code": error.translation_key, "message": str(error)})
        else:
            async_talk_played(self._hass, result, device_id=self.device_id)
            reason = self.frames.end_reason
            if result.interrupted or reason is None:
                reason = "interrupted"
            self._send({"type": "ended", "reason": reason, "seconds": round(result.seconds, 2)})
        finally:
            if not self._subscribed:
                self._release_handler()
            talks = self._hass.data[DATA_TALKS]
            if talks.get(self.entity_id) is self:
                del talks[self.entity_id]
            frames = self.frames
            LOGGER.debug(
                "%s: push-to-talk ended (%s): %d frames, %d dropped, %d malformed",
                self.entity_id,
                frames.end_reason,
                frames.received,
                frames.dropped,
                frames.rejected,
            )
