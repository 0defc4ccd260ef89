"""A missing table is named: forgetting ``create_table`` says which table, which model,
and that ``create_table(Model)`` creates it, from every kind of item call.

Against DynamoDB Local; the tables of these models are never created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    Model,
    ResourceNotFound,
    ServiceError,
    TableNotFound,
)


class NeverCreated(Model):
    __table_name__ = "test_missing_table_issues"

    project_key = CharField(hash_key=True)
    issue_id = CharField(range_key=True)
    title = CharField()
    votes = IntegerField(default=0)


class AlsoNeverCreated(Model):
    __table_name__ = "test_missing_table_users"

    name = CharField(hash_key=True)


KEY: dict[str, Any] = {"project_key": "acme#web", "issue_id": "i-1"}


def issue() -> NeverCreated:
    return NeverCreated(title="first", **KEY)


def _transaction() -> None:
    with dynamodb.transaction() as tx:
        tx.put(issue())


def _read_back() -> NeverCreated:
    item = NeverCreated._from_wire({"project_key": {"S": "acme#web"}, "issue_id": {"S": "i-1"}})
    item.title = "changed"
    return item


CALLS: dict[str, Callable[[], Any]] = {
    "get": lambda: NeverCreated.get(**KEY),
    "create": lambda: NeverCreated.create(title="t", **KEY),
    "save (put)": lambda: issue().save(),
    "save (changes)": lambda: _read_back().save(),
    "update": lambda: issue().update(NeverCreated.votes.add(1)),
    "update (idempotent)": lambda: issue().update(NeverCreated.votes.add(1), idempotent=True),
    "delete": lambda: issue().delete(),
    "delete_by_key": lambda: NeverCreated.delete_by_key(**KEY),
    "add": lambda: NeverCreated.add(votes=1, **KEY),
    "query": lambda: NeverCreated.query().where(NeverCreated.project_key == "acme#web").all(),
    "query count": lambda: NeverCreated.query().where(NeverCreated.project_key == "x").count(),
    "query first": lambda: NeverCreated.query().where(NeverCreated.project_key == "x").first(),
    "scan": lambda: list(NeverCreated.scan()),
    "parallel scan": lambda: list(NeverCreated.scan(segments=2)),
    "item_count": lambda: NeverCreated.item_count(),
    "batch_write": lambda: NeverCreated.batch_write([issue()]),
    "batch_get": lambda: NeverCreated.batch_get(KEY),
    "batch_delete": lambda: NeverCreated.batch_delete([KEY]),
    "commit_changes": lambda: _queued().commit_changes(),
    "transaction": _transaction,
    "transact_get": lambda: dynamodb.transact_get([issue()]),
}


def _queued() -> NeverCreated:
    item = issue()
    item.add_to_field(NeverCreated.votes, 1)
    return item


@pytest.mark.usefixtures("connection")
@pytest.mark.parametrize("call", sorted(CALLS))
def test_an_item_call_on_a_missing_table_names_it(call: str) -> None:
    with pytest.raises(TableNotFound) as caught:
        CALLS[call]()

    error = caught.value
    assert isinstance(error, ResourceNotFound)  # existing except clauses still catch it
    assert isinstance(error, ServiceError)
    assert error.code == "ResourceNotFoundException"
    assert error.tables == {"test_missing_table_issues": ["NeverCreated"]}
    message = str(error)
    assert (
        "the table 'test_missing_table_issues' (model NeverCreated) does not exist, "
        "or is not active yet: create_table(NeverCreated) creates it"
    ) in message
    assert error.message in message  # DynamoDB's own words are kept
    assert isinstance(error.__cause__, ResourceNotFound)


@pytest.mark.usefixtures("connection")
def test_the_message_of_a_get_reads_in_full() -> None:
    with pytest.raises(TableNotFound) as caught:
        NeverCreated.get(**KEY)
    assert str(caught.value) == (
        "ResourceNotFoundException (GetItem): Cannot do operations on a non-existent table; "
        "the table 'test_missing_table_issues' (model NeverCreated) does not exist, or is not "
        "active yet: create_table(NeverCreated) creates it"
    )
    assert caught.value.message == "Cannot do operations on a non-existent table"


@pytest.mark.usefixtures("connection")
def test_a_transaction_over_two_missing_tables_names_both() -> None:
    tx = dynamodb.transaction()
    tx.put(issue())
    tx.put(AlsoNeverCreated(name="ann"))
    with pytest.raises(TableNotFound) as caught:
        tx.commit()

    assert caught.value.tables == {
        "test_missing_table_issues": ["NeverCreated"],
        "test_missing_table_users": ["AlsoNeverCreated"],
    }
    assert "one of the tables 'test_missing_table_issues' (model NeverCreated), " in str(
        caught.value
    )


async def test_the_async_twins_name_it_too(aconnection: Connection) -> None:
    with pytest.raises(TableNotFound, match=r"create_table\(NeverCreated\) creates it"):
        await NeverCreated.aget(**KEY)
    with pytest.raises(TableNotFound, match=r"create_table\(NeverCreated\) creates it"):
        await issue().asave()
    with pytest.raises(TableNotFound, match=r"create_table\(NeverCreated\) creates it"):
        await NeverCreated.query().where(NeverCreated.project_key == "x").aall()
    with pytest.raises(TableNotFound, match=r"create_table\(NeverCreated\) creates it"):
        await NeverCreated.abatch_write([issue()])


@pytest.mark.usefixtures("connection")
def test_once_created_the_same_calls_work() -> None:
    dynamodb.create_table(NeverCreated)
    try:
        NeverCreated.create(title="t", **KEY)
        assert NeverCreated.get(**KEY) == NeverCreated(title="t", votes=0, **KEY)
    finally:
        dynamodb.delete_table(NeverCreated)
