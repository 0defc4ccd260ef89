"""Retrying by what a request does (``dynamodb.core.retries``): pure, no server.

The rules are checked on the requests the models really build, and the retry
wrapper is driven through a :class:`~dynamodb.MockTransport` whose handler
fails on cue, so what a caller sees (a result, a resend, an OutcomeUnknown) is
asserted without a network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    InternalServerError,
    ListField,
    MockTransport,
    Model,
    OutcomeUnknown,
    ProvisionedThroughputExceeded,
    SetField,
    TransportError,
    ValidationError,
    VersionField,
)
from dynamodb.core.retries import is_idempotent


class Counter(Model):
    __table_name__ = "unit_retries_counter"

    id = CharField(hash_key=True)
    n = IntegerField()
    title = CharField()
    tags = SetField(of=str)
    log = ListField()


class Versioned(Model):
    __table_name__ = "unit_retries_versioned"

    id = CharField(hash_key=True)
    title = CharField()
    version = VersionField()


Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


class Script:
    """A handler that fails the first ``failures`` calls with ``error``, then answers."""

    def __init__(self, error: Exception, failures: int, answer: dict[str, Any]) -> None:
        self.error, self.failures, self.answer = error, failures, answer
        self.calls: list[str] = []

    def __call__(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(operation)
        if len(self.calls) <= self.failures:
            raise self.error
        return self.answer


@pytest.fixture
def connect() -> Iterator[Callable[[Handler], Connection]]:
    made: list[Connection] = []

    def make(handler: Handler) -> Connection:
        connection = Connection(transport=MockTransport(handler), max_attempts=3)
        made.append(connection)
        return connection

    yield make
    for connection in made:
        connection.close()


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff delays of zero: the tests count sends, they do not wait."""
    monkeypatch.setattr(dynamodb.RetryPolicy, "delay", lambda self, attempt, rng=None: 0.0)


LOST = TransportError("connection reset after the request was sent", sent=True)
NOT_SENT = TransportError("connection refused", sent=False)
ITEM = {"Attributes": {"id": {"S": "c"}, "n": {"N": "1"}}}


# -- which requests are idempotent ------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetItem", {}, True),
        ("Query", {}, True),
        ("Scan", {}, True),
        ("BatchGetItem", {}, True),
        ("TransactGetItems", {}, True),
        ("DescribeTable", {}, True),
        ("BatchWriteItem", {}, True),
        ("TransactWriteItems", {"ClientRequestToken": "t"}, True),
        ("PutItem", {}, True),
        ("PutItem", {"ConditionExpression": "attribute_not_exists(#n0)"}, False),
        ("DeleteItem", {}, True),
        ("DeleteItem", {"ConditionExpression": "#n0 = :v0"}, False),
        ("UpdateItem", {"UpdateExpression": "SET #n0 = :v0, #n1 = :v1"}, True),
        ("UpdateItem", {"UpdateExpression": "SET #n0 = :v0 REMOVE #n1"}, True),
        ("UpdateItem", {"UpdateExpression": "DELETE #n0 :v0"}, True),
        ("UpdateItem", {"UpdateExpression": "SET #n0 = if_not_exists(#n0, :v0)"}, True),
        ("UpdateItem", {"UpdateExpression": "ADD #n0 :v0"}, False),
        ("UpdateItem", {"UpdateExpression": "SET #n0 = list_append(#n0, :v0)"}, False),
        ("UpdateItem", {"UpdateExpression": "SET #n0 = if_not_exists(#n0, :v0) + :v1"}, False),
        ("UpdateItem", {"UpdateExpression": "SET #n0 = #n0 - :v0"}, False),
        ("UpdateItem", {"UpdateExpression": "REMOVE #n0[1]"}, False),
        (
            "UpdateItem",
            {"UpdateExpression": "SET #n0 = :v0", "ConditionExpression": "#n1 = :v1"},
            False,
        ),
        ("CreateTable", {}, False),
        ("DeleteTable", {}, False),
    ],
)
def test_what_is_idempotent(operation: str, params: dict[str, Any], expected: bool) -> None:
    assert is_idempotent(operation, params) is expected


# -- what is resent ---------------------------------------------------------------------


@pytest.mark.parametrize("error", [LOST, InternalServerError("try again")])
def test_an_idempotent_update_is_resent_after_an_unknown_outcome(
    connect: Callable[[Handler], Connection], error: Exception
) -> None:
    script = Script(error, 2, ITEM)
    item = Counter(id="c").update(Counter.title.set("x"), connection=connect(script))
    assert script.calls == ["UpdateItem"] * 3
    assert item.n == 1


@pytest.mark.parametrize("error", [LOST, InternalServerError("try again")])
def test_an_add_whose_outcome_is_unknown_is_not_resent(
    connect: Callable[[Handler], Connection], error: Exception
) -> None:
    script = Script(error, 1, ITEM)
    with pytest.raises(OutcomeUnknown) as caught:
        Counter.add(id="c", n=1, connection=connect(script))
    assert script.calls == ["UpdateItem"]
    unknown = caught.value
    assert (unknown.operation, unknown.table, unknown.key) == (
        "UpdateItem",
        "unit_retries_counter",
        {"id": "c"},
    )
    assert unknown.cause is error
    assert "may or may not have been applied" in str(unknown)
    assert "idempotent=True" in str(unknown)


@pytest.mark.parametrize(
    "action",
    [
        lambda: Counter.log.list_append(["x"]),
        lambda: Counter.log[1].remove(),
        lambda: Counter.tags.add({"x"}),
    ],
)
def test_appends_removals_by_index_and_set_adds_are_not_resent(
    connect: Callable[[Handler], Connection], action: Callable[[], Any]
) -> None:
    script = Script(LOST, 1, ITEM)
    with pytest.raises(OutcomeUnknown):
        Counter(id="c").update(action(), connection=connect(script))
    assert script.calls == ["UpdateItem"]


@pytest.mark.parametrize(
    "error", [ProvisionedThroughputExceeded("slow down"), NOT_SENT], ids=["throttled", "refused"]
)
def test_a_refused_request_is_resent_whatever_it_does(
    connect: Callable[[Handler], Connection], error: Exception
) -> None:
    script = Script(error, 2, ITEM)
    item = Counter.add(id="c", n=1, connection=connect(script))
    assert script.calls == ["UpdateItem"] * 3
    assert item.n == 1


def test_the_budget_ends_with_the_last_error(connect: Callable[[Handler], Connection]) -> None:
    script = Script(ProvisionedThroughputExceeded("slow down"), 10, ITEM)
    with pytest.raises(ProvisionedThroughputExceeded):
        Counter.add(id="c", n=1, connection=connect(script))
    assert script.calls == ["UpdateItem"] * 3  # max_attempts


def test_an_answered_error_is_never_resent(connect: Callable[[Handler], Connection]) -> None:
    script = Script(ValidationError("bad request"), 1, ITEM)
    with pytest.raises(ValidationError):
        Counter(id="c").update(Counter.title.set("x"), connection=connect(script))
    assert script.calls == ["UpdateItem"]


def test_a_dirty_save_is_resent_its_exists_check_is_harmless(
    connect: Callable[[Handler], Connection],
) -> None:
    answers = {"id": {"S": "c"}, "title": {"S": "old"}}
    item = Counter._from_wire(answers)
    item.title = "new"
    script = Script(LOST, 1, {"Attributes": {**answers, "title": {"S": "new"}}})
    item.save(connection=connect(script))
    assert script.calls == ["UpdateItem", "UpdateItem"]
    assert item.title == "new"


def test_a_version_bump_is_not_resent(connect: Callable[[Handler], Connection]) -> None:
    item = Versioned._from_wire({"id": {"S": "v"}, "title": {"S": "a"}, "version": {"N": "1"}})
    item.title = "b"
    script = Script(LOST, 1, {})
    with pytest.raises(OutcomeUnknown) as caught:
        item.save(connection=connect(script))
    assert script.calls == ["UpdateItem"]
    assert caught.value.key == {"id": "v"}


# -- idempotent=True: one transaction, resent safely -------------------------------------


def test_idempotent_true_sends_one_transaction_and_resends_it_with_its_token(
    connect: Callable[[Handler], Connection],
) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        sent.append((operation, params))
        if operation == "TransactWriteItems" and len(sent) == 1:
            raise LOST
        if operation == "GetItem":
            return {"Item": {"id": {"S": "c"}, "n": {"N": "5"}}}
        return {}

    item = Counter.add(id="c", n=1, idempotent=True, connection=connect(handler))
    assert [operation for operation, _ in sent] == [
        "TransactWriteItems",
        "TransactWriteItems",
        "GetItem",
    ]
    first, second = sent[0][1], sent[1][1]
    assert first == second  # the same ClientRequestToken: DynamoDB applies it once
    (action,) = first["TransactItems"]
    assert action["Update"]["UpdateExpression"] == "ADD #n0 :v0"
    assert "ReturnValues" not in action["Update"]
    assert sent[2][1]["ConsistentRead"] is True
    assert item.n == 5  # what DynamoDB holds, read back


def test_idempotent_true_keeps_the_failed_condition_error(
    connect: Callable[[Handler], Connection],
) -> None:
    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        reasons = [{"Code": "ConditionalCheckFailed", "Item": {"id": {"S": "v"}}}]
        raise dynamodb.TransactionCanceled("cancelled", response={"CancellationReasons": reasons})

    item = Versioned._from_wire({"id": {"S": "v"}, "title": {"S": "a"}, "version": {"N": "1"}})
    item.title = "b"
    with pytest.raises(dynamodb.VersionConflict, match="expected version 1, found None"):
        item.save(idempotent=True, connection=connect(handler))


# -- conditional puts and deletes: confirmed after a lost answer --------------------------


def test_a_lost_create_that_stored_this_item_succeeds(
    connect: Callable[[Handler], Connection],
) -> None:
    calls: list[str] = []

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        calls.append(operation)
        if operation == "PutItem":
            raise LOST
        return {"Item": {"id": {"S": "k"}, "n": {"N": "7"}}}  # what the lost put stored

    item = Counter.create(id="k", n=7, overwrite=False, connection=connect(handler))
    assert calls == ["PutItem", "GetItem"]
    assert item.n == 7


def test_a_lost_create_of_a_key_another_writer_took_is_resent_and_refused(
    connect: Callable[[Handler], Connection],
) -> None:
    calls: list[str] = []

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        calls.append(operation)
        if operation == "GetItem":
            return {"Item": {"id": {"S": "k"}, "n": {"N": "99"}}}  # someone else's
        if len(calls) == 1:
            raise LOST
        raise dynamodb.ConditionalCheckFailed(
            "the condition is false", response={"Item": {"id": {"S": "k"}, "n": {"N": "99"}}}
        )

    with pytest.raises(dynamodb.ItemAlreadyExists, match=r"\{'id': 'k'\} exists already"):
        Counter.create(id="k", n=7, overwrite=False, connection=connect(handler))
    assert calls == ["PutItem", "GetItem", "PutItem"]


def test_a_lost_conditional_delete_of_an_item_now_gone_succeeds(
    connect: Callable[[Handler], Connection],
) -> None:
    calls: list[str] = []

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        calls.append(operation)
        if operation == "DeleteItem":
            raise LOST
        return {}  # GetItem: no item

    Counter(id="k").delete(condition=Counter.n.eq(1), connection=connect(handler))
    assert calls == ["DeleteItem", "GetItem"]
