"""HA-free alarm events: the callback envelope parser and the space poller.

Like ``api/``, ``talk/`` and ``live/`` this package never imports Home Assistant; the entities,
the webhook and the stored cursor are the glue's business.
"""

from .callback import MAX_CALLBACK_BYTES, Callback, CallbackError, parse_callback
from .listeners import AlarmListener, AlarmListeners
from .poller import AlarmCursor, AlarmPoller

__all__ = [
    "MAX_CALLBACK_BYTES",
    "AlarmCursor",
    "AlarmListener",
    "AlarmListeners",
    "AlarmPoller",
    "Callback",
    "CallbackError",
    "parse_callback",
]
