"""Turn what a caller asks to play into an audio source for the talk pipeline.

This is the only place that knows Home Assistant's media: media sources (TTS, local media,
cameras' recordings...), HA URLs that need signing, and plain http(s) URLs.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.components import media_source, tts
from homeassistant.components.media_player import async_process_play_media_url
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import yarl

from .const import DOMAIN, LOGGER
from .talk import AudioSource
from .talk.cache import file_cache_key
from .util import redact_url

TTS_PROXY_PATH = "/api/tts_proxy/"
TTS_MEDIA_SOURCE = "media-source://tts/"
CHIME_PATH = Path(__file__).parent / "sounds" / "chime.wav"


def media_label(media_id: str) -> str:
    """Return a title for what is played: the TTS message or the file name.

    Never a query, a password or a token: only a media-source ID's ``message`` is shown.
    """
    try:
        url = yarl.URL(media_id)
    except ValueError:
        return redact_url(media_id)[:100]
    if media_source.is_media_source_id(media_id) and (message := url.query.get("message")):
        return message[:100]
    return url.name or url.host or redact_url(media_id)[:100]


def _media_error(key: str, media_id: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"media": redact_url(media_id)[:200]},
    )


def tts_cache_key(media_id: str) -> str | None:
    """Return the cache identity of a TTS result: its media-source ID (engine, message, options).

    A one-off stream (``-stream-/<token>``) has no stable identity and is not cached, nor is
    a result asked for without cache (``tts.speak`` with ``cache: false``, in the ID as
    ``cache=false``): it is synthesised again, so it is transcoded again.
    """
    if not media_id.startswith(TTS_MEDIA_SOURCE) or "/-stream-/" in media_id:
        return None
    try:
        cache = yarl.URL(media_id).query.get("cache")
    except ValueError:
        return None
    if cache is not None and cache.lower() != "true":
        return None
    return f"tts:{media_id}"


async def async_file_source(path: str, gain: float, label: str) -> AudioSource:
    """Return the source of a local file, with the identity of its content for the cache."""
    return AudioSource(location=path, gain=gain, label=label, cache_key=await file_cache_key(path))


async def async_resolve_source(
    hass: HomeAssistant, media_id: str, entity_id: str, gain: float
) -> AudioSource:
    """Resolve a media-source ID or a URL into an ``AudioSource``.

    Every failure is a translated ``ServiceValidationError``; no URL in it carries userinfo
    or a query.
    """
    media_id = media_id.strip()
    label = media_label(media_id)
    if media_source.is_media_source_id(media_id):
        try:
            play = await media_source.async_resolve_media(hass, media_id, entity_id)
        except media_source.Unresolvable as err:
            raise _media_error("media_not_found", media_id) from err
        except Exception as err:  # a source's own bug (an assert, a KeyError...)
            LOGGER.debug(
                "%s: the media source failed on %s: %s", entity_id, redact_url(media_id), repr(err)
            )
            raise _media_error("media_not_found", media_id) from err
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
    try:
        url = yarl.URL(media_id)
    except ValueError as err:
        raise _media_error("unsupported_media", media_id) from err
    if not (url.scheme in ("http", "https") or (not url.is_absolute() and media_id[:1] == "/")):
        raise _media_error("unsupported_media", media_id)
    try:
        location = async_process_play_media_url(hass, media_id)
    except Exception as err:  # no URL of Home Assistant, or a URL it cannot sign
        raise _media_error("media_not_found", media_id) from err
    return AudioSource(location=location, gain=gain, label=label)
