"""Lazy upgrades against DynamoDB Local: every read path upgrades, the next save writes back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import CharField, Connection, IntegerField, Model, NewerSchemaVersion
from dynamodb.models.upgrades import SCHEMA_VERSION_ATTRIBUTE

TABLE = "test_lazy_upgrades_people"


class PersonV1(Model):
    """The model as an older release of the application wrote it."""

    __table_name__ = TABLE
    __entity__ = "Person"

    group = CharField(hash_key=True)
    id = IntegerField(range_key=True)
    name = CharField()


class Person(Model):
    """The current model: version 2 renamed ``name`` to ``full_name``."""

    __table_name__ = TABLE
    __schema_version__ = 2

    group = CharField(hash_key=True)
    id = IntegerField(range_key=True)
    full_name = CharField()

    @staticmethod
    def upgrade_to_2(raw: dict[str, Any]) -> dict[str, Any]:
        raw["full_name"] = raw.pop("name", "").title()
        return raw


@pytest.fixture
def people(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(Person, force=True)
    PersonV1.batch_write(PersonV1(group="g", id=n, name=f"person {n}") for n in range(5))
    yield
    dynamodb.delete_table(Person)


def stored(connection: Connection, n: int) -> dict[str, Any]:
    key = {"group": {"S": "g"}, "id": {"N": str(n)}}
    item: dict[str, Any] = connection.client.get_item(TableName=TABLE, Key=key)["Item"]
    return item


def test_every_read_path_upgrades(people: None) -> None:
    got = Person.get(group="g", id=0)
    assert got is not None
    assert got.full_name == "Person 0"
    assert [p.full_name for p in Person.query().where(Person.group == "g")] == [
        f"Person {n}" for n in range(5)
    ]
    assert sorted(p.full_name for p in Person.scan()) == [f"Person {n}" for n in range(5)]
    assert [
        p.full_name for p in Person.batch_get({"group": "g", "id": 3}, {"group": "g", "id": 1})
    ] == [
        "Person 3",
        "Person 1",
    ]


async def test_the_async_reads_upgrade_too(people: None, aconnection: Connection) -> None:
    got = await Person.aget(group="g", id=2)
    assert got is not None
    assert got.full_name == "Person 2"


def test_the_next_save_writes_the_upgrade_back(people: None, connection: Connection) -> None:
    person = Person.get(group="g", id=1)
    assert person is not None
    assert SCHEMA_VERSION_ATTRIBUTE not in stored(connection, 1)
    person.save()
    after = stored(connection, 1)
    assert after["full_name"] == {"S": "Person 1"}
    assert after[SCHEMA_VERSION_ATTRIBUTE] == {"N": "2"}
    assert "name" not in after  # the attribute the upgrade removed is removed
    again = Person.get(group="g", id=1)
    assert again is not None
    assert again.full_name == "Person 1"  # read as current: not upgraded a second time
    Person(group="g", id=9, full_name="New").save()
    assert stored(connection, 9)[SCHEMA_VERSION_ATTRIBUTE] == {"N": "2"}


class PersonV3(Model):
    """A newer release's model, running next to the current one in a rolling deploy."""

    __table_name__ = TABLE
    __entity__ = "Person"
    __schema_version__ = 3

    group = CharField(hash_key=True)
    id = IntegerField(range_key=True)
    full_name = CharField()
    nick = CharField()

    @staticmethod
    def upgrade_to_2(raw: dict[str, Any]) -> dict[str, Any]:
        return Person.upgrade_to_2(raw)

    @staticmethod
    def upgrade_to_3(raw: dict[str, Any]) -> None:
        raw["nick"] = raw["full_name"].split()[0]


def test_an_item_of_a_newer_version_is_not_written_back_as_older(
    people: None, connection: Connection
) -> None:
    PersonV3(group="g", id=7, full_name="Ada Lovelace", nick="ada").save()
    before = stored(connection, 7)
    person = Person.get(group="g", id=7)
    assert person is not None
    assert person.full_name == "Ada Lovelace"  # it reads
    person.full_name = "Ada King"
    message = (
        "Person {'group': 'g', 'id': 7} is stored with _schema_version 3, newer than the "
        "model's __schema_version__ 2"
    )
    with pytest.raises(NewerSchemaVersion, match=re.escape(message)) as raised:
        person.save()
    assert (raised.value.model, raised.value.stored, raised.value.current) == ("Person", 3, 2)
    with pytest.raises(NewerSchemaVersion):
        person.save(full=True)
    with pytest.raises(NewerSchemaVersion):
        Person.batch_write([person])
    assert stored(connection, 7) == before  # nothing was sent
    assert before[SCHEMA_VERSION_ATTRIBUTE] == {"N": "3"}
