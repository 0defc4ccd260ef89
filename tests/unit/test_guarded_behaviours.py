"""Behaviours no other test pinned down, checked without a server.

Only public names are used: requests are looked at through ``explain()``,
``Transaction.request()`` and update actions' values, which build the
request without sending it. ``tests/integration/test_guarded_behaviours.py``
checks the same behaviours against DynamoDB Local.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    Model,
    SetField,
    WaitPolicy,
)


class UnitGuardedDoc(Model):
    __table_name__ = "unit_guarded_doc"

    pk = CharField(hash_key=True)
    count = IntegerField()
    nums = SetField()  # no of=: the members decide


class UnitGuardedLeft(Model):
    """Same key schema as UnitGuardedRight, another table."""

    __table_name__ = "unit_guarded_left"

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    note = CharField()


class UnitGuardedRight(Model):
    __table_name__ = "unit_guarded_right"

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    note = CharField()


# -- IN takes up to 100 values -----------------------------------------------------------


def test_is_in_with_100_values_builds_a_filter_of_100_values() -> None:
    condition = UnitGuardedDoc.count.is_in(*range(100))
    request = UnitGuardedDoc.scan().where(condition).explain()

    values = request["ExpressionAttributeValues"]
    assert len(values) == 100
    assert sorted(int(value["N"]) for value in values.values()) == list(range(100))
    listed = ", ".join(f":v{number}" for number in range(100))
    assert request["FilterExpression"] == f"#n0 IN ({listed})"
    # The same 100 given as one iterable.
    assert UnitGuardedDoc.scan().where(UnitGuardedDoc.count.is_in(range(100))).explain() == request


@pytest.mark.parametrize(
    "choices",
    [tuple(range(101)), (range(101),), (list(range(200)),)],
    ids=["101 arguments", "an iterable of 101", "an iterable of 200"],
)
def test_is_in_with_more_than_100_values_is_refused(choices: tuple[Any, ...]) -> None:
    refused = re.escape("count: DynamoDB's IN takes at most 100 values")
    with pytest.raises(ValueError, match=refused):
        UnitGuardedDoc.count.is_in(*choices)


# -- equal numbers of different types are one set member ----------------------------------


def test_a_number_set_of_equal_float_and_decimal_encodes_one_member() -> None:
    both: set[Any] = {0.1, Decimal("0.1")}
    assert len(both) == 2  # Python keeps both: the float is not exactly 0.1

    assert UnitGuardedDoc.nums.add(both).value == {"NS": ["0.1"]}
    assert UnitGuardedDoc.nums.delete(both).value == {"NS": ["0.1"]}
    request = UnitGuardedDoc.scan().where(UnitGuardedDoc.nums.eq(both)).explain()
    assert request["ExpressionAttributeValues"] == {":v0": {"NS": ["0.1"]}}


def test_number_set_members_spelled_differently_encode_one_member() -> None:
    action = UnitGuardedDoc.nums.add({0.1, Decimal("0.10"), 7})
    assert action.value is not None
    members = action.value["NS"]
    assert len(members) == 2
    assert sorted(Decimal(member) for member in members) == [Decimal("0.1"), 7]


# -- a transaction's identity of an item includes its table ----------------------------------


def test_a_transaction_takes_the_same_key_in_two_tables() -> None:
    tx = dynamodb.transaction()
    tx.put(UnitGuardedLeft(pk="k", sk=1, note="left"))
    tx.put(UnitGuardedRight(pk="k", sk=1, note="right"))

    assert len(tx) == 2
    tables = [next(iter(action.values()))["TableName"] for action in tx.request()["TransactItems"]]
    assert tables == ["unit_guarded_left", "unit_guarded_right"]


def test_a_transaction_refuses_the_same_key_twice_in_one_table() -> None:
    tx = dynamodb.transaction()
    tx.put(UnitGuardedLeft(pk="k", sk=1, note="left"))
    tx.put(UnitGuardedRight(pk="k", sk=1, note="right"))

    with pytest.raises(ValueError, match="a transaction may touch each item only once"):
        tx.put(UnitGuardedLeft(pk="k", sk=1, note="again"))
    with pytest.raises(ValueError, match="a transaction may touch each item only once"):
        tx.check(UnitGuardedRight, {"pk": "k", "sk": 1}, UnitGuardedRight.note.exists())
    assert len(tx) == 2


# -- wait policies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        (WaitPolicy(first=0.05, growth=2.0, largest=2.0, timeout=1.0), [0.05, 0.1, 0.2, 0.4]),
        # the budget is spent exactly: the last delay that fits is kept
        (WaitPolicy(first=0.25, growth=1.0, largest=0.25, timeout=1.0), [0.25] * 4),
        # delays grow up to ``largest``, no further
        (WaitPolicy(first=1.0, growth=10.0, largest=2.0, timeout=7.0), [1.0, 2.0, 2.0, 2.0]),
        # no budget, no poll
        (WaitPolicy(timeout=0.0), []),
    ],
)
def test_wait_policy_delays_stay_within_the_timeout(
    policy: WaitPolicy, delays: list[float]
) -> None:
    assert list(policy.delays()) == delays
    assert sum(delays) <= policy.timeout


# -- Connection(retry_mode=...) --------------------------------------------------------------


@pytest.fixture
def make_connection() -> Iterator[list[Connection]]:
    """Connections made by a test, closed afterwards (making a client sends nothing)."""
    made: list[Connection] = []
    yield made
    for connection in made:
        connection.close()


@pytest.mark.parametrize("mode", ["standard", "legacy", "adaptive"])
def test_retry_mode_and_attempts_reach_the_botocore_client(
    make_connection: list[Connection], mode: str
) -> None:
    connection = Connection(
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        max_attempts=3,
        retry_mode=mode,
    )
    make_connection.append(connection)

    # botocore resends nothing: the library retries each request by what it does.
    retries = connection.client.meta.config.retries
    assert retries == {"total_max_attempts": 1, "mode": mode}
    assert connection.retry_policy.max_attempts == 3
