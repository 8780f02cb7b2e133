"""The authenticated view that plays a cloud recording without handing out its signed URL.

PlayCloudRecord answers with an ``mp4`` URL that carries a token (``X-JWT-Token``) valid for an
hour. Handed to the browser, the token would sit in its history, the media player's state and
any cast device. This view (Home Assistant authentication, like UniFi Protect's video proxy)
asks for a fresh URL at every request, fetches the recording and relays it, ``Range`` requests
included (seeking); the URL never leaves Home Assistant and is never stored, so it cannot be
served expired either.
"""

from __future__ import annotations

from http import HTTPStatus

import aiohttp
from aiohttp import hdrs, web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .api import VolcengineError, VolcengineThrottledError
from .const import DOMAIN, LOGGER
from .recording_ids import find_channel, loaded_entry, parse_range, range_part

URL = f"/api/{DOMAIN}/recordings/{{entry_id}}/{{stream_id}}/{{time_range}}.mp4"
CHUNK = 65536
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=15, sock_connect=15, sock_read=30)
RELAYED_HEADERS = (
    hdrs.CONTENT_TYPE,
    hdrs.CONTENT_LENGTH,
    hdrs.CONTENT_RANGE,
    hdrs.ACCEPT_RANGES,
    hdrs.LAST_MODIFIED,
)
DATA_VIEW = f"{DOMAIN}_recording_view"


def recording_url(entry_id: str, stream_id: str, start_end: str) -> str:
    """Return the path of the view that plays a cloud recording."""
    return URL.format(entry_id=entry_id, stream_id=stream_id, time_range=start_end)


def async_register_view(hass: HomeAssistant) -> None:
    """Register the view once per Home Assistant."""
    if DATA_VIEW not in hass.data:
        hass.data[DATA_VIEW] = True
        hass.http.register_view(CloudRecordingView())


class CloudRecordingView(HomeAssistantView):
    """Relay a cloud recording (MP4) from a URL resolved for this request only."""

    url = URL
    name = f"api:{DOMAIN}:recording"
    requires_auth = True

    async def get(
        self, request: web.Request, entry_id: str, stream_id: str, time_range: str
    ) -> web.StreamResponse:
        """Fetch a fresh URL of the recording and relay the recording (or the range asked)."""
        hass = request.app[KEY_HASS]
        entry = loaded_entry(hass, entry_id)
        if entry is None or find_channel(entry, stream_id) is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if (times := parse_range(time_range)) is None:
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        start, end = times
        try:
            urls = await entry.runtime_data.recordings.cloud_urls(stream_id, start, end)
        except VolcengineThrottledError:
            return web.Response(status=HTTPStatus.TOO_MANY_REQUESTS)
        except VolcengineError as err:
            LOGGER.debug("No URL for the recording %s of %s: %s", time_range, stream_id, err)
            return web.Response(status=HTTPStatus.BAD_GATEWAY)
        if not urls.mp4:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        headers = {}
        if range_header := request.headers.get(hdrs.RANGE):
            headers[hdrs.RANGE] = range_header
        response = web.StreamResponse()
        try:
            async with async_get_clientsession(hass).get(
                urls.mp4, headers=headers, timeout=FETCH_TIMEOUT, allow_redirects=True
            ) as upstream:
                if upstream.status not in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
                    LOGGER.debug(
                        "The recording %s of %s answered HTTP %s",
                        range_part(start, end),
                        stream_id,
                        upstream.status,
                    )
                    status = (
                        upstream.status
                        if upstream.status == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
                        else HTTPStatus.BAD_GATEWAY
                    )
                    return web.Response(status=status)
                response.set_status(upstream.status)
                for name in RELAYED_HEADERS:
                    if (value := upstream.headers.get(name)) is not None:
                        response.headers[name] = value
                response.headers.setdefault(hdrs.CONTENT_TYPE, "video/mp4")
                await response.prepare(request)
                async for chunk in upstream.content.iter_chunked(CHUNK):
                    await response.write(chunk)
        except (aiohttp.ClientError, TimeoutError, ConnectionResetError) as err:
            # The message of aiohttp's errors can hold the URL: only the type is logged.
            LOGGER.debug("Relaying the recording of %s failed: %s", stream_id, type(err).__name__)
            if not response.prepared:
                return web.Response(status=HTTPStatus.BAD_GATEWAY)
            return response
        await response.write_eof()
        return response
