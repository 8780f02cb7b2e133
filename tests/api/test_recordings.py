"""Recording client methods against the emulator, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.volcengine_aiot.api import (
    CloudRecordUrls,
    Playback,
    PlaybackCommand,
    Recording,
    RecordSource,
    VolcengineClient,
    VolcengineDeviceUnreachableError,
    VolcengineNoRecordingPlanError,
    VolcenginePlaybackControlError,
    VolcengineRecordingInputError,
    VolcengineRecordingWindowError,
    VolcengineRecordNotFoundError,
    VolcengineResponseError,
    VolcengineThrottledError,
    VolcengineTimeoutError,
    errors as api_errors,
)
from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_OFFLINE_STREAM_ID,
    HOME_IPC_STREAM_ID,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_STREAM_ID,
)
from tests.emulator.recordings import MANY_SEGMENT_COUNT

GARDEN = HOME_NVR_STREAM_IDS[0]
BACK_YARD = HOME_NVR_STREAM_IDS[1]
TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / "volcengine_aiot" / "translations"


def last_day(emulator: Emulator) -> tuple[datetime, datetime]:
    end = emulator.recordings.anchor
    return end - timedelta(days=1), end


def many_day(emulator: Emulator) -> tuple[datetime, datetime]:
    start = datetime.combine(emulator.recordings.many_day, datetime.min.time(), UTC)
    return start, start + timedelta(days=1)


def bodies(emulator: Emulator, action: str) -> list[dict[str, Any]]:
    return [json.loads(r.body) if r.body else {} for r in emulator.requests_for(action)]


# --- cloud -----------------------------------------------------------------------------------


async def test_list_cloud_records_pages_through_a_busy_day(
    client: VolcengineClient, emulator: Emulator
) -> None:
    start, end = many_day(emulator)
    records = await client.list_cloud_records(SHOP_IPC_STREAM_ID, start, end, page_size=1000)
    assert len(records) == MANY_SEGMENT_COUNT
    assert [r.start for r in records] == sorted(r.start for r in records)
    assert records[0] == Recording(
        RecordSource.CLOUD, start, start + timedelta(seconds=20), False, None, None
    )
    assert sum(r.alarm for r in records) == 24
    requests = emulator.requests_for("ListStreamRecords")
    assert [r.query["PageNumber"] for r in requests] == ["1", "2", "3", "4", "5"]
    assert {r.method for r in requests} == {"POST"}
    assert {r.query["Version"] for r in requests} == {"2023-10-01"}
    body = json.loads(requests[0].body)
    assert body == {
        "StreamID": SHOP_IPC_STREAM_ID,
        "StartTime": int(start.timestamp()),
        "EndTime": int(end.timestamp()),
    }
    # by default one request holds a whole day (PageSize 30000, the documented maximum)
    emulator.requests.clear()
    assert len(await client.list_cloud_records(SHOP_IPC_STREAM_ID, start, end)) == 4320
    (request,) = emulator.requests_for("ListStreamRecords")
    assert request.query["PageSize"] == "30000"


async def test_list_cloud_records_stops_at_max_pages(
    client: VolcengineClient, emulator: Emulator
) -> None:
    start, end = many_day(emulator)
    records = await client.list_cloud_records(
        SHOP_IPC_STREAM_ID, start, end, page_size=100, max_pages=3
    )
    assert len(records) == 300
    assert len(emulator.requests_for("ListStreamRecords")) == 3


async def test_cloud_errors(client: VolcengineClient, emulator: Emulator) -> None:
    start, end = last_day(emulator)
    with pytest.raises(VolcengineNoRecordingPlanError) as err:
        await client.list_cloud_records(GARDEN, start, end)
    assert err.value.translation_key == "recording_no_plan"
    with pytest.raises(VolcengineNoRecordingPlanError):
        await client.play_cloud_record(GARDEN, end - timedelta(hours=1), end)
    with pytest.raises(VolcengineRecordNotFoundError):
        await client.play_cloud_record(HOME_IPC_STREAM_ID, end, end + timedelta(minutes=5))
    # refused before anything is sent
    sent = len(emulator.requests)
    with pytest.raises(VolcengineRecordingWindowError) as window:
        await client.play_cloud_record(HOME_IPC_STREAM_ID, start - timedelta(seconds=1), end)
    assert window.value.placeholders == {"max_hours": "24"}
    for bad in ((end, start), (start.replace(tzinfo=None), end)):
        with pytest.raises(VolcengineRecordingInputError):
            await client.list_cloud_records(HOME_IPC_STREAM_ID, *bad)
    with pytest.raises(VolcengineRecordingInputError):
        await client.play_cloud_record(HOME_IPC_STREAM_ID, start, end, token_valid=0)
    with pytest.raises(VolcengineRecordingInputError):
        await client.list_cloud_records("", start, end)
    assert len(emulator.requests) == sent


async def test_play_cloud_record_urls_are_never_shown(
    client: VolcengineClient, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, end = last_day(emulator)
    emulator.faults.add("PlayCloudRecord", code="ServiceBusy", status=503)  # a logged retry
    urls = await client.play_cloud_record(
        HOME_IPC_STREAM_ID, end - timedelta(hours=2), end, token_valid=120
    )
    assert urls.hls is not None
    assert urls.mp4 is not None
    assert "X-JWT-Token=" in urls.mp4
    assert json.loads(emulator.requests_for("PlayCloudRecord")[-1].body)["TokenValid"] == 120
    token = urls.mp4.split("X-JWT-Token=")[1].split("&")[0]
    for text in (repr(urls), str(urls), f"{urls}", caplog.text):
        assert token not in text
        assert "X-JWT-Token" not in text
    assert repr(urls) == "CloudRecordUrls(hls='**REDACTED**', mp4='**REDACTED**')"
    async with aiohttp.ClientSession() as session, session.get(urls.mp4) as response:
        assert response.status == 200
    assert "retry 1/3" in caplog.text


async def test_cloud_throttling_is_the_throttled_error(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    emulator.recordings.rate_window = 3600.0
    emulator.recordings.rate_limit = 2
    client = VolcengineClient(
        session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0, retries=1
    )
    start, end = last_day(emulator)
    await client.list_cloud_records(HOME_IPC_STREAM_ID, start, end)
    await client.list_cloud_records(HOME_IPC_STREAM_ID, start, end)
    with pytest.raises(VolcengineThrottledError):
        await client.list_cloud_records(HOME_IPC_STREAM_ID, start, end)
    assert emulator.recordings.throttled == 2  # the first answer and the one retry


# --- device ------------------------------------------------------------------------------------


async def test_list_device_records_in_both_shapes(
    client: VolcengineClient, emulator: Emulator
) -> None:
    start, end = last_day(emulator)
    doc = await client.list_device_records(GARDEN, start, end)
    assert doc
    assert {r.source for r in doc} == {RecordSource.DEVICE}
    assert {r.kind for r in doc} >= {"time", "alarm"}
    assert all(r.alarm == (r.kind == "alarm") for r in doc)
    assert all(r.start.tzinfo is UTC for r in doc)
    assert [r.start for r in doc] == sorted(r.start for r in doc)
    assert {r.size_mb for r in doc if r.kind == "time"} == {512.5}
    body = bodies(emulator, "GetRecordList")[0]
    assert body["RecordType"] == "all"
    assert body["StreamID"] == GARDEN
    emulator.recordings.record_list_form = "sdk"
    assert await client.list_device_records(GARDEN, start, end) == doc
    alarms = await client.list_device_records(GARDEN, start, end, record_type="alarm")
    assert alarms
    assert {r.kind for r in alarms} == {"alarm"}
    assert await client.list_device_records(BACK_YARD, start, end) == []
    with pytest.raises(VolcengineDeviceUnreachableError):
        await client.list_device_records(HOME_IPC_OFFLINE_STREAM_ID, start, end)
    with pytest.raises(VolcengineRecordingInputError):
        await client.list_device_records(GARDEN, start, end, record_type="motion")


def test_device_items_in_every_documented_form() -> None:
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    unix = int(start.timestamp())
    china = timezone(timedelta(hours=8))
    forms: list[dict[str, Any]] = [
        {"StartTime": unix, "EndTime": unix + 60, "Type": "alarm", "FileSize": 8.25},
        {"StartTimeStamp": str(unix), "EndTimeStamp": str(unix + 60), "Type": "Alarm"},
        {"StartTime": unix * 1000, "EndTime": (unix + 60) * 1000, "Type": "alarm"},
        {
            "StartTimeStamp": "2026-12-01 10:00:00",  # no offset: China Standard Time
            "EndTimeStamp": "2026-12-01T10:01:00",
            "Type": "alarm",
            "FileSize": "8.25",
        },
        {
            "StartTime": start.astimezone(china).isoformat(),
            "EndTime": (start + timedelta(minutes=1)).isoformat(),
            "Type": "alarm",
            "FileSize": "n/a",
        },
    ]
    for item in forms:
        record = Recording.from_device(item)
        assert (record.start, record.end, record.alarm, record.kind) == (
            start,
            start + timedelta(minutes=1),
            True,
            "alarm",
        ), item
    assert Recording.from_device(forms[3]).size_mb == 8.25
    assert Recording.from_device(forms[4]).size_mb is None
    for bad in (
        {"StartTime": unix},
        {"StartTime": unix, "EndTime": unix},
        {"StartTime": "yesterday", "EndTime": unix},
        {"StartTime": True, "EndTime": unix + 1},
    ):
        with pytest.raises(VolcengineResponseError):
            Recording.from_device(bad)
    fragment = Recording.from_cloud(
        {"Type": "alarm", "RecordMeta": {"StartTime": unix, "Duration": 20, "Format": "ts"}}
    )
    assert (fragment.end - fragment.start, fragment.alarm) == (timedelta(seconds=20), True)


async def test_device_playback_start_control_stop(
    client: VolcengineClient, emulator: Emulator
) -> None:
    _, end = last_day(emulator)
    playback = await client.start_playback(GARDEN, end - timedelta(hours=3), end)
    assert isinstance(playback, Playback)
    assert playback.pull_urls[0].startswith("rtmp://127.0.0.1:")
    assert "rtmp" not in repr(playback)
    assert emulator.recordings.active_playbacks(GARDEN) == 1
    assert await client.playback_status(playback.playback_id) == "playing"
    await client.control_playback(playback.playback_id, PlaybackCommand.PAUSE)
    assert await client.playback_status(playback.playback_id) == "paused"
    await client.control_playback(playback.playback_id, PlaybackCommand.SEEK, ntp="60")
    await client.control_playback(playback.playback_id, 2, scale=4)
    assert bodies(emulator, "ControlPlayback")[-1] == {
        "PlaybackID": playback.playback_id,
        "Cmd": 2,
        "Ntp": "0",
        "Scale": 4.0,
    }
    sent = len(emulator.requests)
    for cmd, ntp, scale in ((7, "0", 1.0), (0, "1.5", 1.0), (0, "0", 3.0)):
        with pytest.raises(VolcenginePlaybackControlError):
            await client.control_playback(playback.playback_id, cmd, ntp=ntp, scale=scale)
    assert len(emulator.requests) == sent
    await client.stop_playback(playback.playback_id)
    (stop,) = emulator.requests_for("StopPlayback")
    assert (stop.method, stop.query["PlaybackID"]) == ("POST", playback.playback_id)
    assert emulator.recordings.active_playbacks() == 0
    assert emulator.recordings.servers_running() == 0


async def test_device_playback_errors(client: VolcengineClient, emulator: Emulator) -> None:
    start, end = last_day(emulator)
    with pytest.raises(VolcengineDeviceUnreachableError):
        await client.start_playback(HOME_IPC_OFFLINE_STREAM_ID, start, end)
    with pytest.raises(VolcengineRecordNotFoundError) as err:
        await client.start_playback(BACK_YARD, start, end)
    assert err.value.translation_key == "recording_not_found"
    assert emulator.recordings.active_playbacks() == 0


async def test_start_playback_is_not_resent_after_a_timeout(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    client = VolcengineClient(
        session, EMU_AK, EMU_SK, endpoint=emulator.url, backoff=0.0, timeout=0.3
    )
    _, end = last_day(emulator)
    emulator.faults.add("StartPlayback", delay=0.6, completes=True)
    with pytest.raises(VolcengineTimeoutError):
        await client.start_playback(GARDEN, end - timedelta(hours=3), end)
    assert len(emulator.requests_for("StartPlayback")) == 1
    async with asyncio.timeout(10):  # the late request did start a playback (one, not two)
        while not emulator.recordings.active_playbacks():
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert emulator.recordings.active_playbacks() == 1


def test_recording_errors_are_translated() -> None:
    classes = [
        obj
        for obj in vars(api_errors).values()
        if isinstance(obj, type)
        and issubclass(obj, Exception)
        and "Record" in obj.__name__ + (obj.__doc__ or "")
        and hasattr(obj, "translation_key")
    ]
    assert {c.__name__ for c in classes} >= {
        "VolcengineNoRecordingPlanError",
        "VolcengineRecordNotFoundError",
        "VolcengineRecordingInputError",
        "VolcengineRecordingWindowError",
    }
    classes.append(VolcenginePlaybackControlError)
    for language in ("en", "zh-Hans"):
        exceptions = json.loads((TRANSLATIONS / f"{language}.json").read_text())["exceptions"]
        for cls in classes:
            assert exceptions[cls.translation_key]["message"], (language, cls)
    assert repr(CloudRecordUrls(None, None)) == "CloudRecordUrls(hls=None, mp4=None)"


def envelope(action: str, result: Any) -> bytes:
    meta = {"RequestId": "r", "Action": action, "Version": "2023-10-01", "Service": "aiotvideo"}
    return json.dumps({"ResponseMetadata": meta, "Result": result}).encode()


async def test_malformed_answers(client: VolcengineClient, emulator: Emulator) -> None:
    start, end = last_day(emulator)
    unix = int(start.timestamp())
    good = {"Type": "normal", "Record": {"StartTime": unix, "EndTime": unix + 20}}
    emulator.faults.add(
        "ListStreamRecords",
        status=200,
        body=envelope(
            "ListStreamRecords",
            [good, "x", {"Type": "alarm"}, {"Record": {"StartTime": 1e30, "EndTime": 2e30}}],
        ),
    )
    (only,) = await client.list_cloud_records(HOME_IPC_STREAM_ID, start, end)
    assert only.duration == timedelta(seconds=20)
    emulator.faults.add(
        "GetRecordList",
        status=200,
        body=envelope(
            "GetRecordList",
            {
                "Num": 2,
                "Items": [
                    {"StartTime": unix, "EndTime": unix + 60, "FileSize": "inf", "Type": ""},
                    {"StartTime": "?", "EndTime": unix + 60},
                ],
            },
        ),
    )
    (item,) = await client.list_device_records(GARDEN, start, end)
    assert (item.size_mb, item.kind, item.alarm) == (None, None, False)
    for action, result in (("PlayCloudRecord", {"HLS": "x"}), ("StartPlayback", {"PullUrls": []})):
        emulator.faults.add(action, status=200, body=envelope(action, result))
    with pytest.raises(VolcengineResponseError):
        await client.play_cloud_record(HOME_IPC_STREAM_ID, end - timedelta(hours=1), end)
    with pytest.raises(VolcengineResponseError):
        await client.start_playback(GARDEN, end - timedelta(hours=1), end)
    # a playback without a pull URL cannot be played: it is stopped, then refused
    emulator.faults.add(
        "StartPlayback",
        status=200,
        body=envelope("StartPlayback", {"PlaybackID": "pb-1", "PullUrls": ["", 3]}),
    )
    with pytest.raises(VolcengineResponseError, match="pull URL"):
        await client.start_playback(GARDEN, end - timedelta(hours=1), end)
    assert [r.query["PlaybackID"] for r in emulator.requests_for("StopPlayback")] == ["pb-1"]
    for call in (client.stop_playback(""), client.playback_status("")):
        with pytest.raises(VolcengineRecordingInputError):
            await call
    assert emulator.recordings.active_playbacks() == 0
