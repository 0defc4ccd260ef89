"""DynamoDB Streams, pure: stream records, shards in order, and a reading session.

A table's stream is split into *shards*. A shard holds the records of some of
the table's items in order, and is closed after a while (or when it splits),
its records then continuing in its child shards; a stream keeps records for 24
hours. :class:`StreamSession` reads a stream as flows (:mod:`dynamodb.core.flow`):

- every shard is read, a parent shard to its end before its children, the
  records of one shard strictly in order; closed shards are drained, and shards
  that appear while it runs are found when it looks at the stream again;
- it takes the leases of its share of the shards (:mod:`dynamodb.core.leases`),
  renews them while it reads, and gives them up when it stops;
- :meth:`StreamSession.next_batch` returns one shard's records (one GetRecords),
  and sleeps, with growing delays, while there is nothing to read;
  :meth:`StreamSession.acknowledge` checkpoints a batch once it was processed.

The records are parsed into :class:`StreamRecord` values; the model layer turns
them into typed changes.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from dynamodb.core.codec import AttributeValue, Item
from dynamodb.core.errors import (
    ExpiredIterator,
    InvalidValue,
    LeaseLost,
    LimitExceeded,
    ResourceNotFound,
    StreamNotEnabled,
    ThrottlingError,
    TrimmedDataAccess,
)
from dynamodb.core.flow import Flow, call, sleep
from dynamodb.core.leases import (
    AT_SEQUENCE_NUMBER,
    LATEST,
    SHARD_END,
    TRIM_HORIZON,
    Checkpoints,
    Lease,
    Leases,
)

__all__ = [
    "STREAM_VIEWS",
    "Batch",
    "LeasePlan",
    "Shard",
    "StreamDescription",
    "StreamRecord",
    "StreamSession",
    "check_settings",
    "decode_base64_binary",
    "describe_stream",
    "order_shards",
    "parse_record",
    "plan_leases",
    "stream_of_table",
]

_logger = logging.getLogger("dynamodb.streams")

STREAM_VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
"""What a stream's records hold: the keys only, or the item after, before, or both."""

_EVENT_NAMES = {"INSERT", "MODIFY", "REMOVE"}
_LOCAL_TTL_EVENT = "UNKNOWN_TO_SDK_VERSION"
"""DynamoDB Local's eventName for deletions by TTL (AWS sends REMOVE and a userIdentity)."""

_MAX_IDLE_SLEEP = 1.0
_FIRST_IDLE_SLEEP = 0.05


# -- records ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One change of one item, as the stream has it (images in wire form)."""

    event_name: str
    """``"INSERT"``, ``"MODIFY"`` or ``"REMOVE"``."""
    keys: Item
    new_image: Item | None
    old_image: Item | None
    sequence_number: str
    created: datetime
    """ApproximateCreationDateTime, aware UTC."""
    by_ttl: bool
    """Whether DynamoDB's TTL deleted the item."""
    event_id: str = ""
    shard_id: str | None = None
    size_bytes: int = 0


def parse_record(
    raw: Mapping[str, Any], shard_id: str | None = None, *, base64_binary: bool = False
) -> StreamRecord:
    """A record of GetRecords (or of a Lambda event: ``base64_binary=True``).

    GetRecords parsed by botocore gives the creation time as a datetime, the
    raw answer (and Lambda) as seconds since the epoch; both are read. A
    Lambda event holds binary values as base64 text: ``base64_binary`` decodes
    them. DynamoDB Local names deletions by TTL ``UNKNOWN_TO_SDK_VERSION`` and
    gives no userIdentity; they are read as TTL removals.
    """
    try:
        body: Mapping[str, Any] = raw["dynamodb"]
        name = str(raw["eventName"])
        sequence = str(body["SequenceNumber"])
    except (KeyError, TypeError) as error:
        raise InvalidValue(
            f"not a DynamoDB stream record (no {error}): {dict(raw)!r:.300}"
        ) from None
    identity = raw.get("userIdentity") or {}
    by_ttl = (
        identity.get("type") == "Service"
        and identity.get("principalId") == "dynamodb.amazonaws.com"
    )
    if name == _LOCAL_TTL_EVENT:
        name, by_ttl = "REMOVE", True
    if name not in _EVENT_NAMES:
        raise InvalidValue(f"stream record {sequence}: unknown eventName {name!r}")

    def image(key: str) -> Item | None:
        found = body.get(key)
        if found is None:
            return None
        return decode_base64_binary(found) if base64_binary else dict(found)

    keys = image("Keys") or {}
    return StreamRecord(
        event_name=name,
        keys=keys,
        new_image=image("NewImage"),
        old_image=image("OldImage"),
        sequence_number=sequence,
        created=_aware_utc(body.get("ApproximateCreationDateTime")),
        by_ttl=by_ttl,
        event_id=str(raw.get("eventID", "")),
        shard_id=shard_id,
        size_bytes=int(body.get("SizeBytes", 0)),
    )


def _aware_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return (
            value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        )
    if value is None:
        return datetime.fromtimestamp(0, timezone.utc)
    return datetime.fromtimestamp(float(value), timezone.utc)


def decode_base64_binary(item: Mapping[str, AttributeValue]) -> Item:
    """``item`` with its binary values (``B``, ``BS``, nested too) decoded from base64 text."""
    return {name: _decoded(value) for name, value in item.items()}


def _decoded(value: AttributeValue) -> AttributeValue:
    if "B" in value and isinstance(value["B"], str):
        return {"B": base64.b64decode(value["B"])}
    if "BS" in value:
        return {"BS": [base64.b64decode(m) if isinstance(m, str) else m for m in value["BS"]]}
    if "M" in value:
        return {"M": decode_base64_binary(value["M"])}
    if "L" in value:
        return {"L": [_decoded(member) for member in value["L"]]}
    return dict(value)


# -- streams and shards ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shard:
    """One shard of a stream: its parent, and whether it is closed (no records added)."""

    shard_id: str
    parent: str | None = None
    closed: bool = False


@dataclass(frozen=True, slots=True)
class StreamDescription:
    """DescribeStream's answer, every page: status, view and shards (parents first)."""

    arn: str
    status: str
    view_type: str
    shards: tuple[Shard, ...]


def stream_of_table(table: str, readers: str = "") -> Flow[str]:
    """The ARN of the table's stream (DescribeTable); StreamNotEnabled if it has none.

    ``readers`` names the models reading it, for the error's message.
    """
    description = yield from call("DescribeTable", {"TableName": table})
    table_description = description["Table"]
    specification = table_description.get("StreamSpecification") or {}
    arn = table_description.get("LatestStreamArn")
    if not specification.get("StreamEnabled") or not arn:
        who = f" (model {readers})" if readers else ""
        raise StreamNotEnabled(
            f"table {table}{who} has no stream enabled: set __stream__ = "
            f'"NEW_AND_OLD_IMAGES" (or "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE") on the model '
            "and run Table(Model).update() (or create_table)"
        )
    return str(arn)


def describe_stream(arn: str) -> Flow[StreamDescription]:
    """DescribeStream, every page of shards; the shards ordered parents first."""
    request: dict[str, Any] = {"StreamArn": arn}
    shards: list[Shard] = []
    while True:
        response = yield from call("DescribeStream", request)
        description = response["StreamDescription"]
        for raw in description.get("Shards", []):
            ending = (raw.get("SequenceNumberRange") or {}).get("EndingSequenceNumber")
            shards.append(Shard(raw["ShardId"], raw.get("ParentShardId"), ending is not None))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return StreamDescription(
                arn,
                str(description.get("StreamStatus", "ENABLED")),
                str(description.get("StreamViewType", "")),
                tuple(order_shards(shards)),
            )
        request = {"StreamArn": arn, "ExclusiveStartShardId": last}


def order_shards(shards: Iterable[Shard]) -> list[Shard]:
    """``shards`` with every parent before its children (else in the order given).

    A shard whose parent is not among them (trimmed from the stream) comes first
    among its siblings, as a root.
    """
    given = list({shard.shard_id: shard for shard in shards}.values())
    known = {shard.shard_id for shard in given}
    children: dict[str | None, list[Shard]] = {}
    for shard in given:
        parent = shard.parent if shard.parent in known else None
        children.setdefault(parent, []).append(shard)
    ordered: list[Shard] = []
    pending = deque(children.get(None, []))
    while pending:
        shard = pending.popleft()
        ordered.append(shard)
        pending.extend(children.get(shard.shard_id, []))
    return ordered


# -- leases ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeasePlan:
    """What a worker does with leases after looking at the stream."""

    take: tuple[str, ...]
    """Free or expired shards to take, in order."""
    release: tuple[str, ...]
    """Shards it holds beyond its share, to give up."""
    readable: tuple[str, ...]
    """Every shard that can be read now (not finished; its parent finished)."""


def plan_leases(
    shards: Sequence[Shard],
    leases: Leases,
    worker: str,
    held: Iterable[str],
    now: float,
) -> LeasePlan:
    """Which leases ``worker`` (holding ``held``) takes and gives up, at ``now``.

    A shard can be read once its row exists, it is not finished, and its parent
    is finished (or gone from the stream, or none). Each live worker's share is
    the readable shards divided by the live workers, rounded up: a worker below
    it takes free or expired leases, one above it gives the extra ones up (after
    its last checkpoint: nothing is read twice) for the others to take.
    """
    rows = leases.shards
    listed = {shard.shard_id for shard in shards}

    def parent_done(shard: Shard) -> bool:
        if shard.parent is None or shard.parent not in listed:
            return True
        parent = rows.get(shard.parent)
        return parent is not None and parent.finished

    readable = [
        shard.shard_id
        for shard in shards
        if shard.shard_id in rows and not rows[shard.shard_id].finished and parent_done(shard)
    ]
    alive = {name for name, expires in leases.workers.items() if expires > now} | {worker}
    share = math.ceil(len(readable) / len(alive)) if readable else 0
    holding = set(held)
    mine = [shard for shard in readable if shard in holding]
    free = [
        shard
        for shard in readable
        if shard not in mine and not rows[shard].held_by_another(worker, now)
    ]
    take = free[: max(0, share - len(mine))]
    release = mine[share:] if len(mine) > share else []
    return LeasePlan(tuple(take), tuple(release), tuple(readable))


# -- reading ------------------------------------------------------------------------------


def check_settings(
    *,
    start: Any = "trim_horizon",
    lease_seconds: Any = 10.0,
    batch_size: Any = 1000,
    where: str = "",
) -> None:
    """InvalidValue (its message beginning with ``where``) for a setting a session refuses."""
    prefix = f"{where}: " if where else ""
    if start not in ("trim_horizon", "latest"):
        raise InvalidValue(f'{prefix}start is "trim_horizon" or "latest", not {start!r}')
    number = not isinstance(lease_seconds, bool) and isinstance(lease_seconds, (int, float))
    if not number or not lease_seconds > 0:
        raise InvalidValue(
            f"{prefix}lease_seconds must be a positive number, not {lease_seconds!r}"
        )
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or not 1 <= batch_size <= 1000
    ):
        raise InvalidValue(f"{prefix}batch_size is 1 to 1000 records, not {batch_size!r}")


@dataclass(frozen=True, slots=True)
class Batch:
    """The records of one GetRecords call: one shard's, in order."""

    shard_id: str
    records: tuple[StreamRecord, ...]


@dataclass
class _Reading:
    """A shard this session holds: where it reads, and its iterator."""

    shard_id: str
    checkpoint: str
    """The last checkpoint (written, or only kept here when the reader checkpoints by hand)."""
    iterator: str | None = None
    fetched: str | None = None
    """The sequence number of the last record read (the iterator is just after it)."""
    ended: bool = False
    """GetRecords gave no next iterator: once its records are processed, the shard is done."""
    renewed: float = 0.0


class StreamSession:
    """Reads one stream for one worker of a consumer: leases, batches, checkpoints.

    ``start`` (``"trim_horizon"`` or ``"latest"``) says where shards without a
    checkpoint begin, the first time the consumer reads the stream; shards that
    appear later are read from their beginning. ``idle_limit`` ends
    :meth:`next_batch` (it returns None) after so many seconds without records.
    ``clock`` gives the time (seconds since the epoch) leases expire by.
    """

    def __init__(
        self,
        arn: str,
        consumer: str,
        store: Checkpoints,
        worker: str,
        *,
        lease_seconds: float = 10.0,
        start: str = "trim_horizon",
        batch_size: int = 1000,
        idle_limit: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_settings(start=start, lease_seconds=lease_seconds, batch_size=batch_size)
        self.arn = arn
        self.consumer = consumer
        self.store = store
        self.worker = worker
        self.lease_seconds = float(lease_seconds)
        self.start = start
        self.batch_size = batch_size
        self.idle_limit = idle_limit
        self.clock = clock
        self._held: dict[str, _Reading] = {}
        self._shards: tuple[Shard, ...] = ()
        self._status = "ENABLED"
        self._finished: set[str] = set()
        self._next_sync = 0.0
        self._turn = 0  # where the next round over the held shards begins
        self._idle_sleep = _FIRST_IDLE_SLEEP
        self._last_records: float | None = None
        self._started = False

    def __repr__(self) -> str:
        return f"<StreamSession {self.arn} worker={self.worker!r} holding {sorted(self._held)}>"

    @property
    def held(self) -> tuple[str, ...]:
        """The shards this session holds now."""
        return tuple(self._held)

    # -- looking at the stream --------------------------------------------------------

    def _sync_interval(self) -> float:
        return self.lease_seconds / 2

    def _sync(self) -> Flow[None]:
        """Look at the stream and the leases: add rows for new shards, take and give up."""
        now = self.clock()
        if not self._started:
            yield from self.store.prepare()
            self._started = True
            self._last_records = now
        try:
            description = yield from describe_stream(self.arn)
        except (ThrottlingError, LimitExceeded):  # DescribeStream's rate is per account
            self._next_sync = now + self._sync_interval()
            return
        self._shards, self._status = description.shards, description.status
        yield from self.store.register(self.consumer, self.worker, now + 2 * self.lease_seconds)
        leases = yield from self.store.load(self.consumer)
        first = not leases.shards
        missing = [shard for shard in self._shards if shard.shard_id not in leases.shards]
        for shard in missing:
            checkpoint = self._initial_checkpoint(shard, first)
            yield from self.store.add(
                self.consumer, Lease(shard.shard_id, checkpoint, shard.parent)
            )
        if missing:  # read again: another worker may have added some first
            leases = yield from self.store.load(self.consumer)
        listed = {shard.shard_id for shard in self._shards}
        for shard_id, row in leases.shards.items():
            if row.finished and shard_id not in listed:
                yield from self.store.forget(self.consumer, shard_id)
        self._finished = {shard_id for shard_id, row in leases.shards.items() if row.finished}
        for shard_id in list(self._held):
            current = leases.shards.get(shard_id)
            if current is None or current.owner != self.worker:
                self._lose(shard_id)
        plan = plan_leases(self._shards, leases, self.worker, self._held, now)
        for shard_id in plan.release:
            yield from self.store.release(self.consumer, shard_id, self.worker)
            del self._held[shard_id]
        for shard_id in plan.take:
            got = yield from self.store.acquire(
                self.consumer, shard_id, self.worker, now + self.lease_seconds, now
            )
            if got is not None:
                self._held[shard_id] = _Reading(shard_id, got.checkpoint, renewed=now)
        self._next_sync = now + self._sync_interval()

    def _initial_checkpoint(self, shard: Shard, first: bool) -> str:
        if self.start == "trim_horizon" or not first:
            return TRIM_HORIZON
        # "latest", the first time: closed shards hold nothing new; open ones start now.
        return SHARD_END if shard.closed else LATEST

    def _lose(self, shard_id: str) -> None:
        if self._held.pop(shard_id, None) is not None:
            _logger.info("stream %s: shard %s is read by another worker now", self.arn, shard_id)

    def _ended(self) -> bool:
        """Whether the stream is disabled and every shard of it read to its end."""
        if self._status not in ("DISABLED", "DISABLING"):
            return False
        return all(shard.shard_id in self._finished for shard in self._shards)

    # -- reading ----------------------------------------------------------------------------

    def next_batch(self) -> Flow[Batch | None]:
        """The next shard's records; sleeps while there are none; None when done.

        Done means: the stream is disabled and read to its end, or ``idle_limit``
        seconds passed without records. The held shards take turns.
        """
        while True:
            if not self._started or self.clock() >= self._next_sync:
                yield from self._sync()
            yield from self.renew()
            if self._ended():
                return None
            order = list(self._held)
            if order:
                first = self._turn % len(order)
                order = order[first:] + order[:first]
            for index, shard_id in enumerate(order):
                reading = self._held.get(shard_id)
                if reading is None:
                    continue
                records = yield from self._read(reading)
                if records:
                    self._turn += index + 1
                    self._idle_sleep = _FIRST_IDLE_SLEEP
                    self._last_records = self.clock()
                    return Batch(shard_id, records)
                if self._next_sync == 0.0:
                    break  # a shard was read to its end: look for its children first
            now = self.clock()
            if self._idle_expired(now):
                return None
            if self._next_sync > 0.0:
                yield from sleep(self._sleep_for(now))

    def _idle_expired(self, now: float) -> bool:
        if self.idle_limit is None or self._last_records is None:
            return False
        return now - self._last_records >= self.idle_limit

    def _sleep_for(self, now: float) -> float:
        """How long to wait for records: growing, but never past a sync or the idle limit."""
        delay = min(self._idle_sleep, _MAX_IDLE_SLEEP, self.lease_seconds / 3)
        delay = min(delay, self._next_sync - now + 0.001)
        if self.idle_limit is not None and self._last_records is not None:
            delay = min(delay, self._last_records + self.idle_limit - now + 0.001)
        self._idle_sleep = min(self._idle_sleep * 2, _MAX_IDLE_SLEEP)
        return max(0.0, delay)

    def _read(self, reading: _Reading) -> Flow[tuple[StreamRecord, ...]]:
        """One GetRecords of a held shard (its records, or none)."""
        if reading.ended and reading.iterator is None:
            yield from self._finish(reading)
            return ()
        if reading.iterator is None:
            reading.iterator = yield from self._iterator(reading)
            if reading.iterator is None:
                return ()
        try:
            response = yield from call(
                "GetRecords", {"ShardIterator": reading.iterator, "Limit": self.batch_size}
            )
        except ExpiredIterator:
            reading.iterator = None  # a new one next time, from the same place
            return ()
        except TrimmedDataAccess:
            self._trimmed(reading)
            return ()
        except (ThrottlingError, LimitExceeded):
            return ()  # the idle backoff slows down
        except ResourceNotFound:
            _logger.warning("stream %s: shard %s is gone", self.arn, reading.shard_id)
            yield from self._finish(reading)
            return ()
        records = tuple(parse_record(raw, reading.shard_id) for raw in response.get("Records", []))
        reading.iterator = response.get("NextShardIterator")
        if reading.iterator is None:
            reading.ended = True
        if not records:
            if reading.ended:
                yield from self._finish(reading)
            return ()
        if reading.checkpoint == LATEST:
            # Until they are processed, a restart must not skip these (LATEST would).
            checkpoint = AT_SEQUENCE_NUMBER + records[0].sequence_number
            if not (yield from self._save(reading, checkpoint)):
                return ()
        reading.fetched = records[-1].sequence_number
        return records

    def _iterator(self, reading: _Reading) -> Flow[str | None]:
        """A shard iterator for where ``reading`` resumes (None: the shard is done or gone)."""
        request: dict[str, Any] = {"StreamArn": self.arn, "ShardId": reading.shard_id}
        position = reading.fetched or reading.checkpoint
        if position in (TRIM_HORIZON, LATEST):
            request["ShardIteratorType"] = position
        elif position.startswith(AT_SEQUENCE_NUMBER):
            request["ShardIteratorType"] = "AT_SEQUENCE_NUMBER"
            request["SequenceNumber"] = position[len(AT_SEQUENCE_NUMBER) :]
        elif position == SHARD_END:
            yield from self._finish(reading)
            return None
        else:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = position
        try:
            response = yield from call("GetShardIterator", request)
        except TrimmedDataAccess:
            self._trimmed(reading)
            return None
        except ResourceNotFound:
            _logger.warning("stream %s: shard %s is gone", self.arn, reading.shard_id)
            yield from self._finish(reading)
            return None
        iterator = response.get("ShardIterator")
        if iterator is None:  # a closed shard read to its end
            reading.ended = True
            yield from self._finish(reading)
        return iterator if isinstance(iterator, str) else None

    def _trimmed(self, reading: _Reading) -> None:
        _logger.warning(
            "stream %s: shard %s was trimmed past its checkpoint %s (records older than 24 "
            "hours are gone); reading on from the oldest record kept",
            self.arn,
            reading.shard_id,
            reading.fetched or reading.checkpoint,
        )
        reading.checkpoint, reading.fetched, reading.iterator = TRIM_HORIZON, None, None

    def _finish(self, reading: _Reading) -> Flow[None]:
        """The shard is read to its end: say so, and look at the stream again (children)."""
        if (yield from self._save(reading, SHARD_END)):
            self._finished.add(reading.shard_id)
        self._held.pop(reading.shard_id, None)
        self._next_sync = 0.0

    def _save(self, reading: _Reading, checkpoint: str) -> Flow[bool]:
        now = self.clock()
        saved = yield from self.store.save(
            self.consumer, reading.shard_id, self.worker, checkpoint, now + self.lease_seconds
        )
        if not saved:
            self._lose(reading.shard_id)
            return False
        reading.checkpoint, reading.renewed = checkpoint, now
        return True

    # -- checkpoints and leases ----------------------------------------------------------

    def acknowledge(
        self, batch: Batch, upto: StreamRecord | None = None, *, write: bool = True
    ) -> Flow[bool]:
        """``batch`` was processed (up to ``upto``, else whole): checkpoint it.

        With ``write=False`` the place is only kept here (the reader checkpoints
        by hand). False if the shard's lease was lost meanwhile (its records are
        delivered again, to the worker that holds it now).
        """
        reading = self._held.get(batch.shard_id)
        if reading is None or not batch.records:
            return False
        last = (upto or batch.records[-1]).sequence_number
        if upto is not None and upto is not batch.records[-1]:
            reading.fetched, reading.iterator, reading.ended = last, None, False
        if not write:
            reading.checkpoint = last
            return True
        return (yield from self._save(reading, last))

    def checkpoint(self, shard_id: str, sequence_number: str) -> Flow[None]:
        """Checkpoint one record by hand; LeaseLost if another worker holds its shard."""
        reading = self._held.get(shard_id)
        if reading is None or not (yield from self._save(reading, sequence_number)):
            raise LeaseLost(
                f"stream {self.arn}: shard {shard_id} is read by another worker now; the "
                f"checkpoint {sequence_number} was not written, and the records after the "
                "last checkpoint are delivered to that worker again"
            )

    def renewal_due(self) -> bool:
        """Whether a held lease should be renewed now (cheap: no request)."""
        due = self.clock() - self.lease_seconds / 3
        return any(reading.renewed <= due for reading in self._held.values())

    def renew(self) -> Flow[set[str]]:
        """Renew the leases that are due; the shards whose leases were lost."""
        lost: set[str] = set()
        if not self.renewal_due():
            return lost
        now = self.clock()
        for reading in list(self._held.values()):
            if reading.renewed > now - self.lease_seconds / 3:
                continue
            expires = now + self.lease_seconds
            if (yield from self.store.renew(self.consumer, reading.shard_id, self.worker, expires)):
                reading.renewed = now
            else:
                lost.add(reading.shard_id)
                self._lose(reading.shard_id)
        return lost

    def release(self) -> Flow[None]:
        """Give every lease up, and the worker's row (the reader stops)."""
        for shard_id in list(self._held):
            del self._held[shard_id]
            yield from self.store.release(self.consumer, shard_id, self.worker)
        if self._started:
            yield from self.store.unregister(self.consumer, self.worker)
