"""Table-name prefixes on DynamoDB Local: two connections, one set of models, two sets of tables.

Each connection creates and uses the same models; the raw botocore client (which
adds no prefix) checks that both prefixed tables exist and that each holds only
what its own connection wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    ItemAlreadyExists,
    Model,
    Table,
    TableNotFound,
)
from dynamodb.core.flow import call
from dynamodb.streams import TableCheckpoints
from tests.integration.helpers import RecordingConnection

NOTES = "prefix_notes"
COUNTERS = "prefix_counters"


class PrefixNote(Model):
    __table_name__ = NOTES

    owner = CharField(hash_key=True)
    n = IntegerField(range_key=True)
    text = CharField()
    tag = CharField()
    __secondary_indexes__ = {  # noqa: RUF012
        "by_tag": {"hash_key": "tag", "range_key": "n", "projections": "ALL"}
    }


class PrefixCounter(Model):
    __table_name__ = COUNTERS

    name = CharField(hash_key=True)
    count = IntegerField(default=0)


class PrefixFeed(Model):
    __table_name__ = "prefix_feed"
    __stream__ = "NEW_AND_OLD_IMAGES"

    key = CharField(hash_key=True)
    text = CharField()


MakeConnection = Callable[[str], RecordingConnection]


def raw_tables(connection: Connection) -> list[str]:
    """Every table of the endpoint, as DynamoDB names them (the raw client adds no prefix)."""
    names: list[str] = []
    arguments: dict[str, Any] = {}
    while True:
        page = connection.client.list_tables(**arguments)
        names.extend(page["TableNames"])
        if "LastEvaluatedTableName" not in page:
            return names
        arguments = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}


def sent_tables(connection: RecordingConnection) -> set[str]:
    """Every table name in the requests ``connection`` sent, as DynamoDB got them."""
    names: set[str] = set()
    for _, params in connection.sent:
        if "TableName" in params:
            names.add(params["TableName"])
        names.update(params.get("RequestItems", ()))
        for action in params.get("TransactItems", ()):
            names.update(body["TableName"] for body in action.values())
    return names


def raw_texts(connection: Connection, table: str) -> dict[tuple[str, int], str]:
    """``(owner, n) -> text`` of every item in ``table``, read by the raw client."""
    items = connection.client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {
        (item["owner"]["S"], int(item["n"]["N"])): item.get("text", {}).get("S", "")
        for item in items
    }


@pytest.fixture
def prefixed(dynamodb_endpoint: str, connection: Connection) -> Iterator[MakeConnection]:
    """``prefixed("dev_")``: a connection to the test endpoint with that table prefix,
    recording what it sends (``.sent``: the requests as DynamoDB got them).

    At the end, every table carrying one of the prefixes is deleted and the
    connections are closed.
    """
    made: list[RecordingConnection] = []

    def make(prefix: str) -> RecordingConnection:
        conn = RecordingConnection(
            endpoint_url=dynamodb_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            table_prefix=prefix,
        )
        made.append(conn)
        return conn

    yield make
    prefixes = tuple(conn.table_prefix for conn in made)
    for name in raw_tables(connection):
        if name.startswith(prefixes):
            connection.client.delete_table(TableName=name)
    for conn in made:
        conn.close()


def test_two_prefixes_keep_two_sets_of_tables(prefixed: MakeConnection) -> None:
    a, b = prefixed("itp_a_"), prefixed("itp_b_")
    for conn in (a, b):
        dynamodb.create_table(PrefixNote, force=True, connection=conn)
        dynamodb.create_table(PrefixCounter, force=True, connection=conn)

    tables = raw_tables(a)
    for name in (NOTES, COUNTERS):
        assert f"itp_a_{name}" in tables
        assert f"itp_b_{name}" in tables
        assert name not in tables  # nothing was created under the model's bare name
    assert Table(PrefixNote, connection=a).name == f"itp_a_{NOTES}"
    assert Table(PrefixNote, connection=b).name == f"itp_b_{NOTES}"
    described = a.client.describe_table(TableName=f"itp_a_{NOTES}")["Table"]
    assert [index["IndexName"] for index in described["GlobalSecondaryIndexes"]] == ["by_tag"]

    # the same key in both: each connection reads its own
    PrefixNote(owner="ann", n=1, text="from a", tag="t").save(connection=a)
    PrefixNote(owner="ann", n=1, text="from b", tag="t").save(connection=b)
    got_a = PrefixNote.get(owner="ann", n=1, consistent=True, connection=a)
    got_b = PrefixNote.get(owner="ann", n=1, consistent=True, connection=b)
    assert got_a is not None
    assert got_b is not None
    assert (got_a.text, got_b.text) == ("from a", "from b")

    # a key taken in one table is free in the other
    PrefixNote.create(owner="bob", n=1, text="only a", tag="u", overwrite=False, connection=a)
    with pytest.raises(ItemAlreadyExists):
        PrefixNote.create(owner="bob", n=1, text="again", tag="u", overwrite=False, connection=a)
    assert PrefixNote.get(owner="bob", n=1, consistent=True, connection=b) is None

    # batches: 30 items (two BatchWriteItem chunks) in a only, read back by batch_get
    PrefixNote.batch_write(
        [PrefixNote(owner="batch", n=n, text=f"a{n}", tag="bulk") for n in range(30)],
        connection=a,
    )
    keys = [{"owner": "batch", "n": n} for n in range(30)]
    assert [note.text for note in PrefixNote.batch_get(*keys, connection=a)] == [
        f"a{n}" for n in range(30)
    ]
    assert PrefixNote.batch_get(*keys, connection=b) == []

    # queries and scans, on the table and on its index
    by_owner = PrefixNote.query().where(PrefixNote.owner.eq("batch")).using(a)
    assert [note.n for note in by_owner] == list(range(30))
    assert PrefixNote.query().where(PrefixNote.owner.eq("batch")).using(b).all() == []
    by_tag = PrefixNote.query().where(PrefixNote.tag.eq("t")).using(b)
    assert [note.text for note in by_tag] == ["from b"]
    assert len(PrefixNote.scan().using(a).all()) == 32
    assert [note.text for note in PrefixNote.scan().using(b)] == ["from b"]

    # a transaction over two tables, in b only (updates are read back through b too)
    counter = PrefixCounter(name="hits")
    counter.save(connection=b)
    with dynamodb.transaction(connection=b) as tx:
        tx.put(PrefixNote(owner="tx", n=1, text="tx b", tag="t"))
        tx.update(counter, PrefixCounter.count.add(5))
        tx.delete(PrefixNote(owner="ann", n=1))
    assert counter.count == 5
    read = dynamodb.transact_get(
        [(PrefixNote, {"owner": "tx", "n": 1}), (PrefixCounter, {"name": "hits"})],
        connection=b,
    )
    assert [type(item).__name__ for item in read] == ["PrefixNote", "PrefixCounter"]
    assert read[0].text == "tx b"
    assert read[1].count == 5
    assert dynamodb.transact_get([(PrefixCounter, {"name": "hits"})], connection=a) == [None]

    # what each table holds, as DynamoDB has it
    in_a = raw_texts(a, f"itp_a_{NOTES}")
    assert in_a == {
        ("ann", 1): "from a",
        ("bob", 1): "only a",
        **{("batch", n): f"a{n}" for n in range(30)},
    }
    assert raw_texts(a, f"itp_b_{NOTES}") == {("tx", 1): "tx b"}
    assert a.client.scan(TableName=f"itp_a_{COUNTERS}")["Items"] == []
    assert a.client.scan(TableName=f"itp_b_{COUNTERS}")["Items"] == [
        {"name": {"S": "hits"}, "count": {"N": "5"}}
    ]

    # each connection lists its own tables, under the models' names
    for conn in (a, b):
        listed = conn.run(call("ListTables", {}))["TableNames"]
        assert listed == [COUNTERS, NOTES]
        info = Table(PrefixNote, connection=conn).info()
        assert info["TableName"] == NOTES
        assert info["TableArn"].endswith(f"table/{conn.table_prefix}{NOTES}")
    assert PrefixNote.item_count(exact=True, connection=a) == 32
    assert PrefixNote.item_count(exact=True, connection=b) == 1

    # DynamoDB only ever saw the prefixed names
    assert sent_tables(a) == {f"itp_a_{NOTES}", f"itp_a_{COUNTERS}"}
    assert sent_tables(b) == {f"itp_b_{NOTES}", f"itp_b_{COUNTERS}"}
    assert {"CreateTable", "BatchWriteItem", "BatchGetItem", "Query", "Scan"} <= set(a.operations)
    assert {"TransactWriteItems", "TransactGetItems", "DescribeTable"} <= set(b.operations)

    # deleting through one connection leaves the other's table
    assert dynamodb.delete_table(PrefixNote, connection=a) is True
    tables = raw_tables(a)
    assert f"itp_a_{NOTES}" not in tables
    assert f"itp_b_{NOTES}" in tables
    assert PrefixNote.get(owner="tx", n=1, connection=b) is not None


def test_a_missing_prefixed_table_is_named_with_its_model(prefixed: MakeConnection) -> None:
    missing = prefixed("itp_none_")
    with pytest.raises(TableNotFound) as caught:
        PrefixNote.get(owner="ann", n=1, connection=missing)
    assert caught.value.tables == {NOTES: ["PrefixNote"]}
    assert "create_table(PrefixNote)" in str(caught.value)
    with pytest.raises(TableNotFound) as batch:
        PrefixNote.batch_write([PrefixNote(owner="x", n=1)], connection=missing)
    assert batch.value.tables == {NOTES: ["PrefixNote"]}
    assert Table(PrefixNote, connection=missing).delete(missing_ok=True) is False


def test_create_table_and_update_through_a_prefix_are_idempotent(
    prefixed: MakeConnection,
) -> None:
    a = prefixed("itp_u_")
    created = dynamodb.create_table(PrefixCounter, connection=a)
    assert created["TableName"] == COUNTERS
    assert dynamodb.create_table(PrefixCounter, connection=a)["TableName"] == COUNTERS
    assert Table(PrefixCounter, connection=a).update()["TableName"] == COUNTERS
    assert f"itp_u_{COUNTERS}" in raw_tables(a)


async def test_async_calls_keep_two_sets_of_tables(prefixed: MakeConnection) -> None:
    c, d = prefixed("itp_c_"), prefixed("itp_d_")
    try:
        for conn in (c, d):
            await dynamodb.acreate_table(PrefixNote, force=True, connection=conn)
            await dynamodb.acreate_table(PrefixCounter, force=True, connection=conn)
        tables = raw_tables(c)
        assert {f"itp_c_{NOTES}", f"itp_d_{NOTES}", f"itp_c_{COUNTERS}"} <= set(tables)

        await PrefixNote(owner="ann", n=1, text="from c", tag="t").asave(connection=c)
        await PrefixNote(owner="ann", n=1, text="from d", tag="t").asave(connection=d)
        got = await PrefixNote.aget(owner="ann", n=1, consistent=True, connection=d)
        assert got is not None
        assert got.text == "from d"

        await PrefixNote.abatch_write(
            [PrefixNote(owner="batch", n=n, text=f"c{n}", tag="bulk") for n in range(26)],
            connection=c,
        )
        keys = [{"owner": "batch", "n": n} for n in range(26)]
        found = await PrefixNote.abatch_get(*keys, connection=c)
        assert [note.text for note in found] == [f"c{n}" for n in range(26)]
        assert await PrefixNote.abatch_get(*keys, connection=d) == []

        query = PrefixNote.query().where(PrefixNote.owner.eq("batch"))
        assert [note.n async for note in query.using(c)] == list(range(26))
        assert await query.using(d).aall() == []
        assert [note.text async for note in PrefixNote.scan().using(d)] == ["from d"]

        counter = PrefixCounter(name="hits")
        await counter.asave(connection=c)
        async with dynamodb.atransaction(connection=c) as tx:
            tx.update(counter, PrefixCounter.count.add(2))
            tx.put(PrefixNote(owner="tx", n=1, text="tx c", tag="t"))
        assert counter.count == 2
        read = await dynamodb.atransact_get([(PrefixCounter, {"name": "hits"})], connection=c)
        assert read[0].count == 2
        assert await dynamodb.atransact_get([(PrefixCounter, {"name": "hits"})], connection=d) == [
            None
        ]

        assert (await Table(PrefixNote, connection=d).ainfo())["TableName"] == NOTES
        listed = await d.arun(call("ListTables", {}))
        assert listed["TableNames"] == [COUNTERS, NOTES]

        assert raw_texts(c, f"itp_c_{NOTES}") == {
            ("ann", 1): "from c",
            ("tx", 1): "tx c",
            **{("batch", n): f"c{n}" for n in range(26)},
        }
        assert raw_texts(c, f"itp_d_{NOTES}") == {("ann", 1): "from d"}
        assert sent_tables(c) == {f"itp_c_{NOTES}", f"itp_c_{COUNTERS}"}
        assert sent_tables(d) == {f"itp_d_{NOTES}", f"itp_d_{COUNTERS}"}

        assert await dynamodb.adelete_table(PrefixNote, connection=c) is True
        tables = raw_tables(c)
        assert f"itp_c_{NOTES}" not in tables
        assert f"itp_d_{NOTES}" in tables
    finally:
        await c.aclose()
        await d.aclose()


def test_streams_and_their_checkpoints_are_read_under_the_prefix(
    prefixed: MakeConnection,
) -> None:
    a, b = prefixed("itp_sa_"), prefixed("itp_sb_")
    for conn in (a, b):
        dynamodb.create_table(PrefixFeed, force=True, connection=conn)
    PrefixFeed(key="k", text="written through a").save(connection=a)
    PrefixFeed(key="k", text="written through b").save(connection=b)
    PrefixFeed(key="k2", text="b again").save(connection=b)

    checkpoints = TableCheckpoints("prefix_feed_checkpoints")
    seen_a = list(PrefixFeed.stream(stop_after=1.0, checkpoints=checkpoints, connection=a))
    seen_b = list(PrefixFeed.stream(stop_after=1.0, checkpoints=checkpoints, connection=b))
    assert [(change.kind, change.new.text) for change in seen_a if change.new] == [
        ("insert", "written through a")
    ]
    assert [(change.kind, change.new.text) for change in seen_b if change.new] == [
        ("insert", "written through b"),
        ("insert", "b again"),
    ]
    info = Table(PrefixFeed, connection=a).info()
    assert f"table/itp_sa_{PrefixFeed.__table_name__}/stream/" in info["LatestStreamArn"]

    tables = raw_tables(a)
    assert "itp_sa_prefix_feed_checkpoints" in tables  # each prefix keeps its own checkpoints
    assert "itp_sb_prefix_feed_checkpoints" in tables
    assert "prefix_feed_checkpoints" not in tables
    # the checkpoints were kept in a's own table: a second reader of a resumes after them
    assert list(PrefixFeed.stream(stop_after=0.5, checkpoints=checkpoints, connection=a)) == []


async def test_an_async_stream_reads_under_the_prefix(prefixed: MakeConnection) -> None:
    c = prefixed("itp_sc_")
    try:
        await dynamodb.acreate_table(PrefixFeed, force=True, connection=c)
        await PrefixFeed(key="k", text="async c").asave(connection=c)
        seen = [change async for change in PrefixFeed.astream(stop_after=1, connection=c)]
        assert [change.keys for change in seen] == [{"key": "k"}]
        assert sent_tables(c) == {"itp_sc_prefix_feed"}
        assert "DescribeStream" in c.operations
        assert "GetRecords" in c.operations
    finally:
        await c.aclose()
