"""Transactions: several writes that all happen or none (TransactWriteItems), and
consistent multi-item reads (TransactGetItems).

::

    with dynamodb.transaction() as tx:
        tx.put(order, condition=Order.id.not_exists())
        tx.update(account, Account.balance.add(-10), condition=Account.balance.gte(10))
        tx.delete(cart)
        tx.check(Stock, {"sku": "x"}, Stock.count.gt(0))

Nothing is sent if the block raises. The writes are the same preparations as
the single-item calls (:mod:`dynamodb.persistence`), so VersionFields take
part: a stale version cancels the whole transaction. Each transaction carries a
ClientRequestToken, so botocore's retries of it are idempotent. A cancelled
transaction raises :class:`~dynamodb.exceptions.TransactionCanceled` whose
message and ``failures`` say which action failed and why.

After success, items written with ``update`` (or a ``save`` of changes) are
read back with one TransactGetItems so they hold what DynamoDB holds, as the
single-item calls do with ReturnValues ALL_NEW (which transactions lack).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dynamodb.core.batch import key_identity
from dynamodb.core.blocks import WithBlock
from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import (
    DuplicateItem,
    DynamoDBError,
    InvalidArgument,
    InvalidValue,
    TransactionCanceled,
    TransactionCommitted,
    TransactionTooLarge,
    UniqueViolation,
)
from dynamodb.core.expressions import Condition, Placeholders, extend_condition, require_condition
from dynamodb.core.flow import Flow, call
from dynamodb.core.limits import MAX_TRANSACTION_ACTIONS
from dynamodb.models import lifecycle
from dynamodb.models.limit_checks import check_expressions, transaction_size
from dynamodb.models.options import naming_missing_tables
from dynamodb.models.persistence import (
    PreparedWrite,
    cancelled_condition,
    prepare_changes,
    prepare_delete,
    prepare_put,
    prepare_update,
    transact_action,
)
from dynamodb.models.sealing import warming_keys
from dynamodb.models.single_table.unique import UniqueChange, guard_actions, read_stored, violation
from dynamodb.wire import tracing
from dynamodb.wire.connection import Connection, get_connection

if TYPE_CHECKING:
    from dynamodb.models.fields import Field
    from dynamodb.models.model import Actions, Model

__all__ = [
    "MAX_ACTIONS",
    "Transaction",
    "atransact_get",
    "atransaction",
    "transact_get",
    "transaction",
]

MAX_ACTIONS = MAX_TRANSACTION_ACTIONS
_log = logging.getLogger("dynamodb.transaction")


@dataclass
class _Action:
    kind: str  # Put | Update | Delete | ConditionCheck
    params: dict[str, Any]
    item: Model | None
    write: PreparedWrite | None
    label: str
    guard: tuple[UniqueChange, tuple[Field[Any], AttributeValue] | None] | None = None
    """For a guard item's action: the write's unique change, and the value it takes."""


def _label(kind: str, model: type[Model], key: Mapping[str, Any]) -> str:
    return f"{kind.lower()} {model.__name__} {dict(key)}".lstrip()


class Transaction(WithBlock):
    """Collects writes and sends them as one TransactWriteItems (at most 100).

    After a commit, updated items are read back (TransactGetItems) so they hold
    what DynamoDB holds. If that read fails, the commit still stands: nothing
    is raised, the items keep their state from before the commit, and
    ``refresh_error`` holds the error (it is also logged as a warning).
    """

    def __init__(
        self, *, connection: Connection | None = None, client_request_token: str | None = None
    ) -> None:
        if client_request_token is not None and not 1 <= len(client_request_token) <= 36:
            raise InvalidValue("a client_request_token has 1 to 36 characters (DynamoDB's limit)")
        self.connection = connection
        self.client_request_token = client_request_token or str(uuid.uuid4())
        self._actions: list[_Action] = []
        self._keys: set[tuple[str, Any]] = set()
        self._size = 0  # bytes toward DynamoDB's 4 MB (core.limits.transaction_action_size)
        self.committed = False
        self.refresh_error: DynamoDBError | None = None
        """Set when the commit succeeded but reading back the updated items failed."""

    def __repr__(self) -> str:
        return f"<Transaction of {len(self._actions)} actions>"

    def __len__(self) -> int:
        return len(self._actions)

    # -- collecting ------------------------------------------------------------------

    def _before(self, hook: Any, item: Model) -> None:
        """Run a ``before_`` hook now, while the block builds the transaction (a sync call:
        an ``async def`` hook is refused)."""
        self._connection_for_hooks().run(hook((item,)))

    def _connection_for_hooks(self) -> Connection:
        return self.connection or get_connection()

    def _add(self, write: PreparedWrite, item: Model) -> None:
        ((kind, params),) = transact_action(write).items()
        key = item.get_primary_key_dict()
        label = _label(kind, type(item), key)
        size = transaction_size(self._size, params, label, type(item), key)
        self._remember_key(type(item), item._key())
        self._actions.append(_Action(kind, params, item, write, label))
        self._size = size

    def _remember_key(self, model: type[Model], key: dict[str, Any]) -> None:
        if len(self._actions) >= MAX_ACTIONS:
            raise TransactionTooLarge(f"a transaction takes at most {MAX_ACTIONS} actions")
        schema = model._meta.require_table()
        identity = (schema.table_name, key_identity(key, [f.name for f in schema.key_fields]))
        if identity in self._keys:
            raise DuplicateItem(
                f"{model.__name__} {_plain_key(model, key)}: a transaction may touch each "
                "item only once"
            )
        self._keys.add(identity)

    @staticmethod
    def _condition(condition: Condition | None, call: str, model: type[Model]) -> Condition | None:
        return None if condition is None else require_condition(condition, call, model.__name__)

    def put(
        self, item: Model, *, condition: Condition | None = None, overwrite: bool = True
    ) -> None:
        """Put the whole item (``overwrite=False``: only if its key is free)."""
        condition = self._condition(condition, "tx.put(condition=...)", type(item))
        self._before(lifecycle.before_save, item)
        self._add(prepare_put(item, condition, exists_error=not overwrite), item)

    def save(self, item: Model, *, condition: Condition | None = None) -> None:
        """Like ``item.save()``: its changes as an update, or a put for a new item."""
        condition = self._condition(condition, "tx.save(condition=...)", type(item))
        self._before(lifecycle.before_save, item)
        write = prepare_changes(item, condition)
        if write is not None:
            self._add(write, item)

    def update(
        self,
        item: Model,
        *actions: Actions,
        condition: Condition | None = None,
        must_exist: bool = False,
        **values: Any,
    ) -> None:
        """Like ``item.update(...)``: update actions, keyword arguments as SETs.

        ``must_exist=True``: the transaction is cancelled if the item does not exist
        (its failure says so) instead of creating it.
        """
        condition = self._condition(condition, "tx.update(condition=...)", type(item))
        plan = item._update_plan(actions, values, f"tx.update() of {type(item).__name__}")
        self._before(lifecycle.before_save, item)
        self._add(prepare_update(item, plan, condition, must_exist=must_exist), item)

    def delete(self, item: Model, *, condition: Condition | None = None) -> None:
        """Delete the item (checking its version when it has one)."""
        condition = self._condition(condition, "tx.delete(condition=...)", type(item))
        self._before(lifecycle.before_delete, item)
        self._add(prepare_delete(item, condition), item)

    def check(self, model: type[Model], key: Mapping[str, Any], condition: Condition) -> None:
        """Cancel the transaction unless ``condition`` holds on the item with ``key``."""
        require_condition(condition, "tx.check(model, key, condition)", model.__name__)
        wire_key = model._key_from_values(key)
        placeholders = Placeholders()
        params = {
            "TableName": model._meta.table_name,
            "Key": wire_key,
            "ConditionExpression": condition.render(placeholders),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        placeholders.apply(params)
        label = _label("check", model, key)
        check_expressions(model, params, dict(key))
        size = transaction_size(self._size, params, label, model, dict(key))
        self._remember_key(model, wire_key)
        self._actions.append(_Action("ConditionCheck", params, None, None, label))
        self._size = size

    # -- sending -----------------------------------------------------------------------

    def request(self) -> dict[str, Any]:
        """The TransactWriteItems request (for logging; :meth:`commit` sends it).

        Writes of models with unique fields add their guard items when the
        transaction is sent (after reading what they free, when not known).
        """
        return {
            "TransactItems": [{action.kind: action.params} for action in self._actions],
            "ClientRequestToken": self.client_request_token,
        }

    def _guarded(self) -> Flow[list[_Action]]:
        """The actions to send: each write with the guard items of its unique values."""
        sent: list[_Action] = []
        for action in self._actions:
            unique = action.write.unique if action.write is not None else None
            if unique is None:
                sent.append(action)
                continue
            yield from read_stored(unique)
            assert unique.old is not None
            guards, taken, holds = guard_actions(unique, unique.old)
            params = dict(action.params)
            if holds is not None:
                extend_condition(params, holds, "u")
            sent.append(replace(action, params=params))
            values = iter(taken)
            for guard in guards:
                ((kind, body),) = guard.items()
                label = f"{kind.lower()} the unique guard of {action.label}"
                owner = next(values) if kind == "Put" else None
                sent.append(_Action(kind, body, None, None, label, (unique, owner)))
        if len(sent) > MAX_ACTIONS:
            raise TransactionTooLarge(
                f"a transaction takes at most {MAX_ACTIONS} actions; with the guard items of "
                f"unique fields this one has {len(sent)}"
            )
        return sent

    def _flow(self) -> Flow[None]:
        if self.committed:
            raise TransactionCommitted("this transaction was committed already")
        if not self._actions:
            self.committed = True
            return
        sent = yield from self._guarded()
        request = {
            "TransactItems": [{action.kind: action.params} for action in sent],
            "ClientRequestToken": self.client_request_token,
        }
        try:
            yield from call("TransactWriteItems", request)
        except TransactionCanceled as error:
            raise self._explain(error, sent) from error
        self.committed = True
        stale: list[Model] = []
        for action in self._actions:
            if action.write is not None:
                action.write.on_success({})
                if action.kind == "Update" and action.item is not None:
                    stale.append(action.item)
        if stale:
            yield from self._refresh(stale)
        yield from self._after()

    def _refresh(self, stale: list[Model]) -> Flow[None]:
        """Read the updated items back, so they hold what DynamoDB holds."""
        try:
            fresh = yield from _get_flow(stale, hooks=False)
        except DynamoDBError as error:
            # The writes are committed; a failed read-back must not report them as failed.
            self.refresh_error = error
            # An error's text may hold a stored value (a DecodeError does): only with
            # log_values=True; otherwise its type and the items' models and keys.
            shown = error if self._connection().log_values else type(error).__name__
            _log.warning(
                "transaction %s committed, but reading back its %d updated items (%s) failed: %s",
                self.client_request_token,
                len(stale),
                ", ".join(_label("", type(item), item.get_primary_key_dict()) for item in stale),
                shown,
            )
            return
        for item, stored in zip(stale, fresh, strict=True):
            if stored is not None:
                item._data, item._original = stored._data, stored._original
                item._sealed = stored._sealed

    def _after(self) -> Flow[None]:
        """The ``after_`` hooks of the committed writes."""
        for action in self._actions:
            if action.item is None:
                continue
            hook = lifecycle.after_delete if action.kind == "Delete" else lifecycle.after_save
            yield from hook((action.item,))

    def _explain(
        self, error: TransactionCanceled, sent: list[_Action]
    ) -> TransactionCanceled | UniqueViolation:
        failures: list[str] = []
        for action, reason in zip(sent, error.reasons, strict=False):
            code = reason.get("Code", "None")
            if code in ("None", None):
                continue
            if code == "ConditionalCheckFailed" and action.guard is not None:
                change, taken = action.guard
                if taken is not None:
                    return violation(change.meta, taken[0], taken[1], reason, error)
            explained = reason.get("Message") or code
            if code == "ConditionalCheckFailed" and action.write is not None:
                detail = action.write.explain(cancelled_condition(reason))
                explained = detail.message
            failures.append(f"{action.label}: {code}: {explained}")
        message = "transaction cancelled; " + ("; ".join(failures) or error.message)
        explained_error = TransactionCanceled(
            message, code=error.code, response=error.response, operation=error.operation
        )
        explained_error.failures = failures
        return explained_error

    def commit(self) -> None:
        """Send the transaction now (``with`` does this on exit)."""
        with tracing.call_span("transaction.commit"):
            self._connection().run(self._named_flow())

    async def acommit(self) -> None:
        """Async twin of :meth:`commit`."""
        with tracing.call_span("transaction.commit"):
            await self._connection().arun(warming_keys(self._named_flow(), self._models()))

    def _named_flow(self) -> Flow[None]:
        """:meth:`_flow`, naming a missing table and its model."""
        return naming_missing_tables(self._flow(), self._models())

    def _models(self) -> list[type[Model]]:
        return [type(action.item) for action in self._actions if action.item is not None]

    def _connection(self) -> Connection:
        if self.connection is not None:
            return self.connection
        for action in self._actions:
            if action.item is not None:
                return type(action.item)._meta.connection(None)
        return get_connection()

    def _end(self, ok: bool) -> None:
        if ok:
            self.commit()

    async def _aend(self, ok: bool) -> None:
        if ok:
            await self.acommit()


def transaction(
    *, connection: Connection | None = None, client_request_token: str | None = None
) -> Transaction:
    """A transaction to fill in a ``with`` block; sent when the block ends without error."""
    return Transaction(connection=connection, client_request_token=client_request_token)


def atransaction(
    *, connection: Connection | None = None, client_request_token: str | None = None
) -> Transaction:
    """A transaction for ``async with``; sent when the block ends without error."""
    return Transaction(connection=connection, client_request_token=client_request_token)


def _targets(requests: Iterable[Any]) -> list[tuple[type[Model], dict[str, Any]]]:
    targets: list[tuple[type[Model], dict[str, Any]]] = []
    for request in requests:
        if hasattr(type(request), "_meta") and not isinstance(request, type):
            targets.append((type(request), request._key()))
        elif isinstance(request, tuple) and len(request) == 2:
            model, key = request
            targets.append((model, model._key_from_values(key)))
        else:
            raise InvalidArgument(
                f"transact_get() takes model instances or (Model, key) pairs, not {request!r}"
            )
    if len(targets) > MAX_ACTIONS:
        raise TransactionTooLarge(f"transact_get() reads at most {MAX_ACTIONS} items in one call")
    return targets


def _get_flow(requests: Sequence[Any], *, hooks: bool = True) -> Flow[list[Any]]:
    targets = _targets(requests)
    if not targets:
        return []
    request = {
        "TransactItems": [
            {"Get": {"TableName": model._meta.table_name, "Key": key}} for model, key in targets
        ]
    }
    response = yield from call("TransactGetItems", request)
    results: list[Any] = []
    for (model, _), entry in zip(targets, response.get("Responses", []), strict=True):
        item = entry.get("Item")
        results.append(model._meta.loader()(item, None) if item else None)
    if hooks:
        yield from lifecycle.after_load(results)
    return results


def transact_get(requests: Iterable[Any], *, connection: Connection | None = None) -> list[Any]:
    """Read up to 100 items in one consistent snapshot; None for missing ones.

    ``requests`` holds model instances (re-read by key) or ``(Model, key)`` pairs.
    """
    targets = list(requests)
    with tracing.call_span("transact_get"):
        return _connection_for(targets, connection).run(_named_get_flow(targets))


async def atransact_get(
    requests: Iterable[Any], *, connection: Connection | None = None
) -> list[Any]:
    """Async twin of :func:`transact_get`."""
    targets = list(requests)
    flow = warming_keys(_named_get_flow(targets), _models_of(targets))
    with tracing.call_span("transact_get"):
        return await _connection_for(targets, connection).arun(flow)


def _named_get_flow(requests: Sequence[Any]) -> Flow[list[Any]]:
    """:func:`_get_flow`, naming a missing table and its model."""
    return naming_missing_tables(_get_flow(requests), _models_of(requests))


def _models_of(requests: Sequence[Any]) -> list[type[Any]]:
    """The models of transact_get's requests (instances or ``(Model, key)`` pairs)."""
    return [request[0] if isinstance(request, tuple) else type(request) for request in requests]


def _plain_key(model: type[Model], key: Mapping[str, Any]) -> dict[str, Any]:
    """A wire key as ``{python name: value}``, for messages."""
    fields = model._meta.fields_by_name
    return {fields[name].attr: fields[name].from_wire(value) for name, value in key.items()}


def _connection_for(requests: Sequence[Any], connection: Connection | None) -> Connection:
    if connection is not None:
        return connection
    for request in requests:
        model = request[0] if isinstance(request, tuple) else type(request)
        return model._meta.connection(None)  # type: ignore[no-any-return]
    return get_connection()
