"""AWS Signature Version 4 for DynamoDB's JSON API, with the signing key kept per day.

:class:`Signer` signs ``POST`` requests the way botocore's ``SigV4Auth`` does
for DynamoDB (the same canonical request, string to sign and ``Authorization``
header, byte for byte: ``tests/unit/test_sigv4.py`` compares them over many
generated requests), but derives the signing key (four HMACs) once per secret
key and day instead of once per request, and builds the canonical request from
a fixed set of headers instead of looking at every header of a request object.

Only the standard library is imported here.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import NamedTuple
from urllib.parse import quote, urlsplit

__all__ = ["JSON_CONTENT_TYPE", "Credentials", "Signer", "canonical_path", "host_header"]

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "DynamoDB_20120810."

_ALGORITHM = "AWS4-HMAC-SHA256"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Credentials(NamedTuple):
    """One set of AWS credentials, as they are at one moment (a refreshed set is a new one)."""

    access_key: str
    secret_key: str
    token: str | None = None
    account_id: str | None = None


def host_header(url: str) -> str:
    """The ``Host`` value botocore signs for ``url``: lowercase, without a default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def canonical_path(path: str) -> str:
    """The path as SigV4 signs it: dot segments and empty segments removed, then quoted."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    normalized = "/" + "/".join(kept)
    if kept and path.endswith("/"):
        normalized += "/"
    return quote(normalized, safe="/~")


def _trimmed(value: str) -> str:
    # SigV4's Trimall: no space around the value, runs of spaces become one.
    return " ".join(value.split())


class Signer:
    """Signs DynamoDB requests to one endpoint for one region.

    :meth:`headers` gives every header a request needs besides ``Content-Length``
    (and whatever the HTTP layer adds that SigV4 does not sign). Thread-safe: the
    cached signing key is replaced as a whole.
    """

    __slots__ = (
        "_cached",
        "_head",
        "_host",
        "_path",
        "_region",
        "_scope_tail",
        "_second",
        "_service",
    )

    def __init__(self, url: str, region: str, service: str = "dynamodb") -> None:
        self._region = region
        self._service = service
        self._host = host_header(url)
        self._path = canonical_path(urlsplit(url).path)
        self._scope_tail = f"/{region}/{service}/aws4_request"
        self._head = f"POST\n{self._path}\n\ncontent-type:{JSON_CONTENT_TYPE}\nhost:{self._host}\n"
        # (secret key, day) -> signing key, for the day of the latest request
        self._cached: tuple[str, str, bytes] = ("", "", b"")
        self._second: tuple[int, str] = (-1, "")  # the latest second signed, as a stamp

    @property
    def host(self) -> str:
        """The ``Host`` header value."""
        return self._host

    @property
    def path(self) -> str:
        """The request path, as sent and signed."""
        return self._path

    def signing_key(self, secret_key: str, day: str) -> bytes:
        """The derived key for ``day`` (``YYYYMMDD``): computed once per secret and day."""
        cached_secret, cached_day, key = self._cached
        if cached_secret == secret_key and cached_day == day:
            return key
        key = hmac.digest(f"AWS4{secret_key}".encode(), day.encode(), "sha256")
        for part in (self._region, self._service, "aws4_request"):
            key = hmac.digest(key, part.encode(), "sha256")
        self._cached = (secret_key, day, key)
        return key

    def headers(
        self,
        credentials: Credentials,
        target: str,
        body: bytes,
        now: float | None = None,
    ) -> dict[str, str]:
        """The signed headers of a ``POST`` of ``body`` with ``X-Amz-Target: target``.

        ``now`` is the signing time (seconds since the epoch; default: the clock).
        """
        second = int(time.time() if now is None else now)
        cached_second, stamp = self._second
        if second != cached_second:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._second = (second, stamp)
        day = stamp[:8]
        token = credentials.token
        if token:
            signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
            middle = f"x-amz-date:{stamp}\nx-amz-security-token:{_trimmed(token)}\n"
        else:
            signed = "content-type;host;x-amz-date;x-amz-target"
            middle = f"x-amz-date:{stamp}\n"
        canonical = (
            f"{self._head}{middle}x-amz-target:{_trimmed(target)}\n\n{signed}\n"
            f"{hashlib.sha256(body).hexdigest()}"
        )
        scope = day + self._scope_tail
        to_sign = (
            f"{_ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        signature = hmac.digest(
            self.signing_key(credentials.secret_key, day), to_sign.encode(), "sha256"
        ).hex()
        headers = {
            "Host": self._host,
            "Content-Type": JSON_CONTENT_TYPE,
            "X-Amz-Target": target,
            "X-Amz-Date": stamp,
        }
        if token:
            headers["X-Amz-Security-Token"] = token
        headers["Authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        return headers
