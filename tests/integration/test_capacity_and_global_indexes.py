"""The original dynamodb-py's capacity changes and __global_indexes__, on DynamoDB Local."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import CharField, Connection, IntegerField, Model
from dynamodb.adapter import Table
from tests.unit import test_capacity_and_global_indexes as movies


class Test(Model):
    """The dynamodb-py README's model, created with 2/2."""

    __test__ = False
    __table_name__ = "test_capacity_test"

    ReadCapacityUnits = 2
    WriteCapacityUnits = 2

    name = CharField(name="name", hash_key=True)
    score = IntegerField(name="score", range_key=True)


@pytest.fixture
def seed_table(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(Test, force=True)
    yield
    dynamodb.delete_table(Test)
    Test.ReadCapacityUnits = 2
    Test.WriteCapacityUnits = 2


def capacity(description: dict[str, Any]) -> tuple[int, int]:
    throughput = description["ProvisionedThroughput"]
    return throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]


@pytest.mark.usefixtures("seed_table")
def test_a_capacity_assigned_to_the_class_reaches_table_update() -> None:
    assert capacity(Table(Test()).info()) == (2, 2)

    Test.ReadCapacityUnits = 50
    updated = Table(Test()).update()

    assert capacity(updated) == (50, 2)
    assert capacity(Table(Test()).info()) == (50, 2)  # as DynamoDB describes it now

    Test.WriteCapacityUnits = 7
    assert capacity(Table(Test()).update()) == (50, 7)


@pytest.mark.usefixtures("seed_table")
def test_a_capacity_assigned_to_the_class_reaches_create() -> None:
    Table(Test()).delete()
    Test.ReadCapacityUnits = 5
    assert capacity(Table(Test()).create()) == (5, 2)


class Authentication(movies.Authentication):
    """The original dynamodb-py's examples/movies.py model (``__global_indexes__``)."""

    __table_name__ = "test_capacity_authentication"


def test_a_query_through_a_global_index_declared_the_original_way(
    tables: Callable[..., None],
) -> None:
    tables(Authentication)
    description = Table(Authentication()).info()
    (index,) = description["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "authentication_account_id-index"
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["is_verified"]}

    Authentication.create(identity="13800000000", approach="mobile", account_id="a1")
    Authentication.create(identity="wx-1", approach="weixin", account_id="a1", is_verified=True)
    Authentication.create(identity="wx-2", approach="weixin", account_id="a2")

    found = (
        Authentication.query()
        .use_index("authentication_account_id-index")
        .where(Authentication.account_id.eq("a1"), Authentication.approach.eq("weixin"))
        .all()
    )
    assert [(item.identity, item.is_verified) for item in found] == [("wx-1", True)]
    assert found[0].date_created is None  # not projected into the index

    every = Authentication.query().where(Authentication.account_id.eq("a1")).all()
    assert sorted(item.identity for item in every) == ["13800000000", "wx-1"]
    explained = Authentication.query().where(Authentication.account_id.eq("a1")).explain()
    assert explained.get("IndexName") == "authentication_account_id-index"
