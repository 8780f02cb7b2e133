"""Demo account of the emulator: spaces, devices and channels as raw aiotvideo JSON.

Shapes follow the documented answers (ListSpaces/GetSpace, ListDevices/GetDevice,
GetDeviceChannelsV2). ``demo_state()`` returns a fresh mutable ``State`` for every emulator.

Spaces:

* ``home`` (gb28181, enabled): an online Hikvision IPC (``DeviceStreams`` is a map keyed by the
  channel GB ID), an offline IPC, an online NVR with two channels and a device whose status is
  spelled ``unregisterd`` and that has no ``Manufactory``.
* ``shop``: one online IPC whose ``DeviceStreams`` is a list.

PTZ (GetDeviceChannelsV2 ``DeviceItem.Info.PTZType``, GB/T 28181: 1 dome, 2 half-dome, 3 fixed,
4 remote-controlled): the NVR's "Garden" channel is a dome with two named presets
(``PRESET_NAMES``), "Back yard" and the channels derived from ``DeviceStreams`` are fixed, and
the shop's "Counter" reports no PTZType at all (a camera that may or may not move).
* ``big``: ``BIG_DEVICE_COUNT`` generated IPCs (every 10th one offline). Their nested objects
  are shared between states (built once per process); replace them rather than mutate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

type Raw = dict[str, Any]

EMU_AK = "AKLTemulatoraccesskey"
EMU_SK = "ZW11bGF0b3Itc2VjcmV0LWtleQ=="
EMU_REGION = "cn-north-1"
API_VERSION = "2021-01-01"
PULL_HOST = "pull.emulator.invalid"

SPACE_HOME_ID = "3f1d6c2a-8b7e-4d51-9a3c-5e2b7f4a0001"
SPACE_SHOP_ID = "3f1d6c2a-8b7e-4d51-9a3c-5e2b7f4a0002"
SPACE_BIG_ID = "3f1d6c2a-8b7e-4d51-9a3c-5e2b7f4a0003"

# home: online Hikvision IPC
HOME_IPC_ID = "6851c282-c7f6-4a04-9d1e-000000000001"
HOME_IPC_NSID = "34020000001320000001"
HOME_IPC_CHANNEL_ID = "34020000001310000001"
HOME_IPC_STREAM_ID = "c0ffee00-0000-4000-8000-000000000001"
HOME_IPC_PASSWORD = "Hik-gb28181-s3cret"
# home: offline IPC
HOME_IPC_OFFLINE_ID = "6851c282-c7f6-4a04-9d1e-000000000002"
HOME_IPC_OFFLINE_NSID = "34020000001320000002"
HOME_IPC_OFFLINE_CHANNEL_ID = "34020000001310000002"
HOME_IPC_OFFLINE_STREAM_ID = "c0ffee00-0000-4000-8000-000000000002"
# home: online NVR with two channels
HOME_NVR_ID = "6851c282-c7f6-4a04-9d1e-000000000003"
HOME_NVR_NSID = "34020000001180000001"
HOME_NVR_CHANNEL_IDS = ("34020000001310000011", "34020000001310000012")
HOME_NVR_STREAM_IDS = (
    "c0ffee00-0000-4000-8000-000000000011",
    "c0ffee00-0000-4000-8000-000000000012",
)
# home: registered in the console but never came online ("unregisterd", no Manufactory)
HOME_UNREG_ID = "6851c282-c7f6-4a04-9d1e-000000000004"
HOME_UNREG_NSID = "34020000001320000004"
# shop: online IPC, DeviceStreams as a list
SHOP_IPC_ID = "6851c282-c7f6-4a04-9d1e-000000000101"
SHOP_IPC_NSID = "34020000001320000101"
SHOP_IPC_CHANNEL_ID = "34020000001310000101"
SHOP_IPC_STREAM_ID = "c0ffee00-0000-4000-8000-000000000101"
# PTZ: the presets set on the Garden dome (StreamID -> preset number -> name)
PRESET_NAMES = {HOME_NVR_STREAM_IDS[0]: {1: "Gate", 2: "Terrace"}}

BIG_DEVICE_COUNT = 5000
HOME_DEVICE_IDS = (HOME_IPC_ID, HOME_IPC_OFFLINE_ID, HOME_NVR_ID, HOME_UNREG_ID)

_CREATED = "2024-03-02T10:15:30+08:00"
_UPDATED = "2024-12-16T12:57:50+08:00"


def big_device_id(n: int) -> str:
    """Return the DeviceID of the n-th generated device of the big space (0-based)."""
    return f"b16b0000-0000-4000-8000-{n:012d}"


def big_device_nsid(n: int) -> str:
    """Return the 20-digit GB ID of the n-th generated device of the big space."""
    return f"3402000000132{1_000_000 + n:07d}"


def big_device_status(n: int) -> str:
    """Return the generated status: every 10th device (n % 10 == 9) is offline."""
    return "offline" if n % 10 == 9 else "online"


def pull_urls(stream_id: str) -> list[str]:
    """Return the RTMP, HTTP-FLV, HLS and WebRTC pull URLs of a stream."""
    base = f"{PULL_HOST}/live/{stream_id}"
    return [f"rtmp://{base}", f"http://{base}.flv", f"http://{base}.m3u8", f"http://{base}.sdp"]


def _space(space_id: str, name: str, description: str) -> Raw:
    domain = f"{space_id[:8]}.{PULL_HOST}"
    return {
        "SpaceID": space_id,
        "SpaceName": name,
        "Description": description,
        "Region": "cn-beijing-a",
        "AccessType": "gb28181",
        "Status": "enabled",
        "GB": {"PullOnDemand": True},
        "HLSLowLatency": False,
        "CreatedAt": _CREATED,
        "UpdatedAt": _UPDATED,
        "CallbackURL": "",
        "Domains": {
            domain: {
                "Domain": domain,
                "Type": "pull",
                "Status": "enable",
                "CNAME": f"{domain}.cdn.invalid",
                "CNAMEStatus": "configured",
                "Default": True,
                "https": {"Enable": False, "CertificateID": ""},
                "CreatedAt": _CREATED,
                "UpdatedAt": _UPDATED,
            }
        },
        "SipServer": {
            "SipId": "34020000002000000001",
            "SipDomain": "3402000000",
            "SipIp": "117.50.0.10",
            "SipPort": {"Tcp": 5060, "Udp": 5060},
        },
        "Template": {"Screenshot": {}, "Record": {}, "AI": {}, "Trans": {}},
        "Tags": [],
    }


def _stream(stream_id: str, name: str, vendor: str, model: str, status: str = "online") -> Raw:
    return {
        "StreamID": stream_id,
        "Name": name,
        "ChannelStatus": "ON" if status == "online" else "OFF",
        "Manufacturer": vendor,
        "Model": model,
        "PullUrls": pull_urls(stream_id),
        "PushUrl": "",
        "Status": status,
    }


def _device(space: Raw, device_id: str, nsid: str, name: str, status: str, **extra: Any) -> Raw:
    raw: Raw = {
        "SpaceID": space["SpaceID"],
        "SpaceName": space["SpaceName"],
        "Type": "IPC",
        "DeviceName": name,
        "DeviceID": device_id,
        "DeviceNSID": nsid,
        "Username": nsid,
        "Password": "",
        "Description": "",
        "Status": status,
        "ChannelNum": 1,
        "AutoPullAfterRegister": True,
        "RtpTransportTcp": True,
        "Location": "",
        "Coordinates": {"Longitude": 0.0, "Latitude": 0.0},
        "DeviceIP": "",
        "AlertNotification": {"Enabled": False},
        "DeviceStreams": {},
        "DeviceSubStreams": [],
        "UseSubStream": False,
        "CreatedAt": _CREATED,
        "UpdatedAt": _UPDATED,
    }
    raw.update(extra)
    return raw


def channel(
    channel_id: str,
    stream_id: str,
    name: str,
    vendor: str,
    model: str,
    *,
    parent_id: str,
    status: str = "ON",
    ip: str = "",
    ptz_type: int | None = 3,
) -> Raw:
    """Return one ``Channels[]`` item of GetDeviceChannelsV2 (``ptz_type`` None: not reported)."""
    info: Raw = {"PTZType": ptz_type} if ptz_type is not None else {}
    return {
        "StreamID": stream_id,
        "CreateAt": _CREATED,
        "SubStreams": [],
        "DeviceItem": {
            "DeviceID": channel_id,
            "Name": name,
            "Manufacturer": vendor,
            "Model": model,
            "Owner": "Owner",
            "CivilCode": channel_id[:6],
            "Address": "Address",
            "Parental": 0,
            "ParentID": parent_id,
            "RegisterWay": 1,
            "Secrecy": 0,
            "IPAddress": ip,
            "Port": 8000 if ip else 0,
            "Status": status,
            "Longitude": 0.0,
            "Latitude": 0.0,
            "Info": {**info, "Resolution": "6/4/2", "DownloadSpeed": "1/2/4"},
        },
    }


def _home(space: Raw) -> tuple[dict[str, Raw], dict[str, list[Raw]]]:
    hik = ("Hikvision", "DS-2CD2346G2-ISU/SL")
    ipc = _device(
        space,
        HOME_IPC_ID,
        HOME_IPC_NSID,
        "Front door",
        "online",
        Manufactory="Hikvision",
        Password=HOME_IPC_PASSWORD,
        DeviceIP="192.168.1.64",
        DeviceStreams={HOME_IPC_CHANNEL_ID: _stream(HOME_IPC_STREAM_ID, "Front door", *hik)},
    )
    offline = _device(
        space,
        HOME_IPC_OFFLINE_ID,
        HOME_IPC_OFFLINE_NSID,
        "Garage",
        "offline",
        Manufactory="Hikvision",
        Password="Garage-pass-1",
        DeviceIP="192.168.1.65",
        DeviceStreams={
            HOME_IPC_OFFLINE_CHANNEL_ID: _stream(
                HOME_IPC_OFFLINE_STREAM_ID, "Garage", "Hikvision", "DS-2CD1043G2-I", "offline"
            )
        },
    )
    nvr_models = (("Hikvision", "DS-2CD1343G2-LIU"), ("Dahua", "IPC-HDW2431T-AS"))
    names = ("Garden", "Back yard")
    nvr = _device(
        space,
        HOME_NVR_ID,
        HOME_NVR_NSID,
        "Recorder",
        "online",
        Type="NVR",
        ChannelNum=2,
        Manufactory="Hikvision",
        Password="Nvr-pass-2",
        DeviceIP="192.168.1.70",
        DeviceStreams={
            ch: _stream(sid, name, *model)
            for ch, sid, name, model in zip(
                HOME_NVR_CHANNEL_IDS, HOME_NVR_STREAM_IDS, names, nvr_models, strict=True
            )
        },
    )
    unreg = _device(
        space,
        HOME_UNREG_ID,
        HOME_UNREG_NSID,
        "Porch (not set up)",
        "unregisterd",
        ChannelNum=0,
        Password="Porch-pass-3",
    )
    channels = {
        HOME_NVR_ID: [
            channel(
                ch,
                sid,
                name,
                *model,
                parent_id=HOME_NVR_NSID,
                ip=f"192.168.1.{71 + i}",
                ptz_type=1 if i == 0 else 3,
            )
            for i, (ch, sid, name, model) in enumerate(
                zip(HOME_NVR_CHANNEL_IDS, HOME_NVR_STREAM_IDS, names, nvr_models, strict=True)
            )
        ]
    }
    return {d["DeviceID"]: d for d in (ipc, offline, nvr, unreg)}, channels


def _shop(space: Raw) -> tuple[dict[str, Raw], dict[str, list[Raw]]]:
    dahua = ("Dahua", "IPC-HFW2441S-S")
    ipc = _device(
        space,
        SHOP_IPC_ID,
        SHOP_IPC_NSID,
        "Counter",
        "online",
        Manufactory="Dahua",
        Password="Shop-pass-4",
        DeviceIP="10.0.0.20",
        RtpTransportTcp=False,
        DeviceStreams=[_stream(SHOP_IPC_STREAM_ID, "Counter", *dahua)],
    )
    channels = {
        SHOP_IPC_ID: [
            channel(
                SHOP_IPC_CHANNEL_ID,
                SHOP_IPC_STREAM_ID,
                "Counter",
                *dahua,
                parent_id=SHOP_IPC_NSID,
                ip="10.0.0.20",
                ptz_type=None,
            )
        ]
    }
    return {SHOP_IPC_ID: ipc}, channels


@cache
def _big_devices() -> tuple[Raw, ...]:
    space = {"SpaceID": SPACE_BIG_ID, "SpaceName": "big"}
    devices = []
    for n in range(BIG_DEVICE_COUNT):
        nsid = big_device_nsid(n)
        stream_id = f"5b1c0000-0000-4000-8000-{n:012d}"
        status = big_device_status(n)
        name = f"Camera {n:04d}"
        streams = {
            f"3402000000131{1_000_000 + n:07d}": _stream(
                stream_id, name, "Uniview", "IPC2124LB-SF28KM-G", status
            )
        }
        devices.append(
            _device(
                space,
                big_device_id(n),
                nsid,
                name,
                status,
                Manufactory="Uniview",
                Password=f"Big-pass-{n:04d}",
                DeviceStreams=streams,
            )
        )
    return tuple(devices)


@dataclass
class State:
    """Mutable account data of one emulator instance."""

    spaces: dict[str, Raw] = field(default_factory=dict)
    devices: dict[str, dict[str, Raw]] = field(default_factory=dict)
    # DeviceID -> GetDeviceChannelsV2 ``Channels``; devices not listed get channels derived
    # from their ``DeviceStreams`` map.
    channels: dict[str, list[Raw]] = field(default_factory=dict)
    # StreamID -> {"SpaceID", "StreamingIndex"} of the streams started with StartStream.
    started_streams: dict[str, Raw] = field(default_factory=dict)
    # StreamID -> preset number -> name: the presets a channel starts with (see emulator.ptz).
    presets: dict[str, dict[int, str]] = field(default_factory=dict)

    def add_device(self, space_id: str, raw: Raw) -> None:
        """Add (or replace) a device in a space; ``raw`` needs at least DeviceID and DeviceNSID."""
        raw.setdefault("SpaceID", space_id)
        self.devices.setdefault(space_id, {})[raw["DeviceID"]] = raw

    def remove_device(self, space_id: str, device_id: str) -> None:
        """Remove a device (no error if it is not there)."""
        self.devices.get(space_id, {}).pop(device_id, None)
        self.channels.pop(device_id, None)

    def set_status(self, space_id: str, device_id: str, status: str) -> None:
        """Set a device's ``Status`` (``online``, ``offline``, ...)."""
        self.devices[space_id][device_id]["Status"] = status

    def device(self, space_id: str, device_id: str) -> Raw | None:
        """Return a device by DeviceID."""
        return self.devices.get(space_id, {}).get(device_id)

    def device_by_nsid(self, space_id: str, nsid: str) -> Raw | None:
        """Return a device by its GB ID."""
        for raw in self.devices.get(space_id, {}).values():
            if raw.get("DeviceNSID") == nsid:
                return raw
        return None

    def device_channels(self, device: Raw) -> list[Raw]:
        """Return the GetDeviceChannelsV2 channels of a device."""
        explicit = self.channels.get(device["DeviceID"])
        if explicit is not None:
            return explicit
        streams = device.get("DeviceStreams")
        if not isinstance(streams, dict):
            return []
        return [
            channel(
                ch,
                s.get("StreamID", ""),
                s.get("Name", ""),
                s.get("Manufacturer", ""),
                s.get("Model", ""),
                parent_id=device.get("DeviceNSID", ""),
                status=s.get("ChannelStatus", "ON"),
            )
            for ch, s in streams.items()
        ]

    def stream_owner(self, space_id: str, stream_id: str) -> Raw | None:
        """Return the device that has a stream (main stream or channel)."""
        for raw in self.devices.get(space_id, {}).values():
            streams = raw.get("DeviceStreams")
            values = streams.values() if isinstance(streams, dict) else streams or []
            if any(isinstance(s, dict) and s.get("StreamID") == stream_id for s in values):
                return raw
            if any(c.get("StreamID") == stream_id for c in self.channels.get(raw["DeviceID"], [])):
                return raw
        return None


def demo_state() -> State:
    """Return a fresh demo account (home, shop and big spaces)."""
    state = State()
    for space_id, name, description, build in (
        (SPACE_HOME_ID, "home", "Home cameras", _home),
        (SPACE_SHOP_ID, "shop", "Shop cameras", _shop),
    ):
        space = _space(space_id, name, description)
        state.spaces[space_id] = space
        state.devices[space_id], channels = build(space)
        state.channels.update(channels)
    state.presets = {stream: dict(names) for stream, names in PRESET_NAMES.items()}
    state.spaces[SPACE_BIG_ID] = _space(SPACE_BIG_ID, "big", "5,000 generated cameras")
    state.devices[SPACE_BIG_ID] = {raw["DeviceID"]: dict(raw) for raw in _big_devices()}
    return state
