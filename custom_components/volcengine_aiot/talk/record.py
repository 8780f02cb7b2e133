"""What happened in one talk, for diagnostics: what the talk server said, and the timings.

Volcengine does not document what its talk server sends back (text messages, close codes), so
every message it sends is kept (type, size, and the text of text messages with anything
token-like redacted), with the close code and reason, who closed first, and how long each step
took. A speaker keeps the last ``KEEP`` talks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
import time
from typing import Final

from ..util.redact import redact_message

KEEP: Final = 10
MAX_TEXT: Final = 500
MAX_MESSAGES: Final = 50  # per talk: a chatty server cannot grow the diagnostics without bound


def _now() -> float:
    return time.monotonic()


@dataclass(slots=True)
class ServerMessage:
    """One message from the talk server."""

    type: str  # TEXT, BINARY, PING, PONG
    size: int
    at: float  # seconds since the talk began
    text: str | None = None  # text messages only, redacted, at most MAX_TEXT characters


@dataclass(slots=True)
class TalkRecord:
    """One talk: timings in seconds (durations, or since the talk began), what the server said."""

    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    framing: str = ""
    start_voice_talk: float | None = None  # StartVoiceTalk round trip (the successful call)
    handshake: float | None = None  # WebSocket handshake
    first_frame: float | None = None  # since the talk began
    last_frame: float | None = None  # since the talk began
    stop_voice_talk: float | None = None  # StopVoiceTalk round trip
    frames: int = 0
    messages: list[ServerMessage] = field(default_factory=list)
    messages_dropped: int = 0
    closed_by: str | None = None  # "server" or "client": who closed the socket first
    close_code: int | None = None
    close_reason: str | None = None
    error: str | None = None  # the error class that ended the talk
    t0: float = field(default_factory=_now, repr=False)

    def since(self) -> float:
        """Return the seconds since the talk began."""
        return round(_now() - self.t0, 3)

    def add_message(self, kind: str, size: int, text: str | None = None) -> ServerMessage | None:
        """Keep a server message (redacted); return it, or None once MAX_MESSAGES are kept."""
        if len(self.messages) >= MAX_MESSAGES:
            self.messages_dropped += 1
            return None
        message = ServerMessage(
            kind, size, self.since(), None if text is None else redact_message(text, MAX_TEXT)
        )
        self.messages.append(message)
        return message

    def as_dict(self) -> dict[str, object]:
        """Return the record for diagnostics (no secrets: texts are redacted when kept)."""
        return {
            "started": self.started,
            "framing": self.framing,
            "timings": {
                "start_voice_talk": self.start_voice_talk,
                "handshake": self.handshake,
                "first_frame": self.first_frame,
                "last_frame": self.last_frame,
                "stop_voice_talk": self.stop_voice_talk,
            },
            "frames": self.frames,
            "server_messages": [
                {"type": m.type, "size": m.size, "at": m.at, "text": m.text} for m in self.messages
            ],
            "server_messages_dropped": self.messages_dropped,
            "closed_by": self.closed_by,
            "close_code": self.close_code,
            "close_reason": self.close_reason,
            "error": self.error,
        }
