"""The examples of the two seed READMEs (dynamodb-py and dynamix), run against DynamoDB Local.

Translated to Python 3 and to the ``dynamodb`` package (the READMEs import
``dynomadb`` and ``dynamix``); table names carry this module's prefix. Batches,
queries and partial updates are left for later.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    Connection,
    DateTimeField,
    DictField,
    FloatField,
    IntegerField,
    ItemAlreadyExists,
    ListField,
    Model,
    ResourceNotFound,
    SetField,
)
from dynamodb.adapter import Table

# -- dynamodb-py README ------------------------------------------------------------


class Test(Model):
    __test__ = False  # a model, not a test class

    __table_name__ = "test_seed_examples_test"

    ReadCapacityUnits = 100
    WriteCapacityUnits = 120

    name = CharField(name="name", hash_key=True)
    score = IntegerField(name="score", range_key=True)
    order_score = FloatField(name="order_score", default=0.0)
    date = DateTimeField(name="date")
    ids = ListField(name="ids", default=[])
    doc = DictField(name="doc", default={})


def test_show_create_update_delete_table(connection: Connection) -> None:
    dynamodb.delete_table(Test)
    try:
        created = Table(Test()).create()
        assert created["TableName"] == "test_seed_examples_test"
        assert created["TableStatus"] == "ACTIVE"

        table_info = Table(Test()).info()
        assert table_info["TableStatus"] == "ACTIVE"
        assert table_info["KeySchema"] == [
            {"AttributeName": "name", "KeyType": "HASH"},
            {"AttributeName": "score", "KeyType": "RANGE"},
        ]
        types = {d["AttributeName"]: d["AttributeType"] for d in table_info["AttributeDefinitions"]}
        assert types == {"name": "S", "score": "N"}
        throughput = table_info["ProvisionedThroughput"]
        assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (100, 120)

        updated = Table(Test()).update()  # the table matches the model: nothing to change
        assert updated["TableStatus"] == "ACTIVE"
        assert updated["ProvisionedThroughput"]["ReadCapacityUnits"] == 100
        assert updated["ProvisionedThroughput"]["WriteCapacityUnits"] == 120

        assert Table(Test()).delete() is True
        with pytest.raises(ResourceNotFound):
            Table(Test()).info()
    finally:
        dynamodb.delete_table(Test)


@pytest.fixture
def test_table(tables: Callable[..., None]) -> None:
    tables(Test)


NOW = dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=dt.timezone.utc)


@pytest.mark.usefixtures("test_table")
def test_save_item() -> None:
    now = NOW.replace(tzinfo=None)  # naive, as in the README: taken as UTC
    test = Test(name="gs", score=100, order_score=99.99, date=now)
    assert test.save() is test

    stored = Test.get(name="gs", score=100)
    assert stored is not None
    assert stored.name == "gs"
    assert stored.score == 100
    assert stored.order_score == 99.99
    assert stored.date == NOW
    assert stored.date.tzinfo is not None
    assert stored.ids == []
    assert stored.doc == {}
    assert stored == test


@pytest.mark.usefixtures("test_table")
def test_create_and_get_item() -> None:
    now = NOW
    Test.create(name="gs1", score=100, order_score=99.99, date=now)
    Test.create(name="gs2", score=100, order_score=99.99, date=now)
    Test.create(name="gs4", score=100, order_score=99.99, date=now, ids=[1, 2, 3])
    Test.create(name="gs5", score=100, order_score=99.99, date=now, doc={"a": 1.1})

    item1 = Test.get(name="gs1", score=100)
    assert item1 is not None
    assert (item1.name, item1.ids, item1.doc) == ("gs1", [], {})
    assert item1.date == now

    item4 = Test.get(name="gs4", score=100)
    assert item4 is not None
    assert item4.ids == [1, 2, 3]
    assert all(type(member) is int for member in item4.ids)

    item5 = Test.get(name="gs5", score=100)
    assert item5 is not None
    assert item5.doc == {"a": 1.1}
    assert type(item5.doc["a"]) is float

    assert Test.get(name="gs3", score=100) is None  # never created
    assert Test.get(name="gs1", score=101) is None  # same hash key, other range key


@pytest.mark.usefixtures("test_table")
def test_delete_item() -> None:
    Test.create(
        name="gs6", score=100, order_score=99.99, date=NOW, ids=[1, 2, 4, 101], doc={"a": 1.1}
    )
    item6 = Test.get(name="gs6", score=100)
    assert item6 is not None
    assert (item6.name, item6.ids, item6.doc) == ("gs6", [1, 2, 4, 101], {"a": 1.1})

    item6.delete()

    assert Test.get(name="gs6", score=100) is None


# -- dynamix README ------------------------------------------------------------------


class ForumThread(Model):
    __table_name__ = "test_seed_examples_forum_thread"

    ReadCapacityUnits = 2
    WriteCapacityUnits = 2

    __secondary_indexes__ = {  # noqa: RUF012 - the README's class attribute
        # secondary index with additional projections
        "user_threads_index": dict(  # noqa: C408 - as the README writes it
            hash_key="user_id",
            range_key="updated_at",
            read_capacity=2,
            write_capacity=2,
            projections=["title"],
        ),
    }

    forum_id = CharField(name="forum_id", hash_key=True)  # hash key
    thread_id = CharField(name="thread_id", range_key=True)  # range key
    user_id = CharField(name="user_id")
    title = CharField(name="title")
    description = CharField(name="description")
    # local index
    updated_at = IntegerField(
        name="updated_at", default=lambda: int(time.time() * 1000), indexed=True
    )
    # local index with selected attributes projected to index
    expiry_timestamp = IntegerField(
        name="expiry_timestamp", indexed=True, projections=["updated_at"]
    )
    tags = SetField(name="tags")
    user_reviews = ListField(name="user_reviews", default=[])
    key_value_data = DictField(name="key_value_data")


@pytest.fixture
def readme_connection(connection: Connection, dynamodb_endpoint: str) -> Iterator[Connection]:
    """``set_connection(is_local_endpoint=(host, port), ...)`` as in the dynamix README.

    The session's default connection is put back afterwards.
    """
    parts = urlsplit(dynamodb_endpoint)
    assert parts.hostname is not None
    assert parts.port is not None
    with dynamodb.use_connection(connection):
        local = dynamodb.set_connection(
            is_local_endpoint=(parts.hostname, str(parts.port)),
            aws_access_key_id="*",
            aws_secret_access_key="*",
            region_name="ap-south-1",
        )
        assert dynamodb.get_connection() is local
        yield local
        local.close()
    assert dynamodb.get_connection() is connection


@pytest.fixture
def forum_table(readme_connection: Connection) -> Iterator[dict[str, Any]]:
    description = dynamodb.create_table(ForumThread, force=True)
    yield description
    dynamodb.delete_table(ForumThread)


THREAD: dict[str, Any] = {
    "forum_id": "science",
    "thread_id": "physics_1",
    "title": "gravitational field of a blackhole",
    "description": "equations and more",
    "tags": {"physics", "gravity"},
    "user_id": "me",
    "key_value_data": {"a": 1, "b": 2},
}


def test_create_table_force_builds_the_readme_indexes(
    forum_table: dict[str, Any], readme_connection: Connection
) -> None:
    assert forum_table["TableStatus"] == "ACTIVE"
    ForumThread.create(**THREAD)

    # force=True drops the table, items included, and makes it again
    again = dynamodb.create_table(ForumThread, force=True)
    assert again["TableStatus"] == "ACTIVE"
    assert ForumThread.get(forum_id="science", thread_id="physics_1") is None

    info = Table(ForumThread).info()
    local = {index["IndexName"]: index for index in info["LocalSecondaryIndexes"]}
    assert local["updated_at_index"]["KeySchema"] == [
        {"AttributeName": "forum_id", "KeyType": "HASH"},
        {"AttributeName": "updated_at", "KeyType": "RANGE"},
    ]
    assert local["updated_at_index"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert local["expiry_timestamp_index"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["updated_at"],
    }
    (global_index,) = info["GlobalSecondaryIndexes"]
    assert global_index["IndexName"] == "user_threads_index"
    assert global_index["KeySchema"] == [
        {"AttributeName": "user_id", "KeyType": "HASH"},
        {"AttributeName": "updated_at", "KeyType": "RANGE"},
    ]
    assert global_index["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["title"],
    }
    assert global_index["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    assert global_index["ProvisionedThroughput"]["WriteCapacityUnits"] == 2


@pytest.mark.usefixtures("forum_table")
def test_create_new_entry_and_get_by_primary_key() -> None:
    before = int(time.time() * 1000)
    forum_thread = ForumThread.create(**THREAD)
    after = int(time.time() * 1000)
    assert before <= forum_thread.updated_at <= after  # the default lambda ran

    stored = ForumThread.get(forum_id="science", thread_id="physics_1")
    assert stored is not None
    assert stored == forum_thread
    assert stored.title == "gravitational field of a blackhole"
    assert stored.tags == {"physics", "gravity"}
    assert stored.key_value_data == {"a": 1, "b": 2}
    assert stored.user_reviews == []
    assert stored.expiry_timestamp is None

    # create() overwrites by default
    ForumThread.create(**{**THREAD, "title": "renamed"})
    renamed = ForumThread.get(forum_id="science", thread_id="physics_1")
    assert renamed is not None
    assert renamed.title == "renamed"


@pytest.mark.usefixtures("forum_table")
def test_create_with_overwrite_false_keeps_the_stored_item() -> None:
    original = ForumThread.create(**THREAD)

    with pytest.raises(ItemAlreadyExists) as caught:
        ForumThread.create(**{**THREAD, "title": "a different title"}, overwrite=False)

    error = caught.value
    assert isinstance(error, ConditionalCheckFailed)
    assert error.code == "ConditionalCheckFailedException"
    assert error.item is not None
    assert error.item["title"] == {"S": "gravitational field of a blackhole"}
    assert error.item["forum_id"] == {"S": "science"}
    assert sorted(error.item["tags"]["SS"]) == ["gravity", "physics"]

    stored = ForumThread.get(forum_id="science", thread_id="physics_1")
    assert stored == original

    # a new key is created with overwrite=False
    fresh = ForumThread.create(**{**THREAD, "thread_id": "physics_2"}, overwrite=False)
    assert ForumThread.get(forum_id="science", thread_id="physics_2") == fresh


@pytest.mark.usefixtures("forum_table")
def test_to_son_is_json_serialisable() -> None:
    ForumThread.create(**THREAD, updated_at=1700000000000)
    stored = ForumThread.get(forum_id="science", thread_id="physics_1")
    assert stored is not None

    text = json.dumps(stored.to_son())

    assert json.loads(text) == {
        "forum_id": "science",
        "thread_id": "physics_1",
        "user_id": "me",
        "title": "gravitational field of a blackhole",
        "description": "equations and more",
        "updated_at": 1700000000000,
        "expiry_timestamp": None,
        "tags": ["gravity", "physics"],
        "user_reviews": [],
        "key_value_data": {"a": 1, "b": 2},
    }
