"""The one place that makes URLs and texts safe to show: no userinfo, no query, no fragment.

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


REDACTED: Final = "**REDACTED**"
# A name that looks like a credential (token, volcSecret, auth_key, x-amz-signature, ...), in
# any quoting ("token": "…" in JSON, 'token': '…', token=…), then its value whatever its length
# (a bearer/basic scheme word is skipped so the credential after it is the value).
_CREDENTIAL_NAME: Final = (
    r"[\w-]*?(?:token|secret|signature|password|passwd|credential|auth)[\w-]*|sign|[\w-]*key"
)
_SECRET_PARAM: Final = re.compile(
    rf"(?i)(?<![\w-])([\"']?)({_CREDENTIAL_NAME})(\1\s*[=:]\s*)((?:bearer|basic)\s+)?"
    r"(\"[^\"]*\"|'[^']*'|[^\s&,;\"'}\]]+)"
)
_TOKEN_LIKE: Final = re.compile(r"[A-Za-z0-9_\-+/]{24,}={0,2}")


def _redact_value(match: re.Match[str]) -> str:
    quote, name, separator, scheme, value = match.groups()
    kept = value[0] if value[:1] in ("'", '"') else ""  # a quoted value stays quoted
    return f"{quote}{name}{separator}{scheme or ''}{kept}{REDACTED}{kept}"


def redact_message(text: str, limit: int) -> str:
    """Return a text of unknown content (what a server said) safe to keep and log.

    URLs are redacted like ``redact_url``; ``name=value`` pairs whose name looks like a
    credential and long token-like runs are replaced; the result is cut at ``limit``.
    """
    text = redact_text(text)
    text = _SECRET_PARAM.sub(_redact_value, text)
    text = _TOKEN_LIKE.sub(REDACTED, text)
    return text if len(text) <= limit else text[:limit] + "…"
