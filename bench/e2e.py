"""Section 3: end to end against DynamoDB Local, items per second (wall clock).

Each library has its own table with the same key schema. Per run: puts one
by one, gets one by one, a batch write, a query paging through the batch's
partition, and a 4-segment parallel scan of the whole table.

- ours, sync: the plain API (``save``/``get``, ``batch_write`` with its default
  concurrency, iterating ``query()`` and ``scan(segments=4)``);
- ours, async: the ``a``-twins; single-item calls 100 in flight
  (``asyncio.gather`` with a semaphore), the rest as the sync column;
- ours botocore: the sync column's calls on the botocore transport (the
  library as it was before the direct transport), same table;
- PynamoDB: its API, sequential; its parallel scan is one thread per segment;
- boto3: the raw client with wire-format data prepared in advance; the batch
  write loops over 25-item calls (resending UnprocessedItems), the query and
  scan page by hand, the scan with one thread per segment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from .models import floor_to_wire, many_values, ours_model, pynamodb_model, wire_key
from .report import Report, Row
from .timing import Measure, Settings, wall

REGION = "us-east-1"
SEGMENTS = 4
BATCH_PK = "batch"
TABLES = {"ours": "bench_e2e_ours", "PynamoDB": "bench_e2e_pynamodb", "boto3": "bench_e2e_boto3"}
OPERATIONS = ("put", "get", "batch_write", "query", "scan")

Work = Callable[[], int]
"""Runs one benchmark once; returns how many items it handled."""


def _count(items: Iterable[Any]) -> int:
    return sum(1 for _ in items)


def _in_parallel(segment_reader: Callable[[int], int]) -> int:
    with ThreadPoolExecutor(max_workers=SEGMENTS) as pool:
        return sum(pool.map(segment_reader, range(SEGMENTS)))


class Ours:
    def __init__(self, settings: Settings, endpoint: str, transport: str = "direct") -> None:
        import dynamodb

        self.connection = dynamodb.Connection(
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            max_pool_connections=settings.async_in_flight,
            transport=transport,
        )
        self.model = model = ours_model(TABLES["ours"])
        self.in_flight = settings.async_in_flight
        self.singles = [model(**v) for v in many_values(settings.e2e_single)]
        self.keys = [{"pk": item.pk, "sk": item.sk} for item in self.singles]
        self.batch = [model(**v) for v in many_values(settings.e2e_batch, pk=BATCH_PK)]

    def create_tables(self) -> None:
        import dynamodb

        for table in TABLES.values():
            dynamodb.create_table(ours_model(table), force=True, connection=self.connection)

    # -- sync --------------------------------------------------------------------

    def sync(self) -> dict[str, Work]:
        model, connection = self.model, self.connection

        def put() -> int:
            for item in self.singles:
                item.save(full=True, connection=connection)
            return len(self.singles)

        def get() -> int:
            return sum(model.get(connection=connection, **key) is not None for key in self.keys)

        def batch_write() -> int:
            return len(model.batch_write(self.batch, connection=connection))

        def query() -> int:
            return _count(model.query().where(model.pk.eq(BATCH_PK)).using(connection))

        def scan() -> int:
            return _count(model.scan(segments=SEGMENTS).using(connection))

        def warm() -> int:
            model.get(connection=connection, **self.keys[0])
            return 0

        return {
            "warm": warm,
            "put": put,
            "get": get,
            "batch_write": batch_write,
            "query": query,
            "scan": scan,
        }

    # -- async -------------------------------------------------------------------

    async def _gather(self, calls: Iterable[Callable[[], Awaitable[Any]]]) -> list[Any]:
        gate = asyncio.Semaphore(self.in_flight)

        async def one(call: Callable[[], Awaitable[Any]]) -> Any:
            async with gate:
                return await call()

        return await asyncio.gather(*(one(call) for call in calls))

    def asynchronous(self, loop: asyncio.AbstractEventLoop) -> dict[str, Work]:
        model, connection = self.model, self.connection

        async def put() -> int:
            await self._gather(
                lambda item=item: item.asave(full=True, connection=connection)
                for item in self.singles
            )
            return len(self.singles)

        async def get() -> int:
            found = await self._gather(
                lambda key=key: model.aget(connection=connection, **key) for key in self.keys
            )
            return sum(item is not None for item in found)

        async def batch_write() -> int:
            return len(await model.abatch_write(self.batch, connection=connection))

        async def query() -> int:
            reader = model.query().where(model.pk.eq(BATCH_PK)).using(connection)
            return sum([1 async for _ in reader])

        async def scan() -> int:
            return sum([1 async for _ in model.scan(segments=SEGMENTS).using(connection)])

        async def warm() -> int:
            await model.aget(connection=connection, **self.keys[0])
            return 0

        coroutines: dict[str, Callable[[], Awaitable[int]]] = {
            "warm": warm,
            "put": put,
            "get": get,
            "batch_write": batch_write,
            "query": query,
            "scan": scan,
        }
        return {
            name: (lambda make=make: loop.run_until_complete(make()))
            for name, make in coroutines.items()
        }

    async def aclose(self) -> None:
        await self.connection.aclose()


def pynamodb_work(settings: Settings, endpoint: str) -> dict[str, Work]:
    model = pynamodb_model(TABLES["PynamoDB"], endpoint, REGION)
    singles = [model(**v) for v in many_values(settings.e2e_single)]
    keys = [(item.pk, item.sk) for item in singles]
    batch = [model(**v) for v in many_values(settings.e2e_batch, pk=BATCH_PK)]

    def put() -> int:
        for item in singles:
            item.save()
        return len(singles)

    def get() -> int:
        return sum(model.get(pk, sk) is not None for pk, sk in keys)

    def batch_write() -> int:
        with model.batch_write() as writer:
            for item in batch:
                writer.save(item)
        return len(batch)

    def query() -> int:
        return _count(model.query(BATCH_PK))

    def scan() -> int:
        return _in_parallel(
            lambda segment: _count(model.scan(segment=segment, total_segments=SEGMENTS))
        )

    def warm() -> int:
        return _count(model.query("warm"))

    return {
        "warm": warm,
        "put": put,
        "get": get,
        "batch_write": batch_write,
        "query": query,
        "scan": scan,
    }


def boto3_work(settings: Settings, endpoint: str, table: str = TABLES["boto3"]) -> dict[str, Work]:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    singles = [floor_to_wire(v) for v in many_values(settings.e2e_single)]
    keys = [wire_key(v) for v in many_values(settings.e2e_single)]
    batch = [
        {"PutRequest": {"Item": floor_to_wire(v)}}
        for v in many_values(settings.e2e_batch, pk=BATCH_PK)
    ]

    def put() -> int:
        for item in singles:
            client.put_item(TableName=table, Item=item)
        return len(singles)

    def get() -> int:
        return sum("Item" in client.get_item(TableName=table, Key=key) for key in keys)

    def batch_write() -> int:
        for start in range(0, len(batch), 25):
            request: dict[str, Any] = {table: batch[start : start + 25]}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems")
        return len(batch)

    def pages(operation: Callable[..., dict[str, Any]], **params: Any) -> int:
        count = 0
        while True:
            response = operation(TableName=table, **params)
            count += len(response["Items"])
            last = response.get("LastEvaluatedKey")
            if not last:
                return count
            params["ExclusiveStartKey"] = last

    def query() -> int:
        return pages(
            client.query,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "pk"},
            ExpressionAttributeValues={":pk": {"S": BATCH_PK}},
        )

    def scan() -> int:
        return _in_parallel(
            lambda segment: pages(client.scan, Segment=segment, TotalSegments=SEGMENTS)
        )

    def warm() -> int:
        client.get_item(TableName=table, Key=keys[0])
        return 0

    return {
        "warm": warm,
        "put": put,
        "get": get,
        "batch_write": batch_write,
        "query": query,
        "scan": scan,
    }


def _labels(settings: Settings) -> dict[str, str]:
    single, many = settings.e2e_single, settings.e2e_batch
    return {
        "put": f"put x {single:,}, one by one",
        "get": f"get x {single:,}, one by one",
        "batch_write": f"batch write x {many:,}",
        "query": f"query paging {many:,} items",
        "scan": f"scan, {SEGMENTS} segments, {single + many:,} items",
    }


def warm_server(settings: Settings, endpoint: str, connection: Any) -> None:
    """Exercise DynamoDB Local first: its JIT roughly doubles its speed over the first runs."""
    import dynamodb

    table = "bench_e2e_warm_up"
    dynamodb.create_table(ours_model(table), force=True, connection=connection)
    sizes = replace(
        settings, e2e_single=settings.e2e_warm_single, e2e_batch=settings.e2e_warm_batch
    )
    work = boto3_work(sizes, endpoint, table)
    for operation in OPERATIONS:
        work[operation]()
    dynamodb.delete_table(ours_model(table), connection=connection)


def run(settings: Settings, report: Report, endpoint: str) -> None:
    ours = Ours(settings, endpoint)
    before = Ours(settings, endpoint, transport="botocore")
    ours.create_tables()
    warm_server(settings, endpoint, ours.connection)
    loop = asyncio.new_event_loop()
    try:
        works: dict[str, dict[str, Work]] = {
            "ours": ours.sync(),
            "ours async": ours.asynchronous(loop),
            "ours botocore": before.sync(),
            "PynamoDB": pynamodb_work(settings, endpoint),
            "boto3": boto3_work(settings, endpoint),
        }
        for work in works.values():
            work["warm"]()  # clients made, models loaded, connections opened
        _run(settings, report, works)
        from . import latency

        latency.run(settings, report, endpoint)
        report.note(
            "section 3: ours' batch write and async run with the library's default concurrency "
            "(8 calls in flight; async single-item calls 100 in flight); PynamoDB and boto3 "
            "send one call at a time, except their scans (one thread per segment)"
        )
    finally:
        loop.run_until_complete(ours.aclose())
        loop.close()
        before.connection.close()


def _run(settings: Settings, report: Report, works: dict[str, dict[str, Work]]) -> None:
    throughput: dict[str, dict[str, Measure]] = {op: {} for op in OPERATIONS}
    counts: dict[str, dict[str, set[int]]] = {op: {} for op in OPERATIONS}
    libraries = list(works)
    for turn in range(settings.e2e_repeats):
        order = libraries[turn % len(libraries) :] + libraries[: turn % len(libraries)]
        for operation in OPERATIONS:
            for library in order:
                seconds, handled = wall(works[library][operation])
                throughput[operation].setdefault(library, Measure()).samples.append(
                    handled / seconds
                )
                counts[operation].setdefault(library, set()).add(handled)
    labels = _labels(settings)
    expected = {
        "put": settings.e2e_single,
        "get": settings.e2e_single,
        "batch_write": settings.e2e_batch,
        "query": settings.e2e_batch,
        "scan": settings.e2e_single + settings.e2e_batch,
    }
    for operation in OPERATIONS:
        row = Row(
            section=3,
            name=labels[operation],
            unit="items/s",
            values=throughput[operation],
            ratios=[
                ("ours/PynamoDB", "ours", "PynamoDB"),
                ("ours/boto3", "ours", "boto3"),
                ("async/sync", "ours async", "ours"),
                ("ours/botocore", "ours", "ours botocore"),
            ],
        )
        wrong = {
            library: sorted(seen)
            for library, seen in counts[operation].items()
            if seen != {expected[operation]}
        }
        if wrong:
            row.note = f"expected {expected[operation]:,} items, got {wrong}"
        report.add(row)
