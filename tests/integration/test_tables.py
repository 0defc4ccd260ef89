"""Table management against DynamoDB Local: create, describe, update, delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    Model,
    ResourceInUse,
    ResourceNotFound,
    SchemaMismatch,
    Table,
)
from tests.integration.helpers import RecordingConnection

# -- models ---------------------------------------------------------------------------


class Indexed(Model):
    """Provisioned, with local and global indexes of every projection kind."""

    __table_name__ = "test_tables_indexed"
    ReadCapacityUnits = 3
    WriteCapacityUnits = 2
    __secondary_indexes__ = {  # noqa: RUF012
        "by_owner": {"hash_key": "owner", "range_key": "sk", "projections": "ALL"},
        "by_owner_keys": {"hash_key": "owner", "read_capacity": 1, "write_capacity": 1},
        "by_label": {"hash_key": "label", "projections": ["owner", "due"]},
    }

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    owner = CharField()
    rank = IntegerField(indexed=True)  # KEYS_ONLY
    label = CharField(indexed=True, projections=["owner"])  # INCLUDE
    priority = IntegerField(indexed=True, projections="ALL", index_name="by_priority")
    due = IntegerField(name="due date", indexed=True)  # index name: due_date_index


class OnDemand(Model):
    """No capacity given: PAY_PER_REQUEST, indexes without throughput."""

    __table_name__ = "test_tables_on_demand"
    __secondary_indexes__ = {"by_color": {"hash_key": "color"}}  # noqa: RUF012

    pk = CharField(hash_key=True)
    color = CharField()


class Lifecycle(Model):
    __table_name__ = "test_tables_lifecycle"

    pk = CharField(hash_key=True)
    value = IntegerField()


# Several models of one table, as an application's model changes over time: versions
# of one entity (one __entity__), so they need not agree on keys.
EVOLVING = "test_tables_evolving"


class EvolvingV1(Model):
    __table_name__ = EVOLVING
    __entity__ = "Evolving"
    ReadCapacityUnits = 2
    WriteCapacityUnits = 2

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    color = CharField()
    size = IntegerField()


class EvolvingMoreCapacity(Model):
    __table_name__ = EVOLVING
    __entity__ = "Evolving"
    ReadCapacityUnits = 5
    WriteCapacityUnits = 4

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    color = CharField()
    size = IntegerField()


class EvolvingWithIndex(Model):
    __table_name__ = EVOLVING
    __entity__ = "Evolving"
    ReadCapacityUnits = 2
    WriteCapacityUnits = 2
    __secondary_indexes__ = {  # noqa: RUF012
        "by_color": {"hash_key": "color", "range_key": "sk", "projections": ["size"]},
    }

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    color = CharField()
    size = IntegerField()


class EvolvingOnDemand(Model):
    __table_name__ = EVOLVING
    __entity__ = "Evolving"

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    color = CharField()
    size = IntegerField()


class EvolvingOnDemandWithIndex(Model):
    __table_name__ = EVOLVING
    __entity__ = "Evolving"
    __secondary_indexes__ = {  # noqa: RUF012
        "by_color": {"hash_key": "color", "range_key": "sk", "projections": ["size"]},
    }

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    color = CharField()
    size = IntegerField()


class EvolvingOtherKeys(Model):
    __table_name__ = EVOLVING
    __entity__ = "Evolving"

    pk = CharField(hash_key=True)  # no range key
    color = CharField()


class EvolvingOtherRangeType(Model):
    __table_name__ = EVOLVING
    __entity__ = "Evolving"
    ReadCapacityUnits = 2
    WriteCapacityUnits = 2

    pk = CharField(hash_key=True)
    sk = CharField(range_key=True)  # S instead of N


class EvolvingWithLocalIndex(Model):
    __table_name__ = EVOLVING
    __entity__ = "Evolving"
    ReadCapacityUnits = 2
    WriteCapacityUnits = 2

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    size = IntegerField(indexed=True)  # a local index cannot be added later


# -- helpers --------------------------------------------------------------------------


@pytest.fixture
def evolving(connection: Connection) -> Iterator[None]:
    """The evolving table, created from EvolvingV1 with one item; dropped afterwards."""
    dynamodb.create_table(EvolvingV1, force=True)
    EvolvingV1.create(pk="p", sk=1, color="red", size=3)
    yield
    dynamodb.delete_table(EvolvingV1)


@pytest.fixture
def lifecycle(connection: Connection) -> Iterator[None]:
    """Makes sure the lifecycle table does not exist before and after the test."""
    dynamodb.delete_table(Lifecycle)
    yield
    dynamodb.delete_table(Lifecycle)


def billing_mode(description: dict[str, Any]) -> str:
    """PROVISIONED unless the description says otherwise (as DynamoDB does)."""
    summary = description.get("BillingModeSummary") or {}
    mode: str = summary.get("BillingMode", "PROVISIONED")
    return mode


def capacity(description: dict[str, Any]) -> tuple[int, int]:
    throughput = description["ProvisionedThroughput"]
    return throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]


def global_indexes(description: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {index["IndexName"]: index for index in description.get("GlobalSecondaryIndexes", [])}


def item_survived() -> None:
    stored = EvolvingV1.get(pk="p", sk=1, consistent=True)
    assert stored is not None
    assert (stored.color, stored.size) == ("red", 3)


# -- create / delete ------------------------------------------------------------------


@pytest.mark.usefixtures("lifecycle")
def test_create_waits_until_active_and_delete_until_gone() -> None:
    table = Table(Lifecycle)

    description = table.create()

    assert description["TableStatus"] == "ACTIVE"
    assert description["TableName"] == "test_tables_lifecycle"
    assert table.info()["TableStatus"] == "ACTIVE"
    Lifecycle.create(pk="a", value=1)  # usable at once
    assert Lifecycle.get(pk="a") is not None

    assert table.delete() is True
    with pytest.raises(ResourceNotFound):
        table.info()
    with pytest.raises(ResourceNotFound):
        Lifecycle.get(pk="a")


@pytest.mark.usefixtures("lifecycle")
def test_create_without_waiting_returns_the_first_description(dynamodb_endpoint: str) -> None:
    recorder = RecordingConnection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        description = Table(Lifecycle, connection=recorder).create(wait=False)
        assert recorder.operations == ["CreateTable"]  # no DescribeTable: nothing waited
        # CreateTable's own answer may still say CREATING (real DynamoDB does) ...
        assert description["TableName"] == "test_tables_lifecycle"
        assert description["TableStatus"] in {"CREATING", "ACTIVE"}

        # ... but once waited for, the table is ACTIVE.
        waited = dynamodb.create_table(Lifecycle, connection=recorder)
    finally:
        recorder.close()

    assert recorder.operations[-1] == "DescribeTable"
    assert waited["TableName"] == "test_tables_lifecycle"
    assert waited["TableStatus"] == "ACTIVE"


@pytest.mark.usefixtures("lifecycle")
def test_create_on_an_existing_table_raises_resource_in_use() -> None:
    Table(Lifecycle).create()
    Lifecycle.create(pk="a", value=1)

    with pytest.raises(ResourceInUse) as caught:
        Table(Lifecycle).create()

    assert caught.value.code == "ResourceInUseException"
    assert caught.value.operation == "CreateTable"
    assert "preexisting table" in caught.value.message  # DynamoDB Local's wording
    assert Lifecycle.get(pk="a") is not None


@pytest.mark.usefixtures("lifecycle")
def test_create_table_without_force_leaves_an_existing_table_alone() -> None:
    first = dynamodb.create_table(Lifecycle)
    Lifecycle.create(pk="a", value=1)

    again = dynamodb.create_table(Lifecycle)

    assert again["TableStatus"] == "ACTIVE"
    assert again["CreationDateTime"] == first["CreationDateTime"]
    stored = Lifecycle.get(pk="a")
    assert stored is not None
    assert stored.value == 1


@pytest.mark.usefixtures("lifecycle")
def test_create_table_with_force_drops_the_items() -> None:
    dynamodb.create_table(Lifecycle)
    Lifecycle.create(pk="a", value=1)

    description = dynamodb.create_table(Lifecycle, force=True)

    assert description["TableStatus"] == "ACTIVE"
    assert Lifecycle.get(pk="a") is None
    assert Lifecycle.item_count(exact=True) == 0
    # force on a missing table just creates it
    assert Table(Lifecycle).delete() is True
    assert dynamodb.create_table(Lifecycle, force=True)["TableStatus"] == "ACTIVE"


@pytest.mark.usefixtures("lifecycle")
def test_delete_of_a_missing_table() -> None:
    with pytest.raises(ResourceNotFound) as caught:
        Table(Lifecycle).delete()
    assert caught.value.operation == "DeleteTable"
    assert caught.value.message  # DynamoDB's own words

    assert Table(Lifecycle).delete(missing_ok=True) is False
    assert dynamodb.delete_table(Lifecycle) is False
    dynamodb.create_table(Lifecycle)
    assert dynamodb.delete_table(Lifecycle) is True


@pytest.mark.usefixtures("lifecycle")
def test_table_accepts_a_model_class_or_instance() -> None:
    assert Table(Lifecycle()).name == Table(Lifecycle).name == "test_tables_lifecycle"
    Table(Lifecycle()).create()
    assert Table(Lifecycle).info()["TableStatus"] == "ACTIVE"


# -- describe -------------------------------------------------------------------------


def test_info_describes_keys_and_indexes(connection: Connection) -> None:
    dynamodb.create_table(Indexed, force=True)
    try:
        info = Table(Indexed).info()
    finally:
        dynamodb.delete_table(Indexed)

    assert info["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    types = {d["AttributeName"]: d["AttributeType"] for d in info["AttributeDefinitions"]}
    assert types == {
        "pk": "S",
        "sk": "N",
        "owner": "S",
        "rank": "N",
        "label": "S",
        "priority": "N",
        "due date": "N",
    }
    assert billing_mode(info) == "PROVISIONED"
    assert capacity(info) == (3, 2)

    local = {index["IndexName"]: index for index in info["LocalSecondaryIndexes"]}
    assert set(local) == {"rank_index", "label_index", "by_priority", "due_date_index"}
    for index in local.values():
        assert index["KeySchema"][0] == {"AttributeName": "pk", "KeyType": "HASH"}
    assert local["rank_index"]["KeySchema"][1] == {"AttributeName": "rank", "KeyType": "RANGE"}
    assert local["due_date_index"]["KeySchema"][1] == {
        "AttributeName": "due date",
        "KeyType": "RANGE",
    }
    assert local["rank_index"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert local["label_index"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["owner"],
    }
    assert local["by_priority"]["Projection"] == {"ProjectionType": "ALL"}

    gsi = global_indexes(info)
    assert set(gsi) == {"by_owner", "by_owner_keys", "by_label"}
    assert gsi["by_owner"]["KeySchema"] == [
        {"AttributeName": "owner", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert gsi["by_owner"]["Projection"] == {"ProjectionType": "ALL"}
    assert gsi["by_owner_keys"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert gsi["by_label"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["owner", "due date"],
    }
    assert capacity(gsi["by_owner"]) == (3, 2)  # the table's capacity by default
    assert capacity(gsi["by_owner_keys"]) == (1, 1)
    assert all(index["IndexStatus"] == "ACTIVE" for index in gsi.values())


def test_on_demand_table(tables: Callable[..., None]) -> None:
    tables(OnDemand)

    info = Table(OnDemand).info()

    assert billing_mode(info) == "PAY_PER_REQUEST"
    (index,) = info["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_color"
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    OnDemand.create(pk="a", color="red")
    assert OnDemand.get(pk="a") is not None


# -- update ---------------------------------------------------------------------------


@pytest.mark.usefixtures("evolving")
def test_update_of_a_matching_table_sends_no_change(dynamodb_endpoint: str) -> None:
    recorder = RecordingConnection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        description = Table(EvolvingV1, connection=recorder).update()
    finally:
        recorder.close()

    assert capacity(description) == (2, 2)
    assert "UpdateTable" not in recorder.operations
    assert set(recorder.operations) == {"DescribeTable"}


@pytest.mark.usefixtures("evolving")
def test_update_changes_capacity() -> None:
    description = Table(EvolvingMoreCapacity).update()

    assert description["TableStatus"] == "ACTIVE"
    assert capacity(description) == (5, 4)
    assert capacity(Table(EvolvingV1).info()) == (5, 4)
    item_survived()

    assert capacity(Table(EvolvingV1).update()) == (2, 2)  # and back


@pytest.mark.usefixtures("evolving")
def test_update_switches_between_provisioned_and_on_demand() -> None:
    on_demand = Table(EvolvingOnDemand).update()
    assert billing_mode(on_demand) == "PAY_PER_REQUEST"
    assert billing_mode(Table(EvolvingV1).info()) == "PAY_PER_REQUEST"
    item_survived()

    provisioned = Table(EvolvingMoreCapacity).update()
    assert billing_mode(provisioned) == "PROVISIONED"
    assert capacity(provisioned) == (5, 4)
    item_survived()


@pytest.mark.usefixtures("evolving")
def test_update_switches_billing_of_a_table_with_a_global_index() -> None:
    Table(EvolvingWithIndex).update()

    on_demand = Table(EvolvingOnDemandWithIndex).update()
    assert billing_mode(on_demand) == "PAY_PER_REQUEST"
    assert set(global_indexes(on_demand)) == {"by_color"}

    # back to PROVISIONED: the index must get its throughput in the same request
    provisioned = Table(EvolvingWithIndex).update()
    assert billing_mode(provisioned) == "PROVISIONED"
    assert capacity(provisioned) == (2, 2)
    index = global_indexes(provisioned)["by_color"]
    assert capacity(index) == (2, 2)
    assert index["IndexStatus"] == "ACTIVE"
    item_survived()


def test_update_to_provisioned_of_an_index_made_on_demand(connection: Connection) -> None:
    dynamodb.create_table(EvolvingOnDemandWithIndex, force=True)
    try:
        EvolvingOnDemandWithIndex.create(pk="p", sk=1, color="red", size=3)

        provisioned = Table(EvolvingWithIndex).update()

        assert billing_mode(provisioned) == "PROVISIONED"
        assert capacity(provisioned) == (2, 2)
        assert capacity(global_indexes(provisioned)["by_color"]) == (2, 2)
        item_survived()
    finally:
        dynamodb.delete_table(EvolvingV1)


@pytest.mark.usefixtures("evolving")
def test_update_adds_and_removes_a_global_index() -> None:
    added = Table(EvolvingWithIndex).update()

    index = global_indexes(added)["by_color"]
    assert index["IndexStatus"] == "ACTIVE"
    assert index["KeySchema"] == [
        {"AttributeName": "color", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["size"]}
    assert capacity(index) == (2, 2)
    assert set(global_indexes(Table(EvolvingV1).info())) == {"by_color"}
    item_survived()

    removed = Table(EvolvingV1).update()

    assert global_indexes(removed) == {}
    assert global_indexes(Table(EvolvingV1).info()) == {}
    item_survived()


@pytest.mark.usefixtures("evolving")
def test_update_adds_a_global_index_to_an_on_demand_table() -> None:
    Table(EvolvingOnDemand).update()

    description = Table(EvolvingOnDemandWithIndex).update()

    assert billing_mode(description) == "PAY_PER_REQUEST"
    assert global_indexes(description)["by_color"]["IndexStatus"] == "ACTIVE"
    item_survived()


@pytest.mark.usefixtures("evolving")
@pytest.mark.parametrize(
    ("model", "what"),
    [
        (EvolvingOtherKeys, "key schema"),
        (EvolvingOtherRangeType, "key schema"),
        (EvolvingWithLocalIndex, "local secondary indexes"),
    ],
)
def test_update_with_different_keys_raises_schema_mismatch(model: type[Model], what: str) -> None:
    before = Table(EvolvingV1).info()

    with pytest.raises(SchemaMismatch, match=what):
        Table(model).update()

    after = Table(EvolvingV1).info()
    assert after["KeySchema"] == before["KeySchema"]
    assert billing_mode(after) == billing_mode(before)
    assert capacity(after) == capacity(before)
    item_survived()


# -- async ----------------------------------------------------------------------------


async def test_async_table_lifecycle(aconnection: Connection) -> None:
    await dynamodb.adelete_table(Lifecycle)
    table = Table(Lifecycle)
    try:
        created = await table.acreate()
        assert created["TableStatus"] == "ACTIVE"
        with pytest.raises(ResourceInUse):
            await table.acreate()
        assert (await dynamodb.acreate_table(Lifecycle))["TableStatus"] == "ACTIVE"
        assert (await table.ainfo())["TableName"] == "test_tables_lifecycle"
        updated = await table.aupdate()
        assert billing_mode(updated) == "PAY_PER_REQUEST"
        assert await table.adelete() is True
        with pytest.raises(ResourceNotFound):
            await table.ainfo()
        assert await table.adelete(missing_ok=True) is False
        assert await dynamodb.adelete_table(Lifecycle) is False
    finally:
        await dynamodb.adelete_table(Lifecycle)
