"""Gateway-side HMAC-SHA256 signature verification (independent of the integration's signer).

The canonical request is rebuilt from what actually arrived: the method, the path, the RAW query
string (split on ``&``, each key/value percent-decoded and re-encoded per RFC 3986, sorted), the
received values of the signed headers and the SHA-256 of the received body.

``sign_request`` is a tiny signer for the emulator's own tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import hmac
import re
from urllib.parse import quote, unquote

ALGORITHM = "HMAC-SHA256"
SERVICE = "aiotvideo"
X_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
CLOCK_WINDOW = timedelta(minutes=15)

_AUTH_RE = re.compile(
    r"^HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)


class GatewayError(Exception):
    """An error answer of the gateway: HTTP status, Code and (when the gateway has one) CodeN."""

    def __init__(self, status: int, code: str, message: str, code_n: int | None = None) -> None:
        """Initialize."""
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.code_n = code_n


@dataclass(frozen=True, slots=True)
class Verified:
    """What a successfully verified request was signed with."""

    access_key: str
    date: str
    region: str
    service: str


def uri_encode(value: str) -> str:
    """Percent-encode keeping only the RFC 3986 unreserved characters."""
    return quote(value, safe="-_.~")


def canonical_query_from_raw(raw_query: str) -> str:
    """Re-canonicalize a query string exactly as received on the wire."""
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((uri_encode(unquote(key)), uri_encode(unquote(value))))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def canonical_query(query: Mapping[str, str]) -> str:
    """Return the canonical query string of decoded parameters (signer side).

    Like the gateway: encode first, then sort (the encoded name decides the order).
    """
    pairs = sorted((uri_encode(k), uri_encode(v)) for k, v in query.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def signing_key(secret_key: str, date: str, region: str, service: str = SERVICE) -> bytes:
    """Derive kSigning = HMAC(HMAC(HMAC(HMAC(SK, date), region), service), "request")."""
    key = secret_key.encode()
    for part in (date, region, service, "request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signature(secret_key: str, x_date: str, scope: str, canonical_request: str) -> str:
    _, region, service, _ = scope.split("/")
    string_to_sign = "\n".join((ALGORITHM, x_date, scope, sha256_hex(canonical_request.encode())))
    key = signing_key(secret_key, x_date[:8], region, service)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _canonical_request(
    method: str,
    path: str,
    canonical_qs: str,
    header_values: list[tuple[str, str]],
    body_hash: str,
) -> str:
    canonical_headers = "".join(f"{name}:{value.strip()}\n" for name, value in header_values)
    signed = ";".join(name for name, _ in header_values)
    return "\n".join(
        (method.upper(), path or "/", canonical_qs, canonical_headers, signed, body_hash)
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def verify(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, str],
    now: datetime,
) -> Verified:
    """Verify a request like the gateway; raise ``GatewayError`` on the first problem."""
    authorization = _header(headers, "Authorization")
    if not authorization:
        raise GatewayError(
            401, "MissingAuthenticationToken", "The request has no authentication info.", 100003
        )
    match = _AUTH_RE.match(authorization.strip())
    credential = match["credential"].split("/") if match else []
    if match is None or len(credential) != 5 or credential[4] != "request":
        raise GatewayError(
            401, "MissingSignature", "The Authorization header is malformed.", 100005
        )
    access_key, date, region, service, _ = credential
    if service != SERVICE:
        raise GatewayError(404, "ServiceNotFound", f"Service {service} not found.", 100007)
    secret_key = credentials.get(access_key)
    if secret_key is None:
        raise GatewayError(
            401, "InvalidAccessKey", "The AccessKey ID in the request is invalid.", 100009
        )
    x_date = _header(headers, "X-Date")
    if not x_date:
        raise GatewayError(400, "MissingRequestInfo", "The X-Date header is missing.", 100004)
    _check_time(x_date.strip(), now)
    if date != x_date.strip()[:8]:
        raise GatewayError(
            401, "SignatureDoesNotMatch", "The credential date does not match X-Date.", 100010
        )
    body_hash = sha256_hex(body)
    declared = _header(headers, "X-Content-Sha256")
    if declared is not None and declared.strip().lower() != body_hash:
        raise GatewayError(
            401, "SignatureDoesNotMatch", "X-Content-Sha256 does not match the body.", 100010
        )
    names = match["signed"].lower().split(";")
    header_values = [(name, _header(headers, name) or "") for name in names]
    request = _canonical_request(
        method, path, canonical_query_from_raw(raw_query), header_values, body_hash
    )
    expected = _signature(secret_key, x_date.strip(), "/".join(credential[1:]), request)
    if not hmac.compare_digest(expected, match["signature"].lower()):
        raise GatewayError(
            401,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
            100010,
        )
    return Verified(access_key=access_key, date=date, region=region, service=service)


def _check_time(x_date: str, now: datetime) -> None:
    try:
        when = datetime.strptime(x_date, X_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise GatewayError(
            400, "InvalidTimestamp", f"X-Date {x_date!r} is not YYYYMMDDTHHMMSSZ.", 100006
        ) from None
    if abs(when - now) > CLOCK_WINDOW:
        raise GatewayError(
            400,
            "InvalidTimestamp",
            "The request timestamp is out of the allowed window (15 minutes).",
            100006,
        )


def sign_request(
    *,
    method: str,
    host: str,
    query: Mapping[str, str],
    body: bytes = b"",
    access_key: str,
    secret_key: str,
    region: str = "cn-north-1",
    now: datetime | None = None,
    content_type: str | None = None,
    service: str = SERVICE,
    path: str = "/",
) -> dict[str, str]:
    """Return signed headers (Host, X-Date, X-Content-Sha256, [Content-Type], Authorization)."""
    x_date = (now or datetime.now(UTC)).astimezone(UTC).strftime(X_DATE_FORMAT)
    headers = {"Host": host, "X-Date": x_date, "X-Content-Sha256": sha256_hex(body)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    values = sorted((name.lower(), value) for name, value in headers.items())
    scope = f"{x_date[:8]}/{region}/{service}/request"
    request = _canonical_request(method, path, canonical_query(query), values, sha256_hex(body))
    signature = _signature(secret_key, x_date, scope, request)
    signed = ";".join(name for name, _ in values)
    headers["Authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return headers
