"""The one place that makes URLs safe to show: no userinfo, no query, no fragment.

Media URLs may carry credentials (``http://user:password@nas/a.mp3``) or tokens (signed Home
Assistant paths ``?authSig=…``, the talk socket's ``?token=…``). Everything that logs a URL, puts
one in an error shown to the user or in a media title goes through ``redact_url`` (one URL) or
``redact_text`` (free text such as ffmpeg's messages, which quote the URLs they open).
"""

from __future__ import annotations

import re
from typing import Final

# scheme://… up to white space or a quote (ffmpeg quotes the URLs it names with ' or ")
_URL: Final = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*")
_QUERY: Final = re.compile(r"[?#]")


def _cut_query(text: str) -> str:
    return _QUERY.split(text, maxsplit=1)[0]


def redact_url(url: str) -> str:
    """Return ``scheme://host[:port]/path`` of a URL: no userinfo, no query, no fragment.

    Parsed by hand rather than with a URL library, so that a malformed URL (a password with
    an unencoded ``#`` or ``?``, a broken IPv6 host) is redacted too instead of raising or
    being split in the wrong place.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _cut_query(url)
    authority, slash, path = rest.partition("/")
    host = _cut_query(authority.rpartition("@")[2])
    return f"{scheme}://{host}{slash}{_cut_query(path)}"


def redact_text(text: str) -> str:
    """Return a text with every URL in it redacted like ``redact_url``."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)
