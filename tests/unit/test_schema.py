"""CreateTable and UpdateTable payloads built from model classes.

The two seed models are the README examples of dynamodb-py (``Test``) and
dynamix (``ForumThread``), translated to Python 3.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest

from dynamodb import (
    CharField,
    IntegerField,
    Model,
    SchemaMismatch,
)
from dynamodb.models.schema import TableSchema
from dynamodb.tools import demo


class Test(demo.Test):
    """The dynamodb-py README's model, as the demo declares it."""

    __test__ = False  # a model, not a pytest test class
    __table_name__ = "test"  # a subclass names its own table (default: its class name)


ForumThread = demo.ForumThread


class OnDemandThread(Model):
    """ForumThread's table on on-demand billing (another version of its entity)."""

    __table_name__ = "forum_thread"
    __entity__ = "ForumThread"
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "user_threads_index": {
            "hash_key": "user_id",
            "range_key": "updated_at",
            "projections": ["title"],
        }
    }

    forum_id = CharField(hash_key=True)
    thread_id = CharField(range_key=True)
    user_id = CharField()
    title = CharField()
    updated_at = IntegerField(indexed=True)
    expiry_timestamp = IntegerField(indexed=True, projections=["updated_at"])


def schema(model: type[Model]) -> TableSchema:
    assert model._meta.schema is not None
    return model._meta.schema


def by_name(definitions: list[dict[str, str]]) -> dict[str, str]:
    return {entry["AttributeName"]: entry["AttributeType"] for entry in definitions}


_ZERO = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}


def described(model: type[Model]) -> dict[str, Any]:
    """What DescribeTable says about the table CreateTable made for ``model``."""
    request = copy.deepcopy(schema(model).create_table_request())
    throughput = request.pop("ProvisionedThroughput", _ZERO)
    description: dict[str, Any] = {
        **request,
        "TableStatus": "ACTIVE",
        "TableArn": f"arn:aws:dynamodb:us-east-1:000000000000:table/{request['TableName']}",
        "ItemCount": 0,
        "TableSizeBytes": 0,
        "ProvisionedThroughput": {**throughput, "NumberOfDecreasesToday": 0},
        "BillingModeSummary": {"BillingMode": request.pop("BillingMode")},
    }
    for index in description.get("LocalSecondaryIndexes", []):
        index.update(IndexSizeBytes=0, ItemCount=0, IndexArn="arn:local")
    for index in description.get("GlobalSecondaryIndexes", []):
        capacity = index.get("ProvisionedThroughput", _ZERO)
        index.update(
            IndexStatus="ACTIVE",
            IndexSizeBytes=0,
            ItemCount=0,
            IndexArn="arn:global",
            ProvisionedThroughput={**capacity, "NumberOfDecreasesToday": 0},
        )
    return description


# -- CreateTable ----------------------------------------------------------------------


def test_create_table_request_of_the_dynamodb_py_seed_model() -> None:
    assert schema(Test).create_table_request() == {
        "TableName": "test",
        "KeySchema": [
            {"AttributeName": "name", "KeyType": "HASH"},
            {"AttributeName": "score", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "name", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": 120},
    }


def test_forum_thread_attribute_definitions_are_exactly_the_key_attributes() -> None:
    request = schema(ForumThread).create_table_request()
    definitions = request["AttributeDefinitions"]
    assert len(definitions) == 5
    assert by_name(definitions) == {
        "forum_id": "S",
        "thread_id": "S",
        "updated_at": "N",
        "expiry_timestamp": "N",
        "user_id": "S",
    }


def test_forum_thread_table_keys_and_capacity() -> None:
    request = schema(ForumThread).create_table_request()
    assert request["TableName"] == "forum_thread"
    assert request["KeySchema"] == [
        {"AttributeName": "forum_id", "KeyType": "HASH"},
        {"AttributeName": "thread_id", "KeyType": "RANGE"},
    ]
    assert request["BillingMode"] == "PROVISIONED"
    assert request["ProvisionedThroughput"] == {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2}


def test_forum_thread_local_indexes() -> None:
    request = schema(ForumThread).create_table_request()
    assert request["LocalSecondaryIndexes"] == [
        {
            "IndexName": "updated_at_index",
            "KeySchema": [
                {"AttributeName": "forum_id", "KeyType": "HASH"},
                {"AttributeName": "updated_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        {
            "IndexName": "expiry_timestamp_index",
            "KeySchema": [
                {"AttributeName": "forum_id", "KeyType": "HASH"},
                {"AttributeName": "expiry_timestamp", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["updated_at"]},
        },
    ]


def test_forum_thread_global_index() -> None:
    request = schema(ForumThread).create_table_request()
    assert request["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "user_threads_index",
            "KeySchema": [
                {"AttributeName": "user_id", "KeyType": "HASH"},
                {"AttributeName": "updated_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
        }
    ]


def test_an_on_demand_table_pays_per_request_and_its_indexes_have_no_throughput() -> None:
    request = schema(OnDemandThread).create_table_request()
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in request
    (index,) = request["GlobalSecondaryIndexes"]
    assert "ProvisionedThroughput" not in index
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}
    assert [lsi["IndexName"] for lsi in request["LocalSecondaryIndexes"]] == [
        "updated_at_index",
        "expiry_timestamp_index",
    ]


class Indexed(Model):
    __table_name__ = "unit_schema_indexed"
    ReadCapacityUnits = 3
    WriteCapacityUnits = 4
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "by_owner": {"hash_key": "owner", "projections": "ALL"},
        "by_status": {
            "hash_key": "status",
            "range_key": "seen",
            "read_capacity": 1,
            "write_capacity": 1,
        },
    }

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    owner = CharField("owner-id")
    status = CharField()
    seen = IntegerField("last seen", indexed=True, projections=["owner"])
    rank = IntegerField(indexed=True, index_name="ranking", projections="ALL")


def test_index_details() -> None:
    request = schema(Indexed).create_table_request()
    local = {index["IndexName"]: index for index in request["LocalSecondaryIndexes"]}
    global_ = {index["IndexName"]: index for index in request["GlobalSecondaryIndexes"]}
    # An index name is made from the DynamoDB name, with unusable characters replaced.
    assert set(local) == {"last_seen_index", "ranking"}
    # Projections list DynamoDB names, whatever the Python names are.
    assert local["last_seen_index"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["owner-id"],
    }
    assert local["ranking"]["Projection"] == {"ProjectionType": "ALL"}
    assert global_["by_owner"] == {
        "IndexName": "by_owner",
        "KeySchema": [{"AttributeName": "owner-id", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        # A global index without its own capacity takes the table's.
        "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    }
    assert global_["by_status"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert global_["by_status"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 1,
        "WriteCapacityUnits": 1,
    }
    assert by_name(request["AttributeDefinitions"]) == {
        "pk": "S",
        "sk": "N",
        "last seen": "N",
        "rank": "N",
        "owner-id": "S",
        "status": "S",
    }


# -- UpdateTable -------------------------------------------------------------------------


@pytest.mark.parametrize("model", [Test, ForumThread, OnDemandThread, Indexed])
def test_an_identical_table_needs_no_update(model: type[Model]) -> None:
    assert schema(model).update_table_requests(described(model)) == []


def test_a_table_without_billing_summary_is_provisioned() -> None:
    description = described(ForumThread)
    del description["BillingModeSummary"]
    assert schema(ForumThread).update_table_requests(description) == []


def test_a_table_capacity_change() -> None:
    description = described(ForumThread)
    description["ProvisionedThroughput"].update(ReadCapacityUnits=1, WriteCapacityUnits=5)
    assert schema(ForumThread).update_table_requests(description) == [
        {
            "TableName": "forum_thread",
            "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
        }
    ]


def test_a_global_index_capacity_change() -> None:
    description = described(ForumThread)
    description["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"] = 9
    assert schema(ForumThread).update_table_requests(description) == [
        {
            "TableName": "forum_thread",
            "GlobalSecondaryIndexUpdates": [
                {
                    "Update": {
                        "IndexName": "user_threads_index",
                        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
                    }
                }
            ],
        }
    ]


class Ledger(Model):
    __table_name__ = "unit_schema_ledger"
    ReadCapacityUnits = 5
    WriteCapacityUnits = 6
    account = CharField(hash_key=True)


class OnDemandLedger(Model):
    __table_name__ = "unit_schema_ledger"
    account = CharField(hash_key=True)


def test_provisioned_to_on_demand() -> None:
    assert schema(OnDemandLedger).update_table_requests(described(Ledger)) == [
        {"TableName": "unit_schema_ledger", "BillingMode": "PAY_PER_REQUEST"}
    ]


def test_on_demand_to_provisioned() -> None:
    assert schema(Ledger).update_table_requests(described(OnDemandLedger)) == [
        {
            "TableName": "unit_schema_ledger",
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
        }
    ]


def test_provisioned_to_on_demand_with_global_indexes() -> None:
    assert schema(OnDemandThread).update_table_requests(described(ForumThread)) == [
        {"TableName": "forum_thread", "BillingMode": "PAY_PER_REQUEST"}
    ]


def test_on_demand_to_provisioned_gives_global_indexes_throughput_in_the_same_request() -> None:
    # DynamoDB refuses the switch unless every global index gets its capacity too.
    assert schema(ForumThread).update_table_requests(described(OnDemandThread)) == [
        {
            "TableName": "forum_thread",
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
            "GlobalSecondaryIndexUpdates": [
                {
                    "Update": {
                        "IndexName": "user_threads_index",
                        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
                    }
                }
            ],
        }
    ]


def test_a_global_index_is_added_with_its_attribute_definitions() -> None:
    description = described(ForumThread)
    del description["GlobalSecondaryIndexes"]
    description["AttributeDefinitions"] = [
        entry
        for entry in description["AttributeDefinitions"]
        if entry["AttributeName"] != "user_id"
    ]
    (request,) = schema(ForumThread).update_table_requests(description)
    assert request["TableName"] == "forum_thread"
    assert by_name(request["AttributeDefinitions"])["user_id"] == "S"
    assert request["GlobalSecondaryIndexUpdates"] == [
        {"Create": schema(ForumThread).create_table_request()["GlobalSecondaryIndexes"][0]}
    ]
    assert "ProvisionedThroughput" not in request


def test_a_global_index_the_model_no_longer_has_is_removed() -> None:
    description = described(ForumThread)
    stale = copy.deepcopy(description["GlobalSecondaryIndexes"][0])
    stale["IndexName"] = "old_index"
    description["GlobalSecondaryIndexes"].append(stale)
    assert schema(ForumThread).update_table_requests(description) == [
        {
            "TableName": "forum_thread",
            "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "old_index"}}],
        }
    ]


def test_each_index_change_is_its_own_request() -> None:
    description = described(Indexed)
    description["GlobalSecondaryIndexes"][0]["IndexName"] = "retired"
    requests = schema(Indexed).update_table_requests(description)
    assert len(requests) == 2
    assert all(len(request["GlobalSecondaryIndexUpdates"]) == 1 for request in requests)
    assert requests[0]["GlobalSecondaryIndexUpdates"] == [{"Delete": {"IndexName": "retired"}}]
    assert requests[1]["GlobalSecondaryIndexUpdates"][0]["Create"]["IndexName"] == "by_owner"
    assert "AttributeDefinitions" in requests[1]


def _change_hash_key(description: dict[str, Any]) -> None:
    description["KeySchema"][0]["AttributeName"] = "board_id"


def _drop_range_key(description: dict[str, Any]) -> None:
    del description["KeySchema"][1]


def _drop_local_index(description: dict[str, Any]) -> None:
    del description["LocalSecondaryIndexes"][1]


def _drop_all_local_indexes(description: dict[str, Any]) -> None:
    del description["LocalSecondaryIndexes"]


def _add_local_index(description: dict[str, Any]) -> None:
    extra = copy.deepcopy(description["LocalSecondaryIndexes"][0])
    extra["IndexName"] = "extra_index"
    description["LocalSecondaryIndexes"].append(extra)


def _change_local_projection(description: dict[str, Any]) -> None:
    description["LocalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "ALL"}


def _change_local_key(description: dict[str, Any]) -> None:
    description["LocalSecondaryIndexes"][0]["KeySchema"][1]["AttributeName"] = "created_at"


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        (_change_hash_key, "key schema"),
        (_drop_range_key, "key schema"),
        (_drop_local_index, "local secondary indexes"),
        (_drop_all_local_indexes, "local secondary indexes"),
        (_add_local_index, "local secondary indexes"),
        (_change_local_projection, "local secondary indexes"),
        (_change_local_key, "local secondary indexes"),
    ],
)
def test_changes_update_table_cannot_make_raise_schema_mismatch(change: Any, mentions: str) -> None:
    description = described(ForumThread)
    change(description)
    with pytest.raises(SchemaMismatch) as caught:
        schema(ForumThread).update_table_requests(description)
    message = str(caught.value)
    assert "table forum_thread" in message
    assert "model ForumThread" in message
    assert mentions in message
    assert "create_table(Model, force=True)" in message
