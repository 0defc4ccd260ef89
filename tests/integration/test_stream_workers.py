"""Two stream workers share a checkpoint table; one is killed with SIGKILL midway.

2,000 changes (inserts, updates, deletes) of two models sharing a table are
read by worker A, a process of its own, and worker B, a thread here, both
with ``dynamodb.streams.read([Order, Customer], checkpoints=..., worker=...)``.
DynamoDB Local's stream has one shard: A holds its lease and B waits. A stops
in the middle of a batch and is killed; B takes the shard over once A's lease
expires, from A's last checkpoint. Every change is delivered, in order for
each key, with the images that were written, and the only changes delivered
twice are those of A's batch that was never acknowledged.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest

import dynamodb
from dynamodb import Connection
from dynamodb.core.operations import delete_table
from dynamodb.streams import TableCheckpoints
from tests.support.stream_models import Customer, Order
from tests.support.stream_worker import delivery

Tables = Callable[..., None]
Item = TypeVar("Item", Order, Customer)
Key = tuple[str, str]
Delivery = dict[str, Any]

ROOT = Path(__file__).resolve().parents[2]
BATCH = 50
HANG_AFTER = 1025  # in A's 21st batch: 25 of its changes are never acknowledged
LEASE_SECONDS = 3.0


@pytest.fixture
def checkpoints(connection: Connection) -> Iterator[TableCheckpoints]:
    table = TableCheckpoints(f"test_stream_workers_cp_{time.monotonic_ns()}")
    yield table
    connection.run(delete_table(table.table_name, missing_ok=True))


def write_changes() -> dict[Key, list[tuple[str, Any, Any]]]:
    """2,000 changes; for each key, its (kind, old, new) in order, images as to_son()."""
    history: dict[Key, list[tuple[str, Any, Any]]] = defaultdict(list)
    orders = [
        Order(pk=f"order#{i:04}", sk="order", total=i, lines=[f"sku-{i}"]) for i in range(600)
    ]
    seen = datetime(2024, 6, 1, 8, 30, tzinfo=timezone.utc)
    customers = [
        Customer(pk=f"customer#{i:04}", sk="profile", name=f"Customer {i}", seen=seen)
        for i in range(400)
    ]
    Order.batch_write(orders)
    Customer.batch_write(customers)
    items: list[Order | Customer] = [*orders, *customers]
    for item in items:
        history[(item.pk, item.sk)].append(("insert", None, item.to_son()))

    def changed(item: Item, **values: Any) -> Item:
        old = item.to_son()
        for name, value in values.items():
            setattr(item, name, value)
        history[(item.pk, item.sk)].append(("modify", old, item.to_son()))
        return item

    # 700 updates: puts over existing items (BatchWriteItem) and dirty saves (UpdateItem).
    Order.batch_write([changed(o, status="paid", total=o.total + 1) for o in orders[:250]])
    Customer.batch_write([changed(c, visits=c.visits + 1) for c in customers[:200]])
    shipped = [changed(o, status="shipped", lines=[*o.lines, "gift wrap"]) for o in orders[:250]]
    Order.batch_write(shipped[100:])
    with ThreadPoolExecutor(max_workers=4) as pool:
        for saved in pool.map(lambda order: order.save(), shipped[:100]):
            assert saved.status == "shipped"
    removed: list[Order | Customer] = [*orders[:150], *customers[:150]]
    Order.batch_delete(items=orders[:150])
    Customer.batch_delete(items=customers[:150])
    for item in removed:
        history[(item.pk, item.sk)].append(("remove", item.to_son(), None))
    assert sum(map(len, history.values())) == 2000
    return history


def test_two_workers_deliver_every_change_once_a_killed_ones_batch_again(
    tables: Tables, dynamodb_endpoint: str, checkpoints: TableCheckpoints
) -> None:
    tables(Order)  # the table Order and Customer share
    history = write_changes()
    lock = threading.Lock()
    from_a: list[Delivery] = []
    from_b: list[Delivery] = []
    killed = threading.Event()

    # Worker A: a process of its own, which stops in the middle of a batch.
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.stream_worker",
            dynamodb_endpoint,
            checkpoints.table_name,
            "A",
            str(LEASE_SECONDS),
            str(BATCH),
            str(HANG_AFTER),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert worker.stdout is not None
        for line in worker.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()

    # Worker B: here, sharing the checkpoint table; it stops once everything arrived.
    def run_b() -> None:
        reader = dynamodb.streams.read(
            [Order, Customer],
            checkpoints=checkpoints,
            worker="B",
            lease_seconds=LEASE_SECONDS,
            batch_size=BATCH,
            stop_after=20.0,
        )
        for change in reader:
            item = change.new if change.new is not None else change.old
            assert isinstance(item, change.model)
            assert type(item) is change.model  # each item as its own model
            with lock:
                from_b.append({**delivery(change), "after_kill": killed.is_set()})
                if len({d["seq"] for d in from_a} | {d["seq"] for d in from_b}) == 2000:
                    return

    b = threading.Thread(target=run_b)
    try:
        while len(from_a) < HANG_AFTER:
            line = lines.get(timeout=60)
            assert line is not None, (
                f"worker A ended: {worker.stderr.read() if worker.stderr else ''}"
            )
            with lock:
                from_a.append(json.loads(line))
            if len(from_a) == 1:
                b.start()  # A holds the shard's lease now; B waits for it
        os.kill(worker.pid, signal.SIGKILL)  # no release, no last checkpoint
        worker.wait(timeout=10)
        killed.set()
        b.join(timeout=60)
        assert not b.is_alive(), "worker B did not finish"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()
        if worker.stderr is not None:
            worker.stderr.close()

    # B read nothing while A held the lease, and everything after A's checkpoint.
    assert from_b
    assert all(entry["after_kill"] for entry in from_b)
    a_numbers = [int(entry["seq"]) for entry in from_a]
    b_numbers = [int(entry["seq"]) for entry in from_b]
    for numbers in (a_numbers, b_numbers):  # each worker: in order, nothing twice
        assert numbers == sorted(numbers)
        assert len(set(numbers)) == len(numbers)

    # The repeats are exactly the part of A's last batch that A never acknowledged.
    repeated = set(a_numbers) & set(b_numbers)
    resumed_at = a_numbers.index(b_numbers[0])
    assert repeated == set(a_numbers[resumed_at:])
    assert 1 <= len(repeated) < BATCH
    assert resumed_at % BATCH == 0  # A's checkpoints fall after whole batches

    # Every change arrived, in order for each key, with the images written.
    merged = {int(d["seq"]): d for d in [*from_a, *from_b]}
    assert len(merged) == 2000
    delivered: dict[Key, list[tuple[str, Any, Any]]] = defaultdict(list)
    for number in sorted(merged):
        entry = merged[number]
        pk, sk = entry["key"]
        delivered[(pk, sk)].append((entry["kind"], entry["old"], entry["new"]))
        assert entry["model"] == ("Order" if pk.startswith("order") else "Customer")
    assert delivered == history
