"""The pending-update API of the dynamix seed: queue changes, then ``commit_changes()``.

``item.set_field(...)``, ``item.add_to_field(...)``, ``item.append_to_listfield(...)``
and the rest queue update actions; ``item.set_modify_conditions(...)`` queues
conditions; ``item.commit_changes()`` sends them all in one UpdateItem and then
holds what DynamoDB holds (ReturnValues ALL_NEW).

The queued calls apply one after another: the commit leaves the item as
committing each call alone, in order, would. Where one UpdateExpression does that
exactly, it is sent (:meth:`~dynamodb.core.updates.UpdatePlan.then`: a SET then an
ADD is one SET of the sum ...). Where it cannot (an append and then a replace by
index in one list, an ADD and a DELETE of one set), an item that was read gets
that attribute's final value computed from what was read, sent as one SET guarded
by the condition that the attribute still holds what was read; a concurrent change
raises :class:`~dynamodb.ConcurrentModification` and nothing is written. On an item
built from its key alone (never read), such a call raises UpdateConflict when
queued, before anything is sent. Queued changes are not applied to the in-memory
values; a failed commit keeps them queued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from dynamodb.core.codec import AttributeValue, wire_equal
from dynamodb.core.errors import (
    ConcurrentModification,
    ConditionalCheckFailed,
    InvalidArgument,
    UnknownField,
    UpdateConflict,
)
from dynamodb.core.expressions import Condition, and_all, require_condition
from dynamodb.core.flow import Flow
from dynamodb.core.updates import SequencePlan, UpdateAction, plan_sequence
from dynamodb.models import lifecycle
from dynamodb.models.persistence import prepare_update, run_write

if TYPE_CHECKING:
    from dynamodb.models.fields import Field
    from dynamodb.models.model import Model
    from dynamodb.models.projection import Projection
    from dynamodb.wire.connection import Connection

__all__ = ["PendingUpdates"]


class PendingUpdates:
    """Mixin of :class:`~dynamodb.Model` with the queued-update methods."""

    _data: dict[str, Any]
    _original: dict[str, AttributeValue] | None

    def _pending_state(self) -> tuple[list[UpdateAction], list[Condition]]:
        state = self.__dict__.get("_pending")
        if state is None:
            state = ([], [])
            self.__dict__["_pending"] = state
        return cast(tuple[list[UpdateAction], list[Condition]], state)

    def _own(self, field: Field[Any]) -> Field[Any]:
        model = cast("Model", self)
        own = type(model)._meta.own_field(field)
        if own is None:
            raise UnknownField(f"{type(model).__name__} has no field {field!r}")
        return own

    def _read_whole(self, name: str) -> bool:
        """Whether the item holds attribute ``name`` as stored when it was last read or
        written (its value, or its absence): not for an item built from its key, nor
        for an attribute that a read with a projection left out or read in part."""
        if self._original is None:
            return False
        projection: Projection | None = getattr(self, "_projection", None)
        return projection is None or projection.holds_whole(name)

    def _resolve(self, actions: Iterable[UpdateAction]) -> SequencePlan:
        """The queued sequence as one UpdateItem, from the item as last read or written."""
        try:
            return plan_sequence(actions, self._original, self._read_whole)
        except UpdateConflict as error:
            raise UpdateConflict(f"{type(self).__name__}: {error}") from None

    def _queue(self, *actions: UpdateAction) -> None:
        sequence, _ = self._pending_state()
        self._resolve([*sequence, *actions])  # all or nothing: raises before queueing
        sequence.extend(actions)

    @property
    def pending_changes(self) -> list[UpdateAction]:
        """What the commit will send: the queued actions merged, in the order first queued.

        An attribute the commit computes from what was read shows as one SET of its
        final value (or a REMOVE).
        """
        return list(self._resolve(self._pending_state()[0]).plan)

    def discard_changes(self) -> None:
        """Forget every queued action and condition."""
        self.__dict__.pop("_pending", None)

    def set_field(self, field: Field[Any], value: Any) -> None:
        """Queue ``SET field = value``."""
        self._queue(self._own(field).set(value))

    def add_to_field(self, field: Field[Any], value: Any) -> None:
        """Queue an atomic ADD: a number to a number field, members to a set field."""
        self._queue(self._own(field).add(value))

    def update_to_dict_field(self, field: Field[Any], values: Mapping[str, Any]) -> None:
        """Queue setting keys of a dict field (new keys added, existing ones replaced).

        If the item was read (the map too, for a read with a projection) and had no
        such map (and nothing is queued on it yet), the whole map is set instead,
        since DynamoDB cannot set a key inside a missing map. Otherwise the keys are
        set one by one, so a stored map is never replaced; on an item that was not
        read (built from its key), DynamoDB refuses that if the map is missing.
        """
        own = self._own(field)
        if not isinstance(values, Mapping) or not values:
            raise InvalidArgument(f"{own.attr}: update_to_dict_field() takes a non-empty dict")
        queued = any(action.path.attribute == own.name for action in self._pending_state()[0])
        absent = self._read_whole(own.name) and own.name not in (self._original or {})
        if absent and not queued:
            self._queue(own.set(dict(values)))
        else:
            self._queue(*(own[key].set(value) for key, value in values.items()))

    def remove_from_dict_field(self, field: Field[Any], keys: Iterable[str]) -> None:
        """Queue removing keys from a dict field."""
        own = self._own(field)
        if isinstance(keys, str):
            keys = [keys]
        self._queue(*(own[key].remove() for key in keys))

    def append_to_listfield(self, field: Field[Any], value: Any) -> None:
        """Queue appending one value, or each value of a list, to a list field."""
        own = self._own(field)
        self._queue(own.list_append(value if isinstance(value, list) else [value]))

    def replace_by_index_in_listfield(self, field: Field[Any], index: int, value: Any) -> None:
        """Queue ``SET field[index] = value`` (past the end of the list, DynamoDB appends)."""
        self._queue(self._own(field)[index].set(value))

    def remove_by_index_from_listfield(self, field: Field[Any], index: int) -> None:
        """Queue removing the element at ``index`` of the list as the calls before leave it."""
        self._queue(self._own(field)[index].remove())

    def add_to_setfield(self, field: Field[Any], values: Iterable[Any]) -> None:
        """Queue adding members to a set field."""
        self._queue(self._own(field).add(set(values)))

    def delete_from_setfield(self, field: Field[Any], values: Iterable[Any]) -> None:
        """Queue deleting members from a set field."""
        self._queue(self._own(field).delete(set(values)))

    def set_modify_conditions(self, *conditions: Condition) -> None:
        """Queue conditions the commit needs (ANDed): ConditionalCheckFailed otherwise."""
        for condition in conditions:
            name = type(self).__name__
            require_condition(condition, f"{name}.set_modify_conditions()", name)
        self._pending_state()[1].extend(conditions)

    def _commit_flow(self, idempotent: bool) -> Flow[None]:
        sequence, conditions = self._pending_state()
        if not sequence:
            return
        model = cast("Model", self)
        yield from lifecycle.before_save((model,))
        resolved = self._resolve(sequence)
        write = prepare_update(model, resolved.plan, and_all([*conditions, *resolved.guards()]))
        if resolved.read:
            write.explain = _stale_read(model, write.explain, resolved.read)
        yield from run_write(write, idempotent=idempotent)
        self.discard_changes()
        yield from lifecycle.after_save((model,))

    def commit_changes(
        self, *, idempotent: bool = False, connection: Connection | None = None
    ) -> None:
        """Send every queued change in one UpdateItem (nothing if none is queued).

        Raises ConcurrentModification when an attribute computed from what was read
        changed in DynamoDB since (read the item again and queue the changes again).
        ``idempotent=True`` sends it as a one-action transaction that DynamoDB applies
        at most once, so it is resent safely after a lost answer (at twice the write
        capacity).
        """
        model = cast("Model", self)
        type(model)._meta.run(self._commit_flow(idempotent), connection)

    async def acommit_changes(
        self, *, idempotent: bool = False, connection: Connection | None = None
    ) -> None:
        """Async twin of :meth:`commit_changes`."""
        model = cast("Model", self)
        await type(model)._meta.arun(self._commit_flow(idempotent), connection)


Explain = Callable[[ConditionalCheckFailed], ConditionalCheckFailed]


def _stale_read(
    item: Model, explain: Explain, read: Mapping[str, AttributeValue | None]
) -> Explain:
    """``explain``, then ConcurrentModification if a computed attribute changed since read."""

    def explained(error: ConditionalCheckFailed) -> ConditionalCheckFailed:
        error = explain(error)
        if type(error) is not ConditionalCheckFailed:
            return error  # a VersionConflict says it already
        stored = error.item or {}
        changed = tuple(name for name, value in read.items() if not _same(stored.get(name), value))
        if not changed:
            return error  # the caller's own condition failed
        names = ", ".join(changed)
        what = f"{names} changed since the item was read" if stored else "the item is gone"
        stale = ConcurrentModification(
            f"{type(item).__name__} {item.get_primary_key_dict()}: {what}, and the commit "
            f"computes {names} from what was read, so nothing was written; read the item "
            "again and retry",
            code=error.code,
            response=error.response,
            operation=error.operation,
        )
        stale.attributes = changed
        return stale

    return explained


def _same(stored: AttributeValue | None, read: AttributeValue | None) -> bool:
    if stored is None or read is None:
        return stored is read
    return wire_equal(stored, read)
