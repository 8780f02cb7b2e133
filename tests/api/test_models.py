"""Models are built tolerantly and keep secrets out of repr."""

from __future__ import annotations

import pytest

from custom_components.volcengine_aiot.api import (
    Channel,
    Device,
    DeviceStatus,
    Space,
    StreamInfo,
    StreamUrls,
    VoiceTalk,
    VolcengineResponseError,
)
from custom_components.volcengine_aiot.api.errors import VolcengineApiError

RAW_IPC = {
    "SpaceID": "space-1",
    "Type": "IPC",
    "DeviceName": "Front door",
    "DeviceID": "6851c282-c7f6-4a04-0000-000000000001",
    "DeviceNSID": "34020000001320000001",
    "Username": "34020000001320000001",
    "Password": "gb-secret-password",
    "Status": "online",
    "ChannelNum": 1,
    "Manufactory": "Hikvision",
    "RtpTransportTcp": True,
    "DeviceStreams": {
        "34020000001310000001": {
            "StreamID": "stream-1",
            "Manufacturer": "Hikvision",
            "Model": "DS-2CD2347",
            "PullUrls": ["rtmp://pull/secret?token=abc"],
        }
    },
    "SomethingNew": {"ignored": True},
}


def test_device_from_documented_shape() -> None:
    device = Device.from_json(RAW_IPC)
    assert device.online
    assert device.manufacturer == "Hikvision"
    assert device.model == "DS-2CD2347"
    assert device.rtp_transport_tcp is True
    assert device.streams[0].channel_id == "34020000001310000001"
    assert device.streams[0].stream_id == "stream-1"
    # The GB registration password is not needed: it is not kept at all.
    assert "gb-secret-password" not in repr(device)
    assert not hasattr(device, "password")


def test_device_variants() -> None:
    device = Device.from_json(
        {
            "DeviceID": "d2",
            "DeviceNSID": "34020000001180000002",
            "Status": "unregisterd",
            "DeviceStreams": [{"StreamID": "s", "ChannelID": "c", "Model": "NVR-1"}],
            "ChannelNum": "not a number",
            "RtpTransportTcp": "yes",
        }
    )
    assert device.status is DeviceStatus.UNREGISTERED
    assert device.name == "34020000001180000002"
    assert device.manufacturer is None
    assert device.model == "NVR-1"
    assert device.channel_num == 0
    assert device.rtp_transport_tcp is None
    assert Device.from_json({**RAW_IPC, "Status": "weird"}).status is DeviceStatus.UNKNOWN
    assert Device.from_json({**RAW_IPC, "DeviceStreams": "bad"}).streams == ()


@pytest.mark.parametrize("missing", ["DeviceID", "DeviceNSID"])
def test_device_missing_required_field(missing: str) -> None:
    raw = {k: v for k, v in RAW_IPC.items() if k != missing}
    with pytest.raises(VolcengineResponseError, match=missing):
        Device.from_json(raw)


def test_space() -> None:
    space = Space.from_json({"SpaceID": "s1", "SpaceName": "Home", "Region": "cn-qingdao-a"})
    assert (space.space_id, space.name, space.region) == ("s1", "Home", "cn-qingdao-a")
    assert Space.from_json({"SpaceID": "s2"}).name == "s2"
    with pytest.raises(VolcengineResponseError):
        Space.from_json({"SpaceName": "no id"})


def test_channel_item_as_object_or_list() -> None:
    item = {"ChannelID": "c1", "Name": "Cam 1", "Manufacturer": "Dahua", "Status": "ON"}
    assert Channel.from_json({"StreamID": "s", "DeviceItem": item}).manufacturer == "Dahua"
    assert Channel.from_json({"DeviceItem": [item]}).channel_id == "c1"
    assert Channel.from_json({"ChannelID": "c2", "DeviceItem": []}).channel_id == "c2"
    with pytest.raises(VolcengineResponseError):
        Channel.from_json({"DeviceItem": {}})


def test_voice_talk_url_is_secret() -> None:
    url = "wss://aiotvideo.volces.com/voice_talk/nss/talk/3402?vhost=1&token=topsecret"
    talk = VoiceTalk.from_json({"AudioSendUrl": url})
    assert talk.audio_send_url == url
    assert "topsecret" not in repr(talk)
    assert repr(talk) == "VoiceTalk(audio_send_url=**REDACTED**)"
    with pytest.raises(VolcengineResponseError):
        VoiceTalk.from_json({})


def test_stream_urls() -> None:
    urls = StreamUrls.from_json({"PullUrls": ["rtmp://a?t=1"]}, "s1")
    assert urls.stream_id == "s1"
    assert "rtmp" not in repr(urls)
    assert StreamUrls.from_json({"ID": "x", "PullUrls": "bad"}, "s1").pull_urls == ()
    mapped = StreamUrls.from_json(
        {"PullUrls": [], "TransPullUrls": {"flv": ["http://t/a.flv"], "hls": ["http://t/a.m3u8"]}},
        "s1",
    )
    assert mapped.trans_pull_urls == ("http://t/a.flv", "http://t/a.m3u8")


def test_stream_info() -> None:
    info = StreamInfo.from_json(
        {"StreamID": "s2", "Status": "Online", "PullUrls": ["http://h/a.flv?volcSecret=x", 3]},
        "s1",
    )
    assert (info.stream_id, info.pulling, info.pull_urls) == (
        "s2",
        True,
        ("http://h/a.flv?volcSecret=x",),
    )
    assert "volcSecret" not in repr(info)
    assert not StreamInfo.from_json({"Status": "init"}, "s1").pulling
    assert StreamInfo.from_json({}, "s1") == StreamInfo(stream_id="s1")


def test_api_error_text() -> None:
    err = VolcengineApiError("ServiceBusy", "busy", status=500, request_id="r1", code_n=5)
    assert str(err) == "ServiceBusy: busy (HTTP 500, RequestId r1)"
    assert err.code_n == 5
