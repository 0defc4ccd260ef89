"""``Model._meta``: what the metaclass learned about one model class.

Built once when the class is created and read everywhere after: the helper
modules (persistence, batches, queries, transactions, associations) work from
this object and the instances they are given, so none of them imports
:class:`~dynamodb.Model` at run time. Django calls its equivalent ``Options``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dynamodb.core.errors import ModelDefinitionError
from dynamodb.models.fields import Field, VersionField
from dynamodb.models.item_codec import DecodeItem, EncodeItem, compile_codec
from dynamodb.models.schema import TableSchema
from dynamodb.wire.connection import Connection, get_connection

if TYPE_CHECKING:
    from dynamodb.models.associations import Association

__all__ = ["ModelOptions"]


class ModelOptions:
    """The fields, keys, schema, codec and associations of one model class.

    ``fields`` maps Python attribute names to this class's own field objects
    (inherited fields are copied per class, so index flags never leak between
    sibling models); ``fields_by_name`` maps stored (DynamoDB) names to them.
    ``schema`` is None for abstract and map models.
    """

    __slots__ = (
        "associations",
        "decode_item",
        "encode_item",
        "fields",
        "fields_by_name",
        "is_abstract",
        "is_map",
        "model",
        "name",
        "schema",
        "version_field",
    )

    def __init__(
        self,
        model: type[Any],
        fields: dict[str, Field[Any]],
        associations: dict[str, Association],
        *,
        is_map: bool,
        is_abstract: bool,
    ) -> None:
        self.model = model
        self.name: str = model.__name__
        self.fields = fields
        self.associations = associations
        self.is_map = is_map
        self.is_abstract = is_abstract
        self.fields_by_name = _index_by_name(self.name, fields)
        self.version_field = _version_field(self.name, fields)
        self.decode_item: DecodeItem
        self.encode_item: EncodeItem
        self.decode_item, self.encode_item = compile_codec(fields)
        self.schema: TableSchema | None = None

    def require_table(self) -> TableSchema:
        """The table schema; TypeError for abstract and map models, which have none."""
        schema = self.schema
        if schema is None:
            kind = "a map model" if self.is_map else "abstract"
            raise TypeError(f"{self.name} is {kind}: it has no table")
        return schema

    @property
    def key_fields(self) -> tuple[Field[Any], ...]:
        """The key fields, hash key first."""
        return self.require_table().key_fields

    @property
    def table_name(self) -> str:
        """The table's name in DynamoDB."""
        return self.require_table().table_name

    def connection(self, explicit: Connection | None = None) -> Connection:
        """The connection a call uses: the one given, the model's, or the default."""
        return explicit or self.model.__connection__ or get_connection()

    def own_field(self, field: object) -> Field[Any] | None:
        """This model's field for ``field`` (itself, or the copy of an inherited one)."""
        if not isinstance(field, Field):
            return None
        mine = self.fields.get(field.attr)
        if mine is None or (mine is not field and mine.origin is not field.origin):
            return None
        return mine

    def __repr__(self) -> str:
        return f"<ModelOptions {self.name}>"


def _index_by_name(model: str, fields: Mapping[str, Field[Any]]) -> dict[str, Field[Any]]:
    by_name: dict[str, Field[Any]] = {}
    for field in fields.values():
        other = by_name.get(field.name)
        if other is not None and other is not field:
            raise ModelDefinitionError(
                f"model {model}: fields {other.attr} and {field.attr} both use the "
                f"DynamoDB attribute name {field.name!r}"
            )
        by_name[field.name] = field
    return by_name


def _version_field(model: str, fields: Mapping[str, Field[Any]]) -> VersionField | None:
    versions = [field for field in fields.values() if isinstance(field, VersionField)]
    if len(versions) > 1:
        named = ", ".join(field.attr for field in versions)
        raise ModelDefinitionError(f"model {model}: at most one VersionField (found: {named})")
    return versions[0] if versions else None
