"""StartVoiceTalk / StopVoiceTalk of one device through the OpenAPI client."""

from __future__ import annotations

from ..api import VolcengineClient


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
        """Call StartVoiceTalk and return the AudioSendUrl."""
        talk = await self._client.start_voice_talk(
            self._space_id, self._device_nsid, self._transport
        )
        return talk.audio_send_url

    async def stop(self) -> None:
        """Call StopVoiceTalk."""
        await self._client.stop_voice_talk(self._space_id, self._device_nsid)
