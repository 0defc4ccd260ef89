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
from dynamodb.core.templates import HIGHEST, BoundTemplate

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
    needed = set(wanted)
    if index is True:
        target = _choose(schema, parts, order_field, consistent, needed)
    else:
        target = find_target(schema, index if index is not False else None)
        _check_explicit(schema, target, parts, order_field, consistent, needed)
    return _split(schema, target, parts)


@dataclass(frozen=True)
class _KeyParts:
    """What a target's key condition would be made of, for given conditions.

    ``used`` are the conditions the key condition holds exactly (left out of the
    filter). ``order`` is the attribute whose order the range key follows: the
    range key's own, or the first part of its template that no eq() binds.
    """

    hash_condition: Condition
    range_conditions: tuple[Condition, ...]
    used: tuple[Condition, ...]
    order: str | None
    fixed: frozenset[str] = frozenset()
    """Attributes of range-key template parts that eq() conditions fix (any order holds)."""


def _equalities(parts: Sequence[Condition]) -> dict[str, Comparison]:
    found: dict[str, Comparison] = {}
    for part in parts:
        if _is_equality(part):
            attribute = _attribute_of(part)
            assert isinstance(part, Comparison)
            if attribute is not None:
                found.setdefault(attribute, part)
    return found


def _template_of(key: Field[Any] | None) -> BoundTemplate | None:
    return getattr(key, "bound_template", None) if key is not None else None


def _hash_condition(target: Target, parts: Sequence[Condition]) -> _KeyParts | None:
    """The hash key's eq(): given directly, or built from eq() on every part of its template."""
    key = target.hash_key
    equal = _equalities(parts)
    direct = equal.get(key.name)
    if direct is not None:
        return _KeyParts(direct, (), (direct,), None)
    bound = _template_of(key)
    if bound is None:
        return None
    texts: dict[str, str] = {}
    used: list[Condition] = []
    for attribute, name in bound.attributes.items():
        condition = equal.get(attribute)
        if condition is None:
            return None
        texts[name] = bound.text(name, condition.value)
        used.append(condition)
    rendered = Comparison(key.path, "eq", {"S": bound.template.render(texts)})
    return _KeyParts(rendered, (), tuple(used), None)


def _missing_hash_parts(target: Target) -> str:
    key = target.hash_key
    bound = _template_of(key)
    if bound is None:
        return f"an eq() condition on {key.attr} ({key.name!r})"
    names = ", ".join(bound.template.names) or "nothing"
    return f"eq() conditions on {names} (its hash key {key.attr} is {bound.template.source!r})"


def _range_conditions(target: Target, parts: Sequence[Condition]) -> list[Condition]:
    if target.range_key is None:
        return []
    name = target.range_key.name
    return [part for part in parts if _attribute_of(part) == name]


def _key_parts(target: Target, parts: Sequence[Condition]) -> _KeyParts | None:
    """The key condition ``target`` can take from ``parts`` (None: no hash key condition)."""
    hashed = _hash_condition(target, parts)
    if hashed is None:
        return None
    key = target.range_key
    if key is None:
        return hashed
    direct = _range_conditions(target, parts)
    bound = _template_of(key)
    if direct or bound is None:
        return _KeyParts(hashed.hash_condition, tuple(direct), (*hashed.used, *direct), key.name)
    ranged, used, order = _templated_range(key, bound, parts)
    fixed = frozenset(path.attribute for condition in used for path in condition.paths())
    return _KeyParts(hashed.hash_condition, ranged, (*hashed.used, *used), order, fixed)


def _templated_range(
    key: Field[Any], bound: BoundTemplate, parts: Sequence[Condition]
) -> tuple[tuple[Condition, ...], tuple[Condition, ...], str | None]:
    """The range key condition built from conditions on its template's parts.

    eq() on leading parts narrows to their prefix (``begins_with``, or ``=`` when every
    part is bound); one range condition on the next part becomes a BETWEEN inside that
    prefix. The range condition also stays in the filter, which keeps the results exact
    whatever the parts' text sorts like; the eq() conditions are held by the key.
    """
    template = bound.template
    by_name = {name: attribute for attribute, name in bound.attributes.items()}
    equal = _equalities(parts)
    texts: dict[str, str] = {}
    used: list[Condition] = []
    for part in template.parts:
        condition = equal.get(by_name[part.name])
        if condition is None:
            break
        texts[part.name] = bound.text(part.name, condition.value)
        used.append(condition)
    prefix, count = template.bound_prefix(texts)
    if count == len(template.parts):
        return (Comparison(key.path, "eq", {"S": prefix}),), tuple(used), None
    following = template.parts[count]
    attribute = by_name[following.name]
    ranged = [part for part in parts if _attribute_of(part) == attribute and not _is_equality(part)]
    if len(ranged) > 1:
        raise QueryError(
            f"{len(ranged)} range conditions on {following.name}, which is part of "
            f"{key.attr} ({template.source!r}); a query takes one (combine them with between())"
        )
    if ranged:
        bounds = _part_bounds(bound, following.name, prefix, ranged[0])
        if bounds is not None:
            low, high = bounds
            if not low:  # DynamoDB refuses an empty string in a key condition
                return (Comparison(key.path, "lte", {"S": high}),), tuple(used), attribute
            return (Between(key.path, {"S": low}, {"S": high}),), tuple(used), attribute
    if not prefix:
        return (), tuple(used), attribute
    return (BeginsWith(key.path, {"S": prefix}),), tuple(used), attribute


def _part_bounds(
    bound: BoundTemplate, name: str, prefix: str, condition: Condition
) -> tuple[str, str] | None:
    """Both ends (inclusive) of the templated attribute for a range condition on a part."""
    if isinstance(condition, Between):
        low = bound.text(name, condition.low)
        high = bound.text(name, condition.high)
        return prefix + low, prefix + high + HIGHEST
    if isinstance(condition, BeginsWith):
        start = condition.prefix.get("S")
        if not isinstance(start, str):
            return None
        return prefix + start, prefix + start + HIGHEST
    assert isinstance(condition, Comparison)
    text = bound.text(name, condition.value)
    if condition.operator in ("gt", "gte"):
        return prefix + text, prefix + HIGHEST
    return prefix, prefix + text + HIGHEST


def _choose(
    schema: TableSchema,
    parts: Sequence[Condition],
    order_field: Field[Any] | None,
    consistent: bool,
    wanted: set[str],
) -> Target:
    best: tuple[bool, int, Target] | None = None
    reasons: list[str] = []
    for position, target in enumerate(targets_of(schema)):
        why_not = _unfit(target, parts, order_field, consistent, wanted)
        if why_not:
            reasons.append(f"{target.label} needs {why_not}")
            continue
        keyed = _key_parts(target, parts)
        assert keyed is not None
        score = (bool(keyed.range_conditions), -position, target)
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
    wanted: set[str],
) -> str | None:
    keyed = _key_parts(target, parts)
    if keyed is None:
        return _missing_hash_parts(target)
    ordered = order_field is None or target.range_key is order_field
    if (
        order_field is not None
        and not ordered
        and keyed.order != order_field.name
        and order_field.name not in keyed.fixed
    ):
        return f"to be ordered by its range key, not {order_field.attr}"
    if consistent and target.is_global:
        return "no consistent(): global indexes cannot read consistently"
    filtered = _referenced(_unused(parts, keyed.used))
    needed = filtered | wanted
    if target.is_global and not target.covers(needed):
        missing = sorted(name for name in needed if name not in target.projected)
        return f"the attributes {missing} projected (it has {target.projection_type})"
    if not target.is_global and not target.covers(filtered):
        # A local index fetches unprojected attributes for results, not for filters:
        # DynamoDB refuses such a filter (ValidationException).
        missing = sorted(name for name in filtered if name not in target.projected)
        return f"the filtered attributes {missing} projected (it has {target.projection_type})"
    return None


def _unused(parts: Sequence[Condition], used: Sequence[Condition]) -> list[Condition]:
    return [part for part in parts if all(part is not taken for taken in used)]


def _check_explicit(
    schema: TableSchema,
    target: Target,
    parts: Sequence[Condition],
    order_field: Field[Any] | None,
    consistent: bool,
    wanted: set[str],
) -> None:
    why_not = _unfit(target, parts, order_field, consistent, wanted)
    if why_not:
        raise QueryError(f"{schema.model_name}: querying {target.label} needs {why_not}")


def _split(schema: TableSchema, target: Target, parts: Sequence[Condition]) -> QueryPlan:
    keyed = _key_parts(target, parts)
    assert keyed is not None
    ranged = keyed.range_conditions
    if len(ranged) > 1 and target.range_key is not None:
        raise QueryError(
            f"{schema.model_name}: {len(ranged)} conditions on the range key "
            f"{target.range_key.attr}; a query takes one (combine them with between())"
        )
    rest = _unused(parts, keyed.used)
    key_names = set(target.key_names())
    for part in rest:
        clash = key_names & {path.attribute for path in part.paths()}
        if clash:
            raise QueryError(
                f"{schema.model_name}: the condition on {sorted(clash)} cannot be used here: "
                f"those are key attributes of {target.label}, which a query can only compare "
                "in its key condition (one eq() on the hash key, one comparison on the range key)"
            )
    key_condition = and_all([keyed.hash_condition, *ranged])
    assert key_condition is not None
    return QueryPlan(target, key_condition, and_all(rest))
