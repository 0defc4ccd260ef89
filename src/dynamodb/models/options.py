"""``Model._meta``: what the metaclass learned about one model class.

Built once when the class is created and read everywhere after: the helper
modules (persistence, batches, queries, transactions, associations) work from
this object and the instances they are given, so none of them imports
:class:`~dynamodb.Model` at run time. Django calls its equivalent ``Options``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from dynamodb.core.errors import (
    DynamoDBError,
    InvalidArgument,
    ModelDefinitionError,
    ResourceNotFound,
    TableNotFound,
)
from dynamodb.core.flow import Flow, Request, Step, relay
from dynamodb.models.fields import Field, VersionField
from dynamodb.models.item_codec import DecodeItem, EncodeItem, compile_codec
from dynamodb.models.registry import models_of_table
from dynamodb.models.schema import TableSchema
from dynamodb.wire.connection import Connection, get_connection

if TYPE_CHECKING:
    from dynamodb.models.associations import Association

__all__ = ["ModelOptions", "naming_missing_tables"]

T = TypeVar("T")


class ModelOptions:
    """The fields, keys, schema, codec and associations of one model class.

    ``fields`` maps Python attribute names to this class's own field objects
    (inherited fields are copied per class, so index flags never leak between
    sibling models); ``fields_by_name`` maps stored (DynamoDB) names to them.
    ``schema`` is None for abstract and map models. :meth:`run` and :meth:`arun`
    run the model's item calls, so that a missing table is named (TableNotFound).
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
            raise InvalidArgument(f"{self.name} is {kind}: it has no table")
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

    def run(self, flow: Flow[T], connection: Connection | None = None) -> T:
        """Run an item call's flow on :meth:`connection`; a missing table raises
        TableNotFound naming it and this model."""
        return self.connection(connection).run(naming_missing_tables(flow, (self.model,)))

    async def arun(self, flow: Flow[T], connection: Connection | None = None) -> T:
        """Async twin of :meth:`run`."""
        return await self.connection(connection).arun(naming_missing_tables(flow, (self.model,)))

    def unknown_fields(self, problem: str, names: Iterable[str], advice: str = "") -> str:
        """The message of an UnknownField for ``names``, which are not fields: ``problem``
        says where they were given; close matches are suggested, the fields listed,
        then ``advice``."""
        guesses = [
            repr(match)
            for name in names
            for match in difflib.get_close_matches(name, self.fields, 1)
        ]
        hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
        return f"{problem}{hint}; {self.name}'s fields are {sorted(self.fields)}{advice}"

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


def naming_missing_tables(flow: Flow[T], models: Iterable[type[Any]]) -> Flow[T]:
    """``flow``, raising the ResourceNotFound of a request it sent as TableNotFound.

    The error names the tables the request used and the models stored in them
    (those of ``models`` first, else every model defined for the table), and says
    ``create_table(Model)`` creates them. The flow itself still sees DynamoDB's
    error first, so a flow that handles a missing table is not changed.
    """
    candidates = tuple(models)
    failed: list[tuple[Request, DynamoDBError]] = []  # the last request that failed

    def remembering(step: Step) -> Flow[Any]:
        try:
            return (yield step)
        except DynamoDBError as error:
            if isinstance(step, Request):
                failed[:] = [(step, error)]
            raise

    def renamed(error: Exception) -> BaseException | None:
        if not isinstance(error, ResourceNotFound) or isinstance(error, TableNotFound):
            return None
        if not failed or failed[0][1] is not error:
            return None
        return TableNotFound.of(error, _tables_of(failed[0][0], candidates))

    return relay(flow, remembering, renamed)


def _tables_of(request: Request, models: tuple[type[Any], ...]) -> dict[str, list[str]]:
    """The tables ``request`` names, each with the models stored in it."""
    params = request.params
    names: list[str] = []
    if isinstance(params.get("TableName"), str):
        names.append(params["TableName"])
    names.extend(params.get("RequestItems") or ())  # BatchGetItem, BatchWriteItem
    for action in params.get("TransactItems") or ():  # TransactWriteItems, TransactGetItems
        names.extend(body["TableName"] for body in action.values() if "TableName" in body)
    tables: dict[str, list[str]] = {}
    for table in dict.fromkeys(names):
        mine = [model for model in models if _table_of(model) == table]
        tables[table] = [model.__name__ for model in (mine or models_of_table(table))]
    return tables


def _table_of(model: type[Any]) -> str | None:
    schema = model._meta.schema
    return schema.table_name if schema is not None else None
