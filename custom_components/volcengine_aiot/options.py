"""Stored options read back: a value this version does not know falls back to the default.

Options written by a newer or older version may hold a value this one does not offer. The
entities and the options form read them here, so both fall back the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .const import (
    CONF_AUDIO_TRANSCODE,
    CONF_FRAMING,
    CONF_MAX_DURATION,
    CONF_PREROLL,
    CONF_STREAM_PROTOCOL,
    CONF_TAIL,
    CONF_TRANSPORT,
    DEFAULT_AUDIO_TRANSCODE,
    DEFAULT_STREAM_PROTOCOL,
    LOGGER,
    TRANSPORTS,
)
from .live import protocol_or_default
from .talk import TalkOptions
from .talk.options import (
    DEFAULT_MAX_DURATION,
    DEFAULT_PREROLL,
    DEFAULT_TAIL,
    DEFAULT_TRANSPORT,
    framing_or_default,
)


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """The live-view options of an entry, unknown stored values replaced by the defaults."""

    protocol: str = DEFAULT_STREAM_PROTOCOL
    transcode_audio: bool = DEFAULT_AUDIO_TRANSCODE


def live_options(options: Mapping[str, Any]) -> LiveOptions:
    """Read the live-view options; a value this version does not know falls back (a warning)."""
    transcode = options.get(CONF_AUDIO_TRANSCODE, DEFAULT_AUDIO_TRANSCODE)
    if not isinstance(transcode, bool):
        LOGGER.warning("Unknown audio transcoding option %r: using the default", transcode)
        transcode = DEFAULT_AUDIO_TRANSCODE
    return LiveOptions(
        protocol_or_default(options.get(CONF_STREAM_PROTOCOL, DEFAULT_STREAM_PROTOCOL)),
        transcode,
    )


def transport_or_default(options: Mapping[str, Any]) -> str:
    """Return the stored talk transport; an unknown one falls back to the default (a warning)."""
    transport = options.get(CONF_TRANSPORT, DEFAULT_TRANSPORT)
    if isinstance(transport, str) and transport in TRANSPORTS:
        return transport
    LOGGER.warning("Unknown talk transport %r: using %s", transport, DEFAULT_TRANSPORT)
    return DEFAULT_TRANSPORT


def talk_options(options: Mapping[str, Any]) -> TalkOptions:
    """Return the talk options of an entry (the speakers of its cameras share them)."""
    return TalkOptions(
        framing=framing_or_default(options.get(CONF_FRAMING)),
        transport=transport_or_default(options),
        preroll=float(options.get(CONF_PREROLL, DEFAULT_PREROLL)),
        tail=float(options.get(CONF_TAIL, DEFAULT_TAIL)),
        max_duration=float(options.get(CONF_MAX_DURATION, DEFAULT_MAX_DURATION)),
    )
