"""DynamoDB's limits, checked against model items before anything is sent.

:mod:`dynamodb.core.limits` measures (item sizes, nesting, key and expression
lengths); this module knows the models: which attributes are keys of the table
and of its indexes, the Python names of fields, the item's key as plain values,
and how to say what is wrong. Every write is checked where it is prepared
(:mod:`dynamodb.models.persistence`: puts, updates, dirty saves and deletes, so
transactions too), every key where it is built (``Model._key_from_values``),
every batch before its first chunk (:func:`check_items`, :func:`each_within_limits`:
one error listing every bad item), every transaction's total as actions are added
(:func:`transaction_size`), and queries where they are planned.

Each check raises a :class:`~dynamodb.exceptions.LimitViolation` subclass
(``ItemTooLarge``, ``NestingTooDeep``, ``KeyTooLong``, ``ExpressionTooLong``,
``TransactionPayloadTooLarge``) naming the model, the item's key and the field.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from dynamodb.core.codec import AttributeValue, Item
from dynamodb.core.errors import (
    ExpressionTooLong,
    ItemTooLarge,
    KeyTooLong,
    LimitViolation,
    NestingTooDeep,
    TransactionPayloadTooLarge,
)
from dynamodb.core.expressions import BeginsWith, Between, Comparison, Condition
from dynamodb.core.limits import (
    MAX_EXPRESSION_BYTES,
    MAX_HASH_KEY_BYTES,
    MAX_ITEM_BYTES,
    MAX_NESTING_LEVELS,
    MAX_RANGE_KEY_BYTES,
    MAX_TRANSACTION_BYTES,
    item_size,
    key_size,
    largest_attributes,
    measure_item,
    nesting_levels,
    oversized_expressions,
    size_after_update,
    transaction_action_size,
    update_nesting_levels,
    value_size,
)
from dynamodb.core.planner import Target, conjuncts
from dynamodb.core.updates import UpdatePlan
from dynamodb.models.sealing import stored_original

if TYPE_CHECKING:
    from dynamodb.models.model import Model
    from dynamodb.models.schema import TableSchema

__all__ = [
    "KeyLimits",
    "check_delete",
    "check_expressions",
    "check_items",
    "check_key",
    "check_key_condition",
    "check_put",
    "check_update",
    "each_within_limits",
    "item_violations",
    "key_limits",
    "size_of",
    "transaction_size",
]

T = TypeVar("T")
E = TypeVar("E")

KeyLimits = dict[str, tuple[int, str]]
"""Attribute name -> (most bytes, what key it is: "the hash key", "the range key of
index 'by_email'" ...) for every table and index key attribute of a model."""

_KEY_KIND = {MAX_HASH_KEY_BYTES: "hash key", MAX_RANGE_KEY_BYTES: "range key"}


_KEY_LIMITS: weakref.WeakKeyDictionary[type[Any], tuple[TableSchema, KeyLimits]] = (
    weakref.WeakKeyDictionary()
)


def key_limits(cls: type[Model]) -> KeyLimits:
    """The key length limit of each key attribute of ``cls``'s table and indexes.

    An attribute that is keys in several places gets the tightest limit. Worked
    out once per model (and schema).
    """
    schema = cls._meta.require_table()
    known = _KEY_LIMITS.get(cls)
    if known is not None and known[0] is schema:
        return known[1]
    roles: list[tuple[str, int, str]] = [(schema.hash_key.name, MAX_HASH_KEY_BYTES, "the hash key")]
    if schema.range_key is not None:
        roles.append((schema.range_key.name, MAX_RANGE_KEY_BYTES, "the range key"))
    for spec in schema.indexes.values():
        where = f"of {'global' if spec.is_global else 'local'} index {spec.name!r}"
        roles.append((spec.hash_key.name, MAX_HASH_KEY_BYTES, f"the hash key {where}"))
        if spec.range_key is not None:
            roles.append((spec.range_key.name, MAX_RANGE_KEY_BYTES, f"the range key {where}"))
    limits: KeyLimits = {}
    for name, most, role in roles:
        if name not in limits or most < limits[name][0]:
            limits[name] = (most, role)
    _KEY_LIMITS[cls] = (schema, limits)
    return limits


# -- wording ---------------------------------------------------------------------------


def _bytes(count: int) -> str:
    return f"{count:,} bytes"


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else f"{shown[:50]}...{shown[-6:]}"


def _shown_key(key: Mapping[str, Any] | None) -> str:
    if key is None:
        return ""
    return "{" + ", ".join(f"{name!r}: {_short(value)}" for name, value in key.items()) + "}"


def _attr(cls: type[Model], name: str) -> str:
    """The Python name of the field stored as ``name`` (``name`` itself if none is)."""
    field = cls._meta.fields_by_name.get(name)
    return field.attr if field is not None else name


def _plain_key(cls: type[Model], key: Item) -> dict[str, Any]:
    """A wire key as ``{python name: value}``."""
    plain: dict[str, Any] = {}
    for field in cls._meta.key_fields:
        raw = key.get(field.name)
        plain[field.attr] = field.from_wire(raw) if raw is not None else None
    return plain


def _where(cls: type[Model], key: Mapping[str, Any] | None) -> str:
    return f"{cls.__name__} {_shown_key(key)}" if key is not None else cls.__name__


# -- single findings -------------------------------------------------------------------


def _may_be_too_long(value: AttributeValue | None, most: int) -> bool:
    """Whether a key value might be over ``most`` bytes (False: it certainly is not)."""
    if value is None:
        return False
    raw = value.get("S", value.get("B"))  # (a number key is at most 21 bytes)
    return raw is not None and len(raw) * 4 > most  # even four-byte characters fit


def _key_violation(
    cls: type[Model],
    key: dict[str, Any] | None,
    name: str,
    value: AttributeValue,
    limits: KeyLimits,
    how: str = "holds",
) -> KeyTooLong | None:
    """KeyTooLong if ``value`` is too long for key attribute ``name`` (None if it fits)."""
    found = limits.get(name)
    if found is None or not _may_be_too_long(value, found[0]):
        return None
    size = key_size(value)
    most, role = found
    if size <= most:
        return None
    attr = _attr(cls, name)
    kind = _KEY_KIND[most]
    return KeyTooLong(
        f"{_where(cls, key)}: {attr}, {role}, {how} {_bytes(size)}, over DynamoDB's limit of "
        f"{_bytes(most)} for a {kind}",
        model=cls.__name__,
        field=attr,
        value=_short(value.get("S", value.get("B"))),
        limit=kind,
        size=size,
        maximum=most,
        key=key,
    )


def _nesting_violation(
    cls: type[Model], key: dict[str, Any] | None, name: str, levels: int, value: AttributeValue
) -> NestingTooDeep:
    attr = _attr(cls, name)
    return NestingTooDeep(
        f"{_where(cls, key)}: {attr} nests {levels} levels deep, over DynamoDB's limit of "
        f"{MAX_NESTING_LEVELS} (a top-level attribute is level 1, each map or list inside "
        "adds one)",
        model=cls.__name__,
        field=attr,
        value=_short(value),
        limit="nesting",
        size=levels,
        maximum=MAX_NESTING_LEVELS,
        key=key,
    )


def _size_violation(
    cls: type[Model],
    key: dict[str, Any],
    what: str,
    size: int,
    largest: list[tuple[str, int]],
    parts: str = "attributes",
) -> ItemTooLarge:
    named = ", ".join(f"{_attr(cls, name)} {_bytes(bytes_)}" for name, bytes_ in largest)
    return ItemTooLarge(
        f"{_where(cls, key)}: {what} {_bytes(size)}, over DynamoDB's item size limit of "
        f"{_bytes(MAX_ITEM_BYTES)} (400 KB); largest {parts}: {named}",
        model=cls.__name__,
        field=_attr(cls, largest[0][0]) if largest else "",
        value=size,
        limit="item size",
        size=size,
        maximum=MAX_ITEM_BYTES,
        key=key,
    )


def _expression_violations(
    cls: type[Model], request: Mapping[str, Any], item: Model | None, key: dict[str, Any] | None
) -> list[LimitViolation]:
    """ExpressionTooLong for each expression over 4 KB (of ``item``, or of ``key``)."""
    oversized = oversized_expressions(request)
    if oversized and item is not None:
        key = item.get_primary_key_dict()
    return [
        ExpressionTooLong(
            f"{_where(cls, key)}: the {parameter} is {_bytes(size)}, over DynamoDB's limit of "
            f"{_bytes(MAX_EXPRESSION_BYTES)} (4 KB) for an expression; fewer conditions or "
            "actions per request make it shorter",
            model=cls.__name__,
            field=parameter,
            value=_short(request[parameter]),
            limit="expression",
            size=size,
            maximum=MAX_EXPRESSION_BYTES,
            key=key,
        )
        for parameter, size in oversized
    ]


def _raise(violations: list[LimitViolation]) -> None:
    if not violations:
        return
    if len(violations) == 1:
        raise violations[0]
    raise _combined(violations, "; ".join(str(found) for found in violations))


def _combined(violations: list[LimitViolation], message: str) -> LimitViolation:
    """One error for several findings: of their common class, details of the first."""
    kinds = {type(found) for found in violations}
    kind = kinds.pop() if len(kinds) == 1 else LimitViolation
    first = violations[0]
    return kind(
        message,
        model=first.model,
        field=first.field,
        value=first.value,
        limit=first.limit,
        size=first.size,
        maximum=first.maximum,
        key=first.key,
        violations=violations,
    )


# -- items and writes ------------------------------------------------------------------


def item_violations(
    item: Model, wire: Item, limits: KeyLimits | None = None
) -> list[LimitViolation]:
    """What is wrong with writing ``wire`` (``item`` encoded) whole: size, nesting, keys."""
    cls = type(item)
    limits = key_limits(cls) if limits is None else limits
    total, deepest = measure_item(wire)
    if total <= MAX_ITEM_BYTES and deepest <= MAX_NESTING_LEVELS:
        for name, (most, _) in limits.items():
            if _may_be_too_long(wire.get(name), most):
                break
        else:
            return []  # the usual case, told without building anything
    key = item.get_primary_key_dict()
    found: list[LimitViolation] = []
    if total > MAX_ITEM_BYTES:
        found.append(_size_violation(cls, key, "the item is", total, largest_attributes(wire)))
    for name in limits:
        value = wire.get(name)
        too_long = None if value is None else _key_violation(cls, key, name, value, limits)
        if too_long is not None:
            found.append(too_long)
    if deepest > MAX_NESTING_LEVELS:  # (rare: then find each attribute that is too deep)
        for name, value in wire.items():
            levels = nesting_levels(value)
            if levels > MAX_NESTING_LEVELS:
                found.append(_nesting_violation(cls, key, name, levels, value))
    return found


def check_put(item: Model, request: Mapping[str, Any]) -> None:
    """Raise a LimitViolation if the PutItem ``request`` of ``item`` breaks a limit."""
    found = item_violations(item, request["Item"])
    found += _expression_violations(type(item), request, item, None)
    _raise(found)


def check_update(item: Model, plan: UpdatePlan, request: Mapping[str, Any]) -> None:
    """Raise a LimitViolation if the UpdateItem ``request`` (``plan``'s actions) breaks a limit.

    Checks every value's nesting where it lands, index keys set to values too long,
    the expressions, and the item's size afterwards: exactly for an item read whole
    (its stored form is known), and as a lower bound otherwise (see
    :func:`~dynamodb.core.limits.size_after_update`).
    """
    cls = type(item)
    key = item.get_primary_key_dict()
    limits = key_limits(cls)
    found: list[LimitViolation] = []
    for action in plan:
        name = action.path.attribute
        value = action.value
        if value is None:
            continue
        if len(action.path.elements) == 1 and action.kind in ("set", "set_if_not_exists"):
            too_long = _key_violation(cls, key, name, value, limits)
            if too_long is not None:
                found.append(too_long)
        levels = update_nesting_levels(action)
        if levels > MAX_NESTING_LEVELS:
            found.append(_nesting_violation(cls, key, name, levels, value))
    original = stored_original(item)
    complete = original is not None and getattr(item, "_projection", None) is None
    base = original if original is not None else request["Key"]
    size = size_after_update(base, plan, complete=complete)
    if size > MAX_ITEM_BYTES:
        changes = sorted(
            (
                (action.path.attribute, value_size(action.value))
                for action in plan
                if action.value is not None
            ),
            key=lambda entry: entry[1],
            reverse=True,
        )
        what = "this update would make the item" + ("" if complete else " at least")
        found.insert(0, _size_violation(cls, key, what, size, changes[:3], "changes"))
    found += _expression_violations(cls, request, None, key)
    _raise(found)


def check_delete(item: Model, request: Mapping[str, Any]) -> None:
    """Raise ExpressionTooLong if the DeleteItem ``request``'s condition is over 4 KB."""
    _raise(_expression_violations(type(item), request, item, None))


def check_key(cls: type[Model], key: Item) -> None:
    """Raise KeyTooLong if a value of the table key ``key`` (wire) is too long."""
    limits: KeyLimits | None = None
    for name, value in key.items():
        raw = value.get("S", value.get("B"))
        if raw is None or len(raw) * 4 <= MAX_RANGE_KEY_BYTES:
            continue  # the usual case, told without building the limits
        limits = key_limits(cls) if limits is None else limits
        too_long = _key_violation(cls, _plain_key(cls, key), name, value, limits)
        if too_long is not None:
            raise too_long


def check_expressions(
    cls: type[Model], request: Mapping[str, Any], key: dict[str, Any] | None = None
) -> None:
    """Raise ExpressionTooLong if an expression of ``request`` (a query, a scan, a
    condition check) is over 4 KB; ``key`` names the item, if there is one."""
    _raise(_expression_violations(cls, request, None, key))


def check_key_condition(cls: type[Model], target: Target, condition: Condition) -> None:
    """Raise KeyTooLong if a query compares a key with a value no key can hold.

    DynamoDB refuses range key values over 1,024 bytes in a key condition; a hash
    key over 2,048 bytes can match nothing. Either is a mistake, told before sending.
    """
    limits: KeyLimits = {target.hash_key.name: (MAX_HASH_KEY_BYTES, "the hash key")}
    if target.range_key is not None:
        limits[target.range_key.name] = (MAX_RANGE_KEY_BYTES, "the range key")
    if target.name is not None:
        where = f"of {'global' if target.is_global else 'local'} index {target.name!r}"
        limits = {name: (most, f"{role} {where}") for name, (most, role) in limits.items()}
    found: list[LimitViolation] = []
    for part in conjuncts([condition]):
        values: tuple[AttributeValue, ...]
        if isinstance(part, Comparison):
            name, values = part.path.attribute, (part.value,)
        elif isinstance(part, Between):
            name, values = part.path.attribute, (part.low, part.high)
        elif isinstance(part, BeginsWith):
            name, values = part.path.attribute, (part.prefix,)
        else:
            continue
        for value in values:
            too_long = _key_violation(cls, None, name, value, limits, "is compared with")
            if too_long is not None:
                found.append(too_long)
    _raise(found)


# -- batches and transactions ---------------------------------------------------------


def check_items(
    cls: type[Model], call: str, instances: Iterable[Model], wires: Iterable[Item]
) -> None:
    """Raise one LimitViolation listing every item of a batch that breaks a limit.

    ``wires`` are the ``instances`` encoded, as they would be written whole.
    """
    limits = key_limits(cls)
    found: list[LimitViolation] = []
    total = 0
    for instance, wire in zip(instances, wires, strict=True):
        total += 1
        found.extend(item_violations(instance, wire, limits))
    _raise_all(cls, call, found, total)


def each_within_limits(
    cls: type[Model], call: str, entries: Iterable[E], convert: Callable[[E], T]
) -> list[T]:
    """``[convert(entry) ...]``, once every entry is within DynamoDB's limits.

    ``convert`` (building a key, say) raises a LimitViolation for an entry that is
    not; they are all gathered into one error listing every bad entry's key.
    """
    results: list[T] = []
    found: list[LimitViolation] = []
    total = 0
    for entry in entries:
        total += 1
        try:
            results.append(convert(entry))
        except LimitViolation as error:
            found.extend(error.violations)
    _raise_all(cls, call, found, total)
    return results


def _raise_all(cls: type[Model], call: str, found: list[LimitViolation], total: int) -> None:
    if not found:
        return
    bad = len({repr(violation.key) for violation in found})
    lines = "".join(f"\n  - {violation}" for violation in found)
    raise _combined(
        found,
        f"{cls.__name__}.{call}: {bad} of {total} items are over DynamoDB's limits, so "
        f"nothing was sent (their keys: .keys):{lines}",
    )


def transaction_size(
    total: int, params: Mapping[str, Any], label: str, cls: type[Model], key: dict[str, Any]
) -> int:
    """The transaction's size with one more action (``params``), or TransactionPayloadTooLarge.

    ``total`` is what the actions already in it add up to; ``label`` names the
    action ("put Doc {...}") in the error.
    """
    size = transaction_action_size(params)
    if total + size <= MAX_TRANSACTION_BYTES:
        return total + size
    raise TransactionPayloadTooLarge(
        f"transaction: {label} ({_bytes(size)}) would make it {_bytes(total + size)}, over "
        f"DynamoDB's limit of {_bytes(MAX_TRANSACTION_BYTES)} (4 MB) for one transaction; "
        "nothing was sent: commit what it holds and write the rest in another one",
        model=cls.__name__,
        field="TransactItems",
        value=total + size,
        limit="transaction size",
        size=total + size,
        maximum=MAX_TRANSACTION_BYTES,
        key=key,
    )


def size_of(item: Model) -> int:
    """``item``'s size in bytes by DynamoDB's rules (see :meth:`Model.size`)."""
    return item_size(item._to_wire_map())
