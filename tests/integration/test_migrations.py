"""Data migrations in one process: writes, conflicts, filters, dry runs, status, resuming."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dynamodb
from dynamodb import CharField, Connection, EncryptedField, IntegerField, Model, VersionField
from dynamodb.core.leases import TableCheckpoints
from dynamodb.encryption import StaticKeys
from dynamodb.exceptions import MigrationError
from dynamodb.migrations import (
    MARKER,
    Migration,
    MigrationRunner,
    amigration_status,
    arun_pending,
    load_migrations,
    migration_status,
    run_pending,
)

STORE = TableCheckpoints("test_migrations_store")
KEYS = StaticKeys({"k": bytes(range(32))})


class Ticket(Model):
    __table_name__ = "test_migrations_tickets"

    id = IntegerField(hash_key=True)
    status = CharField()
    priority = IntegerField()
    note = CharField()


class Versioned(Model):
    __table_name__ = "test_migrations_versioned"

    id = IntegerField(hash_key=True)
    status = CharField()
    version = VersionField()


@pytest.fixture
def tickets(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(Ticket, force=True)
    Ticket.batch_write(
        [Ticket(id=n, priority=n % 3, status="old" if n % 2 else None) for n in range(60)]
    )
    connection.run(STORE.prepare())
    yield
    dynamodb.delete_table(Ticket)
    connection.client.delete_table(TableName=STORE.table_name)


def set_open(item: Ticket) -> Ticket | None:
    if item.status == "open":
        return None
    item.status = "open"
    return item


def raw_items(connection: Connection, table: str) -> dict[int, dict[str, Any]]:
    pages = connection.client.get_paginator("scan").paginate(TableName=table)
    return {int(row["id"]["N"]): row for page in pages for row in page["Items"]}


def test_a_migration_upgrades_every_item_and_marks_it(
    tickets: None, connection: Connection
) -> None:
    migration = Migration("0001_open", Ticket, set_open, segments=3)
    result = MigrationRunner(migration, store=STORE, page_size=7).run(connection)
    assert result.applied
    assert (result.counts.scanned, result.counts.upgraded) == (60, 60)
    rows = raw_items(connection, Ticket.__table_name__)
    assert {row["status"]["S"] for row in rows.values()} == {"open"}
    assert all(row[MARKER] == {"SS": ["0001_open"]} for row in rows.values())
    (status,) = migration_status([migration], connection, store=STORE)
    assert (status.state, status.segments, status.done) == ("applied", 3, 3)
    assert status.counts.upgraded == 60
    again = MigrationRunner(migration, store=STORE).run(connection)
    assert again.counts.scanned == 0  # every segment is done: nothing is read again


def test_none_leaves_the_item_and_where_filters(tickets: None, connection: Connection) -> None:
    def only_high(item: Ticket) -> Ticket | None:
        if item.priority != 2:
            return None
        item.note = "high"
        return item

    migration = Migration("0002_high", Ticket, only_high, where="status = 'old'", segments=2)
    result = MigrationRunner(migration, store=STORE).run(connection)
    odd_high = [n for n in range(60) if n % 2 and n % 3 == 2]
    assert result.counts.scanned == 30  # the filter: status = 'old'
    assert result.counts.upgraded == len(odd_high)
    assert result.counts.unchanged == 30 - len(odd_high)
    rows = raw_items(connection, Ticket.__table_name__)
    assert sorted(n for n, row in rows.items() if "note" in row) == odd_high
    assert sorted(n for n, row in rows.items() if MARKER in row) == odd_high


def test_a_dry_run_counts_and_writes_nothing(tickets: None, connection: Connection) -> None:
    before = raw_items(connection, Ticket.__table_name__)
    migration = Migration("0003_dry", Ticket, set_open, segments=4)
    result = MigrationRunner(migration, store=STORE, dry_run=True).run(connection)
    assert result.dry_run
    assert (result.counts.scanned, result.counts.upgraded) == (60, 60)
    assert raw_items(connection, Ticket.__table_name__) == before
    (status,) = migration_status([migration], connection, store=STORE)
    assert status.state == "pending"


def test_a_concurrent_change_is_read_again_and_kept(tickets: None, connection: Connection) -> None:
    seen: list[tuple[int, str | None]] = []

    def meddling(item: Ticket) -> Ticket:
        seen.append((item.id, item.note))
        if item.id == 5 and item.note is None:  # another writer changes it meanwhile
            connection.client.update_item(
                TableName=Ticket.__table_name__,
                Key={"id": {"N": "5"}},
                UpdateExpression="SET note = :n",
                ExpressionAttributeValues={":n": {"S": "theirs"}},
            )
        item.status = "open"
        return item

    migration = Migration("0004_conflict", Ticket, meddling, segments=1)
    result = MigrationRunner(migration, store=STORE).run(connection)
    assert result.counts.conflicts == 1
    assert result.counts.upgraded == 60
    assert [entry for entry in seen if entry[0] == 5] == [(5, None), (5, "theirs")]
    stored = Ticket.get(id=5, consistent=True)
    assert stored is not None
    assert (stored.note, stored.status) == ("theirs", "open")


def test_an_item_a_concurrent_change_moves_out_of_where_is_left_alone(
    tickets: None, connection: Connection
) -> None:
    def claim(item: Ticket) -> Ticket:
        if item.id == 4 and item.note is None:  # another writer closes it meanwhile
            connection.client.update_item(
                TableName=Ticket.__table_name__,
                Key={"id": {"N": "4"}},
                UpdateExpression="SET #s = :s, note = :n",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "closed"}, ":n": {"S": "theirs"}},
            )
        if item.id == 6 and item.note is None:  # and another only touches a note
            connection.client.update_item(
                TableName=Ticket.__table_name__,
                Key={"id": {"N": "6"}},
                UpdateExpression="SET note = :n",
                ExpressionAttributeValues={":n": {"S": "theirs"}},
            )
        item.status = "new"
        return item

    migration = Migration("0004_where", Ticket, claim, where=Ticket.status.not_exists())
    result = MigrationRunner(migration, store=STORE).run(connection)
    assert result.counts.scanned == 30  # the even ids have no status
    assert result.counts.conflicts == 2
    assert (result.counts.upgraded, result.counts.unchanged) == (29, 1)
    rows = raw_items(connection, Ticket.__table_name__)
    assert rows[4]["status"] == {"S": "closed"}  # the concurrent write is kept
    assert MARKER not in rows[4]
    assert (rows[6]["status"], rows[6]["note"]) == ({"S": "new"}, {"S": "theirs"})
    assert {n for n, row in rows.items() if row.get("status") == {"S": "new"}} == {
        n for n in range(0, 60, 2) if n != 4
    }


class Sealed(Model):
    __table_name__ = "test_migrations_sealed"

    id = IntegerField(hash_key=True)
    code = EncryptedField(CharField(), keys=KEYS)
    hint = EncryptedField(CharField(), keys=KEYS)


def test_a_migration_encrypts_what_it_writes(connection: Connection) -> None:
    dynamodb.create_table(Sealed, force=True)
    connection.run(STORE.prepare())
    try:
        Sealed.batch_write([Sealed(id=n, hint=f"hint {n}") for n in range(3)])
        before = raw_items(connection, Sealed.__table_name__)

        def set_code(item: Sealed) -> Sealed:
            item.code = f"pin {item.id}"
            return item

        result = MigrationRunner(Migration("0001_code", Sealed, set_code), store=STORE).run(
            connection
        )
        assert result.counts.upgraded == 3
        rows = raw_items(connection, Sealed.__table_name__)
        for n, row in rows.items():
            assert list(row["code"]) == ["B"]
            assert f"pin {n}".encode() not in row["code"]["B"]
            assert row["hint"] == before[n]["hint"]  # unchanged: the stored ciphertext kept
            stored = Sealed.get(id=n, consistent=True)
            assert stored is not None
            assert (stored.code, stored.hint) == (f"pin {n}", f"hint {n}")
    finally:
        dynamodb.delete_table(Sealed)
        connection.client.delete_table(TableName=STORE.table_name)


def test_a_killed_run_resumes_and_skips_what_it_wrote(
    tickets: None, connection: Connection
) -> None:
    """A crash between the writes of a page and its checkpoint: the rerun finds the marks."""
    calls: list[int] = []

    class Crash(Exception):
        pass

    def crashing(item: Ticket) -> Ticket:
        calls.append(item.id)
        if len(calls) == 25:
            raise Crash
        item.priority = (item.priority or 0) + 10
        return item

    migration = Migration("0005_resume", Ticket, crashing, segments=2)
    with pytest.raises(Crash):
        MigrationRunner(migration, store=STORE, page_size=10, worker="w1").run(connection)
    calls.append(-1)  # from here on, no crash
    result = MigrationRunner(migration, store=STORE, page_size=10, worker="w1").run(connection)
    assert result.applied
    assert result.counts.already > 0  # written before the crash, after the last checkpoint
    stored = raw_items(connection, Ticket.__table_name__)
    assert sorted(int(row["priority"]["N"]) for row in stored.values()) == sorted(
        n % 3 + 10 for n in range(60)
    )  # each exactly once


def test_keys_cannot_change_and_upgrade_must_return_the_model(
    tickets: None, connection: Connection
) -> None:
    def rekey(item: Ticket) -> Ticket:
        item.id = item.id + 1000
        return item

    with pytest.raises(MigrationError, match="upgrade changed the key 'id'"):
        MigrationRunner(Migration("0006_rekey", Ticket, rekey, segments=1), store=STORE).run(
            connection
        )
    with pytest.raises(MigrationError, match="upgrade returned 'x', not a Ticket or None"):
        MigrationRunner(
            Migration("0007_bad", Ticket, lambda item: "x", segments=1), store=STORE
        ).run(connection)


def test_a_versioned_item_gets_its_next_version(connection: Connection) -> None:
    dynamodb.create_table(Versioned, force=True)
    try:
        Versioned(id=1, status="a").save()

        def upgrade(item: Versioned) -> Versioned:
            item.status = "b"
            return item

        MigrationRunner(Migration("0008_v", Versioned, upgrade, segments=1), store=STORE).run(
            connection
        )
        stored = Versioned.get(id=1, consistent=True)
        assert stored is not None
        assert (stored.status, stored.version) == ("b", 2)
    finally:
        dynamodb.delete_table(Versioned)
        connection.client.delete_table(TableName=STORE.table_name)


def test_files_run_in_order_once(tickets: None, connection: Connection, tmp_path: Path) -> None:
    (tmp_path / "0001_first.py").write_text(
        '"""Set the status."""\n'
        "from tests.integration.test_migrations import Ticket\n"
        "model = Ticket\nsegments = 2\n"
        "def upgrade(item):\n    item.status = 'first'\n    return item\n"
    )
    (tmp_path / "0002_second.py").write_text(
        "from tests.integration.test_migrations import Ticket\n"
        "model = Ticket\nwhere = Ticket.status == 'first'\n"
        "def upgrade(item):\n    item.note = item.status + ' then second'\n    return item\n"
    )
    (tmp_path / "_helpers.py").write_text("raise RuntimeError('not a migration')\n")
    migrations = load_migrations(tmp_path)
    assert [m.id for m in migrations] == ["0001_first", "0002_second"]
    assert migrations[0].description == "Set the status."
    statuses = migration_status(migrations, connection, store=STORE)
    assert [s.state for s in statuses] == ["pending", "pending"]
    results = run_pending(migrations, connection, store=STORE)
    assert [r.counts.upgraded for r in results] == [60, 60]
    assert {t.note for t in Ticket.scan()} == {"first then second"}
    assert run_pending(migrations, connection, store=STORE) == []
    assert [s.state for s in migration_status(migrations, connection, store=STORE)] == [
        "applied",
        "applied",
    ]


async def test_the_async_twin(tickets: None, aconnection: Connection) -> None:
    migration = Migration("0009_async", Ticket, set_open, segments=2)
    (pending,) = await amigration_status([migration], aconnection, store=STORE)
    assert pending.state == "pending"
    (result,) = await arun_pending([migration], aconnection, store=STORE, concurrency=2)
    assert result.applied
    assert result.counts.upgraded == 60
    (status,) = await amigration_status([migration], aconnection, store=STORE)
    assert (status.id, status.state, status.segments, status.done) == (
        "0009_async",
        "applied",
        2,
        2,
    )
    assert status.counts.upgraded == 60


def test_bad_migration_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "0001_broken.py").write_text("model = 1\ndef upgrade(item):\n    return item\n")
    with pytest.raises(MigrationError, match="0001_broken: model must be a model class"):
        load_migrations(tmp_path)
    (tmp_path / "0001_broken.py").write_text("x = 1\n")
    with pytest.raises(MigrationError, match=r"0001_broken\.py: a migration file defines 'model'"):
        load_migrations(tmp_path)
    with pytest.raises(MigrationError, match="no migrations folder"):
        load_migrations(tmp_path / "missing")


def test_a_rate_limit_that_is_not_one_is_refused_before_anything_is_sent(
    connection: Connection,
) -> None:
    import io

    from dynamodb import InvalidArgument
    from dynamodb.transfer import export_items, import_items

    with pytest.raises(InvalidArgument, match=r"MigrationRunner: rate_limit must be a dynamodb"):
        MigrationRunner(Migration("0010_rl", Ticket, set_open), rate_limit=object())
    with pytest.raises(InvalidArgument, match=r"export_items: rate_limit must be a dynamodb"):
        export_items(connection, "t", io.StringIO(), rate_limit=100)
    with pytest.raises(InvalidArgument, match=r"import_items: rate_limit must be a dynamodb"):
        import_items(connection, "t", [], rate_limit="fast")


def test_a_rate_limited_migration_keeps_its_write_budget(
    tickets: None, connection: Connection
) -> None:
    import time

    budget = 20.0  # write units per second; each upgrade is one UpdateItem of ~1 unit
    limit = dynamodb.RateLimit(write_units_per_second=budget)
    migration = Migration("0011_limited", Ticket, set_open, segments=2)
    runner = MigrationRunner(migration, store=STORE, page_size=10, concurrency=2, rate_limit=limit)
    started = time.monotonic()
    with dynamodb.capacity() as cap:
        result = runner.run(connection)
    elapsed = time.monotonic() - started
    assert result.counts.upgraded == 60
    table = cap.by_table[Ticket.__table_name__]
    assert table.write_units >= 60
    # Every write of the run (upgrades and checkpoints) draws on one budget: beyond the
    # bucket's one second of burst, the run cannot go faster than the budget.
    assert cap.write_units <= budget * (elapsed + 1.0) + 2, (cap.write_units, elapsed)
    assert elapsed >= (cap.write_units - budget - 2) / budget, (cap.write_units, elapsed)
