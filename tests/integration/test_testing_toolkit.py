"""``dynamodb.testing`` against DynamoDB Local: under its faults, code loses nothing.

The faults act in the transport (botocore here), and DynamoDB Local applies
whatever gets through, so what is stored afterwards, read through the session's
own connection, shows what the faults and the library's retries did together.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    Model,
    OutcomeUnknown,
    TransactionCanceled,
)
from dynamodb.testing import Faults, faults, record

Tables = Callable[..., None]


def mix(seed: int) -> Faults:
    """The shares of faults a user might test with: each kind, at its own rate."""
    return faults(
        throttle=0.1, unprocessed=0.3, server_errors=0.05, resets=0.01, latency=0.02, seed=seed
    )


class Order(Model):
    __table_name__ = "test_toolkit_orders"
    __secondary_indexes__ = {  # noqa: RUF012
        "by_status": {"hash_key": "status", "range_key": "total"},
    }

    customer = CharField(hash_key=True)
    order_id = CharField(range_key=True)
    status = CharField(default="open")
    total = IntegerField(default=0)
    note = CharField(default="")


class Tally(Model):
    __table_name__ = "test_toolkit_tally"

    id = CharField(hash_key=True)
    n = IntegerField(default=0)


def orders(count: int, customer: str = "ada") -> list[dict[str, object]]:
    return [
        {"customer": customer, "order_id": f"{n:05}", "total": n, "note": f"note {n}"}
        for n in range(count)
    ]


def stored_orders(customer: str) -> dict[str, int]:
    """order_id -> total of what DynamoDB holds for ``customer`` (consistent reads)."""
    found = Order.query().where(Order.customer == customer).consistent().all()
    return {order.order_id: order.total for order in found}


def test_batches_lose_nothing_and_the_recorder_agrees_with_the_counters(tables: Tables) -> None:
    tables(Order)
    written = orders(300)
    with record() as calls, mix(7) as injected:
        Order.batch_write(written)
        found = Order.batch_get(*[{"customer": "ada", "order_id": o["order_id"]} for o in written])
    assert stored_orders("ada") == {str(o["order_id"]): o["total"] for o in written}
    assert sorted((item.order_id, item.note) for item in found) == [
        (str(o["order_id"]), o["note"]) for o in written
    ]
    for name in ("throttle", "unprocessed", "server_errors", "latency"):
        assert injected.injected[name] > 0, name
    assert Counter(name for call in calls for name in call.faults) == injected.injected
    assert len(calls) == injected.requests
    writes = calls.of("BatchWriteItem")
    assert sum(call.items - call.unprocessed for call in writes if call.answered) == 300
    reads = calls.of("BatchGetItem")
    assert sum(call.items for call in reads if call.answered) == 300


async def test_the_async_twins_lose_nothing_either(tables: Tables, aconnection: Connection) -> None:
    tables(Order)
    written = orders(500, customer="bob")
    keys = [{"customer": "bob", "order_id": o["order_id"]} for o in written]
    with mix(11) as injected:
        await Order.abatch_write(written)
        found = await Order.abatch_get(*keys)
        await Order.abatch_delete(keys=keys[:100])
    assert len(found) == 500
    assert injected.injected["unprocessed"] > 0
    assert len(stored_orders("bob")) == 400


def test_a_trimmed_batch_read_keeps_its_projection_on_dynamodb_local(tables: Tables) -> None:
    tables(Order)
    Order.batch_write(orders(120))
    keys = [{"customer": "ada", "order_id": f"{n:05}"} for n in range(120)]
    with faults(unprocessed=1.0, seed=2) as injected:
        found = Order.batch_get(*keys, projections=[Order.total], consistent=True)
    assert injected.injected["unprocessed"] > 1
    assert sorted(item.total for item in found) == list(range(120))
    assert all(item._projection is not None for item in found)


def test_a_counter_stores_what_returned_plus_the_answers_lost(tables: Tables) -> None:
    tables(Tally)
    returned = unknown = 0
    with faults(server_errors=0.15, resets=0.15, seed=5) as injected:
        for _ in range(150):
            try:
                Tally.add(id="c", n=1)
                returned += 1
            except OutcomeUnknown:
                unknown += 1
    stored = Tally.get(id="c", consistent=True)
    assert stored is not None
    assert returned + unknown == 150
    assert unknown > 0
    assert 0 < injected.lost_answers <= unknown
    assert stored.n == returned + injected.lost_answers


def test_an_idempotent_counter_is_applied_exactly_once_each_time(tables: Tables) -> None:
    tables(Tally)
    with faults(server_errors=0.15, resets=0.15, seed=6) as injected:
        for _ in range(30):
            Tally.add(id="c", n=1, idempotent=True)
    stored = Tally.get(id="c", consistent=True)
    assert stored is not None
    assert injected.lost_answers > 0
    assert stored.n == 30


def test_a_lost_answer_never_makes_a_conditional_create_fail_on_its_own_item(
    tables: Tables,
) -> None:
    tables(Order)
    created: list[str] = []
    unknown: list[str] = []
    with faults(server_errors=0.1, resets=0.1, seed=8) as injected:
        for n in range(80):
            order_id = f"{n:05}"
            try:
                Order.create(customer="cy", order_id=order_id, total=n, overwrite=False)
                created.append(order_id)
            except OutcomeUnknown:  # its resend got no answer either
                unknown.append(order_id)
    # No ItemAlreadyExists: a write whose answer was lost is confirmed, not failed.
    assert injected.lost_answers > 0
    assert len(created) + len(unknown) == 80
    assert len(created) > 70
    stored = stored_orders("cy")
    assert set(created) <= set(stored) <= set(created) | set(unknown)


def test_the_recorder_shows_real_query_pages(tables: Tables) -> None:
    tables(Order)
    Order.batch_write(orders(40))
    with record() as calls:
        page, cursor = (
            Order.query().where(Order.status == "open", Order.total.gte(5)).limit(10).get_items()
        )
        filtered = Order.query().where(Order.customer == "ada", Order.note.begins_with("note 1"))
        notes = filtered.all()
    assert cursor is not None
    assert [order.total for order in page] == list(range(5, 15))
    [indexed, table] = calls
    assert (indexed.operation, indexed.index, indexed.table) == (
        "Query",
        "by_status",
        "test_toolkit_orders",
    )
    assert indexed.key_condition == "(status = 'open') AND (total >= 5)"
    assert indexed.filter is None
    assert indexed.items == 10
    assert (table.index, table.key_condition) == (None, "customer = 'ada'")
    assert table.filter == "begins_with(note, 'note 1')"
    assert table.items == len(notes) == 11  # note 1, note 10 ... note 19


def test_cancelled_transactions_write_nothing(tables: Tables) -> None:
    tables(Order, Tally)

    def place() -> None:
        with dynamodb.transaction() as tx:
            tx.put(Order(customer="dee", order_id="1"))
            tx.update(Tally(id="t"), Tally.n.add(1))

    with faults(cancel_transactions=1.0, seed=1) as injected:
        with pytest.raises(TransactionCanceled) as caught:
            place()
        with pytest.raises(TransactionCanceled):
            Tally.add(id="t", n=1, idempotent=True)  # a one-action TransactWriteItems
    assert injected.injected["cancel_transactions"] == 2
    assert [reason["Code"] for reason in caught.value.reasons].count("TransactionConflict") == 1
    assert Order.get(customer="dee", order_id="1", consistent=True) is None
    assert Tally.get(id="t", consistent=True) is None


def test_faults_reach_the_threads_of_a_parallel_scan(tables: Tables) -> None:
    tables(Order)
    Order.batch_write(orders(300))
    with record() as calls, faults(throttle=0.3, seed=4) as injected:
        found = Order.scan(segments=4).page_size(25).all()
    assert len(found) == 300
    assert injected.injected["throttle"] > 0
    assert {call.params.get("Segment") for call in calls.of("Scan")} == {0, 1, 2, 3}


def test_async_tasks_see_the_block(tables: Tables) -> None:
    tables(Tally)

    async def adds() -> int:
        results = await asyncio.gather(
            *(Tally.aadd(id=str(n), n=1) for n in range(40)), return_exceptions=True
        )
        await dynamodb.aclose()
        return sum(1 for result in results if isinstance(result, Tally))

    with faults(throttle=0.3, seed=9) as injected:
        assert asyncio.run(adds()) == 40  # throttled, resent, every one applied
    assert injected.injected["throttle"] > 0
