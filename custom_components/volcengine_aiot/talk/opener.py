"""StartVoiceTalk / StopVoiceTalk of one device through the OpenAPI client.

The only place where the talk pipeline meets ``api/``: every API error is translated here into a
talk error (each with its translation key), so the HA glue maps one error family.
"""

from __future__ import annotations

from ..api import (
    VolcengineAuthError,
    VolcengineClient,
    VolcengineConnectionError,
    VolcengineDeviceBusyError,
    VolcengineDeviceUnreachableError,
    VolcengineError,
)
from ..api.errors import VolcengineApiError
from .errors import (
    TalkAuthError,
    TalkDeviceBusyError,
    TalkDeviceUnreachableError,
    TalkError,
    TalkStartError,
)


def translate(err: VolcengineError) -> TalkError:
    """Return the talk error for an API error (its text carries no credential or talk URL)."""
    text = str(err)
    if isinstance(err, VolcengineDeviceBusyError):
        return TalkDeviceBusyError(text)
    if isinstance(err, VolcengineAuthError):
        return TalkAuthError(text)
    if isinstance(err, VolcengineDeviceUnreachableError):
        return TalkDeviceUnreachableError(text, error=err.code)
    code = err.code if isinstance(err, VolcengineApiError) else text
    # No answer (timeout, connection dropped): the request may have reached the platform.
    return TalkStartError(
        text, may_have_started=isinstance(err, VolcengineConnectionError), error=code
    )


class ClientTalkOpener:
    """Starts and stops the voice talk of one device (a ``TalkOpener``)."""

    def __init__(
        self, client: VolcengineClient, space_id: str, device_nsid: str, transport: str = "tcp"
    ) -> None:
        """Initialize for one device."""
        self._client = client
        self._space_id = space_id
        self._device_nsid = device_nsid
        self._transport = transport

    async def start(self) -> str:
        """Call StartVoiceTalk and return the AudioSendUrl; raises a ``TalkError``."""
        try:
            talk = await self._client.start_voice_talk(
                self._space_id, self._device_nsid, self._transport
            )
        except VolcengineError as err:
            raise translate(err) from err
        return talk.audio_send_url

    async def stop(self) -> None:
        """Call StopVoiceTalk; raises a ``TalkError``."""
        try:
            await self._client.stop_voice_talk(self._space_id, self._device_nsid)
        except VolcengineError as err:
            raise translate(err) from err
