"""Emulator recordings: the seven 2023-10-01 actions answer and refuse as documented, and the
media they hand out is real (ffprobe reads it over HTTP and RTMP)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
import shutil
from typing import Any

import aiohttp
import pytest

from tests.emulator.app import Emulator
from tests.emulator.data import (
    EMU_AK,
    EMU_SK,
    HOME_IPC_OFFLINE_STREAM_ID,
    HOME_IPC_STREAM_ID,
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_STREAM_IDS,
    SHOP_IPC_STREAM_ID,
)
from tests.emulator.recordings import MANY_SEGMENT_COUNT, MANY_SEGMENT_SECONDS, demo_recordings
from tests.test_emulator import call, error_of

V3 = "2023-10-01"
GARDEN = HOME_NVR_STREAM_IDS[0]  # device recordings, no cloud plan
BACK_YARD = HOME_NVR_STREAM_IDS[1]  # nothing at all
FFPROBE = shutil.which("ffprobe") or "ffprobe"


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def v3(
    session: aiohttp.ClientSession,
    emulator: Emulator,
    action: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    *,
    method: str = "POST",
    **kwargs: Any,
) -> tuple[int, Any]:
    status, data = await call(
        session,
        emulator,
        action,
        query,
        method=method,
        body=body if method == "POST" else None,
        version=V3,
        **kwargs,
    )
    return status, data if status >= 400 else data["Result"]


def many_day_window(emulator: Emulator) -> tuple[int, int]:
    start = int(
        datetime.combine(emulator.recordings.many_day, datetime.min.time(), UTC).timestamp()
    )
    return start, start + 86400


def last_day(emulator: Emulator) -> tuple[int, int]:
    end = int(emulator.recordings.anchor.timestamp())
    return end - 86400, end


async def probe(url: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """Return ffprobe's streams of a URL and its first video packet (raises on failure)."""
    proc = await asyncio.create_subprocess_exec(
        FFPROBE,
        "-v",
        "error",
        "-rw_timeout",
        "5000000",
        "-analyzeduration",
        "500000",  # RTMP: ffprobe would otherwise wait 5 s before the first packet
        "-show_entries",
        "stream=codec_type,codec_name:packet=codec_type,pts_time",
        "-select_streams",
        "v",
        "-read_intervals",
        "%+#1",
        "-show_packets",
        "-of",
        "json",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode(errors="replace")
    data: dict[str, Any] = json.loads(out)
    return data


async def probe_fails(url: str) -> bool:
    proc = await asyncio.create_subprocess_exec(
        FFPROBE,
        "-v",
        "error",
        "-rw_timeout",
        "3000000",
        url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with asyncio.timeout(20):
        return await proc.wait() != 0


# --- ListStreamRecords -----------------------------------------------------------------------


async def test_list_stream_records_is_an_array_paged_by_the_query(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    start, end = many_day_window(emulator)
    body = {"StreamID": SHOP_IPC_STREAM_ID, "StartTime": start, "EndTime": end}
    status, first = await v3(session, emulator, "ListStreamRecords", body)
    assert status == 200, first
    assert isinstance(first, list)
    assert len(first) == 20  # PageSize defaults to 20
    item = first[0]
    assert set(item) == {"Type", "Path", "Record"}
    assert set(item["Record"]) == {"StartTime", "EndTime", "Duration", "Cover", "Format"}
    assert item["Record"]["StartTime"] == start
    assert item["Record"]["Duration"] == MANY_SEGMENT_SECONDS
    pages = []
    for number in range(1, 6):
        status, page = await v3(
            session,
            emulator,
            "ListStreamRecords",
            body,
            {"PageNumber": str(number), "PageSize": "1000"},
        )
        assert status == 200
        pages.append(page)
    assert [len(p) for p in pages] == [1000, 1000, 1000, 1000, MANY_SEGMENT_COUNT - 4000]
    everything = [i for p in pages for i in p]
    assert sum(i["Type"] == "alarm" for i in everything) == 24
    # the page parameters belong to the query: in the body they are ignored
    status, page = await v3(
        session, emulator, "ListStreamRecords", {**body, "PageSize": 1000, "PageNumber": 2}
    )
    assert (status, len(page)) == (200, 20)
    assert page[0]["Record"]["StartTime"] == start


async def test_list_stream_records_refusals(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    start, end = last_day(emulator)
    body = {"StreamID": HOME_IPC_STREAM_ID, "StartTime": start, "EndTime": end}
    cases: list[tuple[Any, dict[str, str] | None, int, str]] = [
        ({**body, "StreamID": GARDEN}, None, 400, "InvalidParameter.RecordPlanNotExist"),
        ({**body, "StreamID": "nope"}, None, 404, "InvalidParameter.StreamNotExist"),
        ({"StartTime": start, "EndTime": end}, {"StreamID": HOME_IPC_STREAM_ID}, 400, "Missing"),
        ({**body, "StartTime": str(start)}, None, 400, "InvalidParameter"),
        ({**body, "EndTime": start}, None, 400, "InvalidParameter"),
        (body, {"PageSize": "30001"}, 400, "InvalidParameter"),
        ({**body, "ReqType": "thumbnails"}, None, 400, "InvalidParameter"),
    ]
    for sent, query, want_status, want_code in cases:
        status, data = await v3(session, emulator, "ListStreamRecords", sent, query)
        assert status == want_status, (sent, query, data)
        assert error_of(data)["Code"].startswith(want_code), (sent, query)
    status, data = await v3(session, emulator, "ListStreamRecords", body, method="GET")
    assert (status, error_of(data)["Code"]) == (405, "MethodNotAllowed")
    status, data = await call(
        session, emulator, "ListStreamRecords", method="POST", body=body, version="2021-01-01"
    )
    assert (status, error_of(data)["Code"]) == (404, "InvalidActionOrVersion")
    status, page = await v3(session, emulator, "ListStreamRecords", body, {"PageSize": "30000"})
    assert status == 200
    assert any(i["Type"] == "alarm" for i in page)
    assert all(start - 3600 < i["Record"]["EndTime"] for i in page)


async def test_list_stream_records_fragments(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    start, end = last_day(emulator)
    body = {
        "StreamID": HOME_IPC_STREAM_ID,
        "StartTime": start,
        "EndTime": end,
        "ReqType": "record_metadata",
    }
    status, page = await v3(session, emulator, "ListStreamRecords", body)
    assert status == 200
    assert set(page[0]) == {"Type", "Path", "RecordMeta"}
    assert page[0]["RecordMeta"]["Format"] == "ts"
    assert page[0]["Path"].endswith(".ts")


async def test_cloud_actions_are_rate_limited_per_user(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    emulator.recordings.rate_window = 3600.0  # no second boundary can reset the count
    emulator.credentials["AKLTsecondaccesskey"] = EMU_SK
    start, end = last_day(emulator)
    body = {"StreamID": HOME_IPC_STREAM_ID, "StartTime": start, "EndTime": end}
    answers = await asyncio.gather(
        *(v3(session, emulator, "ListStreamRecords", body) for _ in range(6)),
        *(
            v3(session, emulator, "PlayCloudRecord", {**body, "StartTime": end - 7200})
            for _ in range(4)
        ),
    )
    assert [status for status, _ in answers] == [200] * 10
    for action in ("ListStreamRecords", "PlayCloudRecord"):
        status, data = await v3(session, emulator, action, body)
        assert (status, error_of(data)["Code"]) == (429, "FlowLimitExceeded")
    # device actions are not counted, and another user has its own budget
    status, _ = await v3(session, emulator, "GetRecordList", {**body, "StreamID": GARDEN})
    assert status == 200
    status, _ = await v3(
        session, emulator, "ListStreamRecords", body, access_key="AKLTsecondaccesskey"
    )
    assert status == 200
    assert emulator.recordings.throttled == 2


# --- PlayCloudRecord and the media server ------------------------------------------------------


async def test_play_cloud_record_hands_out_playable_media(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    _start, end = last_day(emulator)
    body = {"StreamID": HOME_IPC_STREAM_ID, "StartTime": end - 7200, "EndTime": end}
    status, result = await v3(session, emulator, "PlayCloudRecord", body)
    assert status == 200, result
    assert set(result) == {"hls", "mp4"}  # lowercase keys, as documented
    assert "/media_record/v1/file/index.m3u8?" in result["hls"]
    assert "IsLive=0" in result["hls"]
    assert "X-JWT-Token=" in result["hls"]
    assert "Format=mp4" in result["mp4"]
    mp4 = await probe(result["mp4"])
    assert {s["codec_name"] for s in mp4["streams"]} >= {"h264"}
    assert mp4["packets"][0]["codec_type"] == "video"
    hls = await probe(result["hls"])
    assert hls["packets"][0]["codec_type"] == "video"
    async with session.get(result["hls"]) as response:
        playlist = await response.text()
        assert response.headers["Access-Control-Allow-Origin"] == "*"  # hls.js reads it
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
    assert "#EXT-X-ENDLIST" in playlist
    async with session.get(result["mp4"], headers={"Range": "bytes=0-99"}) as response:
        assert response.status == 206
        assert len(await response.read()) == 100
    async with session.get(result["mp4"]) as response:
        audio_video = await response.read()
    assert b"ftyp" in audio_video[:16]


async def test_cloud_media_refuses_expired_wrong_and_foreign_tokens(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    _start, end = last_day(emulator)
    body = {"StreamID": HOME_IPC_STREAM_ID, "StartTime": end - 7200, "EndTime": end}
    status, short = await v3(session, emulator, "PlayCloudRecord", {**body, "TokenValid": 60})
    assert status == 200
    async with session.get(short["mp4"]) as response:
        assert response.status == 200
    tampered = short["mp4"].replace("X-JWT-Token=", "X-JWT-Token=x")
    foreign = short["mp4"].replace(HOME_IPC_STREAM_ID, SHOP_IPC_STREAM_ID)
    stripped = short["mp4"].split("&X-JWT-Token=")[0]
    for url in (tampered, foreign, stripped):
        async with session.get(url) as response:
            assert response.status == 403, url
    emulator.clock_offset = 61.0  # the token has expired
    for url in (short["mp4"], short["hls"]):
        async with session.get(url) as response:
            assert response.status == 403
    segment = short["hls"].replace("index.m3u8", "seg_0.ts")
    async with session.get(segment) as response:
        assert response.status == 403
    assert emulator.recordings.media_statuses.count(403) == 6


async def test_play_cloud_record_refusals(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    start, end = last_day(emulator)
    body = {"StreamID": HOME_IPC_STREAM_ID, "StartTime": start, "EndTime": end}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**body, "StartTime": start - 1}, 400, "InvalidParameter"),  # 24 h + 1 s
        ({**body, "StreamID": GARDEN}, 400, "InvalidParameter.RecordPlanNotExist"),
        ({**body, "TokenValid": "3600"}, 400, "InvalidParameter"),
        ({**body, "StartTime": end + 10, "EndTime": end + 20}, 404, "InvalidParameter.Record"),
        ({"StartTime": start, "EndTime": end}, 400, "MissingParameter"),
    ]
    for sent, want_status, want_code in cases:
        status, data = await v3(session, emulator, "PlayCloudRecord", sent)
        assert status == want_status, (sent, data)
        assert error_of(data)["Code"].startswith(want_code), sent
    status, _ = await v3(session, emulator, "PlayCloudRecord", body)  # exactly 24 h
    assert status == 200


# --- GetRecordList -----------------------------------------------------------------------------


async def test_get_record_list_in_both_documented_shapes(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    start, end = last_day(emulator)
    body = {"StreamID": GARDEN, "StartTime": start, "EndTime": end}
    status, result = await v3(session, emulator, "GetRecordList", body)
    assert status == 200, result
    assert result["Num"] == len(result["Items"]) > 8
    item = result["Items"][0]
    assert set(item) == {"ChannelID", "Name", "StartTime", "EndTime", "Secrecy", "Type", "FileSize"}
    assert item["ChannelID"] == HOME_NVR_CHANNEL_IDS[0]
    starts = [i["StartTime"] for i in result["Items"]]
    assert starts == sorted(starts, reverse=True)  # Order defaults to false: newest first
    assert {i["Type"] for i in result["Items"]} >= {"time", "alarm"}
    status, ascending = await v3(session, emulator, "GetRecordList", {**body, "Order": True})
    assert [i["StartTime"] for i in ascending["Items"]] == sorted(starts)
    status, alarms = await v3(session, emulator, "GetRecordList", {**body, "RecordType": "alarm"})
    assert {i["Type"] for i in alarms["Items"]} == {"alarm"}
    emulator.recordings.record_list_form = "sdk"
    status, sdk = await v3(session, emulator, "GetRecordList", body)
    assert sdk["Num"] == str(result["Num"])
    assert sdk["Items"][0]["StartTimeStamp"] == str(item["StartTime"])
    assert isinstance(sdk["Items"][0]["FileSize"], str)
    assert "StartTime" not in sdk["Items"][0]
    status, empty = await v3(session, emulator, "GetRecordList", {**body, "StreamID": BACK_YARD})
    assert (status, empty) == (200, {"Num": "0", "Items": []})


async def test_device_actions_refuse_an_offline_device_and_bad_values(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    start, end = last_day(emulator)
    body = {"StreamID": HOME_IPC_OFFLINE_STREAM_ID, "StartTime": start, "EndTime": end}
    for action in ("GetRecordList", "StartPlayback"):
        status, data = await v3(session, emulator, action, body)
        assert (status, error_of(data)["Code"]) == (400, "InvalidParameter.DeviceNotOnline")
    body = {**body, "StreamID": GARDEN}
    for sent in ({**body, "RecordType": "motion"}, {**body, "Order": "true"}):
        status, data = await v3(session, emulator, "GetRecordList", sent)
        assert (status, error_of(data)["Code"]) == (400, "InvalidParameter"), sent
    status, data = await v3(session, emulator, "StartPlayback", {**body, "StreamID": BACK_YARD})
    assert (status, error_of(data)["Code"]) == (404, "InvalidParameter.RecordNotExist")
    assert emulator.recordings.active_playbacks() == 0


# --- device playback ---------------------------------------------------------------------------


async def test_device_playback_serves_rtmp_until_stopped(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    _start, end = last_day(emulator)
    body = {"StreamID": GARDEN, "StartTime": end - 3 * 3600, "EndTime": end - 2 * 3600}
    status, result = await v3(session, emulator, "StartPlayback", body)
    assert status == 200, result
    assert set(result) == {"PlaybackID", "PullUrls", "PushUrl"}
    (url,) = result["PullUrls"]
    assert url.startswith("rtmp://127.0.0.1:")
    playback_id = result["PlaybackID"]
    assert emulator.recordings.active_playbacks(GARDEN) == 1
    first = await probe(url)
    assert first["packets"][0]["codec_type"] == "video"
    assert {s["codec_name"] for s in first["streams"]} == {"h264"}
    second = await probe(url)  # the server is there again for the next player
    assert second["packets"][0]["codec_type"] == "video"

    status, data = await v3(
        session, emulator, "GetPlaybackStatus", query={"PlaybackID": playback_id}, method="GET"
    )
    assert (status, data) == (200, {"Status": "playing"})
    control = {"PlaybackID": playback_id, "Cmd": 1, "Ntp": "0", "Scale": 1.0}
    assert (await v3(session, emulator, "ControlPlayback", control))[0] == 200
    status, data = await v3(
        session, emulator, "GetPlaybackStatus", query={"PlaybackID": playback_id}, method="GET"
    )
    assert data == {"Status": "paused"}
    for cmd, ntp, scale in ((2, "0", 4.0), (3, "60", 1.0), (0, "0", 1.0)):
        sent = {**control, "Cmd": cmd, "Ntp": ntp, "Scale": scale}
        assert (await v3(session, emulator, "ControlPlayback", sent))[0] == 200
    playback = emulator.recordings.playbacks[playback_id]
    assert (playback.status, playback.scale, playback.ntp) == ("playing", 4.0, "60")

    # StopPlayback: PlaybackID in the query; in the body it is missing
    status, data = await v3(session, emulator, "StopPlayback", {"PlaybackID": playback_id})
    assert (status, error_of(data)["Code"]) == (400, "MissingParameter")
    status, _ = await v3(session, emulator, "StopPlayback", {}, {"PlaybackID": playback_id})
    assert status == 200
    assert emulator.recordings.active_playbacks() == 0
    assert emulator.recordings.servers_running() == 0
    assert emulator.recordings.stopped == [playback_id]
    assert await probe_fails(url)
    status, data = await v3(session, emulator, "StopPlayback", {}, {"PlaybackID": playback_id})
    assert (status, error_of(data)["Code"]) == (404, "InvalidParameter.PlaybackNotExist")


async def test_control_playback_checks_its_documented_values(
    session: aiohttp.ClientSession, emulator: Emulator
) -> None:
    _start, end = last_day(emulator)
    body = {"StreamID": GARDEN, "StartTime": end - 3 * 3600, "EndTime": end - 2 * 3600}
    _, result = await v3(session, emulator, "StartPlayback", body)
    playback_id = result["PlaybackID"]
    good = {"PlaybackID": playback_id, "Cmd": 2, "Ntp": "0", "Scale": 2.0}
    for change in ({"Ntp": 60}, {"Scale": 3.0}, {"Cmd": 4}, {"Cmd": "1"}):
        status, data = await v3(session, emulator, "ControlPlayback", {**good, **change})
        assert (status, error_of(data)["Code"]) == (400, "InvalidParameter"), change
    for name in ("Cmd", "Ntp", "Scale"):
        sent = {k: v for k, v in good.items() if k != name}
        status, data = await v3(session, emulator, "ControlPlayback", sent)
        assert (status, error_of(data)["Code"]) == (400, "MissingParameter"), name
    status, data = await v3(session, emulator, "ControlPlayback", {**good, "PlaybackID": "x"})
    assert (status, error_of(data)["Code"]) == (404, "InvalidParameter.PlaybackNotExist")
    status, data = await v3(
        session, emulator, "GetPlaybackStatus", {"PlaybackID": playback_id}, method="POST"
    )
    assert (status, error_of(data)["Code"]) == (405, "MethodNotAllowed")
    # the Python SDK's StopPlayback is a GET: accepted too
    status, _ = await v3(
        session, emulator, "StopPlayback", query={"PlaybackID": playback_id}, method="GET"
    )
    assert status == 200
    assert emulator.recordings.active_playbacks() == 0


async def test_emulator_stop_ends_every_playback(socket_enabled: None) -> None:
    emu = Emulator()
    await emu.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            start, end = last_day(emu)
            for stream_id in (GARDEN, GARDEN):
                body = {"StreamID": stream_id, "StartTime": start, "EndTime": end}
                status, _ = await v3(session, emu, "StartPlayback", body)
                assert status == 200
        ports = [p.port for p in emu.recordings.playbacks.values()]
        # two players that connect and wait (no RTMP handshake yet): one ffmpeg server each
        players = [await asyncio.open_connection("127.0.0.1", port) for port in ports]
        async with asyncio.timeout(30):
            while emu.recordings.servers_running() < 2:
                await asyncio.sleep(0.05)
        procs = [proc for p in emu.recordings.playbacks.values() for proc in p.procs]
    finally:
        await emu.stop()
    assert emu.recordings.active_playbacks() == 0
    assert len(procs) == 2
    assert all(p.returncode is not None for p in procs)
    for reader, writer in players:
        assert await reader.read() == b""  # the emulator closed the connection
        writer.close()


def test_demo_recordings_are_anchored_in_the_past() -> None:
    emu = Emulator()
    rec = emu.recordings
    anchor = int(rec.anchor.timestamp())
    for segments in (*rec.cloud.values(), *rec.device.values()):
        assert segments
        assert all(s.start < s.end <= anchor for s in segments)
        assert segments[0].start >= anchor - 8 * 86400
    start = int(datetime.combine(rec.many_day, datetime.min.time(), UTC).timestamp())
    many = [s for s in rec.cloud[SHOP_IPC_STREAM_ID] if start <= s.start < start + 86400]
    assert len(many) == MANY_SEGMENT_COUNT > 4000
    assert sum(s.alarm for s in many) == 24
    assert rec.anchor - timedelta(hours=1) < emu.now()
    assert EMU_AK in emu.credentials


def test_the_demo_has_alarms_in_every_last_day_whatever_the_hour() -> None:
    """The demo's alarm recordings must not depend on when the tests run."""
    midnight = 1_767_225_600  # 2026-01-01 00:00 UTC
    for hour in range(24):
        end = midnight + hour * 3600
        front, many, device = demo_recordings(end)
        for segments in (front, device):
            assert any(s.alarm and s.start >= end - 86400 for s in segments), hour
        assert any(s.alarm for s in many), hour
