"""Recordings of the aiotvideo OpenAPI (Version 2023-10-01): cloud and device recordings.

Facts (Volcengine docs 6521/1220475, 6521/1169962, 6521/1169960, 6521/1169965, 6521/1169968,
the Go SDK ``volc-sdk-golang`` service/aiot and the Python SDK
``volcenginesdk-aiotvideo20231001``):

* Cloud recordings need a recording plan (template) bound to the stream; both cloud actions are
  rate limited to **10 requests/s per user** (``recordings.RecordingLibrary`` paces them).
* ``ListStreamRecords`` (POST): ``PageNumber`` (default 1) and ``PageSize`` (default 20, max
  30000) in the **query**; ``StreamID``, ``StartTime``, ``EndTime`` (unix s) in the JSON body.
  The ``Result`` is an **array** of ``{"Type", "Path", "Record": {"StartTime", "EndTime",
  "Duration", "Cover", "Format"}}`` (``RecordMeta`` instead of ``Record`` for TS fragments);
  there is no total, so pages are read until one comes back short. ``Type`` is not documented:
  a value containing "alarm" marks an alarm recording (an inference; the emulator says
  ``alarm``/``normal``).
* ``PlayCloudRecord`` (POST, body ``StreamID``, ``StartTime``, ``EndTime``, ``TokenValid``):
  a window of **at most 24 h**; the result keys are **lowercase** ``hls`` and ``mp4``, URLs
  carrying a bearer token (``X-JWT-Token``) valid for ``TokenValid`` seconds. They are
  capabilities: resolved at play time, never stored, logged or shown (``CloudRecordUrls``'s repr
  hides them).
* ``GetRecordList`` (POST, body ``StreamID``, ``StartTime``, ``EndTime``, ``RecordType`` =
  ``time``|``alarm``|``manual``|``all``, ``Order``): ``{"Num", "Items": [{"StartTime",
  "EndTime" (unix s), "Type", "FileSize" (MB), ...}]}`` in the doc; the Python SDK's items carry
  ``StartTimeStamp``/``EndTimeStamp`` strings. Both are parsed: numbers or digit strings (unix s,
  or ms when larger than ``MS_THRESHOLD``), or date-time strings (without an offset: China
  Standard Time, UTC+8, the platform's zone; an inference).
* ``StartPlayback`` (POST, body ``StreamID``, ``StartTime``, ``EndTime``) returns
  ``{"PlaybackID", "PullUrls": ["rtmp://…"]}``; ``ControlPlayback`` (POST, body ``PlaybackID``,
  ``Cmd`` 0 start/1 pause/2 speed/3 seek, ``Ntp`` a **string** of seconds from the clip start,
  ``Scale`` 1/2/4/8/16/32); ``GetPlaybackStatus`` (GET, query ``PlaybackID``);
  ``StopPlayback`` (POST, ``PlaybackID`` in the query, as the Go SDK sends it).
  A device playback keeps the camera's uplink busy: whoever starts one stops it.

Retries follow the transport's rules, with one exception: ``StartPlayback`` is not re-sent after
a timeout (the first request may have started a playback whose ID never arrived; a second one
would leave two running).
"""

from __future__ import annotations

from collections.abc import Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum, StrEnum
import logging
import math
from typing import Any, Final, Self

from .errors import (
    VolcengineError,
    VolcenginePlaybackControlError,
    VolcengineRecordingInputError,
    VolcengineRecordingWindowError,
    VolcengineResponseError,
)
from .models import JsonObject
from .transport import Transport

_LOGGER = logging.getLogger(__name__)

RECORDINGS_API_VERSION: Final = "2023-10-01"
MAX_WINDOW: Final = timedelta(hours=24)  # PlayCloudRecord
RECORDS_PAGE_SIZE: Final = 30000  # ListStreamRecords' documented maximum
MAX_RECORD_PAGES: Final = 10
DEFAULT_TOKEN_VALID: Final = 3600
MS_THRESHOLD: Final = 100_000_000_000  # a larger unix time is in milliseconds
CHINA_TIME: Final = timezone(timedelta(hours=8))
RECORD_TYPES: Final = frozenset({"time", "alarm", "manual", "all"})
SCALES: Final = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
REDACTED: Final = "**REDACTED**"


class RecordSource(StrEnum):
    """Where a recording is kept."""

    CLOUD = "cloud"
    DEVICE = "device"


class PlaybackCommand(IntEnum):
    """The ``Cmd`` of ControlPlayback."""

    START = 0
    PAUSE = 1
    SPEED = 2
    SEEK = 3


def _unix(value: object) -> datetime | None:
    """Return a recording time as an aware UTC datetime (see the module for the forms)."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=CHINA_TIME)
            return parsed.astimezone(UTC)
    if number is None or not math.isfinite(number) or number <= 0:
        return None
    if number > MS_THRESHOLD:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except OverflowError, OSError, ValueError:
        return None


def _first(data: Mapping[str, Any], *names: str) -> object:
    for name in names:
        if data.get(name) not in (None, ""):
            return data[name]
    return None


@dataclass(frozen=True, slots=True)
class Recording:
    """One recording segment as the platform lists it."""

    source: RecordSource
    start: datetime  # UTC, aware
    end: datetime
    alarm: bool
    kind: str | None  # device: "time"/"alarm"/"manual"; cloud: None
    size_mb: float | None

    @property
    def duration(self) -> timedelta:
        """Return the length of the segment."""
        return self.end - self.start

    @classmethod
    def from_cloud(cls, data: JsonObject) -> Self:
        """Build from a ListStreamRecords element (``Record`` or ``RecordMeta``)."""
        record = _first(data, "Record", "RecordMeta")
        times = record if isinstance(record, Mapping) else data
        start = _unix(times.get("StartTime"))
        end = _unix(times.get("EndTime"))
        duration = times.get("Duration")
        if start is not None and end is None and isinstance(duration, int | float):
            end = start + timedelta(seconds=float(duration))
        if start is None or end is None or end <= start:
            msg = "ListStreamRecords element without a valid StartTime/EndTime"
            raise VolcengineResponseError(msg, status=200)
        alarm = "alarm" in str(data.get("Type") or "").lower()
        return cls(RecordSource.CLOUD, start, end, alarm, None, None)

    @classmethod
    def from_device(cls, data: JsonObject) -> Self:
        """Build from a GetRecordList item (the doc's or the Python SDK's shape)."""
        start = _unix(_first(data, "StartTime", "StartTimeStamp"))
        end = _unix(_first(data, "EndTime", "EndTimeStamp"))
        if start is None or end is None or end <= start:
            msg = "GetRecordList item without a valid StartTime/EndTime"
            raise VolcengineResponseError(msg, status=200)
        raw_kind = data.get("Type")
        kind = str(raw_kind).strip().lower() if raw_kind not in (None, "") else None
        size: float | None
        try:
            size = float(data["FileSize"]) if data.get("FileSize") not in (None, "") else None
        except TypeError, ValueError:
            size = None
        if size is not None and not math.isfinite(size):
            size = None
        return cls(RecordSource.DEVICE, start, end, kind == "alarm", kind, size)


@dataclass(frozen=True)
class CloudRecordUrls:
    """The signed play URLs of a cloud recording window (capabilities: never shown)."""

    hls: str | None = field(repr=False)
    mp4: str | None = field(repr=False)

    def __repr__(self) -> str:
        """Return a representation that does not contain the URLs."""
        hls = REDACTED if self.hls else None
        mp4 = REDACTED if self.mp4 else None
        return f"CloudRecordUrls(hls={hls!r}, mp4={mp4!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class Playback:
    """A device playback: its ID and the pull URLs of the camera's stream (never shown)."""

    playback_id: str
    pull_urls: tuple[str, ...] = field(repr=False)

    def __repr__(self) -> str:
        """Return a representation that does not contain the URLs."""
        return f"Playback(playback_id={self.playback_id!r}, pull_urls=<{len(self.pull_urls)}>)"

    __str__ = __repr__


def _stream(stream_id: str) -> str:
    if not isinstance(stream_id, str) or not stream_id:
        msg = "A StreamID is required"
        raise VolcengineRecordingInputError(msg)
    return stream_id


def unix_window(
    start: datetime, end: datetime, *, max_window: timedelta | None = None
) -> tuple[int, int]:
    """Return a window as unix seconds (start floored, end rounded up), checked."""
    if (
        not isinstance(start, datetime)
        or not isinstance(end, datetime)
        or start.tzinfo is None
        or end.tzinfo is None
        or end <= start
    ):
        msg = "A recording window needs aware start and end times, the end after the start"
        raise VolcengineRecordingInputError(msg)
    first, last = math.floor(start.timestamp()), math.ceil(end.timestamp())
    if max_window is not None and last - first > max_window.total_seconds():
        hours = int(max_window.total_seconds() // 3600)
        msg = f"A recording window of {last - first} s is longer than {hours} h"
        raise VolcengineRecordingWindowError(msg, max_hours=str(hours))
    return first, last


def _items(result: object, key: str) -> list[JsonObject]:
    if isinstance(result, Mapping):
        result = result.get(key)
    return [i for i in result if isinstance(i, Mapping)] if isinstance(result, list) else []


def _parse_all(
    action: str, items: list[JsonObject], build: Any, seen: dict[tuple[datetime, datetime], Any]
) -> None:
    for item in items:
        try:
            recording = build(item)
        except VolcengineResponseError as err:
            _LOGGER.debug("%s: skipped an item that is no recording: %s", action, err)
            continue
        seen.setdefault((recording.start, recording.end), recording)


class RecordingsMixin:
    """Recording methods of ``VolcengineClient`` (cloud and device, see the module)."""

    async def list_cloud_records(
        self: Transport,
        stream_id: str,
        start: datetime,
        end: datetime,
        *,
        page_size: int = RECORDS_PAGE_SIZE,
        max_pages: int = MAX_RECORD_PAGES,
    ) -> list[Recording]:
        """Return the cloud recordings overlapping a window, oldest first (all pages).

        At most ``max_pages`` requests; a window with more segments is cut (logged).
        """
        first, last = unix_window(start, end)
        body = {"StreamID": _stream(stream_id), "StartTime": first, "EndTime": last}
        found: dict[tuple[datetime, datetime], Recording] = {}
        for number in range(1, max(max_pages, 1) + 1):
            result = await self.request_result(
                "ListStreamRecords",
                {"PageNumber": str(number), "PageSize": str(page_size)},
                method="POST",
                body=body,
                version=RECORDINGS_API_VERSION,
            )
            items = _items(result, "Records")
            _parse_all("ListStreamRecords", items, Recording.from_cloud, found)
            if len(items) < page_size:
                break
        else:
            _LOGGER.debug("ListStreamRecords: stopped after %d pages", max_pages)
        return sorted(found.values(), key=lambda r: (r.start, r.end))

    async def play_cloud_record(
        self: Transport,
        stream_id: str,
        start: datetime,
        end: datetime,
        *,
        token_valid: int = DEFAULT_TOKEN_VALID,
    ) -> CloudRecordUrls:
        """Return the signed ``hls``/``mp4`` URLs of a cloud window of at most 24 h."""
        first, last = unix_window(start, end, max_window=MAX_WINDOW)
        if isinstance(token_valid, bool) or not isinstance(token_valid, int) or token_valid <= 0:
            msg = "TokenValid must be a positive number of seconds"
            raise VolcengineRecordingInputError(msg)
        result = await self.request(
            "PlayCloudRecord",
            method="POST",
            body={
                "StreamID": _stream(stream_id),
                "StartTime": first,
                "EndTime": last,
                "TokenValid": token_valid,
            },
            version=RECORDINGS_API_VERSION,
        )
        urls = {
            key: value if isinstance(value, str) and value else None
            for key, value in (("hls", result.get("hls")), ("mp4", result.get("mp4")))
        }
        if not any(urls.values()):
            msg = "PlayCloudRecord answered without an hls or mp4 URL"
            raise VolcengineResponseError(msg, status=200)
        return CloudRecordUrls(hls=urls["hls"], mp4=urls["mp4"])

    async def list_device_records(
        self: Transport,
        stream_id: str,
        start: datetime,
        end: datetime,
        *,
        record_type: str = "all",
    ) -> list[Recording]:
        """Return the recordings on the device overlapping a window, oldest first."""
        first, last = unix_window(start, end)
        if record_type not in RECORD_TYPES:
            msg = f"RecordType {record_type!r} is not time, alarm, manual or all"
            raise VolcengineRecordingInputError(msg)
        result = await self.request(
            "GetRecordList",
            method="POST",
            body={
                "StreamID": _stream(stream_id),
                "StartTime": first,
                "EndTime": last,
                "RecordType": record_type,
                "Order": True,
            },
            version=RECORDINGS_API_VERSION,
        )
        found: dict[tuple[datetime, datetime], Recording] = {}
        _parse_all("GetRecordList", _items(result, "Items"), Recording.from_device, found)
        return sorted(found.values(), key=lambda r: (r.start, r.end))

    async def start_playback(
        self: Transport, stream_id: str, start: datetime, end: datetime
    ) -> Playback:
        """Start a device playback of a window; the caller must ``stop_playback`` it."""
        first, last = unix_window(start, end)
        result = await self.request(
            "StartPlayback",
            method="POST",
            body={"StreamID": _stream(stream_id), "StartTime": first, "EndTime": last},
            idempotent=False,
            version=RECORDINGS_API_VERSION,
        )
        playback_id = result.get("PlaybackID")
        urls = result.get("PullUrls")
        pull_urls = (
            tuple(u for u in urls if isinstance(u, str) and u) if isinstance(urls, list) else ()
        )
        if not isinstance(playback_id, str) or not playback_id:
            msg = "StartPlayback answered without a PlaybackID"
            raise VolcengineResponseError(msg, status=200)
        if not pull_urls:  # nothing to play: stop what was started, then say so
            with contextlib.suppress(VolcengineError):
                await RecordingsMixin.stop_playback(self, playback_id)
            msg = "StartPlayback answered without a pull URL"
            raise VolcengineResponseError(msg, status=200)
        return Playback(playback_id, pull_urls)

    async def stop_playback(self: Transport, playback_id: str) -> None:
        """Stop a device playback."""
        await self.request(
            "StopPlayback",
            {"PlaybackID": _playback_id(playback_id)},
            method="POST",
            body={},
            version=RECORDINGS_API_VERSION,
        )

    async def control_playback(
        self: Transport,
        playback_id: str,
        cmd: PlaybackCommand | int,
        *,
        ntp: str = "0",
        scale: float = 1.0,
    ) -> None:
        """Start, pause, change the speed (``scale``) or seek (``ntp``: seconds) a playback."""
        try:
            command = PlaybackCommand(cmd)
        except ValueError:
            command = None
        valid_ntp = isinstance(ntp, str) and ntp.isdigit()
        if command is None or not valid_ntp or scale not in SCALES or isinstance(scale, bool):
            msg = f"Playback control {cmd!r} at {ntp!r} and speed {scale!r} is not valid"
            raise VolcenginePlaybackControlError(
                msg, command=str(cmd), ntp=str(ntp), scale=str(scale)
            )
        await self.request(
            "ControlPlayback",
            method="POST",
            body={
                "PlaybackID": _playback_id(playback_id),
                "Cmd": int(command),
                "Ntp": ntp,
                "Scale": float(scale),
            },
            version=RECORDINGS_API_VERSION,
        )

    async def playback_status(self: Transport, playback_id: str) -> str | None:
        """Return a playback's ``Status`` (values not documented), None when absent."""
        result = await self.request(
            "GetPlaybackStatus",
            {"PlaybackID": _playback_id(playback_id)},
            version=RECORDINGS_API_VERSION,
        )
        status = result.get("Status")
        return str(status) if status not in (None, "") else None


def _playback_id(playback_id: str) -> str:
    if not isinstance(playback_id, str) or not playback_id:
        msg = "A PlaybackID is required"
        raise VolcengineRecordingInputError(msg)
    return playback_id
