"""``schema plan`` against DynamoDB Local: exactly the differences, then applied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import dynamodb
from dynamodb import CharField, Connection, IntegerField, Model, TTLField
from dynamodb.models.schema_plan import apply_plan, plan_schema_flow

TABLE = "test_schema_plan_orders"


class OrderBefore(Model):
    """The table as it was created."""

    __table_name__ = TABLE
    __entity__ = "PlannedOrder"
    ReadCapacityUnits = 2
    WriteCapacityUnits = 2
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "by_note": {"hash_key": "note"},
    }

    customer = CharField(hash_key=True)
    number = IntegerField(range_key=True)
    note = CharField()
    total = IntegerField()


class OrderAfter(Model):
    """The model now: another index, more capacity, a stream and Time to Live."""

    __table_name__ = TABLE
    __entity__ = "PlannedOrder"
    ReadCapacityUnits = 3
    WriteCapacityUnits = 4
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "by_total": {"hash_key": "customer", "range_key": "total", "projections": "ALL"},
    }
    __stream__ = "KEYS_ONLY"

    customer = CharField(hash_key=True)
    number = IntegerField(range_key=True)
    note = CharField()
    total = IntegerField()
    expires = TTLField()


class OtherKeys(Model):
    """A model whose table exists with other keys."""

    __table_name__ = "test_schema_plan_other"

    id = CharField(hash_key=True)
    at = IntegerField(range_key=True)


@pytest.fixture
def existing(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(OrderBefore, force=True)
    connection.client.create_table(
        TableName=OtherKeys.__table_name__,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield
    dynamodb.delete_table(OrderAfter)
    dynamodb.delete_table(OtherKeys)


def test_the_plan_lists_exactly_the_differences_and_apply_makes_them(
    existing: None, connection: Connection
) -> None:
    plan = connection.run(plan_schema_flow([OrderAfter, OtherKeys]))
    orders, other = plan.tables
    assert [(c.kind, c.description) for c in orders.changes] == [
        ("remove-index", "remove global index by_note"),
        ("capacity", "capacity becomes 3 read / 4 write units"),
        ("add-index", "add global index by_total on customer (HASH), total (RANGE), ALL"),
        ("stream", "stream on (KEYS_ONLY)"),
        ("ttl", "Time to Live on expires"),
    ]
    assert orders.blocked == []
    assert other.changes == []
    assert [(b.kind, b.description) for b in other.blocked] == [
        ("keys", "keys are id (HASH, S), the models want id (HASH, S), at (RANGE, N)")
    ]
    applied = connection.run(apply_plan(plan))
    assert len(applied) == 5
    after = connection.run(plan_schema_flow([OrderAfter]))
    assert after.empty
    description = connection.client.describe_table(TableName=TABLE)["Table"]
    assert [i["IndexName"] for i in description["GlobalSecondaryIndexes"]] == ["by_total"]
    assert description["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"


def test_a_missing_table_is_planned_and_created(connection: Connection) -> None:
    dynamodb.delete_table(OrderAfter)
    plan = connection.run(plan_schema_flow([OrderAfter]))
    ((change),) = plan.changes
    assert change.kind == "create-table"
    connection.run(apply_plan(plan))
    try:
        assert connection.run(plan_schema_flow([OrderAfter])).empty
    finally:
        dynamodb.delete_table(OrderAfter)
