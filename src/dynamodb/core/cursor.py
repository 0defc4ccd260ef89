"""Cursors: opaque, JSON-serialisable positions in a query or scan.

A :class:`Cursor` is a ``str`` (so ``json.dumps`` and URLs take it as it is)
holding DynamoDB's ``LastEvaluatedKey``, the table and index it belongs to, and
a MAC over both. A cursor that was cut, edited, or taken from another table or
index raises :class:`InvalidCursor` instead of reaching DynamoDB.

By default the MAC key is a constant, so it detects corruption and mix-ups but
not a forger who knows this code; call :func:`set_cursor_secret` with your own
secret to make cursors unforgeable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import InvalidCursor

__all__ = ["Cursor", "InvalidCursor", "set_cursor_secret"]

_VERSION = "c1"
_DEFAULT_SECRET = b"dynamodb-py cursor v1"
_secret = _DEFAULT_SECRET


def set_cursor_secret(secret: bytes | str | None) -> None:
    """Sign cursors with ``secret`` (None restores the default constant key)."""
    global _secret
    if secret is None:
        _secret = _DEFAULT_SECRET
    else:
        _secret = secret.encode() if isinstance(secret, str) else bytes(secret)


def _mac(scope: str, payload: str) -> str:
    digest = hmac.new(_secret, f"{scope}\n{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def _jsonable(key: dict[str, AttributeValue]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, attribute in key.items():
        ((tag, raw),) = attribute.items()
        if tag == "B":
            raw = base64.b64encode(raw if isinstance(raw, bytes) else bytes(raw)).decode("ascii")
        out[name] = [tag, raw]
    return out


def _from_jsonable(data: Any) -> dict[str, AttributeValue]:
    if not isinstance(data, dict) or not data:
        raise ValueError("no key")
    key: dict[str, AttributeValue] = {}
    for name, entry in data.items():
        tag, raw = entry
        if tag not in ("S", "N", "B") or not isinstance(raw, str):
            raise ValueError("bad key part")
        key[name] = {tag: base64.b64decode(raw, validate=True) if tag == "B" else raw}
    return key


class Cursor(str):
    """Where the next page starts. Pass it (or its string) to ``start_key()``."""

    __slots__ = ()

    @classmethod
    def from_key(cls, key: dict[str, AttributeValue], scope: str) -> Cursor:
        """The cursor for DynamoDB's LastEvaluatedKey ``key`` within ``scope``."""
        payload = base64.urlsafe_b64encode(
            json.dumps(_jsonable(key), separators=(",", ":"), sort_keys=True).encode()
        ).decode("ascii")
        return cls(f"{_VERSION}.{payload}.{_mac(scope, payload)}")

    def to_key(self, scope: str) -> dict[str, AttributeValue]:
        """The ExclusiveStartKey, after checking the cursor belongs to ``scope``."""
        return decode_cursor(str(self), scope)


def decode_cursor(text: str, scope: str) -> dict[str, AttributeValue]:
    """Check and decode a cursor string; InvalidCursor if it is not one of ``scope``'s."""
    if not isinstance(text, str):
        raise InvalidCursor(f"a cursor is a string, not {type(text).__name__}")
    parts = text.split(".")
    # Cursors are ASCII; compare_digest raises TypeError on non-ASCII str.
    if len(parts) != 3 or parts[0] != _VERSION or not text.isascii():
        raise InvalidCursor("not a dynamodb-py cursor (it was cut or changed)")
    _, payload, mac = parts
    if not hmac.compare_digest(mac, _mac(scope, payload)):
        raise InvalidCursor(
            "cursor check failed: it was changed, or it belongs to another table, index "
            "or cursor secret"
        )
    try:
        return _from_jsonable(json.loads(base64.urlsafe_b64decode(payload)))
    except (ValueError, TypeError, binascii.Error) as error:
        raise InvalidCursor(f"cursor payload is damaged: {error}") from None
