"""How an item is written: PutItem, UpdateItem of its changes, DeleteItem.

Each ``prepare_*`` function returns a :class:`PreparedWrite`: the request, what
to do with the item once DynamoDB accepted it, and how to explain a failed
condition. :func:`run_write` is the flow that sends one; transactions reuse the
same preparations. This is where optimistic locking (``VersionField``) and
dirty tracking (only changed attributes are sent) live.

Dirty tracking compares wire forms: an item read from (or written to) DynamoDB
remembers the AttributeValues it had then (``_original``); saving encodes the
current values and sends a SET for each attribute whose encoding differs and a
REMOVE for each that is gone. Changes made in place (``item.ids.append(3)``)
count, and nothing is deep-copied when items are read. An item read with a
projection (``item._projection``) is partial: attributes it did not read are never
removed, one read in part is changed at the paths read (see
:mod:`dynamodb.models.projection`), and it is never put whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from dynamodb.core.codec import Item, wire_equal
from dynamodb.core.errors import (
    ConditionalCheckFailed,
    ItemAlreadyExists,
    ItemNotFound,
    KeyUpdateError,
    NewerSchemaVersion,
    OutcomeUnknown,
    PartialItemError,
    TransactionCanceled,
    VersionConflict,
)
from dynamodb.core.expressions import (
    AttributeExists,
    AttributeNotExists,
    Condition,
    Path,
    Placeholders,
    and_all,
)
from dynamodb.core.flow import Flow, call
from dynamodb.core.retries import is_idempotent
from dynamodb.core.updates import UpdateAction, UpdatePlan
from dynamodb.models import lifecycle
from dynamodb.models.limit_checks import check_delete, check_put, check_update
from dynamodb.models.projection import nested_changes
from dynamodb.models.sealing import seal_item, seal_plan
from dynamodb.models.single_table.templates import template_actions
from dynamodb.models.single_table.unique import UniqueChange, refuse_unknowable, run_guarded
from dynamodb.models.upgrades import SCHEMA_VERSION_ATTRIBUTE, stored_version, upgrade_stored

if TYPE_CHECKING:
    from dynamodb.models.model import Model

__all__ = [
    "TRANSACT_KINDS",
    "PreparedWrite",
    "cancelled_condition",
    "check_whole",
    "prepare_changes",
    "prepare_delete",
    "prepare_put",
    "prepare_update",
    "run_write",
    "transact_action",
]


@dataclass
class PreparedWrite:
    """One write, ready to send alone (``run_write``) or in a transaction.

    ``key`` is the item's wire key. ``idempotent`` overrides what the retry
    rules would tell from the request (None: let them tell). ``applied`` says,
    from the item as stored after an unanswered attempt (None: no item),
    whether this write is what is stored: it lets a conditional put or delete
    whose answer was lost be confirmed instead of failing its own condition on
    a resend. None when that cannot be told (conditional updates).
    """

    operation: str
    params: dict[str, Any]
    on_success: Callable[[dict[str, Any]], None]
    explain: Callable[[ConditionalCheckFailed], ConditionalCheckFailed]
    key: Item
    idempotent: bool | None = None
    applied: Callable[[Item | None], bool] | None = None
    unique: UniqueChange | None = None
    """What the write does to unique values (None: the model has no unique field)."""


TRANSACT_KINDS = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}
"""The TransactWriteItems action of each single-item write operation."""


def transact_action(write: PreparedWrite) -> dict[str, Any]:
    """``write`` as one action of TransactWriteItems (``{"Put": {...}}`` ...)."""
    params = {key: value for key, value in write.params.items() if key != "ReturnValues"}
    return {TRANSACT_KINDS[write.operation]: params}


def cancelled_condition(reason: dict[str, Any]) -> ConditionalCheckFailed:
    """The ConditionalCheckFailed of one action's CancellationReason (with its ALL_OLD item)."""
    response = {"Item": reason["Item"]} if "Item" in reason else {}
    return ConditionalCheckFailed(str(reason.get("Message", "")), response=response)


def run_write(write: PreparedWrite, *, idempotent: bool = False) -> Flow[dict[str, Any]]:
    """Send a prepared write; a failed condition raises its explained error.

    ``idempotent=True`` sends it as a one-action TransactWriteItems with a
    ClientRequestToken, which DynamoDB applies at most once: resent after a lost
    answer, it cannot be applied twice (it costs twice the write capacity).
    Otherwise a conditional put or delete whose answer was lost is confirmed by
    a consistent read, and resent once if what is stored is not this write.
    """
    if write.unique is not None:
        return (yield from _run_guarded(write))
    if idempotent:
        return (yield from _run_at_most_once(write))
    try:
        response = yield from call(write.operation, write.params, idempotent=write.idempotent)
    except ConditionalCheckFailed as error:
        raise write.explain(error) from error
    except OutcomeUnknown:
        if write.applied is None:
            raise
        response = yield from _confirm_or_resend(write)
    write.on_success(response)
    return response


def _read_consistently(write: PreparedWrite) -> Flow[Item | None]:
    request = {"TableName": write.params["TableName"], "Key": write.key, "ConsistentRead": True}
    found: Item | None = (yield from call("GetItem", request)).get("Item")
    return found


def _confirm_or_resend(write: PreparedWrite) -> Flow[dict[str, Any]]:
    """After a lost answer: done if the stored item shows this write, else send it once more."""
    assert write.applied is not None
    if write.applied((yield from _read_consistently(write))):
        return {}
    try:
        return (yield from call(write.operation, write.params, idempotent=write.idempotent))
    except ConditionalCheckFailed as error:
        raise write.explain(error) from error


def _run_guarded(write: PreparedWrite) -> Flow[dict[str, Any]]:
    """A write with unique values: one transaction with its guard items."""
    assert write.unique is not None
    yield from run_guarded(transact_action(write), write.unique, write.explain)
    return (yield from _after_transaction(write))


def _after_transaction(write: PreparedWrite) -> Flow[dict[str, Any]]:
    response: dict[str, Any] = {}
    if write.operation == "UpdateItem":  # no ALL_NEW in a transaction: read it back
        stored = yield from _read_consistently(write)
        if stored is not None:
            response["Attributes"] = stored
    write.on_success(response)
    return response


def _run_at_most_once(write: PreparedWrite) -> Flow[dict[str, Any]]:
    request = {
        "TransactItems": [transact_action(write)],
        "ClientRequestToken": str(uuid.uuid4()),  # the same on every resend of this write
    }
    try:
        yield from call("TransactWriteItems", request)
    except TransactionCanceled as error:
        reasons = error.reasons
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise write.explain(cancelled_condition(reasons[0])) from error
        raise
    return (yield from _after_transaction(write))


def _render(
    request: dict[str, Any], condition: Condition | None, placeholders: Placeholders
) -> dict[str, Any]:
    if condition is not None:
        request["ConditionExpression"] = condition.render(placeholders)
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return placeholders.apply(request)


def check_whole(item: Model, how: str) -> None:
    """PartialItemError unless ``item`` holds the whole item (it was not read with a
    projection): ``how`` (a put) would replace the stored item with what was read."""
    projection = item._projection
    if projection is None:
        return
    cls = type(item)
    read = projection.describe() or "the attributes an index projects"
    raise PartialItemError(
        f"{cls.__name__} {item.get_primary_key_dict()} was read with a projection ({read}): "
        f"{how} would replace the stored item with only what was read. save() without "
        f"full=True sends only the changes; read the whole item (without projections) to "
        f"write it whole"
    )


def _version_guard(item: Model) -> tuple[Condition | None, int | None, int | None]:
    """(condition, expected version, next version) for an item's VersionField."""
    cls = type(item)
    field = cls._meta.version_field
    if field is None:
        return None, None, None
    projection = item._projection
    if projection is not None and field.name not in projection.attributes():
        raise PartialItemError(
            f"{cls.__name__} {item.get_primary_key_dict()} was read without its version "
            f"field {field.attr} (it read {projection.describe() or 'what an index projects'}), "
            f"so its version cannot be checked; read it from the table (get(), or "
            f"requery_for_all_projections=True) before writing it"
        )
    current = item._data.get(field.attr)
    guard = AttributeNotExists(field.path) if current is None else field.eq(current)
    return guard, current, (current or 0) + 1


def _explainer(
    item: Model,
    expected: int | None,
    exists_error: bool = False,
    checked: bool = True,
    missing_error: bool = False,
) -> Callable[[ConditionalCheckFailed], ConditionalCheckFailed]:
    cls = type(item)

    def explain(error: ConditionalCheckFailed) -> ConditionalCheckFailed:
        # DynamoDB returns the stored item (ALL_OLD) with a failed condition: only
        # when there is one is the key taken; otherwise the caller's condition failed.
        if exists_error and error.item:
            return _rebrand(
                ItemAlreadyExists,
                error,
                f"{cls.__name__} {item.get_primary_key_dict()} exists already",
            )
        if missing_error and not error.item:
            return _rebrand(
                ItemNotFound,
                error,
                f"{cls.__name__} {item.get_primary_key_dict()} does not exist (must_exist=True), "
                "so nothing was written",
            )
        field = cls._meta.version_field
        if field is None or not checked:  # no version guard: the caller's condition failed
            return error
        stored = error.item or {}
        raw = stored.get(field.name)
        found = field.from_wire(raw) if raw is not None else None
        if found == expected and stored:
            return error  # the version matched: the caller's own condition failed
        conflict = _rebrand(
            VersionConflict,
            error,
            f"{cls.__name__} {item.get_primary_key_dict()}: expected version {expected}, "
            f"found {found if stored else 'no item'}; read it again and retry",
        )
        conflict.expected = expected
        conflict.found = found
        return conflict

    return explain


E = TypeVar("E", bound=ConditionalCheckFailed)


def _rebrand(kind: type[E], error: ConditionalCheckFailed, message: str) -> E:
    """The same DynamoDB failure, as a more specific class with a clearer message."""
    return kind(message, code=error.code, response=error.response, operation=error.operation)


def _remember(item: Model, stored: Item) -> None:
    """The item now equals ``stored`` in DynamoDB: decode it and keep it as the original."""
    fresh = type(item)._from_wire(stored)
    item._data = fresh._data
    item._original = fresh._original  # plaintext forms of encrypted attributes
    item._sealed = fresh._sealed
    item._projection = None  # a whole item now, even if it was read in part


def prepare_put(
    item: Model, condition: Condition | None = None, *, exists_error: bool = False
) -> PreparedWrite:
    """PutItem of the whole item; ``exists_error``: only if the key is free."""
    cls = type(item)
    schema = cls._meta.require_table()
    check_whole(item, "a put (save(full=True), a changed key, or a put in a transaction)")
    check_schema_version(item)
    if cls._meta.auto_now or cls._meta.auto_now_add:
        lifecycle.stamp(item, lifecycle.now(), created=item._original is None)
    plain = item._to_wire_map()
    wire = seal_item(item, plain)  # encrypted attributes as stored
    guard, expected, next_version = _version_guard(item)
    parts = [part for part in (condition, guard) if part is not None]
    if exists_error:
        parts.insert(0, AttributeNotExists(schema.hash_key.path))
    field = cls._meta.version_field
    if field is not None:
        wire[field.name] = plain[field.name] = {"N": str(next_version)}
    request = _render(
        {"TableName": schema.table_name, "Item": wire}, and_all(parts), Placeholders()
    )
    check_put(item, request)  # DynamoDB's limits, before anything is sent

    def on_success(response: dict[str, Any]) -> None:
        if field is not None:
            item._data[field.attr] = next_version
        item._original = plain

    def applied(stored: Item | None) -> bool:
        return stored is not None and _same_item(stored, wire)

    explain = _explainer(item, expected, exists_error)
    write = PreparedWrite("PutItem", request, on_success, explain, item._key(), applied=applied)
    if cls._meta.unique_fields:
        new = {field.name: wire.get(field.name) for field in cls._meta.unique_fields}
        old = None if not exists_error else dict.fromkeys(new)
        write.unique = UniqueChange(
            cls._meta, write.key, new, _stored_unique(item, old), not exists_error
        )
    return write


def _stored_unique(item: Model, fallback: dict[str, Any] | None) -> dict[str, Any] | None:
    """The unique values as stored, when the item was read (else ``fallback``)."""
    original = item._original
    if original is None:
        return fallback
    return {field.name: original.get(field.name) for field in type(item)._meta.unique_fields}


def _same_item(stored: Item, written: Item) -> bool:
    return stored.keys() == written.keys() and all(
        wire_equal(value, written[name]) for name, value in stored.items()
    )


def _key_changed(item: Model, original: Item) -> bool:
    key = item._key()
    return any(
        name not in original or not wire_equal(value, original[name]) for name, value in key.items()
    )


def changes_of(item: Model) -> UpdatePlan | None:
    """SET/REMOVE actions for what changed since the item was read or written.

    None when the item was never read or written (or its key changed): it must
    be put whole. A partial item (read with a projection) never removes what it
    did not read, and changes an attribute read in part at the paths read.
    """
    original = item._original
    if original is None or _key_changed(item, original):
        return None
    cls = type(item)
    projection = item._projection
    current = item._to_wire_map() if projection is None else _partial_wire(item, original)
    skip = {field.name for field in cls._meta.key_fields}
    version = cls._meta.version_field
    if version is not None:
        skip.add(version.name)
    plan = UpdatePlan()
    for field in cls._meta.fields.values():
        name = field.name
        if name in skip:
            continue
        new, old = current.get(name), original.get(name)
        tree = projection.tree(name) if projection is not None else None
        if tree is not None:
            key = item.get_primary_key_dict()
            nested_changes(cls, key, plan, field, tree, old, new)
        elif new is None:
            if old is not None:
                plan.add(UpdateAction(field.path, "remove"))
        elif old is None or not wire_equal(new, old):
            plan.add(UpdateAction(field.path, "set", new))
    stamp = cls._meta.schema_version_value
    if stamp is not None and projection is None:
        stored = original.get(SCHEMA_VERSION_ATTRIBUTE)
        if stored is None or not wire_equal(stored, stamp):  # upgraded on read: written back
            check_schema_version(item)
            for name in _removed_by_upgrade(cls, original):
                plan.add(UpdateAction(Path.of(name), "remove"))
            plan.add(UpdateAction(Path.of(SCHEMA_VERSION_ATTRIBUTE), "set", stamp))
    return plan


def check_schema_version(item: Model) -> None:
    """NewerSchemaVersion if ``item`` was read with a newer ``_schema_version`` than its
    model's: writing it back would stamp the older version on a newer item."""
    cls = type(item)
    current = cls._meta.schema_version
    if current is None or item._original is None:
        return
    stored = stored_version(item._original)
    if stored > current:
        raise NewerSchemaVersion(cls.__name__, item.get_primary_key_dict(), stored, current)


def _removed_by_upgrade(cls: type[Model], original: Item) -> list[str]:
    """The stored attributes the upgrade steps dropped (``raw.pop("name")``), which are
    no field of the model: the save that writes the upgrade back removes them. The
    steps run again on the stored item (they are functions of it)."""
    meta = cls._meta
    assert meta.schema_version is not None
    upgraded = upgrade_stored(cls.__name__, meta.schema_version, meta.schema_steps, original)
    fields = {field.name for field in meta.fields.values()}
    return sorted(name for name in original if name not in upgraded and name not in fields)


def _partial_wire(item: Model, original: Item) -> Item:
    """A partial item's attributes, encoded: a required field that was not read may be
    None, one that was read (and held a value) may not."""
    cls = type(item)
    current = item._encode_carefully()
    for field in cls._meta.fields.values():
        if field.required and field.name in original and field.name not in current:
            raise field.invalid(None, "is required", cls.__name__)
    return current


def prepare_update(
    item: Model,
    plan: UpdatePlan,
    condition: Condition | None = None,
    *,
    require_exists: bool = False,
    must_exist: bool = False,
) -> PreparedWrite:
    """UpdateItem with ``plan``'s actions; the item is refreshed from ALL_NEW afterwards.

    The version (if any) is checked when the item was read, and always increased.
    ``require_exists`` makes the update conditional on the item existing (a dirty
    save: a missing item fails like a stale version); ``must_exist`` does too, and
    a missing item raises ItemNotFound (``update(..., must_exist=True)``).
    """
    cls = type(item)
    schema = cls._meta.require_table()
    require_exists = require_exists or must_exist
    key_names = {field.name for field in schema.key_fields}
    touched = plan.attributes() & key_names
    key_parts = {
        part.name: key.attr for key in schema.key_fields for part in key.part_fields.values()
    }
    touched_parts = sorted(plan.attributes() & key_parts.keys())
    if touched or touched_parts:
        named = [
            *sorted(touched),
            *(f"{name} (a part of {key_parts[name]})" for name in touched_parts),
        ]
        raise KeyUpdateError(
            f"{cls.__name__}: key attributes {named} cannot be updated; "
            "create an item with the new key instead"
        )
    meta = cls._meta
    extra = _implied_actions(item, plan)
    if extra:
        plan = UpdatePlan(plan)  # a copy: the caller's plan (pending changes) stays as it was
        for action in extra:
            plan.add(action)
    parts: list[Condition] = []
    if require_exists:
        parts.append(AttributeExists(schema.hash_key.path))
    if condition is not None:
        parts.append(condition)
    expected: int | None = None
    field = cls._meta.version_field
    if field is not None:
        plan = UpdatePlan(plan)  # a copy: the caller's plan (pending changes) stays as it was
        if item._original is not None:
            guard, expected, next_version = _version_guard(item)
            assert guard is not None
            parts.append(guard)
            plan.add(UpdateAction(field.path, "set", {"N": str(next_version)}))
        else:
            plan.add(UpdateAction(field.path, "increment", {"N": "1"}))
    plan = seal_plan(item, plan)  # encrypted values, as stored
    placeholders = Placeholders()
    request: dict[str, Any] = {"TableName": schema.table_name, "Key": item._key()}
    if plan:
        # Without actions (a save with a condition but no change) the request
        # only checks the condition.
        request["UpdateExpression"] = plan.render(placeholders)
    request["ReturnValues"] = "ALL_NEW"
    _render(request, and_all(parts), placeholders)
    check_update(item, plan, request)  # DynamoDB's limits, before anything is sent

    def on_success(response: dict[str, Any]) -> None:
        attributes = response.get("Attributes")
        if attributes:
            _remember(item, attributes)

    # A SET/REMOVE-only update whose one condition is that the item exists (a dirty
    # save) leaves the same item when applied twice, like the same update without it.
    # Other updates need no word here: the retry rules classify them if they fail.
    only_exists = require_exists and len(parts) == 1
    idempotent = (
        True if only_exists and is_idempotent("UpdateItem", _unconditional(request)) else None
    )
    explain = _explainer(
        item, expected, checked=item._original is not None, missing_error=must_exist
    )
    write = PreparedWrite(
        "UpdateItem", request, on_success, explain, request["Key"], idempotent=idempotent
    )
    if meta.unique_fields:
        write.unique = _unique_update(item, plan, write.key)
    return write


def _implied_actions(item: Model, plan: UpdatePlan) -> list[UpdateAction]:
    """What an update sets besides its own actions: the attributes built from the parts
    it changes (key templates), and the entity of a shared table (an upsert writes it)."""
    meta = type(item)._meta
    actions: list[UpdateAction] = []
    if meta.templated:
        actions.extend(
            template_actions(
                meta.name,
                meta.templated,
                item._data,
                plan,
                meta.fields_by_name,
                read=item._original is not None,
            )
        )
    tag = meta.entity_tag
    planned = plan.attributes()
    if tag is not None and tag[0] not in planned:
        actions.append(UpdateAction(Path.of(tag[0]), "set", {"S": tag[1]}))
    if meta.auto_now or meta.auto_now_add:
        when = lifecycle.now()
        for field in meta.auto_now:
            if field.name not in planned:
                actions.append(UpdateAction(field.path, "set", field.to_wire(when)))
        for field in meta.auto_now_add:
            if field.name not in planned:
                actions.append(UpdateAction(field.path, "set_if_not_exists", field.to_wire(when)))
    return actions


def _unique_update(item: Model, plan: UpdatePlan, key: Item) -> UniqueChange | None:
    meta = type(item)._meta
    unique = {field.name for field in meta.unique_fields}
    new: dict[str, Any] = {}
    for action in plan:
        name = action.path.attribute
        if name not in unique:
            continue
        if len(action.path.elements) != 1 or action.kind not in ("set", "remove"):
            raise refuse_unknowable(meta, name, action.kind)
        new[name] = action.value if action.kind == "set" else None
    if not new:
        return None
    return UniqueChange(meta, key, new, _stored_unique(item, None))


def _unconditional(request: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in request.items() if key != "ConditionExpression"}


def prepare_changes(item: Model, condition: Condition | None = None) -> PreparedWrite | None:
    """The dirty save: an UpdateItem of the changes, a PutItem for a new item, or
    None when nothing changed and there is no condition to check."""
    meta = type(item)._meta
    if meta.auto_now and item._original is not None:
        lifecycle.stamp(item, lifecycle.now(), created=False)
    plan = changes_of(item)
    if plan is None:
        return prepare_put(item, condition)
    if not plan and condition is None:
        return None
    return prepare_update(item, plan, condition, require_exists=True)


def prepare_delete(item: Model, condition: Condition | None = None) -> PreparedWrite:
    """DeleteItem by the item's key (checking its version when it has one)."""
    cls = type(item)
    guard, expected, _ = _version_guard(item) if item._original is not None else (None, None, None)
    parts = [part for part in (condition, guard) if part is not None]
    request = _render(
        {"TableName": cls._meta.table_name, "Key": item._key()},
        and_all(parts),
        Placeholders(),
    )
    check_delete(item, request)

    def on_success(response: dict[str, Any]) -> None:
        item._original = None

    def applied(stored: Item | None) -> bool:
        return stored is None  # the item is gone: this delete (or one like it) happened

    explain = _explainer(item, expected, checked=item._original is not None)
    write = PreparedWrite(
        "DeleteItem", request, on_success, explain, request["Key"], applied=applied
    )
    if cls._meta.unique_fields:
        write.unique = UniqueChange(cls._meta, write.key, None, _stored_unique(item, None))
    return write
