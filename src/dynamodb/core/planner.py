"""Choosing where a query runs (table, LSI or GSI) and splitting its conditions.

Pure logic over a model's :class:`~dynamodb.models.schema.TableSchema` and a list of
conditions; no I/O.

**Automatic index selection.** A target (the table or one of its indexes) can
run a query when the conditions hold an equality on its hash key. Among those,
the planner prefers, in order:

1. a target whose range key also has a usable condition (``eq lt lte gt gte
   between begins_with``) — it reads fewer items;
2. the table, then local indexes, then global indexes, each in declaration
   order — the table and LSIs allow consistent reads and have every attribute.

Global indexes that do not project an attribute the query filters on (or asks
for) are skipped, because DynamoDB would silently see that attribute as missing.
Local indexes fetch unprojected attributes asked for from the table, but cannot
filter on them (DynamoDB refuses the query), so they are skipped for such filters.
``consistent()`` rules global indexes out, and ``order_by(field)`` keeps only
targets whose range key is that field. When nothing fits, :class:`NoIndexForQuery`
says which condition each target would need, or suggests a scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dynamodb.core.errors import NoIndexForQuery, QueryError
from dynamodb.core.expressions import And, BeginsWith, Between, Comparison, Condition, and_all

if TYPE_CHECKING:
    from dynamodb.models.fields import Field
    from dynamodb.models.schema import TableSchema

__all__ = ["NoIndexForQuery", "QueryError", "QueryPlan", "Target", "plan_query", "targets_of"]

_RANGE_OPERATORS = {"eq", "lt", "lte", "gt", "gte"}


@dataclass(frozen=True)
class Target:
    """Where a query reads: the table (``name`` None) or one of its indexes."""

    name: str | None
    hash_key: Field[Any]
    range_key: Field[Any] | None
    is_global: bool
    projection_type: str
    projected: frozenset[str]

    @property
    def label(self) -> str:
        if self.name is None:
            return "the table"
        return f"{'global' if self.is_global else 'local'} index {self.name!r}"

    def key_names(self) -> tuple[str, ...]:
        if self.range_key is None:
            return (self.hash_key.name,)
        return (self.hash_key.name, self.range_key.name)

    def covers(self, names: Iterable[str]) -> bool:
        """Whether every attribute in ``names`` is in this target's items."""
        if self.projection_type == "ALL":
            return True
        return all(name in self.projected for name in names)


def targets_of(schema: TableSchema) -> list[Target]:
    """The table, then its indexes in declaration order."""
    table_keys = frozenset(field.name for field in schema.key_fields)
    found = [
        Target(None, schema.hash_key, schema.range_key, False, "ALL", table_keys),
    ]
    for spec in schema.indexes.values():
        keys = {spec.hash_key.name} | ({spec.range_key.name} if spec.range_key else set())
        found.append(
            Target(
                spec.name,
                spec.hash_key,
                spec.range_key,
                spec.is_global,
                spec.projection_type,
                frozenset(table_keys | keys | set(spec.projected)),
            )
        )
    return found


def find_target(schema: TableSchema, index: Field[Any] | str | None) -> Target:
    """The target named by ``use_index``: None (the table), an index name, or a field."""
    all_targets = targets_of(schema)
    if index is None:
        return all_targets[0]
    for target in all_targets[1:]:
        if isinstance(index, str) and target.name == index:
            return target
        if not isinstance(index, str) and not target.is_global and target.range_key is index:
            return target
    if not isinstance(index, str) and index is not schema.hash_key:
        # A field that only some index uses as a key names that index; the
        # table's hash key is every local index's hash key, so it names none.
        for target in all_targets[1:]:
            if target.range_key is index or target.hash_key is index:
                return target
    names = ", ".join(repr(target.name) for target in all_targets[1:]) or "none"
    raise QueryError(f"{schema.model_name} has no index {index!r} (its indexes: {names})")


def conjuncts(conditions: Sequence[Condition]) -> list[Condition]:
    """The top-level ANDed parts of ``conditions``."""
    parts: list[Condition] = []
    for condition in conditions:
        if isinstance(condition, And):
            parts.extend(conjuncts(condition.parts))
        else:
            parts.append(condition)
    return parts


def _attribute_of(condition: Condition) -> str | None:
    """The top-level attribute a key-usable condition compares, else None."""
    if isinstance(condition, (Comparison, Between, BeginsWith)):
        if len(condition.path.elements) != 1:
            return None
        if isinstance(condition, Comparison) and condition.operator not in _RANGE_OPERATORS:
            return None
        return condition.path.attribute
    return None


def _is_equality(condition: Condition) -> bool:
    return isinstance(condition, Comparison) and condition.operator == "eq"


@dataclass(frozen=True)
class QueryPlan:
    """Where to read, the KeyConditionExpression, and the FilterExpression."""

    target: Target
    key_condition: Condition
    filter: Condition | None


def _referenced(parts: Sequence[Condition]) -> set[str]:
    return {path.attribute for part in parts for path in part.paths()}


def _explain(schema: TableSchema, parts: Sequence[Condition], reasons: list[str]) -> str:
    compared = sorted(_referenced(parts)) or ["nothing"]
    lines = [
        f"no key of {schema.model_name} fits this query (it has conditions on "
        f"{', '.join(compared)}):"
    ]
    lines.extend(f"  - {reason}" for reason in reasons)
    lines.append(f"  or read everything with {schema.model_name}.scan().where(...)")
    return "\n".join(lines)


def plan_query(
    schema: TableSchema,
    conditions: Sequence[Condition],
    *,
    index: Field[Any] | str | bool | None = True,
    order_field: Field[Any] | None = None,
    consistent: bool = False,
    wanted: Iterable[str] = (),
) -> QueryPlan:
    """Pick the target and split the conditions. ``index=True`` chooses automatically."""
    parts = conjuncts(conditions)
    needed = _referenced(parts) | set(wanted)
    if index is True:
        target = _choose(schema, parts, order_field, consistent, needed)
    else:
        target = find_target(schema, index if index is not False else None)
        _check_explicit(schema, target, parts, order_field, consistent, needed)
    return _split(schema, target, parts)


def _hash_condition(target: Target, parts: Sequence[Condition]) -> Condition | None:
    for part in parts:
        if _is_equality(part) and _attribute_of(part) == target.hash_key.name:
            return part
    return None


def _range_conditions(target: Target, parts: Sequence[Condition]) -> list[Condition]:
    if target.range_key is None:
        return []
    name = target.range_key.name
    return [part for part in parts if _attribute_of(part) == name]


def _choose(
    schema: TableSchema,
    parts: Sequence[Condition],
    order_field: Field[Any] | None,
    consistent: bool,
    needed: set[str],
) -> Target:
    best: tuple[bool, int, Target] | None = None
    reasons: list[str] = []
    for position, target in enumerate(targets_of(schema)):
        why_not = _unfit(target, parts, order_field, consistent, needed)
        if why_not:
            reasons.append(f"{target.label} needs {why_not}")
            continue
        score = (bool(_range_conditions(target, parts)), -position, target)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None:
        raise NoIndexForQuery(_explain(schema, parts, reasons))
    return best[2]


def _unfit(
    target: Target,
    parts: Sequence[Condition],
    order_field: Field[Any] | None,
    consistent: bool,
    needed: set[str],
) -> str | None:
    if _hash_condition(target, parts) is None:
        return f"an eq() condition on {target.hash_key.attr} ({target.hash_key.name!r})"
    if order_field is not None and target.range_key is not order_field:
        return f"to be ordered by its range key, not {order_field.attr}"
    if consistent and target.is_global:
        return "no consistent(): global indexes cannot read consistently"
    if target.is_global and not target.covers(needed):
        missing = sorted(name for name in needed if name not in target.projected)
        return f"the attributes {missing} projected (it has {target.projection_type})"
    filtered = _referenced(parts)
    if not target.is_global and not target.covers(filtered):
        # A local index fetches unprojected attributes for results, not for filters:
        # DynamoDB refuses such a filter (ValidationException).
        missing = sorted(name for name in filtered if name not in target.projected)
        return f"the filtered attributes {missing} projected (it has {target.projection_type})"
    return None


def _check_explicit(
    schema: TableSchema,
    target: Target,
    parts: Sequence[Condition],
    order_field: Field[Any] | None,
    consistent: bool,
    needed: set[str],
) -> None:
    why_not = _unfit(target, parts, order_field, consistent, needed)
    if why_not:
        raise QueryError(f"{schema.model_name}: querying {target.label} needs {why_not}")


def _split(schema: TableSchema, target: Target, parts: Sequence[Condition]) -> QueryPlan:
    hash_condition = _hash_condition(target, parts)
    assert hash_condition is not None
    ranged = _range_conditions(target, parts)
    if len(ranged) > 1 and target.range_key is not None:
        raise QueryError(
            f"{schema.model_name}: {len(ranged)} conditions on the range key "
            f"{target.range_key.attr}; a query takes one (combine them with between())"
        )
    key_parts = [hash_condition, *ranged]
    rest = [part for part in parts if all(part is not used for used in key_parts)]
    key_names = set(target.key_names())
    for part in rest:
        clash = key_names & {path.attribute for path in part.paths()}
        if clash:
            raise QueryError(
                f"{schema.model_name}: the condition on {sorted(clash)} cannot be used here: "
                f"those are key attributes of {target.label}, which a query can only compare "
                "in its key condition (one eq() on the hash key, one comparison on the range key)"
            )
    key_condition = and_all(key_parts)
    assert key_condition is not None
    return QueryPlan(target, key_condition, and_all(rest))
