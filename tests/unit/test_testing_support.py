"""The pieces of the pytest fixtures: a test's connection, its default, its tables, its prefix."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

import dynamodb
from dynamodb import CharField, Connection, InvalidArgument, MockTransport, Model
from dynamodb.testing import support
from dynamodb.testing.support import Tables, as_default, connect_for_test, unique_prefix


class Thing(Model):
    __table_name__ = "unit_support_things"

    id = CharField(hash_key=True)


class Elsewhere(Model):
    __table_name__ = "unit_support_elsewhere"
    __connection__ = Connection(region_name="us-east-1")

    id = CharField(hash_key=True)


def test_a_prefix_is_the_tests_name_and_a_hash_of_its_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    first = unique_prefix("tests/test_orders.py::test_placed[ada/bob]")
    assert re.fullmatch(r"test_placed_ada_bob-[0-9a-f]{8}-", first)
    assert unique_prefix("tests/test_orders.py::test_placed[ada/bob]") == first  # every run
    assert unique_prefix("tests/other.py::test_placed[ada/bob]") != first  # per test
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert unique_prefix("tests/test_orders.py::test_placed[ada/bob]") != first  # per worker
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", unique_prefix("::[]::!!"))


def test_a_loopback_connection_gets_placeholder_keys_and_others_the_environments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    local = connect_for_test("http://127.0.0.1:8000", read_timeout=2.0)
    assert (local.aws_access_key_id, local.aws_secret_access_key) == ("testing", "testing")
    assert (local.region_name, local.read_timeout) == ("eu-west-3", 2.0)
    remote = connect_for_test("https://dynamodb.eu-west-3.amazonaws.com")
    assert remote.aws_access_key_id is None
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert connect_for_test("http://localhost:8000").region_name == "us-east-1"


def test_the_table_prefix_is_passed_when_the_connection_takes_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[dict[str, Any]] = []

    class Prefixed(Connection):
        def __init__(self, *, table_prefix: str = "", **options: Any) -> None:
            made.append({"table_prefix": table_prefix})
            super().__init__(**options)

    monkeypatch.setattr(support, "Connection", Prefixed)
    assert support.takes_table_prefix()
    connect_for_test("http://127.0.0.1:8000", "tests/test_x.py::test_y")
    assert made == [{"table_prefix": unique_prefix("tests/test_x.py::test_y")}]


def test_as_default_reaches_every_thread_and_restores_what_was_there() -> None:
    before = dynamodb.get_connection()
    mine = Connection(transport=MockTransport(lambda operation, params: {}))
    seen: list[Connection] = []
    with as_default(mine):
        worker = threading.Thread(target=lambda: seen.append(dynamodb.get_connection()))
        worker.start()
        worker.join()
        dynamodb.set_connection(region_name="eu-west-1")  # the test replaces it meanwhile
    assert seen == [mine]
    assert dynamodb.get_connection() is before


def test_tables_are_created_once_dropped_and_a_foreign_connection_refused() -> None:
    sent: list[tuple[str, str]] = []
    existing: set[str] = set()

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Tables that exist once created, until deleted (ACTIVE at once)."""
        name = params.get("TableName", "")
        sent.append((operation, name))
        if operation == "CreateTable":
            existing.add(name)
        elif operation == "DeleteTable":
            existing.discard(name)
        elif operation == "DescribeTable" and name not in existing:
            raise dynamodb.ResourceNotFound("Requested resource not found", operation=operation)
        return {"Table": {"TableName": name, "TableStatus": "ACTIVE"}}

    connection = Connection(transport=MockTransport(handler))
    tables = Tables(connection)
    with pytest.raises(InvalidArgument, match="Elsewhere names its own connection"):
        tables(Thing, Elsewhere)
    assert sent == []  # refused before anything was sent
    [table] = tables(Thing, Thing)
    assert table.name == Thing.__table_name__
    assert table.connection is connection
    assert tables(Thing)[0].name == table.name
    assert [operation for operation, _ in sent].count("CreateTable") == 1
    assert existing == {Thing.__table_name__}
    tables.drop()
    assert existing == set()
    assert tables.created == []
    tables.drop()  # nothing left to drop
