"""``Model._meta``: what the metaclass learned about one model class.

Built once when the class is created and read everywhere after: the helper
modules (persistence, batches, queries, transactions, associations) work from
this object and the instances they are given, so none of them imports
:class:`~dynamodb.Model` at run time. Django calls its equivalent ``Options``.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from dynamodb.core.errors import (
    DynamoDBError,
    InvalidArgument,
    ModelDefinitionError,
    ResourceNotFound,
    TableNotFound,
)
from dynamodb.core.expressions import Condition
from dynamodb.core.flow import Flow, Request, Step, relay
from dynamodb.models.fields import EncryptedField, Field, TTLField, VersionField
from dynamodb.models.fields.wrapped import check_wrapping_fields
from dynamodb.models.item_codec import DecodeItem, EncodeItem, compile_codec
from dynamodb.models.lifecycle import stamp_fields
from dynamodb.models.registry import generation, models_of_table
from dynamodb.models.schema import TableSchema
from dynamodb.models.sealing import warming_keys
from dynamodb.models.single_table.entities import (
    DEFAULT_ENTITY_ATTRIBUTE,
    entity_condition,
    entity_of,
    table_entities,
)
from dynamodb.models.single_table.templates import bind_templates
from dynamodb.wire import tracing
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
        "_entity_cache",
        "associations",
        "auto_now",
        "auto_now_add",
        "declares_entity",
        "decode_item",
        "encode_item",
        "encrypted",
        "entity",
        "entity_attribute",
        "fields",
        "fields_by_name",
        "hooks",
        "is_abstract",
        "is_map",
        "model",
        "name",
        "schema",
        "schema_steps",
        "schema_version",
        "schema_version_value",
        "templated",
        "ttl_field",
        "unique_fields",
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
        check_wrapping_fields(self.name, fields, is_map=is_map)
        self.encrypted: tuple[EncryptedField[Any], ...] = tuple(
            field for field in fields.values() if isinstance(field, EncryptedField)
        )
        """The encrypted fields (the item layer encrypts and decrypts them: models/sealing.py)."""
        self.decode_item, self.encode_item = compile_codec(fields)
        self.schema: TableSchema | None = None
        self.schema_version: int | None = None
        """``__schema_version__`` (None: items are not versioned; see models/upgrades.py)."""
        self.schema_steps: tuple[Callable[[dict[str, Any]], Any], ...] = ()
        """The ``upgrade_to_N(raw)`` steps, from version 2 on."""
        self.schema_version_value: dict[str, str] | None = None
        """The ``_schema_version`` AttributeValue written on every item (None: none)."""
        self.templated: tuple[Field[Any], ...] = bind_templates(self.name, fields)
        self.unique_fields: tuple[Field[Any], ...] = tuple(
            field for field in fields.values() if field.unique
        )
        self.auto_now, self.auto_now_add = stamp_fields(fields.values())
        for field in (*self.auto_now, *self.auto_now_add):
            if field.is_key or field.index_key or field.template is not None:
                raise ModelDefinitionError(
                    f"model {self.name}: field {field.attr} is a key: it cannot be set "
                    "automatically (auto_now / auto_now_add)"
                )
        self.ttl_field: TTLField | None = _ttl_field(self.name, fields)
        self.hooks: frozenset[str] = frozenset()
        """The lifecycle hooks the model defines (set by the metaclass)."""
        namespace = vars(model)
        entity = namespace.get("__entity__", self.name)
        if not isinstance(entity, str) or not entity:
            raise ModelDefinitionError(f"model {self.name}: __entity__ must be a non-empty str")
        self.entity: str = entity
        attribute = getattr(model, "__entity_attribute__", None) or DEFAULT_ENTITY_ATTRIBUTE
        if not isinstance(attribute, str) or not attribute:
            raise ModelDefinitionError(
                f"model {self.name}: __entity_attribute__ must be a non-empty str, not "
                f"{attribute!r}"
            )
        self.entity_attribute: str = attribute
        self.declares_entity: bool = bool(self.templated)
        """Whether this model makes its table shared by itself (key templates, or a
        subclass of a model stored in the same table: set once the schema is known)."""
        self._entity_cache: tuple[int, _EntityView] | None = None

    # -- entities (single-table design) ----------------------------------------

    def _view(self) -> _EntityView:
        current = generation()
        cached = self._entity_cache
        if cached is not None and cached[0] == current:
            return cached[1]
        view = _EntityView.of(self)
        self._entity_cache = (current, view)
        return view

    @property
    def entity_tag(self) -> tuple[str, str] | None:
        """(attribute, entity name) written on this model's items; None: not a shared table."""
        return self._view().tag

    @property
    def readable_entities(self) -> tuple[str, ...]:
        """The entities this model's reads return: its own and its subclasses'."""
        return self._view().readable

    def class_for(self, item: Mapping[str, Any]) -> type[Any] | None:
        """The class a read of this model builds ``item`` as: this model, or a subclass
        for its entity; None for an item of another entity (skipped)."""
        view = self._view()
        if view.tag is None:
            return self.model
        entity = entity_of(item, view.tag[0])
        return view.classes.get(entity) if entity is not None else None

    def loader_class(self, entity: str) -> type[Any] | None:
        """The class this model's reads build an item of ``entity`` as (None: not read)."""
        return self._view().classes.get(entity)

    def loader(self) -> Callable[[Mapping[str, Any], Any], Any]:
        """``load(item, partial) -> instance or None``: how this model's reads build instances.

        In a shared table an item becomes the class of its entity (this model, or a
        subclass); an item of another entity gives None and is skipped.
        """
        view = self._view()
        from_wire: Callable[[Mapping[str, Any], Any], Any] = self.model._from_wire
        if view.tag is None:
            return from_wire
        attribute = view.tag[0]
        classes = view.classes

        def load(item: Mapping[str, Any], partial: Any = None) -> Any:
            entity = entity_of(item, attribute)
            cls = classes.get(entity) if entity is not None else None
            return cls._from_wire(item, partial) if cls is not None else None

        return load

    def entity_filter(self) -> Condition | None:
        """The condition that keeps a read to this model's entities (None: not shared)."""
        view = self._view()
        if view.tag is None:
            return None
        return entity_condition(view.tag[0], view.readable)

    def with_entity(self, attributes: list[Any] | None) -> list[Any] | None:
        """A projection's attributes, with the entity attribute a shared table needs."""
        tag = self.entity_tag
        if attributes is None or tag is None or tag[0] in attributes:
            return attributes
        return [*attributes, tag[0]]

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

    def call_name(self, method: str) -> str:
        """What the span of an item call made by ``method`` is named: ``"Test.save"``
        (an async twin's is its sync name: ``asave`` is ``"Test.save"`` too)."""
        if method.startswith("a") and callable(getattr(self.model, method[1:], None)):
            method = method[1:]
        return f"{self.name}.{method}"

    def traced(self, connection: Connection | None = None) -> Any:
        """The span of one item call (a no-op block when the application does not trace).

        Named after the public method that called :meth:`run` or :meth:`arun`
        (``save``, ``get``, ``commit_changes`` ...), read from the stack only when
        tracing, so that no call site has to name itself. Its table is named as
        DynamoDB knows it: with ``connection``'s ``table_prefix``.
        """
        if tracing.tracer() is None:
            return tracing.call_span("")
        method = sys._getframe(2).f_code.co_name
        schema = self.schema
        table = self.connection(connection).table_prefix + schema.table_name if schema else None
        return tracing.call_span(self.call_name(method), table)

    def run(self, flow: Flow[T], connection: Connection | None = None) -> T:
        """Run an item call's flow on :meth:`connection`; a missing table raises
        TableNotFound naming it and this model."""
        with self.traced(connection):
            return self.connection(connection).run(naming_missing_tables(flow, (self.model,)))

    async def arun(self, flow: Flow[T], connection: Connection | None = None) -> T:
        """Async twin of :meth:`run`."""
        flow = naming_missing_tables(warming_keys(flow, (self.model,)), (self.model,))
        with self.traced(connection):
            return await self.connection(connection).arun(flow)

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


class _EntityView:
    """What a model's calls need to know of its table's entities (cached per generation)."""

    __slots__ = ("classes", "readable", "tag")

    def __init__(
        self, tag: tuple[str, str] | None, readable: tuple[str, ...], classes: dict[str, type[Any]]
    ) -> None:
        self.tag = tag
        self.readable = readable
        self.classes = classes

    @classmethod
    def of(cls, meta: ModelOptions) -> _EntityView:
        schema = meta.schema
        if schema is None:
            return cls(None, (), {})
        table = table_entities(schema.table_name)
        if not table.shared:
            return cls(None, (meta.entity,), {meta.entity: meta.model})
        classes = {meta.entity: meta.model}
        for entity, model in table.classes.items():
            if entity != meta.entity and issubclass(model, meta.model):
                classes[entity] = model
        return cls((table.attribute, meta.entity), tuple(classes), classes)


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


def _ttl_field(model: str, fields: Mapping[str, Field[Any]]) -> TTLField | None:
    found = [field for field in fields.values() if isinstance(field, TTLField)]
    if len(found) > 1:
        named = ", ".join(field.attr for field in found)
        raise ModelDefinitionError(f"model {model}: at most one TTLField (found: {named})")
    if found and (found[0].is_key or found[0].template is not None):
        raise ModelDefinitionError(f"model {model}: the TTLField {found[0].attr} cannot be a key")
    return found[0] if found else None


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
