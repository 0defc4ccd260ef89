"""Schema plans: a model's wanted table against DescribeTable, without a server."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from dynamodb import CharField, IntegerField, Model, TTLField
from dynamodb.models.schema import TableSchema
from dynamodb.models.schema_plan import plan_table, table_schemas


class PlanOrder(Model):
    __table_name__ = "unit_plan_orders"
    ReadCapacityUnits = 5
    WriteCapacityUnits = 5
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "by_status": {"hash_key": "status", "range_key": "total", "projections": ["note"]},
    }
    __stream__ = "NEW_IMAGE"

    customer = CharField(hash_key=True)
    number = IntegerField(range_key=True)
    status = CharField()
    total = IntegerField()
    note = CharField()
    placed = CharField(indexed=True)
    expires = TTLField()


def wanted() -> TableSchema:
    ((schema, names),) = table_schemas([PlanOrder])
    assert names == ("PlanOrder",)
    return schema


def described(request: dict[str, Any]) -> dict[str, Any]:
    """DescribeTable's ``Table`` for a table made by ``request`` (CreateTable)."""
    description: dict[str, Any] = {
        "TableName": request["TableName"],
        "TableStatus": "ACTIVE",
        "KeySchema": request["KeySchema"],
        "AttributeDefinitions": request["AttributeDefinitions"],
        "BillingModeSummary": {"BillingMode": request["BillingMode"]},
    }
    if "ProvisionedThroughput" in request:
        description["ProvisionedThroughput"] = request["ProvisionedThroughput"]
    for key in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if key in request:
            description[key] = copy.deepcopy(request[key])
    if "StreamSpecification" in request:
        description["StreamSpecification"] = request["StreamSpecification"]
    return description


TTL_ON = {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def current() -> dict[str, Any]:
    return described(wanted().create_table_request())


def test_a_missing_table_is_one_creation_with_its_ttl() -> None:
    plan = plan_table(wanted(), None)
    (change,) = plan.changes
    assert not plan.exists
    assert change.kind == "create-table"
    assert change.requests == (
        ("CreateTable", wanted().create_table_request()),
        (
            "UpdateTimeToLive",
            {
                "TableName": "unit_plan_orders",
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"},
            },
        ),
    )
    assert change.description == (
        "create table: keys customer (HASH), number (RANGE); local index placed_index on "
        "customer (HASH), placed (RANGE), KEYS_ONLY; global index by_status on status (HASH), "
        "total (RANGE), INCLUDE (note); provisioned, 5 read / 5 write units; stream NEW_IMAGE; "
        "Time to Live on expires"
    )


def test_a_matching_table_has_nothing_to_change() -> None:
    plan = plan_table(wanted(), current(), TTL_ON)
    assert plan.up_to_date
    assert plan.changes == []
    assert plan.blocked == []


def test_each_difference_is_listed_once() -> None:
    table = current()
    table["GlobalSecondaryIndexes"].append(
        {
            "IndexName": "old_index",
            "KeySchema": [{"AttributeName": "note", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    )
    table["ProvisionedThroughput"] = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    del table["StreamSpecification"]
    plan = plan_table(wanted(), table, {"TimeToLiveStatus": "DISABLED"})
    assert [(c.kind, c.description) for c in plan.changes] == [
        ("remove-index", "remove global index old_index"),
        ("capacity", "capacity becomes 5 read / 5 write units"),
        ("stream", "stream on (NEW_IMAGE)"),
        ("ttl", "Time to Live on expires"),
    ]
    assert plan.blocked == []


def test_billing_and_a_missing_global_index() -> None:
    table = current()
    table["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST"}
    del table["ProvisionedThroughput"]
    del table["GlobalSecondaryIndexes"]
    plan = plan_table(wanted(), table, TTL_ON)
    assert [c.kind for c in plan.changes] == ["billing", "add-index"]
    assert plan.changes[0].description == "billing becomes provisioned, 5 read / 5 write units"
    assert plan.changes[1].description == (
        "add global index by_status on status (HASH), total (RANGE), INCLUDE (note)"
    )
    ((operation, request),) = plan.changes[1].requests
    assert operation == "UpdateTable"
    assert request["GlobalSecondaryIndexUpdates"][0]["Create"]["IndexName"] == "by_status"


def test_a_global_index_with_another_projection_is_rebuilt() -> None:
    table = current()
    table["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "ALL"}
    plan = plan_table(wanted(), table, TTL_ON)
    (change,) = plan.changes
    assert change.kind == "rebuild-index"
    assert [r["GlobalSecondaryIndexUpdates"][0].keys() for _, r in change.requests] == [
        {"Delete": None}.keys(),
        {"Create": None}.keys(),
    ]


def test_keys_and_local_indexes_are_blocked_with_a_remedy() -> None:
    table = current()
    table["KeySchema"] = [{"AttributeName": "customer", "KeyType": "HASH"}]
    table["LocalSecondaryIndexes"] = []
    plan = plan_table(wanted(), table, TTL_ON)
    assert [(b.kind, b.description) for b in plan.blocked] == [
        (
            "keys",
            "keys are customer (HASH, S), the models want customer (HASH, S), number (RANGE, N)",
        ),
        (
            "local-indexes",
            "local index placed_index on customer (HASH), placed (RANGE), KEYS_ONLY is missing",
        ),
    ]
    assert all("recreate the table" in b.remedy for b in plan.blocked)
    assert plan.changes == []  # nothing else is planned on a table whose keys differ


def test_ttl_switching_attribute_is_off_then_on() -> None:
    plan = plan_table(wanted(), current(), {"TimeToLiveStatus": "ENABLED", "AttributeName": "x"})
    (change,) = plan.changes
    assert [r["TimeToLiveSpecification"] for _, r in change.requests] == [
        {"Enabled": False, "AttributeName": "x"},
        {"Enabled": True, "AttributeName": "expires"},
    ]


def test_the_plan_as_json_data() -> None:
    from dynamodb.models.schema_plan import SchemaPlan

    plan = SchemaPlan([plan_table(wanted(), None, None, ("PlanOrder",))])
    data = plan.to_dict()
    assert data["tables"][0]["table"] == "unit_plan_orders"
    assert data["tables"][0]["models"] == ["PlanOrder"]
    assert data["tables"][0]["changes"][0]["kind"] == "create-table"
    assert not plan.empty
