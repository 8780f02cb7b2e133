"""Diagnostics: the entry, its options and the discovered devices, secrets redacted.

``ptz`` shows what the gateway accepted (the CloudControl key form ``Action``/``action`` and
the PresetID form QueryPresetInfo answered, None until learned) and each channel's PTZType
and known preset count.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_ACCESS_KEY_ID, CONF_SECRET_ACCESS_KEY
from .runtime import VolcengineConfigEntry
from .talk import redact_url

TO_REDACT = {
    CONF_ACCESS_KEY_ID,
    CONF_SECRET_ACCESS_KEY,
    "password",
    "audio_send_url",
    "pull_urls",
    "trans_pull_urls",
}


def _plain(value: Any) -> Any:
    """Turn tuples into lists, so the redaction reaches the items (a device's streams)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: VolcengineConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    return {
        "entry": async_redact_data(
            {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
            TO_REDACT,
        ),
        "client": {"region": runtime.client.region},
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "update_interval": str(coordinator.update_interval),
            "device_count": len(coordinator.data),
        },
        "alarms": runtime.alarms.diagnostics(),
        "devices": [
            async_redact_data(_plain(asdict(device)), TO_REDACT)
            for device in sorted(coordinator.data.values(), key=lambda d: d.device_id)
        ],
        "speakers": {
            device_id: {
                "playing": speaker.is_playing,
                "talk_left_open": speaker.stale,  # a talk of ours may still be open
                **asdict(speaker.stats),
                "talks": [talk.as_dict() for talk in speaker.talks],
            }
            for device_id, speaker in sorted(runtime.speakers.items())
        },
        "cameras": {
            key: {
                "stream_id": channel.stream.stream_id,
                "protocol": channel.stream.protocol,
                "transcode_audio": channel.stream.transcode_audio,
                "started": channel.stream.started,
                "starts": channel.stream.starts,
                "refreshes": channel.stream.refreshes,
                # the signature (volcSecret) is a capability: only scheme, host and path
                "url": None if channel.stream.url is None else redact_url(channel.stream.url),
                "snapshot_grabs": channel.snapshots.grabs,
                "snapshot_hits": channel.snapshots.hits,
            }
            for key, channel in sorted(runtime.channels.items())
        },
        "ptz": {
            "dialect": runtime.client.ptz_dialect.as_dict(),
            "channels": {
                key: {
                    "stream_id": ptz.stream_id,
                    "ptz_type": ptz.ptz_type,
                    "can_move": ptz.can_move,
                    "preset_count": len(ptz.presets),
                    "moving": runtime.ptz.busy(ptz.stream_id),
                }
                for key, ptz in sorted(runtime.ptz_channels.items())
            },
        },
    }
