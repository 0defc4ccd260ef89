"""Unique fields: a guard item per value, written in the same transaction as the item.

``email = CharField(unique=True)`` keeps, for every stored value, a guard item
in the model's own table whose key is ``UNIQUE#<entity>#<attribute>#<value>``
(in the hash key, and in the range key when the table has one). A write that
takes a value puts its guard only if no guard exists; one that frees a value
deletes its guard; the item's own write carries a condition that the values it
frees are still the stored ones. All of it is one TransactWriteItems, so a taken
value raises :class:`~dynamodb.UniqueViolation` and nothing is written, and no
guard is ever left without its item.

What the stored item holds is known when it was read (``item._original``);
otherwise it is read first (a consistent GetItem of the unique attributes), and
the write is conditional on it being unchanged: if another writer got in
between, the read and the transaction are tried again.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dynamodb.core.codec import AttributeValue, Item, wire_equal
from dynamodb.core.errors import (
    ConcurrentModification,
    ConditionalCheckFailed,
    InvalidArgument,
    ModelDefinitionError,
    TransactionCanceled,
    UniqueViolation,
)
from dynamodb.core.expressions import (
    AttributeNotExists,
    Comparison,
    Condition,
    Or,
    Path,
    Placeholders,
    and_all,
    extend_condition,
)
from dynamodb.core.flow import Flow, call, sleep

if TYPE_CHECKING:
    from dynamodb.models.fields import Field
    from dynamodb.models.options import ModelOptions

__all__ = [
    "GUARD_ENTITY",
    "UniqueChange",
    "check_unique_fields",
    "guard_actions",
    "read_stored",
    "refuse_unknowable",
    "run_guarded",
    "violation",
]

GUARD_ENTITY = "_unique"
"""The entity attribute's value on guard items (no model claims it, so reads skip them)."""

_ATTEMPTS = 5
"""How often a write whose stored values changed under it (or whose transaction met another
one on the same item) is tried again."""
_CONFLICT_DELAY = 0.02
"""Seconds: the first backoff after a TransactionConflict (doubled per attempt, jittered)."""


def check_unique_fields(meta: ModelOptions) -> None:
    """ModelDefinitionError for a unique field that cannot have guards."""
    schema = meta.schema
    if schema is None or not meta.unique_fields:
        return
    for field in meta.unique_fields:
        where = f"model {meta.name}: field {field.attr} (unique=True)"
        if field.is_key or field.template is not None:
            raise ModelDefinitionError(
                f"{where}: a key or templated field is unique by itself; unique=True is for "
                "other fields"
            )
        if field.key_type not in ("S", "N"):
            raise ModelDefinitionError(
                f"{where}: unique values are strings or numbers, not {type(field).__name__}"
            )
    for key in schema.key_fields:
        if key.key_type != "S":
            raise ModelDefinitionError(
                f"model {meta.name}: unique fields keep guard items in the table, whose keys "
                f"must then be strings; {key.attr} is {key.key_type}"
            )


@dataclass
class UniqueChange:
    """What a write does to a model's unique values.

    ``new`` maps the stored names of unique attributes the write sets to their new
    values (None: removed); None for a delete, which frees every value. ``old``
    holds the stored values (None: not known, read them first). ``exists``: whether
    the item is stored (when ``old`` is known).
    """

    meta: ModelOptions
    key: Item
    new: dict[str, AttributeValue | None] | None
    old: dict[str, AttributeValue | None] | None
    exists: bool = True


def _text(value: AttributeValue) -> str:
    scalar = value.get("S", value.get("N"))
    assert isinstance(scalar, str)
    return scalar


def _guard_key(meta: ModelOptions, field: Field[Any], value: AttributeValue) -> Item:
    owner = field.origin.owner
    entity = owner._meta.entity if owner is not None else meta.entity
    text = {"S": f"UNIQUE#{entity}#{field.name}#{_text(value)}"}
    return {key.name: text for key in meta.key_fields}


def _by_name(meta: ModelOptions) -> dict[str, Field[Any]]:
    return {field.name: field for field in meta.unique_fields}


def guard_actions(
    change: UniqueChange, old: Mapping[str, AttributeValue | None]
) -> tuple[list[dict[str, Any]], list[tuple[Field[Any], AttributeValue]], Condition | None]:
    """The guard actions of a write, the (field, value) each taken guard is for, and the
    condition the item's own write needs (its freed values are still the stored ones)."""
    meta = change.meta
    table = meta.table_name
    attribute = meta.entity_attribute
    actions: list[dict[str, Any]] = []
    taken: list[tuple[Field[Any], AttributeValue]] = []
    holds: list[Condition] = []
    fields = _by_name(meta)
    new = change.new if change.new is not None else dict.fromkeys(fields)
    hash_name = meta.key_fields[0].name
    for name, value in new.items():
        field = fields[name]
        before = old.get(name)
        if before is not None and value is not None and wire_equal(before, value):
            continue
        if before is not None:
            holds.append(Comparison(field.path, "eq", before))
            placeholders = Placeholders()
            mine = Or(
                (
                    AttributeNotExists(Path.of(hash_name)),
                    Comparison(Path.of("owner"), "eq", {"M": change.key}),
                )
            )
            body: dict[str, Any] = {
                "TableName": table,
                "Key": _guard_key(meta, field, before),
                "ConditionExpression": mine.render(placeholders),
            }
            actions.append({"Delete": placeholders.apply(body)})
        elif change.exists:
            holds.append(AttributeNotExists(field.path))
        if value is not None:
            placeholders = Placeholders()
            guard = {
                **_guard_key(meta, field, value),
                attribute: {"S": GUARD_ENTITY},
                "owner": {"M": change.key},
            }
            body = {
                "TableName": table,
                "Item": guard,
                "ConditionExpression": AttributeNotExists(Path.of(hash_name)).render(placeholders),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            actions.append({"Put": placeholders.apply(body)})
            taken.append((field, value))
    if not change.exists:
        holds = [AttributeNotExists(Path.of(hash_name))]
    return actions, taken, and_all(holds)


def _read_stored(change: UniqueChange) -> Flow[tuple[dict[str, AttributeValue | None], bool]]:
    meta = change.meta
    names = [field.name for field in meta.unique_fields]
    placeholders = Placeholders()
    request = {
        "TableName": meta.table_name,
        "Key": change.key,
        "ConsistentRead": True,
        "ProjectionExpression": placeholders.projection(
            [*names, *(key.name for key in meta.key_fields)]
        ),
    }
    placeholders.apply(request)
    found: Item | None = (yield from call("GetItem", request)).get("Item")
    if found is None:
        return dict.fromkeys(names), False
    return {name: found.get(name) for name in names}, True


def run_guarded(action: dict[str, Any], change: UniqueChange, explain: Any) -> Flow[None]:
    """Send one write with its guards as a TransactWriteItems.

    ``action`` is the write as one action of a transaction (``{"Put": {...}}``, as
    ``persistence.transact_action`` makes it). ``explain`` turns the item's own failed
    condition into its error (ItemAlreadyExists, VersionConflict ...). UniqueViolation
    when a value is taken; ConcurrentModification when the stored values kept changing.
    """
    ((kind, params),) = action.items()
    known = change.old
    read: tuple[dict[str, AttributeValue | None], bool] | None = None
    for attempt in range(_ATTEMPTS):
        if known is None:
            read = read or (yield from _read_stored(change))
            old, change.exists = read
        else:
            old = known
        actions, taken, holds = guard_actions(change, old)
        body = dict(params)
        if holds is not None:
            extend_condition(body, holds, "u")
        body.setdefault("ReturnValuesOnConditionCheckFailure", "ALL_OLD")
        request = {
            "TransactItems": [{kind: body}, *actions],
            "ClientRequestToken": str(uuid.uuid4()),
        }
        try:
            yield from call("TransactWriteItems", request)
            return None
        except TransactionCanceled as error:
            reasons = error.reasons
            found = _violation(change, actions, taken, reasons, error)
            if found is not None:
                raise found from error
            codes = {reason.get("Code") for reason in reasons} - {"None", None}
            if codes == {"TransactionConflict"}:
                # Another transaction held one of the items: nothing was written, try again.
                yield from sleep(random.uniform(0, _CONFLICT_DELAY * 2**attempt))
                continue
            first = reasons[0] if reasons else {}
            if first.get("Code") != "ConditionalCheckFailed":
                raise
            if known is None:
                again = yield from _read_stored(change)
                if not _same_read(read, again):
                    read = again  # another writer changed it between the read and the write
                    continue
            failed = ConditionalCheckFailed(
                str(first.get("Message", "")),
                response={"Item": first["Item"]} if "Item" in first else {},
            )
            raise explain(failed) from error
    raise ConcurrentModification(
        f"{change.meta.name} {change.key}: its unique values kept changing while it was "
        f"written, or its transaction kept meeting others ({_ATTEMPTS} attempts); nothing was "
        "written"
    )


def _same_read(
    before: tuple[dict[str, AttributeValue | None], bool] | None,
    after: tuple[dict[str, AttributeValue | None], bool],
) -> bool:
    if before is None or before[1] != after[1]:
        return False
    return all(_same_value(value, after[0][name]) for name, value in before[0].items())


def _same_value(first: AttributeValue | None, second: AttributeValue | None) -> bool:
    if first is None or second is None:
        return first is second
    return wire_equal(first, second)


def _violation(
    change: UniqueChange,
    actions: list[dict[str, Any]],
    taken: list[tuple[Field[Any], AttributeValue]],
    reasons: list[dict[str, Any]],
    error: TransactionCanceled,
) -> UniqueViolation | None:
    puts = [index for index, action in enumerate(actions, start=1) if "Put" in action]
    for number, index in enumerate(puts):
        if index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed":
            field, value = taken[number]
            return violation(change.meta, field, value, reasons[index], error)
    return None


def violation(
    meta: ModelOptions,
    field: Field[Any],
    value: AttributeValue,
    reason: Mapping[str, Any],
    error: TransactionCanceled,
) -> UniqueViolation:
    """The UniqueViolation of a guard that could not be put (its value is taken)."""
    shown = field.from_wire(value)
    found = UniqueViolation(
        f"{meta.name}.{field.attr} = {shown!r} is taken by another item; nothing was written",
        code=error.code,
        response={"Item": reason.get("Item", {})},
        operation=error.operation,
    )
    found.model, found.field, found.value = meta.name, field.attr, shown
    return found


def read_stored(change: UniqueChange) -> Flow[None]:
    """Fill in ``change.old`` (and ``exists``) from the stored item, when not known."""
    if change.old is None:
        change.old, change.exists = yield from _read_stored(change)


def refuse_unknowable(meta: ModelOptions, attribute: str, kind: str) -> InvalidArgument:
    """The error for an update that changes a unique value in a way only DynamoDB knows."""
    field = _by_name(meta)[attribute]
    return InvalidArgument(
        f"{meta.name}.{field.attr} is unique: an update can only set it to a value or "
        f"remove it (not {kind}), so that its guard can be kept with it"
    )
