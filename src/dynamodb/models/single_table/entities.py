"""Entities: several models stored in one table, told apart by an attribute.

Single-table design puts many kinds of items in one table. Each model of a
shared table is an *entity*, named by ``__entity__`` (default: the class name)
and stored in the attribute ``__entity_attribute__`` (default ``"_type"``) of
every item it writes. A table is shared when its models name more than one
entity, or when one of them declares itself an entity (key templates, or a
subclass of a concrete model). Models of one table that name the same entity
(the same class defined again, in a notebook or in two test modules, or the
versions of one model, given one ``__entity__``) are one entity, not a shared
table, and are not compared with each other.

What a table holds is worked out from the live models of the registry and
cached until a model is defined or collected (:func:`table_entities`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dynamodb.core.errors import ModelDefinitionError
from dynamodb.core.expressions import Comparison, Condition, In, Path
from dynamodb.models.registry import generation, models_of_table
from dynamodb.models.schema import IndexSpec, TableSchema

__all__ = [
    "DEFAULT_ENTITY_ATTRIBUTE",
    "TableEntities",
    "check_compatible",
    "entity_condition",
    "entity_of",
    "shared_schema",
    "table_entities",
]

DEFAULT_ENTITY_ATTRIBUTE = "_type"


@dataclass(frozen=True)
class TableEntities:
    """The entities stored in one table: by name, the class that reads each."""

    table: str
    attribute: str
    shared: bool
    classes: Mapping[str, type[Any]]
    models: tuple[type[Any], ...]


_CACHE: dict[str, tuple[int, TableEntities]] = {}


def entity_of(item: Mapping[str, Any], attribute: str) -> str | None:
    """The entity a stored item names in ``attribute`` (None: it names none)."""
    tag = item.get(attribute)
    entity = tag.get("S") if isinstance(tag, dict) else None
    return entity if isinstance(entity, str) else None


def entity_condition(attribute: str, entities: Iterable[str]) -> Condition:
    """``attribute = entity``, or ``attribute IN (...)`` for several."""
    names = tuple(entities)
    path = Path.of(attribute)
    if len(names) == 1:
        return Comparison(path, "eq", {"S": names[0]})
    return In(path, tuple({"S": name} for name in names))


def table_entities(table: str) -> TableEntities:
    """What ``table`` holds, from the models defined for it now."""
    current = generation()
    cached = _CACHE.get(table)
    if cached is not None and cached[0] == current:
        return cached[1]
    models = tuple(models_of_table(table))
    classes: dict[str, type[Any]] = {}
    for model in models:  # registration order: a later definition of a name wins
        classes[model._meta.entity] = model
    declared = any(model._meta.declares_entity for model in models)
    attribute = models[0]._meta.entity_attribute if models else DEFAULT_ENTITY_ATTRIBUTE
    found = TableEntities(table, attribute, declared or len(classes) > 1, classes, models)
    _CACHE[table] = (current, found)
    return found


def check_compatible(model: type[Any], others: Iterable[type[Any]]) -> None:
    """ModelDefinitionError when ``model`` cannot share its table with ``others``.

    Models of one table must agree on the table's key schema, on the entity
    attribute, and on the keys of every index both declare. Models naming the
    same entity as ``model`` are other definitions of it and are not compared.
    """
    meta = model._meta
    mine = meta.schema
    assert mine is not None
    for other in others:
        theirs = other._meta
        if other is model or theirs.entity == meta.entity or theirs.schema is None:
            continue
        where = f"model {meta.name} shares table {mine.table_name!r} with {theirs.name}"
        if _keys(mine.key_fields) != _keys(theirs.schema.key_fields):
            raise ModelDefinitionError(
                f"{where}, but their table keys differ: {_describe(mine.key_fields)} here, "
                f"{_describe(theirs.schema.key_fields)} there; models of one table share its "
                "key schema"
            )
        if meta.entity_attribute != theirs.entity_attribute:
            raise ModelDefinitionError(
                f"{where}, but they store their entity in different attributes "
                f"({meta.entity_attribute!r} and {theirs.entity_attribute!r})"
            )
        for name, spec in mine.indexes.items():
            other_spec = theirs.schema.indexes.get(name)
            if other_spec is None:
                continue
            here = _keys((spec.hash_key, spec.range_key))
            there = _keys((other_spec.hash_key, other_spec.range_key))
            if here != there or spec.is_global != other_spec.is_global:
                raise ModelDefinitionError(
                    f"{where}, but they declare index {name!r} with different keys: "
                    f"{_describe((spec.hash_key, spec.range_key))} here, "
                    f"{_describe((other_spec.hash_key, other_spec.range_key))} there"
                )


def _keys(fields: Iterable[Any]) -> tuple[tuple[str, str | None], ...]:
    return tuple((field.name, field.key_type) for field in fields if field is not None)


def _describe(fields: Iterable[Any]) -> str:
    shown = [f"{field.name} ({field.key_type})" for field in fields if field is not None]
    return ", ".join(shown)


def shared_schema(model: type[Any]) -> TableSchema:
    """The schema of ``model``'s table as its models share it.

    The table's keys and capacity are ``model``'s; its indexes are every index any
    of its models declares (an index that a model does not declare, or whose keys
    it leaves empty, holds none of its items: a sparse index). In a shared table
    each index projects the entity attribute too, so typed reads of an index can
    tell the entities apart.
    """
    schema: TableSchema = model._meta.require_table()
    table = table_entities(schema.table_name)
    if not table.shared:
        return schema
    merged: dict[str, IndexSpec] = {}
    for other in (model, *table.models):
        other_schema = other._meta.schema
        if other_schema is None:
            continue
        for name, spec in other_schema.indexes.items():
            merged[name] = _merge_index(merged.get(name), spec)
    indexes = {name: _with_attribute(spec, table.attribute) for name, spec in merged.items()}
    return dataclasses.replace(schema, indexes=indexes)


def _merge_index(first: IndexSpec | None, second: IndexSpec) -> IndexSpec:
    if first is None:
        return second
    if "ALL" in (first.projection_type, second.projection_type):
        return dataclasses.replace(first, projection_type="ALL", projected=())
    projected = tuple(dict.fromkeys((*first.projected, *second.projected)))
    kind = "INCLUDE" if projected else "KEYS_ONLY"
    return dataclasses.replace(first, projection_type=kind, projected=projected)


def _with_attribute(spec: IndexSpec, attribute: str) -> IndexSpec:
    if spec.projection_type == "ALL" or attribute in spec.projected:
        return spec
    return dataclasses.replace(
        spec, projection_type="INCLUDE", projected=(*spec.projected, attribute)
    )
