"""Behaviours that no other test pinned down, against DynamoDB Local.

Each test checks what a user sees: an error class, the items DynamoDB holds,
or the requests sent (through a :class:`RecordingConnection`, a real
Connection that also notes what it sends). Where DynamoDB decides (a
condition, a transaction, a missing table), DynamoDB Local decides.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    BooleanField,
    CharField,
    ConditionalCheckFailed,
    Connection,
    DecodeError,
    IntegerField,
    Model,
    RequestLimitExceeded,
    SetField,
    Table,
    WaitPolicy,
    WaitTimeout,
    belongs_to,
    has_many,
)
from tests.integration.helpers import CountingServer, RecordingConnection

Tables = Callable[..., None]

# -- models ---------------------------------------------------------------------------

READINGS = "test_guarded_readings"


class GuardedReading(Model):
    """The model that reads the table."""

    __table_name__ = READINGS

    sensor = CharField(hash_key=True)
    count = IntegerField()
    label = CharField()


class GuardedReadingBefore(Model):
    """An earlier model of the same table, from when ``count`` held text (the same entity)."""

    __table_name__ = READINGS
    __entity__ = "GuardedReading"

    sensor = CharField(hash_key=True)
    count = CharField()
    label = CharField()


class GuardedAccount(Model):
    __table_name__ = "test_guarded_accounts"

    owner = CharField(hash_key=True)
    balance = IntegerField(default=0)
    note = CharField()


class GuardedLeft(Model):
    """Same key schema as GuardedRight, another table."""

    __table_name__ = "test_guarded_left"

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    note = CharField()


class GuardedRight(Model):
    __table_name__ = "test_guarded_right"

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    note = CharField()


class GuardedGhost(Model):
    """A model whose table is never created."""

    __table_name__ = "test_guarded_no_such_table"

    pk = CharField(hash_key=True)


class GuardedShelf(Model):
    __table_name__ = "test_guarded_shelves"

    name = CharField(hash_key=True)
    books = has_many("GuardedBook")


class GuardedBook(Model):
    """Its foreign-key index projects the title only (besides the keys)."""

    __table_name__ = "test_guarded_books"

    isbn = CharField(hash_key=True)
    title = CharField()
    pages = IntegerField()
    shelf_id = CharField()  # the link, declared for type checkers (the association reuses it)

    shelf = belongs_to(GuardedShelf, projection=["title"])


class GuardedNumbers(Model):
    __table_name__ = "test_guarded_numbers"

    pk = CharField(hash_key=True)
    nums = SetField()  # no of=: the members decide (here, numbers)


class GuardedEntry(Model):
    __table_name__ = "test_guarded_entries"

    feed = CharField(hash_key=True)
    seq = IntegerField(range_key=True)
    shown = BooleanField()


# -- fixtures and helpers -----------------------------------------------------------


@pytest.fixture
def recording(dynamodb_endpoint: str, connection: Connection) -> Iterator[RecordingConnection]:
    """A second connection to DynamoDB Local that records what it sends."""
    recorder = RecordingConnection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield recorder
    recorder.close()


class BudgetedConnection(RecordingConnection):
    """A RecordingConnection that refuses to send more than ``budget`` requests.

    A wait that ignored its policy would poll for the default ten minutes; this
    makes such a test fail at once instead of hanging.
    """

    def __init__(self, budget: int, **options: Any) -> None:
        super().__init__(**options)
        self.budget = budget

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if len(self.sent) >= self.budget:
            raise RuntimeError(f"more than {self.budget} requests: the wait did not stop")
        return super().send(operation, params)


def raw_item(connection: Connection, table: str, key: dict[str, Any]) -> dict[str, Any]:
    """The item as DynamoDB stores it (AttributeValues), read with the botocore client."""
    response = connection.client.get_item(TableName=table, Key=key, ConsistentRead=True)
    item: dict[str, Any] = response["Item"]
    return item


# -- 1. a stored value that does not fit its field ------------------------------------


def test_a_value_written_by_an_older_model_raises_decode_error(tables: Tables) -> None:
    tables(GuardedReading)
    GuardedReadingBefore.create(sensor="s1", count="seven", label="kitchen")

    with pytest.raises(DecodeError) as caught:
        GuardedReading.get(sensor="s1")

    error = caught.value
    assert not isinstance(error, KeyError)
    assert isinstance(error, ValueError)  # DecodeError is also a ValueError
    assert (error.model, error.field, error.attribute) == (
        "GuardedReading",
        "count",
        {"S": "seven"},
    )
    assert str(error).startswith("GuardedReading.count: cannot read stored value {'S': 'seven'}")
    # The same item read by the model that wrote it is fine.
    before = GuardedReadingBefore.get(sensor="s1")
    assert before is not None
    assert before.count == "seven"


@pytest.mark.parametrize(
    ("attribute", "stored", "reason"),
    [
        ("count", {"S": "7"}, "KeyError"),  # a string in an IntegerField
        ("count", {"N": "1.5"}, "not a whole number"),  # a fraction in an IntegerField
        ("label", {"N": "5"}, "KeyError"),  # a number in a CharField
        ("label", {"SS": ["a", "b"]}, "KeyError"),  # a string set in a CharField
    ],
)
def test_a_raw_item_of_the_wrong_type_raises_decode_error_on_every_read(
    tables: Tables, connection: Connection, attribute: str, stored: dict[str, Any], reason: str
) -> None:
    tables(GuardedReading)
    connection.client.put_item(TableName=READINGS, Item={"sensor": {"S": "s1"}, attribute: stored})

    reads: list[Callable[[], object]] = [
        lambda: GuardedReading.get(sensor="s1"),
        lambda: GuardedReading.query().where(GuardedReading.sensor.eq("s1")).all(),
        lambda: GuardedReading.scan().all(),
    ]
    for read in reads:
        with pytest.raises(DecodeError, match=re.escape(reason)) as caught:
            read()
        assert (caught.value.model, caught.value.field) == ("GuardedReading", attribute)
        assert caught.value.attribute == stored


# -- 2. a conditional save of an unchanged item -------------------------------------


def test_saving_an_unchanged_item_still_checks_its_condition(
    tables: Tables, recording: RecordingConnection
) -> None:
    tables(GuardedAccount)
    GuardedAccount.create(owner="ann", balance=10, note="opened")
    item = GuardedAccount.get(owner="ann")
    assert item is not None

    # Without a condition an unchanged item sends nothing at all ...
    item.save(connection=recording)
    assert recording.operations == []

    # ... with one, DynamoDB checks it: false fails, true passes.
    with pytest.raises(ConditionalCheckFailed):
        item.save(condition=GuardedAccount.balance.gt(100), connection=recording)
    assert recording.operations == ["UpdateItem"]
    assert item.save(condition=GuardedAccount.balance.eq(10), connection=recording) is item
    item.condition(GuardedAccount.note.eq("opened")).save(connection=recording)
    assert recording.operations == ["UpdateItem", "UpdateItem", "UpdateItem"]

    # The condition is checked against what is stored, not what the item holds.
    GuardedAccount(owner="ann", balance=50, note="opened").save()
    with pytest.raises(ConditionalCheckFailed):
        item.save(condition=GuardedAccount.balance.eq(10))
    with pytest.raises(ConditionalCheckFailed):
        item.condition(GuardedAccount.balance.eq(10)).save()
    stored = GuardedAccount.get(owner="ann", consistent=True)
    assert stored is not None
    assert (stored.balance, stored.note) == (50, "opened")


# -- 3. one key, two tables, one transaction ------------------------------------------


def test_a_transaction_may_write_the_same_key_in_two_tables(tables: Tables) -> None:
    tables(GuardedLeft, GuardedRight)
    GuardedRight.create(pk="k", sk=1, note="before")
    right = GuardedRight.get(pk="k", sk=1)
    assert right is not None
    right.note = "changed in the transaction"

    with dynamodb.transaction() as tx:
        tx.put(GuardedLeft(pk="k", sk=1, note="left"))
        tx.save(right)
        tx.check(GuardedLeft, {"pk": "k", "sk": 2}, GuardedLeft.pk.not_exists())
    assert tx.committed

    left = GuardedLeft.get(pk="k", sk=1, consistent=True)
    stored_right = GuardedRight.get(pk="k", sk=1, consistent=True)
    assert left is not None
    assert stored_right is not None
    assert left.note == "left"
    assert stored_right.note == "changed in the transaction"

    # Within one table, one key is still one item: refused before sending.
    again = dynamodb.transaction()
    again.put(GuardedLeft(pk="k", sk=1, note="once"))
    with pytest.raises(ValueError, match="may touch each item only once"):
        again.put(GuardedLeft(pk="k", sk=1, note="twice"))


# -- 4. table waits run out ------------------------------------------------------------


def test_a_wait_that_runs_out_raises_wait_timeout(
    dynamodb_endpoint: str, connection: Connection
) -> None:
    dynamodb.delete_table(GuardedGhost)
    policy = WaitPolicy(first=0.01, growth=1.0, largest=0.01, timeout=0.05)
    polls = len(list(policy.delays()))
    recorder = BudgetedConnection(
        budget=polls + 1,
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    started = time.monotonic()
    try:
        # update() first waits for the table to be ACTIVE; DynamoDB Local says it
        # does not exist, poll after poll, until the policy's budget is spent.
        with pytest.raises(WaitTimeout) as caught:
            Table(GuardedGhost, connection=recorder, wait=policy).update()
    finally:
        recorder.close()

    assert isinstance(caught.value, TimeoutError)
    assert str(caught.value) == "table test_guarded_no_such_table was not ACTIVE after 0.05 s"
    assert polls >= 2
    assert recorder.operations == ["DescribeTable"] * polls
    assert time.monotonic() - started >= 0.04  # it slept between polls


def test_a_short_wait_policy_is_enough_when_the_table_gets_there(connection: Connection) -> None:
    policy = WaitPolicy(first=0.01, growth=1.0, largest=0.01, timeout=0.05)
    table = Table(GuardedLeft, wait=policy)
    table.delete(missing_ok=True)
    try:
        description = table.create()
        assert description["TableStatus"] == "ACTIVE"
        assert table.delete() is True
    finally:
        dynamodb.delete_table(GuardedLeft)


# -- 5. Connection(retry_mode=...) and belongs_to(projection=...) take effect ----------


@pytest.mark.parametrize("retry_mode", ["standard", "legacy", "adaptive"])
def test_throttling_is_retried_in_every_retry_mode(retry_mode: str) -> None:
    """The library retries by what a request does; botocore resends nothing itself."""
    with CountingServer(status=400, code="RequestLimitExceeded", message="slow down") as server:
        conn = server.connection(max_attempts=2, retry_mode=retry_mode)
        with conn, pytest.raises(RequestLimitExceeded) as caught:
            GuardedAccount.get(owner="ann", connection=conn)

        assert server.requests == 2  # max_attempts sends: the first and one retry
    assert caught.value.message == "slow down"


def test_belongs_to_projection_decides_what_the_children_index_holds(tables: Tables) -> None:
    tables(GuardedShelf, GuardedBook)
    shelf = GuardedShelf.create(name="fiction")
    for isbn, title, pages in [("b1", "Dune", 412), ("b2", "Emma", 474)]:
        book = GuardedBook(isbn=isbn, title=title, pages=pages)
        book.shelf = shelf
        book.save()

    indexes = Table(GuardedBook).info()["GlobalSecondaryIndexes"]
    projections = {index["IndexName"]: index["Projection"] for index in indexes}
    assert projections == {
        "shelf_id_index": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}
    }

    # Read through the index, children hold their keys, the link and the title only.
    owner = GuardedShelf.get(name="fiction")
    assert owner is not None
    children = sorted(owner.books.all(), key=lambda book: book.isbn)
    assert [(b.isbn, b.title, b.shelf_id, b.pages) for b in children] == [
        ("b1", "Dune", "fiction", None),
        ("b2", "Emma", "fiction", None),
    ]
    whole = shelf.books.query().requery_for_all_projections().all()
    assert sorted((b.isbn, b.pages) for b in whole) == [("b1", 412), ("b2", 474)]


# -- 6. IN takes up to 100 values -----------------------------------------------------


def test_is_in_with_100_values_is_accepted_by_dynamodb(
    tables: Tables, recording: RecordingConnection
) -> None:
    tables(GuardedReading)
    GuardedReading.batch_write([{"sensor": f"s{n}", "count": n} for n in range(120)])

    condition = GuardedReading.count.is_in(*range(100))
    found = GuardedReading.scan().where(condition).using(recording).all()

    assert sorted(item.count for item in found) == list(range(100))
    (operation, params), *_ = recording.sent
    assert operation == "Scan"
    assert len(params["ExpressionAttributeValues"]) == 100
    with pytest.raises(ValueError, match="at most 100 values"):
        GuardedReading.count.is_in(*range(101))


# -- 7. equal numbers of different types are one set member -----------------------------


def test_a_number_set_holding_equal_float_and_decimal_sends_one_member(
    tables: Tables, connection: Connection, recording: RecordingConnection
) -> None:
    tables(GuardedNumbers)
    both: set[Any] = {0.1, Decimal("0.1")}
    assert len(both) == 2  # Python keeps both: the float is not exactly 0.1

    GuardedNumbers.create(pk="a", nums=both, connection=recording)

    (operation, params), *_ = recording.sent
    assert operation == "PutItem"
    assert params["Item"]["nums"] == {"NS": ["0.1"]}
    assert raw_item(connection, "test_guarded_numbers", {"pk": {"S": "a"}})["nums"] == {
        "NS": ["0.1"]
    }
    stored = GuardedNumbers.get(pk="a")
    assert stored is not None
    assert stored.nums == {0.1}


def test_number_set_members_written_differently_are_still_one_member(
    tables: Tables, connection: Connection
) -> None:
    """0.1 and Decimal("0.10") are one DynamoDB number (which refuses duplicates in a set)."""
    tables(GuardedNumbers)
    GuardedNumbers.create(pk="a", nums={0.1, Decimal("0.10"), 2})

    stored_nums = raw_item(connection, "test_guarded_numbers", {"pk": {"S": "a"}})["nums"]
    assert sorted(Decimal(member) for member in stored_nums["NS"]) == [Decimal("0.1"), 2]

    # ADD with two spellings of one number adds one member.
    GuardedNumbers(pk="a").update(GuardedNumbers.nums.add({0.2, Decimal("0.20")}))
    stored_nums = raw_item(connection, "test_guarded_numbers", {"pk": {"S": "a"}})["nums"]
    assert sorted(Decimal(member) for member in stored_nums["NS"]) == [
        Decimal("0.1"),
        Decimal("0.2"),
        2,
    ]
    stored = GuardedNumbers.get(pk="a")
    assert stored is not None
    assert stored.nums == {0.1, 0.2, 2}


def test_two_adds_of_one_number_spelled_differently_add_one_member(tables: Tables) -> None:
    tables(GuardedNumbers)
    GuardedNumbers.create(pk="a", nums={5})

    updated = GuardedNumbers(pk="a").update(
        GuardedNumbers.nums.add({1}), GuardedNumbers.nums.add({Decimal("1.0")})
    )

    assert updated.nums == {1, 5}


# -- 8. a filtered query's limit is not DynamoDB's Limit ----------------------------------


def test_a_filtered_query_with_a_limit_reads_past_filtered_out_items(
    tables: Tables, recording: RecordingConnection
) -> None:
    tables(GuardedEntry)
    # Every other entry is hidden, so the first five evaluated hold only two shown ones.
    GuardedEntry.batch_write(
        [{"feed": "f", "seq": seq, "shown": seq % 2 == 1} for seq in range(20)]
    )
    query = (
        GuardedEntry.query()
        .where(GuardedEntry.feed.eq("f"), GuardedEntry.shown.eq(True))
        .limit(5)
        .using(recording)
    )

    items = query.all()

    assert [item.seq for item in items] == [1, 3, 5, 7, 9]
    assert recording.operations == ["Query"]  # one request: DynamoDB read on past the hidden ones
    (_, params), *_ = recording.sent
    assert "FilterExpression" in params
    assert "Limit" not in params

    page, cursor = query.get_items()
    assert [item.seq for item in page] == [1, 3, 5, 7, 9]
    assert cursor is not None
    rest, _ = query.start_key(cursor).get_items()
    assert [item.seq for item in rest] == [11, 13, 15, 17, 19]
    assert all("Limit" not in params for _, params in recording.sent)
