"""Immutable Query and Scan builders, and the pager that reads their pages.

``Test.query().where(...).limit(10)`` returns new builders at every step, so a
builder can be kept and reused. Reading is done by a :class:`Pager`: a small
state machine whose ``page()`` flow (see :mod:`dynamodb.core.flow`) sends one
request, decodes the items, keeps count against ``limit`` and tracks the
cursor. The sync and async readers only loop over ``page()``.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from dynamodb.core.batch import batch_get, get_chunks, key_identity
from dynamodb.core.capacity import Capacity
from dynamodb.core.codec import Item
from dynamodb.core.cursor import Cursor, decode_cursor, query_scope
from dynamodb.core.errors import InvalidArgument, InvalidValue, QueryError, UnknownAssociation
from dynamodb.core.expressions import Condition, Placeholders, and_all, require_condition
from dynamodb.core.flow import Flow, call
from dynamodb.core.planner import QueryPlan, Target, find_target, plan_query
from dynamodb.core.ratelimit import RateLimit
from dynamodb.models import lifecycle
from dynamodb.models.associations import prefetch_flow
from dynamodb.models.fields import Field
from dynamodb.models.lifecycle import unexpired
from dynamodb.models.limit_checks import check_expressions, check_key_condition
from dynamodb.models.options import naming_missing_tables
from dynamodb.models.projection import Projection, read_with
from dynamodb.models.sealing import warming_keys
from dynamodb.wire import tracing
from dynamodb.wire.connection import Connection
from dynamodb.wire.parser import gc_paused
from dynamodb.wire.telemetry import call_scope

if TYPE_CHECKING:
    from dynamodb.core.compat import Self
    from dynamodb.models.model import Model

__all__ = ["Pager", "Query", "Scan"]

M = TypeVar("M", bound="Model")


@dataclass(frozen=True)
class _Spec:
    """Everything a builder has been told; replaced, never changed."""

    projection: Projection | None = None
    conditions: tuple[Condition, ...] = ()
    index: Field[Any] | str | bool | None = True  # True: choose; None: the table
    ascending: bool = True
    order_field: Field[Any] | None = None
    limit: int | None = None
    page_size: int | None = None
    consistent: bool = False
    start: str | None = None
    requery: bool = False
    segments: int = 1
    connection: Connection | None = None
    prefetch: tuple[str, ...] = ()
    include_expired: bool = False
    rate_limit: RateLimit | None = None


class _Reading:
    """One read of a builder (an iteration, ``get_items()``, ``count()`` ...): its span,
    the collector of its pages' capacity, its rate limit."""

    __slots__ = ("collector", "limit", "span")

    def __init__(self, name: str, table: str, limit: RateLimit | None) -> None:
        self.collector = Capacity()
        self.limit = limit
        self.span = tracing.start_span(name, table)

    def step(self) -> Any:
        """The block around one ``Connection.run`` of the read (a page, a count)."""
        return call_scope(self.span, self.collector, self.limit)

    def end(self, error: BaseException | None = None) -> None:
        """The read is over (``error``: how it failed; stopping early is no failure)."""
        if isinstance(error, GeneratorExit):
            error = None
        tracing.end_span(self.span, error)


class Pager(Generic[M]):
    """Reads a query or scan page by page; pure apart from the flows it returns."""

    def __init__(
        self,
        model: type[M],
        operation: str,
        request: dict[str, Any],
        *,
        target: Target,
        limit: int | None,
        page_size: int | None,
        filtered: bool,
        projection: Projection | None,
        requery: bool,
        scope: str,
        prefetch: tuple[str, ...] = (),
        load: Any = None,
        models: tuple[type[Any], ...] = (),
    ) -> None:
        """``projection``: what the items hold when they are partial (None: whole items);
        ``scope``: what the cursors are bound to (:func:`~dynamodb.core.cursor.query_scope`);
        ``models``: the classes its items are built as (default: ``model``)."""
        self.model = model
        self.models = models or (model,)
        self.operation = operation
        self.request = request
        self.target = target
        self.remaining = limit
        self.page_size = page_size
        self.filtered = filtered
        self.projection = None if requery else projection
        self.requery = requery
        self.scope = scope
        self.prefetch = prefetch
        self.load = load
        """``load(item, partial)``: builds each item (None: the model's loader); an item it
        gives None for (an entity no model claims) is skipped."""
        self.done = False
        self.cursor: Cursor | None = None
        schema = model._meta.require_table()
        self.table_keys = tuple(field.name for field in schema.key_fields)
        self.cursor_keys = tuple(dict.fromkeys((*self.table_keys, *target.key_names())))

    def _next_request(self) -> dict[str, Any]:
        request = dict(self.request)
        if self.cursor is not None:
            request["ExclusiveStartKey"] = decode_cursor(self.cursor, self.scope)
        limit = self.page_size
        if self.remaining is not None and not self.filtered:
            limit = min(limit or self.remaining, self.remaining)
        if limit is not None:
            request["Limit"] = limit
        return request

    def page(self) -> Flow[list[M] | None]:
        """Read the next page; None once everything (or ``limit`` items) was read."""
        return naming_missing_tables(self._page(), (self.model,))

    def _page(self) -> Flow[list[M] | None]:
        if self.done:
            return None
        response = yield from call(self.operation, self._next_request())
        raw: list[Item] = response.get("Items", [])
        last = response.get("LastEvaluatedKey")
        if self.remaining is not None and len(raw) >= self.remaining:
            cut = len(raw) > self.remaining
            raw = raw[: self.remaining]
            self.remaining = 0
            self.done = True
            more = cut or bool(last)
            self.cursor = self._cursor_at(raw[-1]) if more and raw else None
        else:
            if self.remaining is not None:
                self.remaining -= len(raw)
            self.done = not last
            self.cursor = Cursor.from_key(last, self.scope) if last else None
        if self.requery and raw:
            raw = yield from self._requery(raw)
        decode = self.load or self.model._meta.loader()
        projection = self.projection
        with gc_paused():  # a page is many small acyclic objects (see fastpath.py)
            items = [decode(item, projection) for item in raw]
        if self.load is not None or self.model._meta.entity_tag is not None:
            items = [item for item in items if item is not None]  # entities no model claims
        if self.prefetch and items:
            yield from prefetch_flow(self.model, self.prefetch, items)
        yield from lifecycle.after_load(items)
        return items

    def _cursor_at(self, item: Item) -> Cursor:
        return Cursor.from_key({name: item[name] for name in self.cursor_keys}, self.scope)

    def _requery(self, raw: list[Item]) -> Flow[list[Item]]:
        """Full items for index results, in the same order; deleted ones are skipped."""
        keys = [{name: item[name] for name in self.table_keys} for item in raw]
        table = self.model._meta.table_name
        consistent = bool(self.request.get("ConsistentRead"))
        chunks = get_chunks(table, keys, self.table_keys, consistent=consistent)
        found = yield from batch_get(chunks, self.table_keys)
        ordered = (found.get(key_identity(key, self.table_keys)) for key in keys)
        return [item for item in ordered if item is not None]

    def count(self) -> Flow[int]:
        """Count matching items with ``Select=COUNT`` (up to ``limit``)."""
        return naming_missing_tables(self._count(), (self.model,))

    def _count(self) -> Flow[int]:
        request = {
            key: value for key, value in self.request.items() if key != "ProjectionExpression"
        }
        request["Select"] = "COUNT"
        names = request.get("ExpressionAttributeNames")
        if names is not None:
            used = " ".join(
                str(request.get(part, ""))
                for part in ("KeyConditionExpression", "FilterExpression")
            )
            kept = {key: value for key, value in names.items() if key in used}
            if kept:
                request["ExpressionAttributeNames"] = kept
            else:
                del request["ExpressionAttributeNames"]
        total = 0
        start = decode_cursor(self.cursor, self.scope) if self.cursor is not None else None
        while True:
            if start is not None:
                request["ExclusiveStartKey"] = start
            response = yield from call(self.operation, request)
            total += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey")
            if self.remaining is not None and total >= self.remaining:
                return self.remaining
            if not start:
                return total


class _Reader(Generic[M]):
    """What Query and Scan share: the builder steps and the ways to read."""

    __slots__ = ("_consumed", "_model", "_spec")

    def __init__(self, model: type[M], spec: _Spec) -> None:
        self._model = model
        self._spec = spec
        self._consumed: Capacity | None = None

    @property
    def consumed(self) -> Capacity:
        """What the pages of this builder's latest read cost (``consumed.read_units``,
        ``.by_index``, ``.cost()`` ...): counted as they are read, so after an
        iteration, ``get_items()``, ``first()`` or ``count()`` it holds the whole read,
        the segments of a parallel scan included. Each read starts it afresh; a
        builder made by a step (``.where()``, ``.limit()`` ...) has its own."""
        return self._consumed if self._consumed is not None else Capacity()

    def _reading(self) -> _Reading:
        table = self._model._meta.table_name
        if tracing.tracer() is not None:  # the span names the table as DynamoDB knows it
            table = self._model._meta.connection(self._spec.connection).table_prefix + table
        reading = _Reading(
            f"{self._model.__name__}.{self._operation().lower()}", table, self._spec.rate_limit
        )
        self._consumed = reading.collector
        return reading

    def _read(self, run: Any, *flows: Any) -> Any:
        """Run ``flows`` (one after the other, with ``run``) as one read of the builder."""
        reading = self._reading()
        try:
            with reading.step():
                results = [run(flow) for flow in flows]
        except BaseException as error:
            reading.end(error)
            raise
        reading.end()
        return results

    async def _aread(self, *flows: Any) -> Any:
        """Async twin of :meth:`_read` (the flows run concurrently)."""
        import asyncio

        connection = self._connection()
        reading = self._reading()
        try:
            with reading.step():
                results = await asyncio.gather(*(connection.arun(flow) for flow in flows))
        except BaseException as error:
            reading.end(error)
            raise
        reading.end()
        return list(results)

    def _with(self, **changes: Any) -> Self:
        return type(self)(self._model, replace(self._spec, **changes))

    def __repr__(self) -> str:
        # A repr never raises: a query that cannot be planned yet says why instead.
        plan: object
        try:
            plan = self.explain()
        except Exception as error:
            plan = f"not sendable yet ({type(error).__name__}: {error})"
        return f"<{type(self).__name__} of {self._model.__name__}: {plan}>"

    # -- builder steps -------------------------------------------------------------

    def where(self, *conditions: Condition) -> Self:
        """Add conditions (ANDed with the ones already given)."""
        name = self._model.__name__
        for condition in conditions:
            require_condition(condition, f"{name}.{self._operation().lower()}().where()", name)
        return self._with(conditions=self._spec.conditions + conditions)

    def use_index(self, index: Field[Any] | str | None, asc: bool = True) -> Self:
        """Read this index (a name, or the field of a local index); None reads the table."""
        find_target(self._model._meta.require_table(), index)
        return self._with(index=index, ascending=asc)

    def limit(self, count: int | None) -> Self:
        """Return at most ``count`` items in all (paging on past filtered-out items)."""
        if count is not None and (isinstance(count, bool) or count < 1):
            raise InvalidValue(f"limit must be a positive int or None, not {count!r}")
        return self._with(limit=count)

    def page_size(self, count: int | None) -> Self:
        """How many items DynamoDB evaluates per request (its ``Limit``)."""
        if count is not None and (isinstance(count, bool) or count < 1):
            raise InvalidValue(f"page_size must be a positive int or None, not {count!r}")
        return self._with(page_size=count)

    def consistent(self, flag: bool = True) -> Self:
        """Strongly consistent reads (not on global indexes)."""
        return self._with(consistent=flag)

    def start_key(self, cursor: Cursor | str | None) -> Self:
        """Start after this cursor (from ``get_items()``); None starts at the beginning."""
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidArgument(
                f"start_key() takes a cursor (a str), not {type(cursor).__name__}"
            )
        return self._with(start=str(cursor) if cursor is not None else None)

    def start_key_str(self, cursor: str | None) -> Self:
        """Start after a cursor given as its string (e.g. from a web request)."""
        return self.start_key(cursor)

    def requery_for_all_projections(self, flag: bool = True) -> Self:
        """Fetch whole items for results of an index that does not project everything."""
        return self._with(requery=flag)

    def prefetch(self, *associations: str) -> Self:
        """Load these associations for every page of results at once (eager loading)."""
        for name in associations:
            if name not in self._model._meta.associations:
                raise UnknownAssociation(f"{self._model.__name__} has no association {name!r}")
        return self._with(prefetch=self._spec.prefetch + associations)

    def using(self, connection: Connection | None) -> Self:
        """Read through this connection instead of the model's."""
        return self._with(connection=connection)

    def rate_limit(self, limit: RateLimit | None) -> Self:
        """Hold this read (all its segments) to ``limit``'s budget of capacity units per
        second, on top of the connection's own (None: no limit of its own)."""
        if limit is not None and not isinstance(limit, RateLimit):
            raise InvalidArgument(f"rate_limit() takes a dynamodb.RateLimit, not {limit!r}")
        return self._with(rate_limit=limit)

    # -- planning --------------------------------------------------------------------

    def _target(self) -> Target:
        raise NotImplementedError

    def _operation(self) -> str:
        raise NotImplementedError

    def _conditions(self, placeholders: Placeholders, request: dict[str, Any]) -> bool:
        """Put the conditions into ``request``; True when there is a filter."""
        raise NotImplementedError

    def _loader(self) -> Any:
        """How items are built (None: the model's own loader)."""
        return None

    def _decoded_models(self) -> tuple[type[Any], ...]:
        """The classes items are built as (their encrypted fields' keys are fetched
        off the event loop by the async reads)."""
        return (self._model,)

    def _entity_filter(self) -> Condition | None:
        """What every read of the model adds to its filter: its entities (in a shared
        table), and items not past their TTLField's time (unless ``include_expired()``)."""
        meta = self._model._meta
        parts = [meta.entity_filter()]
        if not self._spec.include_expired:
            parts.append(unexpired(meta))
        return and_all([part for part in parts if part is not None])

    def include_expired(self, flag: bool = True) -> Self:
        """Also return items past their TTLField's time (DynamoDB deletes them up to days
        later; by default reads leave them out)."""
        return self._with(include_expired=flag)

    def _read_projection(self, target: Target) -> Projection | None:
        """What the items read from ``target`` hold, when they are partial.

        A projection also reads the table's and the index's keys, and the version
        field wherever the target has it (a global index has only what it projects),
        so a partial item can still be saved, updated or deleted.
        """
        projection = self._spec.projection
        if projection is None:
            if target.projection_type == "ALL":
                return None
            return Projection.of_names(sorted(target.projected))
        version = self._model._meta.version_field
        readable = version is not None and (not target.is_global or target.covers((version.name,)))
        return read_with(self._model, projection, target.key_names(), version=readable)

    def _build(self, target: Target) -> dict[str, Any]:
        spec = self._spec
        request: dict[str, Any] = {"TableName": self._model._meta.table_name}
        if target.name is not None:
            request["IndexName"] = target.name
        placeholders = Placeholders()
        self._conditions(placeholders, request)
        if spec.projection is not None:
            projection = self._read_projection(target)
            assert projection is not None
            request["ProjectionExpression"] = projection.render(placeholders)
            tag = self._model._meta.entity_tag
            if tag is not None:
                request["ProjectionExpression"] += ", " + placeholders.name(tag[0])
        if spec.consistent:
            request["ConsistentRead"] = True
        placeholders.apply(request)
        check_expressions(self._model, request)  # DynamoDB's 4 KB, before anything is sent
        return request

    def explain(self) -> dict[str, Any]:
        """The request this builder would send first (for logging and debugging)."""
        request = self._build(self._target())
        if self._spec.start is not None:
            request["ExclusiveStartKey"] = decode_cursor(self._spec.start, query_scope(request))
        return request

    def _pager(self, requery: bool | None = None, segment: int | None = None) -> Pager[M]:
        spec = self._spec
        target = self._target()
        request = self._build(target)
        if segment is not None:
            request["Segment"] = segment
            request["TotalSegments"] = spec.segments
        pager = Pager(
            self._model,
            self._operation(),
            request,
            target=target,
            limit=spec.limit,
            page_size=spec.page_size,
            filtered="FilterExpression" in request,
            projection=self._read_projection(target),
            requery=spec.requery if requery is None else requery,
            scope=query_scope(request),
            prefetch=spec.prefetch,
            load=self._loader(),
            models=self._decoded_models(),
        )
        if spec.start is not None:
            decode_cursor(spec.start, pager.scope)  # check it before any request
            pager.cursor = Cursor(spec.start)
        return pager

    def _connection(self) -> Connection:
        return self._model._meta.connection(self._spec.connection)

    # -- reading: flows --------------------------------------------------------------

    def _get_items_flow(self, requery: bool) -> Flow[tuple[list[M], Cursor | None]]:
        pager = self._pager(requery or None)
        items: list[M] = []
        while True:
            page = yield from pager.page()
            if page is None:
                break
            items.extend(page)
            if pager.remaining is None or pager.done:
                break
        return items, pager.cursor

    def _first_flow(self) -> Flow[M | None]:
        items, _ = yield from self.limit(1)._get_items_flow(False)
        return items[0] if items else None

    # -- reading: sync and async twins ---------------------------------------------------

    def get_items(self, requery_for_all_projections: bool = False) -> tuple[list[M], Cursor | None]:
        """One page: ``(items, cursor)``; the cursor is None when nothing is left.

        With ``limit(n)`` the page holds up to n items (reading on past filtered-out
        ones); without, it is one DynamoDB response (up to 1 MB or ``page_size``).
        """
        self._check_single()
        flow = self._get_items_flow(requery_for_all_projections)
        return self._read(self._connection().run, flow)[0]  # type: ignore[no-any-return]

    async def aget_items(
        self, requery_for_all_projections: bool = False
    ) -> tuple[list[M], Cursor | None]:
        """Async twin of :meth:`get_items`."""
        self._check_single()
        flow = self._get_items_flow(requery_for_all_projections)
        return (await self._aread(warming_keys(flow, (self._model,))))[0]  # type: ignore[no-any-return]

    def first(self) -> M | None:
        """The first matching item, or None."""
        self._check_single()
        return self._read(self._connection().run, self._first_flow())[0]  # type: ignore[no-any-return]

    async def afirst(self) -> M | None:
        """Async twin of :meth:`first`."""
        self._check_single()
        return (await self._aread(warming_keys(self._first_flow(), (self._model,))))[0]  # type: ignore[no-any-return]

    def count(self) -> int:
        """How many items match (a ``Select=COUNT`` read; capped by ``limit``)."""
        counts = self._read(self._connection().run, *(pager.count() for pager in self._pagers()))
        return self._capped(sum(counts))

    async def acount(self) -> int:
        """Async twin of :meth:`count` (segments of a parallel scan counted concurrently)."""
        counts = await self._aread(*(pager.count() for pager in self._pagers()))
        return self._capped(sum(counts))

    def _capped(self, total: int) -> int:
        limit = self._spec.limit
        return total if limit is None else min(total, limit)

    def all(self) -> list[M]:
        """Every matching item (up to ``limit``), read page by page."""
        return list(self)

    async def aall(self) -> list[M]:
        """Async twin of :meth:`all`."""
        return [item async for item in self]

    def _pagers(self) -> list[Pager[M]]:
        return [self._pager()]

    def _check_single(self) -> None:
        if self._spec.segments > 1:
            raise QueryError(
                "a parallel scan (segments > 1) is read by iterating over it; "
                "use .segment(i) for one segment's pages"
            )

    def __iter__(self) -> Iterator[M]:
        pagers = self._pagers()
        reading = self._reading()
        try:
            if len(pagers) > 1:
                yield from _parallel(self._connection(), pagers, self._spec.limit, reading)
            else:
                connection, pager = self._connection(), pagers[0]
                while True:
                    with reading.step():
                        page = connection.run(pager.page())
                    if page is None:
                        break
                    yield from page
                    page = None  # let this page go before the next one is read
        except BaseException as error:
            reading.end(error)
            raise
        reading.end()

    def __aiter__(self) -> AsyncIterator[M]:
        return self._aiterate()

    async def _aiterate(self) -> AsyncIterator[M]:
        pagers = self._pagers()
        reading = self._reading()
        try:
            if len(pagers) > 1:
                parallel = _aparallel(self._connection(), pagers, self._spec.limit, reading)
                try:
                    async for item in parallel:
                        yield item
                finally:
                    await parallel.aclose()  # stop the workers now, not when collected
            else:
                connection, pager = self._connection(), pagers[0]
                while True:
                    with reading.step():
                        page = await connection.arun(_warmed(pager))
                    if page is None:
                        break
                    for item in page:
                        yield item
                    page = None  # let this page go before the next one is read
        except BaseException as error:
            reading.end(error)
            raise
        reading.end()


class Query(_Reader[M]):
    """A query: conditions on a hash key (and range key) of the table or an index."""

    __slots__ = ()

    def order_by(self, field: Field[Any], asc: bool = True) -> Self:
        """Sort by ``field``: reads the table or index whose range key it is."""
        if not isinstance(field, Field):
            raise InvalidArgument(f"order_by() takes a field, not {field!r}")
        return self._with(order_field=field, ascending=asc)

    def _plan(self) -> QueryPlan:
        spec = self._spec
        return plan_query(
            self._model._meta.require_table(),
            spec.conditions,
            index=spec.index,
            order_field=spec.order_field,
            consistent=spec.consistent,
            wanted=spec.projection.attributes() if spec.projection is not None else (),
        )

    def _target(self) -> Target:
        return self._plan().target

    def _operation(self) -> str:
        return "Query"

    def _conditions(self, placeholders: Placeholders, request: dict[str, Any]) -> bool:
        plan = self._plan()
        check_key_condition(self._model, plan.target, plan.key_condition)
        request["KeyConditionExpression"] = plan.key_condition.render(placeholders)
        if not self._spec.ascending:
            request["ScanIndexForward"] = False
        entity = self._entity_filter()
        condition = and_all([part for part in (plan.filter, entity) if part is not None])
        if condition is not None:
            request["FilterExpression"] = condition.render(placeholders)
            return True
        return False


class Scan(_Reader[M]):
    """A scan: reads every item of the table (or an index), filtered by conditions."""

    __slots__ = ()

    def segments(self, count: int) -> Self:
        """Read with ``count`` parallel workers (threads in sync code, tasks in async)."""
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1_000_000:
            raise InvalidValue(f"segments must be an int from 1 to 1000000, not {count!r}")
        return self._with(segments=count)

    def segment(self, number: int) -> _SegmentScan[M]:
        """Only segment ``number`` (of ``segments``), to read with pages and cursors."""
        if not 0 <= number < self._spec.segments:
            raise InvalidValue(f"segment must be from 0 to {self._spec.segments - 1}, not {number}")
        return _SegmentScan(self._model, self._spec, number)

    def _target(self) -> Target:
        index = self._spec.index
        return find_target(
            self._model._meta.require_table(), None if isinstance(index, bool) else index
        )

    def _operation(self) -> str:
        return "Scan"

    def _conditions(self, placeholders: Placeholders, request: dict[str, Any]) -> bool:
        entity = self._entity_filter()
        condition = and_all([*self._spec.conditions, *([entity] if entity is not None else [])])
        if condition is None:
            return False
        request["FilterExpression"] = condition.render(placeholders)
        return True

    def _pagers(self) -> list[Pager[M]]:
        if self._spec.segments == 1:
            return [self._pager()]
        if self._spec.start is not None:
            raise QueryError(
                "a parallel scan reads all its segments from the start; a cursor belongs to "
                "one segment: continue it with .segment(i).start_key(cursor)"
            )
        return [self._pager(segment=number) for number in range(self._spec.segments)]


class _SegmentScan(Scan[M]):
    """One segment of a parallel scan, read like a plain scan."""

    __slots__ = ("_segment",)

    def __init__(self, model: type[M], spec: _Spec, segment: int) -> None:
        super().__init__(model, spec)
        self._segment = segment

    def _with(self, **changes: Any) -> Self:
        return type(self)(self._model, replace(self._spec, **changes), self._segment)

    def _check_single(self) -> None:
        return None

    def _pager(self, requery: bool | None = None, segment: int | None = None) -> Pager[M]:
        # get_items()/first() build their pager without a segment: always read ours.
        return super()._pager(requery, self._segment if segment is None else segment)

    def _pagers(self) -> list[Pager[M]]:
        return [self._pager(segment=self._segment)]

    def explain(self) -> dict[str, Any]:
        """The first request of this segment (its cursors are checked against it)."""
        pager = self._pager(segment=self._segment)
        request = dict(pager.request)
        if pager.cursor is not None:
            request["ExclusiveStartKey"] = decode_cursor(pager.cursor, pager.scope)
        return request


# -- parallel reading -------------------------------------------------------------------


class _Merge(Generic[M]):
    """Collects pages from several segment workers; counts against a shared limit."""

    def __init__(self, workers: int, limit: int | None) -> None:
        self.running = workers
        self.remaining = limit

    def take(self, message: tuple[str, Any]) -> list[M]:
        """Items to hand out for one worker message; raises a worker's error."""
        kind, payload = message
        if kind == "error":
            raise payload
        if kind == "done":
            self.running -= 1
            return []
        page: list[M] = payload
        if self.remaining is not None:
            page = page[: self.remaining]
            self.remaining -= len(page)
        return page

    @property
    def finished(self) -> bool:
        return self.running == 0 or self.remaining == 0


def _parallel(
    connection: Connection, pagers: Sequence[Pager[M]], limit: int | None, reading: _Reading
) -> Iterator[M]:
    messages: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=2 * len(pagers))
    stop = threading.Event()

    def offer(message: tuple[str, Any]) -> None:
        while not stop.is_set():
            try:
                messages.put(message, timeout=0.1)
                return
            except queue.Full:
                continue

    def work(pager: Pager[M]) -> None:
        try:
            while not stop.is_set():
                with reading.step():
                    page = connection.run(pager.page())
                if page is None:
                    break
                offer(("page", page))
        except BaseException as error:  # handed to the reading thread
            offer(("error", error))
        finally:
            offer(("done", None))

    # Each thread runs in a copy of the caller's context, as run_many's do, so the
    # caller's ContextVar-scoped blocks (dynamodb.testing's faults and recorder) reach it.
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(work, pager), daemon=True)
        for pager in pagers
    ]
    for thread in threads:
        thread.start()
    merge: _Merge[M] = _Merge(len(pagers), limit)
    try:
        while not merge.finished:
            yield from merge.take(messages.get())
    finally:
        stop.set()
        for thread in threads:
            thread.join()


async def _aparallel(
    connection: Connection, pagers: Sequence[Pager[M]], limit: int | None, reading: _Reading
) -> AsyncGenerator[M, None]:
    import asyncio

    messages: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=2 * len(pagers))

    async def work(pager: Pager[M]) -> None:
        # Cancellation (the reader stopped) propagates; other errors go to the reader.
        try:
            while True:
                with reading.step():
                    page = await connection.arun(_warmed(pager))
                if page is None:
                    break
                await messages.put(("page", page))
        except Exception as error:
            await messages.put(("error", error))
            return
        await messages.put(("done", None))

    tasks = [asyncio.create_task(work(pager)) for pager in pagers]
    merge: _Merge[M] = _Merge(len(pagers), limit)
    try:
        while not merge.finished:
            for item in merge.take(await messages.get()):
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _warmed(pager: Pager[M]) -> Flow[list[M] | None]:
    """The pager's next page for the async driver: KMS keys fetched off the event loop."""
    return warming_keys(pager.page(), pager.models)
