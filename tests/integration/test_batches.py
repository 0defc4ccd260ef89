"""batch_write / batch_get / batch_delete (and their async twins) against DynamoDB Local.

Covers the batch examples of both seed READMEs, a 10,000-item round trip,
duplicate keys, hash-only tables, ``keep_missing`` and projections,
concurrency and progress reporting. Faults (throttling, unprocessed items)
are injected in ``test_fault_injection.py``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest

from dynamodb import (
    CharField,
    Connection,
    DictField,
    FieldValidationError,
    FloatField,
    IntegerField,
    ItemAlreadyExists,
    Model,
    SetField,
    VersionField,
)
from dynamodb.tools import demo

Tables = Callable[..., None]

NOW = dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=dt.timezone.utc)


class Test(demo.Test):
    """The dynamodb-py README's model (as the demo declares it), on this module's table."""

    __test__ = False  # a model, not a test class
    __table_name__ = "test_batches_test"


class ForumThread(demo.ForumThread):
    """The dynamix README's model (as the demo declares it), on this module's table."""

    __table_name__ = "test_batches_forum_thread"


class Reading(Model):
    """Many small items under few hash keys."""

    __table_name__ = "test_batches_reading"

    sensor = CharField(hash_key=True)
    seq = IntegerField(range_key=True)
    value = FloatField()
    unit = CharField(name="u", default="C")
    extra = DictField()
    labels = SetField(of=str)


class Account(Model):
    """A hash-key-only table."""

    __table_name__ = "test_batches_account"

    email = CharField(hash_key=True)
    balance = IntegerField(default=0)
    note = CharField()


class Document(Model):
    """A hash-only table with a version."""

    __table_name__ = "test_batches_document"

    slug = CharField(hash_key=True)
    body = CharField()
    version = VersionField()


class RecordingConnection(Connection):
    """A real connection that also records the operations it sends."""

    def __init__(self, base: Connection) -> None:
        super().__init__(
            endpoint_url=base.endpoint_url,
            region_name=base.region_name,
            aws_access_key_id=base.aws_access_key_id,
            aws_secret_access_key=base.aws_secret_access_key,
        )
        self.operations: list[str] = []

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        return super().send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        return await super().asend(operation, params)


def reading(sensor: int, seq: int) -> dict[str, Any]:
    return {
        "sensor": f"s{sensor:02d}",
        "seq": seq,
        "value": seq / 8 + sensor,
        "extra": {"n": seq, "odd": seq % 2 == 1, "tag": f"t{seq % 7}"},
        "labels": {f"l{seq % 3}", "all"},
    }


def readings(count: int, sensors: int = 10) -> list[dict[str, Any]]:
    return [reading(n % sensors, n) for n in range(count)]


def reading_key(values: dict[str, Any]) -> dict[str, Any]:
    return {"sensor": values["sensor"], "seq": values["seq"]}


def thread_keys(count: int) -> list[dict[str, str]]:
    return [{"forum_id": "science", "thread_id": f"physics_{num}"} for num in range(count)]


# -- the seeds --------------------------------------------------------------------------


def test_seed_batch_add_and_get_item(tables: Tables) -> None:
    tables(Test)
    now = NOW
    items = [
        dict(name="gs7", score=90, order_score=90, date=now),  # noqa: C408 - the README's form
        dict(name="gs7", score=90, order_score=90, date=now),  # noqa: C408
        dict(name="gs8", score=91, order_score=91, date=now, doc={"a": 4}),  # noqa: C408
        dict(name="gs9", score=92, order_score=92, date=now, ids=[9]),  # noqa: C408
    ]
    written = Test.batch_write(items, overwrite=True)
    assert sorted((item.name, item.score) for item in written) == [
        ("gs7", 90),
        ("gs8", 91),
        ("gs9", 92),
    ]
    assert Test.item_count(exact=True) == 3  # gs7 given twice, stored once

    item8 = Test.get(name="gs8", score=91)
    assert item8 is not None
    assert (item8.name, item8.ids, item8.doc, item8.score) == ("gs8", [], {"a": 4}, 91)
    assert item8.date == now

    primary_keys = [
        {"name": "gs8", "score": 91},
        {"name": "gs9", "score": 92},
        {"name": "gs9", "score": 99},  # never written
    ]
    _items = Test.batch_get(*primary_keys)
    assert [(item.name, item.score, item.order_score) for item in _items] == [
        ("gs8", 91, 91.0),
        ("gs9", 92, 92.0),
    ]
    assert [type(item.doc) for item in _items] == [dict, dict]
    assert [type(item.order_score) for item in _items] == [float, float]
    assert _items[0].doc == {"a": 4}
    assert _items[1].ids == [9]
    assert _items[1].date == now


def test_seed_dynamix_batch_write_get_and_delete_by_keys(tables: Tables) -> None:
    tables(ForumThread)
    written = ForumThread.batch_write(
        [
            {
                "forum_id": "science",
                "thread_id": "physics_" + str(num),
                "title": "Physics",
                "description": "some description ....",
            }
            for num in range(100)
        ]
    )
    assert len(written) == 100
    assert all(isinstance(thread, ForumThread) for thread in written)
    assert ForumThread.item_count(exact=True) == 100

    forum_threads = ForumThread.batch_get(*thread_keys(100))
    assert [thread.thread_id for thread in forum_threads] == [
        f"physics_{num}" for num in range(100)
    ]
    assert {(thread.title, thread.description) for thread in forum_threads} == {
        ("Physics", "some description ....")
    }
    assert forum_threads == sorted(written, key=lambda thread: int(thread.thread_id[8:]))

    deleted = ForumThread.batch_delete(keys=thread_keys(100))
    assert deleted == 100
    assert ForumThread.batch_get(*thread_keys(100)) == []
    assert ForumThread.item_count(exact=True) == 0


def test_seed_dynamix_batch_delete_items(tables: Tables) -> None:
    tables(ForumThread)
    ForumThread.batch_write(
        [
            {"forum_id": "science", "thread_id": f"physics_{num}", "title": f"t{num}"}
            for num in range(60)
        ]
    )
    forum_threads = ForumThread.batch_get(*thread_keys(60))
    doomed = [thread for thread in forum_threads if int(thread.thread_id[8:]) % 2 == 0]

    assert ForumThread.batch_delete(items=doomed) == 30

    left = ForumThread.batch_get(*thread_keys(60))
    assert [thread.thread_id for thread in left] == [f"physics_{num}" for num in range(1, 60, 2)]
    assert ForumThread.item_count(exact=True) == 30


def test_batch_delete_takes_keys_or_items_not_both(tables: Tables) -> None:
    tables(ForumThread)
    with pytest.raises(TypeError, match="keys="):
        ForumThread.batch_delete()
    with pytest.raises(TypeError, match="keys="):
        ForumThread.batch_delete(keys=thread_keys(1), items=[])
    assert ForumThread.batch_delete(keys=[]) == 0


# -- 10,000 items -------------------------------------------------------------------------


def test_ten_thousand_items_write_read_back_and_delete(tables: Tables) -> None:
    tables(Reading)
    values = readings(10_000)

    written = Reading.batch_write(values)
    assert len(written) == 10_000
    assert Reading.item_count(exact=True) == 10_000

    asked = [reading_key(entry) for entry in values]
    random.Random(7).shuffle(asked)
    found = Reading.batch_get(*asked)
    assert [(item.sensor, item.seq) for item in found] == [
        (key["sensor"], key["seq"]) for key in asked
    ]
    expected = {(item.sensor, item.seq): item for item in written}
    assert all(item == expected[(item.sensor, item.seq)] for item in found)
    sample = found[123]
    assert sample.to_dict() == {**reading(int(sample.sensor[1:]), sample.seq), "unit": "C"}

    assert Reading.batch_delete(keys=asked) == 10_000
    assert Reading.item_count(exact=True) == 0
    assert Reading.batch_get(*asked[:500]) == []


# -- duplicates ------------------------------------------------------------------------------


def test_duplicate_keys_with_overwrite_the_last_one_wins(tables: Tables) -> None:
    tables(Account)
    first = Account(email="ann@example.com", balance=1, note="first")
    other = Account(email="bob@example.com", balance=5)
    last = Account(email="ann@example.com", balance=3, note="last")

    written = Account.batch_write([first, other, last])

    assert len(written) == 2
    assert any(item is last for item in written)
    assert any(item is other for item in written)
    assert not any(item is first for item in written)
    stored = Account.get(email="ann@example.com", consistent=True)
    assert stored is not None
    assert (stored.balance, stored.note) == (3, "last")
    assert Account.item_count(exact=True) == 2


def test_duplicate_keys_among_dicts_the_last_one_wins(tables: Tables) -> None:
    tables(Reading)
    entries = readings(60)
    entries.append({**reading(0, 0), "value": -1.5, "extra": {"again": True}})
    entries.insert(0, {**reading(1, 1), "value": -9.0})  # overwritten by the later (1, 1)

    written = Reading.batch_write(entries)

    assert len(written) == 60
    zero = Reading.get(sensor="s00", seq=0)
    one = Reading.get(sensor="s01", seq=1)
    assert zero is not None
    assert one is not None
    assert (zero.value, zero.extra) == (-1.5, {"again": True})
    assert one.value == reading(1, 1)["value"]
    assert Reading.item_count(exact=True) == 60


def test_overwrite_false_refuses_duplicate_input_before_sending(
    tables: Tables, connection: Connection
) -> None:
    tables(Account)
    recording = RecordingConnection(connection)
    entries = [{"email": f"u{n}@example.com"} for n in range(30)] + [{"email": "u7@example.com"}]
    with pytest.raises(ValueError, match="given twice") as raised:
        Account.batch_write(entries, overwrite=False, connection=recording)
    assert "u7@example.com" in str(raised.value)
    assert recording.operations == []
    assert Account.item_count(exact=True) == 0


def test_invalid_item_refuses_the_whole_batch_before_sending(
    tables: Tables, connection: Connection
) -> None:
    tables(Account)
    recording = RecordingConnection(connection)
    entries: list[dict[str, Any]] = [{"email": f"u{n}@example.com"} for n in range(40)]
    entries[33]["balance"] = "lots"
    with pytest.raises(FieldValidationError):
        Account.batch_write(entries, connection=recording)
    assert recording.operations == []
    assert Account.item_count(exact=True) == 0


def test_overwrite_false_over_existing_keys_writes_the_others(tables: Tables) -> None:
    tables(Account)
    Account.batch_write(
        [{"email": f"u{n}@example.com", "note": "old"} for n in (3, 11, 12)],
    )
    entries = [{"email": f"u{n}@example.com", "note": "new"} for n in range(20)]

    with pytest.raises(ItemAlreadyExists) as raised:
        Account.batch_write(entries, overwrite=False)

    taken = [{"email": f"u{n}@example.com"} for n in (3, 11, 12)]
    assert raised.value.keys == taken
    assert "3 keys exist already" in str(raised.value)
    stored = Account.batch_get(*[{"email": f"u{n}@example.com"} for n in range(20)])
    assert [(item.email, item.note) for item in stored] == [
        (f"u{n}@example.com", "old" if n in (3, 11, 12) else "new") for n in range(20)
    ]


def test_overwrite_false_on_free_keys_writes_all(tables: Tables) -> None:
    tables(Reading)
    written = Reading.batch_write(readings(70), overwrite=False, concurrency=4)
    assert len(written) == 70
    assert Reading.item_count(exact=True) == 70


# -- hash-only tables, versions ------------------------------------------------------------


def test_hash_only_table_round_trip(tables: Tables) -> None:
    tables(Account)
    entries = [{"email": f"user{n}@example.com", "balance": n * 10} for n in range(130)]
    written = Account.batch_write(entries)
    assert len(written) == 130

    asked = [{"email": f"user{n}@example.com"} for n in range(129, -1, -1)]
    found = Account.batch_get(*asked)
    assert [(item.email, item.balance) for item in found] == [
        (f"user{n}@example.com", n * 10) for n in range(129, -1, -1)
    ]

    assert Account.batch_delete(keys=asked[:100]) == 100
    left = Account.batch_get(*asked, keep_missing=True)
    assert [item is None for item in left] == [True] * 100 + [False] * 30
    assert Account.item_count(exact=True) == 30


def test_batch_write_sets_versions(tables: Tables) -> None:
    tables(Document)
    written = Document.batch_write([{"slug": f"d{n}", "body": "text"} for n in range(30)])
    assert {item.version for item in written} == {1}
    stored = Document.batch_get(*[{"slug": f"d{n}"} for n in range(30)])
    assert {item.version for item in stored} == {1}

    again = Document.batch_write(stored)
    assert {item.version for item in again} == {2}
    assert Document.get(slug="d5") == again[5]


# -- reading ------------------------------------------------------------------------------------


def test_batch_get_order_duplicates_and_keep_missing(tables: Tables) -> None:
    tables(Reading)
    Reading.batch_write(readings(20, sensors=2))
    keys = [
        {"sensor": "s00", "seq": 4},
        {"sensor": "s01", "seq": 4},  # missing: s01 holds odd numbers
        {"sensor": "s01", "seq": 3},
        {"sensor": "s00", "seq": 4},  # asked again
        {"sensor": "s09", "seq": 0},  # missing
    ]

    found = Reading.batch_get(*keys)
    assert [(item.sensor, item.seq) for item in found] == [("s00", 4), ("s01", 3), ("s00", 4)]
    assert found[0] == found[2]

    kept = Reading.batch_get(*keys, keep_missing=True)
    assert [None if item is None else (item.sensor, item.seq) for item in kept] == [
        ("s00", 4),
        None,
        ("s01", 3),
        ("s00", 4),
        None,
    ]

    assert Reading.batch_get() == []
    instances = Reading.batch_get(*found, consistent=True)
    assert instances == found


def test_batch_get_projections(tables: Tables) -> None:
    tables(Reading)
    Reading.batch_write(readings(30))
    keys = [reading_key(reading(n % 10, n)) for n in (29, 3, 17)]

    by_field = Reading.batch_get(*keys, projections=[Reading.value])
    assert [(item.sensor, item.seq, item.value) for item in by_field] == [
        ("s09", 29, reading(9, 29)["value"]),
        ("s03", 3, reading(3, 3)["value"]),
        ("s07", 17, reading(7, 17)["value"]),
    ]
    assert all(item.extra is None for item in by_field)
    assert all(item.labels is None for item in by_field)
    assert all(item.unit is None for item in by_field)

    by_name = Reading.batch_get(*keys, projections=["labels", "u"], keep_missing=True)
    assert [(item.labels, item.unit) for item in by_name if item is not None] == [
        ({"l2", "all"}, "C"),
        ({"l0", "all"}, "C"),
        ({"l2", "all"}, "C"),
    ]
    assert all(item is not None and item.value is None for item in by_name)

    with pytest.raises(TypeError, match="projections"):
        Reading.batch_get(*keys, projections=["nope"])
    with pytest.raises(TypeError, match="projections"):
        Reading.batch_get(*keys, projections=[Account.balance])


def test_concurrency_one_and_sixteen_give_the_same_result(tables: Tables) -> None:
    tables(Reading)
    values = readings(1_000)
    keys = [reading_key(entry) for entry in values]

    one = Reading.batch_write(values, concurrency=1)
    got_one = Reading.batch_get(*keys, concurrency=1)
    assert Reading.batch_delete(keys=keys, concurrency=1) == 1_000
    assert Reading.item_count(exact=True) == 0

    sixteen = Reading.batch_write(values, concurrency=16)
    got_sixteen = Reading.batch_get(*keys, concurrency=16)

    assert one == sixteen
    assert got_one == got_sixteen
    assert len(got_one) == 1_000
    assert [(item.sensor, item.seq) for item in got_sixteen] == [
        (key["sensor"], key["seq"]) for key in keys
    ]
    assert Reading.batch_delete(keys=keys, concurrency=16) == 1_000
    assert Reading.item_count(exact=True) == 0


# -- progress -----------------------------------------------------------------------------------


def test_progress_callback_reaches_the_total(tables: Tables) -> None:
    tables(Reading)
    values = readings(260)
    keys = [reading_key(entry) for entry in values]
    calls: list[tuple[int, int]] = []

    def record(done: int, total: int) -> None:
        calls.append((done, total))

    Reading.batch_write(values, progress=record)
    assert calls[-1] == (260, 260)
    assert len(calls) == 11  # one call per 25-item chunk
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)

    calls.clear()
    Reading.batch_get(*keys, *keys[:50], progress=record)  # duplicates are read once
    assert calls[-1] == (260, 260)
    assert len(calls) == 3

    calls.clear()
    assert Reading.batch_delete(keys=keys, progress=record) == 260
    assert calls[-1] == (260, 260)

    calls.clear()
    Reading.batch_write(values[:40], overwrite=False, progress=record)
    assert calls[-1] == (40, 40)
    assert len(calls) == 40  # one conditional put each


def test_progress_true_draws_a_bar(tables: Tables, capsys: pytest.CaptureFixture[str]) -> None:
    tables(Reading)
    Reading.batch_write(readings(75), progress=True)
    err = capsys.readouterr().err
    assert "Reading.batch_write" in err
    assert "75/75" in err


# -- async twins -----------------------------------------------------------------------------------


async def test_async_batches(tables: Tables, aconnection: Connection) -> None:
    tables(Reading)
    values = readings(2_000)
    keys = [reading_key(entry) for entry in values]
    calls: list[tuple[int, int]] = []

    written = await Reading.abatch_write(
        values, concurrency=16, progress=lambda done, total: calls.append((done, total))
    )
    assert len(written) == 2_000
    assert calls[-1] == (2_000, 2_000)
    assert await Reading.aitem_count(exact=True) == 2_000

    asked = [*keys[::-1], {"sensor": "s99", "seq": 1}]
    found = await Reading.abatch_get(*asked, keep_missing=True)
    assert found[-1] is None
    assert [(item.sensor, item.seq) for item in found[:-1] if item is not None] == [
        (key["sensor"], key["seq"]) for key in keys[::-1]
    ]
    assert found[:-1] == written[::-1]

    projected = await Reading.abatch_get(*keys[:3], projections=[Reading.extra])
    assert [item.extra for item in projected] == [reading(n, n)["extra"] for n in range(3)]
    assert all(item.value is None for item in projected)

    assert await Reading.abatch_delete(keys=keys[:1_000]) == 1_000
    some = [item for item in found[:500] if item is not None]  # keys[1_500:], reversed
    assert await Reading.abatch_delete(items=some) == 500
    assert await Reading.aitem_count(exact=True) == 500


async def test_async_batch_write_overwrite_false(tables: Tables, aconnection: Connection) -> None:
    tables(Account)
    await Account.abatch_write([{"email": "taken@example.com", "note": "old"}])
    entries = [{"email": f"u{n}@example.com"} for n in range(10)] + [
        {"email": "taken@example.com", "note": "new"}
    ]
    with pytest.raises(ItemAlreadyExists) as raised:
        await Account.abatch_write(entries, overwrite=False)
    assert raised.value.keys == [{"email": "taken@example.com"}]
    assert await Account.aitem_count(exact=True) == 11
    stored = await Account.aget(email="taken@example.com")
    assert stored is not None
    assert stored.note == "old"

    with pytest.raises(ValueError, match="given twice"):
        await Account.abatch_write([{"email": "x@example.com"}] * 2, overwrite=False)
    assert await Account.aget(email="x@example.com") is None
