"""Streams on DynamoDB Local: turning them on, typed changes, checkpoints, Lambda events.

DynamoDB Local serves the Streams API with one shard per stream; what needs
several shards is checked in tests/unit/test_streams.py, and the multi-shard
test here answers the Streams API from a scripted stream while the checkpoint
table is DynamoDB Local's.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    BinaryField,
    CharField,
    Connection,
    IntegerField,
    Model,
    SetField,
    StreamNotEnabled,
    Table,
    TableNotFound,
)
from dynamodb.core.operations import delete_table
from dynamodb.streams import Change, MemoryCheckpoints, TableCheckpoints, parse_lambda_event
from tests.integration.helpers import RecordingConnection
from tests.support.scripted_stream import ScriptedStream, StreamsOnly
from tests.support.stream_models import Customer, Order

Tables = Callable[..., None]


class Note(Model):
    __table_name__ = "test_streams_notes"
    __stream__ = "NEW_AND_OLD_IMAGES"

    note_id = CharField(hash_key=True)
    text = CharField()
    stars = IntegerField(default=0)
    tags = SetField(of=str)
    blob = BinaryField()


class Quiet(Model):
    __table_name__ = "test_streams_quiet"

    key = CharField(hash_key=True)


class Missing(Model):
    __table_name__ = "test_streams_never_created"
    __stream__ = "KEYS_ONLY"

    key = CharField(hash_key=True)


class Session(Model):
    __table_name__ = "test_streams_sessions"
    __stream__ = "OLD_IMAGE"

    token = CharField(hash_key=True)
    expires = IntegerField()


class Counter(Model):
    """Items of the scripted stream: ``{"pk": ..., "n": ...}``."""

    __table_name__ = "test_streams_counters"
    __stream__ = "NEW_AND_OLD_IMAGES"

    pk = CharField(hash_key=True)
    n = IntegerField()


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    """Fail a test that reads for over a minute (a reader waiting for changes that never come)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("the test read the stream for over 60 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def checkpoint_table(connection: Connection) -> Iterator[TableCheckpoints]:
    """A checkpoint table's name, the table deleted after the test (it is made on first use)."""
    checkpoints = TableCheckpoints(f"test_streams_cp_{time.monotonic_ns()}")
    yield checkpoints
    connection.run(delete_table(checkpoints.table_name, missing_ok=True))


def write_history() -> list[tuple[str, Note | None, Note | None]]:
    """An insert, two modifications and a removal; (kind, old, new) in order."""
    first = Note.create(note_id="n1", text="draft", blob=b"\x00\xff")
    before = Note.get(note_id="n1")
    first.text, first.tags = "final", {"b", "a"}
    first.save()
    after_text = Note.get(note_id="n1")
    first.stars = 5
    first.save()
    after_stars = Note.get(note_id="n1")
    first.delete()
    return [
        ("insert", None, before),
        ("modify", before, after_text),
        ("modify", after_text, after_stars),
        ("remove", after_stars, None),
    ]


# -- turning a stream on --------------------------------------------------------------


def test_create_table_turns_the_stream_on_and_info_shows_its_arn(tables: Tables) -> None:
    tables(Note)
    info = Table(Note).info()
    assert info["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert ":table/test_streams_notes/stream/" in info["LatestStreamArn"]


def test_update_turns_a_stream_on_changes_its_view_and_turns_it_off(tables: Tables) -> None:
    tables(Quiet)
    assert "StreamSpecification" not in Table(Quiet).info()

    class KeysOnly(Model):
        __table_name__ = "test_streams_quiet"
        __stream__ = "KEYS_ONLY"
        key = CharField(hash_key=True)

    class Images(Model):
        __table_name__ = "test_streams_quiet"
        __stream__ = "NEW_AND_OLD_IMAGES"
        key = CharField(hash_key=True)

    class Off(Model):
        __table_name__ = "test_streams_quiet"
        __stream__ = False
        key = CharField(hash_key=True)

    first = Table(KeysOnly).update()
    assert first["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    second = Table(Images).update()
    assert second["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert second["LatestStreamArn"] != first["LatestStreamArn"]  # a new stream
    described = {
        key: value
        for key, value in Table(Images).info().items()
        if key not in ("Entities", "TimeToLive")
    }
    assert Table(Images).update() == described  # nothing left to change
    assert "StreamSpecification" not in Table(Off).update()
    assert "StreamSpecification" not in Table(Quiet).update()  # no __stream__: left alone


def test_the_transport_sends_streams_operations_to_the_streams_service(
    tables: Tables, connection: Connection
) -> None:
    tables(Note)
    arn = Table(Note).info()["LatestStreamArn"]
    listed = connection.send("ListStreams", {"TableName": "test_streams_notes"})
    # Streams of the table's earlier lives are listed too (they are kept for 24 hours).
    assert arn in [stream["StreamArn"] for stream in listed["Streams"]]

    async def described() -> dict[str, Any]:
        try:
            return await connection.asend("DescribeStream", {"StreamArn": arn})
        finally:
            await connection.aclose()

    assert asyncio.run(described())["StreamDescription"]["StreamArn"] == arn


# -- reading -------------------------------------------------------------------------------


def test_changes_come_typed_in_order(tables: Tables) -> None:
    tables(Note)
    history = write_history()
    started = datetime.now(timezone.utc)
    changes = list(Note.stream(stop_after=len(history)))
    assert [(change.kind, change.old, change.new) for change in changes] == history
    assert all(isinstance(change.new, Note) for change in changes[:3])
    assert changes[0].new is not None
    assert changes[0].new.blob == b"\x00\xff"
    assert [change.keys for change in changes] == [{"note_id": "n1"}] * 4
    assert [change.changed for change in changes] == [
        frozenset({"note_id", "text", "blob", "stars"}),
        frozenset({"text", "tags"}),
        frozenset({"stars"}),
        frozenset({"note_id", "text", "tags", "stars", "blob"}),
    ]
    numbers = [int(change.sequence_number) for change in changes]
    assert numbers == sorted(numbers)
    for change in changes:  # DynamoDB Local rounds the time down to the minute
        assert change.at.tzinfo == timezone.utc
        assert abs(change.at - started) < timedelta(minutes=2)
        assert not change.by_ttl


def test_each_image_of_a_change_runs_after_load(tables: Tables) -> None:
    tables(Note)
    history = write_history()
    loaded: list[Note] = []

    def receive(sender: Any, item: Note) -> None:
        loaded.append(item)

    dynamodb.signals.post_load.connect(receive, sender=Note)
    try:
        changes = list(Note.stream(stop_after=len(history)))
    finally:
        dynamodb.signals.post_load.disconnect(receive, sender=Note)
    images = [image for change in changes for image in (change.old, change.new) if image]
    assert len(images) == 6
    assert [id(item) for item in loaded] == [id(image) for image in images]


def test_the_async_twin_reads_the_same_changes(tables: Tables) -> None:
    tables(Note)
    write_history()

    async def read() -> list[Change[Note]]:
        try:
            return [change async for change in Note.astream(stop_after=4)]
        finally:
            await dynamodb.aclose()

    assert asyncio.run(read()) == list(Note.stream(stop_after=4))


def test_where_keeps_the_kinds_and_changed_fields_asked_for(tables: Tables) -> None:
    tables(Note)
    write_history()
    stream = Note.stream(stop_after=2)
    assert [change.kind for change in stream.where(kind="modify")] == ["modify", "modify"]
    stars = stream.where(kind={"modify", "remove"}, changed={Note.stars})
    assert [(change.kind, change.changed) for change in stars] == [
        ("modify", frozenset({"stars"})),
        ("remove", frozenset({"note_id", "text", "tags", "stars", "blob"})),
    ]
    both = Note.stream(stop_after=0.5).where(changed={"text"}).where(kind="insert")
    assert [change.kind for change in both] == ["insert"]


def test_a_shared_tables_models_read_their_own_items_or_all(tables: Tables) -> None:
    tables(Order)
    order = Order.create(pk="o#1", sk="order", total=10)
    Customer.create(pk="c#1", sk="profile", name="Ada")
    order.status = "paid"
    order.save()
    assert [(c.kind, c.keys) for c in Order.stream(stop_after=2)] == [
        ("insert", {"pk": "o#1", "sk": "order"}),
        ("modify", {"pk": "o#1", "sk": "order"}),
    ]
    assert [type(c.new) for c in Customer.stream(stop_after=0.5)] == [Customer]
    everything = list(dynamodb.streams.read([Order, Customer], stop_after=3))
    assert [type(change.new) for change in everything] == [Order, Customer, Order]
    assert everything[2].new == order
    by_table = list(dynamodb.streams.read(Table(Customer), stop_after=3))
    assert by_table == everything


def test_a_table_without_a_stream_and_a_missing_table_are_named(tables: Tables) -> None:
    tables(Quiet)
    with pytest.raises(StreamNotEnabled, match=r"test_streams_quiet.*Quiet.*__stream__"):
        next(iter(Quiet.stream()))
    with pytest.raises(TableNotFound, match="create_table\\(Missing\\)"):
        next(iter(Missing.stream()))


def test_an_idle_reader_sleeps_instead_of_spinning(
    tables: Tables, recording: RecordingConnection
) -> None:
    tables(Note)
    started = time.monotonic()
    assert list(Note.stream(stop_after=2.0, connection=recording)) == []
    assert 2.0 <= time.monotonic() - started < 10.0
    polls = recording.operations.count("GetRecords")
    assert 3 <= polls <= 12  # sleeps of 0.05 s growing to 1 s, not a busy loop


def test_start_latest_reads_only_what_is_written_after_the_reader_started(
    tables: Tables, recording: RecordingConnection
) -> None:
    tables(Note)
    Note.create(note_id="before", text="old")

    def write_once_reading() -> None:
        while "GetRecords" not in recording.operations:  # the reader is at the latest record
            time.sleep(0.02)
        Note.create(note_id="after", text="new")

    writer = threading.Thread(target=write_once_reading)
    writer.start()
    try:
        changes = list(Note.stream(start="latest", stop_after=1, connection=recording))
    finally:
        writer.join()
    assert [change.keys for change in changes] == [{"note_id": "after"}]


def test_deletions_by_ttl_are_marked(tables: Tables, connection: Connection) -> None:
    tables(Session)
    connection.send(
        "UpdateTimeToLive",
        {
            "TableName": "test_streams_sessions",
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"},
        },
    )
    Session.create(token="old", expires=int(time.time()) - 60)
    Session.create(token="gone-by-hand", expires=int(time.time()) + 3600)
    Session.delete_by_key(token="gone-by-hand")
    removals = Session.stream(stop_after=15.0).where(kind="remove")
    found: dict[str, bool] = {}
    for change in removals:
        found[change.keys["token"]] = change.by_ttl
        if len(found) == 2:
            break
    assert found == {"gone-by-hand": False, "old": True}


# -- checkpoints ----------------------------------------------------------------------------


def test_table_checkpoints_resume_right_after_the_last_processed_change(
    tables: Tables, checkpoint_table: TableCheckpoints
) -> None:
    tables(Note)
    history = write_history()
    first = list(Note.stream(checkpoints=checkpoint_table, stop_after=2))
    rest = list(Note.stream(checkpoints=checkpoint_table, stop_after=2))
    assert [(c.kind, c.old, c.new) for c in first + rest] == history
    assert list(Note.stream(checkpoints=checkpoint_table, stop_after=0.5)) == []
    # Another group keeps checkpoints of its own in the same table.
    assert len(list(Note.stream(checkpoints=checkpoint_table, group="audit", stop_after=4))) == 4


def test_leaving_a_loop_early_delivers_its_batch_again_unless_checkpointed(
    tables: Tables, checkpoint_table: TableCheckpoints
) -> None:
    tables(Note)
    write_history()
    first = next(iter(Note.stream(checkpoints=checkpoint_table)))  # its batch is not finished
    again = list(Note.stream(checkpoints=checkpoint_table, stop_after=1.0))
    assert again[0] == first
    assert len(again) == 4
    more = Note.create(note_id="n2", text="second")
    for change in Note.stream(checkpoints=checkpoint_table):
        assert change.new == Note.get(note_id="n2") == more
        change.checkpoint()
        break
    assert list(Note.stream(checkpoints=checkpoint_table, stop_after=0.5)) == []


def test_without_auto_checkpoints_only_change_checkpoint_writes(
    tables: Tables, checkpoint_table: TableCheckpoints
) -> None:
    tables(Note)
    write_history()
    manual = Note.stream(checkpoints=checkpoint_table, auto_checkpoint=False, stop_after=4)
    kinds = []
    for change in manual:
        kinds.append(change.kind)
        if len(kinds) == 2:
            change.checkpoint()
    assert kinds == ["insert", "modify", "modify", "remove"]
    resumed = Note.stream(checkpoints=checkpoint_table, stop_after=2)
    assert [c.kind for c in resumed] == ["modify", "remove"]  # after the one written by hand


def test_the_async_reader_checkpoints_too(
    tables: Tables, checkpoint_table: TableCheckpoints
) -> None:
    tables(Note)
    write_history()

    async def read() -> tuple[list[str], list[str]]:
        try:
            first = []
            async for change in Note.astream(checkpoints=checkpoint_table, auto_checkpoint=False):
                first.append(change.kind)
                await change.acheckpoint()
                break
            rest = [c.kind async for c in Note.astream(checkpoints=checkpoint_table, stop_after=3)]
            return first, rest
        finally:
            await dynamodb.aclose()

    assert asyncio.run(read()) == (["insert"], ["modify", "modify", "remove"])


def test_memory_checkpoints_resume_within_the_process(tables: Tables) -> None:
    tables(Note)
    write_history()
    memory = MemoryCheckpoints()
    assert len(list(Note.stream(checkpoints=memory, stop_after=3))) == 3
    assert [c.kind for c in Note.stream(checkpoints=memory, stop_after=0.5)] == ["remove"]


# -- Lambda ------------------------------------------------------------------------------------


def as_lambda_event(records: list[dict[str, Any]], arn: str) -> dict[str, Any]:
    """GetRecords records as Lambda hands them over: base64 binary values, an event source."""

    def encoded(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                tag: base64.b64encode(inner).decode()
                if isinstance(inner, bytes)
                else encoded(inner)
                for tag, inner in value.items()
            }
        if isinstance(value, list):
            return [
                base64.b64encode(inner).decode() if isinstance(inner, bytes) else encoded(inner)
                for inner in value
            ]
        return value

    return {
        "Records": [
            {**encoded(copy.deepcopy(record)), "eventSource": "aws:dynamodb", "eventSourceARN": arn}
            for record in records
        ]
    }


def test_lambda_events_parse_to_the_same_changes_as_the_reader(
    tables: Tables, connection: Connection
) -> None:
    tables(Note)
    write_history()
    arn = Table(Note).info()["LatestStreamArn"]
    shard = connection.send("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]
    iterator = connection.send(
        "GetShardIterator",
        {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
    )["ShardIterator"]
    records = connection.send("GetRecords", {"ShardIterator": iterator})["Records"]
    assert len(records) == 4
    from_lambda = parse_lambda_event(as_lambda_event(records, arn), Note)
    assert from_lambda == list(Note.stream(stop_after=4))
    assert from_lambda[0].new is not None
    assert from_lambda[0].new.blob == b"\x00\xff"


# -- several shards, several workers, one checkpoint table ---------------------------------------


def test_workers_split_shards_through_a_checkpoint_table_parents_first(
    tables: Tables, connection: Connection, checkpoint_table: TableCheckpoints
) -> None:
    tables(Counter)
    stream = ScriptedStream()
    stream.add_shard("shardId-root")
    for index in range(3):
        stream.put("shardId-root", "root", "INSERT" if index == 0 else "MODIFY", index)
    stream.close("shardId-root")
    for shard in ("shardId-left", "shardId-right"):
        stream.add_shard(shard, parent="shardId-root")
    stream.add_shard("shardId-other")
    scripted = Connection(transport=StreamsOnly(stream, connection))
    seen: dict[str, list[tuple[str, str, int]]] = {"one": [], "two": []}
    total = 3 + 3 * 4

    def work(name: str) -> None:
        # Neither stops early (which would leave its batch to the other): both end idle.
        reader = Counter.stream(
            checkpoints=checkpoint_table,
            worker=name,
            lease_seconds=2.0,
            stop_after=4.0,
            connection=scripted,
        )
        for change in reader:
            assert change.new is not None
            seen[name].append((change.shard_id or "", change.keys["pk"], change.new.n))

    workers = [threading.Thread(target=work, args=(name,)) for name in seen]
    for worker in workers:
        worker.start()
    time.sleep(2.5)  # both have looked at the stream and split it
    for shard in ("shardId-left", "shardId-right", "shardId-other"):
        for index in range(4):
            stream.put(shard, shard, "INSERT" if index == 0 else "MODIFY", index)
    for worker in workers:
        worker.join(timeout=30)
    delivered = seen["one"] + seen["two"]
    assert len(delivered) == total == len(set(delivered)), str(seen)  # each change once
    for name, changes in seen.items():
        assert changes, f"worker {name} read nothing"
        for shard in {shard for shard, _, _ in changes}:
            numbers = [n for s, _, n in changes if s == shard]
            assert numbers == sorted(numbers), "a shard's records in order"
    shards_of = {name: {shard for shard, _, _ in changes} for name, changes in seen.items()}
    assert not shards_of["one"] & shards_of["two"]  # no shard read by both
