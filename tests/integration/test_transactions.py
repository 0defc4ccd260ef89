"""Transactions against DynamoDB Local: ``dynamodb.transaction()`` / ``atransaction()``,
``transact_get`` / ``atransact_get``.

A committed transaction applies every action and refreshes the items in
memory; a cancelled one applies nothing and says which actions failed and
why; nothing is sent when the ``with`` block raises or the transaction is
malformed (an item twice, more than 100 actions).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    Model,
    ServiceError,
    TransactionCanceled,
    VersionField,
)

Tables = Callable[..., None]


class Account(Model):
    __table_name__ = "test_transactions_account"

    owner = CharField(hash_key=True)
    balance = IntegerField(default=0)
    note = CharField()


class Order(Model):
    __table_name__ = "test_transactions_order"

    order_id = CharField(hash_key=True)
    line = IntegerField(range_key=True)
    total = IntegerField()
    version = VersionField()


class Gate(Model):
    __table_name__ = "test_transactions_gate"

    name = CharField(hash_key=True)
    hits = IntegerField(default=0)


class RecordingConnection(Connection):
    """A real connection that also records the operations it sends."""

    def __init__(self, base: Connection) -> None:
        super().__init__(
            endpoint_url=base.endpoint_url,
            region_name=base.region_name,
            aws_access_key_id=base.aws_access_key_id,
            aws_secret_access_key=base.aws_secret_access_key,
        )
        self.sent: list[tuple[str, dict[str, Any]]] = []

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.sent]

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((operation, params))
        return super().send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((operation, params))
        return await super().asend(operation, params)


@pytest.fixture
def bank(tables: Tables) -> None:
    """ann (100), bob (20), carl (5); gate "open" (3 hits); order o1/1 at version 1."""
    tables(Account, Order, Gate)
    Account.create(owner="ann", balance=100, note="first")
    Account.create(owner="bob", balance=20)
    Account.create(owner="carl", balance=5)
    Gate.create(name="open", hits=3)
    Order.create(order_id="o1", line=1, total=10)


def balances() -> dict[str, int]:
    accounts = Account.batch_get(
        *[{"owner": owner} for owner in ("ann", "bob", "carl", "dave")], consistent=True
    )
    return {account.owner: account.balance for account in accounts}


def reason_codes(error: TransactionCanceled) -> list[str]:
    return [reason.get("Code", "") for reason in error.reasons]


def read(model: type[Any], **key: Any) -> Any:
    item = model.get(consistent=True, **key)
    assert item is not None, key
    return item


# -- success -------------------------------------------------------------------------------


@pytest.mark.usefixtures("bank")
def test_put_update_delete_and_check_commit_together() -> None:
    ann = read(Account, owner="ann")
    carl = read(Account, owner="carl")
    order = Order(order_id="o2", line=1, total=30)
    dave = Account(owner="dave", balance=7)

    with dynamodb.transaction() as tx:
        tx.put(order, condition=Order.order_id.not_exists())
        tx.put(dave, overwrite=False)
        tx.update(ann, Account.balance.add(-30), condition=Account.balance.gte(30), note="paid")
        tx.delete(carl)
        tx.check(Gate, {"name": "open"}, Gate.hits.gt(0))
        assert len(tx) == 5
        assert tx.committed is False

    assert tx.committed is True
    assert balances() == {"ann": 70, "bob": 20, "dave": 7}
    assert Account.get(owner="carl", consistent=True) is None
    stored_order = read(Order, order_id="o2", line=1)
    assert (stored_order.total, stored_order.version) == (30, 1)

    # the items in memory hold what DynamoDB holds
    assert (ann.balance, ann.note) == (70, "paid")
    assert ann == read(Account, owner="ann")
    assert order.version == 1
    assert order == stored_order
    assert dave == read(Account, owner="dave")
    # and are ready for dirty saves
    ann.note = "changed later"
    ann.save()
    assert read(Account, owner="ann").note == "changed later"


@pytest.mark.usefixtures("bank")
def test_save_of_changes_and_versioned_update_in_a_transaction() -> None:
    order = read(Order, order_id="o1", line=1)
    bob = read(Account, owner="bob")
    bob.balance = 25
    assert order.version == 1

    with dynamodb.transaction() as tx:
        tx.save(bob)
        tx.update(order, total=11)

    assert bob.balance == 25
    assert (order.total, order.version) == (11, 2)
    assert read(Order, order_id="o1", line=1) == order
    assert read(Account, owner="bob").balance == 25

    with dynamodb.transaction() as tx:
        tx.save(bob)  # nothing changed: no action
        assert len(tx) == 0
    assert tx.committed is True


@pytest.mark.usefixtures("bank")
def test_versioned_put_and_delete_in_a_transaction() -> None:
    order = read(Order, order_id="o1", line=1)
    fresh = Order(order_id="o9", line=3, total=1)
    with dynamodb.transaction() as tx:
        tx.delete(order)
        tx.put(fresh)
    assert Order.get(order_id="o1", line=1, consistent=True) is None
    assert fresh.version == 1
    assert read(Order, order_id="o9", line=3) == fresh


# -- nothing sent --------------------------------------------------------------------------


@pytest.mark.usefixtures("bank")
def test_nothing_is_sent_when_the_block_raises(connection: Connection) -> None:
    recording = RecordingConnection(connection)
    ann = read(Account, owner="ann")

    bob = read(Account, owner="bob")

    def fill_then_fail(tx: dynamodb.Transaction) -> None:
        tx.update(ann, Account.balance.add(-50))
        tx.delete(bob)
        raise RuntimeError("changed my mind")

    tx = dynamodb.transaction(connection=recording)
    with pytest.raises(RuntimeError, match="changed my mind"), tx:
        fill_then_fail(tx)

    assert recording.operations == []
    assert tx.committed is False
    assert balances() == {"ann": 100, "bob": 20, "carl": 5}
    assert ann.balance == 100


@pytest.mark.usefixtures("bank")
def test_an_empty_transaction_sends_nothing(connection: Connection) -> None:
    recording = RecordingConnection(connection)
    with dynamodb.transaction(connection=recording) as tx:
        pass
    assert recording.operations == []
    assert tx.committed is True
    with pytest.raises(RuntimeError, match="committed already"):
        tx.commit()


@pytest.mark.usefixtures("bank")
def test_the_transaction_is_sent_once_as_one_request(connection: Connection) -> None:
    recording = RecordingConnection(connection)
    with dynamodb.transaction(connection=recording) as tx:
        tx.put(Account(owner="dave"))
        tx.delete(read(Account, owner="carl"))
    assert recording.operations == ["TransactWriteItems"]  # no update: nothing to re-read
    _, params = recording.sent[0]
    assert params == {**tx.request(), "ReturnConsumedCapacity": "TOTAL"}  # the connection asks
    assert [next(iter(action)) for action in params["TransactItems"]] == ["Put", "Delete"]
    assert params["ClientRequestToken"] == tx.client_request_token


# -- cancellations ---------------------------------------------------------------------------


@pytest.mark.usefixtures("bank")
def test_put_without_overwrite_on_an_existing_key_cancels() -> None:
    tx = dynamodb.transaction()
    tx.put(Account(owner="dave", balance=1))
    tx.put(Account(owner="ann", balance=0), overwrite=False)
    with pytest.raises(TransactionCanceled) as raised, tx:
        pass

    error = raised.value
    assert reason_codes(error) == ["None", "ConditionalCheckFailed"]
    assert len(error.failures) == 1
    assert error.failures[0].startswith("put Account {'owner': 'ann'}: ConditionalCheckFailed: ")
    assert "exists already" in error.failures[0]
    assert error.failures[0] in str(error)
    assert tx.committed is False
    assert balances() == {"ann": 100, "bob": 20, "carl": 5}  # dave was not written


@pytest.mark.usefixtures("bank")
def test_a_failed_update_condition_cancels() -> None:
    ann = read(Account, owner="ann")
    bob = read(Account, owner="bob")
    tx = dynamodb.transaction()
    tx.update(bob, Account.balance.add(500))
    tx.update(ann, Account.balance.add(-500), condition=Account.balance.gte(500))
    with pytest.raises(TransactionCanceled) as raised:
        tx.commit()

    error = raised.value
    assert reason_codes(error) == ["None", "ConditionalCheckFailed"]
    assert [failure.split(":")[0] for failure in error.failures] == ["update Account {'owner'"]
    assert error.failures[0].startswith("update Account {'owner': 'ann'}: ConditionalCheckFailed")
    assert balances() == {"ann": 100, "bob": 20, "carl": 5}
    assert (ann.balance, bob.balance) == (100, 20)  # the items in memory are unchanged


@pytest.mark.usefixtures("bank")
def test_a_failed_check_cancels() -> None:
    tx = dynamodb.transaction()
    tx.put(Account(owner="dave"))
    tx.check(Gate, {"name": "open"}, Gate.hits.gt(100))
    tx.delete(read(Account, owner="carl"))
    with pytest.raises(TransactionCanceled) as raised:
        tx.commit()

    error = raised.value
    assert reason_codes(error) == ["None", "ConditionalCheckFailed", "None"]
    assert len(error.failures) == 1
    assert error.failures[0].startswith("check Gate {'name': 'open'}: ConditionalCheckFailed")
    assert error.reasons[1].get("Item") == {"name": {"S": "open"}, "hits": {"N": "3"}}
    assert balances() == {"ann": 100, "bob": 20, "carl": 5}


@pytest.mark.usefixtures("bank")
def test_a_check_on_a_missing_item_cancels() -> None:
    tx = dynamodb.transaction()
    tx.check(Gate, {"name": "closed"}, Gate.name.exists())
    tx.put(Account(owner="dave"))
    with pytest.raises(TransactionCanceled) as raised:
        tx.commit()
    assert reason_codes(raised.value) == ["ConditionalCheckFailed", "None"]
    assert raised.value.failures[0].startswith("check Gate {'name': 'closed'}")
    assert "dave" not in balances()


@pytest.mark.parametrize("action", ["update", "delete", "save"])
@pytest.mark.usefixtures("bank")
def test_a_stale_version_cancels_with_a_version_conflict_reason(action: str) -> None:
    stale = read(Order, order_id="o1", line=1)
    newer = read(Order, order_id="o1", line=1)
    newer.update(total=99)  # someone else saved it: version 2
    assert newer.version == 2

    tx = dynamodb.transaction()
    tx.put(Account(owner="dave"))
    if action == "update":
        tx.update(stale, total=1)
    elif action == "delete":
        tx.delete(stale)
    else:
        stale.total = 2
        tx.save(stale)
    with pytest.raises(TransactionCanceled) as raised:
        tx.commit()

    error = raised.value
    assert reason_codes(error) == ["None", "ConditionalCheckFailed"]
    (failure,) = error.failures
    assert failure.startswith(f"{action if action != 'save' else 'update'} Order ")
    assert "expected version 1, found 2" in failure
    assert "read it again" in failure
    stored = read(Order, order_id="o1", line=1)
    assert (stored.total, stored.version) == (99, 2)
    assert "dave" not in balances()


@pytest.mark.usefixtures("bank")
def test_every_failing_action_is_named() -> None:
    ann = read(Account, owner="ann")
    tx = dynamodb.transaction()
    tx.put(Account(owner="bob"), overwrite=False)
    tx.update(ann, Account.balance.add(1))
    tx.check(Gate, {"name": "open"}, Gate.hits.eq(0))
    tx.put(Order(order_id="o1", line=1, total=0))  # new item, but version 1 exists
    with pytest.raises(TransactionCanceled) as raised:
        tx.commit()

    error = raised.value
    assert reason_codes(error) == [
        "ConditionalCheckFailed",
        "None",
        "ConditionalCheckFailed",
        "ConditionalCheckFailed",
    ]
    assert [failure.split(":")[0] for failure in error.failures] == [
        "put Account {'owner'",
        "check Gate {'name'",
        "put Order {'order_id'",
    ]
    assert "expected version None, found 1" in error.failures[2]
    assert balances()["ann"] == 100


# -- refused before sending -------------------------------------------------------------------


@pytest.mark.usefixtures("bank")
def test_one_item_twice_is_refused_before_sending(connection: Connection) -> None:
    recording = RecordingConnection(connection)
    ann = read(Account, owner="ann")

    tx = dynamodb.transaction(connection=recording)
    tx.update(ann, Account.balance.add(1))
    with pytest.raises(ValueError, match="only once"):
        tx.put(Account(owner="ann", balance=0))
    assert len(tx) == 1

    tx = dynamodb.transaction(connection=recording)
    tx.check(Gate, {"name": "open"}, Gate.hits.gt(0))
    with pytest.raises(ValueError, match="only once"):
        tx.delete(read(Gate, name="open"))

    tx = dynamodb.transaction(connection=recording)
    tx.put(Order(order_id="o5", line=1))
    tx.put(Order(order_id="o5", line=2))  # another item: fine
    with pytest.raises(ValueError, match="only once"):
        tx.delete(Order(order_id="o5", line=1))
    assert len(tx) == 2

    # raised inside the with block: nothing is sent
    def dave_twice(tx: dynamodb.Transaction) -> None:
        tx.put(Account(owner="dave"))
        tx.update(Account(owner="dave"), balance=1)

    tx = dynamodb.transaction(connection=recording)
    with pytest.raises(ValueError, match="only once"), tx:
        dave_twice(tx)

    assert recording.operations == []
    assert balances() == {"ann": 100, "bob": 20, "carl": 5}


@pytest.mark.usefixtures("bank")
def test_an_update_without_actions_is_refused_before_sending(connection: Connection) -> None:
    recording = RecordingConnection(connection)
    tx = dynamodb.transaction(connection=recording)
    with pytest.raises(ValueError, match="at least one action"):
        tx.update(read(Account, owner="ann"))
    with pytest.raises(ValueError, match="at least one action"):
        tx.update(read(Order, order_id="o1", line=1))  # the version bump alone is no update
    assert len(tx) == 0
    tx.commit()
    assert recording.operations == []


@pytest.mark.usefixtures("bank")
def test_more_than_100_actions_are_refused(connection: Connection) -> None:
    recording = RecordingConnection(connection)
    tx = dynamodb.transaction(connection=recording)
    for n in range(100):
        tx.put(Order(order_id="bulk", line=n, total=n))
    with pytest.raises(ValueError, match="at most 100"):
        tx.put(Order(order_id="bulk", line=100, total=100))
    with pytest.raises(ValueError, match="at most 100"):
        tx.check(Gate, {"name": "open"}, Gate.hits.gt(0))
    assert len(tx) == 100
    assert recording.operations == []
    assert Order.item_count(exact=True) == 1

    with dynamodb.transaction() as tx:
        for n in range(99):
            tx.put(Order(order_id="bulk", line=n, total=n))
        tx.check(Gate, {"name": "open"}, Gate.hits.gt(0))
    assert Order.item_count(exact=True) == 100


# -- idempotency ------------------------------------------------------------------------------


@pytest.mark.usefixtures("bank")
def test_the_client_request_token_makes_a_repeat_a_no_op(connection: Connection) -> None:
    token = str(uuid.uuid4())  # at most 36 characters
    gate = read(Gate, name="open")
    tx = dynamodb.transaction(client_request_token=token)
    with tx:
        tx.update(gate, Gate.hits.add(1))
    assert tx.request()["ClientRequestToken"] == token
    assert gate.hits == 4

    # the same request with the same token, within 10 minutes: applied once
    connection.send("TransactWriteItems", tx.request())
    assert read(Gate, name="open").hits == 4

    # the same token for another request is refused
    other = dynamodb.transaction(client_request_token=token)
    other.update(read(Gate, name="open"), Gate.hits.add(10))
    with pytest.raises(ServiceError) as raised:
        other.commit()
    assert raised.value.code == "IdempotentParameterMismatchException"
    assert read(Gate, name="open").hits == 4

    # a new token is a new transaction
    again = dynamodb.transaction()
    again.update(read(Gate, name="open"), Gate.hits.add(1))
    again.commit()
    assert read(Gate, name="open").hits == 5


def test_each_transaction_gets_its_own_token() -> None:
    first, second = dynamodb.transaction(), dynamodb.transaction()
    assert first.client_request_token != second.client_request_token
    assert len(first.client_request_token) >= 32
    assert first.request() == {
        "TransactItems": [],
        "ClientRequestToken": first.client_request_token,
    }


# -- transact_get ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("bank")
def test_transact_get_of_instances_and_pairs() -> None:
    ann = read(Account, owner="ann")
    ann.balance = -1  # in memory only: transact_get re-reads by key
    results = dynamodb.transact_get(
        [
            ann,
            (Order, {"order_id": "o1", "line": 1}),
            (Account, {"owner": "nobody"}),
            (Gate, {"name": "open"}),
            Order(order_id="o1", line=2),
        ]
    )
    assert [type(result).__name__ if result else None for result in results] == [
        "Account",
        "Order",
        None,
        "Gate",
        None,
    ]
    assert results[0] == read(Account, owner="ann")
    assert results[0] is not ann
    assert results[0].balance == 100
    assert (results[1].total, results[1].version) == (10, 1)
    assert results[3].hits == 3
    assert dynamodb.transact_get([]) == []


def test_transact_get_refuses_bad_requests(connection: Connection) -> None:
    recording = RecordingConnection(connection)
    with pytest.raises(ValueError, match="at most 100"):
        dynamodb.transact_get(
            [(Account, {"owner": f"u{n}"}) for n in range(101)], connection=recording
        )
    with pytest.raises(TypeError, match="transact_get"):
        dynamodb.transact_get([{"owner": "ann"}], connection=recording)
    assert recording.operations == []


# -- async twins ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("bank")
async def test_async_transaction_commits(aconnection: Connection) -> None:
    ann = await Account.aget(owner="ann", consistent=True)
    assert ann is not None
    order = Order(order_id="o3", line=1, total=3)

    async with dynamodb.atransaction() as tx:
        tx.update(ann, Account.balance.add(-1))
        tx.put(order)
        tx.check(Gate, {"name": "open"}, Gate.hits.eq(3))

    assert tx.committed is True
    assert ann.balance == 99
    assert order.version == 1
    results = await dynamodb.atransact_get(
        [(Account, {"owner": "ann"}), order, (Order, {"order_id": "o3", "line": 2})]
    )
    assert results == [ann, order, None]


@pytest.mark.usefixtures("bank")
async def test_async_transaction_cancels_and_sends_nothing_on_error(
    aconnection: Connection,
) -> None:
    tx = dynamodb.atransaction()
    tx.put(Account(owner="dave"))
    tx.check(Gate, {"name": "open"}, Gate.hits.gt(3))
    with pytest.raises(TransactionCanceled) as raised:
        async with tx:
            pass
    assert reason_codes(raised.value) == ["None", "ConditionalCheckFailed"]
    assert raised.value.failures[0].startswith("check Gate {'name': 'open'}")

    def fill_then_fail(tx: dynamodb.Transaction) -> None:
        tx.put(Account(owner="erin"))
        raise KeyError("oops")

    recording = RecordingConnection(aconnection)
    try:
        tx = dynamodb.atransaction(connection=recording)
        with pytest.raises(KeyError):
            async with tx:
                fill_then_fail(tx)
        assert recording.operations == []
    finally:
        await recording.aclose()

    found = await dynamodb.atransact_get([(Account, {"owner": o}) for o in ("dave", "erin")])
    assert found == [None, None]


class _ReadBackFails(RecordingConnection):
    """Sends everything, but the read-back after a commit fails as a lost connection would."""

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "TransactGetItems":  # the answer is lost: it may have been read
            self.sent.append((operation, params))
            raise dynamodb.TransportError("connection dropped while reading back")
        return super().send(operation, params)


@pytest.mark.usefixtures("bank")
def test_a_failed_read_back_does_not_turn_a_commit_into_an_error(
    connection: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    failing = _ReadBackFails(connection)
    ann = read(Account, owner="ann")
    tx = dynamodb.transaction(connection=failing)
    tx.update(ann, Account.balance.add(-30))
    with caplog.at_level("WARNING", logger="dynamodb.transaction"):
        tx.commit()  # does not raise: the write is committed

    # The read is retried (it is idempotent) until the budget runs out, then given up.
    assert failing.operations == ["TransactWriteItems"] + ["TransactGetItems"] * 5
    assert tx.committed is True
    assert isinstance(tx.refresh_error, dynamodb.TransportError)
    assert (
        "committed, but reading back its 1 updated items (Account {'owner': 'ann'}) failed: "
        "TransportError" in caplog.text
    )
    assert read(Account, owner="ann").balance == 70  # applied once
    assert ann.balance == 100  # the item in memory keeps what it held before


@pytest.mark.usefixtures("bank")
def test_a_successful_read_back_leaves_no_refresh_error() -> None:
    ann = read(Account, owner="ann")
    with dynamodb.transaction() as tx:
        tx.update(ann, Account.balance.add(1))
    assert tx.refresh_error is None
    assert ann.balance == 101


@pytest.mark.usefixtures("bank")
def test_a_put_without_overwrite_whose_own_condition_fails_is_not_called_taken() -> None:
    zed = Account(owner="zed", balance=1)
    tx = dynamodb.transaction()
    tx.put(zed, overwrite=False, condition=Account.note.exists())
    with pytest.raises(TransactionCanceled) as caught:
        tx.commit()
    assert reason_codes(caught.value) == ["ConditionalCheckFailed"]
    assert "exists already" not in str(caught.value)  # the key is free: no item is stored
    assert Account.get(owner="zed", consistent=True) is None


@pytest.mark.usefixtures("bank")
def test_a_put_without_overwrite_on_a_taken_key_says_it_exists() -> None:
    tx = dynamodb.transaction()
    tx.put(Account(owner="ann", balance=1), overwrite=False)
    with pytest.raises(TransactionCanceled, match=re.escape("{'owner': 'ann'} exists already")):
        tx.commit()


class AccountNoteAsNumber(Model):
    """Account's table, read with ``note`` as a number: a stored note does not decode."""

    __table_name__ = Account.__table_name__

    owner = CharField(hash_key=True)
    balance = IntegerField(default=0)
    note = IntegerField()


@pytest.mark.parametrize("log_values", [False, True])
@pytest.mark.usefixtures("bank")
def test_a_read_back_that_does_not_decode_logs_no_stored_value(
    connection: Connection, caplog: pytest.LogCaptureFixture, log_values: bool
) -> None:
    Account.create(owner="gil", balance=1, note="pin 4711")
    quiet = Connection(
        endpoint_url=connection.endpoint_url,
        region_name=connection.region_name,
        aws_access_key_id=connection.aws_access_key_id,
        aws_secret_access_key=connection.aws_secret_access_key,
        log_values=log_values,
    )
    try:
        tx = dynamodb.transaction(connection=quiet)
        tx.update(AccountNoteAsNumber(owner="gil"), AccountNoteAsNumber.balance.add(1))
        with caplog.at_level("WARNING", logger="dynamodb.transaction"):
            tx.commit()
    finally:
        quiet.close()
    assert isinstance(tx.refresh_error, dynamodb.DecodeError)
    assert "pin 4711" in str(tx.refresh_error)  # the error itself names what it read
    (record,) = [r for r in caplog.records if r.name == "dynamodb.transaction"]
    message = record.getMessage()
    assert "reading back its 1 updated items (AccountNoteAsNumber {'owner': 'gil'})" in message
    if log_values:
        assert "pin 4711" in message
    else:
        assert message.endswith("failed: DecodeError")
        assert "pin 4711" not in message
    stored = connection.client.get_item(
        TableName=Account.__table_name__, Key={"owner": {"S": "gil"}}
    )
    assert stored["Item"]["balance"] == {"N": "2"}  # the commit stands
