"""Pydantic v2 models of the library's models: ``Model.pydantic()`` and the conversions.

``pydantic_model(cls, by_alias)`` builds (once per model class and naming) a
``pydantic.BaseModel`` subclass with one field per model field: its Python type
(``ListField(of=IntegerField())`` is ``list[int]``, ``MapField(Address)`` the
pydantic model of ``Address`` ...), its constraints (lengths, bounds), whether it is
required (keys and ``required=True`` fields without a default) and its default. The
other fields are optional and default to None, as an unset field reads.

Field names are the Python names; with ``by_alias=True`` the stored (DynamoDB) names
are the pydantic aliases, used for validation and serialisation (Python names are
accepted too). pydantic is imported here only, when one of these is first used: it is
the ``[pydantic]`` extra.
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from dynamodb.core.errors import InvalidArgument, MissingDependency, UnknownField
from dynamodb.models.fields import (
    BinaryField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    DictField,
    EnumField,
    Field,
    FloatField,
    IntegerField,
    ListField,
    MapField,
    SetField,
    TimeDeltaField,
    TTLField,
    UUIDField,
)
from dynamodb.models.fields.base import MISSING
from dynamodb.models.fields.wrapped import WrappingField

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["core_schema", "from_pydantic", "json_schema", "pydantic_model", "to_pydantic"]

_CACHE: weakref.WeakKeyDictionary[type[Any], dict[bool, type[BaseModel]]] = (
    weakref.WeakKeyDictionary()
)
"""The pydantic models built so far, per model class (weakly: a redefined class is new)."""

_SCALARS: tuple[tuple[type[Field[Any]], type], ...] = (
    (CharField, str),
    (BooleanField, bool),
    (IntegerField, int),  # VersionField too
    (FloatField, float),
    (DecimalField, Decimal),
    (BinaryField, bytes),
    (UUIDField, uuid.UUID),
    (DateTimeField, dt.datetime),
    (TTLField, dt.datetime),
    (DateField, dt.date),
    (TimeDeltaField, dt.timedelta),
)
"""Field classes (and their subclasses) whose value is one plain Python type."""


def _pydantic() -> Any:
    try:
        import pydantic
    except ImportError:
        raise MissingDependency(
            "Model.pydantic() needs pydantic 2: pip install 'dynamodb-py[pydantic]'"
        ) from None
    return pydantic


def pydantic_model(cls: type[Any], by_alias: bool = False) -> type[BaseModel]:
    """The pydantic model class of ``cls``'s fields (built once per class and naming)."""
    built = _CACHE.setdefault(cls, {})
    found = built.get(by_alias)
    if found is None:
        found = built[by_alias] = _build(cls, by_alias)
    return found


def _build(cls: type[Any], by_alias: bool) -> type[BaseModel]:
    pydantic = _pydantic()
    config = pydantic.ConfigDict(
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=by_alias,
        ser_json_bytes="base64",
        val_json_bytes="base64",
        ser_json_timedelta="float",
        validate_default=True,  # defaults holding nested models become their pydantic models
    )
    definitions: dict[str, Any] = {}
    for attr, field in cls._meta.fields.items():
        annotation, constraints = _annotation(field, by_alias)
        options: dict[str, Any] = dict(constraints)
        if by_alias and field.name != attr:
            options["alias"] = field.name
        if field.__doc__ is not type(field).__doc__:
            options["description"] = field.__doc__
        default = field.default
        if default is not MISSING and callable(default):
            options["default_factory"] = _plain_default(field)
        elif default is not MISSING:
            options["default"] = _plain(field.make_default())
        elif not field.required or field.template is not None:
            # Unset fields read as None; a templated field is computed from its parts.
            annotation = annotation if annotation is Any else annotation | None
            options["default"] = None
        definitions[attr] = (annotation, pydantic.Field(**options))
    name = cls.__name__ if not by_alias else f"{cls.__name__}Stored"
    model: type[BaseModel] = pydantic.create_model(
        name,
        __config__=config,
        __doc__=cls.__doc__,
        __module__=cls.__module__,
        **definitions,
    )
    return model


def _annotation(field: Field[Any], by_alias: bool) -> tuple[Any, dict[str, Any]]:
    """The Python type of ``field``'s values, and pydantic constraints for them (those
    of the inner field for an encrypted or compressed one: it holds the same values)."""
    while isinstance(field, WrappingField):
        field = field.inner
    constraints: dict[str, Any] = {}
    for name, option in (("min_length", "min_length"), ("max_length", "max_length")):
        if getattr(field, name, None) is not None:
            constraints[option] = getattr(field, name)
    for name, option in (("minimum", "ge"), ("maximum", "le")):
        if getattr(field, name, None) is not None:
            constraints[option] = getattr(field, name)
    if isinstance(field, MapField):
        return pydantic_model(field.model, by_alias), constraints
    if isinstance(field, EnumField):
        return field.enum_type, constraints
    if isinstance(field, ListField):
        return _generic(list, _element(field.of, by_alias)), constraints
    if isinstance(field, DictField):
        return _generic(dict, (str, _element(field.of, by_alias))), constraints
    if isinstance(field, SetField):
        return _generic(set, field.of or Any), constraints
    for kind, python_type in _SCALARS:
        if isinstance(field, kind):
            return python_type, constraints
    return Any, constraints  # JSONField, a user's Field[T]


def _generic(origin: Any, arguments: Any) -> Any:
    """``origin[arguments]`` for types known at run time only (``list[int]`` ...)."""
    return origin[arguments]


def _element(of: Field[Any] | None, by_alias: bool) -> Any:
    """The type of a container's elements (its ``of=`` field, constraints included)."""
    if of is None:
        return Any
    annotation, constraints = _annotation(of, by_alias)
    if not constraints:
        return annotation
    return _generic(Annotated, (annotation, _pydantic().Field(**constraints)))


def _plain_default(field: Field[Any]) -> Callable[[], Any]:
    """A default_factory: the field's own default, made afresh, as pydantic's input."""
    return lambda: _plain(field.make_default())


def _plain(value: Any) -> Any:
    """A value with nested model instances as dicts by Python name (pydantic's input)."""
    meta = getattr(type(value), "_meta", None)
    if meta is not None:
        return {attr: _plain(value._data.get(attr)) for attr in meta.fields}
    if isinstance(value, list):
        return [_plain(member) for member in value]
    if isinstance(value, dict):
        return {key: _plain(member) for key, member in value.items()}
    return value


def to_pydantic(item: Any, by_alias: bool = False) -> BaseModel:
    """``item`` as an instance of its model's pydantic model (pydantic validates it: an
    unset required field raises pydantic's ValidationError)."""
    model = pydantic_model(type(item), by_alias)
    return model.model_validate(_plain(item), by_name=True, by_alias=False)


def from_pydantic(cls: type[Any], obj: Any) -> Any:
    """A new ``cls`` instance from a pydantic object's fields (by Python name).

    Only the fields ``obj`` was given (``exclude_unset``) are passed, so the model's own
    defaults fill the rest; templated fields are left to be computed from their parts.
    Names that are not fields of ``cls`` raise UnknownField; values are checked as the
    constructor checks them.
    """
    base_model = _pydantic().BaseModel
    if not isinstance(obj, base_model):
        raise InvalidArgument(
            f"{cls.__name__}.from_pydantic() takes a pydantic model instance, "
            f"not {type(obj).__name__}"
        )
    fields = cls._meta.fields
    data: Mapping[str, Any] = obj.model_dump(exclude_unset=True, by_alias=False)
    unknown = sorted(set(data) - fields.keys())
    if unknown:
        problem = f"{cls.__name__}.from_pydantic() got unknown fields {unknown}"
        raise UnknownField(cls._meta.unknown_fields(problem, unknown))
    values = {attr: value for attr, value in data.items() if fields[attr].template is None}
    return cls(**values)


def json_schema(
    cls: type[Any],
    by_alias: bool = False,
    mode: Literal["validation", "serialization"] = "validation",
) -> dict[str, Any]:
    """The JSON Schema of ``cls``'s pydantic model."""
    schema: dict[str, Any] = pydantic_model(cls, by_alias).model_json_schema(mode=mode)
    return schema


def core_schema(cls: type[Any], handler: Any) -> Any:
    """The pydantic core schema that makes ``cls`` itself a field type of pydantic models
    (``items: list[Note]``): instances pass as they are, data is validated by
    :func:`pydantic_model` and becomes an instance (a refused value is a validation
    error), and instances are serialised as their pydantic model."""
    from pydantic_core import core_schema as schemas

    model = handler.generate_schema(pydantic_model(cls))

    def build(obj: Any) -> Any:
        try:
            return from_pydantic(cls, obj)
        except (UnknownField, InvalidArgument) as error:  # TypeErrors: pydantic wants ValueErrors
            raise ValueError(str(error)) from None

    def as_it_is(value: Any, validate: Callable[[Any], Any]) -> Any:
        return value if isinstance(value, cls) else validate(value)

    from_data = schemas.no_info_after_validator_function(build, model)
    return schemas.json_or_python_schema(
        json_schema=from_data,
        python_schema=schemas.no_info_wrap_validator_function(as_it_is, from_data),
        serialization=schemas.plain_serializer_function_ser_schema(
            to_pydantic, return_schema=model
        ),
    )
