"""A migration run by worker processes, one killed midway and restarted, beside a writer.

Every item is upgraded exactly once (its ``upgrades`` count is 1), none is
lost, and what the concurrent writer wrote is kept. The suite runs 2,000 items;
``make test-scale`` runs the same test on 20,000 (``DYNAMODB_MIGRATION_ITEMS``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import dynamodb
from dynamodb import Connection
from dynamodb.core.leases import TableCheckpoints
from dynamodb.migrations import MARKER, load_migrations, migration_status
from tests.support.migration_scale import MIGRATION_FILE, Thing

ITEMS = int(os.environ.get("DYNAMODB_MIGRATION_ITEMS", "2000"))
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def prefixed(dynamodb_endpoint: str, connection: Connection) -> Iterator[Connection]:
    """A connection with a table prefix of its own; its tables are dropped afterwards."""
    conn = Connection(
        endpoint_url=dynamodb_endpoint, region_name="us-east-1", table_prefix=f"w{os.getpid()}_"
    )
    dynamodb.create_table(Thing, force=True, connection=conn)
    yield conn
    dynamodb.delete_table(Thing, connection=conn)
    conn.client.delete_table(TableName=conn.table_prefix + "dynamodb_migrations")
    conn.close()


def _start(args: list[str], endpoint: str, prefix: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "DYNAMODB_ENDPOINT": endpoint,
        "DYNAMODB_TABLE_PREFIX": prefix,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_workers_one_killed_and_a_writer_upgrade_every_item_once(
    prefixed: Connection, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    Thing.batch_write([Thing(id=number) for number in range(ITEMS)], connection=prefixed)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_backfill_status.py").write_text(MIGRATION_FILE)
    prefix = prefixed.table_prefix
    worker = [
        "-m", "dynamodb", "--table-prefix", prefix, "migrate", "--path", str(folder),
        "--lease-seconds", "2", "--page-size", "25", "--no-progress",
    ]  # fmt: skip
    first = _start(worker, dynamodb_endpoint, prefix)
    second = _start(worker, dynamodb_endpoint, prefix)
    writes = ITEMS // 10  # spread over about the time the workers take
    writer = _start(
        [
            "-m",
            "tests.support.migration_scale",
            "writer",
            str(ITEMS),
            str(writes),
            str(ITEMS / 400),
        ],
        dynamodb_endpoint,
        prefix,
    )
    store = TableCheckpoints("dynamodb_migrations")
    migrations = load_migrations(folder)
    deadline = time.monotonic() + 300
    while True:  # kill the first worker once a tenth of the items were read
        assert time.monotonic() < deadline, "the workers made no progress"
        try:
            (status,) = migration_status(migrations, prefixed, store=store)
        except dynamodb.ResourceNotFound:
            status = None
        if status is not None and status.counts.scanned >= ITEMS // 10:
            break
        time.sleep(0.1)
    killed_at = time.monotonic() - started
    first.send_signal(signal.SIGKILL)
    first.communicate()
    assert status.state == "running"  # killed midway
    restarted = _start(worker, dynamodb_endpoint, prefix)
    outputs = {}
    for name, process in (("second", second), ("restarted", restarted), ("writer", writer)):
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        outputs[name] = out
    written = {int(line) for line in outputs["writer"].split()}
    took = time.monotonic() - started

    items = {item.id: item for item in Thing.scan(segments=4).using(prefixed)}
    raw = {
        int(row["id"]["N"]): row
        for page in prefixed.client.get_paginator("scan").paginate(
            TableName=prefix + Thing.__table_name__
        )
        for row in page["Items"]
    }
    assert len(items) == ITEMS  # none lost
    assert {item.upgrades for item in items.values()} == {1}  # each upgraded exactly once
    assert {item.status for item in items.values()} == {"open"}
    assert all(row[MARKER] == {"SS": ["0001_backfill_status"]} for row in raw.values())
    assert len(written) == writes
    assert all(items[number].note == f"written {number}" for number in written)  # kept
    (status,) = migration_status(migrations, prefixed, store=store)
    assert status.state == "applied"
    assert status.done == status.segments == 8
    print(killed_at, outputs["second"], outputs["restarted"])
    print(f"\n{ITEMS} items migrated by 2 workers (one killed) beside a writer in {took:.1f} s")
