"""Consumed capacity and rate limits against DynamoDB Local.

The capacity a block collects equals, to the unit, the sum of the
``ConsumedCapacity`` DynamoDB Local put in its raw answers (read by the recorder,
at the transport), for a mixed workload on several threads and asyncio tasks.
A rate-limited parallel scan keeps within its budget over the whole run.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import dynamodb
from dynamodb import CharField, Connection, IntegerField, Model, RateLimit, Units
from dynamodb.testing import record
from dynamodb.testing.calls import Call

Tables = Callable[..., None]


class Account(Model):
    __table_name__ = "test_observability_accounts"

    owner = CharField(hash_key=True)
    n = IntegerField(range_key=True)
    email = CharField(default="")
    balance = IntegerField(default=0)


def _reported(calls: list[Call]) -> tuple[float, float, dict[str, float]]:
    """Read units, write units and units by operation, from the raw answers."""
    reads = writes = 0.0
    by_operation: dict[str, float] = {}
    for call in calls:
        reported = (call.response or {}).get("ConsumedCapacity")
        entries = reported if isinstance(reported, list) else [reported] if reported else []
        units = sum(float(entry["CapacityUnits"]) for entry in entries)
        if call.operation in ("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"):
            reads += units
        else:
            writes += units
        by_operation[call.operation] = by_operation.get(call.operation, 0.0) + units
    return reads, writes, by_operation


def _workload(owner: str) -> None:
    Account.batch_write([Account(owner=owner, n=n, balance=n) for n in range(30)])
    Account(owner=owner, n=100, email=f"{owner}@example.com").save()
    Account.get(owner=owner, n=1)
    Account.get(owner=owner, n=2, consistent=True)
    item = Account.get(owner=owner, n=3)
    assert item is not None
    item.update(Account.balance.add(5))
    assert len(Account.query().where(Account.owner.eq(owner)).all()) == 31
    Account.batch_get(*[{"owner": owner, "n": n} for n in range(10)])
    with dynamodb.transaction() as tx:
        tx.save(Account(owner=owner, n=200))
        tx.delete(Account(owner=owner, n=4))
    dynamodb.transact_get([(Account, {"owner": owner, "n": 5})])
    Account.batch_delete(keys=[{"owner": owner, "n": n} for n in range(20, 25)])


async def _aworkload(owner: str) -> None:
    await Account.abatch_write([Account(owner=owner, n=n, balance=n) for n in range(30)])
    await Account.aget(owner=owner, n=1)
    item = await Account.aget(owner=owner, n=3)
    assert item is not None
    await item.aupdate(Account.balance.add(5))
    assert len([a async for a in Account.query().where(Account.owner.eq(owner))]) == 30
    async with dynamodb.atransaction() as tx:
        tx.save(Account(owner=owner, n=200))
    await Account.abatch_get(*[{"owner": owner, "n": n} for n in range(10)])


def test_capacity_totals_equal_what_dynamodb_reported_for_a_mixed_workload(
    tables: Tables, connection: Connection
) -> None:
    tables(Account)
    before = connection.capacity.units
    with record() as calls, dynamodb.capacity() as cap:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, _workload, f"thread{i}")
                for i in range(4)
            ]
            for future in futures:
                future.result()

        async def tasks() -> None:
            await asyncio.gather(*(_aworkload(f"task{i}") for i in range(4)))
            await connection.aclose()

        asyncio.run(tasks())
        scan = Account.scan(segments=3)
        assert len(list(scan)) > 0

    reads, writes, by_operation = _reported(list(calls))
    assert reads > 0
    assert writes > 0
    assert cap.read_units == pytest.approx(reads)
    assert cap.write_units == pytest.approx(writes)
    assert {op: units.total for op, units in cap.by_operation.items()} == pytest.approx(
        by_operation
    )
    assert set(by_operation) >= {
        "BatchWriteItem",
        "PutItem",
        "GetItem",
        "UpdateItem",
        "Query",
        "BatchGetItem",
        "TransactWriteItems",
        "TransactGetItems",
        "Scan",
    }
    assert cap.requests == len(calls)
    assert cap.by_table == {"test_observability_accounts": Units(reads, writes)}
    # The scan's own collector holds its segments' pages, also counted by the block.
    scan_reported = sum(
        float(call.response["ConsumedCapacity"]["CapacityUnits"])
        for call in calls.of("Scan")
        if call.response
    )
    assert scan.consumed.read_units == pytest.approx(scan_reported)
    assert scan.consumed.requests == len(calls.of("Scan")) >= 3
    # The connection kept running totals of the same answers.
    after = connection.capacity.units
    assert after.read_units - before.read_units == pytest.approx(reads)
    assert after.write_units - before.write_units == pytest.approx(writes)
    assert cap.cost() == pytest.approx((reads * 0.125 + writes * 0.625) / 1e6)


def test_index_detail_names_the_index_a_query_read(tables: Tables) -> None:
    tables(Indexed)
    Indexed.batch_write([Indexed(key=str(n), email=f"{n % 3}@x") for n in range(12)])
    with dynamodb.capacity(indexes=True) as cap:
        found = Indexed.query().where(Indexed.email.eq("1@x")).use_index("by_email").all()
    assert len(found) == 4
    (index,) = cap.by_index
    assert index == ("test_observability_indexed", "by_email")
    assert cap.by_index[index].read_units == cap.read_units > 0


class Indexed(Model):
    __table_name__ = "test_observability_indexed"

    __secondary_indexes__ = {"by_email": {"hash_key": "email", "projections": "ALL"}}  # noqa: RUF012

    key = CharField(hash_key=True)
    email = CharField()


class Big(Model):
    __table_name__ = "test_observability_big"

    key = IntegerField(hash_key=True)
    body = CharField()


BUDGET = 60.0  # read units per second
PAGE = 25  # items per page: ~3 units, so the first wave in flight is small
SEGMENTS = 4


def test_a_rate_limited_parallel_scan_stays_within_its_budget(tables: Tables) -> None:
    tables(Big)
    Big.batch_write([Big(key=n, body="x" * 1000) for n in range(2000)], concurrency=8)
    scan = Big.scan(segments=SEGMENTS, rate_limit=RateLimit(read_units_per_second=BUDGET))
    scan = scan.page_size(PAGE)
    started = time.monotonic()
    assert len(list(scan)) == 2000
    elapsed = time.monotonic() - started
    units = scan.consumed.read_units
    assert 200 < units < 300  # 2,000 items of 1 KB, eventually consistent
    # What the requests in flight at the start may take beyond the budget: one page each.
    first_wave = SEGMENTS * units / scan.consumed.requests
    assert units <= BUDGET * elapsed + first_wave
    rate = units / elapsed
    assert rate <= BUDGET * 1.1, (units, elapsed)
    assert rate >= BUDGET * 0.8, (units, elapsed)  # and it did not wait needlessly


async def test_a_rate_limited_async_scan_waits_too(tables: Tables, aconnection: Any) -> None:
    tables(Big)
    await Big.abatch_write([Big(key=n, body="x" * 1000) for n in range(200)])
    scan = Big.scan(segments=2, rate_limit=RateLimit(read_units_per_second=25)).page_size(25)
    started = time.monotonic()
    assert len([item async for item in scan]) == 200
    elapsed = time.monotonic() - started
    units = scan.consumed.read_units
    assert units <= 25 * elapsed + 2 * units / scan.consumed.requests
    assert elapsed > 0.5
