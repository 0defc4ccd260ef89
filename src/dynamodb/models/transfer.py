"""Export a table to a file and import it back: DynamoDB JSON lines, JSON lines, CSV.

Formats:

- ``ddb-json``: one ``{"Item": {name: AttributeValue}}`` per line, binary values
  in base64: the format of DynamoDB's export to S3 (and of its import from S3),
  so an AWS export imports here and an export from here imports there. Any
  table, with or without a model.
- ``json``: one ``item.to_son()`` per line (a model is needed); read back with
  ``Model.from_son``.
- ``csv``: a header of the model's field names, then one row per item with the
  ``to_son()`` values (containers as JSON text).

An export is a parallel scan (``segments``, one thread each) of the whole table
(for a model of a shared table, its entities only). An import writes in
``BatchWriteItem`` chunks with the library's retries; it first reads each
chunk's keys (``BatchGetItem``) and skips the items already stored as they
are, so rerunning an import that stopped halfway writes only what is missing
or different, and says how many it skipped (items are keyed, so nothing is
ever duplicated).
"""

from __future__ import annotations

import base64
import csv
import gzip
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, TypeVar

from dynamodb.core.batch import batch_get, get_chunks, key_identity, write_chunks
from dynamodb.core.codec import AttributeValue, Item, wire_equal
from dynamodb.core.errors import InvalidArgument, TransferError
from dynamodb.core.expressions import Placeholders
from dynamodb.core.flow import Flow, call
from dynamodb.core.operations import describe_table
from dynamodb.core.ratelimit import RateLimit
from dynamodb.models.limit_checks import check_items
from dynamodb.models.persistence import check_schema_version
from dynamodb.models.sealing import seal_item
from dynamodb.wire import tracing
from dynamodb.wire.telemetry import limiting

__all__ = [
    "FORMATS",
    "ExportResult",
    "ImportResult",
    "aexport_items",
    "aimport_items",
    "check_rate_limit",
    "export_items",
    "format_of",
    "from_ddb_json",
    "import_items",
    "open_file",
    "read_lines",
    "stored_item",
    "to_ddb_json",
]

FORMATS = ("ddb-json", "json", "csv")
R = TypeVar("R")

_IMPORT_CHUNK = 100
Progress = Callable[[int], None]


def check_rate_limit(rate_limit: Any, owner: str) -> RateLimit | None:
    """``rate_limit`` if it is a :class:`~dynamodb.RateLimit` or None; anything else is
    refused before a request is sent (``owner`` names the call in the message).

    Exports, imports and migrations hold every request they make (scans, batch writes,
    conditional updates, in every thread or task) to it, as ``Model.scan(rate_limit=...)``
    and batches do.
    """
    if rate_limit is None or isinstance(rate_limit, RateLimit):
        return rate_limit
    raise InvalidArgument(
        f"{owner}: rate_limit must be a dynamodb.RateLimit or None, not {rate_limit!r}"
    )


def open_file(path: str | os.PathLike[str], mode: str = "r") -> IO[str]:
    """An export file opened as text (``mode`` ``"r"`` or ``"w"``), gzipped when its name
    ends in ``.gz`` (DynamoDB's export to S3 writes ``.json.gz`` files)."""
    if mode not in ("r", "w"):
        raise InvalidArgument(f"open_file: mode is 'r' or 'w', not {mode!r}")
    if os.fspath(path).endswith(".gz"):
        return gzip.open(path, "rt" if mode == "r" else "wt", encoding="utf-8", newline="")
    return open(path, mode, encoding="utf-8", newline="")


def format_of(path: str | os.PathLike[str]) -> str:
    """The format a file's name says: ``csv`` for ``*.csv`` (or ``*.csv.gz``), else
    ``ddb-json``."""
    name = os.fspath(path).removesuffix(".gz")
    return "csv" if name.endswith(".csv") else "ddb-json"


def stored_item(item: Any, call: str) -> Item:
    """``item`` (a model instance) as a put stores it: its encrypted fields sealed, and
    DynamoDB's limits checked before anything is sent (``call`` names the caller).

    Imports of ``json``/``csv`` and migrations write what this returns, as saves and
    batch writes do.
    """
    check_schema_version(item)  # a migration must not stamp a newer item older
    wire = seal_item(item, item._to_wire_map())
    check_items(type(item), call, [item], [wire])
    return wire


def to_ddb_json(value: AttributeValue) -> Any:
    """An AttributeValue as DynamoDB JSON (binary as base64 text)."""
    ((tag, raw),) = value.items()
    if tag == "B":
        return {"B": base64.b64encode(bytes(raw)).decode("ascii")}
    if tag == "BS":
        return {"BS": [base64.b64encode(bytes(member)).decode("ascii") for member in raw]}
    if tag == "M":
        return {"M": {name: to_ddb_json(member) for name, member in raw.items()}}
    if tag == "L":
        return {"L": [to_ddb_json(member) for member in raw]}
    return {tag: raw}


def from_ddb_json(value: Any) -> AttributeValue:
    """DynamoDB JSON as an AttributeValue (base64 text back to bytes)."""
    if not isinstance(value, dict) or len(value) != 1:
        raise TransferError(f"not a DynamoDB JSON value: {value!r}")
    ((tag, raw),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(raw)}
    if tag == "BS":
        return {"BS": [base64.b64decode(member) for member in raw]}
    if tag == "M":
        return {"M": {name: from_ddb_json(member) for name, member in raw.items()}}
    if tag == "L":
        return {"L": [from_ddb_json(member) for member in raw]}
    if tag not in ("S", "N", "BOOL", "NULL", "SS", "NS"):
        raise TransferError(f"not a DynamoDB JSON value: {value!r}")
    return {tag: raw}


@dataclass
class ExportResult:
    """What an export wrote: items, and the table."""

    table: str
    items: int


@dataclass
class ImportResult:
    """What an import did: items written, skipped (stored as they are already), and read."""

    table: str
    read: int
    written: int
    skipped: int


def _son_default(value: Any) -> Any:
    return str(value)


class _Writer:
    """Encodes items in one format and writes them to ``out``, one thread at a time."""

    def __init__(self, out: IO[str], format: str, model: type[Any] | None) -> None:
        if format not in FORMATS:
            raise TransferError(f"unknown format {format!r}: one of {', '.join(FORMATS)}")
        if format != "ddb-json" and model is None:
            raise TransferError(f"the {format} format needs a model (give the model, not a table)")
        self.out = out
        self.format = format
        self.model = model
        self.lock = threading.Lock()
        self.count = 0
        self.csv: Any = None
        if format == "csv":
            assert model is not None
            self.columns = list(model._meta.fields)
            self.csv = csv.writer(out)
            self.csv.writerow(self.columns)

    def lines(self, items: list[Item]) -> list[str] | list[list[str]]:
        if self.format == "ddb-json":
            return [
                json.dumps({"Item": {name: to_ddb_json(v) for name, v in item.items()}}) + "\n"
                for item in items
            ]
        assert self.model is not None
        loaded = [self.model._meta.loader()(item, None) for item in items]
        sons = [son.to_son() for son in loaded if son is not None]
        if self.format == "json":
            return [json.dumps(son, default=_son_default) + "\n" for son in sons]
        fields = self.model._meta.fields
        return [[_cell(fields[column], son.get(column)) for column in self.columns] for son in sons]

    def write(self, items: list[Item]) -> int:
        rows = self.lines(items)
        with self.lock:
            if self.csv is not None:
                self.csv.writerows(rows)
            else:
                self.out.writelines(rows)  # type: ignore[arg-type]
            self.count += len(rows)
        return len(rows)


def _cell(field: Any, value: Any) -> str:
    """A ``to_son()`` value as a CSV cell: text as it is, anything else as JSON; empty: no
    value."""
    if value is None:
        return ""
    if _text_field(field) and isinstance(value, str):
        return value
    return json.dumps(value, default=_son_default)


def _scan_request(table: str, model: type[Any] | None) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": table}
    entity = model._meta.entity_filter() if model is not None else None
    if entity is not None:
        placeholders = Placeholders()
        request["FilterExpression"] = entity.render(placeholders)
        placeholders.apply(request)
    return request


def _export_segment(
    request: dict[str, Any], segment: int, total: int, writer: _Writer, on_items: Progress | None
) -> Flow[int]:
    request = {**request, "Segment": segment, "TotalSegments": total}
    written = 0
    while True:
        response = yield from call("Scan", request)
        items = response.get("Items", [])
        if items:
            count = writer.write(items)
            written += count
            if on_items is not None:
                on_items(count)
        last = response.get("LastEvaluatedKey")
        if not last:
            return written
        request = {**request, "ExclusiveStartKey": last}


def _export_flows(
    table: str,
    out: IO[str],
    format: str,
    model: type[Any] | None,
    segments: int,
    on_items: Progress | None,
    rate_limit: Any,
) -> tuple[_Writer, list[Flow[int]]]:
    check_rate_limit(rate_limit, "export_items")
    if not isinstance(segments, int) or isinstance(segments, bool) or segments < 1:
        raise TransferError(f"segments must be a positive int, not {segments!r}")
    writer = _Writer(out, format, model)
    request = _scan_request(table, model)
    return writer, [
        _export_segment(request, n, segments, writer, on_items) for n in range(segments)
    ]


def raise_first(outcomes: Iterable[R | Exception]) -> list[R]:
    """The results of ``run_many`` / ``arun_many``, in order; the first exception among
    them is raised instead (exports, imports and migrations stop at a failed flow)."""
    results: list[R] = []
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
        results.append(outcome)
    return results


def export_items(
    connection: Any,
    table: str,
    out: IO[str],
    *,
    format: str = "ddb-json",
    model: type[Any] | None = None,
    segments: int = 4,
    on_items: Progress | None = None,
    rate_limit: Any = None,
) -> ExportResult:
    """Scan ``table`` in ``segments`` parallel segments and write every item to ``out``.

    ``model`` (needed for ``json`` and ``csv``) also limits a shared table to its
    entities. ``on_items(n)`` is called as items are written (progress).
    ``rate_limit``: a :class:`~dynamodb.RateLimit` for every request it makes.
    """
    writer, flows = _export_flows(table, out, format, model, segments, on_items, rate_limit)
    with tracing.call_span("export_items", table), limiting(rate_limit):
        raise_first(connection.run_many(flows, segments))
    return ExportResult(table, writer.count)


async def aexport_items(
    connection: Any,
    table: str,
    out: IO[str],
    *,
    format: str = "ddb-json",
    model: type[Any] | None = None,
    segments: int = 4,
    on_items: Progress | None = None,
    rate_limit: Any = None,
) -> ExportResult:
    """Async twin of :func:`export_items` (segments as tasks)."""
    writer, flows = _export_flows(table, out, format, model, segments, on_items, rate_limit)
    with tracing.call_span("export_items", table), limiting(rate_limit):
        raise_first(await connection.arun_many(flows, segments))
    return ExportResult(table, writer.count)


# -- import ---------------------------------------------------------------------------


def read_lines(
    source: IO[str], format: str = "ddb-json", model: type[Any] | None = None
) -> Iterator[Item]:
    """The items of an export file, as AttributeValues (TransferError names a bad line)."""
    if format not in FORMATS:
        raise TransferError(f"unknown format {format!r}: one of {', '.join(FORMATS)}")
    if format != "ddb-json" and model is None:
        raise TransferError(f"the {format} format needs a model (give the model, not a table)")
    if format == "csv":
        assert model is not None
        reader = csv.DictReader(source)
        fields = model._meta.fields
        for number, row in enumerate(reader, start=2):
            try:
                data = {
                    name: _from_cell(fields[name], value)
                    for name, value in row.items()
                    if value not in ("", None)
                }
                yield stored_item(model.from_son(data), "import")
            except Exception as error:
                raise TransferError(f"line {number}: {error}") from error
        return
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            if format == "ddb-json":
                if not isinstance(document, dict) or not isinstance(document.get("Item"), dict):
                    raise TransferError('not {"Item": {...}}')
                yield {name: from_ddb_json(v) for name, v in document["Item"].items()}
            else:
                assert model is not None
                yield stored_item(model.from_son(document), "import")
        except Exception as error:
            if isinstance(error, TransferError) and str(error).startswith("line "):
                raise
            raise TransferError(f"line {number}: {error}") from error


def _inner(field: Any) -> Any:
    """The field a wrapper (EncryptedField, CompressedField) holds, else ``field``."""
    from dynamodb.models.fields.wrapped import WrappingField

    while isinstance(field, WrappingField):
        field = field.inner
    return field


def _text_field(field: Any) -> bool:
    """Whether ``field``'s ``to_son()`` values are text, written to a CSV cell as they are
    (every other field's cell is JSON: numbers, true/false, lists, objects)."""
    from dynamodb.models.fields import (
        BinaryField,
        CharField,
        DateField,
        DateTimeField,
        EnumField,
        TTLField,
        UUIDField,
    )

    field = _inner(field)
    if isinstance(field, EnumField):
        return field.key_type == "S"
    return isinstance(
        field, (CharField, BinaryField, UUIDField, DateTimeField, DateField, TTLField)
    )


def _from_cell(field: Any, text: str) -> Any:
    """A CSV cell as the ``to_son()`` value of ``field``: read by the field's type, so a
    CharField holding ``[1]`` stays text."""
    from dynamodb.models.fields import DecimalField

    if _text_field(field):
        return text
    try:
        return json.loads(
            text, parse_float=Decimal if isinstance(_inner(field), DecimalField) else float
        )
    except ValueError:
        raise TransferError(f"{field.attr}: not a JSON value: {text!r}") from None


def _key_names(table: str) -> Flow[tuple[str, ...]]:
    description = yield from describe_table(table)
    return tuple(key["AttributeName"] for key in description["KeySchema"])


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _same(first: Item, second: Item) -> bool:
    return first.keys() == second.keys() and all(
        wire_equal(value, second[name]) for name, value in first.items()
    )


def _import_chunk(table: str, items: list[Item], key_names: tuple[str, ...]) -> Flow[int]:
    """Write the items not stored as they are; how many were skipped."""
    unique = list({key_identity(item, key_names): item for item in items}.values())
    keys = [{name: item[name] for name in key_names} for item in unique]
    found = yield from batch_get(get_chunks(table, keys, key_names, consistent=True), key_names)
    todo = [
        item
        for item in unique
        if (stored := found.get(key_identity(item, key_names))) is None or not _same(item, stored)
    ]
    requests = [{"PutRequest": {"Item": item}} for item in todo]
    for chunk in write_chunks(table, requests):
        yield from chunk
    return len(items) - len(todo)


class _Import:
    """One import's state: its chunks go out ``concurrency`` at a time, counted as they end."""

    def __init__(self, table: str, key_names: tuple[str, ...], on_items: Progress | None):
        self.table = table
        self.key_names = key_names
        self.on_items = on_items
        self.read = self.written = self.skipped = 0

    def batches(self, items: Iterable[Item], concurrency: int) -> Iterator[list[list[Item]]]:
        batch: list[list[Item]] = []
        for chunk in _chunks(items, _IMPORT_CHUNK):
            missing = [name for name in self.key_names for item in chunk if name not in item]
            if missing:
                raise TransferError(
                    f"table {self.table}: an item has no key attribute {missing[0]!r}"
                )
            self.read += len(chunk)
            batch.append(chunk)
            if len(batch) >= concurrency:
                yield batch
                batch = []
        if batch:
            yield batch

    def flows(self, batch: list[list[Item]]) -> list[Flow[int]]:
        return [_import_chunk(self.table, chunk, self.key_names) for chunk in batch]

    def take(self, batch: list[list[Item]], outcomes: Iterable[Any]) -> None:
        for chunk, skipped in zip(batch, raise_first(outcomes), strict=True):
            self.skipped += skipped
            self.written += len(chunk) - skipped
            if self.on_items is not None:
                self.on_items(len(chunk))

    def result(self) -> ImportResult:
        return ImportResult(self.table, self.read, self.written, self.skipped)


def import_items(
    connection: Any,
    table: str,
    items: Iterable[Item],
    *,
    concurrency: int = 4,
    on_items: Progress | None = None,
    rate_limit: Any = None,
) -> ImportResult:
    """Write ``items`` (AttributeValues) to ``table``; skips items stored as they are.

    Chunks of 100 items run ``concurrency`` at a time; ``on_items(n)`` is called
    after each chunk (progress). ``rate_limit``: a :class:`~dynamodb.RateLimit` for
    every request it makes.
    """
    limit = check_rate_limit(rate_limit, "import_items")
    with tracing.call_span("import_items", table), limiting(limit):
        job = _Import(table, connection.run(_key_names(table)), on_items)
        for batch in job.batches(items, concurrency):
            job.take(batch, connection.run_many(job.flows(batch), concurrency))
    return job.result()


async def aimport_items(
    connection: Any,
    table: str,
    items: Iterable[Item],
    *,
    concurrency: int = 4,
    on_items: Progress | None = None,
    rate_limit: Any = None,
) -> ImportResult:
    """Async twin of :func:`import_items` (chunks as tasks)."""
    limit = check_rate_limit(rate_limit, "import_items")
    with tracing.call_span("import_items", table), limiting(limit):
        job = _Import(table, await connection.arun(_key_names(table)), on_items)
        for batch in job.batches(items, concurrency):
            job.take(batch, await connection.arun_many(job.flows(batch), concurrency))
    return job.result()
