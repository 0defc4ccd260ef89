"""Running data migrations: parallel scans, conditional writes, checkpoints and leases.

Each migration is a parallel scan of its model's table, split in ``segments``.
Every item read is given to ``upgrade(item)``; what it returns is written with
one UpdateItem that changes only the attributes that differ, and only if the
stored item still holds exactly what was read (a condition on every attribute
of the read image, and on the absence of the model's other fields): a
concurrent change fails the condition, and the item is read again
(consistently) and upgraded again. ``upgrade`` returning None leaves the item
alone.

**Exactly once.** The same UpdateItem adds the migration's id to the item's
``_migrations`` string set, and an item whose set holds the id is skipped.
Progress is checkpointed per segment after each page (the page's
LastEvaluatedKey and counts), so a killed worker's segment is taken over from
its last checkpoint; the items of the unfinished page that were already
written carry the id and are skipped, not upgraded again. The id also makes
two workers that both hold a segment (a lease that expired under a stalled
worker) harmless: the second write fails its condition, the re-read finds the
id.

**Distributed.** The checkpoints live in a table (``dynamodb_migrations`` by
default, the stream readers' lease table layout:
:class:`~dynamodb.core.leases.TableCheckpoints`), one row per segment, keyed
``"migration|<id>"``: the checkpoint, the owner and the lease's expiry. Workers
(threads of one process, processes, machines) take free or expired segments
with conditional writes, renew their leases while they work (inline
heartbeats: a killed or stuck worker's leases expire) and wait until every
segment is done, taking over those whose leases expire. A ``plan`` row fixes
the number of segments for every worker; a ``done`` row marks the migration
applied, with its counts.

Everything is a flow, so :meth:`MigrationRunner.run` and :meth:`~MigrationRunner.arun`
are the same code on the two drivers.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from dynamodb.core.codec import Item, wire_equal
from dynamodb.core.errors import (
    ConditionalCheckFailed,
    InvalidArgument,
    MigrationError,
    ResourceNotFound,
)
from dynamodb.core.expressions import Condition, Placeholders, and_all
from dynamodb.core.flow import Flow, call, sleep
from dynamodb.core.leases import Lease, TableCheckpoints
from dynamodb.core.operations import describe_table
from dynamodb.core.ulid import ulid
from dynamodb.models.migrations.files import Migration
from dynamodb.models.transfer import (
    check_rate_limit,
    from_ddb_json,
    raise_first,
    stored_item,
    to_ddb_json,
)
from dynamodb.wire import tracing
from dynamodb.wire.telemetry import limiting

__all__ = [
    "MARKER",
    "MIGRATIONS_TABLE",
    "MigrationResult",
    "MigrationRunner",
    "MigrationStatus",
    "amigration_status",
    "arun_pending",
    "migration_status",
    "run_pending",
]

MIGRATIONS_TABLE = "dynamodb_migrations"
"""The default table of checkpoints and leases."""

MARKER = "_migrations"
"""The string set attribute holding the ids of the migrations applied to an item."""

_PLAN = "plan"
_DONE = "done"
_SEGMENT = "segment:"
_MAX_ATTEMPTS = 25
_COUNTS = ("scanned", "upgraded", "unchanged", "already", "conflicts", "vanished")


def _consumer(migration_id: str) -> str:
    return f"migration|{migration_id}"


@dataclass
class Counts:
    """What a run did to the items it read."""

    scanned: int = 0
    upgraded: int = 0
    """Written (or, in a dry run, that would be)."""
    unchanged: int = 0
    """``upgrade`` returned None (or the item is another entity's, or a concurrent change
    moved it out of the migration's ``where``)."""
    already: int = 0
    """Carried this migration's id already (written before a crash or by another worker)."""
    conflicts: int = 0
    """Writes whose condition failed (a concurrent change): read again and upgraded again."""
    vanished: int = 0
    """Deleted between the scan and the write."""

    def add(self, other: Counts) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def note(self, outcome: str, conflicts: int = 0) -> None:
        self.scanned += 1
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.conflicts += conflicts

    @classmethod
    def of(cls, data: dict[str, Any]) -> Counts:
        return cls(**{name: int(data.get(name, 0)) for name in _COUNTS})


@dataclass
class _Progress:
    """One segment's checkpoint: where its scan resumes, whether it is done, its counts."""

    key: Item | None = None
    done: bool = False
    counts: Counts = field(default_factory=Counts)

    def dump(self) -> str:
        key = None if self.key is None else {n: to_ddb_json(v) for n, v in self.key.items()}
        return json.dumps({"key": key, "done": self.done, **asdict(self.counts)})

    @classmethod
    def load(cls, text: str) -> _Progress:
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        key = data.get("key")
        decoded = None if key is None else {n: from_ddb_json(v) for n, v in key.items()}
        return cls(decoded, bool(data.get("done")), Counts.of(data))


@dataclass
class MigrationResult:
    """What one run of a migration did (this worker's share, or the dry run's whole count)."""

    id: str
    counts: Counts
    dry_run: bool = False
    applied: bool = False
    """Whether every segment is done (the migration is applied)."""


@dataclass
class MigrationStatus:
    """A migration as the migrations table describes it."""

    id: str
    description: str
    state: str
    """``"applied"``, ``"running"`` (some segments done or held) or ``"pending"``."""
    segments: int = 0
    done: int = 0
    counts: Counts = field(default_factory=Counts)
    owners: tuple[str, ...] = ()
    """Workers holding a live lease on one of its segments."""


class MigrationRunner:
    """Runs one migration as one worker (with ``concurrency`` threads or tasks).

    ``store``: the checkpoint table (``TableCheckpoints("dynamodb_migrations")``
    by default); ``lease_seconds``: how long a segment stays a worker's without a
    heartbeat; ``page_size``: items per Scan page (a checkpoint after each);
    ``dry_run``: count what would change, write nothing (no checkpoints either);
    ``on_progress(counts)``: called after each page with that page's counts.
    ``rate_limit``: a :class:`~dynamodb.RateLimit` that every Scan and conditional
    write of the run (in all its threads or tasks) is held to.
    """

    def __init__(
        self,
        migration: Migration,
        *,
        store: TableCheckpoints | None = None,
        worker: str | None = None,
        lease_seconds: float = 30.0,
        page_size: int = 100,
        concurrency: int = 1,
        dry_run: bool = False,
        on_progress: Callable[[Counts], None] | None = None,
        rate_limit: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for name, value in (("page_size", page_size), ("concurrency", concurrency)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"MigrationRunner: {name} must be a positive int")
        if not lease_seconds > 0:
            raise InvalidArgument("MigrationRunner: lease_seconds must be positive")
        self.migration = migration
        self.store = store or TableCheckpoints(MIGRATIONS_TABLE)
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{ulid()[-8:]}"
        self.lease_seconds = float(lease_seconds)
        self.page_size = page_size
        self.concurrency = concurrency
        self.dry_run = dry_run
        self.on_progress = on_progress
        self.rate_limit = check_rate_limit(rate_limit, "MigrationRunner")
        self.clock = clock
        self.consumer = _consumer(migration.id)
        model = migration.model
        meta = model._meta
        self.schema = meta.require_table()
        self.key_names = tuple(key.name for key in self.schema.key_fields)
        self.field_names = frozenset(f.name for f in meta.fields.values())
        version = meta.version_field
        self.version_name: str | None = version.name if version is not None else None
        self.filter: Condition | None = None
        """What the scan reads: the migration's ``where`` and the model's entity."""
        self.scan_request = self._scan_request()

    def _scan_request(self) -> dict[str, Any]:
        meta = self.migration.model._meta
        request: dict[str, Any] = {"TableName": self.schema.table_name, "Limit": self.page_size}
        condition = self.filter = and_all(
            [c for c in (meta.entity_filter(), self.migration.condition()) if c is not None]
        )
        if condition is not None:
            placeholders = Placeholders()
            request["FilterExpression"] = condition.render(placeholders)
            placeholders.apply(request)
        return request

    # -- one item ---------------------------------------------------------------------

    def _write_request(self, raw: Item, new: Item) -> dict[str, Any] | None:
        """The UpdateItem turning ``raw`` into ``new``, guarded by ``raw``; None: no change."""
        names = Placeholders()
        sets: list[str] = []
        removes: list[str] = []
        for name, value in new.items():
            if name in self.key_names:
                if not wire_equal(value, raw[name]):
                    raise MigrationError(
                        f"migration {self.migration.id}: upgrade changed the key {name!r} "
                        "(keys cannot change; write a new item and delete the old one)"
                    )
                continue
            if name == self.version_name or name == MARKER:
                continue
            if name not in raw or not wire_equal(raw[name], value):
                sets.append(f"{names.name(name)} = {names.value(value)}")
        for name in raw:
            if name in self.field_names and name not in new and name not in self.key_names:
                removes.append(names.name(name))
        changed = bool(sets or removes)
        if self.version_name is not None and changed:
            stored = raw.get(self.version_name)
            following = int(stored["N"]) + 1 if stored is not None else 1
            sets.append(f"{names.name(self.version_name)} = {names.value({'N': str(following)})}")
        guards = [f"{names.name(name)} = {names.value(value)}" for name, value in raw.items()]
        absent = sorted((self.field_names | {MARKER}) - raw.keys())
        guards += [f"attribute_not_exists({names.name(name)})" for name in absent]
        expression = ""
        if sets:
            expression += "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        expression += f" ADD {names.name(MARKER)} {names.value({'SS': [self.migration.id]})}"
        request: dict[str, Any] = {
            "TableName": self.schema.table_name,
            "Key": {name: raw[name] for name in self.key_names},
            "UpdateExpression": expression.strip(),
            "ConditionExpression": " AND ".join(guards),
        }
        names.apply(request)
        return request if changed else None

    def _reread_request(self, raw: Item) -> dict[str, Any]:
        """A consistent read of ``raw``'s item, filtered as the scan is (by ``where`` and
        the entity): a Query on its whole key, so one request says whether it is still
        there (ScannedCount) and still the migration's (Items)."""
        request = {**self.scan_request, "Limit": 1, "ConsistentRead": True}
        names = Placeholders()
        request["KeyConditionExpression"] = " AND ".join(
            f"{names.name(name)} = {names.value(raw[name])}" for name in self.key_names
        )
        if self.filter is not None:
            request["FilterExpression"] = self.filter.render(names)
        request.pop("ExpressionAttributeNames", None)
        request.pop("ExpressionAttributeValues", None)
        names.apply(request)
        return request

    def _item(self, raw: Item) -> Flow[tuple[str, int]]:
        """Upgrade one item: (outcome, conflicts); the outcome names a Counts field."""
        model = self.migration.model
        load = model._meta.loader()
        conflicts = 0
        for _attempt in range(_MAX_ATTEMPTS):
            marker = raw.get(MARKER)
            if marker is not None and self.migration.id in marker.get("SS", ()):
                return "already", conflicts
            instance = load(raw, None)
            result = None if instance is None else self.migration.upgrade(instance)
            if result is None:
                return "unchanged", conflicts
            if not isinstance(result, model):
                raise MigrationError(
                    f"migration {self.migration.id}: upgrade returned {result!r}, not a "
                    f"{model.__name__} or None"
                )
            request = self._write_request(
                raw, stored_item(result, f"migration {self.migration.id}")
            )
            if request is None:
                return "unchanged", conflicts
            if self.dry_run:
                return "upgraded", conflicts
            try:
                # Safe to resend: the condition fails once it applied, and the re-read
                # then finds the migration's id.
                yield from call("UpdateItem", request, idempotent=True)
                return "upgraded", conflicts
            except ConditionalCheckFailed:
                conflicts += 1
            response = yield from call("Query", self._reread_request(raw))
            if not response.get("ScannedCount"):
                return "vanished", conflicts
            items = response.get("Items", [])
            if not items:  # changed out of the migration's where: no longer its to upgrade
                return "unchanged", conflicts
            raw = items[0]
        raise MigrationError(
            f"migration {self.migration.id}: item {raw and {n: raw[n] for n in self.key_names}} "
            f"changed {_MAX_ATTEMPTS} times while it was being upgraded"
        )

    # -- segments ---------------------------------------------------------------------

    def _segment(
        self, number: int, total: int, progress: _Progress, worker: str | None
    ) -> Flow[Counts]:
        """Scan one segment from its checkpoint; stops early if the lease is lost."""
        counts = Counts()
        request = {**self.scan_request, "Segment": number, "TotalSegments": total}
        shard = f"{_SEGMENT}{number:06d}"
        renewed = self.clock()
        while not progress.done:
            if progress.key is not None:
                request["ExclusiveStartKey"] = progress.key
            response = yield from call("Scan", request)
            page = Counts()
            for raw in response.get("Items", []):
                outcome, conflicts = yield from self._item(raw)
                page.note(outcome, conflicts)
                if worker is not None and self.clock() - renewed > self.lease_seconds / 3:
                    expires = self.clock() + self.lease_seconds
                    held = yield from self.store.renew(self.consumer, shard, worker, expires)
                    renewed = self.clock()
                    if not held:
                        counts.add(page)
                        return counts
            last = response.get("LastEvaluatedKey")
            progress.key = last or None
            progress.done = not last
            progress.counts.add(page)
            counts.add(page)
            if self.on_progress is not None:
                self.on_progress(page)
            if worker is None:
                continue
            expires = self.clock() + self.lease_seconds
            held = yield from self.store.save(
                self.consumer, shard, worker, progress.dump(), expires
            )
            renewed = self.clock()
            if not held:
                return counts
        if worker is not None:
            yield from self.store.release(self.consumer, shard, worker)
        return counts

    def _prepare(self) -> Flow[int]:
        """Create the table and the rows (first worker wins); the number of segments."""
        yield from self.store.prepare()
        plan = json.dumps(
            {
                "segments": self.migration.segments,
                "table": self.schema.table_name,
                "model": self.migration.model.__name__,
            }
        )
        yield from self.store.add(self.consumer, Lease(_PLAN, plan))
        leases = yield from self.store.load(self.consumer)
        fixed = json.loads(leases.shards[_PLAN].checkpoint)
        if fixed["table"] != self.schema.table_name:
            raise MigrationError(
                f"migration {self.migration.id} was started on table {fixed['table']}, "
                f"not {self.schema.table_name}"
            )
        segments = int(fixed["segments"])
        for number in range(segments):
            shard = f"{_SEGMENT}{number:06d}"
            if shard not in leases.shards:
                yield from self.store.add(self.consumer, Lease(shard, _Progress().dump()))
        return segments

    def _work(self, segments: int, worker: str) -> Flow[Counts]:
        """Take segments until every one is done (waiting for others' leases to expire)."""
        counts = Counts()
        wait = min(1.0, self.lease_seconds / 3)
        offset = sum(worker.encode()) % segments  # workers start at different segments
        while True:
            leases = yield from self.store.load(self.consumer)
            now = self.clock()
            rows = [leases.shards.get(f"{_SEGMENT}{n:06d}") for n in range(segments)]
            undone = [
                (number, row)
                for number, row in enumerate(rows)
                if row is not None and not _Progress.load(row.checkpoint).done
            ]
            if not undone:
                return counts
            undone = undone[offset % len(undone) :] + undone[: offset % len(undone)]
            taken: Lease | None = None
            chosen = 0
            for candidate, row in undone:
                if row.held_by_another(worker, now):
                    continue
                expires = now + self.lease_seconds
                taken = yield from self.store.acquire(
                    self.consumer, row.shard, worker, expires, now
                )
                if taken is not None:
                    chosen = candidate
                    break
            if taken is None:
                yield from sleep(wait)
                continue
            progress = _Progress.load(taken.checkpoint)
            counts.add((yield from self._segment(chosen, segments, progress, worker)))

    def _finish(self) -> Flow[bool]:
        """Write the ``done`` row once every segment is done; whether it is."""
        leases = yield from self.store.load(self.consumer)
        if _DONE in leases.shards:
            return True
        rows = [row for name, row in leases.shards.items() if name.startswith(_SEGMENT)]
        progress = [_Progress.load(row.checkpoint) for row in rows]
        if not rows or not all(p.done for p in progress):
            return False
        total = Counts()
        for p in progress:
            total.add(p.counts)
        done = json.dumps({"finished": self.clock(), **asdict(total)})
        yield from self.store.add(self.consumer, Lease(_DONE, done))
        return True

    def _dry(self) -> list[Flow[Counts]]:
        total = self.migration.segments
        return [self._segment(n, total, _Progress(), None) for n in range(total)]

    # -- drivers ----------------------------------------------------------------------

    def _workers(self) -> list[str]:
        if self.concurrency == 1:
            return [self.worker]
        return [f"{self.worker}/{n}" for n in range(self.concurrency)]

    def run(self, connection: Any) -> MigrationResult:
        """Run the migration as this worker until every segment is done (blocking).

        One span (``MigrationRunner.run``) holds its requests, from every thread.
        """
        with tracing.call_span("MigrationRunner.run", self.schema.table_name):
            return self._run(connection)

    def _run(self, connection: Any) -> MigrationResult:
        counts = Counts()
        if self.dry_run:
            with limiting(self.rate_limit):
                outcomes = connection.run_many(self._dry(), self.concurrency)
            for outcome in raise_first(outcomes):
                counts.add(outcome)
            return MigrationResult(self.migration.id, counts, dry_run=True)
        segments = connection.run(self._prepare())
        flows = [self._work(segments, worker) for worker in self._workers()]
        with limiting(self.rate_limit):
            outcomes = connection.run_many(flows, self.concurrency)
        for outcome in raise_first(outcomes):
            counts.add(outcome)
        applied = connection.run(self._finish())
        return MigrationResult(self.migration.id, counts, applied=applied)

    async def arun(self, connection: Any) -> MigrationResult:
        """Async twin of :meth:`run`."""
        with tracing.call_span("MigrationRunner.run", self.schema.table_name):
            return await self._arun(connection)

    async def _arun(self, connection: Any) -> MigrationResult:
        counts = Counts()
        if self.dry_run:
            with limiting(self.rate_limit):
                outcomes = await connection.arun_many(self._dry(), self.concurrency)
            for outcome in raise_first(outcomes):
                counts.add(outcome)
            return MigrationResult(self.migration.id, counts, dry_run=True)
        segments = await connection.arun(self._prepare())
        flows = [self._work(segments, worker) for worker in self._workers()]
        with limiting(self.rate_limit):
            outcomes = await connection.arun_many(flows, self.concurrency)
        for outcome in raise_first(outcomes):
            counts.add(outcome)
        applied = await connection.arun(self._finish())
        return MigrationResult(self.migration.id, counts, applied=applied)


# -- status -----------------------------------------------------------------------------


def _status_flow(
    migrations: Iterable[Migration], store: TableCheckpoints, clock: Callable[[], float]
) -> Flow[list[MigrationStatus]]:
    found: list[MigrationStatus] = []
    migrations = list(migrations)
    try:
        yield from describe_table(store.table_name)
    except ResourceNotFound:
        return [MigrationStatus(m.id, m.description, "pending") for m in migrations]
    now = clock()
    for migration in migrations:
        leases = yield from store.load(_consumer(migration.id))
        rows = {name: row for name, row in leases.shards.items() if name.startswith(_SEGMENT)}
        if _PLAN not in leases.shards:
            found.append(MigrationStatus(migration.id, migration.description, "pending"))
            continue
        segments = int(json.loads(leases.shards[_PLAN].checkpoint)["segments"])
        progress = [_Progress.load(row.checkpoint) for row in rows.values()]
        counts = Counts()
        for p in progress:
            counts.add(p.counts)
        owners = tuple(
            sorted({row.owner for row in rows.values() if row.owner and row.expires > now})
        )
        state = "applied" if _DONE in leases.shards else "running"
        found.append(
            MigrationStatus(
                migration.id,
                migration.description,
                state,
                segments,
                sum(p.done for p in progress),
                counts,
                owners,
            )
        )
    return found


def migration_status(
    migrations: Iterable[Migration],
    connection: Any,
    *,
    store: TableCheckpoints | None = None,
) -> list[MigrationStatus]:
    """Each migration's state (applied, running, pending), segments done and counts."""
    store = store or TableCheckpoints(MIGRATIONS_TABLE)
    with tracing.call_span("migration_status", store.table_name):
        flow = _status_flow(migrations, store, time.time)
        result: list[MigrationStatus] = connection.run(flow)
    return result


async def amigration_status(
    migrations: Iterable[Migration],
    connection: Any,
    *,
    store: TableCheckpoints | None = None,
) -> list[MigrationStatus]:
    """Async twin of :func:`migration_status`."""
    store = store or TableCheckpoints(MIGRATIONS_TABLE)
    with tracing.call_span("migration_status", store.table_name):
        flow = _status_flow(migrations, store, time.time)
        result: list[MigrationStatus] = await connection.arun(flow)
    return result


def run_pending(
    migrations: Iterable[Migration],
    connection: Any,
    *,
    on_start: Callable[[Migration], None] | None = None,
    **options: Any,
) -> list[MigrationResult]:
    """Run every migration not applied yet, in order, each to its end (as one worker).

    ``options`` go to :class:`MigrationRunner` (``store``, ``lease_seconds``,
    ``concurrency``, ``dry_run`` ...). ``on_start(migration)`` is called before each.
    """
    migrations = list(migrations)
    store = options.setdefault("store", TableCheckpoints(MIGRATIONS_TABLE))
    statuses = connection.run(_status_flow(migrations, store, time.time))
    return [
        MigrationRunner(migration, **options).run(connection)
        for migration in _pending(migrations, statuses, on_start)
    ]


def _pending(
    migrations: list[Migration],
    statuses: list[MigrationStatus],
    on_start: Callable[[Migration], None] | None,
) -> Iterator[Migration]:
    """The migrations not applied, in order; ``on_start`` is called as each is taken."""
    states = {status.id: status.state for status in statuses}
    for migration in migrations:
        if states.get(migration.id) != "applied":
            if on_start is not None:
                on_start(migration)
            yield migration


async def arun_pending(
    migrations: Iterable[Migration],
    connection: Any,
    *,
    on_start: Callable[[Migration], None] | None = None,
    **options: Any,
) -> list[MigrationResult]:
    """Async twin of :func:`run_pending`."""
    migrations = list(migrations)
    store = options.setdefault("store", TableCheckpoints(MIGRATIONS_TABLE))
    statuses = await connection.arun(_status_flow(migrations, store, time.time))
    return [
        await MigrationRunner(migration, **options).arun(connection)
        for migration in _pending(migrations, statuses, on_start)
    ]
