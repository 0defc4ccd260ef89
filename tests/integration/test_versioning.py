"""Optimistic locking with VersionField against DynamoDB Local."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    Connection,
    IntegerField,
    Model,
    ModelDefinitionError,
    SetField,
    VersionConflict,
    VersionField,
)


class Doc(Model):
    __table_name__ = "test_versioning_doc"

    doc_id = CharField(hash_key=True)
    counter = IntegerField(default=0)
    title = CharField()
    tags = SetField(of=str)
    version = VersionField()


class Renamed(Model):
    """A VersionField stored under another name."""

    __table_name__ = "test_versioning_renamed"

    doc_id = CharField(hash_key=True)
    title = CharField()
    rev = VersionField(name="_rev")


@pytest.fixture(scope="module")
def doc_tables(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(Doc, force=True)
    dynamodb.create_table(Renamed, force=True)
    yield
    dynamodb.delete_table(Doc)
    dynamodb.delete_table(Renamed)


@pytest.fixture
def doc(doc_tables: None) -> Doc:
    return Doc.create(doc_id=f"doc-{uuid.uuid4().hex}", title="first", tags={"a"})


def read(doc_id: str) -> Doc:
    found = Doc.get(consistent=True, doc_id=doc_id)
    assert found is not None
    return found


# -- versions go up by one per write ---------------------------------------------------------


def test_create_stores_version_one(doc: Doc) -> None:
    assert doc.version == 1
    assert read(doc.doc_id).version == 1


def test_each_write_increments_the_version(doc: Doc) -> None:
    item = read(doc.doc_id)
    item.title = "saved"
    item.save()
    assert item.version == 2
    item.update(Doc.counter.add(1))
    assert item.version == 3
    item.set_field(Doc.title, "committed")
    item.add_to_setfield(Doc.tags, {"b"})
    item.commit_changes()
    assert item.version == 4
    item.title = "full"
    item.save(full=True)
    assert item.version == 5
    item.condition(Doc.counter.eq(1)).update(title="conditional")
    assert item.version == 6
    stored = read(doc.doc_id)
    assert stored == item
    assert (stored.title, stored.counter, stored.tags, stored.version) == (
        "conditional",
        1,
        {"a", "b"},
        6,
    )


def test_a_save_without_changes_keeps_the_version(doc: Doc) -> None:
    doc.save()
    doc.commit_changes()
    assert read(doc.doc_id).version == 1


def test_the_version_cannot_be_set_by_hand(doc: Doc) -> None:
    doc.version = 7
    doc.title = "hand-set version"
    with pytest.raises(VersionConflict) as raised:
        doc.save()
    assert (raised.value.expected, raised.value.found) == (7, 1)
    assert read(doc.doc_id).title == "first"


def test_a_new_item_over_a_versioned_one_conflicts(doc: Doc) -> None:
    with pytest.raises(VersionConflict) as raised:
        Doc(doc_id=doc.doc_id, title="newcomer").save()
    assert (raised.value.expected, raised.value.found) == (None, 1)
    assert read(doc.doc_id).title == "first"


def test_a_renamed_version_attribute(doc_tables: None) -> None:
    item = Renamed.create(doc_id="renamed", title="a")
    assert item.rev == 1
    stale = Renamed.get(consistent=True, doc_id="renamed")
    assert stale is not None
    item.title = "b"
    item.save()
    assert item.rev == 2
    stale.title = "c"
    with pytest.raises(VersionConflict) as raised:
        stale.save()
    assert (raised.value.expected, raised.value.found) == (1, 2)
    response = dynamodb.get_connection().send(
        "GetItem", {"TableName": Renamed.__table_name__, "Key": {"doc_id": {"S": "renamed"}}}
    )
    assert response["Item"]["_rev"] == {"N": "2"}
    assert response["Item"]["title"] == {"S": "b"}


# -- stale instances -------------------------------------------------------------------------

Write = Callable[[Doc], Any]


def _save(item: Doc) -> None:
    item.title = "stale save"
    item.save()


def _save_full(item: Doc) -> None:
    item.title = "stale full save"
    item.save(full=True)


def _update(item: Doc) -> None:
    item.update(Doc.counter.add(100))


def _commit(item: Doc) -> None:
    item.set_field(Doc.title, "stale commit")
    item.commit_changes()


def _delete(item: Doc) -> None:
    item.delete()


def _conditional_update(item: Doc) -> None:
    item.condition(Doc.counter.eq(0)).update(title="stale conditional")


STALE_WRITES = [
    pytest.param(_save, id="save"),
    pytest.param(_save_full, id="save-full"),
    pytest.param(_update, id="update"),
    pytest.param(_commit, id="commit_changes"),
    pytest.param(_delete, id="delete"),
    pytest.param(_conditional_update, id="condition-update"),
]


@pytest.mark.parametrize("write", STALE_WRITES)
def test_a_stale_instance_cannot_write(doc: Doc, write: Write) -> None:
    stale = read(doc.doc_id)
    winner = read(doc.doc_id)
    winner.title = "winner"
    winner.save()

    with pytest.raises(VersionConflict) as raised:
        write(stale)
    assert isinstance(raised.value, ConditionalCheckFailed)
    assert raised.value.expected == 1
    assert raised.value.found == 2
    assert "expected version 1" in str(raised.value)
    stored = read(doc.doc_id)
    assert stored == winner  # nothing changed
    assert (stored.title, stored.counter, stored.version) == ("winner", 0, 2)


@pytest.mark.parametrize("write", STALE_WRITES)
def test_writing_an_item_deleted_meanwhile_conflicts(doc: Doc, write: Write) -> None:
    stale = read(doc.doc_id)
    Doc.delete_by_key(doc_id=doc.doc_id)
    with pytest.raises(VersionConflict) as raised:
        write(stale)
    assert (raised.value.expected, raised.value.found) == (1, None)
    assert Doc.get(consistent=True, doc_id=doc.doc_id) is None


def test_a_stale_commit_keeps_exactly_the_queued_changes(doc: Doc) -> None:
    stale = read(doc.doc_id)
    read(doc.doc_id).update(title="winner")
    stale.set_field(Doc.title, "mine")
    stale.add_to_field(Doc.counter, 2)
    queued = stale.pending_changes
    with pytest.raises(VersionConflict):
        stale.commit_changes()
    assert stale.pending_changes == queued  # no version action slipped in
    assert stale.version == 1


async def test_a_stale_async_commit_conflicts(doc: Doc, aconnection: Connection) -> None:
    stale = read(doc.doc_id)
    read(doc.doc_id).update(title="winner")
    stale.set_field(Doc.title, "mine")
    with pytest.raises(VersionConflict):
        await stale.acommit_changes()
    assert read(doc.doc_id).title == "winner"


def test_a_failed_condition_with_the_right_version_is_not_a_version_conflict(doc: Doc) -> None:
    with pytest.raises(ConditionalCheckFailed) as raised:
        doc.condition(Doc.counter.eq(5)).update(title="nope")
    assert not isinstance(raised.value, VersionConflict)
    with pytest.raises(ConditionalCheckFailed) as raised:
        doc.delete(condition=Doc.title.eq("other"))
    assert not isinstance(raised.value, VersionConflict)
    assert read(doc.doc_id).version == 1


def test_retry_after_a_conflict_by_reading_again(doc: Doc) -> None:
    stale = read(doc.doc_id)
    read(doc.doc_id).update(Doc.counter.add(1))
    stale.counter += 1
    with pytest.raises(VersionConflict):
        stale.save()
    again = read(doc.doc_id)
    again.counter += 1
    again.save()
    assert read(doc.doc_id).counter == 2
    assert read(doc.doc_id).version == 3


# -- the race ------------------------------------------------------------------------------


def test_concurrent_read_modify_save_loses_no_increment(doc_tables: None) -> None:
    doc_id = f"race-{uuid.uuid4().hex}"
    Doc.create(doc_id=doc_id)
    threads, rounds = 10, 10
    conflicts: list[VersionConflict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    # Every worker reads version 1 before any of them saves, so the first round
    # is a real race: one save wins, the others must conflict and retry.
    everyone_has_read = threading.Barrier(threads)

    def work() -> None:
        try:
            first = True
            for _ in range(rounds):
                while True:
                    item = read(doc_id)
                    item.counter += 1
                    if first:
                        first = False
                        everyone_has_read.wait(timeout=30)
                    try:
                        item.save()
                        break
                    except VersionConflict as conflict:
                        with lock:
                            conflicts.append(conflict)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    # All but one of the first round's saves lost the race (and were retried).
    assert len(conflicts) >= threads - 1
    assert all(
        conflict.expected is not None
        and conflict.found is not None
        and conflict.found > conflict.expected
        for conflict in conflicts
    )
    final = read(doc_id)
    assert final.counter == threads * rounds
    assert final.version == threads * rounds + 1


# -- updates by key: no check, still counted -----------------------------------------------------


def test_an_update_by_key_increments_without_checking(doc: Doc) -> None:
    read(doc.doc_id).update(title="v2")
    updated = Doc(doc_id=doc.doc_id).update(Doc.counter.add(5))
    assert updated.version == 3
    assert updated.title == "v2"
    assert Doc.add(doc_id=doc.doc_id, counter=1).version == 4
    stored = read(doc.doc_id)
    assert (stored.counter, stored.version) == (6, 4)


def test_an_update_by_key_of_a_missing_item_starts_at_version_one(doc_tables: None) -> None:
    item = Doc(doc_id=f"new-{uuid.uuid4().hex}").update(title="upserted")
    assert item.version == 1
    assert read(item.doc_id).version == 1


def test_a_failed_condition_by_key_is_not_a_version_conflict(doc: Doc) -> None:
    with pytest.raises(ConditionalCheckFailed) as raised:
        Doc(doc_id=doc.doc_id).condition(Doc.counter.eq(5)).update(title="nope")
    assert not isinstance(raised.value, VersionConflict)
    with pytest.raises(ConditionalCheckFailed) as raised:
        Doc.delete_by_key(doc_id=doc.doc_id, condition=Doc.counter.eq(5))
    assert not isinstance(raised.value, VersionConflict)
    assert read(doc.doc_id).version == 1


def test_a_commit_by_key_retried_after_a_failed_condition_counts_once(doc: Doc) -> None:
    by_key = Doc(doc_id=doc.doc_id)
    by_key.set_modify_conditions(Doc.counter.eq(1))
    by_key.set_field(Doc.title, "when counter is 1")
    queued = by_key.pending_changes
    with pytest.raises(ConditionalCheckFailed) as raised:
        by_key.commit_changes()
    assert not isinstance(raised.value, VersionConflict)
    assert by_key.pending_changes == queued
    read(doc.doc_id).update(counter=1)  # version 2
    by_key.commit_changes()
    assert by_key.title == "when counter is 1"
    assert by_key.version == 3
    assert read(doc.doc_id).version == 3


def test_delete_by_key_does_not_check_the_version(doc: Doc) -> None:
    read(doc.doc_id).update(title="v2")
    Doc.delete_by_key(doc_id=doc.doc_id)
    assert Doc.get(consistent=True, doc_id=doc.doc_id) is None


# -- definitions ----------------------------------------------------------------------------


def test_two_version_fields_are_refused() -> None:
    with pytest.raises(ModelDefinitionError) as raised:

        class Twice(Model):
            __table_name__ = "test_versioning_twice"

            doc_id = CharField(hash_key=True)
            version = VersionField()
            revision = VersionField()

    message = str(raised.value)
    assert "Twice" in message
    assert "version" in message
    assert "revision" in message


@pytest.mark.parametrize(
    "options",
    [{"hash_key": True}, {"range_key": True}, {"default": 1}, {"required": True}],
)
def test_version_field_options_that_make_no_sense_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ModelDefinitionError):
        VersionField(**options)
