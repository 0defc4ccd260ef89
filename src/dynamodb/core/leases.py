"""Where stream readers keep their checkpoints and leases: a DynamoDB table, or memory.

A *consumer* (a group of readers of one stream) keeps one row per shard: the
shard's checkpoint (where reading resumes), its parent, and its lease (the
worker that reads it now and when that lease expires). Readers that share the
rows split the shards between them: a worker takes a free or expired lease with
a conditional write, renews it while it reads (heartbeats), and checkpoints
under the condition that it still holds it; a worker that stops renewing loses
its leases when they expire, and another takes them over from their checkpoint.
This is the Kinesis Client Library's pattern, kept in a DynamoDB table
(:class:`TableCheckpoints`). Each worker also keeps a row of its own, renewed
when it looks at the shards, so that every worker knows how many there are.

A checkpoint is a sequence number (the last record processed: reading resumes
after it), or ``"TRIM_HORIZON"`` / ``"LATEST"`` (where a shard not read yet
starts), ``"AT_SEQUENCE_NUMBER:<n>"`` (reading resumes at record ``n``: written
before the first records read from ``"LATEST"`` are delivered, so that they are
not skipped after a crash), or ``"SHARD_END"`` (the shard was read to its end).

Everything here is a flow (:mod:`dynamodb.core.flow`); expiry times are the
workers' own clocks (seconds since the epoch), which should agree to well within
a lease's length, as NTP keeps them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from dynamodb.core.codec import Item
from dynamodb.core.errors import (
    ConditionalCheckFailed,
    InvalidValue,
    ResourceInUse,
    ResourceNotFound,
)
from dynamodb.core.flow import Flow, call
from dynamodb.core.operations import WaitPolicy, describe_table, wait_until_active

__all__ = [
    "AT_SEQUENCE_NUMBER",
    "LATEST",
    "SHARD_END",
    "TRIM_HORIZON",
    "Checkpoints",
    "Lease",
    "Leases",
    "MemoryCheckpoints",
    "TableCheckpoints",
]

T = TypeVar("T")

TRIM_HORIZON = "TRIM_HORIZON"
LATEST = "LATEST"
SHARD_END = "SHARD_END"
AT_SEQUENCE_NUMBER = "AT_SEQUENCE_NUMBER:"
"""The prefix of a checkpoint that resumes *at* a record, not after it."""

_WORKER = "worker:"
"""The range key prefix of workers' own rows (shard ids start with ``shardId-``)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """One shard's row: its checkpoint, its parent, and who holds it until when."""

    shard: str
    checkpoint: str
    parent: str | None = None
    owner: str | None = None
    expires: float = 0.0

    @property
    def finished(self) -> bool:
        """Whether the shard was read to its end."""
        return self.checkpoint == SHARD_END

    def held_by_another(self, worker: str, now: float) -> bool:
        """Whether a worker other than ``worker`` holds the lease at ``now``."""
        return self.owner is not None and self.owner != worker and self.expires > now


@dataclass(frozen=True, slots=True)
class Leases:
    """What :meth:`Checkpoints.load` found: the shards' rows, and the workers' expiries."""

    shards: dict[str, Lease]
    workers: dict[str, float]


class Checkpoints(Protocol):
    """Where a stream reader keeps checkpoints and leases (every method is a flow).

    ``consumer`` names one group of readers of one stream. Writes that depend on
    holding a lease return False when the worker does not hold it (any more).
    """

    def prepare(self) -> Flow[None]:
        """Make the store ready (create its table when missing)."""
        ...

    def load(self, consumer: str) -> Flow[Leases]:
        """Every row of ``consumer``, read consistently."""
        ...

    def add(self, consumer: str, lease: Lease) -> Flow[bool]:
        """Add a shard's row unless it exists; False if it did."""
        ...

    def acquire(
        self, consumer: str, shard: str, worker: str, expires: float, now: float
    ) -> Flow[Lease | None]:
        """Take the lease if it is free, expired at ``now`` or ``worker``'s; the row, or None."""
        ...

    def renew(self, consumer: str, shard: str, worker: str, expires: float) -> Flow[bool]:
        """Move the lease's expiry to ``expires``, if ``worker`` holds it."""
        ...

    def save(
        self, consumer: str, shard: str, worker: str, checkpoint: str, expires: float
    ) -> Flow[bool]:
        """Write the checkpoint (and renew the lease), if ``worker`` holds it.

        ``SHARD_END`` also gives the lease up: nobody needs to read the shard again.
        """
        ...

    def release(self, consumer: str, shard: str, worker: str) -> Flow[None]:
        """Give the lease up, if ``worker`` holds it."""
        ...

    def register(self, consumer: str, worker: str, expires: float) -> Flow[None]:
        """Write ``worker``'s own row, alive until ``expires``."""
        ...

    def unregister(self, consumer: str, worker: str) -> Flow[None]:
        """Remove ``worker``'s own row."""
        ...

    def forget(self, consumer: str, shard: str) -> Flow[None]:
        """Remove a finished shard's row (its shard is gone from the stream)."""
        ...


def _now(value: T) -> Flow[T]:
    """A flow that returns ``value`` at once (for stores that send nothing)."""
    return value
    yield  # a generator function, without a step


class TableCheckpoints:
    """Checkpoints and leases in a DynamoDB table, created when missing.

    ``TableCheckpoints("stream_checkpoints")``: the table has a hash key
    ``consumer`` (the group of readers and the stream's ARN) and a range key
    ``shard``, and is billed per request. Readers that share it and their
    group split the stream's shards through leases, and a reader restarted
    with it resumes after its last checkpoint. The table is reached with the
    stream reader's connection.
    """

    def __init__(self, table_name: str = "stream_checkpoints", *, wait: WaitPolicy | None = None):
        if not isinstance(table_name, str) or not 3 <= len(table_name) <= 255:
            raise InvalidValue(
                f"TableCheckpoints: the table name must be a string of 3 to 255 characters, "
                f"not {table_name!r}"
            )
        self.table_name = table_name
        self.wait = wait

    def __repr__(self) -> str:
        return f"TableCheckpoints({self.table_name!r})"

    # -- the table ---------------------------------------------------------------

    def create_table_request(self) -> dict[str, Any]:
        """The CreateTable request of the checkpoint table."""
        return {
            "TableName": self.table_name,
            "KeySchema": [
                {"AttributeName": "consumer", "KeyType": "HASH"},
                {"AttributeName": "shard", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "consumer", "AttributeType": "S"},
                {"AttributeName": "shard", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }

    def prepare(self) -> Flow[None]:
        """Create the table if it is missing, and wait until it is ACTIVE."""
        try:
            description = yield from describe_table(self.table_name)
        except ResourceNotFound:
            with contextlib.suppress(ResourceInUse):  # another reader is creating it
                yield from call("CreateTable", self.create_table_request())
            description = {}
        if description.get("TableStatus") != "ACTIVE":
            yield from wait_until_active(self.table_name, self.wait)

    # -- rows --------------------------------------------------------------------------

    def _key(self, consumer: str, shard: str) -> Item:
        return {"consumer": {"S": consumer}, "shard": {"S": shard}}

    def _update(
        self,
        consumer: str,
        shard: str,
        expression: str,
        condition: str,
        values: dict[str, Any],
        all_new: bool = False,
    ) -> Flow[Item | None]:
        """An UpdateItem; the new row (``all_new``) or {}; None when the condition failed.

        Sending it twice is harmless: each condition holds again for the worker
        whose write was applied, or fails as it would have.
        """
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(consumer, shard),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {
                name: attribute
                for name, attribute in _NAMES.items()
                if name in expression or name in condition
            },
        }
        if values:
            request["ExpressionAttributeValues"] = values
        if all_new:
            request["ReturnValues"] = "ALL_NEW"
        try:
            response = yield from call("UpdateItem", request, idempotent=True)
        except ConditionalCheckFailed:
            return None
        attributes: Item = response.get("Attributes") or {}
        return attributes

    def load(self, consumer: str) -> Flow[Leases]:
        """Every row of ``consumer`` (a consistent, paged Query)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": "consumer"},
            "ExpressionAttributeValues": {":k": {"S": consumer}},
            "ConsistentRead": True,
        }
        shards: dict[str, Lease] = {}
        workers: dict[str, float] = {}
        while True:
            response = yield from call("Query", request)
            for row in response.get("Items", []):
                key = row["shard"]["S"]
                if key.startswith(_WORKER):
                    workers[key[len(_WORKER) :]] = float(row.get("expires", {}).get("N", "0"))
                else:
                    shards[key] = _lease_of(row)
            last = response.get("LastEvaluatedKey")
            if not last:
                return Leases(shards, workers)
            request = {**request, "ExclusiveStartKey": last}

    def add(self, consumer: str, lease: Lease) -> Flow[bool]:
        """Add a shard's row unless it exists (PutItem, attribute_not_exists)."""
        item: Item = {**self._key(consumer, lease.shard), "checkpoint": {"S": lease.checkpoint}}
        if lease.parent is not None:
            item["parent"] = {"S": lease.parent}
        request = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#s)",
            "ExpressionAttributeNames": {"#s": "shard"},
        }
        try:
            yield from call("PutItem", request)
        except ConditionalCheckFailed:
            return False
        return True

    def acquire(
        self, consumer: str, shard: str, worker: str, expires: float, now: float
    ) -> Flow[Lease | None]:
        """Take the lease: free, expired at ``now``, or ``worker``'s already."""
        row = yield from self._update(
            consumer,
            shard,
            "SET #o = :me, #e = :e",
            "attribute_exists(#c) AND (attribute_not_exists(#o) OR #o = :me OR #e < :now)",
            {":me": {"S": worker}, ":e": _number(expires), ":now": _number(now)},
            all_new=True,
        )
        return None if row is None else _lease_of(row)

    def renew(self, consumer: str, shard: str, worker: str, expires: float) -> Flow[bool]:
        """Move the expiry, if ``worker`` holds the lease."""
        row = yield from self._update(
            consumer,
            shard,
            "SET #e = :e",
            "#o = :me",
            {":me": {"S": worker}, ":e": _number(expires)},
        )
        return row is not None

    def save(
        self, consumer: str, shard: str, worker: str, checkpoint: str, expires: float
    ) -> Flow[bool]:
        """Write the checkpoint and renew the lease (``SHARD_END``: and give it up)."""
        values = {":me": {"S": worker}, ":c": {"S": checkpoint}}
        if checkpoint == SHARD_END:
            expression = "SET #c = :c, #e = :zero REMOVE #o"
            values[":zero"] = _number(0)
        else:
            expression = "SET #c = :c, #e = :e"
            values[":e"] = _number(expires)
        row = yield from self._update(consumer, shard, expression, "#o = :me", values)
        return row is not None

    def release(self, consumer: str, shard: str, worker: str) -> Flow[None]:
        """Give the lease up, if ``worker`` holds it."""
        yield from self._update(
            consumer,
            shard,
            "SET #e = :zero REMOVE #o",
            "#o = :me",
            {":me": {"S": worker}, ":zero": _number(0)},
        )

    def register(self, consumer: str, worker: str, expires: float) -> Flow[None]:
        """Write the worker's own row (PutItem)."""
        item = {**self._key(consumer, _WORKER + worker), "expires": _number(expires)}
        yield from call("PutItem", {"TableName": self.table_name, "Item": item})

    def unregister(self, consumer: str, worker: str) -> Flow[None]:
        """Remove the worker's own row."""
        key = self._key(consumer, _WORKER + worker)
        yield from call("DeleteItem", {"TableName": self.table_name, "Key": key})

    def forget(self, consumer: str, shard: str) -> Flow[None]:
        """Remove a finished shard's row."""
        request = {
            "TableName": self.table_name,
            "Key": self._key(consumer, shard),
            "ConditionExpression": "#c = :end",
            "ExpressionAttributeNames": {"#c": "checkpoint"},
            "ExpressionAttributeValues": {":end": {"S": SHARD_END}},
        }
        with contextlib.suppress(ConditionalCheckFailed):  # not finished: kept
            yield from call("DeleteItem", request, idempotent=True)


_NAMES = {"#o": "owner", "#e": "expires", "#c": "checkpoint"}


def _number(value: float) -> dict[str, str]:
    return {"N": f"{value:.3f}"}


def _lease_of(row: Item) -> Lease:
    def text(name: str) -> str | None:
        value = row.get(name)
        return None if value is None else str(value["S"])

    return Lease(
        shard=row["shard"]["S"],
        checkpoint=text("checkpoint") or TRIM_HORIZON,
        parent=text("parent"),
        owner=text("owner"),
        expires=float(row.get("expires", {}).get("N", "0")),
    )


class MemoryCheckpoints:
    """Checkpoints and leases kept in this process (the default of a stream reader).

    A reader given none keeps its checkpoints only while it runs. Given a
    ``MemoryCheckpoints()`` of its own, a new reader in the same process resumes
    where an earlier one (of the same group) stopped. Thread-safe.
    """

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Lease]] = {}
        self._workers: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "MemoryCheckpoints()"

    def _of(self, consumer: str) -> dict[str, Lease]:
        return self._rows.setdefault(consumer, {})

    def prepare(self) -> Flow[None]:
        """Nothing to prepare."""
        return _now(None)

    def load(self, consumer: str) -> Flow[Leases]:
        """Every row of ``consumer``."""
        with self._lock:
            found = Leases(dict(self._of(consumer)), dict(self._workers.get(consumer, {})))
        return _now(found)

    def add(self, consumer: str, lease: Lease) -> Flow[bool]:
        """Add a shard's row unless it exists."""
        with self._lock:
            rows = self._of(consumer)
            added = lease.shard not in rows
            if added:
                rows[lease.shard] = lease
        return _now(added)

    def _change(self, consumer: str, shard: str, worker: str, **changes: Any) -> bool:
        with self._lock:
            rows = self._of(consumer)
            lease = rows.get(shard)
            if lease is None or lease.owner != worker:
                return False
            rows[shard] = replace(lease, **changes)
            return True

    def acquire(
        self, consumer: str, shard: str, worker: str, expires: float, now: float
    ) -> Flow[Lease | None]:
        """Take the lease if it is free, expired or ``worker``'s."""
        with self._lock:
            rows = self._of(consumer)
            lease = rows.get(shard)
            taken: Lease | None = None
            if lease is not None and not lease.held_by_another(worker, now):
                taken = rows[shard] = replace(lease, owner=worker, expires=expires)
        return _now(taken)

    def renew(self, consumer: str, shard: str, worker: str, expires: float) -> Flow[bool]:
        """Move the expiry, if ``worker`` holds the lease."""
        return _now(self._change(consumer, shard, worker, expires=expires))

    def save(
        self, consumer: str, shard: str, worker: str, checkpoint: str, expires: float
    ) -> Flow[bool]:
        """Write the checkpoint, if ``worker`` holds the lease (``SHARD_END``: give it up)."""
        if checkpoint == SHARD_END:
            done = self._change(consumer, shard, worker, checkpoint=checkpoint, owner=None)
        else:
            done = self._change(consumer, shard, worker, checkpoint=checkpoint, expires=expires)
        return _now(done)

    def release(self, consumer: str, shard: str, worker: str) -> Flow[None]:
        """Give the lease up, if ``worker`` holds it."""
        self._change(consumer, shard, worker, owner=None, expires=0.0)
        return _now(None)

    def register(self, consumer: str, worker: str, expires: float) -> Flow[None]:
        """Note the worker as alive until ``expires``."""
        with self._lock:
            self._workers.setdefault(consumer, {})[worker] = expires
        return _now(None)

    def unregister(self, consumer: str, worker: str) -> Flow[None]:
        """Forget the worker."""
        with self._lock:
            self._workers.get(consumer, {}).pop(worker, None)
        return _now(None)

    def forget(self, consumer: str, shard: str) -> Flow[None]:
        """Remove a finished shard's row."""
        with self._lock:
            rows = self._of(consumer)
            if shard in rows and rows[shard].finished:
                del rows[shard]
        return _now(None)

    def __iter__(self) -> Iterator[tuple[str, Lease]]:
        """``(consumer, row)`` for every shard row (to look at, in tests)."""
        with self._lock:
            return iter(
                [(consumer, row) for consumer, rows in self._rows.items() for row in rows.values()]
            )
