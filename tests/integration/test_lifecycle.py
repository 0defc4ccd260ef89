"""Hooks, signals, automatic timestamps and TTL on DynamoDB Local, on every path."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Collection,
    ConditionalCheckFailed,
    Connection,
    DateTimeField,
    IntegerField,
    InvalidArgument,
    Model,
    ModelDefinitionError,
    Table,
    TTLField,
    belongs_to,
    has_many,
    signals,
)

CALLS: Counter[tuple[str, str]] = Counter()


class Note(Model):
    __table_name__ = "test_lifecycle_notes"
    pk = CharField(hash_key=True, template="NOTE#{note_id}")
    sk = CharField(range_key=True, template="NOTE")
    note_id = CharField(required=True)
    body = CharField()
    views = IntegerField()
    created = DateTimeField(auto_now_add=True)
    changed = DateTimeField(auto_now=True)
    expires = TTLField()
    comments = has_many("Comment", inverse="note")

    def before_save(self) -> None:
        CALLS["before_save", self.note_id] += 1

    def after_save(self) -> None:
        CALLS["after_save", self.note_id] += 1

    def before_delete(self) -> None:
        CALLS["before_delete", self.note_id] += 1

    def after_delete(self) -> None:
        CALLS["after_delete", self.note_id] += 1

    def after_load(self) -> None:
        CALLS["after_load", self.note_id] += 1


class Comment(Model):
    __table_name__ = "test_lifecycle_notes"
    pk = CharField(hash_key=True, template="NOTE#{note_id}")
    sk = CharField(range_key=True, template="COMMENT#{n:03d}")
    note_id = CharField(required=True)
    n = IntegerField(required=True)
    expires = TTLField()
    note = belongs_to(Note, foreign_key="note_id")


class AsyncHooked(Model):
    __table_name__ = "test_lifecycle_async"
    id = CharField(hash_key=True)
    seen = IntegerField()

    async def before_save(self) -> None:
        await asyncio.sleep(0)
        self.seen = (self.seen or 0) + 1

    async def after_load(self) -> None:
        CALLS["async after_load", self.id] += 1


class Refusing(Model):
    __table_name__ = "test_lifecycle_refusing"
    id = CharField(hash_key=True)
    value = IntegerField()

    def before_save(self) -> None:
        self.value = -1
        raise ValueError("refused by before_save")

    def after_save(self) -> None:
        CALLS["after_save", self.id] += 1


@pytest.fixture
def notes(connection: Connection, tables: Callable[..., None]) -> Iterator[Connection]:
    tables(Note, AsyncHooked, Refusing)
    CALLS.clear()
    yield connection
    CALLS.clear()


def count(hook: str, note_id: str = "n1") -> int:
    return CALLS[hook, note_id]


PAST = dt.timedelta(seconds=-30)


# -- hooks on every write path ------------------------------------------------------------


def test_every_write_path_runs_save_hooks_once(notes: Connection) -> None:
    note = Note.create(note_id="n1", body="a")
    assert (count("before_save"), count("after_save")) == (1, 1)
    note.body = "b"
    note.save()
    note.update(body="c")
    note.set_field(Note.body, "d")
    note.commit_changes()
    Note.add(note_id="n1", views=1)
    assert (count("before_save"), count("after_save")) == (5, 5)
    Note.batch_write([Note(note_id="b1"), Note(note_id="b2")])
    assert [count("after_save", key) for key in ("b1", "b2")] == [1, 1]
    with dynamodb.transaction() as tx:
        tx.put(Note(note_id="t1"))
        assert (count("before_save", "t1"), count("after_save", "t1")) == (1, 0)
    assert count("after_save", "t1") == 1


def test_every_delete_path_runs_delete_hooks_once(notes: Connection) -> None:
    note = Note.create(note_id="n1")
    note.delete()
    Note.create(note_id="n2")
    Note.delete_by_key(note_id="n2")
    Note.batch_write([Note(note_id="b1"), Note(note_id="b2")])
    Note.batch_delete(keys=[{"note_id": "b1"}, {"note_id": "b2"}])
    Note.create(note_id="t1")
    with dynamodb.transaction() as tx:
        tx.delete(Note(note_id="t1"))
    for key in ("n1", "n2", "b1", "b2", "t1"):
        assert (count("before_delete", key), count("after_delete", key)) == (1, 1), key


def test_a_refused_write_runs_no_after_hook(notes: Connection) -> None:
    Note.create(note_id="n1")
    with pytest.raises(ConditionalCheckFailed):
        Note.create(note_id="n1", overwrite=False)
    assert (count("before_save"), count("after_save")) == (2, 1)
    item = Refusing(id="r", value=1)
    with pytest.raises(ValueError, match="refused by before_save"):
        item.save()
    assert item.value == 1  # put back as it was
    assert Refusing.get(id="r") is None
    assert count("after_save", "r") == 0


def test_every_read_path_runs_after_load_once_per_item(notes: Connection) -> None:
    Note.create(note_id="n1")
    Comment.create(note_id="n1", n=1)
    CALLS.clear()
    assert Note.get(note_id="n1") is not None
    Note.query().where(Note.note_id.eq("n1")).all()
    Note.scan().all()
    Note.batch_get({"note_id": "n1"})
    Collection(Note, Comment).query(note_id="n1").all()
    comment = Comment.get(note_id="n1", n=1)
    assert comment is not None
    assert comment.note is not None  # the association load
    dynamodb.transact_get([(Note, {"note_id": "n1"})])
    assert count("after_load") == 7


def test_signals_reach_receivers_with_the_class_and_the_item(notes: Connection) -> None:
    received: list[tuple[str, Any, str]] = []

    def on(name: str) -> Callable[..., None]:
        def receive(sender: Any, item: Any) -> None:
            received.append((name, sender, item.note_id))

        return receive

    receivers = {name: on(name) for name in ("pre_save", "post_save", "post_load", "post_delete")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver, sender=Note)
    try:
        note = Note.create(note_id="n1")
        Note.get(note_id="n1")
        note.delete()
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver, sender=Note)
    assert received == [
        ("pre_save", Note, "n1"),
        ("post_save", Note, "n1"),
        ("post_load", Note, "n1"),
        ("post_delete", Note, "n1"),
    ]


async def test_async_hooks_are_awaited_and_refused_in_sync_calls(notes: Connection) -> None:
    item = await AsyncHooked.acreate(id="a")
    assert item.seen == 1
    found = await AsyncHooked.aget(id="a")
    assert found is not None
    assert found.seen == 1
    assert CALLS["async after_load", "a"] == 1
    with pytest.raises(InvalidArgument, match=r"AsyncHooked\.before_save is an async function"):
        AsyncHooked.create(id="b")
    assert await AsyncHooked.aget(id="b") is None


# -- automatic timestamps ---------------------------------------------------------------------


def test_auto_now_advances_on_every_write_path_and_auto_now_add_never_changes(
    notes: Connection,
) -> None:
    note = Note.create(note_id="n1")
    created, changed = note.created, note.changed
    assert created is not None
    assert changed is not None

    def stored() -> Note:
        found = Note.get(note_id="n1", consistent=True)
        assert found is not None
        return found

    def commit() -> None:
        note.set_field(Note.body, "y")
        note.commit_changes()

    steps: list[Callable[[], object]] = [
        lambda: note.update(body="x"),
        lambda: Note.add(note_id="n1", views=1),
        lambda: Note.batch_write([stored()]),
        commit,
    ]
    for step in steps:
        step()
        now = stored()
        assert now.created == created
        assert now.changed is not None
        assert now.changed > changed
        changed = now.changed
    with dynamodb.transaction() as tx:
        tx.update(stored(), body="z")
    assert stored().changed > changed
    assert stored().created == created


def test_auto_now_add_is_set_by_an_upsert_only_once(notes: Connection) -> None:
    Note(note_id="n1").update(body="first")
    first = Note.get(note_id="n1", consistent=True)
    assert first is not None
    assert first.created is not None
    Note(note_id="n1").update(body="second")
    again = Note.get(note_id="n1", consistent=True)
    assert again is not None
    assert again.created == first.created


def test_timestamps_and_ttl_are_checked_when_the_model_is_defined() -> None:
    with pytest.raises(ModelDefinitionError, match="auto_now"):

        class KeyStamp(Model):
            __table_name__ = "test_lifecycle_bad"
            at = DateTimeField(hash_key=True, auto_now=True)

    with pytest.raises(ModelDefinitionError, match="at most one TTLField"):

        class TwoTTLs(Model):
            __table_name__ = "test_lifecycle_bad2"
            id = CharField(hash_key=True)
            one = TTLField()
            two = TTLField()


# -- TTL ------------------------------------------------------------------------------------------


def test_ttl_is_enabled_and_reported(notes: Connection) -> None:
    assert Table(Note).info()["TimeToLive"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }


def keep_expired_items(connection: Connection) -> None:
    """Turn DynamoDB Local's own TTL deletions off for the notes table: the expired items then
    stay stored, and what reads leave out is what the library's filter leaves out."""
    connection.client.update_time_to_live(
        TableName="test_lifecycle_notes",
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"},
    )


def test_expired_items_are_hidden_on_every_read_path_and_shown_when_asked(
    notes: Connection,
) -> None:
    keep_expired_items(notes)
    Note.create(note_id="live", expires=dt.timedelta(days=1))
    Note.create(note_id="old", expires=PAST)
    Note.create(note_id="forever")
    Comment.create(note_id="old", n=1, expires=PAST)
    Comment.create(note_id="old", n=2)
    assert Note.get(note_id="old") is None
    old = Note.get(note_id="old", include_expired=True)
    assert old is not None
    assert old.expired
    assert old.expires_in is not None
    assert old.expires_in < dt.timedelta(0)
    assert sorted(note.note_id for note in Note.scan().all()) == ["forever", "live"]
    assert len(Note.scan().include_expired().all()) == 3
    assert Note.query().where(Note.note_id.eq("old")).all() == []
    assert len(Note.query().where(Note.note_id.eq("old")).include_expired().all()) == 1
    assert Note.scan().limit(2).count() == 2
    got = Note.batch_get({"note_id": "old"}, {"note_id": "live"})
    assert [note.note_id for note in got] == ["live"]
    assert len(Note.batch_get({"note_id": "old"}, include_expired=True)) == 1
    result = Collection(Note, Comment).query(note_id="old").all()
    assert (len(result[Note]), [comment.n for comment in result[Comment]]) == (0, [2])
    assert len(Collection(Note, Comment).query(note_id="old").include_expired().all()) == 3
    assert [comment.n for comment in old.comments.all()] == [2]
    comment = Comment.get(note_id="old", n=2)
    assert comment is not None
    assert comment.note is None  # its note expired
    forever = Note.get(note_id="forever")
    assert forever is not None
    assert (forever.expired, forever.expires_in) == (False, None)


async def test_expired_items_are_hidden_in_async_reads(notes: Connection) -> None:
    keep_expired_items(notes)
    await Note.acreate(note_id="old", expires=PAST)
    assert await Note.aget(note_id="old") is None
    assert await Note.scan().aall() == []
    assert len(await Note.scan().include_expired().aall()) == 1


def test_a_ttl_value_is_epoch_seconds_and_naive_means_utc(notes: Connection) -> None:
    when = dt.datetime(2030, 1, 1, 12, 0, 0)
    Note.create(note_id="n1", expires=when)
    raw = notes.client.get_item(
        TableName="test_lifecycle_notes", Key={"pk": {"S": "NOTE#n1"}, "sk": {"S": "NOTE"}}
    )["Item"]
    assert raw["expires"] == {"N": str(int(when.replace(tzinfo=dt.timezone.utc).timestamp()))}
    found = Note.get(note_id="n1")
    assert found is not None
    assert found.expires == when.replace(tzinfo=dt.timezone.utc)
