"""Single-table design on DynamoDB Local: every write path, reads by parts, entities,
polymorphism, collections, unique fields, shared tables."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Collection,
    Connection,
    DateTimeField,
    DecimalField,
    IntegerField,
    ItemAlreadyExists,
    Model,
    Table,
    UniqueViolation,
    belongs_to,
    has_many,
)
from tests.integration.helpers import RecordingConnection

TABLE = "test_single_table_app"
T0 = dt.datetime(2026, 1, 5, 10, tzinfo=dt.timezone.utc)


class Member(Model):
    __table_name__ = TABLE
    pk = CharField(hash_key=True, template="MEMBER#{member_id}")
    sk = CharField(range_key=True, template="PROFILE")
    gsi1pk = CharField(template="EMAIL#{email}")
    gsi1sk = CharField(template="MEMBER")
    __secondary_indexes__ = {  # noqa: RUF012
        "gsi1": {"hash_key": "gsi1pk", "range_key": "gsi1sk", "projections": "ALL"}
    }
    member_id = CharField(required=True)
    email = CharField(required=True, unique=True)
    name = CharField()
    visits = IntegerField()
    tickets = has_many("Ticket", inverse="member")


class Ticket(Model):
    __table_name__ = TABLE
    pk = CharField(hash_key=True, template="MEMBER#{member_id}")
    sk = CharField(range_key=True, template="TICKET#{opened_at}#{ticket_id}")
    gsi1pk = CharField(template="STATUS#{status}")
    gsi1sk = CharField(template="{opened_at}")
    gsi2pk = CharField(template="TICKET#{ticket_id}")
    gsi2sk = CharField(template="TICKET")
    __secondary_indexes__ = {  # noqa: RUF012
        "gsi1": {"hash_key": "gsi1pk", "range_key": "gsi1sk", "projections": "ALL"},
        "gsi2": {"hash_key": "gsi2pk", "range_key": "gsi2sk", "projections": "ALL"},
    }
    member_id = CharField(required=True)
    ticket_id = CharField(required=True)
    opened_at = DateTimeField(required=True)
    status = CharField()
    total = DecimalField()
    member = belongs_to(Member, foreign_key="member_id")


class TicketNote(Model):
    """Shares the TICKET# sort-key prefix with Ticket, in the same partitions."""

    __table_name__ = TABLE
    pk = CharField(hash_key=True, template="MEMBER#{member_id}")
    sk = CharField(range_key=True, template="TICKET#{opened_at}#{ticket_id}#NOTE#{n:03d}")
    gsi2pk = CharField(template="TICKET#{ticket_id}")
    gsi2sk = CharField(template="NOTE#{n:03d}")
    __secondary_indexes__ = {  # noqa: RUF012
        "gsi2": {"hash_key": "gsi2pk", "range_key": "gsi2sk", "projections": "ALL"}
    }
    member_id = CharField(required=True)
    ticket_id = CharField(required=True)
    opened_at = DateTimeField(required=True)
    n = IntegerField(required=True)
    text = CharField()


class Vehicle(Model):
    __table_name__ = "test_single_table_vehicles"
    pk = CharField(hash_key=True, template="VEHICLE#{plate}")
    plate = CharField(required=True)
    wheels = IntegerField()


class Bike(Vehicle):
    gears = IntegerField()


class Truck(Vehicle):
    payload = IntegerField()


@pytest.fixture
def app(connection: Connection, tables: Callable[..., None]) -> Connection:
    tables(Member)
    return connection


def raw_items(connection: Connection, table: str = TABLE) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = connection.client.scan(TableName=table)["Items"]
    return items


def raw(connection: Connection, pk: str, sk: str) -> dict[str, Any] | None:
    answer = connection.client.get_item(
        TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )
    found: dict[str, Any] | None = answer.get("Item")
    return found


def guards(connection: Connection) -> list[str]:
    return sorted(
        item["pk"]["S"] for item in raw_items(connection) if item["pk"]["S"].startswith("UNIQUE#")
    )


def index_key(connection: Connection, ticket_id: str) -> str | None:
    stored = raw(connection, "MEMBER#m1", ticket_sk(ticket_id))
    assert stored is not None
    value = stored.get("gsi1pk")
    return None if value is None else str(value["S"])


def ticket_sk(ticket_id: str, at: dt.datetime = T0) -> str:
    return f"TICKET#{at.isoformat(timespec='microseconds')}#{ticket_id}"


# -- tables -----------------------------------------------------------------------------


def test_the_shared_table_holds_every_models_indexes_and_lists_its_entities(
    app: Connection,
) -> None:
    info = Table(Member).info()
    assert sorted(index["IndexName"] for index in info["GlobalSecondaryIndexes"]) == [
        "gsi1",
        "gsi2",
    ]
    assert info["Entities"] == ["Member", "Ticket", "TicketNote"]


# -- every write path writes the templated attributes and the entity ----------------------


def test_create_writes_templates_and_entity(app: Connection) -> None:
    Ticket.create(member_id="m1", ticket_id="t1", opened_at=T0, status="open", total=Decimal(5))
    stored = raw(app, "MEMBER#m1", ticket_sk("t1"))
    assert stored is not None
    assert stored["gsi1pk"] == {"S": "STATUS#open"}
    assert stored["gsi1sk"] == {"S": T0.isoformat(timespec="microseconds")}
    assert stored["gsi2pk"] == {"S": "TICKET#t1"}
    assert stored["_type"] == {"S": "Ticket"}


def test_dirty_save_update_and_commit_changes_recompute_what_a_part_changes(
    app: Connection,
) -> None:
    ticket = Ticket.create(member_id="m1", ticket_id="t1", opened_at=T0, status="open")
    ticket.status = "held"
    ticket.save()  # a dirty save: an UpdateItem of status and gsi1pk
    assert index_key(app, "t1") == "STATUS#held"
    ticket.update(status="closed")
    assert ticket.gsi1pk == "STATUS#closed"
    assert index_key(app, "t1") == "STATUS#closed"
    ticket.set_field(Ticket.status, "reopened")
    ticket.commit_changes()
    assert index_key(app, "t1") == "STATUS#reopened"
    ticket.status = None
    ticket.save()  # the part is gone, so the item leaves the sparse index
    stored = raw(app, "MEMBER#m1", ticket_sk("t1"))
    assert stored is not None
    assert "gsi1pk" not in stored
    assert "status" not in stored
    assert Ticket.query().where(Ticket.status.eq("reopened")).all() == []


def test_an_update_by_key_without_a_read_is_an_upsert_with_entity_and_templates(
    app: Connection,
) -> None:
    Ticket(member_id="m1", ticket_id="t9", opened_at=T0).update(status="new")
    stored = raw(app, "MEMBER#m1", ticket_sk("t9"))
    assert stored is not None
    assert stored["_type"] == {"S": "Ticket"}
    assert stored["gsi1pk"] == {"S": "STATUS#new"}
    found = Ticket.get(member_id="m1", ticket_id="t9", opened_at=T0)
    assert found is not None
    assert found.status == "new"


def test_add_batches_and_transactions_write_templates(app: Connection) -> None:
    Member.create(member_id="m1", email="m1@x")
    counted = Member.add(member_id="m1", visits=2)
    assert counted.visits == 2
    assert counted.email == "m1@x"
    Ticket.batch_write(
        [Ticket(member_id="m2", ticket_id=f"b{i}", opened_at=T0, status="open") for i in range(3)]
    )
    with dynamodb.transaction() as tx:
        tx.put(Ticket(member_id="m2", ticket_id="x1", opened_at=T0, status="tx"))
    stored = {item["sk"]["S"]: item for item in raw_items(app) if item["pk"]["S"] == "MEMBER#m2"}
    assert len(stored) == 4
    assert {item["gsi1pk"]["S"] for item in stored.values()} == {"STATUS#open", "STATUS#tx"}
    assert all(item["_type"] == {"S": "Ticket"} for item in stored.values())


# -- reads by parts -----------------------------------------------------------------------


def test_get_delete_and_batch_get_take_the_parts(app: Connection) -> None:
    for number in range(3):
        Ticket.create(member_id="m1", ticket_id=f"t{number}", opened_at=T0)
    got = Ticket.batch_get(
        {"member_id": "m1", "ticket_id": "t2", "opened_at": T0},
        {"member_id": "m1", "ticket_id": "t0", "opened_at": T0},
        {"member_id": "m1", "ticket_id": "nope", "opened_at": T0},
    )
    assert [ticket.ticket_id for ticket in got] == ["t2", "t0"]
    Ticket.delete_by_key(member_id="m1", ticket_id="t1", opened_at=T0)
    assert Ticket.get(member_id="m1", ticket_id="t1", opened_at=T0) is None
    assert Ticket.get(pk="MEMBER#m1", sk=ticket_sk("t0")) is not None  # the raw key works too


def test_queries_by_parts_read_newest_first_with_pages(app: Connection) -> None:
    for day in range(6):
        Ticket.create(member_id="m1", ticket_id=f"t{day}", opened_at=T0 + dt.timedelta(days=day))
    newest = Ticket.query().where(Ticket.member_id.eq("m1")).order_by(Ticket.opened_at, asc=False)
    first, cursor = newest.limit(4).get_items()
    assert [ticket.ticket_id for ticket in first] == ["t5", "t4", "t3", "t2"]
    rest, end = newest.limit(4).start_key(cursor).get_items()
    assert [ticket.ticket_id for ticket in rest] == ["t1", "t0"]
    assert end is None
    since = Ticket.query().where(
        Ticket.member_id.eq("m1"), Ticket.opened_at.gt(T0 + dt.timedelta(days=3))
    )
    assert [ticket.ticket_id for ticket in since.all()] == ["t4", "t5"]


def test_a_read_returns_only_its_entity_where_prefixes_are_shared(app: Connection) -> None:
    Ticket.create(member_id="m1", ticket_id="t1", opened_at=T0)
    TicketNote.create(member_id="m1", ticket_id="t1", opened_at=T0, n=1, text="first")
    TicketNote.create(member_id="m1", ticket_id="t1", opened_at=T0, n=2, text="second")
    tickets = Ticket.query().where(Ticket.member_id.eq("m1")).all()
    assert [type(ticket) for ticket in tickets] == [Ticket]
    assert len(Ticket.query().where(Ticket.member_id.eq("m1")).limit(1).all()) == 1
    notes = TicketNote.query().where(TicketNote.member_id.eq("m1")).all()
    assert [note.n for note in notes] == [1, 2]
    assert Ticket.scan().count() == 1
    assert Member.get(pk="MEMBER#m1", sk=ticket_sk("t1")) is None  # a Ticket, not a Member


def test_an_unknown_entity_is_skipped_and_never_breaks_a_page(app: Connection) -> None:
    for number in range(4):
        Ticket.create(member_id="m1", ticket_id=f"t{number}", opened_at=T0)
    app.client.put_item(
        TableName=TABLE,
        Item={"pk": {"S": "MEMBER#m1"}, "sk": {"S": "TICKET#0"}, "_type": {"S": "Alien"}},
    )
    query = Ticket.query().where(Ticket.member_id.eq("m1")).page_size(2)
    assert len(query.all()) == 4
    result = Collection(Member, Ticket).query(member_id="m1").page_size(1).all()
    assert len(result) == 4
    assert len(Collection(Member, Ticket, TicketNote).scan(segments=2).all()) == 4


# -- collections ----------------------------------------------------------------------------


def test_a_collection_is_one_query_of_the_partition(
    app: Connection, recording: RecordingConnection
) -> None:
    Member.create(member_id="m1", email="m1@x", name="Ann")
    for number in range(3):
        Ticket.create(member_id="m1", ticket_id=f"t{number}", opened_at=T0)
    Ticket.create(member_id="m2", ticket_id="other", opened_at=T0)
    result = Collection(Member, Ticket).query(member_id="m1").using(recording).all()
    assert recording.operations == ["Query"]
    assert [member.name for member in result[Member]] == ["Ann"]
    assert [ticket.ticket_id for ticket in result[Ticket]] == ["t0", "t1", "t2"]
    assert [type(item) for item in result] == [Member, Ticket, Ticket, Ticket]  # key order


def test_a_collection_pages_with_cursors(app: Connection) -> None:
    Member.create(member_id="m1", email="m1@x")
    for number in range(4):
        Ticket.create(member_id="m1", ticket_id=f"t{number}", opened_at=T0)
    query = Collection(Member, Ticket).query(member_id="m1").limit(3)
    page, cursor = query.get_items()
    assert len(page) == 3
    assert len(page[Member]) == 1
    assert cursor is not None
    rest, end = query.start_key(cursor).get_items()
    assert [ticket.ticket_id for ticket in rest[Ticket]] == ["t2", "t3"]
    assert end is None


def test_a_collection_through_an_index_the_models_share(app: Connection) -> None:
    Ticket.create(member_id="m1", ticket_id="t1", opened_at=T0, status="open")
    for n in (2, 1):
        TicketNote.create(member_id="m1", ticket_id="t1", opened_at=T0, n=n)
    TicketNote.create(member_id="m1", ticket_id="t2", opened_at=T0, n=1)
    query = Collection(Ticket, TicketNote).query(ticket_id="t1")
    assert query.explain()["IndexName"] == "gsi2"
    result = query.all()
    assert [ticket.ticket_id for ticket in result[Ticket]] == ["t1"]
    assert [note.n for note in result[TicketNote]] == [1, 2]
    with pytest.raises(dynamodb.NoIndexForQuery, match="Member does not declare it"):
        Collection(Member, Ticket).query(ticket_id="t1")


async def test_collections_have_async_twins(app: Connection) -> None:
    await Member.acreate(member_id="m1", email="m1@x")
    await Ticket.acreate(member_id="m1", ticket_id="t1", opened_at=T0)
    query = Collection(Member, Ticket).query(member_id="m1")
    result = await query.aall()
    assert len(result[Member]) == 1
    assert len(result[Ticket]) == 1
    seen = [type(item) async for item in query]
    assert seen == [Member, Ticket]
    page, cursor = await query.limit(1).aget_items()
    assert [type(item) for item in page] == [Member]
    assert cursor is not None


def test_has_many_in_the_owners_partition_is_one_query(
    app: Connection, recording: RecordingConnection
) -> None:
    member = Member.create(member_id="m1", email="m1@x")
    for number in range(3):
        Ticket.create(member_id="m1", ticket_id=f"t{number}", opened_at=T0)
    TicketNote.create(member_id="m1", ticket_id="t0", opened_at=T0, n=1)
    tickets = member.tickets.query().using(recording).all()
    assert [ticket.ticket_id for ticket in tickets] == ["t0", "t1", "t2"]
    assert recording.operations == ["Query"]
    assert "IndexName" not in recording.sent[0][1]
    ticket = Ticket.get(member_id="m1", ticket_id="t2", opened_at=T0)
    assert ticket is not None
    assert ticket.member == member


# -- polymorphism --------------------------------------------------------------------------


def test_subclasses_of_a_model_are_entities_of_its_table(
    connection: Connection, tables: Callable[..., None]
) -> None:
    tables(Vehicle)
    Bike.create(plate="b1", wheels=2, gears=21)
    Truck.create(plate="t1", wheels=6, payload=9000)
    Vehicle.create(plate="v1", wheels=4)
    everything = sorted(Vehicle.scan().all(), key=lambda vehicle: vehicle.plate)
    assert [type(vehicle) for vehicle in everything] == [Bike, Truck, Vehicle]
    assert [bike.gears for bike in Bike.scan().all()] == [21]
    assert isinstance(Vehicle.get(plate="t1"), Truck)
    assert Bike.get(plate="t1") is None
    assert Bike._meta.table_name == Vehicle._meta.table_name


# -- unique fields -----------------------------------------------------------------------------


def test_a_taken_value_raises_and_writes_nothing(app: Connection) -> None:
    Member.create(member_id="m1", email="same@x")
    with pytest.raises(UniqueViolation) as raised:
        Member.create(member_id="m2", email="same@x")
    error = raised.value
    assert (error.model, error.field, error.value) == ("Member", "email", "same@x")
    assert isinstance(error, dynamodb.ConditionalCheckFailed)
    assert Member.get(member_id="m2") is None
    assert guards(app) == ["UNIQUE#Member#email#same@x"]


def test_changing_and_deleting_free_the_value(app: Connection) -> None:
    member = Member.create(member_id="m1", email="old@x")
    member.email = "new@x"
    member.save()
    assert guards(app) == ["UNIQUE#Member#email#new@x"]
    Member.create(member_id="m2", email="old@x")  # freed, so another member takes it
    Member(member_id="m2").update(email="other@x")  # without a read: read, then guarded
    assert guards(app) == ["UNIQUE#Member#email#new@x", "UNIQUE#Member#email#other@x"]
    member.delete()
    Member.delete_by_key(member_id="m2")
    assert guards(app) == []


def test_guards_are_never_read_and_overwrite_keeps_one_guard(app: Connection) -> None:
    Member.create(member_id="m1", email="a@x")
    Member.create(member_id="m1", email="b@x")  # the same item again, with another email
    assert guards(app) == ["UNIQUE#Member#email#b@x"]
    assert [member.email for member in Member.scan().all()] == ["b@x"]
    assert len(Collection(Member, Ticket).scan().all()) == 1
    with pytest.raises(ItemAlreadyExists):
        Member.create(member_id="m1", email="c@x", overwrite=False)
    assert guards(app) == ["UNIQUE#Member#email#b@x"]


def test_transactions_and_batches_keep_guards(app: Connection) -> None:
    with dynamodb.transaction() as tx:
        tx.put(Member(member_id="m1", email="t@x"))
        tx.put(Ticket(member_id="m1", ticket_id="t1", opened_at=T0))
    with pytest.raises(UniqueViolation), dynamodb.transaction() as tx:
        tx.put(Member(member_id="m2", email="t@x"))
    with pytest.raises(UniqueViolation, match="1 items were not written"):
        Member.batch_write(
            [Member(member_id="m3", email="b@x"), Member(member_id="m4", email="t@x")]
        )
    assert Member.get(member_id="m4") is None
    assert guards(app) == ["UNIQUE#Member#email#b@x", "UNIQUE#Member#email#t@x"]
    assert Member.batch_delete(keys=[{"member_id": "m3"}]) == 1
    assert guards(app) == ["UNIQUE#Member#email#t@x"]


async def test_async_writes_keep_guards(app: Connection) -> None:
    results = await asyncio.gather(
        *(Member.acreate(member_id=f"m{i}", email="race@x") for i in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(result, UniqueViolation) for result in results) == 3
    assert guards(app) == ["UNIQUE#Member#email#race@x"]
    winner = next(result for result in results if isinstance(result, Member))
    await winner.adelete()
    assert guards(app) == []
