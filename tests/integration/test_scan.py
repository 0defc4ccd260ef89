"""Scans against DynamoDB Local: filters, limit, projections, cursors, iteration, parallel scans."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    Cursor,
    IntegerField,
    InvalidCursor,
    Model,
    QueryError,
    ResourceNotFound,
)
from dynamodb.core.codec import encode_value

TOTAL = 5000
TAG_EVERY = 40  # 125 tagged items: more than one BatchGetItem (100 keys) to requery


class Record(Model):
    __table_name__ = "test_scan_records"
    __secondary_indexes__ = {"by_tag": {"hash_key": "tag", "range_key": "id"}}  # noqa: RUF012

    id = IntegerField(hash_key=True)
    group = IntegerField()
    label = CharField()
    tag = CharField()  # only on every 40th item: by_tag is a sparse, keys-only index


class Missing(Model):
    __table_name__ = "test_scan_no_such_table"

    id = IntegerField(hash_key=True)


def record_row(number: int) -> dict[str, Any]:
    row: dict[str, Any] = {"id": number, "group": number % 10, "label": f"label {number}"}
    if number % TAG_EVERY == 0:
        row["tag"] = "t"
    return row


def bulk_put(connection: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """Write plain rows with BatchWriteItem through the low-level client."""
    items = [{name: encode_value(value) for name, value in row.items()} for row in rows]
    batches = [items[start : start + 25] for start in range(0, len(items), 25)]

    def write(batch: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while pending:
            response = connection.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, batches))


@pytest.fixture(scope="module")
def records(connection: Connection) -> Iterator[set[int]]:
    dynamodb.create_table(Record, force=True)
    bulk_put(connection, Record.__table_name__, [record_row(n) for n in range(TOTAL)])
    yield set(range(TOTAL))
    dynamodb.delete_table(Record)


class Recording(Connection):
    """A real connection that records the parameters of every request (thread-safe)."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.sent.append((operation, params))
        return super().send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((operation, params))
        return await super().asend(operation, params)

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.sent]

    def segments_sent(self) -> set[tuple[int, int]]:
        return {
            (params["Segment"], params["TotalSegments"])
            for _, params in self.sent
            if "Segment" in params
        }


@pytest.fixture
def recording(dynamodb_endpoint: str) -> Iterator[Recording]:
    connection = Recording(dynamodb_endpoint)
    yield connection
    connection.close()


def ids(items: list[Record]) -> list[int]:
    return [item.id for item in items]


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread not in before]


# -- plain scans ------------------------------------------------------------------------


def test_scan_iterates_every_item_once(records: set[int]) -> None:
    seen = ids(list(Record.scan()))
    assert len(seen) == TOTAL
    assert set(seen) == records
    first = next(iter(Record.scan()))
    assert isinstance(first, Record)
    assert first == Record(**record_row(first.id))


def test_scan_where(records: set[int]) -> None:
    scan = Record.scan().where(Record.group.eq(3), Record.id.lt(1000))
    items = scan.all()
    assert sorted(ids(items)) == [n for n in range(1000) if n % 10 == 3]
    assert all(item == Record(**record_row(item.id)) for item in items)
    assert scan.count() == 100
    either = Record.scan().where(
        Record.group.is_in(1, 2) | Record.tag.exists(), Record.id.gte(4900)
    )
    assert sorted(ids(either.all())) == [
        n for n in range(4900, TOTAL) if n % 10 in (1, 2) or n % TAG_EVERY == 0
    ]


def test_scan_limit(records: set[int]) -> None:
    items, cursor = Record.scan().limit(10).get_items()
    assert len(set(ids(items))) == 10
    assert cursor is not None
    filtered = Record.scan().where(Record.group.eq(7)).limit(7)
    items, cursor = filtered.get_items()
    assert len(items) == 7
    assert all(item.group == 7 for item in items)
    assert cursor is not None
    assert len(filtered.all()) == 7
    assert filtered.count() == 7
    assert len(list(Record.scan().limit(250).page_size(100))) == 250


def test_scan_limit_with_filter_pages_on_with_cursors(records: set[int]) -> None:
    """limit(40) with 1 in 40 items matching: every match exactly once over the pages."""
    scan = Record.scan().where(Record.tag.eq("t")).limit(40).page_size(900)
    seen: list[int] = []
    cursor: Cursor | None = None
    calls = 0
    while True:
        items, cursor = scan.start_key(cursor).get_items()
        calls += 1
        assert len(items) == 40 or cursor is None
        seen.extend(ids(items))
        if cursor is None:
            break
    assert len(seen) == TOTAL // TAG_EVERY
    assert set(seen) == set(range(0, TOTAL, TAG_EVERY))
    assert calls == 4  # 40 + 40 + 40 + 5


def test_scan_projection(records: set[int]) -> None:
    items = Record.scan(Record.label).where(Record.id.lt(20)).all()
    assert sorted(ids(items)) == list(range(20))
    for item in items:
        assert item.to_dict() == {
            "id": item.id,
            "group": None,
            "label": f"label {item.id}",
            "tag": None,
        }


def test_scan_pages_with_cursors_through_json(records: set[int]) -> None:
    scan = Record.scan().page_size(700)
    seen: list[int] = []
    text: str | None = None
    pages = 0
    while True:
        items, cursor = scan.start_key_str(text).get_items()
        pages += 1
        assert len(items) <= 700
        seen.extend(ids(items))
        if cursor is None:
            break
        text = json.loads(json.dumps([cursor]))[0]
    assert len(seen) == TOTAL
    assert set(seen) == records
    assert pages in (8, 9)  # 7 full pages of 700 and the rest (and maybe an empty one)


def test_scan_rejects_a_tampered_cursor(records: set[int]) -> None:
    _, cursor = Record.scan().limit(5).get_items()
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        Record.scan().start_key(cursor[:-1] + ("x" if cursor[-1] != "x" else "y")).get_items()
    with pytest.raises(InvalidCursor):
        Record.scan().use_index("by_tag").start_key(cursor).get_items()


def test_scan_first_and_count(records: set[int]) -> None:
    first = Record.scan().where(Record.id.eq(1234)).first()
    assert first == Record(**record_row(1234))
    assert Record.scan().where(Record.id.gt(TOTAL)).first() is None
    assert Record.scan().count() == TOTAL
    assert Record.scan().limit(33).count() == 33
    assert Record.scan().where(Record.group.ne(0)).count() == TOTAL - TOTAL // 10


def test_scan_of_a_sparse_keys_only_index(records: set[int], recording: Recording) -> None:
    scan = Record.scan().use_index("by_tag")
    items = scan.all()
    assert sorted(ids(items)) == list(range(0, TOTAL, TAG_EVERY))
    assert all(item.tag == "t" and item.label is None for item in items)
    assert scan.count() == TOTAL // TAG_EVERY
    # one page of 125 index items, requeried in two BatchGetItem calls, order kept
    page, cursor = scan.using(recording).get_items(requery_for_all_projections=True)
    assert cursor is None
    assert ids(page) == ids(items)
    assert page == [Record(**record_row(number)) for number in ids(items)]
    assert recording.operations() == ["Scan", "BatchGetItem", "BatchGetItem"]
    limited, _ = scan.limit(20).get_items(requery_for_all_projections=True)
    assert limited == page[:20]


# -- parallel scans -------------------------------------------------------------------------


def test_parallel_scan_yields_every_item_exactly_once(
    records: set[int], recording: Recording
) -> None:
    before = set(threading.enumerate())
    items = list(Record.scan(segments=4).using(recording))
    seen = ids(items)
    assert len(seen) == TOTAL
    assert set(seen) == records
    assert recording.segments_sent() == {(0, 4), (1, 4), (2, 4), (3, 4)}
    assert _new_threads(before) == []
    assert all(item == Record(**record_row(item.id)) for item in items[:50])


def test_parallel_scan_all_with_filter_projection_and_small_pages(records: set[int]) -> None:
    scan = Record.scan(Record.group, segments=4).where(Record.group.eq(5)).page_size(250)
    items = scan.all()
    assert sorted(ids(items)) == [n for n in range(TOTAL) if n % 10 == 5]
    assert all(item.label is None and item.group == 5 for item in items)


def test_parallel_scan_limit(records: set[int]) -> None:
    before = set(threading.enumerate())
    items = Record.scan(segments=4).where(Record.group.eq(1)).page_size(200).limit(100).all()
    assert len(items) == 100
    assert len(set(ids(items))) == 100
    assert all(item.group == 1 for item in items)
    assert _new_threads(before) == []


def test_parallel_scan_count(records: set[int]) -> None:
    assert Record.scan(segments=4).count() == TOTAL
    assert Record.scan(segments=4).where(Record.group.lt(3)).count() == 3 * TOTAL // 10
    assert Record.scan(segments=4).limit(42).count() == 42
    assert Record.scan(segments=7).where(Record.tag.exists()).count() == TOTAL // TAG_EVERY


def test_parallel_scan_is_read_by_iteration_only(records: set[int]) -> None:
    with pytest.raises(QueryError, match="segment"):
        Record.scan(segments=4).get_items()
    with pytest.raises(QueryError):
        Record.scan(segments=4).first()


def test_early_break_out_of_a_parallel_scan(records: set[int]) -> None:
    before = set(threading.enumerate())
    started = time.monotonic()
    taken: list[int] = []
    for item in Record.scan(segments=4).page_size(50):
        taken.append(item.id)
        if len(taken) == 3:
            break
    elapsed = time.monotonic() - started
    assert len(set(taken)) == 3
    assert elapsed < 5.0
    # the workers were stopped and joined when the loop let go of the iterator
    assert _new_threads(before) == []


def test_closing_a_parallel_scan_iterator_stops_its_workers(records: set[int]) -> None:
    before = set(threading.enumerate())
    iterator = iter(Record.scan(segments=4).page_size(20))
    next(iterator)
    assert len(_new_threads(before)) == 4  # one worker per segment, still running
    started = time.monotonic()
    iterator.close()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5.0
    assert _new_threads(before) == []


def test_parallel_scan_error_reaches_the_reader(connection: Connection) -> None:
    before = set(threading.enumerate())
    with pytest.raises(ResourceNotFound):
        list(Missing.scan(segments=3))
    assert _new_threads(before) == []


def test_segments_one_by_one_with_cursors(records: set[int], recording: Recording) -> None:
    scan = Record.scan(segments=4)
    seen: list[int] = []
    for number in range(4):
        segment = scan.segment(number).limit(400)
        cursor: Cursor | None = None
        while True:
            items, cursor = segment.start_key(cursor).get_items()
            seen.extend(ids(items))
            if cursor is None:
                break
    assert len(seen) == TOTAL
    assert set(seen) == records
    _, cursor = scan.segment(0).limit(5).get_items()
    assert cursor is not None
    assert len(scan.segment(0).start_key(cursor).limit(5).all()) == 5
    with pytest.raises(InvalidCursor):
        scan.segment(1).start_key(cursor).get_items()
    # first() and count() of one segment read that segment only
    assert scan.segment(2).using(recording).first() is not None
    assert scan.segment(3).using(recording).count() == len(scan.segment(3).all())
    assert recording.segments_sent() == {(2, 4), (3, 4)}


# -- async ----------------------------------------------------------------------------------


async def test_async_parallel_scan_yields_every_item_exactly_once(
    records: set[int], aconnection: Connection
) -> None:
    seen = [item.id async for item in Record.scan(segments=4)]
    assert len(seen) == TOTAL
    assert set(seen) == records
    again = ids(await Record.scan(segments=4).page_size(500).aall())
    assert len(again) == TOTAL
    assert set(again) == records
    assert await Record.scan(segments=4).acount() == TOTAL
    assert await Record.scan(segments=4).where(Record.group.eq(2)).acount() == TOTAL // 10


async def test_async_parallel_scan_uses_every_segment(
    records: set[int], recording: Recording
) -> None:
    try:
        items = await Record.scan(segments=4).where(Record.group.eq(9)).using(recording).aall()
    finally:
        await recording.aclose()
    assert sorted(ids(items)) == [n for n in range(TOTAL) if n % 10 == 9]
    assert recording.segments_sent() == {(0, 4), (1, 4), (2, 4), (3, 4)}


async def test_async_parallel_scan_limit_and_early_exit(
    records: set[int], aconnection: Connection
) -> None:
    current = asyncio.current_task()
    items = await Record.scan(segments=4).limit(30).page_size(10).aall()
    assert len(set(ids(items))) == 30
    assert asyncio.all_tasks() == {current}
    taken: list[int] = []
    # __aiter__ is typed AsyncIterator; it is an async generator, so aclosing() works
    iterator = cast(AsyncGenerator[Record, None], aiter(Record.scan(segments=4).page_size(25)))
    async with contextlib.aclosing(iterator):
        async for item in iterator:
            taken.append(item.id)
            if len(taken) == 5:
                break
    assert len(set(taken)) == 5
    assert asyncio.all_tasks() == {current}


async def test_async_parallel_scan_plain_break_leaves_no_task_behind(
    records: set[int], aconnection: Connection
) -> None:
    current = asyncio.current_task()
    taken: list[int] = []
    async for item in Record.scan(segments=4).page_size(25):
        taken.append(item.id)
        if len(taken) == 5:
            break
    assert len(set(taken)) == 5
    deadline = time.monotonic() + 5.0
    while asyncio.all_tasks() != {current} and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert asyncio.all_tasks() == {current}


async def test_async_parallel_scan_error(connection: Connection, aconnection: Connection) -> None:
    with pytest.raises(ResourceNotFound):
        await Missing.scan(segments=3).aall()
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_async_scan_readers(records: set[int], aconnection: Connection) -> None:
    scan = Record.scan().where(Record.group.eq(4), Record.id.lt(500))
    expected = [n for n in range(500) if n % 10 == 4]
    assert sorted(ids(await scan.aall())) == expected
    assert sorted([item.id async for item in scan]) == expected
    assert await scan.acount() == len(expected)
    first = await scan.afirst()
    assert first is not None
    assert first.id in expected
    items, cursor = await scan.limit(20).aget_items()
    assert len(items) == 20
    assert cursor is not None
    rest, end = await scan.limit(100).start_key(cursor).aget_items()
    assert end is None
    assert sorted(ids(items + rest)) == expected
