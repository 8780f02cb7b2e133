"""Turn what a caller asks to play into an audio source for the talk pipeline.

This is the only place that knows Home Assistant's media: media sources (TTS, local media,
cameras' recordings...), HA URLs that need signing, and plain http(s) URLs.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.components import media_source, tts
from homeassistant.components.media_player import async_process_play_media_url
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import yarl

from .const import DOMAIN, LOGGER
from .talk import AudioSource
from .talk.cache import file_cache_key

TTS_PROXY_PATH = "/api/tts_proxy/"
TTS_MEDIA_SOURCE = "media-source://tts/"
CHIME_PATH = Path(__file__).parent / "sounds" / "chime.wav"


def gain_factor(gain_db: float) -> float:
    """Return the linear factor of a gain in dB."""
    return float(10 ** (gain_db / 20))


def media_label(media_id: str) -> str:
    """Return a title for what is played: the TTS message or the file name (never a query)."""
    try:
        url = yarl.URL(media_id)
    except ValueError:
        return media_id[:100]
    if message := url.query.get("message"):
        return message[:100]
    return url.name or url.host or media_id[:100]


def tts_cache_key(media_id: str) -> str | None:
    """Return the cache identity of a TTS result: its media-source ID (engine, message, options).

    A one-off stream (``-stream-/<token>``) has no stable identity and is not cached.
    """
    if not media_id.startswith(TTS_MEDIA_SOURCE) or "/-stream-/" in media_id:
        return None
    return f"tts:{media_id}"


async def async_file_source(path: str, gain: float, label: str) -> AudioSource:
    """Return the source of a local file, with the identity of its content for the cache."""
    return AudioSource(location=path, gain=gain, label=label, cache_key=await file_cache_key(path))


async def async_resolve_source(
    hass: HomeAssistant, media_id: str, entity_id: str, gain: float
) -> AudioSource:
    """Resolve a media-source ID or a URL into an ``AudioSource``."""
    media_id = media_id.strip()
    label = media_label(media_id)
    if media_source.is_media_source_id(media_id):
        try:
            play = await media_source.async_resolve_media(hass, media_id, entity_id)
        except media_source.Unresolvable as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="media_not_found",
                translation_placeholders={"media": media_id},
            ) from err
        if play.url.startswith(TTS_PROXY_PATH):
            token = play.url.removeprefix(TTS_PROXY_PATH)
            if (stream := tts.async_get_stream(hass, token)) is not None:
                LOGGER.debug("%s: TTS audio streamed in-process", entity_id)
                return AudioSource(
                    stream=stream.async_stream_result,
                    gain=gain,
                    label=label,
                    key=media_id,
                    cache_key=tts_cache_key(media_id),
                )
        if play.path is not None:
            return await async_file_source(str(play.path), gain, label)
        media_id = play.url
    url = yarl.URL(media_id)
    if not (url.scheme in ("http", "https") or (not url.is_absolute() and media_id[:1] == "/")):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unsupported_media",
            translation_placeholders={"media": media_id[:200]},
        )
    try:
        location = async_process_play_media_url(hass, media_id)
    except HomeAssistantError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="media_not_found",
            translation_placeholders={"media": media_id[:200]},
        ) from err
    return AudioSource(location=location, gain=gain, label=label)
