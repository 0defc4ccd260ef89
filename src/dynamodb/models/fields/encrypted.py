"""EncryptedField: a field stored encrypted with AES-256-GCM, bound to its item."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from dynamodb.core.codec import AttributeValue
from dynamodb.core.envelope import KeyProvider, open_envelope, seal_envelope
from dynamodb.core.errors import FieldValidationError, ModelDefinitionError
from dynamodb.core.packing import pack_attribute, unpack_attribute
from dynamodb.models.fields.base import Decoder, Encoder, Field, T, V
from dynamodb.models.fields.wrapped import WrappingField

__all__ = ["EncryptedField"]

R = TypeVar("R")


class EncryptedField(WrappingField[T, V]):
    """Stores the inner field's values encrypted: ``EncryptedField(CharField(), keys=keys)``.

    The inner field (any non-key field: ``CharField()``, ``DictField()``,
    ``JSONField()``, a ``CompressedField`` ...) validates and encodes the value;
    the encoding is encrypted with AES-256-GCM under the provider's current key
    (``dynamodb.encryption.StaticKeys`` or ``KmsKeys``) and stored as one binary
    attribute: format version, key id, nonce, ciphertext and tag. The
    authenticated data binds the model's table name, the item's primary key and
    the attribute name, so a value copied into another item or attribute does not
    decrypt: any failure raises ``DecryptionError`` naming the model, the item's
    key and the field. Needs the ``cryptography`` package (the ``[encryption]``
    extra).

    Encryption happens when the item is written (the item's key is part of it),
    decryption when it is read; an unchanged value is not encrypted again by a
    dirty save. It cannot be a key, unique, a template part, or compared in a
    condition (only ``exists()`` / ``not_exists()``); updates may only ``set()``
    or ``remove()`` it.
    """

    opaque_as = "encrypted"
    binds_item = True

    def __init__(
        self, inner: Field[T, Any], name: str | None = None, *, keys: KeyProvider, **options: Any
    ) -> None:
        if isinstance(inner, EncryptedField):
            raise ModelDefinitionError("EncryptedField(EncryptedField(...)): encrypt once")
        if not isinstance(keys, KeyProvider):
            raise ModelDefinitionError(
                "EncryptedField(keys=...) takes a key provider (dynamodb.encryption.StaticKeys, "
                "KmsKeys, or an object with encryption_key/decryption_key/is_current), "
                f"not {keys!r}"
            )
        super().__init__(inner, name, **options)
        self.keys = keys

    def clean(self, value: Any, model_name: str | None = None) -> T | None:
        """The inner field's checks; a refusal does not show the value (it is secret)."""
        return _hiding(super().clean, value, model_name)

    def encode_update(self, value: Any) -> AttributeValue:
        """The value of a SET (``Model.field.set(...)``); a refusal does not show it."""
        return _hiding(super().encode_update, value)

    def invalid(
        self, value: Any, reason: str, model_name: str | None = None
    ) -> FieldValidationError:
        """The FieldValidationError for ``value``, which it does not show."""
        return super().invalid(_Hidden(), reason, model_name)

    # The field-level codec is the inner field's: the item layer encrypts and decrypts
    # (models/sealing.py), because the authenticated data needs the item's key.

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        return self.inner.fast_codec()

    def _inline_codec(self) -> tuple[str | None, str | None]:
        return self.inner.inline_codec()

    def seal(self, plain: AttributeValue, context: bytes) -> AttributeValue:
        """The stored form of the inner field's ``plain`` AttributeValue, bound to ``context``."""
        blob = seal_envelope(self.keys.encryption_key(), pack_attribute(plain), context)
        return {"B": blob}

    def open(self, stored: AttributeValue, context: bytes) -> AttributeValue:
        """The inner field's AttributeValue from the stored form (raises on any failure)."""
        blob = stored.get("B")
        if blob is None or len(stored) != 1:
            raise ValueError(f"stored as {sorted(stored)}, not as encrypted binary")
        return unpack_attribute(open_envelope(self.keys, blob, context))


def _hiding(step: Callable[..., R], *arguments: Any) -> R:
    """``step(*arguments)``, a FieldValidationError it raises shown without its value."""
    try:
        return step(*arguments)
    except FieldValidationError as error:
        reason = _scrubbed(error.reason, arguments[0] if arguments else None)
        raise FieldValidationError(error.model, error.field, _Hidden(), reason) from None


def _scrubbed(reason: str, value: Any) -> str:
    """``reason`` with the value and its members (a container's refusal names the member
    it refuses: ``element 'x': ...``) replaced by ``<encrypted value>``."""
    shown: set[str] = set()
    pending = [value]
    while pending:
        member = pending.pop()
        if isinstance(member, Mapping):
            pending.extend(member.keys())
            pending.extend(member.values())
        elif isinstance(member, (list, tuple, set, frozenset)):
            pending.extend(member)
        elif member is not None and not isinstance(member, bool):
            shown.update(form for form in (repr(member), str(member)) if len(form) >= 3)
    for form in sorted(shown, key=len, reverse=True):
        reason = reason.replace(form, "<encrypted value>")
    return reason


class _Hidden:
    """Stands for an encrypted field's value in error messages."""

    def __repr__(self) -> str:
        return "<encrypted value>"
