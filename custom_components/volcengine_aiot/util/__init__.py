"""Helpers every HA-free package may use: redaction of secrets and short ffmpeg runs.

This package imports nothing else of the integration, so ``api/``, ``talk/``, ``live/`` and the
other HA-free packages can share it without reaching into each other.
"""

from .process import Finished, lower_priority, run_to_end
from .redact import REDACTED, redact_message, redact_text, redact_url

__all__ = [
    "REDACTED",
    "Finished",
    "lower_priority",
    "redact_message",
    "redact_text",
    "redact_url",
    "run_to_end",
]
