"""What a connection does around each request: capacity, logs, spans, rate limits.

:meth:`Connection.run` / ``arun`` give :func:`dynamodb.core.retries.retrying` a
:class:`RequestWatch` (the core's :class:`~dynamodb.core.retries.Watch`), which
sees each request the flow sends, once, with all its attempts:

- **capacity**: ``ReturnConsumedCapacity`` is added to the operations that take it
  (``TOTAL``; ``INDEXES`` inside ``capacity(indexes=True)`` or with
  ``Connection(return_consumed_capacity="INDEXES")``; ``"NONE"`` asks nothing), and
  each answer's ``ConsumedCapacity`` is added to :attr:`Connection.capacity` and to
  the collectors in effect (:func:`dynamodb.core.capacity.capacity`, a query's
  ``consumed``);
- **logs** (logger ``"dynamodb"``): one DEBUG line per request (:data:`REQUEST_FIELDS`,
  built only when DEBUG is on), one INFO line per retry or throttle. Values and
  credentials never appear, unless ``Connection(log_values=True)`` adds the
  request's parameters to the DEBUG line;
- **spans** (:mod:`dynamodb.wire.tracing`): one CLIENT span per request;
- **rate limits** (:class:`~dynamodb.core.ratelimit.RateLimit`): the connection's
  and the running call's (:func:`limiting`) buckets make a request wait
  (a :class:`~dynamodb.core.flow.Sleep`), are charged with what the answer
  reports, and hear of throttles.

The request and answer seen here are the flow's, without the connection's table
prefix (:mod:`dynamodb.core.prefix` is nearer the transport): capacity is counted
by the models' table names; spans and log lines add the prefix back, to name
tables as DynamoDB knows them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from dynamodb.core.capacity import (
    CAPACITY_OPERATIONS,
    Capacity,
    active_collectors,
    collecting,
    consumed_of,
    kind_of,
    wants_indexes,
)
from dynamodb.core.errors import ServiceError
from dynamodb.core.flow import Request, table_names
from dynamodb.core.ratelimit import RateLimit
from dynamodb.wire import tracing

if TYPE_CHECKING:
    from dynamodb.wire.connection import Connection

__all__ = [
    "CAPACITY_MODES",
    "REQUEST_FIELDS",
    "RequestWatch",
    "call_scope",
    "limiting",
    "logger",
    "request_fields",
]

logger = logging.getLogger("dynamodb")
"""The library's logger; ``dynamodb.connection``, ``dynamodb.streams`` ... are its children."""

CAPACITY_MODES = ("TOTAL", "INDEXES", "NONE")
"""What ``Connection(return_consumed_capacity=...)`` takes."""

REQUEST_FIELDS = (
    "operation",
    "table",
    "index",
    "ms",
    "attempts",
    "status",
    "read_units",
    "write_units",
    "request_id",
)
"""The fields of the DEBUG line of each request (also given as ``record.dynamodb``).

Names and numbers only: no key, item or expression value can reach a log line
through them (``log_values=True`` adds ``params``).
"""

_call_limit: ContextVar[RateLimit | None] = ContextVar("dynamodb_rate_limit", default=None)
"""The rate limit of the library call running in this thread or task."""


@contextlib.contextmanager
def limiting(limit: RateLimit | None) -> Iterator[None]:
    """Hold the requests made inside the block (and in the threads and tasks it
    starts) to ``limit`` too (None: nothing changes)."""
    if limit is None:
        yield
        return
    token = _call_limit.set(limit)
    try:
        yield
    finally:
        _call_limit.reset(token)


@contextlib.contextmanager
def call_scope(
    span: Any = None, collector: Capacity | None = None, limit: RateLimit | None = None
) -> Iterator[None]:
    """One step of a call read in steps (a query's page): its span current, its
    collector counting, its rate limit applied."""
    with contextlib.ExitStack() as stack:
        if span is not None:
            stack.enter_context(tracing.within(span))
        if collector is not None:
            stack.enter_context(collecting(collector))
        if limit is not None:
            stack.enter_context(limiting(limit))
        yield


def _batch_size(operation: str, params: dict[str, Any]) -> int | None:
    if operation in ("BatchWriteItem",):
        return sum(len(entries) for entries in params.get("RequestItems", {}).values())
    if operation == "BatchGetItem":
        return sum(len(entry.get("Keys", ())) for entry in params.get("RequestItems", {}).values())
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return len(params.get("TransactItems", ()))
    return None


class _Pending:
    """One request in flight: what the watch needs until it ends."""

    __slots__ = ("kind", "request", "span", "started")

    def __init__(self, request: Request, kind: str, started: float, span: Any) -> None:
        self.request = request
        self.kind = kind
        self.started = started
        self.span = span


class RequestWatch:
    """The :class:`~dynamodb.core.retries.Watch` of one run of a flow on a connection.

    Made per run by :meth:`for_run`, from the connection's settings and what is in
    effect in the running context (collectors, the call's rate limit, a tracer).
    """

    __slots__ = (
        "capacity",
        "collectors",
        "detail",
        "limited",
        "limits",
        "log_values",
        "max_attempts",
        "prefix",
        "tracer",
    )

    def __init__(
        self,
        connection: Connection,
        collectors: tuple[Capacity, ...],
        limits: tuple[RateLimit, ...],
        detail: str,
        tracer: Any,
    ) -> None:
        # What it needs of the connection, not the connection: the plain watch is kept
        # on its connection, and a cycle would keep a dropped connection's clients alive
        # until a full collection.
        self.capacity = connection.capacity
        self.prefix = connection.table_prefix
        self.log_values = connection.log_values
        self.max_attempts = connection.max_attempts
        self.collectors = collectors
        self.limits = limits
        self.limited = bool(limits)
        self.detail = detail
        self.tracer = tracer

    @classmethod
    def for_run(cls, connection: Connection) -> RequestWatch:
        """The watch of a run starting now in this thread or task.

        Nothing in effect (no collector, no call's limit, no tracer): the
        connection's own watch, made once (a few lookups per run).
        """
        collectors = active_collectors()
        call = _call_limit.get()
        tracer = tracing.tracer()
        if not collectors and call is None and tracer is None:
            plain = connection._plain_watch
            if plain is not None and plain.matches(connection):
                return plain
            plain = connection._plain_watch = cls._made(connection, (), None, None)
            return plain
        return cls._made(connection, collectors, call, tracer)

    @classmethod
    def _made(
        cls,
        connection: Connection,
        collectors: tuple[Capacity, ...],
        call: RateLimit | None,
        tracer: Any,
    ) -> RequestWatch:
        detail = connection.return_consumed_capacity
        if detail == "TOTAL" and collectors and wants_indexes(collectors):
            detail = "INDEXES"
        own = connection.rate_limit
        if own is None:
            limits: tuple[RateLimit, ...] = () if call is None else (call,)
        else:
            limits = (own,) if call is None else (own, call)
        return cls(connection, collectors, limits, detail, tracer)

    def matches(self, connection: Connection) -> bool:
        """Whether this plain watch still has the connection's settings."""
        own = connection.rate_limit
        return (
            self.detail == connection.return_consumed_capacity
            and self.limits == ((own,) if own is not None else ())
            and self.log_values == connection.log_values
            and self.max_attempts == connection.max_attempts
            and self.capacity is connection.capacity
        )

    # -- the Watch protocol --------------------------------------------------------

    def begin(self, request: Request) -> tuple[Request, _Pending]:
        """Ask for the capacity; note the start (and start the span, when tracing)."""
        operation, params = request.operation, request.params
        if (
            operation in CAPACITY_OPERATIONS
            and self.detail != "NONE"
            and "ReturnConsumedCapacity" not in params
        ):
            request = Request(
                operation, {**params, "ReturnConsumedCapacity": self.detail}, request.idempotent
            )
        span = None
        started = 0.0  # timed only for a span or a DEBUG line
        if self.tracer is not None:
            span = self._start_span(request)
            started = time.perf_counter()
        elif logger.isEnabledFor(logging.DEBUG):
            started = time.perf_counter()
        kind = kind_of(operation, params) if self.limited else ""
        return request, _Pending(request, kind, started, span)

    def delay(self, token: _Pending, now: float) -> float:
        """What the rate limits in effect make this attempt wait."""
        wait = 0.0
        for limit in self.limits:
            wait = max(wait, limit.delay(token.kind, now))
        return wait

    def answered(self, token: _Pending, reply: dict[str, Any], attempts: int) -> None:
        """Count the capacity, charge the limits, log, end the span."""
        request = token.request
        if not (self.collectors or self.limited or token.span is not None) and not (
            logger.isEnabledFor(logging.DEBUG)
        ):  # only the connection's totals want the capacity: no records to build
            self.capacity.add_answer(request.operation, request.params, reply)
            return
        records = consumed_of(request.operation, request.params, reply)
        self.capacity.add(records)
        for collector in self.collectors:
            collector.add(records)
        if self.limited and records:
            read = sum(record.read_units for record in records)
            write = sum(record.write_units for record in records)
            now = time.monotonic()
            for limit in self.limits:
                limit.charge(read, write, now)
        if logger.isEnabledFor(logging.DEBUG):
            metadata = reply.get("ResponseMetadata") or {}
            self._log(token, attempts, metadata.get("HTTPStatusCode", 200), records, metadata)
        if token.span is not None:
            self._end_span(token, reply, attempts)

    def failed(
        self,
        token: _Pending,
        error: BaseException,
        attempt: int,
        throttled: bool,
        retry_in: float | None,
    ) -> None:
        """Tell the limits of a throttle; log a retry, or the request's end."""
        if throttled:
            now = time.monotonic()
            for limit in self.limits:
                limit.throttled(token.kind, now)
        code = _code(error)
        if retry_in is not None or throttled:
            if logger.isEnabledFor(logging.INFO):
                self._log_retry(token, code, attempt, retry_in)
            if token.span is not None and retry_in is not None:
                token.span.add_event(
                    "retry",
                    {
                        "error.type": code,
                        "dynamodb.attempt": attempt,
                        "dynamodb.retry_in": retry_in,
                    },
                )
        if retry_in is not None:
            return
        if logger.isEnabledFor(logging.DEBUG):
            metadata = getattr(error, "response", None)
            metadata = metadata.get("ResponseMetadata") if isinstance(metadata, dict) else None
            self._log(token, attempt, code, (), metadata or {})
        if token.span is not None:
            self._fail_span(token, error, code, attempt)

    # -- logs ------------------------------------------------------------------------

    def _names(self, request: Request) -> str:
        prefix = self.prefix
        return ",".join(prefix + table for table in table_names(request.params)) or "-"

    def _log(
        self,
        token: _Pending,
        attempts: int,
        status: object,
        records: Any,
        metadata: dict[str, Any],
    ) -> None:
        request = token.request
        fields = request_fields(
            operation=request.operation,
            table=self._names(request),
            index=request.params.get("IndexName") or "-",
            ms=round((time.perf_counter() - token.started) * 1000, 3),
            attempts=attempts,
            status=status,
            read_units=sum(record.read_units for record in records),
            write_units=sum(record.write_units for record in records),
            request_id=metadata.get("RequestId") or "-",
        )
        message = (
            "%(operation)s %(table)s index=%(index)s %(ms).1f ms attempts=%(attempts)d "
            "status=%(status)s units=%(read_units)g read/%(write_units)g write "
            "request_id=%(request_id)s"
        )
        if self.log_values:
            logger.debug(
                message + " params=%(params)s",
                {**fields, "params": json.dumps(request.params, default=str)},
                extra={"dynamodb": fields},
            )
        else:
            logger.debug(message, fields, extra={"dynamodb": fields})

    def _log_retry(self, token: _Pending, code: str, attempt: int, retry_in: float | None) -> None:
        request = token.request
        what = "throttled" if retry_in is None else f"retry {attempt + 1} in {retry_in:.3f} s"
        logger.info(
            "%s %s: %s, attempt %d of %d: %s",
            request.operation,
            self._names(request),
            code,
            attempt,
            self.max_attempts,
            what,
        )

    # -- spans -----------------------------------------------------------------------

    def _start_span(self, request: Request) -> Any:
        from opentelemetry.trace import SpanKind

        operation, params = request.operation, request.params
        prefix = self.prefix
        tables = [prefix + table for table in table_names(params)]
        attributes: dict[str, Any] = {
            "db.system.name": tracing.DB_SYSTEM,
            "db.operation.name": operation,
            "rpc.system": "aws-api",
            "rpc.service": "DynamoDB",
            "rpc.method": operation,
        }
        if tables:
            attributes["aws.dynamodb.table_names"] = tables
        if len(tables) == 1:
            attributes["db.collection.name"] = tables[0]
        for member, attribute in (
            ("IndexName", "aws.dynamodb.index_name"),
            ("ConsistentRead", "aws.dynamodb.consistent_read"),
            ("Limit", "aws.dynamodb.limit"),
            ("Select", "aws.dynamodb.select"),
            ("Segment", "aws.dynamodb.segment"),
            ("TotalSegments", "aws.dynamodb.total_segments"),
            ("ScanIndexForward", "aws.dynamodb.scan_forward"),
        ):
            value = params.get(member)
            if value is not None:
                attributes[attribute] = value
        size = _batch_size(operation, params)
        if size is not None:
            attributes["db.operation.batch.size"] = size
        name = f"{operation} {tables[0]}" if len(tables) == 1 else operation
        return self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    def _end_span(self, token: _Pending, reply: dict[str, Any], attempts: int) -> None:
        span = token.span
        reported = reply.get("ConsumedCapacity")
        if reported:
            entries = reported if isinstance(reported, list) else [reported]
            prefix = self.prefix
            span.set_attribute(
                "aws.dynamodb.consumed_capacity",
                [json.dumps(_prefixed_entry(entry, prefix), sort_keys=True) for entry in entries],
            )
        for member, attribute in (
            ("Count", "aws.dynamodb.count"),
            ("ScannedCount", "aws.dynamodb.scanned_count"),
        ):
            value = reply.get(member)
            if value is not None:
                span.set_attribute(attribute, value)
        if "Items" in reply:
            span.set_attribute("db.response.returned_rows", len(reply["Items"]))
        metadata = reply.get("ResponseMetadata") or {}
        if metadata.get("RequestId"):
            span.set_attribute("aws.request_id", metadata["RequestId"])
        span.set_attribute("dynamodb.retries", attempts - 1)
        span.end()

    def _fail_span(self, token: _Pending, error: BaseException, code: str, attempts: int) -> None:
        from opentelemetry.trace import Status, StatusCode

        span = token.span
        span.set_attribute("error.type", code)
        span.set_attribute("dynamodb.retries", attempts - 1)
        response = getattr(error, "response", None)
        metadata = response.get("ResponseMetadata") if isinstance(response, dict) else None
        if isinstance(metadata, dict):
            if metadata.get("RequestId"):
                span.set_attribute("aws.request_id", metadata["RequestId"])
            if metadata.get("HTTPStatusCode") is not None:
                span.set_attribute("db.response.status_code", str(metadata["HTTPStatusCode"]))
        if not isinstance(error, GeneratorExit):
            span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, code))
        span.end()


def _prefixed_entry(entry: Any, prefix: str) -> Any:
    if prefix and isinstance(entry, dict) and isinstance(entry.get("TableName"), str):
        return {**entry, "TableName": prefix + entry["TableName"]}
    return entry


def _code(error: BaseException) -> str:
    """What failed, as a code: DynamoDB's error code, ``"abandoned"`` for a request whose
    flow was closed or cancelled while it was in flight, else the error's class name."""
    if isinstance(error, ServiceError) and error.code:
        return error.code
    if isinstance(error, GeneratorExit) or type(error).__name__ == "CancelledError":
        return "abandoned"
    return type(error).__name__


def request_fields(**fields: Any) -> dict[str, Any]:
    """The fields of a request's DEBUG line: exactly :data:`REQUEST_FIELDS`, in order
    (a name missing or added is a bug, so it raises)."""
    if tuple(fields) != REQUEST_FIELDS:
        raise ValueError(f"a request log line has the fields {REQUEST_FIELDS}, not {tuple(fields)}")
    return fields
