"""The pending-update API of the dynamix seed: queue changes, then ``commit_changes()``.

``item.set_field(...)``, ``item.add_to_field(...)``, ``item.append_to_listfield(...)``
and the rest queue update actions; ``item.set_modify_conditions(...)`` queues
conditions; ``item.commit_changes()`` sends them all in one UpdateItem and then
holds what DynamoDB holds (ReturnValues ALL_NEW). Actions on the same field
merge where that is well defined, and otherwise raise UpdateConflict when
queued, before anything is sent. Queued changes are not applied to the
in-memory values; a failed commit keeps them queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from dynamodb.core.codec import AttributeValue
from dynamodb.core.expressions import Condition, and_all
from dynamodb.core.flow import Flow
from dynamodb.core.updates import UpdateAction, UpdatePlan
from dynamodb.models.persistence import prepare_update, run_write

if TYPE_CHECKING:
    from dynamodb.models.fields import Field
    from dynamodb.models.model import Model
    from dynamodb.wire.connection import Connection

__all__ = ["PendingUpdates"]


class PendingUpdates:
    """Mixin of :class:`~dynamodb.Model` with the queued-update methods."""

    _data: dict[str, Any]
    _original: dict[str, AttributeValue] | None

    def _pending_state(self) -> tuple[UpdatePlan, list[Condition]]:
        state = self.__dict__.get("_pending")
        if state is None:
            state = (UpdatePlan(), [])
            self.__dict__["_pending"] = state
        return cast(tuple[UpdatePlan, list[Condition]], state)

    def _own(self, field: Field[Any]) -> Field[Any]:
        model = cast("Model", self)
        own = type(model)._meta.own_field(field)
        if own is None:
            raise TypeError(f"{type(model).__name__} has no field {field!r}")
        return own

    def _queue(self, *actions: UpdateAction) -> None:
        plan, _ = self._pending_state()
        UpdatePlan([*plan, *actions])  # all or nothing: raises UpdateConflict before queueing
        for action in actions:
            plan.add(action)

    @property
    def pending_changes(self) -> list[UpdateAction]:
        """The queued update actions, merged, in the order they were first queued."""
        return list(self._pending_state()[0])

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

        If the item was read and had no such map, the whole map is set instead,
        since DynamoDB cannot set a key inside a missing map. For an item that was
        not read (built from its key), the keys are set one by one, so a stored
        map is never replaced; DynamoDB refuses that if the map is missing.
        """
        own = self._own(field)
        if not isinstance(values, Mapping) or not values:
            raise TypeError(f"{own.attr}: update_to_dict_field() takes a non-empty dict")
        plan, _ = self._pending_state()
        whole = plan.get(own.path)
        if whole is not None and whole.kind == "set" and whole.value and "M" in whole.value:
            merged = {**whole.value["M"], **own.encode_update(dict(values))["M"]}
            plan.replace(UpdateAction(own.path, "set", {"M": merged}))
        elif self._original is not None and own.name not in self._original:
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
        """Queue ``SET field[index] = value``."""
        self._queue(self._own(field)[index].set(value))

    def remove_by_index_from_listfield(self, field: Field[Any], index: int) -> None:
        """Queue removing the element at ``index`` (indexes refer to the list as stored)."""
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
            if not isinstance(condition, Condition):
                raise TypeError(f"set_modify_conditions() takes conditions, not {condition!r}")
        self._pending_state()[1].extend(conditions)

    def _commit_flow(self, idempotent: bool) -> Flow[None]:
        plan, conditions = self._pending_state()
        if not plan:
            return
        model = cast("Model", self)
        write = prepare_update(model, plan, and_all(conditions))
        yield from run_write(write, idempotent=idempotent)
        self.discard_changes()

    def commit_changes(
        self, *, idempotent: bool = False, connection: Connection | None = None
    ) -> None:
        """Send every queued change in one UpdateItem (nothing if none is queued).

        ``idempotent=True`` sends it as a one-action transaction that DynamoDB applies
        at most once, so it is resent safely after a lost answer (at twice the write
        capacity).
        """
        model = cast("Model", self)
        type(model)._meta.connection(connection).run(self._commit_flow(idempotent))

    async def acommit_changes(
        self, *, idempotent: bool = False, connection: Connection | None = None
    ) -> None:
        """Async twin of :meth:`commit_changes`."""
        model = cast("Model", self)
        await type(model)._meta.connection(connection).arun(self._commit_flow(idempotent))
