"""Cursors: opaque, JSON-serialisable positions in a query or scan.

A :class:`Cursor` is a ``str`` (so ``json.dumps`` and URLs take it as it is)
holding DynamoDB's ``LastEvaluatedKey``, bound to the query it came from: its
*scope* (:func:`query_scope`) is a digest of the table, the index, the key
condition and the filter (with their values) and the scan segment. A cursor
that was cut, edited, or taken from another query raises
:class:`InvalidCursor` instead of reaching DynamoDB.

Two forms:

- ``c1.<payload>.<mac>``, without a cursor secret: the key as base64 JSON and an
  HMAC-SHA256 over the scope and the payload, keyed with a constant. It detects
  corruption and mix-ups, not a forger who knows this code, and the key can be
  read by anyone who holds the cursor.
- ``e1.<nonce and ciphertext>.<tag>``, once :func:`set_cursor_secret` was called:
  the key encrypted with AES-256-GCM (the ``cryptography`` package), the scope as
  associated data. Such a cursor is opaque as well as unforgeable; a cursor made
  under one secret is refused under another.

Nothing is kept per process: any process with the same secret reads the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import InvalidCursor, MissingDependency

__all__ = ["Cursor", "InvalidCursor", "decode_cursor", "query_scope", "set_cursor_secret"]

_SIGNED = "c1"
_SEALED = "e1"
_DEFAULT_SECRET = b"dynamodb-py cursor v1"
_NONCE = 12
_TAG = 16
_MISMATCH = (
    "cursor check failed: it was changed, or it belongs to another table, index, "
    "key condition or filter, or to another cursor secret"
)


@dataclass(frozen=True)
class _Keys:
    """The MAC key of signed cursors and, with a secret, the cipher of encrypted ones."""

    mac: bytes
    sealer: Any = None  # cryptography's AESGCM, when a secret is set


_keys = _Keys(_DEFAULT_SECRET)


def set_cursor_secret(secret: bytes | str | None) -> None:
    """Encrypt and authenticate cursors with ``secret``; None restores the default.

    With a secret, cursors are encrypted with AES-256-GCM (a key derived from the
    secret with HKDF-SHA256), which needs the ``cryptography`` package
    (``pip install 'dynamodb-py[crypto]'``): they are opaque as well as
    unforgeable. Use a long random secret, the same in every process that reads
    the cursors. Without one (the default), cursors are signed with a constant
    key only. Cursors made before a change of secret are refused after it.
    """
    global _keys
    if secret is None:
        _keys = _Keys(_DEFAULT_SECRET)
        return
    if not isinstance(secret, (bytes, bytearray, memoryview, str)):
        raise InvalidCursor(
            f"set_cursor_secret() takes bytes or a str, not {type(secret).__name__}"
        )
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not raw:
        raise InvalidCursor("set_cursor_secret() needs a non-empty secret (or None)")
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.hashes import SHA256
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    except ImportError:
        raise MissingDependency(
            "set_cursor_secret() encrypts cursors with AES-GCM, which needs the cryptography "
            "package: pip install 'dynamodb-py[crypto]'"
        ) from None
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"dynamodb-py cursor e1").derive(raw)
    _keys = _Keys(raw, AESGCM(key))


# -- what a cursor is bound to -------------------------------------------------------

_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def query_scope(request: Mapping[str, Any]) -> str:
    """The scope a cursor of ``request`` (a Query or Scan request) is bound to.

    A digest of the table, the index, the key condition and the filter, with the
    names and values their placeholders stand for written in, and the segment of
    a parallel scan. Placeholder numbering does not count, nor do the parts that
    only shape a page (``Limit``, the projection, ``ScanIndexForward``,
    ``ConsistentRead``): a cursor may continue with another page size or read
    backwards from where it points.
    """
    names: Mapping[str, str] = request.get("ExpressionAttributeNames") or {}
    values: Mapping[str, AttributeValue] = request.get("ExpressionAttributeValues") or {}

    def written_in(expression: str | None) -> str | None:
        if expression is None:
            return None

        def one(match: re.Match[str]) -> str:
            token = match.group()
            if token in names:
                return json.dumps(names[token])
            if token in values:
                return _canonical(values[token])
            return token

        return _PLACEHOLDER.sub(one, expression)

    bound = {
        "table": request.get("TableName"),
        "index": request.get("IndexName"),
        "key": written_in(request.get("KeyConditionExpression")),
        "filter": written_in(request.get("FilterExpression")),
        "segment": [request.get("Segment"), request.get("TotalSegments")],
    }
    import hashlib

    digest = hashlib.sha256(_canonical(bound).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_bytes_as_text)


def _bytes_as_text(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"cannot digest {type(value).__name__}")


# -- the key inside ---------------------------------------------------------------------


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict urlsafe base64: one text for one byte string (no ignored characters or bits)."""
    try:
        data = base64.urlsafe_b64decode(text)
    except (ValueError, binascii.Error):
        raise InvalidCursor("not a dynamodb-py cursor (it was cut or changed)") from None
    if _b64(data) != text:
        raise InvalidCursor("not a dynamodb-py cursor (it was cut or changed)")
    return data


def _mac(secret: bytes, scope: str, payload: str) -> str:
    import hashlib
    import hmac

    digest = hmac.new(secret, f"{scope}\n{payload}".encode(), hashlib.sha256).digest()
    return _b64(digest[:18])


class Cursor(str):
    """Where the next page starts. Pass it (or its string) to ``start_key()``."""

    __slots__ = ()

    @classmethod
    def from_key(cls, key: dict[str, AttributeValue], scope: str) -> Cursor:
        """The cursor for DynamoDB's LastEvaluatedKey ``key`` within ``scope``."""
        plain = json.dumps(_jsonable(key), separators=(",", ":"), sort_keys=True).encode()
        keys = _keys
        if keys.sealer is not None:
            nonce = os.urandom(_NONCE)
            sealed: bytes = keys.sealer.encrypt(nonce, plain, scope.encode())
            body, tag = sealed[:-_TAG], sealed[-_TAG:]
            return cls(f"{_SEALED}.{_b64(nonce + body)}.{_b64(tag)}")
        payload = _b64(plain)
        return cls(f"{_SIGNED}.{payload}.{_mac(keys.mac, scope, payload)}")

    def to_key(self, scope: str) -> dict[str, AttributeValue]:
        """The ExclusiveStartKey, after checking the cursor belongs to ``scope``."""
        return decode_cursor(str(self), scope)


def decode_cursor(text: str, scope: str) -> dict[str, AttributeValue]:
    """Check and decode a cursor string; InvalidCursor if it is not one of ``scope``'s."""
    if not isinstance(text, str):
        raise InvalidCursor(f"a cursor is a string, not {type(text).__name__}")
    parts = text.split(".")
    # Cursors are ASCII; compare_digest raises TypeError on non-ASCII str.
    if len(parts) != 3 or parts[0] not in (_SIGNED, _SEALED) or not text.isascii():
        raise InvalidCursor("not a dynamodb-py cursor (it was cut or changed)")
    form, payload, check = parts
    keys = _keys
    if form == _SEALED:
        plain = _unseal(keys, payload, check, scope)
    elif keys.sealer is not None:
        raise InvalidCursor(
            "this cursor is signed only, but a cursor secret is set (cursors are then "
            "encrypted): it was made without that secret"
        )
    elif not _same(check, _mac(keys.mac, scope, payload)):
        raise InvalidCursor(_MISMATCH)
    else:
        plain = _unb64(payload)
    try:
        return _from_jsonable(json.loads(plain))
    except (ValueError, TypeError) as error:
        raise InvalidCursor(f"cursor payload is damaged: {error}") from None


def _unseal(keys: _Keys, payload: str, check: str, scope: str) -> bytes:
    if keys.sealer is None:
        raise InvalidCursor(
            "this cursor is encrypted with a cursor secret, and none is set: call "
            "dynamodb.set_cursor_secret() with the secret it was made with"
        )
    from cryptography.exceptions import InvalidTag

    body, tag = _unb64(payload), _unb64(check)
    if len(body) < _NONCE or len(tag) != _TAG:
        raise InvalidCursor("not a dynamodb-py cursor (it was cut or changed)")
    try:
        plain: bytes = keys.sealer.decrypt(body[:_NONCE], body[_NONCE:] + tag, scope.encode())
    except InvalidTag:
        raise InvalidCursor(_MISMATCH) from None
    return plain


def _same(one: str, other: str) -> bool:
    """Constant-time comparison of two digests."""
    import hmac

    return hmac.compare_digest(one, other)
