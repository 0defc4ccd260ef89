"""A table's stream as typed changes: readers, checkpoints, leases, and Lambda events.

``for change in Order.stream(checkpoints=TableCheckpoints("stream_checkpoints")):``
reads every shard of the table's stream (:mod:`dynamodb.core.streams` does the
reading, :mod:`dynamodb.core.leases` keeps checkpoints and leases) and yields a
:class:`Change` per record: its kind, the item before and after as model
instances, its key, the fields that changed. ``async for`` over
``Order.astream(...)`` is the same reader on the event loop: both loops drive one
generator of steps (:meth:`ChangeStream._steps`), and differ only in running flows.

Delivery is at least once. A batch (one GetRecords answer) is checkpointed when
the loop asks for the change after its last one; a reader that stops before
(a crash, ``break``, an exception) has that batch delivered again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import uuid
from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, cast

from dynamodb.core.codec import AttributeValue, wire_equal
from dynamodb.core.errors import DecodeError, InvalidArgument, InvalidValue, UnknownField
from dynamodb.core.flow import Flow
from dynamodb.core.leases import Checkpoints, MemoryCheckpoints, TableCheckpoints
from dynamodb.core.streams import (
    Batch,
    StreamRecord,
    StreamSession,
    check_settings,
    parse_record,
    stream_of_table,
)
from dynamodb.models import lifecycle
from dynamodb.models.fields import Field
from dynamodb.models.options import naming_missing_tables
from dynamodb.models.registry import models_of_table
from dynamodb.wire.connection import Connection

if TYPE_CHECKING:
    from dynamodb.models.model import Model

__all__ = [
    "KINDS",
    "Change",
    "ChangeStream",
    "MemoryCheckpoints",
    "StreamOptions",
    "TableCheckpoints",
    "batch_item_failures",
    "handle_lambda_event",
    "parse_lambda_event",
    "read",
    "stream_of",
]

M = TypeVar("M", bound="Model")

_logger = logging.getLogger("dynamodb.streams")

KINDS = ("insert", "modify", "remove")
"""What a change can be."""

_KIND_OF_EVENT = {"INSERT": "insert", "MODIFY": "modify", "REMOVE": "remove"}

DEFAULT_ENTITY_ATTRIBUTE = "_type"
"""The attribute naming an item's model in a table several models share."""


class StreamOptions(TypedDict, total=False):
    """The keyword options of a stream reader (``Model.stream``, ``streams.read``)."""

    start: str
    """Where a shard without a checkpoint begins: ``"trim_horizon"`` (the oldest
    record kept, the default) or ``"latest"`` (changes made from now on)."""
    checkpoints: Checkpoints | None
    """Where checkpoints and leases are kept: ``TableCheckpoints("name")`` to resume
    after a restart and share the shards with other readers; default: in memory,
    for this reader only."""
    worker: str | None
    """This reader's name among those sharing the checkpoints (default: host, process
    id and a random part)."""
    group: str | None
    """The readers that split one stream's shards between them (default: the names
    of the models read). Readers doing different work keep different groups."""
    lease_seconds: float
    """How long a lease lasts without a heartbeat (default 10): how soon another
    reader takes over the shards of one that died."""
    stop_after: int | float | timedelta | None
    """End the loop after this many changes (an int), or after so many seconds
    (a float, or a timedelta) without records. Default: read on for ever."""
    batch_size: int
    """Records per GetRecords request (1 to 1000, the default)."""
    auto_checkpoint: bool
    """Checkpoint each batch once its changes were handled (default True); False:
    only ``change.checkpoint()`` writes checkpoints."""
    connection: Connection | None
    """The connection to read with (default: the model's)."""


_OPTION_NAMES: frozenset[str] = StreamOptions.__optional_keys__


# -- changes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change(Generic[M]):
    """One change of one item, read from a table's stream (or a Lambda event).

    ``kind`` is ``"insert"``, ``"modify"`` or ``"remove"``; ``old`` and ``new``
    are the item before and after as instances of ``model`` (None where the
    stream does not carry that image, and ``old`` of an insert, ``new`` of a
    removal); ``keys`` is the item's key, ``{python name: value}``; ``changed``
    names the fields whose values differ between ``old`` and ``new`` (every
    field set, for an insert or a removal; None when the stream's view does not
    carry the images needed to tell); ``at`` is the approximate time of the
    change (aware, UTC); ``by_ttl`` is True for a deletion made by DynamoDB's TTL.
    """

    kind: str
    model: type[M]
    keys: dict[str, Any]
    old: M | None
    new: M | None
    changed: frozenset[str] | None
    sequence_number: str
    at: datetime
    by_ttl: bool = False
    shard_id: str | None = field(default=None, compare=False)
    event_id: str = field(default="", compare=False)
    _acknowledge: _Acknowledge | None = field(default=None, compare=False, repr=False)

    def checkpoint(self) -> None:
        """Checkpoint this change now: a restarted reader resumes after it.

        Raises LeaseLost if another reader holds this change's shard now (then
        the changes since the last checkpoint are delivered to it again).
        """
        self._acknowledger().run(self)

    async def acheckpoint(self) -> None:
        """Async twin of :meth:`checkpoint`."""
        await self._acknowledger().arun(self)

    def _acknowledger(self) -> _Acknowledge:
        if self._acknowledge is None:
            raise InvalidArgument(
                "this change was not read by a stream reader (a Lambda event's, say): "
                "Lambda checkpoints by the function's answer (see batch_item_failures)"
            )
        return self._acknowledge


@dataclass(frozen=True)
class _Acknowledge:
    """How a change read by a reader checkpoints itself: its session, on its connection."""

    session: StreamSession
    connection: Connection

    def run(self, change: Change[Any]) -> None:
        assert change.shard_id is not None
        self.connection.run(self.session.checkpoint(change.shard_id, change.sequence_number))

    async def arun(self, change: Change[Any]) -> None:
        assert change.shard_id is not None
        await self.connection.arun(self.session.checkpoint(change.shard_id, change.sequence_number))


def _class_for_item(
    models: Sequence[type[M]], item: Mapping[str, AttributeValue]
) -> type[M] | None:
    """The class ``item`` (a raw image, or a key) is read as: in a shared table, that of
    the entity its ``_type`` names (one of ``models`` or a subclass of one); None when
    it is of none of theirs."""
    for model in models:
        found = model._meta.class_for(item)
        if found is not None:
            return found
    if len(models) == 1 and models[0]._meta.entity_attribute not in item:
        return models[0]  # a key, or an image without an entity: the only model given
    return None


def _decode(
    models: Sequence[type[M]],
    record: StreamRecord,
    acknowledge: _Acknowledge | None = None,
) -> Change[M] | None:
    """The typed change of ``record``; None when its item is none of ``models``'."""
    image = record.new_image if record.new_image is not None else record.old_image
    model = _class_for_item(models, image if image is not None else record.keys)
    if model is None:
        return None
    try:
        old = model._from_wire(record.old_image) if record.old_image is not None else None
        new = model._from_wire(record.new_image) if record.new_image is not None else None
        keys = {
            key.attr: key.from_wire(record.keys[key.name])
            for key in model._meta.key_fields
            if key.name in record.keys
        }
    except DecodeError as error:
        error.add_note(
            f"in the stream record {record.sequence_number}"
            + (f" of shard {record.shard_id}" if record.shard_id else "")
        )
        raise
    return Change(
        kind=_KIND_OF_EVENT[record.event_name],
        model=model,
        keys=keys,
        old=old,
        new=new,
        changed=_changed(model, record),
        sequence_number=record.sequence_number,
        at=record.created,
        by_ttl=record.by_ttl,
        shard_id=record.shard_id,
        event_id=record.event_id,
        _acknowledge=acknowledge,
    )


def _changed(model: type[Any], record: StreamRecord) -> frozenset[str] | None:
    """The fields whose stored values differ between the record's images."""
    old, new = record.old_image, record.new_image
    fields: Iterable[Field[Any]] = model._meta.fields.values()
    if record.event_name == "INSERT":
        old = {} if new is not None else None
    elif record.event_name == "REMOVE":
        new = {} if old is not None else None
    if old is None or new is None:
        return None
    return frozenset(
        field.attr for field in fields if not _same(old.get(field.name), new.get(field.name))
    )


def _same(first: AttributeValue | None, second: AttributeValue | None) -> bool:
    if first is None or second is None:
        return first is second
    return wire_equal(first, second)


# -- readers -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Filter:
    kinds: frozenset[str] | None
    changed: frozenset[str] | None

    def admits(self, change: Change[Any]) -> bool:
        if self.kinds is not None and change.kind not in self.kinds:
            return False
        if self.changed is not None:
            return change.changed is not None and not self.changed.isdisjoint(change.changed)
        return True


class ChangeStream(Generic[M]):
    """The changes of a table's stream: ``for`` (or ``async for``) reads them.

    Made by ``Model.stream()`` / ``Model.astream()`` and :func:`read`; each loop
    over it is a reader of its own, which starts where its checkpoints say and
    gives its leases up when the loop ends. :meth:`where` narrows it.
    """

    def __init__(
        self,
        models: Sequence[type[M]],
        options: StreamOptions,
        *,
        label: str,
        connection: Connection | None = None,
        filters: tuple[_Filter, ...] = (),
    ) -> None:
        self.models = tuple(models)
        self.options = options
        self.label = label
        self._connection = connection
        self._filters = filters
        self._count, self._idle = _stop_after(label, options.get("stop_after"))
        self._check(options)

    def __repr__(self) -> str:
        return f"<ChangeStream of {self.label}>"

    @property
    def table_name(self) -> str:
        """The table whose stream this reads."""
        return self.models[0]._meta.table_name

    def _check(self, options: StreamOptions) -> None:
        where = f"{self.label} stream"
        check_settings(
            start=options.get("start", "trim_horizon"),
            lease_seconds=options.get("lease_seconds", 10.0),
            batch_size=options.get("batch_size", 1000),
            where=where,
        )
        for name in ("worker", "group"):
            value = options.get(name)
            if value is not None and (not isinstance(value, str) or not value):
                raise InvalidValue(f"{where}: {name} must be a non-empty string, not {value!r}")
        checkpoints = options.get("checkpoints")
        if checkpoints is not None and not all(
            callable(getattr(checkpoints, method, None)) for method in ("prepare", "load", "save")
        ):
            raise InvalidArgument(
                f"{where}: checkpoints must be TableCheckpoints(...) (or MemoryCheckpoints()), "
                f"not {checkpoints!r}"
            )
        if not isinstance(options.get("auto_checkpoint", True), bool):
            raise InvalidValue(f"{where}: auto_checkpoint is True or False")

    def where(
        self,
        *,
        kind: str | Iterable[str] | None = None,
        changed: str | Field[Any] | Iterable[str | Field[Any]] | None = None,
    ) -> ChangeStream[M]:
        """Only the changes of ``kind`` (one of ``"insert"``, ``"modify"``, ``"remove"``,
        or several) that changed any of the fields ``changed`` (names or fields).

        An insert or a removal changes every field it has a value for. Changes
        filtered out are still checkpointed with their batch. Calls add up.
        """
        kinds = None if kind is None else _kinds(self.label, kind)
        fields = None if changed is None else _field_names(self.label, self.models, changed)
        return ChangeStream(
            self.models,
            self.options,
            label=self.label,
            connection=self._connection,
            filters=(*self._filters, _Filter(kinds, fields)),
        )

    # -- one generator of steps, two drivers ---------------------------------------------

    def _connection_to_use(self) -> Connection:
        return (
            self.options.get("connection") or self._connection or self.models[0]._meta.connection()
        )

    def _session(self, arn: str) -> StreamSession:
        options = self.options
        group = options.get("group") or self.label
        worker = options.get("worker") or (
            f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        )
        return StreamSession(
            arn,
            f"{group}|{arn}",
            options.get("checkpoints") or MemoryCheckpoints(),
            worker,
            lease_seconds=options.get("lease_seconds", 10.0),
            start=options.get("start", "trim_horizon"),
            batch_size=options.get("batch_size", 1000),
            idle_limit=self._idle,
        )

    def _steps(self, loop: _Loop[M]) -> Generator[Flow[Any] | Change[M], Any, None]:
        """One loop's work: flows to run (their results sent back) and changes to hand out."""
        locate = stream_of_table(self.table_name, self.label)
        arn = yield naming_missing_tables(locate, self.models)
        session = loop.session = self._session(arn)
        acknowledge = _Acknowledge(session, loop.connection)
        auto = self.options.get("auto_checkpoint", True)
        delivered = 0
        while True:
            batch: Batch | None = yield session.next_batch()
            if batch is None:
                return
            for record in batch.records:
                change = _decode(self.models, record, acknowledge)
                if change is not None and all(rule.admits(change) for rule in self._filters):
                    yield lifecycle.after_load((change.old, change.new))
                    yield change
                    delivered += 1
                    if self._count is not None and delivered >= self._count:
                        if auto:
                            yield session.acknowledge(batch, record)
                        return
                if session.renewal_due():
                    lost = yield session.renew()
                    if batch.shard_id in lost:
                        break  # its new holder delivers the rest
            else:
                yield session.acknowledge(batch, write=auto)

    def __iter__(self) -> Iterator[Change[M]]:
        loop = _Loop(self)
        try:
            step = loop.next(None)
            while step is not None:
                if isinstance(step, Change):
                    yield step
                    step = loop.next(None)
                else:
                    step = loop.next(loop.connection.run(step))
        finally:
            with loop.ending():
                loop.connection.run(loop.release())

    def __aiter__(self) -> AsyncIterator[Change[M]]:
        return self._aiterate()

    async def _aiterate(self) -> AsyncIterator[Change[M]]:
        loop = _Loop(self)
        try:
            step = loop.next(None)
            while step is not None:
                if isinstance(step, Change):
                    yield step
                    step = loop.next(None)
                else:
                    step = loop.next(await loop.connection.arun(step))
        finally:
            with loop.ending():
                await loop.connection.arun(loop.release())


class _Loop(Generic[M]):
    """One loop over a ChangeStream: its connection, its steps, its session once found.

    The sync and async loops only run the flows :meth:`next` hands them.
    """

    __slots__ = ("connection", "label", "session", "steps")

    def __init__(self, stream: ChangeStream[M]) -> None:
        self.label = stream.label
        self.connection = stream._connection_to_use()
        self.session: StreamSession | None = None
        self.steps = stream._steps(self)

    def next(self, reply: Any) -> Flow[Any] | Change[M] | None:
        """The next step, given the last flow's result; None at the end."""
        try:
            return self.steps.send(reply)
        except StopIteration:
            return None

    def release(self) -> Flow[None]:
        """Give the leases up (nothing to do before the stream was found, or once the
        interpreter is shutting down: a loop left open till then lets them expire)."""
        if self.session is not None and not sys.is_finalizing():
            yield from self.session.release()

    @contextlib.contextmanager
    def ending(self) -> Iterator[None]:
        """Around the release: the steps closed first, a failure logged (leases expire anyway)."""
        self.steps.close()
        try:
            yield
        except Exception:
            _logger.warning("%s stream: leases not given up", self.label, exc_info=True)


def _stop_after(label: str, value: Any) -> tuple[int | None, float | None]:
    """``stop_after`` as (a number of changes, seconds without records)."""
    if value is None:
        return None, None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValue(
            f"{label} stream: stop_after is a number of changes (an int) or of seconds "
            f"without records (a float or a timedelta), not {value!r}"
        )
    elif isinstance(value, int):
        if value < 1:
            raise InvalidValue(f"{label} stream: stop_after={value} changes is not positive")
        return value, None
    if value <= 0:
        raise InvalidValue(f"{label} stream: stop_after={value} seconds is not positive")
    return None, float(value)


def _kinds(label: str, kind: str | Iterable[str]) -> frozenset[str]:
    kinds = frozenset([kind] if isinstance(kind, str) else kind)
    unknown = sorted(kinds - set(KINDS))
    if unknown or not kinds:
        raise InvalidValue(
            f"{label} stream: where(kind=...) takes {', '.join(map(repr, KINDS))}, not "
            f"{', '.join(map(repr, unknown)) or 'nothing'}"
        )
    return kinds


def _field_names(
    label: str, models: Sequence[type[Any]], changed: str | Field[Any] | Iterable[str | Field[Any]]
) -> frozenset[str]:
    entries = [changed] if isinstance(changed, (str, Field)) else list(changed)
    names: set[str] = set()
    for entry in entries:
        name = entry.attr if isinstance(entry, Field) else entry
        if not isinstance(name, str) or not any(name in model._meta.fields for model in models):
            known = sorted({attr for model in models for attr in model._meta.fields})
            raise UnknownField(
                f"{label} stream: where(changed=...) names {entry!r}, which is no field of "
                f"{label}; the fields are {known}"
            )
        names.add(name)
    if not names:
        raise InvalidValue(f"{label} stream: where(changed=...) names no field")
    return frozenset(names)


# -- what is read -------------------------------------------------------------------------


def _models_of(source: Any) -> tuple[tuple[type[Any], ...], str, Connection | None]:
    """The models a reader decodes for (one table's), its default group, and connection.

    ``source`` is a model class, a list of them, or a :class:`~dynamodb.Table`
    (every model defined for its table, the table's own first).
    """
    connection = None
    if not isinstance(source, type) and hasattr(source, "model") and hasattr(source, "schema"):
        own = source.model
        table = own._meta.table_name
        others = [model for model in models_of_table(table) if model is not own]
        models: tuple[type[Any], ...] = (own, *others)
        label = table
        connection = source.connection
    else:
        usage = "streams.read() takes a model, a list of models sharing a table, or a Table"
        if isinstance(source, type):
            given: list[Any] = [source]
        elif isinstance(source, Iterable) and not isinstance(source, (str, bytes, Mapping)):
            given = list(source)
        else:
            raise InvalidArgument(f"{usage}, not {source!r}")
        if not given:
            raise InvalidArgument(f"{usage}, not an empty list")
        for model in given:
            if not isinstance(model, type) or not hasattr(model, "_meta"):
                raise InvalidArgument(f"{usage}, not {model!r}")
            model._meta.require_table()
        tables = sorted({model._meta.table_name for model in given})
        if len(tables) > 1:
            raise InvalidArgument(
                "a stream belongs to one table: the models given are stored in "
                f"{', '.join(tables)}; read each table's stream on its own"
            )
        models = tuple(dict.fromkeys(given))
        label = "+".join(model.__name__ for model in models)
    return models, label, connection


def _checked(label: str, options: Mapping[str, Any]) -> StreamOptions:
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise InvalidArgument(
            f"{label} stream: unknown options {unknown}; it takes {sorted(_OPTION_NAMES)}"
        )
    return cast(StreamOptions, dict(options))


def stream_of(model: type[M], options: Mapping[str, Any]) -> ChangeStream[M]:
    """``Model.stream(**options)``: the model's changes (in a shared table, its items only)."""
    model._meta.require_table()
    return ChangeStream((model,), _checked(model.__name__, options), label=model.__name__)


def read(source: Any, **options: Any) -> ChangeStream[Any]:
    """The changes of a table's stream, for ``for`` or ``async for``.

    ``source`` is a :class:`~dynamodb.Table` (its items of every model defined
    for the table), a model class, or a list of the models sharing a table; each
    change comes as its item's model. The options are :class:`StreamOptions`.
    """
    models, label, connection = _models_of(source)
    return ChangeStream(models, _checked(label, options), label=label, connection=connection)


# -- Lambda -----------------------------------------------------------------------------------


def _lambda_records(event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        raise InvalidValue(
            "not a Lambda DynamoDB Streams event: it has no Records list "
            f"(got {type(event).__name__})"
        )
    for raw in records:
        source = raw.get("eventSource") if isinstance(raw, Mapping) else None
        if source not in (None, "aws:dynamodb"):
            raise InvalidValue(f"a Lambda event record from {source!r}, not from DynamoDB Streams")
    return records


def parse_lambda_event(event: Mapping[str, Any], models: Any) -> list[Change[Any]]:
    """The changes of a Lambda DynamoDB Streams event, as a reader would give them.

    ``models`` is a model class or the list of models sharing the table (each
    change comes as its item's model; items of other models are left out).
    Binary values (base64 in the event) are decoded. Lambda checkpoints by the
    function's answer: see :func:`batch_item_failures`.
    """
    chosen, _, _ = _models_of(models)
    changes = []
    for raw in _lambda_records(event):
        change = _decode(chosen, parse_record(raw, base64_binary=True))
        if change is not None:
            changes.append(change)
    return changes


def batch_item_failures(failed: Iterable[Change[Any] | str]) -> dict[str, list[dict[str, str]]]:
    """The answer of a Lambda function that failed ``failed`` (changes or sequence numbers).

    With ``ReportBatchItemFailures`` on the event source mapping, Lambda retries
    the batch from the lowest sequence number listed; ``{"batchItemFailures": []}``
    says every record succeeded.
    """
    identifiers = [entry if isinstance(entry, str) else entry.sequence_number for entry in failed]
    return {"batchItemFailures": [{"itemIdentifier": number} for number in identifiers]}


def handle_lambda_event(
    event: Mapping[str, Any], models: Any, handler: Callable[[Change[Any]], object]
) -> dict[str, list[dict[str, str]]]:
    """Call ``handler`` for each change of a Lambda event, in order; the function's answer.

    At the first change whose handler raises (or that cannot be decoded), the
    rest are left for Lambda to deliver again: the answer names that record
    (:func:`batch_item_failures`), and the error is logged. Changes of the same
    key therefore keep their order.
    """
    chosen, _, _ = _models_of(models)
    for raw in _lambda_records(event):
        record = parse_record(raw, base64_binary=True)
        try:
            change = _decode(chosen, record)
            if change is not None:
                handler(change)
        except Exception:
            _logger.exception(
                "stream record %s failed; Lambda retries from it", record.sequence_number
            )
            return batch_item_failures([record.sequence_number])
    return batch_item_failures([])
