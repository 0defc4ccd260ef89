"""Batch reads and writes of model items: ``batch_write``, ``batch_get``, ``batch_delete``.

Each call is planned here, without I/O, as a list of chunk flows (see
:mod:`dynamodb.core.batch`) plus a ``finish`` step that turns the chunks' outcomes
into the result; the model's sync method runs the flows with
``Connection.run_many`` (threads) and its async twin with ``arun_many`` (tasks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

from dynamodb.core.batch import (
    GET_CHUNK,
    WRITE_CHUNK,
    gather,
    get_chunks,
    key_identity,
    unique_writes,
    write_chunks,
)
from dynamodb.core.codec import Item
from dynamodb.core.errors import (
    BatchIncomplete,
    DuplicateItem,
    InvalidArgument,
    ItemAlreadyExists,
    ThrottlingError,
    UniqueViolation,
)
from dynamodb.core.flow import Flow, sleep
from dynamodb.core.progress import ProgressCallback, make_progress
from dynamodb.core.ratelimit import RateLimit
from dynamodb.core.retries import RetryPolicy
from dynamodb.models import lifecycle
from dynamodb.models.limit_checks import check_items, each_within_limits
from dynamodb.models.options import naming_missing_tables
from dynamodb.models.persistence import (
    check_schema_version,
    check_whole,
    prepare_delete,
    prepare_put,
    run_write,
)
from dynamodb.models.projection import ProjectionEntry, projection_of, read_with
from dynamodb.models.sealing import seal_item, warming_keys
from dynamodb.wire import tracing
from dynamodb.wire.telemetry import limiting

if TYPE_CHECKING:
    from dynamodb.models.model import Model
    from dynamodb.wire.connection import Connection

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BatchGetOptions",
    "BatchOptions",
    "BatchPlan",
    "as_instance",
    "plan_batch_delete",
    "plan_batch_get",
    "plan_batch_write",
]

M = TypeVar("M", bound="Model")
R = TypeVar("R")

DEFAULT_CONCURRENCY = 8
"""Chunks in flight at once; see the README's batch section for the measurement."""


class BatchOptions(TypedDict, total=False):
    """The keyword options of every batch call (``batch_write``, ``batch_delete`` ...)."""

    concurrency: int | None
    """Chunk requests in flight at once (default 8)."""
    progress: bool | ProgressCallback | None
    """True for a progress bar, or a callable ``(done, total)``."""
    retry: RetryPolicy | None
    """The retry budget of each chunk (default: ``RetryPolicy()``)."""
    connection: Connection | None
    """The connection to send with (default: the model's)."""
    rate_limit: RateLimit | None
    """Hold the call's chunks, on all their threads or tasks, to this budget of
    capacity units per second (on top of the connection's own)."""


class BatchGetOptions(BatchOptions, total=False):
    """``batch_get``'s options: those of every batch call, and what to read."""

    projections: Iterable[ProjectionEntry] | None
    """Read only these fields and nested paths (and the key, and the version field)."""
    consistent: bool
    """Strongly consistent reads (default False)."""
    keep_missing: bool
    """None in place of a missing item (default: missing items are skipped)."""
    include_expired: bool
    """Return items past their TTLField's time too (default: they read as missing)."""


def _checked(
    cls: type[Model], call: str, options: Mapping[str, Any], kind: type[Mapping[str, Any]]
) -> Mapping[str, Any]:
    """``options``, once every name is known to ``kind`` (a TypedDict)."""
    allowed: frozenset[str] = getattr(kind, "__optional_keys__", frozenset())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidArgument(
            f"{cls.__name__}.{call}() got unknown options {unknown}; it takes {sorted(allowed)}"
        )
    return options


@dataclass
class BatchPlan(Generic[R]):
    """Chunk flows to run, how to turn their outcomes into the result, and where to send."""

    flows: list[Flow[Any]]
    finish: Callable[[list[Any]], R]
    concurrency: int
    connection: Connection
    models: tuple[type[Any], ...] = ()
    """The models read or written (the async run fetches their KMS keys off the loop)."""
    name: str = "batch"
    """The call, as its span is named (``"Test.batch_write"``)."""
    table: str | None = None
    """The table as DynamoDB knows it (with the connection's ``table_prefix``)."""
    rate_limit: RateLimit | None = None

    def run(self) -> R:
        """Run the chunk flows on threads and finish (one span; the threads carry it)."""
        with tracing.call_span(self.name, self.table), limiting(self.rate_limit):
            return self.finish(self.connection.run_many(self.flows, self.concurrency))

    async def arun(self) -> R:
        """Run the chunk flows as tasks on the running event loop and finish."""
        flows = [warming_keys(flow, self.models) for flow in self.flows]
        with tracing.call_span(self.name, self.table), limiting(self.rate_limit):
            return self.finish(await self.connection.arun_many(flows, self.concurrency))


def _plan(
    cls: type[Model],
    flows: Iterable[Flow[Any]],
    finish: Callable[[list[Any]], R],
    options: Mapping[str, Any],
    call: str,
) -> BatchPlan[R]:
    limit = options.get("rate_limit")
    if limit is not None and not isinstance(limit, RateLimit):
        raise InvalidArgument(
            f"{cls.__name__}.{call}(rate_limit=...) takes a dynamodb.RateLimit, not {limit!r}"
        )
    connection = cls._meta.connection(options.get("connection"))
    return BatchPlan(
        [naming_missing_tables(flow, (cls,)) for flow in flows],
        finish,
        options.get("concurrency") or DEFAULT_CONCURRENCY,
        connection,
        (cls,),
        name=f"{cls.__name__}.{call}",
        table=(
            connection.table_prefix + cls._meta.table_name if cls._meta.schema is not None else None
        ),
        rate_limit=limit,
    )


def _chunk_sizes(total: int, chunk: int) -> list[int]:
    return [min(chunk, total - start) for start in range(0, total, chunk)]


def _key_names(cls: type[Model]) -> tuple[str, ...]:
    return tuple(field.name for field in cls._meta.key_fields)


def _python_key(cls: type[Model], item: Mapping[str, Any]) -> dict[str, Any]:
    return {field.attr: field.from_wire(item[field.name]) for field in cls._meta.key_fields}


def _explained(
    cls: type[Model], error: BatchIncomplete, left_key: Callable[[Any], Item]
) -> BatchIncomplete:
    error.keys = [_python_key(cls, left_key(entry)) for entry in error.unprocessed]
    return error


def _finish_chunks(
    cls: type[Model],
    outcomes: list[Any],
    sizes: Sequence[int],
    label: str,
    left_key: Callable[[Any], Item],
    progress_close: Callable[[], None],
) -> list[Any]:
    progress_close()
    try:
        return gather(outcomes, sizes, label)
    except BatchIncomplete as error:
        raise _explained(cls, error, left_key) from None


def as_instance(cls: type[M], entry: Any) -> M:
    if isinstance(entry, cls):
        return entry
    if isinstance(entry, Mapping):
        return cls(**entry)
    raise InvalidArgument(
        f"{cls.__name__}.batch_write() takes {cls.__name__} instances or dicts, not {entry!r}"
    )


def _write_key(request: dict[str, Any]) -> Item:
    if "PutRequest" in request:
        return dict(request["PutRequest"]["Item"])
    return dict(request["DeleteRequest"]["Key"])


def plan_batch_write(
    cls: type[M], items: Iterable[M | Mapping[str, Any]], overwrite: bool, options: BatchOptions
) -> BatchPlan[list[M]]:
    """Plan writing ``items``; they are all validated before anything is sent."""
    _checked(cls, "batch_write", options, BatchOptions)
    progress, retry = options.get("progress"), options.get("retry")
    instances = [as_instance(cls, entry) for entry in items]
    written_at = lifecycle.now()
    for instance in instances:
        check_whole(instance, "batch_write()")
        check_schema_version(instance)
        lifecycle.stamp(instance, written_at, created=instance._original is None)
    key_names = _key_names(cls)
    version = cls._meta.version_field
    wires: list[Item] = []
    plains: dict[int, Item] = {}  # encrypted models: the plaintext forms, by instance
    for instance in instances:
        wire = instance._to_wire_map()
        if version is not None:
            wire[version.name] = {"N": str((instance._data.get(version.attr) or 0) + 1)}
        if cls._meta.encrypted:
            plains[id(instance)], wire = wire, seal_item(instance, wire)
        wires.append(wire)
    check_items(cls, "batch_write()", instances, wires)  # every item, before any chunk
    if not overwrite or cls._meta.unique_fields:
        return _plan_conditional_puts(cls, instances, key_names, options, overwrite)
    by_key = {
        key_identity(wire, key_names): (instance, wire)
        for instance, wire in zip(instances, wires, strict=True)
    }
    requests, _ = unique_writes(({"PutRequest": {"Item": wire}} for wire in wires), key_names)
    reporter = make_progress(progress, len(requests), f"{cls.__name__}.batch_write")
    flows = write_chunks(cls._meta.table_name, requests, policy=retry, on_chunk=reporter.advance)
    sizes = _chunk_sizes(len(requests), WRITE_CHUNK)

    def finish(outcomes: list[Any]) -> list[M]:
        _finish_chunks(
            cls, outcomes, sizes, f"{cls.__name__}.batch_write", _write_key, reporter.close
        )
        written: list[M] = []
        for request in requests:
            instance, wire = by_key[key_identity(request["PutRequest"]["Item"], key_names)]
            if version is not None:
                instance._data[version.attr] = int(wire[version.name]["N"])
            instance._original = plains.get(id(instance), wire)
            written.append(instance)
        return written

    return _plan(cls, flows, finish, options, "batch_write")


def _plan_conditional_puts(
    cls: type[M],
    instances: list[M],
    key_names: Sequence[str],
    options: BatchOptions,
    overwrite: bool = False,
) -> BatchPlan[list[M]]:
    """One write per item, where BatchWriteItem cannot do what is asked: ``overwrite=False``
    (a conditional PutItem each), or a model with unique fields (each put with its
    guard items, in one transaction)."""
    progress, retry = options.get("progress"), options.get("retry")
    seen: dict[Any, M] = {}
    for instance in instances:
        identity = key_identity(instance._key(), key_names)
        if identity in seen and not overwrite:
            raise DuplicateItem(
                f"{cls.__name__}.batch_write(overwrite=False): the key "
                f"{instance.get_primary_key_dict()} is given twice"
            )
        seen[identity] = instance  # overwrite: the last one wins
    instances = list(seen.values())
    reporter = make_progress(progress, len(instances), f"{cls.__name__}.batch_write")

    policy = retry or RetryPolicy()

    def put(instance: M) -> Flow[None]:
        # Throttling means the put was not applied, so retrying is safe (beyond the
        # connection's own attempts, within this batch's budget). A lost answer is
        # confirmed by run_write (a consistent read, then one resend if needed); an
        # outcome still unknown after that is reported as not confirmed.
        for attempt in range(1, policy.max_attempts + 1):
            try:
                yield from run_write(prepare_put(instance, exists_error=not overwrite))
                break
            except ThrottlingError:
                if attempt == policy.max_attempts:
                    raise
                yield from sleep(policy.delay(attempt))
        reporter.advance(1)

    def finish(outcomes: list[Any]) -> list[M]:
        reporter.close()
        _raise_violations(cls, instances, outcomes)
        taken = [
            instance.get_primary_key_dict()
            for instance, outcome in zip(instances, outcomes, strict=True)
            if isinstance(outcome, ItemAlreadyExists)
        ]
        failed = [
            (instance, outcome)
            for instance, outcome in zip(instances, outcomes, strict=True)
            if isinstance(outcome, Exception) and not isinstance(outcome, ItemAlreadyExists)
        ]
        if failed:
            incomplete = BatchIncomplete(
                f"{cls.__name__}.batch_write(overwrite=False): {len(failed)} items not "
                f"confirmed written (first error: {failed[0][1]}); {len(taken)} keys existed "
                "already; see .keys",
                [instance._key() for instance, _ in failed],
                len(instances) - len(failed) - len(taken),
            )
            incomplete.keys = [instance.get_primary_key_dict() for instance, _ in failed]
            raise incomplete from failed[0][1]
        if taken:
            error = ItemAlreadyExists(
                f"{cls.__name__}.batch_write(overwrite=False): {len(taken)} keys exist already "
                f"and were not written (the other {len(instances) - len(taken)} were): {taken}",
                code="ConditionalCheckFailedException",
            )
            error.keys = taken
            raise error
        return instances

    return _plan(cls, [put(instance) for instance in instances], finish, options, "batch_write")


def _raise_violations(cls: type[M], instances: list[M], outcomes: list[Any]) -> None:
    """The first UniqueViolation among a batch's outcomes, listing every item refused."""
    refused = [
        (instance, outcome)
        for instance, outcome in zip(instances, outcomes, strict=True)
        if isinstance(outcome, UniqueViolation)
    ]
    if not refused:
        return
    first = refused[0][1]
    error = UniqueViolation(
        f"{cls.__name__}.batch_write: {len(refused)} items were not written because a unique "
        f"value is taken (the first: {first.field} = {first.value!r}); "
        f"{len(instances) - len(refused)} other items were written or failed otherwise: "
        f"{[instance.get_primary_key_dict() for instance, _ in refused]}",
        code=first.code,
        response=first.response,
        operation=first.operation,
    )
    error.model, error.field, error.value = first.model, first.field, first.value
    raise error from first


def _wire_key(cls: type[Model], key: Any) -> Item:
    if isinstance(key, cls):
        return key._key()
    if isinstance(key, Mapping):
        return cls._key_from_values(key)
    if hasattr(type(key), "_meta"):
        raise InvalidArgument(f"{cls.__name__}: expected a key or a {cls.__name__}, not {key!r}")
    raise InvalidArgument(f"{cls.__name__}: a key is a dict like {{'name': ...}}, not {key!r}")


def plan_batch_get(
    cls: type[M], keys: Sequence[Any], options: BatchGetOptions
) -> BatchPlan[list[M | None]] | BatchPlan[list[M]]:
    """Plan reading ``keys``; results come in the order asked."""
    _checked(cls, "batch_get", options, BatchGetOptions)
    progress, retry = options.get("progress"), options.get("retry")
    keep_missing = options.get("keep_missing", False)
    include_expired = options.get("include_expired", False)
    key_names = _key_names(cls)
    wire_keys = each_within_limits(cls, "batch_get()", keys, lambda key: _wire_key(cls, key))
    projections = options.get("projections")
    projection = None
    if projections is not None:
        projection = read_with(cls, projection_of(cls, projections, "batch_get"), version=True)
    unique = len({key_identity(key, key_names) for key in wire_keys})
    reporter = make_progress(progress, unique, f"{cls.__name__}.batch_get")
    flows = get_chunks(
        cls._meta.table_name,
        wire_keys,
        key_names,
        consistent=options.get("consistent", False),
        attributes=cls._meta.with_entity(
            projection.expression_paths() if projection is not None else None
        ),
        policy=retry,
        on_chunk=reporter.advance,
    )
    sizes = _chunk_sizes(unique, GET_CHUNK)

    def in_order(pages: Iterable[list[Item]]) -> list[Any]:
        found = {key_identity(item, key_names): item for page in pages for item in page}
        results: list[Any] = []
        load = cls._meta.loader()
        for key in wire_keys:
            item = found.get(key_identity(key, key_names))
            loaded = load(item, projection) if item is not None else None
            if loaded is not None and not include_expired and loaded.expired:
                loaded = None
            if loaded is not None or keep_missing:
                results.append(loaded)
        return results

    def finish(outcomes: list[Any]) -> list[Any]:
        try:
            pages = _finish_chunks(
                cls, outcomes, sizes, f"{cls.__name__}.batch_get", dict, reporter.close
            )
        except BatchIncomplete as error:
            # What was read is not lost either: the error carries it, in the order asked.
            error.items = in_order(
                outcome.partial if isinstance(outcome, BatchIncomplete) else outcome
                for outcome in outcomes
                if isinstance(outcome, (list, BatchIncomplete))
            )
            raise
        return in_order(pages)

    return _plan(cls, flows, finish, options, "batch_get")


def plan_batch_delete(
    cls: type[Model], keys: Iterable[Any], options: BatchOptions
) -> BatchPlan[int]:
    """Plan deleting items by key (or by instance); the result is how many keys."""
    _checked(cls, "batch_delete", options, BatchOptions)
    progress, retry = options.get("progress"), options.get("retry")
    key_names = _key_names(cls)
    keys = list(keys)
    wire_keys = each_within_limits(cls, "batch_delete()", keys, lambda key: _wire_key(cls, key))
    if cls._meta.unique_fields:
        return _plan_guarded_deletes(cls, keys, wire_keys, key_names, options)
    requests, _ = unique_writes(({"DeleteRequest": {"Key": key}} for key in wire_keys), key_names)
    reporter = make_progress(progress, len(requests), f"{cls.__name__}.batch_delete")
    flows = write_chunks(cls._meta.table_name, requests, policy=retry, on_chunk=reporter.advance)
    sizes = _chunk_sizes(len(requests), WRITE_CHUNK)

    def finish(outcomes: list[Any]) -> int:
        _finish_chunks(
            cls, outcomes, sizes, f"{cls.__name__}.batch_delete", _write_key, reporter.close
        )
        return len(requests)

    return _plan(cls, flows, finish, options, "batch_delete")


def _plan_guarded_deletes(
    cls: type[Model],
    keys: list[Any],
    wire_keys: list[Item],
    key_names: Sequence[str],
    options: BatchOptions,
) -> BatchPlan[int]:
    """Deletes of a model with unique fields: each with its guard items, in one transaction."""
    progress = options.get("progress")
    chosen: dict[Any, Any] = {}
    for key, wire in zip(keys, wire_keys, strict=True):
        chosen[key_identity(wire, key_names)] = key
    reporter = make_progress(progress, len(chosen), f"{cls.__name__}.batch_delete")

    def delete(key: Any) -> Flow[None]:
        item = key if isinstance(key, cls) else cls._key_instance(key)
        yield from run_write(prepare_delete(item))
        reporter.advance(1)

    def finish(outcomes: list[Any]) -> int:
        reporter.close()
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
        return len(chosen)

    return _plan(cls, [delete(key) for key in chosen.values()], finish, options, "batch_delete")
