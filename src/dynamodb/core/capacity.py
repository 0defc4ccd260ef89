"""Consumed capacity: what DynamoDB says each answer cost, added up, and priced.

Every request that can report its cost asks for it (``ReturnConsumedCapacity``,
added at the edge by :class:`dynamodb.Connection`), and every answer's
``ConsumedCapacity`` (one dict, or a list for batches and transactions) is read
by :func:`consumed_of` into :class:`Consumed` records. A :class:`Capacity` adds
records up: read and write units in all, by table, by index and by operation,
and what they cost at on-demand prices (:class:`Prices`; us-east-1 by default).

``with dynamodb.capacity() as cap:`` collects every request made in the block,
in its thread or task and in the threads and tasks it starts (batches, parallel
scans, ``asyncio.gather``): the collectors in effect are a ContextVar, which
:meth:`Connection.run_many` threads, parallel-scan threads and asyncio tasks copy.

Pure: no I/O; adding to a Capacity is thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "CAPACITY_OPERATIONS",
    "ON_DEMAND_US_EAST_1",
    "READ_OPERATIONS",
    "WRITE_OPERATIONS",
    "Capacity",
    "Consumed",
    "Prices",
    "Units",
    "active_collectors",
    "capacity",
    "collecting",
    "consumed_of",
    "kind_of",
    "wants_indexes",
]

READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
"""Operations whose units are read units."""

WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
"""Operations whose units are write units."""

_PARTIQL = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})

CAPACITY_OPERATIONS = READ_OPERATIONS | WRITE_OPERATIONS | _PARTIQL
"""The operations that take ``ReturnConsumedCapacity``."""


@dataclass(frozen=True, slots=True)
class Units:
    """Read and write capacity units (request units, in on-demand mode)."""

    read_units: float = 0.0
    write_units: float = 0.0

    def __add__(self, other: Units) -> Units:
        return Units(self.read_units + other.read_units, self.write_units + other.write_units)

    @property
    def total(self) -> float:
        """Read and write units together (DynamoDB's ``CapacityUnits``)."""
        return self.read_units + self.write_units


@dataclass(frozen=True, slots=True)
class Prices:
    """On-demand prices, in US dollars per million request units.

    The defaults are us-east-1's for the Standard table class (read request units
    $0.125, write request units $0.625 per million). Give your region's, or your
    provisioned equivalent, to :meth:`Capacity.cost`. Transactions already count
    twice the units in what DynamoDB reports, so they need no price of their own.
    """

    read_per_million: float = 0.125
    write_per_million: float = 0.625

    def cost(self, units: Units) -> float:
        """What ``units`` cost, in dollars."""
        return (
            units.read_units * self.read_per_million + units.write_units * self.write_per_million
        ) / 1_000_000


ON_DEMAND_US_EAST_1 = Prices()
"""The default prices (us-east-1, on-demand, Standard table class)."""


@dataclass(slots=True)
class Consumed:
    """One ``ConsumedCapacity`` entry of one answer: an operation on one table.

    ``read_units`` and ``write_units`` are the whole cost (table and indexes);
    ``indexes`` the part each index took, by name: from DynamoDB's ``INDEXES`` detail
    when it was asked for, else (a query or scan of an index) the whole cost, under
    the index read.
    """

    operation: str
    table: str
    read_units: float
    write_units: float
    indexes: tuple[tuple[str, Units], ...] = ()

    @property
    def units(self) -> Units:
        """The whole cost as :class:`Units`."""
        return Units(self.read_units, self.write_units)


def kind_of(operation: str, params: Mapping[str, Any] | None = None) -> str:
    """``"read"`` or ``"write"``: which units ``operation`` consumes (PartiQL by its verb)."""
    if operation in READ_OPERATIONS:
        return "read"
    if operation in WRITE_OPERATIONS:
        return "write"
    if operation == "ExecuteStatement" and params is not None:
        statement = str(params.get("Statement", "")).lstrip()[:6].upper()
        return "read" if statement == "SELECT" else "write"
    return "write" if operation == "ExecuteTransaction" else "read"


def _units(entry: Mapping[str, Any], kind: str) -> tuple[float, float]:
    read = entry.get("ReadCapacityUnits")
    write = entry.get("WriteCapacityUnits")
    if read is not None or write is not None:
        return float(read or 0.0), float(write or 0.0)
    total = float(entry.get("CapacityUnits") or 0.0)
    return (total, 0.0) if kind == "read" else (0.0, total)


def consumed_of(
    operation: str, params: Mapping[str, Any], answer: Mapping[str, Any]
) -> list[Consumed]:
    """The :class:`Consumed` records of one answer (none when it reports no capacity)."""
    reported = answer.get("ConsumedCapacity")
    if not reported:
        return []
    usual = _usual(operation, params, reported)
    if usual is not None:
        return [Consumed(operation, *usual)]
    kind = kind_of(operation, params)
    index = params.get("IndexName")
    entries = reported if isinstance(reported, list) else (reported,)
    records = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        read, write = _units(entry, kind)
        detail: tuple[tuple[str, Units], ...] = ()
        if "GlobalSecondaryIndexes" in entry or "LocalSecondaryIndexes" in entry:
            detail = tuple(
                (str(name), Units(*_units(part, kind)))
                for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
                for name, part in (entry.get(member) or {}).items()
            )
        elif isinstance(index, str):
            detail = ((index, Units(read, write)),)
        records.append(Consumed(operation, str(entry.get("TableName", "")), read, write, detail))
    return records


def _usual(
    operation: str, params: Mapping[str, Any], reported: Any
) -> tuple[str, float, float] | None:
    """``(table, read units, write units)`` of the usual ``ConsumedCapacity``, TOTAL for
    one table and no index read (``{"TableName": ..., "CapacityUnits": ...}``); else None."""
    if type(reported) is dict and len(reported) == 2 and params.get("IndexName") is None:
        total = reported.get("CapacityUnits")
        if total is not None:
            table = str(reported.get("TableName", ""))
            if kind_of(operation, params) == "read":
                return table, float(total), 0.0
            return table, 0.0, float(total)
    return None


class Capacity:
    """Capacity units added up: in all, by table, by index and by operation; priced.

    What ``with dynamodb.capacity() as cap:`` gives, what :attr:`Connection.capacity`
    keeps, and a query's or scan's ``consumed``. Adding is thread-safe; reading
    gives a snapshot.
    """

    def __init__(self, *, indexes: bool = False, prices: Prices | None = None) -> None:
        """``indexes=True`` asks DynamoDB for the part each index takes (``INDEXES``)
        while this collector is in effect; ``prices`` are :meth:`cost`'s default."""
        self.indexes = indexes
        self.prices = prices or ON_DEMAND_US_EAST_1
        self._lock = threading.Lock()
        self._read = 0.0
        self._write = 0.0
        self._requests = 0
        # [read, write] accumulators: adding allocates nothing per request
        self._tables: dict[str, list[float]] = {}
        self._indexes: dict[tuple[str, str], list[float]] = {}
        self._operations: dict[str, list[float]] = {}

    def add(self, records: Iterable[Consumed], requests: int = 1) -> None:
        """Count ``requests`` answered requests and the units their records report."""
        with self._lock:
            self._requests += requests
            for record in records:
                read, write = record.read_units, record.write_units
                self._read += read
                self._write += write
                _accumulate(self._tables, record.table, read, write)
                _accumulate(self._operations, record.operation, read, write)
                for name, part in record.indexes:
                    _accumulate(
                        self._indexes, (record.table, name), part.read_units, part.write_units
                    )

    def add_answer(
        self, operation: str, params: Mapping[str, Any], answer: Mapping[str, Any]
    ) -> None:
        """Count one answered request and what its ``ConsumedCapacity`` reports: as
        ``add(consumed_of(...))``, without building records for the usual answer."""
        reported = answer.get("ConsumedCapacity")
        usual = _usual(operation, params, reported) if reported else None
        if usual is None:
            self.add(consumed_of(operation, params, answer))
            return
        table, read, write = usual
        with self._lock:
            self._requests += 1
            self._read += read
            self._write += write
            _accumulate(self._tables, table, read, write)
            _accumulate(self._operations, operation, read, write)

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self._read = self._write = 0.0
            self._requests = 0
            self._tables, self._indexes, self._operations = {}, {}, {}

    @property
    def units(self) -> Units:
        """Read and write units in all."""
        return Units(self._read, self._write)

    @property
    def read_units(self) -> float:
        """Read units in all."""
        return self._read

    @property
    def write_units(self) -> float:
        """Write units in all."""
        return self._write

    @property
    def requests(self) -> int:
        """How many answers were counted (whether or not they reported capacity)."""
        return self._requests

    @property
    def by_table(self) -> dict[str, Units]:
        """Units by table name (the models' names, without a connection's prefix)."""
        with self._lock:
            return _snapshot(self._tables)

    @property
    def by_index(self) -> dict[tuple[str, str], Units]:
        """Units by ``(table, index)``: queries and scans of an index, and with
        ``indexes=True`` the part of every write each index took."""
        with self._lock:
            return _snapshot(self._indexes)

    @property
    def by_operation(self) -> dict[str, Units]:
        """Units by DynamoDB operation (``"Query"``, ``"BatchWriteItem"`` ...)."""
        with self._lock:
            return _snapshot(self._operations)

    def cost(self, prices: Prices | None = None) -> float:
        """What the units cost in dollars, at ``prices`` (default: this collector's)."""
        return (prices or self.prices).cost(self.units)

    def __repr__(self) -> str:
        units = self.units
        return (
            f"<Capacity {units.read_units:g} read, {units.write_units:g} write units "
            f"in {self._requests} requests, ${self.cost():.6f}>"
        )


K = TypeVar("K")


def _accumulate(totals: dict[K, list[float]], key: K, read: float, write: float) -> None:
    found = totals.get(key)
    if found is None:
        totals[key] = [read, write]
    else:
        found[0] += read
        found[1] += write


def _snapshot(totals: dict[K, list[float]]) -> dict[K, Units]:
    return {key: Units(read, write) for key, (read, write) in totals.items()}


_collectors: ContextVar[tuple[Capacity, ...]] = ContextVar("dynamodb_capacity", default=())
"""The collectors in effect in this thread or task, innermost last."""


def active_collectors() -> tuple[Capacity, ...]:
    """The :class:`Capacity` collectors every request made here is added to."""
    return _collectors.get()


def wants_indexes(collectors: tuple[Capacity, ...]) -> bool:
    """Whether one of ``collectors`` asked for the index detail."""
    return any(collector.indexes for collector in collectors)


@contextmanager
def collecting(collector: Capacity) -> Iterator[Capacity]:
    """Add ``collector`` to the ones in effect inside the block (this thread or task,
    and what it starts)."""
    token = _collectors.set((*_collectors.get(), collector))
    try:
        yield collector
    finally:
        _collectors.reset(token)


@contextmanager
def capacity(*, indexes: bool = False, prices: Prices | None = None) -> Iterator[Capacity]:
    """``with dynamodb.capacity() as cap:``: the capacity every call in the block consumed.

    Requests made in the block's thread or task count, and those of the threads and
    tasks it starts (batches, parallel scans, ``asyncio.gather``). ``cap.read_units``,
    ``cap.write_units``, ``cap.by_table``, ``cap.by_index``, ``cap.by_operation`` and
    ``cap.cost()`` read the totals, during and after the block. ``indexes=True`` asks
    DynamoDB for each index's part (``ReturnConsumedCapacity="INDEXES"``); ``prices``
    replaces the us-east-1 on-demand prices of :meth:`Capacity.cost`. Blocks nest:
    a request counts in every block it is made in.
    """
    with collecting(Capacity(indexes=indexes, prices=prices)) as collector:
        yield collector
