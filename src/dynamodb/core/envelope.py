"""The encrypted attribute's envelope: AES-256-GCM bound to its table, item and attribute.

An encrypted attribute is stored as one binary value::

    0x01 | len(key id) (1 byte) | key id (UTF-8) | len(wrapped key) (2 bytes) |
    wrapped data key | nonce (12 bytes) | ciphertext | tag (16 bytes)

The key id names the key that encrypted it (a static key's name, or a KMS key's
ARN); the wrapped data key is empty for static keys and is the KMS-encrypted data
key for :class:`~dynamodb.encryption.KmsKeys`. The authenticated data is the
header (everything before the nonce), the table name, the attribute name and the
item's primary key in a canonical encoding (:func:`associated_data`), so a value
copied into another item, another attribute or another table, or with one byte
changed, fails to decrypt.

Key providers hand out keys (:class:`KeyProvider`); :class:`StaticKeys`, which holds
them in memory, lives here because it is pure. The cipher is ``cryptography``'s
``AESGCM``, imported when first used.
"""

from __future__ import annotations

import functools
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, runtime_checkable

from dynamodb.core.codec import Item
from dynamodb.core.errors import InvalidArgument, MissingDependency

__all__ = [
    "FORMAT_VERSION",
    "DataKey",
    "EnvelopeInvalid",
    "KeyProvider",
    "StaticKeys",
    "associated_data",
    "key_id_of",
    "open_envelope",
    "seal_envelope",
    "wrapped_key_of",
]

FORMAT_VERSION = 1
_NONCE = 12
_TAG = 16
_CONTEXT = b"dynamodb-py encrypted attribute\x00"


class EnvelopeInvalid(ValueError):
    """An envelope that cannot be opened (the model layer names the item and field)."""


@dataclass(frozen=True)
class DataKey:
    """A key to encrypt with: its id, the 32 key bytes, and the wrapped form stored with
    the value (empty for static keys)."""

    key_id: str
    key: bytes
    wrapped: bytes = b""

    def __repr__(self) -> str:  # never show the key bytes
        return f"DataKey(key_id={self.key_id!r})"


@runtime_checkable
class KeyProvider(Protocol):
    """Where an encrypted field's keys come from (``StaticKeys``, ``KmsKeys``, your own)."""

    def encryption_key(self) -> DataKey:
        """The key new values are encrypted with (the current one)."""
        ...

    def decryption_key(self, key_id: str, wrapped: bytes) -> bytes:
        """The 32 key bytes for a stored value's key id (and wrapped key); raise when unknown."""
        ...

    def is_current(self, key_id: str) -> bool:
        """Whether values under ``key_id`` are already under the current key."""
        ...


class StaticKeys:
    """Keys held in memory, by id: ``StaticKeys({"k1": key1, "k2": key2}, current="k2")``.

    Each key is 32 bytes (AES-256; ``os.urandom(32)`` makes one). New values are
    encrypted with ``current`` (default: the only key); values written under any
    other id in ``keys`` still read. To rotate, add a key and make it current, run
    ``reencrypt()``, then drop the old key. For local use and tests, or keys you
    load from a secret store yourself.
    """

    def __init__(self, keys: Mapping[str, bytes], current: str | None = None) -> None:
        if not keys:
            raise InvalidArgument("StaticKeys needs at least one key")
        checked: dict[str, bytes] = {}
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not key_id or len(key_id.encode()) > 255:
                raise InvalidArgument(
                    f"a key id is a non-empty string of at most 255 bytes, not {key_id!r}"
                )
            if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
                raise InvalidArgument(
                    f"key {key_id!r} must be 32 bytes (AES-256), e.g. os.urandom(32); "
                    f"got {type(key).__name__} {_length(key)}"
                )
            checked[key_id] = bytes(key)
        if current is None:
            if len(checked) != 1:
                raise InvalidArgument(
                    f"StaticKeys with several keys ({sorted(checked)}) needs current=... "
                    "naming the one new values are encrypted with"
                )
            current = next(iter(checked))
        if current not in checked:
            raise InvalidArgument(f"current={current!r} is not one of the keys {sorted(checked)}")
        self._keys = checked
        self.current = current

    def encryption_key(self) -> DataKey:
        """The current key."""
        return DataKey(self.current, self._keys[self.current])

    def decryption_key(self, key_id: str, wrapped: bytes) -> bytes:
        """The key named ``key_id``; LookupError when it is not held."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise LookupError(
                f"key id {key_id!r} is not in this StaticKeys (it holds {sorted(self._keys)})"
            ) from None

    def is_current(self, key_id: str) -> bool:
        """Whether ``key_id`` is the current key."""
        return key_id == self.current

    def __repr__(self) -> str:
        return f"StaticKeys(ids={sorted(self._keys)}, current={self.current!r})"


def _length(value: object) -> str:
    return f"of length {len(value)}" if isinstance(value, (bytes, bytearray, str)) else ""


def _aesgcm_class() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise MissingDependency(
            "EncryptedField encrypts with AES-GCM, which needs the cryptography package: "
            "pip install 'dynamodb-py[encryption]'"
        ) from None
    return AESGCM


@functools.lru_cache(maxsize=128)
def _cipher(key: bytes) -> Any:
    return _aesgcm_class()(key)


def _framed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _canonical_number(text: str) -> str:
    try:
        return str(Decimal(text).normalize())
    except InvalidOperation:
        return text


def associated_data(table: str, key: Item, attribute: str) -> bytes:
    """The table, item key and attribute bound to a value (without the header).

    The key is encoded canonically: its attributes sorted by name, each as its
    name, type and value, numbers normalised (``1.10`` and ``1.1`` are one key, as
    DynamoDB stores them), every piece length-prefixed.
    """
    parts = [_CONTEXT, _framed(table.encode()), _framed(attribute.encode())]
    for name in sorted(key):
        ((tag, value),) = key[name].items()
        if tag == "B":
            raw = bytes(value)
        elif tag == "N":
            raw = _canonical_number(str(value)).encode()
        else:
            raw = str(value).encode()
        parts += [_framed(name.encode()), tag.encode(), _framed(raw)]
    return b"".join(parts)


def _header(data_key: DataKey) -> bytes:
    key_id = data_key.key_id.encode()
    if len(key_id) > 255 or len(data_key.wrapped) > 0xFFFF:
        raise InvalidArgument(f"key id {data_key.key_id!r} or its wrapped key is too long")
    return (
        bytes((FORMAT_VERSION, len(key_id)))
        + key_id
        + struct.pack(">H", len(data_key.wrapped))
        + data_key.wrapped
    )


def seal_envelope(data_key: DataKey, plaintext: bytes, context: bytes) -> bytes:
    """``plaintext`` encrypted under ``data_key``, bound to ``context`` (associated_data)."""
    header = _header(data_key)
    nonce = os.urandom(_NONCE)
    sealed = _cipher(data_key.key).encrypt(nonce, plaintext, header + context)
    return header + nonce + bytes(sealed)


def _parse(blob: bytes) -> tuple[str, bytes, int]:
    """(key id, wrapped key, offset of the nonce)."""
    if len(blob) < 2 or blob[0] != FORMAT_VERSION:
        version = blob[0] if blob else None
        raise EnvelopeInvalid(f"not an encrypted value of a known format (version byte {version})")
    end = 2 + blob[1]
    if len(blob) < end + 2:
        raise EnvelopeInvalid("truncated encrypted value")
    try:
        key_id = blob[2:end].decode()
    except UnicodeDecodeError:
        raise EnvelopeInvalid("damaged key id") from None
    (wrapped_length,) = struct.unpack(">H", blob[end : end + 2])
    start = end + 2 + wrapped_length
    if len(blob) < start + _NONCE + _TAG:
        raise EnvelopeInvalid("truncated encrypted value")
    return key_id, bytes(blob[end + 2 : start]), start


def key_id_of(blob: bytes) -> str:
    """The key id an envelope was sealed with (EnvelopeInvalid when it is not one)."""
    return _parse(blob)[0]


def wrapped_key_of(blob: bytes) -> tuple[str, bytes]:
    """(key id, wrapped data key) of an envelope (EnvelopeInvalid when it is not one)."""
    key_id, wrapped, _ = _parse(blob)
    return key_id, wrapped


def open_envelope(keys: KeyProvider, blob: bytes, context: bytes) -> bytes:
    """The plaintext of ``blob``; EnvelopeInvalid (or the provider's error) on any failure."""
    blob = bytes(blob)
    key_id, wrapped, start = _parse(blob)
    key = keys.decryption_key(key_id, wrapped)
    nonce, sealed = blob[start : start + _NONCE], blob[start + _NONCE :]
    cipher = _cipher(bytes(key))  # names the missing package, if it is
    from cryptography.exceptions import InvalidTag

    try:
        return bytes(cipher.decrypt(nonce, sealed, blob[:start] + context))
    except InvalidTag:
        raise EnvelopeInvalid(
            "authentication failed: the value was changed, or belongs to another item, "
            "attribute or table, or the key is not the one it was written with"
        ) from None
