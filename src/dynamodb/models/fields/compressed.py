"""CompressedField: a field whose larger values are stored compressed."""

from __future__ import annotations

from typing import Any

from dynamodb.core import compression
from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import ModelDefinitionError
from dynamodb.core.packing import pack_attribute, unpack_attribute
from dynamodb.models.fields.base import Field, T, V
from dynamodb.models.fields.wrapped import WrappingField

__all__ = ["CompressedField"]


class CompressedField(WrappingField[T, V]):
    """Stores the inner field's values compressed once they are large.

    ``CompressedField(TextField(), algorithm="zstd", min_bytes=1024)``: a value
    whose encoded form is at least ``min_bytes`` long is compressed with
    ``algorithm`` (``"zstd"``, through the ``zstandard`` package, the
    ``[zstd]`` extra; ``"gzip"`` or ``"lzma"``, from the standard library) and
    stored as binary behind a one-byte header naming the algorithm; a smaller one
    is stored as the inner field stores it (a binary inner field's small values
    get the "stored as it is" header, so that they cannot be mistaken for
    compressed ones). Reads accept both, so ``min_bytes`` and ``algorithm`` may
    change at any time. Item-size limits count the compressed form.

    The stored form is opaque: conditions may test ``exists()`` / ``not_exists()``
    only, updates may ``set()`` or ``remove()`` it. To encrypt as well, compress
    first: ``EncryptedField(CompressedField(...), keys=...)``.
    """

    opaque_as = "compressed"

    def __init__(
        self,
        inner: Field[T, Any],
        name: str | None = None,
        *,
        algorithm: str = "zstd",
        min_bytes: int = 1024,
        **options: Any,
    ) -> None:
        if isinstance(inner, WrappingField) and inner.binds_item:
            raise ModelDefinitionError(
                "CompressedField(EncryptedField(...)): ciphertext does not compress; "
                "compress first, then encrypt: EncryptedField(CompressedField(...), keys=...)"
            )
        try:
            compression.require(algorithm)
        except ValueError as error:
            raise ModelDefinitionError(f"CompressedField: {error}") from None
        if not isinstance(min_bytes, int) or isinstance(min_bytes, bool) or min_bytes < 0:
            raise ModelDefinitionError(
                f"CompressedField: min_bytes must be an int >= 0, not {min_bytes!r}"
            )
        super().__init__(inner, name, **options)
        self.algorithm = algorithm
        self.min_bytes = min_bytes

    def wrap(self, attribute: AttributeValue) -> AttributeValue:
        """Compressed binary when the packed value is at least ``min_bytes`` long."""
        packed = pack_attribute(attribute)
        if len(packed) >= self.min_bytes:
            return {"B": compression.compress(self.algorithm, packed)}
        if "B" in attribute:  # marked, so that a read cannot take it for compressed data
            return {"B": compression.compress(None, packed)}
        return attribute

    def unwrap(self, attribute: AttributeValue) -> AttributeValue:
        """The inner field's form of a compressed (or plain) stored value."""
        blob = attribute.get("B")
        if blob is not None and compression.is_compressed(blob):
            return unpack_attribute(compression.decompress(blob))
        return attribute
