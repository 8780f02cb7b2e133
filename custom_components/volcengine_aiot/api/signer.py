"""Volcengine OpenAPI request signing (HMAC-SHA256, the V4-style scheme of the official SDKs).

Pure functions on the standard library. The canonical query string built here is also the
exact query the client sends, so the bytes the gateway canonicalizes are the bytes we signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import hmac
from urllib.parse import quote

ALGORITHM = "HMAC-SHA256"
SERVICE = "aiotvideo"
_SIGNED_PREFIXES = ("x-",)
_SIGNED_NAMES = frozenset({"content-type", "content-md5", "host"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """An AccessKey pair. The secret never appears in ``repr``."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:
        """Return a representation without the secret."""
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='**REDACTED**')"
        )


def uri_encode(value: str) -> str:
    """Percent-encode like the Volcengine signers (RFC 3986 unreserved characters kept)."""
    return quote(value, safe="-_.~")


def canonical_query(query: Mapping[str, str]) -> str:
    """Return the canonical query string: pairs percent-encoded first, then sorted by name.

    Sorting the encoded names (not the raw ones) is what the official signer and the gateway
    do; the two orders differ for names with reserved or non-ASCII characters (``a/b`` sorts
    before ``a.b`` once encoded as ``a%2Fb``).
    """
    return "&".join(
        f"{key}={value}"
        for key, value in sorted((uri_encode(k), uri_encode(v)) for k, v in query.items())
    )


DEFAULT_PORTS = {"http": 80, "https": 443}


def host_header(scheme: str, host: str, port: int | None) -> str:
    """Return the Host header value the SDKs sign: ``host[:port]``, a default port left out."""
    name = f"[{host}]" if ":" in host and not host.startswith("[") else host
    if port is None or DEFAULT_PORTS.get(scheme.lower()) == port:
        return name
    return f"{name}:{port}"


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def format_x_date(now: datetime) -> str:
    """Format a datetime as the X-Date header value (UTC, basic ISO 8601)."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret_access_key: str, date: str, region: str, service: str = SERVICE) -> bytes:
    """Derive the signing key: kDate -> kRegion -> kService -> kSigning."""
    k_date = _hmac(secret_access_key.encode(), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "request")


def _is_signed(name: str) -> bool:
    lower = name.lower()
    return lower in _SIGNED_NAMES or lower.startswith(_SIGNED_PREFIXES)


def canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body_sha256: str,
) -> tuple[str, str]:
    """Return the canonical request and the signed-headers list."""
    signed = sorted(
        (
            (name.lower(), " ".join(value.split()))
            for name, value in headers.items()
            if _is_signed(name)
        ),
    )
    signed_headers = ";".join(name for name, _ in signed)
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in signed)
    request = "\n".join(
        (
            method.upper(),
            path or "/",
            canonical_query(query),
            canonical_headers,
            signed_headers,
            body_sha256,
        )
    )
    return request, signed_headers


def authorization(
    credentials: Credentials,
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    region: str,
    service: str = SERVICE,
) -> str:
    """Return the Authorization header for a request whose headers include X-Date."""
    x_date = next(value for name, value in headers.items() if name.lower() == "x-date")
    date = x_date[:8]
    scope = f"{date}/{region}/{service}/request"
    request, signed_headers = canonical_request(method, path, query, headers, sha256_hex(body))
    string_to_sign = "\n".join((ALGORITHM, x_date, scope, sha256_hex(request.encode())))
    signature = hmac.new(
        signing_key(credentials.secret_access_key, date, region, service),
        string_to_sign.encode(),
        hashlib.sha256,
    ).hexdigest()
    return (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


def sign_headers(
    credentials: Credentials,
    *,
    method: str,
    host: str,
    query: Mapping[str, str],
    body: bytes,
    region: str,
    now: datetime,
    content_type: str | None = None,
    path: str = "/",
) -> dict[str, str]:
    """Return the headers of a signed request (Host, X-Date, X-Content-Sha256, Authorization)."""
    headers: dict[str, str] = {
        "Host": host,
        "X-Date": format_x_date(now),
        "X-Content-Sha256": sha256_hex(body),
    }
    if content_type is not None:
        headers["Content-Type"] = content_type
    headers["Authorization"] = authorization(
        credentials,
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        region=region,
    )
    return headers
