"""Async client of the Volcengine AIoT Video OpenAPI (service ``aiotvideo``).

Version 2021-01-01 for every action but ``ListDeviceAlarms`` (2023-10-01).

HA-free: it takes an injected ``aiohttp.ClientSession`` and speaks nothing but the OpenAPI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
import json
import logging
import random
import re
import socket
from typing import Final

import aiohttp
from yarl import URL

from .errors import (
    VolcengineApiError,
    VolcengineConnectionError,
    VolcengineError,
    VolcengineInvalidCredentialsError,
    VolcengineInvalidEndpointError,
    VolcengineResponseError,
    VolcengineTimeoutError,
    error_class,
    is_retryable,
)
from .models import (
    Alarm,
    AlarmList,
    Channel,
    Device,
    JsonObject,
    Space,
    StreamInfo,
    StreamUrls,
    VoiceTalk,
)
from .ptz import PtzDialect, PtzMixin
from .recordings import RecordingsMixin
from .signer import Credentials, canonical_query, host_header, sign_headers

_LOGGER = logging.getLogger(__name__)

API_VERSION: Final = "2021-01-01"
API_VERSION_2023: Final = "2023-10-01"  # the "V3" actions (ListDeviceAlarms, ...)
DEFAULT_ENDPOINT: Final = "https://open.volcengineapi.com"
DEFAULT_REGION: Final = "cn-north-1"
JSON_CONTENT_TYPE: Final = "application/json; charset=UTF-8"
PAGE_SIZE: Final = 100
PAGE_CONCURRENCY: Final = 4
ALARM_PAGE_SIZE: Final = 100
MAX_ALARM_PAGES: Final = 10  # pages of one alarm listing; the caller continues from the last
_BACKOFF_BASE = 0.5  # seconds; doubled per retry, capped, with jitter
_BACKOFF_CAP: Final = 8.0
# What a signed request can carry: the AccessKey ID and the region go into the Authorization
# header's credential scope (``AK/date/region/service/request``), so no whitespace, control
# character, ``/`` or ``,``; the SecretKey is only an HMAC key but a pasted line break is a typo.
_ACCESS_KEY_RE: Final = re.compile(r"[!-~]+")
_REGION_RE: Final = re.compile(r"[A-Za-z0-9_-]+")
_SECRET_RE: Final = re.compile(r"[^\x00-\x20\x7f]+")


def validate_settings(
    access_key_id: str, secret_access_key: str, region: str, endpoint: str
) -> URL:
    """Check the client's settings and return the endpoint as a URL (no path, no trailing /).

    Raises ``VolcengineInvalidCredentialsError`` or ``VolcengineInvalidEndpointError`` (both
    ``ValueError``) instead of letting a header-unsafe value reach aiohttp.
    """
    if not _ACCESS_KEY_RE.fullmatch(access_key_id) or any(c in access_key_id for c in "/,"):
        raise VolcengineInvalidCredentialsError(
            "access_key_id", "empty or holds characters an AccessKey ID cannot have"
        )
    if not _SECRET_RE.fullmatch(secret_access_key):
        raise VolcengineInvalidCredentialsError(
            "secret_access_key", "empty or holds whitespace or control characters"
        )
    if not _REGION_RE.fullmatch(region):
        raise VolcengineInvalidCredentialsError(
            "region", "only letters, digits, '-' and '_' are allowed"
        )
    return _endpoint_url(endpoint)


def _endpoint_url(endpoint: str) -> URL:
    if not endpoint.isprintable() or any(c.isspace() for c in endpoint):
        msg = "whitespace or control characters"
        raise VolcengineInvalidEndpointError(msg)
    try:
        url = URL(endpoint)
        host = url.host
        port = url.explicit_port
    except ValueError as err:  # an unparsable port or host
        msg = "not a URL"
        raise VolcengineInvalidEndpointError(msg) from err
    if not url.is_absolute() or url.scheme not in ("http", "https") or not host:
        msg = "not an http(s)://host URL"
        raise VolcengineInvalidEndpointError(msg)
    if url.raw_user is not None or url.raw_password is not None:
        msg = "userinfo (name@ or name:secret@) is not allowed"
        raise VolcengineInvalidEndpointError(msg)
    if url.raw_query_string or "?" in endpoint or url.raw_fragment or "#" in endpoint:
        msg = "a query or fragment is not allowed"
        raise VolcengineInvalidEndpointError(msg)
    if url.raw_path not in ("", "/"):
        msg = "a path is not allowed (the OpenAPI is served at /)"
        raise VolcengineInvalidEndpointError(msg)
    return URL.build(scheme=url.scheme, host=host, port=port, encoded=False)


class VolcengineClient(PtzMixin, RecordingsMixin):
    """Signed, retrying calls to the aiotvideo OpenAPI (PTZ: ``api.ptz``, ``api.recordings``)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        access_key_id: str,
        secret_access_key: str,
        *,
        region: str = DEFAULT_REGION,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Initialize the client; ``endpoint`` may point at a local emulator."""
        self._endpoint = validate_settings(access_key_id, secret_access_key, region, endpoint)
        self._session = session
        self._credentials = Credentials(access_key_id, secret_access_key)
        self.region = region
        self._host = host_header(
            self._endpoint.scheme, self._endpoint.raw_host or "", self._endpoint.explicit_port
        )
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._backoff = _BACKOFF_BASE if backoff is None else backoff
        self._clock = clock or (lambda: datetime.now(UTC))
        self.ptz_dialect = PtzDialect()  # learned on the first PTZ success (diagnostics)

    def __repr__(self) -> str:
        """Return a representation without secrets."""
        return (
            f"VolcengineClient(endpoint={str(self._endpoint)!r}, region={self.region!r}, "
            f"access_key_id={self._credentials.access_key_id!r})"
        )

    # --- transport -------------------------------------------------------------------------

    async def request(
        self,
        action: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        body: JsonObject | None = None,
        idempotent: bool = True,
        version: str = API_VERSION,
    ) -> JsonObject:
        """Call an action and return its ``Result`` object, retrying what is safe to retry."""
        result = await self.request_result(
            action, params, method=method, body=body, idempotent=idempotent, version=version
        )
        return result if isinstance(result, Mapping) else {}

    async def request_result(
        self,
        action: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        body: JsonObject | None = None,
        idempotent: bool = True,
        version: str = API_VERSION,
    ) -> object:
        """Like ``request``, but return ``Result`` as it came (ListStreamRecords: an array)."""
        attempt = 0
        while True:
            try:
                return await self._request_once(action, params or {}, method, body, version)
            except VolcengineError as err:
                retry = is_retryable(err) and not (
                    isinstance(err, VolcengineTimeoutError) and not idempotent
                )
                if not retry or attempt >= self._retries:
                    raise
                delay = min(_BACKOFF_CAP, self._backoff * 2**attempt)
                delay += random.uniform(0, delay / 2)  # noqa: S311 - jitter, not crypto
                attempt += 1
                _LOGGER.debug(
                    "%s failed (%s), retry %d/%d in %.2fs",
                    action,
                    type(err).__name__,
                    attempt,
                    self._retries,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _request_once(
        self,
        action: str,
        params: Mapping[str, str],
        method: str,
        body: JsonObject | None,
        version: str = API_VERSION,
    ) -> object:
        query = {"Action": action, "Version": version, **params}
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = sign_headers(
            self._credentials,
            method=method,
            host=self._host,
            query=query,
            body=payload,
            region=self.region,
            now=self._clock(),
            content_type=None if body is None else JSON_CONTENT_TYPE,
        )
        url = URL(f"{str(self._endpoint).rstrip('/')}/?{canonical_query(query)}", encoded=True)
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                data=payload if body is not None else None,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError as err:
            msg = f"Timeout calling {action}"
            raise VolcengineTimeoutError(msg) from err
        except (aiohttp.ClientError, socket.gaierror, OSError) as err:
            msg = f"Cannot reach the Volcengine OpenAPI for {action}: {type(err).__name__}"
            raise VolcengineConnectionError(msg) from err
        return _parse(action, status, raw)

    # --- spaces and devices ----------------------------------------------------------------

    async def list_spaces(self) -> list[Space]:
        """Return every space of the account."""
        items = await self._paged("ListSpaces", {}, "Spaces")
        return [Space.from_json(item) for item in items]

    async def list_devices(self, space_id: str) -> list[Device]:
        """Return every device of a space (all pages)."""
        items = await self._paged("ListDevices", {"SpaceID": space_id}, "Devices")
        devices: dict[str, Device] = {}
        for item in items:
            device = Device.from_json(item)
            devices.setdefault(device.device_id, device)
        return list(devices.values())

    async def count_devices(self, space_id: str) -> int:
        """Return how many devices a space has, with one small ``ListDevices`` call.

        Checks that the key may list the space's devices without fetching every page.
        """
        result = await self.request(
            "ListDevices", {"SpaceID": space_id, "PageNumber": "1", "PageSize": "1"}
        )
        devices = result.get("Devices")
        return _total(result, len(devices) if isinstance(devices, list) else 0)

    async def get_device_channels(self, space_id: str, device_id: str) -> list[Channel]:
        """Return the channels of a device (brief, cached query)."""
        result = await self.request(
            "GetDeviceChannelsV2",
            {"SpaceID": space_id, "DeviceID": device_id, "QueryMode": "brief"},
        )
        channels = result.get("Channels")
        if not isinstance(channels, list):
            return []
        return [Channel.from_json(item) for item in channels if isinstance(item, Mapping)]

    async def _paged(self, action: str, params: Mapping[str, str], key: str) -> list[JsonObject]:
        """Fetch page 1, then the other pages concurrently (bounded) once TotalCount is known."""

        async def page(number: int) -> tuple[list[JsonObject], int]:
            result = await self.request(
                action,
                {**params, "PageNumber": str(number), "PageSize": str(PAGE_SIZE)},
            )
            items = result.get(key)
            found = [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
            return found, _total(result, len(found))

        first, total = await page(1)
        if total <= len(first) or not first:
            return first
        pages = -(-total // PAGE_SIZE)
        limit = asyncio.Semaphore(PAGE_CONCURRENCY)

        async def bounded(number: int) -> list[JsonObject]:
            async with limit:
                return (await page(number))[0]

        rest = await asyncio.gather(*(bounded(n) for n in range(2, pages + 1)))
        return [item for items in (first, *rest) for item in items]

    # --- alarms ------------------------------------------------------------------------------

    async def list_alarms(
        self,
        space_id: str,
        start_time: int,
        end_time: int | None = None,
        *,
        device_nsid: str | None = None,
        channel_id: str | None = None,
        max_pages: int = MAX_ALARM_PAGES,
    ) -> AlarmList:
        """Return the alarms of a space (or one device/channel) from ``start_time`` (unix s).

        ``ListAlarmNotify`` (2021-01-01): one call per page for the whole space, oldest first
        (``Order`` 0), pages fetched one after another (new alarms are appended at the end, so
        the pages already read do not shift), at most ``max_pages`` (``complete`` is False
        then). The usual retry, backoff and clock-skew rules of ``request`` apply to each page.
        """
        body: dict[str, object] = {"StartTime": start_time, "Order": 0}
        if end_time is not None:
            body["EndTime"] = end_time
        if device_nsid:
            body["DeviceNSID"] = device_nsid
        if channel_id:
            body["ChannelID"] = channel_id
        return await self._alarm_pages(
            "ListAlarmNotify",
            {"SpaceID": space_id},
            body,
            API_VERSION,
            max_pages,
            space_id=space_id,
        )

    async def list_device_alarms(
        self,
        device_id: str,
        start_time: int,
        end_time: int | None = None,
        *,
        stream_id: str | None = None,
        max_pages: int = MAX_ALARM_PAGES,
    ) -> AlarmList:
        """Return the alarms of one device (platform DeviceID) with ``ListDeviceAlarms``.

        2023-10-01, known from the Go SDK only (no public doc page): one call per device, so it
        serves to confirm a device's alarms, not to poll a space.
        """
        body: dict[str, object] = {"DeviceID": device_id, "StartTime": start_time, "Order": 0}
        if end_time is not None:
            body["EndTime"] = end_time
        if stream_id:
            body["StreamID"] = stream_id
        return await self._alarm_pages(
            "ListDeviceAlarms", {}, body, API_VERSION_2023, max_pages, device_id=device_id
        )

    async def _alarm_pages(
        self,
        action: str,
        params: Mapping[str, str],
        body: JsonObject,
        version: str,
        max_pages: int,
        *,
        space_id: str | None = None,
        device_id: str | None = None,
    ) -> AlarmList:
        alarms: dict[str, Alarm] = {}
        skipped = 0
        total = 0
        for number in range(1, max(max_pages, 1) + 1):
            result = await self.request(
                action,
                {**params, "PageNumber": str(number), "PageSize": str(ALARM_PAGE_SIZE)},
                method="POST",
                body=body,
                version=version,
            )
            items = result.get("AlarmNotifies")
            items = items if isinstance(items, list) else []
            for item in items:
                try:
                    if not isinstance(item, Mapping):
                        raise VolcengineResponseError("not an object", status=200)  # noqa: TRY301
                    alarm = Alarm.from_json(item, space_id=space_id, device_id=device_id)
                except VolcengineResponseError as err:
                    skipped += 1
                    _LOGGER.debug("%s: skipped an item that is no alarm: %s", action, err)
                    continue
                alarms.setdefault(alarm.alarm_id, alarm)
            total = _total(result, (number - 1) * ALARM_PAGE_SIZE + len(items))
            if len(items) < ALARM_PAGE_SIZE or number * ALARM_PAGE_SIZE >= total:
                return AlarmList(tuple(alarms.values()), total, skipped=skipped)
        return AlarmList(tuple(alarms.values()), total, complete=False, skipped=skipped)

    # --- voice talk and streams ------------------------------------------------------------

    async def start_voice_talk(
        self, space_id: str, device_nsid: str, transport: str | None = None
    ) -> VoiceTalk:
        """Start a voice talk and return the WebSocket URL to push audio to."""
        params = {"SpaceID": space_id, "DeviceNSID": device_nsid}
        if transport:
            params["Transport"] = transport
        result = await self.request(
            "StartVoiceTalk", params, method="POST", body={}, idempotent=False
        )
        return VoiceTalk.from_json(result)

    async def stop_voice_talk(self, space_id: str, device_nsid: str) -> None:
        """End a voice talk."""
        await self.request(
            "StopVoiceTalk",
            {"SpaceID": space_id, "DeviceNSID": device_nsid},
            method="POST",
            body={},
        )

    async def start_stream(
        self,
        space_id: str,
        stream_id: str,
        streaming_index: int = 0,
        *,
        ignore_audio: bool | None = None,
        fresh_expired_pull: bool | None = None,
        enable_audio_transcode: bool | None = None,
    ) -> StreamUrls:
        """Start pulling a stream and return its play URLs.

        ``ignore_audio``, ``fresh_expired_pull`` (re-sign expired pull URLs) and
        ``enable_audio_transcode`` (G.711 -> AAC) are sent as ``"1"``/``"0"`` when given.
        """
        params = {"SpaceID": space_id, "StreamID": stream_id}
        for name, value in (
            ("IgnoreAudio", ignore_audio),
            ("FreshExpiredPull", fresh_expired_pull),
            ("EnableAudioTranscode", enable_audio_transcode),
        ):
            if value is not None:
                params[name] = "1" if value else "0"
        result = await self.request(
            "StartStream",
            params,
            method="POST",
            body={"StreamingIndex": streaming_index},
            idempotent=False,
        )
        return StreamUrls.from_json(result, stream_id)

    async def get_stream(
        self,
        space_id: str,
        stream_id: str,
        streaming_index: int = 0,
        *,
        fresh_expired_pull: bool = False,
    ) -> StreamInfo:
        """Return a stream's status and pull URLs (``fresh_expired_pull``: re-sign expired ones)."""
        params = {
            "SpaceID": space_id,
            "StreamID": stream_id,
            "StreamingIndex": str(streaming_index),
        }
        if fresh_expired_pull:
            params["FreshExpiredPull"] = "1"
        return StreamInfo.from_json(await self.request("GetStream", params), stream_id)

    async def stop_stream(self, space_id: str, stream_id: str, streaming_index: int = 0) -> None:
        """Stop pulling a stream."""
        await self.request(
            "StopStream",
            {"SpaceID": space_id, "StreamID": stream_id},
            method="POST",
            body={"StreamingIndex": streaming_index},
        )


def _total(result: JsonObject, default: int) -> int:
    try:
        return int(result.get("TotalCount", default))
    except TypeError, ValueError:
        return default


def _parse(action: str, status: int, raw: bytes) -> object:
    """Turn an HTTP answer into its Result (None if absent) or the matching exception."""
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    if not isinstance(data, Mapping):
        msg = f"{action} answered with a body that is not an OpenAPI envelope"
        raise VolcengineResponseError(msg, status=status)
    metadata = data.get("ResponseMetadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    error = metadata.get("Error")
    request_id = metadata.get("RequestId")
    if isinstance(error, Mapping) and error.get("Code"):
        code = str(error["Code"])
        code_n = error.get("CodeN")
        cls = error_class(code, status)
        raise cls(
            code,
            str(error.get("Message", "")),
            status=status,
            request_id=str(request_id) if request_id else None,
            code_n=code_n if isinstance(code_n, int) else None,
        )
    if status >= 400:  # noqa: PLR2004
        msg = f"{action} failed without an error code"
        raise VolcengineResponseError(msg, status=status)
    return data.get("Result")


__all__ = [
    "API_VERSION",
    "API_VERSION_2023",
    "VolcengineApiError",
    "VolcengineClient",
    "validate_settings",
]
