"""The Model base class: declarative fields, instance state, and item operations.

A model class describes one table (``__table_name__``, keys, capacity, indexes);
its instances are items. Every call that talks to DynamoDB builds a flow (see
:mod:`dynamodb.core.flow`) and hands it to a connection's sync driver, or, for the
``a``-prefixed twin, its async driver: the two share everything but the send.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    Literal,
    ParamSpec,
    TypeVar,
    cast,
    overload,
)

from dynamodb.core import operations
from dynamodb.core.codec import AttributeValue, Item
from dynamodb.core.compat import Self, Unpack
from dynamodb.core.errors import (
    DecodeError,
    EmptyUpdate,
    FieldValidationError,
    InvalidArgument,
    InvalidValue,
    ModelDefinitionError,
    UnknownAssociation,
    UnknownAttribute,
    UnknownField,
    UpgradeError,
)
from dynamodb.core.expressions import Condition, and_all, require_condition
from dynamodb.core.flow import Flow, call
from dynamodb.core.ratelimit import RateLimit
from dynamodb.core.updates import UpdateAction, UpdatePlan
from dynamodb.models import lifecycle, pydantic_interop
from dynamodb.models.associations import Association
from dynamodb.models.batches import (
    BatchGetOptions,
    BatchOptions,
    as_instance,
    plan_batch_delete,
    plan_batch_get,
    plan_batch_write,
)
from dynamodb.models.fields import Field, NestedAttribute
from dynamodb.models.limit_checks import check_key, each_within_limits, size_of
from dynamodb.models.options import ModelOptions
from dynamodb.models.pending import PendingUpdates
from dynamodb.models.persistence import (
    PreparedWrite,
    prepare_changes,
    prepare_delete,
    prepare_put,
    prepare_update,
    run_write,
)
from dynamodb.models.projection import Projection, ProjectionEntry, projection_of, read_with
from dynamodb.models.query import Query, Scan, _Spec
from dynamodb.models.registry import models_of_table, register
from dynamodb.models.schema import CAPACITY_SETTINGS, TableSchema, check_capacity
from dynamodb.models.sealing import Sealed, open_item, warming_keys
from dynamodb.models.single_table.entities import check_compatible
from dynamodb.models.single_table.templates import fill_templates, key_from_parts, key_part_names
from dynamodb.models.single_table.unique import check_unique_fields
from dynamodb.models.streams import ChangeStream, StreamOptions, stream_of
from dynamodb.models.upgrades import SCHEMA_VERSION_ATTRIBUTE, schema_steps, upgrading_decoder
from dynamodb.wire.connection import Connection

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["Conditional", "MapModel", "Model", "ModelMeta"]

Actions = UpdateAction | Sequence[UpdateAction]

_P = ParamSpec("_P")
_M = TypeVar("_M")

_BASE: list[type[Any]] = []
"""[Model], once it exists: the class whose empty hooks a model's own hooks replace."""


class ModelMeta(type):
    """Collects a model's fields, checks its definition, and builds ``cls._meta``.

    Not marked ``dataclass_transform``: type checkers only see *annotated*
    attributes as dataclass fields, so for seed-style ``name = CharField()``
    fields they would synthesise an ``__init__`` without them (or with stray
    annotated attributes) and reject ``Test(name=...)``. ``Model.__init__``
    takes ``**values`` instead and checks names and values at run time.
    """

    _meta: ModelOptions

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> ModelMeta:
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        fields: dict[str, Field[Any]] = {}
        associations: dict[str, Association] = {}
        for base in reversed(cls.__mro__[1:]):
            if isinstance(base, ModelMeta):
                fields.update(base._meta.fields)
                associations.update(base._meta.associations)
        for attr, value in namespace.items():
            if isinstance(value, Field):
                fields[attr] = value
            elif isinstance(value, Association):
                associations[attr] = value
            elif attr in fields:
                del fields[attr]  # a subclass replaced an inherited field with something else
        for attr, field in fields.items():
            if attr not in namespace:
                fields[attr] = _inherit(cls, attr, field)
        indexes = _declared_indexes(cls)
        for association in associations.values():
            association.contribute(fields, indexes)
        _check_names(name, {**fields, **associations})
        is_map = bool(namespace.get("__map__")) or any(
            isinstance(base, ModelMeta) and base._meta.is_map for base in bases
        )
        is_abstract = bool(namespace.get("__abstract__", False))
        meta = ModelOptions(cls, fields, associations, is_map=is_map, is_abstract=is_abstract)
        meta.hooks = lifecycle.defined_hooks(cls, _BASE[0] if _BASE else None)
        cls._meta = meta
        versioned = schema_steps(cls)
        if versioned is not None:
            version, steps = versioned
            meta.schema_version = version
            meta.schema_steps = steps
            meta.schema_version_value = {"N": str(version)}
            careful = cast("type[Model]", cls)._decode_carefully
            meta.decode_item = upgrading_decoder(name, version, steps, meta.decode_item, careful)
        if is_map or is_abstract:
            for field in fields.values():
                if is_map and (field.is_key or field.indexed):
                    raise ModelDefinitionError(
                        f"model {name}: field {field.attr} of a map model cannot be a key "
                        "or indexed (map models are stored inside other items)"
                    )
        else:
            settings = {
                "__table_name__": namespace.get("__table_name__") or _inherited_table(cls),
                "ReadCapacityUnits": getattr(cls, "ReadCapacityUnits", None),
                "WriteCapacityUnits": getattr(cls, "WriteCapacityUnits", None),
                "__secondary_indexes__": indexes,
                "__global_indexes__": getattr(cls, "__global_indexes__", None),
                "__stream__": getattr(cls, "__stream__", None),
            }
            meta.schema = TableSchema.build(name, settings, fields, model=cls)
            base = _table_base(cls)
            if base is not None and base._meta.table_name == meta.schema.table_name:
                # Polymorphism: another entity of its base's table (unless it names the
                # base's entity: then it is another definition of the same one).
                meta.declares_entity = meta.declares_entity or base._meta.entity != meta.entity
            check_compatible(cls, models_of_table(meta.schema.table_name))
            check_unique_fields(meta)
            register(cls)
        return cls

    def __setattr__(cls, name: str, value: Any) -> None:
        # Capacity is read from the class when a table payload is built, so an
        # assignment after the class statement counts: a bad value is refused now.
        if name in CAPACITY_SETTINGS:
            check_capacity(cls.__name__, name, value)
        super().__setattr__(name, value)


def _table_base(cls: type[Any]) -> Any:
    """The nearest table model ``cls`` subclasses (None: none)."""
    for base in cls.__mro__[1:]:
        meta = getattr(base, "_meta", None)
        if isinstance(meta, ModelOptions) and meta.schema is not None:
            return base
    return None


def _inherited_table(cls: type[Any]) -> str | None:
    """The table of the nearest table model ``cls`` subclasses: a subclass of a table
    model is another entity of the same table (polymorphism)."""
    base = _table_base(cls)
    return base._meta.table_name if base is not None else None


def _inherit(cls: type[Any], attr: str, field: Field[Any]) -> Field[Any]:
    """A copy of an inherited field for ``cls``: flags the schema sets stay per class."""
    own = copy.copy(field)
    own.owner = cls
    own.index_key = False
    setattr(cls, attr, own)
    return own


def _declared_indexes(cls: type[Any]) -> dict[str, dict[str, Any]]:
    return dict(getattr(cls, "__secondary_indexes__", None) or {})


def _check_names(model: str, fields: Mapping[str, Any]) -> None:
    for attr in fields:
        if attr in _reserved_names():
            raise ModelDefinitionError(
                f"model {model}: a field cannot be called {attr!r}, which is a Model method; "
                f"name the Python attribute differently and keep the DynamoDB name with "
                f"name={attr!r}"
            )
        if attr.startswith("_"):
            raise ModelDefinitionError(
                f"model {model}: field {attr} starts with '_'; give it a public Python name "
                f"and keep the DynamoDB name with name={attr!r}"
            )


@functools.cache
def _reserved_names() -> frozenset[str]:
    """Model's public names, which fields may not shadow (read once Model exists).

    ``size`` may be a field (a common name, older than ``Model.size()``): the field
    then hides the method on that model, and ``Model.size(item)`` still works.
    """
    return frozenset(name for name in dir(Model) if not name.startswith("_")) - {"size"}


class Model(PendingUpdates, metaclass=ModelMeta):
    """Base class of all models; subclass it and declare fields.

    ``__table_name__`` defaults to the class name. ``ReadCapacityUnits`` and
    ``WriteCapacityUnits`` set provisioned capacity (absent: on-demand billing);
    assigned later (``Test.ReadCapacityUnits = 50``), they reach the next
    ``Table(Test).update()``. ``__secondary_indexes__`` declares global secondary
    indexes (or, as the original dynamodb-py, ``__global_indexes__ = [(name,
    (hash_key, range_key), [projected fields])]``). ``__abstract__ = True`` makes
    a base class without a table. ``__connection__`` names the
    :class:`~dynamodb.Connection` this model uses (default: the one from
    ``set_connection``). ``__stream__ = "NEW_AND_OLD_IMAGES"`` (or ``"KEYS_ONLY"``,
    ``"NEW_IMAGE"``, ``"OLD_IMAGE"``) gives the table a stream, read with
    :meth:`stream`.

    For a constructor that type checkers check, mix in :class:`~dynamodb.Typed` and
    annotate the fields: ``class Test(Model, Typed): score: IntegerField = IntegerField()``.
    """

    _meta: ClassVar[ModelOptions]
    __abstract__: ClassVar[bool] = True
    __table_name__: ClassVar[str]
    __connection__: ClassVar[Connection | None] = None
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {}
    __stream__: ClassVar[str | bool | None] = None
    ReadCapacityUnits: ClassVar[int | None] = None
    WriteCapacityUnits: ClassVar[int | None] = None

    _data: dict[str, Any]
    _original: dict[str, AttributeValue] | None
    """The item's AttributeValues when last read or written (None: never stored)."""
    _sealed: Sealed | None = None
    """Encrypted attributes as read or written: their plaintext and stored forms."""
    _projection: Projection | None = None
    """What a partial item holds (it was read with a projection); None: the whole item."""

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        if cls._meta.is_abstract and not cls._meta.is_map:
            raise InvalidArgument(f"{cls.__name__} is abstract (no table); instantiate a subclass")
        fields = cls._meta.fields
        unknown = values.keys() - fields.keys()
        if unknown:
            raise UnknownField(
                cls._meta.unknown_fields(
                    f"{cls.__name__}() got unknown fields {sorted(unknown)}", sorted(unknown)
                )
            )
        data: dict[str, Any] = {}
        name = cls.__name__
        for attr, field in fields.items():
            if attr in values:
                if field.template is not None:
                    raise field.templated_error(values[attr], name)
                data[attr] = field.clean(values[attr], name)
            else:
                data[attr] = field.make_default()
        if cls._meta.templated:
            fill_templates(cls._meta.templated, data, name)
        state = self.__dict__  # written directly: no Model.__setattr__ call per attribute
        state["_data"] = data
        state["_original"] = None

    def __setattr__(self, name: str, value: Any) -> None:
        # Fields, associations and what the class defines (properties ...) are found
        # on the class and set as usual; names starting with "_" are the instance's own
        # state. Any other name is a typo that would never be saved: refused.
        if name[:1] != "_" and not hasattr(type(self), name):
            raise _unknown_attribute(self, name)
        _set_attribute(self, name, value)

    # -- lifecycle hooks (override them; see the README's "Hooks and signals") ----------

    def before_save(self) -> Any:
        """Called before every write of this item (save, create, update, commit_changes,
        add, batches, transactions); may change the item. Raising sends nothing."""
        return None

    def after_save(self) -> Any:
        """Called once this item was written."""
        return None

    def before_delete(self) -> Any:
        """Called before this item is deleted; raising sends nothing."""
        return None

    def after_delete(self) -> Any:
        """Called once this item was deleted."""
        return None

    def after_load(self) -> Any:
        """Called for every instance a read built from a stored item."""
        return None

    # -- plumbing ------------------------------------------------------------------

    @classmethod
    def _from_wire(
        cls, item: Mapping[str, AttributeValue], partial: Projection | bool | None = None
    ) -> Self:
        """An instance from a stored item (absent attributes read as None).

        ``partial`` marks items read with a projection (the Projection read; True:
        unknown): what was not read stays None, even for set fields (which otherwise
        read a missing set as empty), and the item remembers it is partial.
        This is the hot path of every read: it runs the per-class codec and
        only falls back to the careful decoding when that raises.
        """
        obj = cls.__new__(cls)
        state = obj.__dict__  # written directly: no Model.__setattr__ call per attribute
        flag = bool(partial)
        if cls._meta.encrypted:
            item, state["_sealed"] = open_item(cls, item)
        try:
            state["_data"] = cls._meta.decode_item(item, flag)
        except UpgradeError:  # a lazy upgrade that failed: not a field to decode carefully
            raise
        except Exception:
            state["_data"] = cls._decode_carefully(item, flag)
        # Items come from parsed answers that nothing else holds: no copy needed.
        state["_original"] = item if type(item) is dict else dict(item)
        if flag:
            state["_projection"] = partial if isinstance(partial, Projection) else Projection(())
        return obj

    @classmethod
    def _decode_carefully(cls, item: Mapping[str, AttributeValue], partial: bool) -> dict[str, Any]:
        data: dict[str, Any] = {}
        try:
            for attr, field in cls._meta.fields.items():
                raw = item.get(field.name)
                if raw is not None:
                    data[attr] = field.from_wire(raw)
                else:
                    data[attr] = None if partial else field.absent()
        except (KeyError, ValueError, TypeError, ArithmeticError) as error:
            raise _decode_error(cls, item, error) from error
        return data

    def _to_wire_map(self) -> Item:
        """Every non-empty attribute, encoded; checks required fields and containers."""
        cls = type(self)
        meta = cls._meta
        if meta.templated:
            fill_templates(meta.templated, self._data, cls.__name__)
        try:
            item = meta.encode_item(self._data, lambda field: _missing(cls, field))
        except FieldValidationError:
            raise
        except (TypeError, ValueError, ArithmeticError):
            item = self._encode_carefully()
        tag = meta.entity_tag
        if tag is not None:
            item[tag[0]] = {"S": tag[1]}
        if meta.schema_version_value is not None:
            item[SCHEMA_VERSION_ATTRIBUTE] = meta.schema_version_value
        return item

    def _encode_carefully(self) -> Item:
        """The same as ``_to_wire_map``, field by field, to name the one that fails."""
        cls = type(self)
        item: Item = {}
        for attr, field in cls._meta.fields.items():
            value = self._data.get(attr)
            if value is None:
                continue
            try:
                encoded = field.to_wire(value)
            except FieldValidationError:
                raise
            except (TypeError, ValueError, ArithmeticError) as error:
                raise field.invalid(value, str(error), cls.__name__) from None
            if encoded is not None:
                item[field.name] = encoded
        return item

    @classmethod
    def _key_from_values(cls, values: Mapping[str, Any]) -> Item:
        """The wire key from ``{python or DynamoDB name: value}``; checks it is whole."""
        schema = cls._meta.require_table()
        key_fields = schema.key_fields
        allowed = key_part_names(key_fields)
        unknown = set(values) - allowed
        if unknown:
            expected = ", ".join(_key_description(key_fields))
            raise UnknownField(
                f"{cls.__name__} key has unknown parts {sorted(unknown)}; its key is {expected}"
            )
        if cls._meta.templated:
            values = key_from_parts(cls.__name__, key_fields, values)
        key: Item = {}
        for field in key_fields:
            value = values.get(field.attr, values.get(field.name))
            cleaned = field.clean(value, cls.__name__)
            if cleaned is None:
                raise field.invalid(value, "is part of the key and is required", cls.__name__)
            encoded = field.to_wire(cleaned)
            assert encoded is not None
            key[field.name] = encoded
        check_key(cls, key)  # DynamoDB's key length limits, before anything is sent
        return key

    def _key(self) -> Item:
        return type(self)._key_from_values(self.get_primary_key_dict())

    # -- plain data -------------------------------------------------------------------

    def get_primary_key_dict(self) -> dict[str, Any]:
        """``{python name: value}`` for the key fields (hash, then range)."""
        return {field.attr: self._data.get(field.attr) for field in type(self)._meta.key_fields}

    if TYPE_CHECKING:
        # The method below, typed loosely so that a model may still have a field
        # called size (it hides the method there; Model.size(item) still measures).
        size: Callable[..., int] | Any
    else:

        def size(self) -> int:
            """The item's size in bytes as DynamoDB counts it against its 400 KB limit.

            Attribute names and strings count their UTF-8 bytes, binary values their
            raw bytes, numbers about one byte per two digits plus one, lists and maps 3
            bytes plus 1 per element (see :mod:`dynamodb.core.limits`), for the values
            the item holds now (an item read with a projection holds only what was
            read). A model with a field named ``size`` reads that field as
            ``item.size``; its size in bytes is then ``Model.size(item)``.
            """
            return size_of(self)

    @property
    def expired(self) -> bool:
        """Whether the item is past the time of its TTLField (False without one, or unset)."""
        field = type(self)._meta.ttl_field
        when = self._data.get(field.attr) if field is not None else None
        return when is not None and when <= lifecycle.now()

    @property
    def expires_in(self) -> dt.timedelta | None:
        """How long until the item expires (negative once it has), or None without a TTL."""
        field = type(self)._meta.ttl_field
        when = self._data.get(field.attr) if field is not None else None
        return None if when is None else when - lifecycle.now()

    def to_son(self) -> dict[str, Any]:
        """The item as data ``json.dumps`` accepts (ISO datetimes, sets as sorted lists)."""
        data = self._data
        return {
            attr: None if data.get(attr) is None else field.to_son(data[attr])
            for attr, field in type(self)._meta.fields.items()
        }

    @classmethod
    def from_son(cls, data: Mapping[str, Any]) -> Self:
        """The instance ``to_son()`` data stands for: its inverse, e.g. for a web API's JSON.

        Values are read back as each field writes them in ``to_son()``: ISO 8601
        datetimes and dates, timedeltas as seconds, bytes as base64, UUIDs as
        strings, enums by value, sets as lists, nested models as dicts, typed
        containers element by element (values of the field's own type are taken
        as they are). Fields missing from ``data`` get their defaults, and every
        value is checked as the constructor checks it; a key that is not a field
        raises UnknownField. The instance is new (never stored): ``save()`` puts it
        whole. ``Model.from_son(item.to_son()) == item``.
        """
        if not isinstance(data, Mapping):
            raise InvalidArgument(
                f"{cls.__name__}.from_son() takes a dict (to_son() data), not {type(data).__name__}"
            )
        fields = cls._meta.fields
        unknown = sorted(set(data) - fields.keys())
        if unknown:
            problem = f"{cls.__name__}.from_son() got unknown fields {unknown}"
            raise UnknownField(cls._meta.unknown_fields(problem, unknown))
        return cls(**{attr: fields[attr].read_son(raw) for attr, raw in data.items()})

    def to_dict(self) -> dict[str, Any]:
        """``{python name: value}`` for every field (values as they are, not copied)."""
        return dict(self._data)

    # -- pydantic (the [pydantic] extra, imported when first used) ----------------------

    @classmethod
    def pydantic(cls, *, by_alias: bool = False) -> type[BaseModel]:
        """A pydantic model class of this model's fields, e.g. for FastAPI bodies and
        responses (built once per class and naming, then cached).

        Each field becomes a pydantic field of its Python type (containers typed by
        ``of=``, a MapField's model as a nested pydantic model, enums, datetimes,
        decimals, UUIDs), with its lengths and bounds. Key fields and ``required=True``
        fields without a default are required; defaults are the fields' defaults;
        every other field is optional and defaults to None. Field names are the
        Python names; ``by_alias=True`` makes the stored (DynamoDB) names the aliases,
        which validation and serialisation then use (Python names are accepted too).
        Needs pydantic 2 (``pip install 'dynamodb-py[pydantic]'``).
        """
        return pydantic_interop.pydantic_model(cls, by_alias)

    @classmethod
    def from_pydantic(cls, obj: BaseModel) -> Self:
        """A new instance from a pydantic object (of :meth:`pydantic`, or any pydantic model
        whose field names are this model's Python names).

        Only the fields ``obj`` was given are passed, so this model's defaults fill the
        rest; every value is checked as the constructor checks it, and a name that is
        not a field raises UnknownField. The instance is new: ``save()`` puts it whole.
        """
        instance: Self = pydantic_interop.from_pydantic(cls, obj)
        return instance

    def to_pydantic(self, *, by_alias: bool = False) -> BaseModel:
        """This item as an instance of :meth:`pydantic` (``by_alias`` as there); pydantic
        validates it, so an unset required field raises pydantic's ValidationError."""
        return pydantic_interop.to_pydantic(self, by_alias)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Lets pydantic models hold items of this model (``items: list[Note]``), validated
        and serialised as :meth:`pydantic` describes them; FastAPI bodies and responses
        can then be model classes themselves."""
        return pydantic_interop.core_schema(cls, handler)

    @classmethod
    def json_schema(
        cls,
        *,
        by_alias: bool = False,
        mode: Literal["validation", "serialization"] = "validation",
    ) -> dict[str, Any]:
        """The JSON Schema of :meth:`pydantic` (``by_alias`` as there)."""
        return pydantic_interop.json_schema(cls, by_alias, mode)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Model)
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """``Model(attr=value, ...)``; encrypted fields show ``<encrypted value>``."""
        hidden = {field.attr for field in self._meta.encrypted}
        shown = ", ".join(
            f"{attr}={'<encrypted value>' if attr in hidden else repr(value)}"
            for attr, value in self._data.items()
            if value is not None
        )
        return f"{type(self).__name__}({shown})"

    # -- flows ---------------------------------------------------------------------

    def _write_flow(
        self, prepare: Callable[[], PreparedWrite | None], idempotent: bool = False
    ) -> Flow[Self]:
        """The hooks around one write: ``before_save``, the write ``prepare`` makes once
        it ran, then ``after_save``."""
        yield from lifecycle.before_save((self,))
        write = prepare()
        if write is not None:
            yield from run_write(write, idempotent=idempotent)
        yield from lifecycle.after_save((self,))
        return self

    @classmethod
    def _create_flow(cls, overwrite: bool, values: dict[str, Any]) -> Flow[Self]:
        item = cls(**values)
        return item._write_flow(lambda: prepare_put(item, exists_error=not overwrite))

    def _save_flow(self, condition: Condition | None, full: bool, idempotent: bool) -> Flow[Self]:
        if condition is not None:
            name = type(self).__name__
            require_condition(condition, f"{name}.save(condition=...)", name)
        if full:
            return self._write_flow(lambda: prepare_put(self, condition), idempotent)
        return self._write_flow(lambda: prepare_changes(self, condition), idempotent)

    def _update_flow(
        self,
        actions: tuple[Actions, ...],
        values: dict[str, Any],
        condition: Condition | None,
        idempotent: bool,
        must_exist: bool = False,
    ) -> Flow[Self]:
        plan = self._update_plan(actions, values, f"{type(self).__name__}.update()")
        return self._write_flow(
            lambda: prepare_update(self, plan, condition, must_exist=must_exist), idempotent
        )

    def _update_plan(
        self, actions: Iterable[Actions], values: Mapping[str, Any], where: str
    ) -> UpdatePlan:
        """The plan of ``update(*actions, **values)`` (keyword arguments are SETs);
        ``where`` names the call in errors."""
        plan = UpdatePlan(self._own_actions(actions))
        cls = type(self)
        for attr, value in values.items():
            field = cls._meta.fields.get(attr)
            if field is None:
                problem = f"{where} got an unknown field {attr!r}"
                raise UnknownField(cls._meta.unknown_fields(problem, [attr]))
            plan.add(field.set(value))
        if not plan:
            raise EmptyUpdate(f"{where} needs at least one action or field=value")
        return plan

    def _own_actions(self, actions: Iterable[Actions]) -> list[UpdateAction]:
        cls = type(self)
        flat: list[UpdateAction] = []
        for entry in actions:
            for action in entry if isinstance(entry, (list, tuple)) else (entry,):
                if not isinstance(action, UpdateAction):
                    raise InvalidArgument(
                        f"update() takes actions like Test.score.add(1), not {action!r}"
                    )
                source = action.source
                if action.path.attribute not in cls._meta.fields_by_name or (
                    source is not None and cls._meta.own_field(source) is None
                ):
                    raise InvalidArgument(
                        f"{cls.__name__} cannot apply {action.describe()}: it was built from "
                        f"{source!r}, not a field of {cls.__name__}"
                    )
                flat.append(action)
        return flat

    def _delete_flow(self, condition: Condition | None, idempotent: bool) -> Flow[None]:
        if condition is not None:
            name = type(self).__name__
            require_condition(condition, f"{name}.delete(condition=...)", name)
        yield from lifecycle.before_delete((self,))
        yield from run_write(prepare_delete(self, condition), idempotent=idempotent)
        for association in type(self)._meta.associations.values():
            yield from association.deleted_flow(self)
        yield from lifecycle.after_delete((self,))

    @classmethod
    def _get_flow(
        cls,
        key: Mapping[str, Any],
        consistent: bool,
        projections: Iterable[ProjectionEntry] | None,
        include_expired: bool = False,
    ) -> Flow[Self | None]:
        schema = cls._meta.require_table()
        projection = None
        if projections is not None:
            projection = read_with(cls, projection_of(cls, projections, "get"), version=True)
        meta = cls._meta
        request = operations.get_item_request(
            schema.table_name,
            cls._key_from_values(key),
            consistent,
            meta.with_entity(projection.expression_paths() if projection is not None else None),
        )
        response = yield from call("GetItem", request)
        found = response.get("Item")
        loaded: Self | None = meta.loader()(found, projection) if found else None
        if loaded is not None and not include_expired and loaded.expired:
            return None
        yield from lifecycle.after_load((loaded,))
        return loaded

    @classmethod
    def _key_instance(cls, key: Mapping[str, Any]) -> Self:
        """An instance holding only a key (for writes by key without a read)."""
        cls._key_from_values(key)
        obj = cls.__new__(cls)
        obj._data = dict.fromkeys(cls._meta.fields)
        obj._original = None
        key_fields = cls._meta.key_fields
        for field in key_fields:
            for part in field.part_fields.values():
                given = key.get(part.attr, key.get(part.name))
                if given is not None:
                    obj._data[part.attr] = part.clean(given, cls.__name__)
        values = key_from_parts(cls.__name__, key_fields, key) if cls._meta.templated else key
        for field in key_fields:
            obj._data[field.attr] = field.clean(values.get(field.attr, values.get(field.name)))
        return obj

    @classmethod
    def _add_flow(cls, values: dict[str, Any], idempotent: bool) -> Flow[Self]:
        key_names = key_part_names(cls._meta.key_fields)
        key = {name: value for name, value in values.items() if name in key_names}
        counters = {name: value for name, value in values.items() if name not in key_names}
        if not counters:
            raise EmptyUpdate(
                f"{cls.__name__}.add() needs at least one field=amount besides the key"
            )
        item = cls._key_instance(key)
        actions: list[UpdateAction] = []
        for attr, amount in counters.items():
            field = cls._meta.fields.get(attr)
            if field is None:
                problem = f"{cls.__name__}.add() got an unknown field {attr!r}"
                raise UnknownField(cls._meta.unknown_fields(problem, [attr]))
            actions.append(field.add(amount))
        return item._write_flow(lambda: prepare_update(item, UpdatePlan(actions)), idempotent)

    @classmethod
    def _count_flow(cls, exact: bool) -> Flow[int]:
        table = cls._meta.table_name
        if exact:
            return (yield from operations.count_items(table))
        description = yield from operations.describe_table(table)
        return int(description.get("ItemCount", 0))

    # -- reading many ------------------------------------------------------------------

    @classmethod
    def query(
        cls, *projection: Field[Any] | NestedAttribute, rate_limit: RateLimit | None = None
    ) -> Query[Self]:
        """A query builder; pass fields or nested paths (``Test.doc["a"]``) to read only
        those (and the key, and the version field). ``rate_limit`` holds its reads to a
        budget of capacity units per second (see :class:`~dynamodb.RateLimit`)."""
        query = Query(cls, _Spec(projection=_projection_spec(cls, projection, "query")))
        return query.rate_limit(rate_limit) if rate_limit is not None else query

    @classmethod
    def scan(
        cls,
        *projection: Field[Any] | NestedAttribute,
        segments: int = 1,
        rate_limit: RateLimit | None = None,
    ) -> Scan[Self]:
        """A scan builder; ``segments=N`` reads with N parallel workers. Projections as
        in :meth:`query`; ``rate_limit`` holds the whole scan, all its segments, to a
        budget of capacity units per second (see :class:`~dynamodb.RateLimit`)."""
        spec = _Spec(projection=_projection_spec(cls, projection, "scan"))
        scan = Scan(cls, spec).segments(segments)
        return scan.rate_limit(rate_limit) if rate_limit is not None else scan

    @classmethod
    def stream(cls, **options: Unpack[StreamOptions]) -> ChangeStream[Self]:
        """The changes of the table's stream: ``for change in Model.stream(...)``.

        Each :class:`~dynamodb.streams.Change` holds the item before and after as
        instances of this model (in a table several models share, only this
        model's items are read). Options: :class:`~dynamodb.streams.StreamOptions`
        (``start``, ``checkpoints``, ``worker``, ``lease_seconds``, ``stop_after`` ...).
        """
        return stream_of(cls, options)

    @classmethod
    def astream(cls, **options: Unpack[StreamOptions]) -> ChangeStream[Self]:
        """Async twin of :meth:`stream`: ``async for change in Model.astream(...)``."""
        return stream_of(cls, options)

    # -- items: sync and async twins -------------------------------------------------

    # create() and get() take the constructor's signature where they can: on a model
    # marked Typed (dataclass_transform) type checkers then check the field names and
    # value types of a call without options; a call with options falls to the later
    # overloads, whose values are Any (a ParamSpec cannot gain keyword parameters).
    # A seed-style model's constructor is (**values: Any), so nothing changes there.

    @overload
    @classmethod
    def create(cls: Callable[_P, _M], *args: _P.args, **values: _P.kwargs) -> _M: ...

    @overload
    @classmethod
    def create(
        cls, *, overwrite: bool, connection: Connection | None = None, **values: Any
    ) -> Self: ...

    @overload
    @classmethod
    def create(cls, *, connection: Connection | None, **values: Any) -> Self: ...

    @classmethod  # type: ignore[misc]  # Self for the overloads' _M: the same class
    def create(
        cls, *, overwrite: bool = True, connection: Connection | None = None, **values: Any
    ) -> Self:
        """Store a new item; ``overwrite=False`` raises ItemAlreadyExists for a taken key."""
        return cls._meta.run(cls._create_flow(overwrite, values), connection)

    @overload
    @classmethod
    def acreate(
        cls: Callable[_P, _M], *args: _P.args, **values: _P.kwargs
    ) -> Coroutine[Any, Any, _M]: ...

    @overload
    @classmethod
    def acreate(
        cls, *, overwrite: bool, connection: Connection | None = None, **values: Any
    ) -> Coroutine[Any, Any, Self]: ...

    @overload
    @classmethod
    def acreate(
        cls, *, connection: Connection | None, **values: Any
    ) -> Coroutine[Any, Any, Self]: ...

    @classmethod  # type: ignore[misc]  # as create()
    async def acreate(
        cls, *, overwrite: bool = True, connection: Connection | None = None, **values: Any
    ) -> Self:
        """Async twin of :meth:`create`."""
        return await cls._meta.arun(cls._create_flow(overwrite, values), connection)

    @overload
    @classmethod
    def get(cls: Callable[_P, _M], *args: _P.args, **key: _P.kwargs) -> _M | None: ...

    @overload
    @classmethod
    def get(
        cls,
        *,
        consistent: bool,
        projections: Iterable[ProjectionEntry] | None = None,
        include_expired: bool = False,
        connection: Connection | None = None,
        **key: Any,
    ) -> Self | None: ...

    @overload
    @classmethod
    def get(
        cls,
        *,
        consistent: bool = False,
        projections: Iterable[ProjectionEntry] | None,
        include_expired: bool = False,
        connection: Connection | None = None,
        **key: Any,
    ) -> Self | None: ...

    @overload
    @classmethod
    def get(
        cls,
        *,
        consistent: bool = False,
        projections: Iterable[ProjectionEntry] | None = None,
        include_expired: bool,
        connection: Connection | None = None,
        **key: Any,
    ) -> Self | None: ...

    @overload
    @classmethod
    def get(
        cls,
        *,
        consistent: bool = False,
        projections: Iterable[ProjectionEntry] | None = None,
        include_expired: bool = False,
        connection: Connection | None,
        **key: Any,
    ) -> Self | None: ...

    @classmethod  # type: ignore[misc]  # Self for the overloads' _M: the same class
    def get(
        cls,
        *,
        consistent: bool = False,
        projections: Iterable[ProjectionEntry] | None = None,
        include_expired: bool = False,
        connection: Connection | None = None,
        **key: Any,
    ) -> Self | None:
        """The item with this key, or None; ``consistent=True`` reads strongly consistent.

        ``projections=[Test.title, Test.doc["a"]]`` reads only those fields and paths
        (and the key, and the version field): a partial item (see :meth:`save`). An
        item past its TTLField's time reads as None unless ``include_expired=True``.
        """
        flow = cls._get_flow(key, consistent, projections, include_expired)
        return cls._meta.run(flow, connection)

    @overload
    @classmethod
    def aget(
        cls: Callable[_P, _M], *args: _P.args, **key: _P.kwargs
    ) -> Coroutine[Any, Any, _M | None]: ...

    @overload
    @classmethod
    def aget(
        cls,
        *,
        consistent: bool,
        projections: Iterable[ProjectionEntry] | None = None,
        include_expired: bool = False,
        connection: Connection | None = None,
        **key: Any,
    ) -> Coroutine[Any, Any, Self | None]: ...

    @overload
    @classmethod
    def aget(
        cls,
        *,
        consistent: bool = False,
        projections: Iterable[ProjectionEntry] | None,
        include_expired: bool = False,
        connection: Connection | None = None,
        **key: Any,
    ) -> Coroutine[Any, Any, Self | None]: ...

    @overload
    @classmethod
    def aget(
        cls,
        *,
        consistent: bool = False,
        projections: Iterable[ProjectionEntry] | None = None,
        include_expired: bool,
        connection: Connection | None = None,
        **key: Any,
    ) -> Coroutine[Any, Any, Self | None]: ...

    @overload
    @classmethod
    def aget(
        cls,
        *,
        consistent: bool = False,
        projections: Iterable[ProjectionEntry] | None = None,
        include_expired: bool = False,
        connection: Connection | None,
        **key: Any,
    ) -> Coroutine[Any, Any, Self | None]: ...

    @classmethod  # type: ignore[misc]  # as get()
    async def aget(
        cls,
        *,
        consistent: bool = False,
        projections: Iterable[ProjectionEntry] | None = None,
        include_expired: bool = False,
        connection: Connection | None = None,
        **key: Any,
    ) -> Self | None:
        """Async twin of :meth:`get`."""
        flow = cls._get_flow(key, consistent, projections, include_expired)
        return await cls._meta.arun(flow, connection)

    def save(
        self,
        *,
        condition: Condition | None = None,
        full: bool = False,
        idempotent: bool = False,
        connection: Connection | None = None,
    ) -> Self:
        """Store the item.

        A new item is put whole (PutItem). An item that was read or saved before
        sends only what changed since (UpdateItem with SET/REMOVE, nothing at all
        when nothing changed), so other writers' attributes are kept; ``full=True``
        puts the whole item anyway. ``condition`` must hold or ConditionalCheckFailed
        is raised; with a VersionField the stored version must be the one read.

        An item read with a projection is partial: its save sends only its changes,
        never removes what it did not read, and changes an attribute read in part
        (``Test.doc["a"]``) at the paths read; ``full=True`` raises PartialItemError.

        ``idempotent=True`` sends the write as a one-action transaction that DynamoDB
        applies at most once, so it is resent safely after a lost answer (at twice the
        write capacity); see the README's "Retries and lost answers".
        """
        flow = self._save_flow(condition, full, idempotent)
        return type(self)._meta.run(flow, connection)

    async def asave(
        self,
        *,
        condition: Condition | None = None,
        full: bool = False,
        idempotent: bool = False,
        connection: Connection | None = None,
    ) -> Self:
        """Async twin of :meth:`save`."""
        flow = self._save_flow(condition, full, idempotent)
        return await type(self)._meta.arun(flow, connection)

    def update(
        self,
        *actions: Actions,
        must_exist: bool = False,
        idempotent: bool = False,
        connection: Connection | None = None,
        **values: Any,
    ) -> Self:
        """Apply update actions in one UpdateItem; the item then holds what DynamoDB holds.

        ``item.update(Test.score.add(1), Test.ids.list_append([1, 2]), title="new")``:
        keyword arguments are plain SETs. Works on an item built from its key alone
        (``Test(name="a", score=1).update(...)``): no read needed. Such an update
        creates the item if it is missing (an upsert, as atomic counters want), holding
        only the key and what the update sets; ``must_exist=True`` updates a stored item
        only and raises ItemNotFound (sending one condition, ``attribute_exists`` of
        the key) when there is none.

        ``idempotent=True`` sends the write as a one-action transaction that DynamoDB
        applies at most once, so it is resent safely after a lost answer (at twice the
        write capacity); see the README's "Retries and lost answers".
        """
        flow = self._update_flow(actions, values, None, idempotent, must_exist)
        return type(self)._meta.run(flow, connection)

    async def aupdate(
        self,
        *actions: Actions,
        must_exist: bool = False,
        idempotent: bool = False,
        connection: Connection | None = None,
        **values: Any,
    ) -> Self:
        """Async twin of :meth:`update`."""
        flow = self._update_flow(actions, values, None, idempotent, must_exist)
        return await type(self)._meta.arun(flow, connection)

    def condition(self, *conditions: Condition) -> Conditional[Self]:
        """``item.condition(Test.score.gt(1)).update(...)``: the next write only if these hold."""
        name = type(self).__name__
        where = f"{name}.condition()"
        combined = and_all([require_condition(part, where, name) for part in conditions])
        if combined is None:
            raise InvalidValue("condition() needs at least one condition")
        return Conditional(self, combined)

    def delete(
        self,
        *,
        condition: Condition | None = None,
        idempotent: bool = False,
        connection: Connection | None = None,
    ) -> None:
        """Delete this item (by its key), only if ``condition`` (and its version) hold.

        ``idempotent=True`` sends the write as a one-action transaction that DynamoDB
        applies at most once, so it is resent safely after a lost answer (at twice the
        write capacity); see the README's "Retries and lost answers".
        """
        type(self)._meta.run(self._delete_flow(condition, idempotent), connection)

    async def adelete(
        self,
        *,
        condition: Condition | None = None,
        idempotent: bool = False,
        connection: Connection | None = None,
    ) -> None:
        """Async twin of :meth:`delete`."""
        flow = self._delete_flow(condition, idempotent)
        await type(self)._meta.arun(flow, connection)

    @classmethod
    def delete_by_key(
        cls, *, condition: Condition | None = None, connection: Connection | None = None, **key: Any
    ) -> None:
        """Delete the item with this key without reading it first."""
        cls._meta.run(cls._key_instance(key)._delete_flow(condition, False), connection)

    @classmethod
    async def adelete_by_key(
        cls, *, condition: Condition | None = None, connection: Connection | None = None, **key: Any
    ) -> None:
        """Async twin of :meth:`delete_by_key`."""
        flow = cls._key_instance(key)._delete_flow(condition, False)
        await cls._meta.arun(flow, connection)

    @classmethod
    def add(
        cls, *, idempotent: bool = False, connection: Connection | None = None, **values: Any
    ) -> Self:
        """Atomic counters without a read: ``Test.add(name="a", score=1, visits=1)``.

        The key fields name the item; every other field=amount is added (ADD)
        to it. Returns the item as DynamoDB holds it afterwards.

        ``idempotent=True`` sends the write as a one-action transaction that DynamoDB
        applies at most once, so it is resent safely after a lost answer (at twice the
        write capacity); see the README's "Retries and lost answers".
        """
        return cls._meta.run(cls._add_flow(values, idempotent), connection)

    @classmethod
    async def aadd(
        cls, *, idempotent: bool = False, connection: Connection | None = None, **values: Any
    ) -> Self:
        """Async twin of :meth:`add`."""
        return await cls._meta.arun(cls._add_flow(values, idempotent), connection)

    # -- associations ---------------------------------------------------------------------

    def _association(self, name: str) -> Association:
        association = type(self)._meta.associations.get(name)
        if association is None:
            raise UnknownAssociation(f"{type(self).__name__} has no association {name!r}")
        return association

    def load(self, name: str, *, connection: Connection | None = None) -> Any:
        """Load (and cache) an association: the owner, the one item, or the list of items."""
        flow = self._association(name).load_flow(self)
        return type(self)._meta.run(flow, connection)

    async def aload(self, name: str, *, connection: Connection | None = None) -> Any:
        """Async twin of :meth:`load`: ``owner = await post.aload("user")``; then
        ``post.user`` reads the cache without a request."""
        association = self._association(name)
        flow = warming_keys(association.load_flow(self), (association.target,))
        return await type(self)._meta.arun(flow, connection)

    # -- batches: sync and async twins --------------------------------------------------

    @classmethod
    def batch_write(
        cls,
        items: Iterable[Self | Mapping[str, Any]],
        overwrite: bool = True,
        **options: Unpack[BatchOptions],
    ) -> list[Self]:
        """Write any number of items (instances or dicts); returns the instances stored.

        Sent as 25-item BatchWriteItem calls, ``concurrency`` at a time, retrying
        what DynamoDB leaves unprocessed; BatchIncomplete names what is left if the
        ``retry`` budget runs out. One key given twice: the last one wins.
        ``overwrite=False`` writes each item only if its key is free (one
        conditional PutItem each) and raises ItemAlreadyExists listing the taken keys.
        ``progress``: True for a bar, or a callable ``(done, total)``.
        """
        instances = [as_instance(cls, entry) for entry in items]
        connection = cls._meta.connection(options.get("connection"))
        connection.run(lifecycle.before_save(instances))
        written = plan_batch_write(cls, instances, overwrite, options).run()
        connection.run(lifecycle.after_save(written))
        return written

    @classmethod
    async def abatch_write(
        cls,
        items: Iterable[Self | Mapping[str, Any]],
        overwrite: bool = True,
        **options: Unpack[BatchOptions],
    ) -> list[Self]:
        """Async twin of :meth:`batch_write`."""
        instances = [as_instance(cls, entry) for entry in items]
        connection = cls._meta.connection(options.get("connection"))
        await connection.arun(lifecycle.before_save(instances))
        written = await plan_batch_write(cls, instances, overwrite, options).arun()
        await connection.arun(lifecycle.after_save(written))
        return written

    @classmethod
    def batch_get(
        cls, *keys: Mapping[str, Any] | Self, **options: Unpack[BatchGetOptions]
    ) -> list[Self]:
        """Read items by key, in the order asked; missing keys are skipped
        (``keep_missing=True``: None in their place).

        Duplicate keys are read once; 100-key BatchGetItem calls run
        ``concurrency`` at a time and UnprocessedKeys are retried. ``projections``
        reads only those fields (and the key); ``consistent=True`` reads strongly
        consistent.
        """
        found = plan_batch_get(cls, keys, options).run()
        cls._meta.connection(options.get("connection")).run(lifecycle.after_load(found))
        return found  # type: ignore[return-value]

    @classmethod
    async def abatch_get(
        cls, *keys: Mapping[str, Any] | Self, **options: Unpack[BatchGetOptions]
    ) -> list[Self]:
        """Async twin of :meth:`batch_get`."""
        found = await plan_batch_get(cls, keys, options).arun()
        await cls._meta.connection(options.get("connection")).arun(lifecycle.after_load(found))
        return found  # type: ignore[return-value]

    @classmethod
    def batch_delete(
        cls,
        keys: Iterable[Mapping[str, Any]] | None = None,
        *,
        items: Iterable[Self] | None = None,
        **options: Unpack[BatchOptions],
    ) -> int:
        """Delete items by key (``keys=[...]``) or by instance (``items=[...]``); how many."""
        entries = each_within_limits(
            cls, "batch_delete()", _keys_or_items(keys, items), lambda key: _deletable(cls, key)
        )
        connection = cls._meta.connection(options.get("connection"))
        connection.run(lifecycle.before_delete(entries))
        deleted = plan_batch_delete(cls, entries, options).run()
        connection.run(lifecycle.after_delete(entries))
        return deleted

    @classmethod
    async def abatch_delete(
        cls,
        keys: Iterable[Mapping[str, Any]] | None = None,
        *,
        items: Iterable[Self] | None = None,
        **options: Unpack[BatchOptions],
    ) -> int:
        """Async twin of :meth:`batch_delete`."""
        entries = each_within_limits(
            cls, "batch_delete()", _keys_or_items(keys, items), lambda key: _deletable(cls, key)
        )
        connection = cls._meta.connection(options.get("connection"))
        await connection.arun(lifecycle.before_delete(entries))
        deleted = await plan_batch_delete(cls, entries, options).arun()
        await connection.arun(lifecycle.after_delete(entries))
        return deleted

    @classmethod
    def item_count(cls, *, exact: bool = False, connection: Connection | None = None) -> int:
        """How many items the table holds.

        By default DynamoDB's ItemCount from DescribeTable: free, but AWS refreshes
        it only about every six hours. ``exact=True`` counts with a paged COUNT
        scan, which reads (and bills) the whole table.
        """
        return cls._meta.run(cls._count_flow(exact), connection)

    @classmethod
    async def aitem_count(cls, *, exact: bool = False, connection: Connection | None = None) -> int:
        """Async twin of :meth:`item_count`."""
        return await cls._meta.arun(cls._count_flow(exact), connection)


_BASE.append(Model)

M = TypeVar("M", bound=Model)


class Conditional(Generic[M]):
    """An item with conditions for its next write: ``item.condition(...).save()``."""

    __slots__ = ("condition", "item")

    def __init__(self, item: M, condition: Condition) -> None:
        self.item = item
        self.condition = condition

    def update(
        self,
        *actions: Actions,
        must_exist: bool = False,
        idempotent: bool = False,
        connection: Connection | None = None,
        **values: Any,
    ) -> M:
        """:meth:`Model.update`, only if the conditions hold."""
        flow = self.item._update_flow(actions, values, self.condition, idempotent, must_exist)
        return type(self.item)._meta.run(flow, connection)

    async def aupdate(
        self,
        *actions: Actions,
        must_exist: bool = False,
        idempotent: bool = False,
        connection: Connection | None = None,
        **values: Any,
    ) -> M:
        """Async twin of :meth:`update`."""
        flow = self.item._update_flow(actions, values, self.condition, idempotent, must_exist)
        return await type(self.item)._meta.arun(flow, connection)

    def save(
        self, *, full: bool = False, idempotent: bool = False, connection: Connection | None = None
    ) -> M:
        """:meth:`Model.save`, only if the conditions hold."""
        flow = self.item._save_flow(self.condition, full, idempotent)
        return type(self.item)._meta.run(flow, connection)

    async def asave(
        self, *, full: bool = False, idempotent: bool = False, connection: Connection | None = None
    ) -> M:
        """Async twin of :meth:`save`."""
        flow = self.item._save_flow(self.condition, full, idempotent)
        return await type(self.item)._meta.arun(flow, connection)

    def delete(self, *, idempotent: bool = False, connection: Connection | None = None) -> None:
        """:meth:`Model.delete`, only if the conditions hold."""
        type(self.item)._meta.run(self.item._delete_flow(self.condition, idempotent), connection)

    async def adelete(
        self, *, idempotent: bool = False, connection: Connection | None = None
    ) -> None:
        """Async twin of :meth:`delete`."""
        await type(self.item)._meta.arun(
            self.item._delete_flow(self.condition, idempotent), connection
        )


class MapModel(Model):
    """A model stored inside other items as a map: no table, no keys.

    Use it for ``ListField(of=Address)``, ``DictField(of=Address)`` or
    ``MapField(Address)``.
    """

    __abstract__ = True
    __map__ = True


_set_attribute = object.__setattr__


def _unknown_attribute(item: Model, name: str) -> UnknownAttribute:
    cls = type(item)
    error = UnknownAttribute(
        cls._meta.unknown_fields(
            f"{cls.__name__} has no field {name!r} to set (it would never be saved)",
            [name],
            ". Other data kept on an instance needs a name starting with '_', or a "
            "declaration on the class",
        )
    )
    error.name, error.obj = name, item
    return error


def _missing(cls: type[Model], field: Field[Any]) -> FieldValidationError:
    if field.template is not None:
        parts = ", ".join(field.template.names)
        return field.invalid(
            None,
            f"is required: it is built from {field.template.source!r}, so give {parts}",
            cls.__name__,
        )
    return field.invalid(None, "is required", cls.__name__)


def _key_description(key_fields: Iterable[Field[Any]]) -> list[str]:
    described = []
    for field in key_fields:
        if field.template is not None and field.template.names:
            described.append(
                f"{field.attr} ({field.template.source!r}: {', '.join(field.template.names)})"
            )
        else:
            described.append(field.attr)
    return described


def _deletable(cls: type[Model], entry: Any) -> Model:
    """An instance for each key of a batch delete (its hooks see the item by its key)."""
    if isinstance(entry, cls):
        return entry
    if isinstance(entry, Mapping):
        return cls._key_instance(entry)
    raise InvalidArgument(f"{cls.__name__}: a key is a dict like {{'name': ...}}, not {entry!r}")


def _keys_or_items(keys: Iterable[Any] | None, items: Iterable[Any] | None) -> list[Any]:
    if (keys is None) == (items is None):
        raise InvalidArgument("batch_delete() takes keys=[...] or items=[...] (one of them)")
    return list(keys if keys is not None else items)  # type: ignore[arg-type]


def _projection_spec(
    cls: type[Model], entries: tuple[Field[Any] | NestedAttribute, ...], call: str
) -> Projection | None:
    return projection_of(cls, entries, call, names=False) if entries else None


def _decode_error(
    cls: type[Model], item: Mapping[str, AttributeValue], error: Exception
) -> DecodeError:
    for attr, field in cls._meta.fields.items():
        raw = item.get(field.name)
        if raw is None:
            continue
        try:
            field.from_wire(raw)
        except (KeyError, ValueError, TypeError, ArithmeticError) as failure:
            return DecodeError(cls.__name__, attr, raw, f"{type(failure).__name__}: {failure}")
    return DecodeError(cls.__name__, "?", dict(item), str(error))
