"""Encrypted fields at the item level: sealing what is written, opening what is read.

The authenticated data of an encrypted attribute binds the item's primary key,
which the per-field codec does not see, so encryption is done here, where items
are written and read:

- **Reading**: ``Model._from_wire`` (the one entry of every read: get, query, scan,
  batch_get, transactions, stream images, an update's ALL_NEW) calls
  :func:`open_item` first. The item's ``_original`` then holds the *plaintext*
  wire forms (what the inner fields encode), so dirty tracking compares
  plaintext; ``_sealed`` keeps, per attribute, the authenticated data, the
  plaintext form and the stored ciphertext.
- **Writing**: a put (``prepare_put``, batch_write) sends :func:`seal_item` of the
  item's plaintext wire map; an update (dirty save, ``update()``, pending
  changes, transactions) goes through :func:`seal_plan`. A value whose plaintext
  and key are those of ``_sealed`` is sent as the ciphertext already stored (a
  dirty save sends nothing for it at all: its plaintext did not change); anything
  else is encrypted under the provider's current key.

The table name bound is the model's own (``__table_name__``), without a
connection's ``table_prefix``, so data copied between prefixed environments (a
test prefix, a renamed stage) still reads; an attacker who can write the table
gains nothing from that, since another table of the same name holds other keys
(and other items).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from dynamodb.core.codec import AttributeValue, Item, wire_equal
from dynamodb.core.envelope import EnvelopeInvalid, associated_data, key_id_of, wrapped_key_of
from dynamodb.core.errors import (
    ConditionalCheckFailed,
    DecryptionError,
    EncryptionError,
    InvalidArgument,
    MissingDependency,
)
from dynamodb.core.expressions import Comparison, Placeholders, and_all
from dynamodb.core.flow import Flow, Invoke, Request, Step, call, relay
from dynamodb.core.updates import UpdateAction, UpdatePlan
from dynamodb.models.fields.encrypted import EncryptedField

if TYPE_CHECKING:
    from dynamodb.models.model import Model
    from dynamodb.wire.connection import Connection

__all__ = [
    "Sealed",
    "areencrypt",
    "open_item",
    "reencrypt",
    "reencrypt_flow",
    "seal_item",
    "seal_plan",
    "stale_fields",
    "stored_original",
    "warming_keys",
]

T = TypeVar("T")

Sealed = dict[str, tuple[bytes, AttributeValue, AttributeValue]]
"""Per attribute name: (authenticated data, plaintext form, stored ciphertext)."""

_SETS = ("set", "set_if_not_exists")


def _shown_key(cls: type[Any], key: Mapping[str, AttributeValue]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for field in cls._meta.key_fields:
        raw = key.get(field.name)
        try:
            shown[field.attr] = field.from_wire(raw) if raw is not None else None
        except Exception:
            shown[field.attr] = raw
    return shown


def _stored_key(cls: type[Any], item: Mapping[str, AttributeValue]) -> Item:
    return {field.name: item[field.name] for field in cls._meta.key_fields if field.name in item}


def open_item(cls: type[Any], item: Mapping[str, AttributeValue]) -> tuple[Item, Sealed]:
    """``item`` with its encrypted attributes decrypted, and what was decrypted.

    DecryptionError, naming the model, the item's key and the field, for any
    failure, including an attribute stored as anything but encrypted binary (a NULL
    is refused too: it would read as an unset value); a missing attribute stays
    missing (presence is not authenticated).
    """
    meta = cls._meta
    plain: Item = dict(item)
    sealed: Sealed = {}
    key: Item | None = None
    for field in meta.encrypted:
        stored = item.get(field.name)
        if stored is None:
            continue
        if key is None:
            key = _stored_key(cls, item)
        context = associated_data(meta.table_name, key, field.name)
        try:
            if len(key) != len(meta.key_fields):
                raise ValueError("the item read does not hold its whole primary key")
            value = field.open(stored, context)
        except MissingDependency:
            raise
        except Exception as error:
            reason = str(error) or type(error).__name__
            raise DecryptionError(cls.__name__, _shown_key(cls, key), field.attr, reason) from error
        plain[field.name] = value
        sealed[field.name] = (context, value, stored)
    return plain, sealed


def _seal_one(
    item: Model, field: EncryptedField[Any], key: Item, plain: AttributeValue, fresh: bool
) -> AttributeValue:
    cls = type(item)
    context = associated_data(cls._meta.table_name, key, field.name)
    known = item._sealed
    previous = known.get(field.name) if known is not None else None
    if (
        not fresh
        and previous is not None
        and previous[0] == context
        and wire_equal(previous[1], plain)
    ):
        return previous[2]
    try:
        stored = field.seal(plain, context)
    except (MissingDependency, InvalidArgument):
        raise
    except Exception as error:
        raise EncryptionError(
            cls.__name__, field.attr, str(error) or type(error).__name__
        ) from error
    item._sealed = {**(known or {}), field.name: (context, plain, stored)}
    return stored


def seal_item(item: Model, plain: Item) -> Item:
    """``plain`` (the item's wire map) with its encrypted attributes as stored ciphertext."""
    fields = type(item)._meta.encrypted
    if not fields:
        return plain
    stored = dict(plain)
    key = item._key()
    for field in fields:
        value = plain.get(field.name)
        if value is not None:
            stored[field.name] = _seal_one(item, field, key, value, fresh=False)
    return stored


def seal_plan(item: Model, plan: UpdatePlan) -> UpdatePlan:
    """``plan`` with its SETs of encrypted attributes encrypted; InvalidArgument for any
    other action on one (DynamoDB cannot add to, append to or go inside ciphertext)."""
    cls = type(item)
    by_name = {field.name: field for field in cls._meta.encrypted}
    if not by_name or not plan.attributes() & by_name.keys():
        return plan
    sealed = UpdatePlan(plan)
    key: Item | None = None
    for action in plan:
        field = by_name.get(action.path.attribute)
        if field is None:
            continue
        if len(action.path.elements) != 1 or action.kind not in (*_SETS, "remove"):
            field._opaque(f"the update {action.describe()}")
        if action.kind == "remove" or action.value is None:
            continue
        if key is None:
            key = item._key()
        value = _seal_one(item, field, key, action.value, fresh=False)
        sealed.replace(replace(action, value=value))
    return sealed


def stored_original(item: Model) -> Item | None:
    """The item as stored when last read or written: ``_original`` with the ciphertexts
    in place of the plaintext forms (for size checks)."""
    original = item._original
    known = item._sealed
    if original is None or not known:
        return original
    stored = dict(original)
    for name, (_, plain, cipher) in known.items():
        if name in stored and wire_equal(stored[name], plain):
            stored[name] = cipher
    return stored


def stale_fields(item: Model) -> list[EncryptedField[Any]]:
    """The encrypted fields of ``item`` whose stored value is not under the current key."""
    stale: list[EncryptedField[Any]] = []
    for field in type(item)._meta.encrypted:
        entry = (item._sealed or {}).get(field.name)
        if entry is not None and not field.keys.is_current(key_id_of(entry[2]["B"])):
            stale.append(field)
    return stale


def reencrypt_flow(item: Model) -> Flow[bool]:
    """Move ``item``'s values under old keys to the current key: one UpdateItem, on the
    condition that each still holds the ciphertext read (a concurrent write wins).

    True when something was written; False when all was current, or when the
    condition failed (the item changed since it was read: its new values were
    written under the current key, or it is read again by the next pass).
    """
    stale = stale_fields(item)
    if not stale:
        return False
    cls = type(item)
    key = item._key()
    plan = UpdatePlan()
    guards = []
    known = dict(item._sealed or {})
    for field in stale:
        _, plain, old = known[field.name]
        new = _seal_one(item, field, key, plain, fresh=True)
        plan.add(UpdateAction(field.path, "set", new, field))
        guards.append(Comparison(field.path, "eq", old))
    placeholders = Placeholders()
    request: dict[str, Any] = {"TableName": cls._meta.table_name, "Key": key}
    request["UpdateExpression"] = plan.render(placeholders)
    condition = and_all(guards)
    assert condition is not None
    request["ConditionExpression"] = condition.render(placeholders)
    placeholders.apply(request)
    try:
        yield from call("UpdateItem", request)
    except ConditionalCheckFailed:
        item._sealed = known  # what was read: the stored item is not what was sealed
        return False
    return True


def _encrypted_model(cls: type[Any]) -> None:
    if not getattr(getattr(cls, "_meta", None), "encrypted", ()):
        raise InvalidArgument(f"reencrypt(): {cls.__name__} has no EncryptedField")


def _read_item(target: Model) -> None:
    _encrypted_model(type(target))
    if target._original is None:
        raise InvalidArgument(
            f"reencrypt(): {type(target).__name__} {target.get_primary_key_dict()} was never "
            "read or written, so what is stored is not known; read it first"
        )


def reencrypt(target: Model | type[Model], *, connection: Connection | None = None) -> int:
    """Move values encrypted under older keys to the provider's current key.

    ``target`` is an item that was read (one UpdateItem, only if one of its values
    is under an old key) or a model class (a scan of its table: every item of the
    model). Each write is conditional on the item still holding the ciphertext that
    was read, so a concurrent write is never overwritten (that item is left as the
    other write made it, under the current key). Values are not decrypted by
    anyone but this process, and the plaintext does not change: no hooks run, the
    version is not increased. Returns the number of items written.
    """
    if isinstance(target, type):
        _encrypted_model(target)
        meta = target._meta
        return sum(
            meta.run(reencrypt_flow(item), connection) for item in target.scan().using(connection)
        )
    _read_item(target)
    return int(type(target)._meta.run(reencrypt_flow(target), connection))


async def areencrypt(target: Model | type[Model], *, connection: Connection | None = None) -> int:
    """Async twin of :func:`reencrypt`."""
    if isinstance(target, type):
        _encrypted_model(target)
        meta = target._meta
        written = 0
        async for item in target.scan().using(connection):
            written += await meta.arun(reencrypt_flow(item), connection)
        return written
    _read_item(target)
    return int(await type(target)._meta.arun(reencrypt_flow(target), connection))


def warming_keys(flow: Flow[T], models: Iterable[type[Any]]) -> Flow[T]:
    """``flow`` for the async driver: what its KMS caches would miss is fetched first.

    Providers with ``aprefetch`` (``KmsKeys``) get, before each answer reaches the
    flow, an ``Invoke`` step the async driver awaits: the data keys wrapped in the
    answer's encrypted attributes are unwrapped in the event loop's executor, so
    decoding the answer finds them cached. A write key that is due is refreshed
    the same way when the flow starts. The sync driver never runs this (its KMS
    calls may block: it is blocking anyway).
    """
    providers: dict[int, tuple[Any, set[str]]] = {}
    for model in models:
        for field in getattr(getattr(model, "_meta", None), "encrypted", ()):
            keys = field.keys
            if hasattr(keys, "aprefetch"):
                providers.setdefault(id(keys), (keys, set()))[1].add(field.name)
    if not providers:
        return flow
    return _warming(flow, list(providers.values()))


def _warming(flow: Flow[T], providers: list[tuple[Any, set[str]]]) -> Flow[T]:
    for keys, _ in providers:
        if keys.write_key_due():
            yield Invoke(keys.arefresh, (), "KmsKeys.arefresh")

    def handle(step: Step) -> Flow[Any]:
        reply = yield step
        if isinstance(step, Request) and isinstance(reply, dict):
            items = _answer_items(reply)
            for keys, names in providers:
                missing = keys.missing(_wrapped_keys(items, names))
                if missing:
                    yield Invoke(keys.aprefetch, (missing,), "KmsKeys.aprefetch")
        return reply

    return (yield from relay(flow, handle))


def _answer_items(reply: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The items of an answer: GetItem, UpdateItem (ALL_NEW), Query/Scan, BatchGetItem,
    TransactGetItems."""
    items: list[Mapping[str, Any]] = [
        reply[name] for name in ("Item", "Attributes") if reply.get(name)
    ]
    items.extend(reply.get("Items") or ())
    responses = reply.get("Responses")
    if isinstance(responses, Mapping):
        for found in responses.values():
            items.extend(found)
    elif isinstance(responses, list):
        items.extend(entry["Item"] for entry in responses if entry.get("Item"))
    return items


def _wrapped_keys(items: list[Mapping[str, Any]], names: set[str]) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for item in items:
        for name in names:
            value = item.get(name)
            if isinstance(value, Mapping) and isinstance(value.get("B"), (bytes, bytearray)):
                with contextlib.suppress(EnvelopeInvalid):
                    key_id, wrapped = wrapped_key_of(value["B"])
                    if wrapped:
                        found.append((key_id, wrapped))
    return found
