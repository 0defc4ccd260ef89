"""Export and import: the 4,610 movies of the AWS tutorial, round trip, and reruns."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

import dynamodb
from dynamodb import (
    BinaryField,
    BooleanField,
    CharField,
    Connection,
    DecimalField,
    DictField,
    EncryptedField,
    FloatField,
    IntegerField,
    JSONField,
    ListField,
    Model,
    SetField,
)
from dynamodb.encryption import StaticKeys
from dynamodb.exceptions import TransferError
from dynamodb.models.transfer import export_items, import_items, read_lines
from tests.support.movies import MOVIE_COUNT, movies


class ExportedMovie(Model):
    __table_name__ = "test_transfer_movies"

    year = IntegerField(hash_key=True)
    title = CharField(range_key=True)
    info = DictField()


class ImportedMovie(ExportedMovie):
    __table_name__ = "test_transfer_movies_copy"


class Blob(Model):
    __table_name__ = "test_transfer_blobs"

    id = CharField(hash_key=True)
    data = BinaryField()
    tags = SetField(of=str)


@pytest.fixture(scope="module")
def loaded(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(ExportedMovie, force=True)
    ExportedMovie.batch_write(ExportedMovie(**movie) for movie in movies())
    yield
    dynamodb.delete_table(ExportedMovie)


@pytest.fixture
def copy_table(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(ImportedMovie, force=True)
    yield
    dynamodb.delete_table(ImportedMovie)


def raw_scan(connection: Connection, table: str) -> list[dict[str, Any]]:
    pages = connection.client.get_paginator("scan").paginate(TableName=table)
    rows = [row for page in pages for row in page["Items"]]
    return sorted(rows, key=lambda row: (int(row["year"]["N"]), row["title"]["S"]))


def test_ddb_json_lines_are_dynamodb_s3_export_lines(loaded: None, connection: Connection) -> None:
    out = io.StringIO()
    result = export_items(connection, ExportedMovie.__table_name__, out, segments=4)
    assert result.items == MOVIE_COUNT
    lines = out.getvalue().splitlines()
    assert len(lines) == MOVIE_COUNT
    deserializer = TypeDeserializer()
    exported = sorted(
        (
            {
                name: deserializer.deserialize(value)
                for name, value in json.loads(line)["Item"].items()
            }
            for line in lines
        ),
        key=lambda row: (row["year"], row["title"]),
    )
    stored = [
        {name: deserializer.deserialize(value) for name, value in row.items()}
        for row in raw_scan(connection, ExportedMovie.__table_name__)
    ]
    assert exported == stored
    assert all(list(json.loads(line)) == ["Item"] for line in lines)


@pytest.mark.parametrize("format", ["ddb-json", "json"])
def test_an_export_imports_as_identical_items(
    loaded: None, copy_table: None, connection: Connection, format: str
) -> None:
    out = io.StringIO()
    export_items(connection, ExportedMovie.__table_name__, out, format=format, model=ExportedMovie)
    out.seek(0)
    items = read_lines(out, format, ImportedMovie)
    result = import_items(connection, ImportedMovie.__table_name__, items)
    assert (result.read, result.written, result.skipped) == (MOVIE_COUNT, MOVIE_COUNT, 0)
    assert raw_scan(connection, ImportedMovie.__table_name__) == raw_scan(
        connection, ExportedMovie.__table_name__
    )


def test_a_rerun_after_a_crash_skips_what_is_stored(
    loaded: None, copy_table: None, connection: Connection
) -> None:
    out = io.StringIO()
    export_items(connection, ExportedMovie.__table_name__, out)
    lines = out.getvalue().splitlines(keepends=True)
    half = lines[: len(lines) // 2]
    first = import_items(
        connection, ImportedMovie.__table_name__, read_lines(io.StringIO("".join(half)))
    )
    assert first.written == len(half)
    again = import_items(
        connection, ImportedMovie.__table_name__, read_lines(io.StringIO("".join(lines)))
    )
    assert (again.read, again.written, again.skipped) == (
        MOVIE_COUNT,
        MOVIE_COUNT - len(half),
        len(half),
    )
    assert len(raw_scan(connection, ImportedMovie.__table_name__)) == MOVIE_COUNT


def test_binary_and_sets_round_trip_in_base64(connection: Connection) -> None:
    dynamodb.create_table(Blob, force=True)
    try:
        Blob(id="a", data=b"\x00\xffbytes", tags={"x", "y"}).save()
        out = io.StringIO()
        export_items(connection, Blob.__table_name__, out, segments=1)
        (line,) = out.getvalue().splitlines()
        item = json.loads(line)["Item"]
        assert item["data"] == {"B": "AP9ieXRlcw=="}
        assert sorted(item["tags"]["SS"]) == ["x", "y"]
        Blob.delete_by_key(id="a")
        import_items(connection, Blob.__table_name__, read_lines(io.StringIO(line)))
        stored = Blob.get(id="a", consistent=True)
        assert stored is not None
        assert (stored.data, stored.tags) == (b"\x00\xffbytes", {"x", "y"})
    finally:
        dynamodb.delete_table(Blob)


def test_a_bad_line_is_named_by_its_number() -> None:
    source = io.StringIO('{"Item": {"id": {"S": "a"}}}\n\nnot json\n')
    with pytest.raises(TransferError, match=r"^line 3: "):
        list(read_lines(source))
    with pytest.raises(TransferError, match=r'line 1: not \{"Item": \{...\}\}'):
        list(read_lines(io.StringIO('{"id": {"S": "a"}}\n')))
    with pytest.raises(TransferError, match="the json format needs a model"):
        list(read_lines(io.StringIO(""), "json"))


async def test_the_async_twins(loaded: None, copy_table: None, aconnection: Connection) -> None:
    from dynamodb.transfer import aexport_items, aimport_items

    out = io.StringIO()
    exported = await aexport_items(aconnection, ExportedMovie.__table_name__, out, segments=3)
    assert exported.items == MOVIE_COUNT
    out.seek(0)
    result = await aimport_items(aconnection, ImportedMovie.__table_name__, read_lines(out))
    assert (result.read, result.written, result.skipped) == (MOVIE_COUNT, MOVIE_COUNT, 0)
    assert raw_scan(aconnection, ImportedMovie.__table_name__) == raw_scan(
        aconnection, ExportedMovie.__table_name__
    )


class Secret(Model):
    __table_name__ = "test_transfer_secrets"

    id = CharField(hash_key=True)
    code = EncryptedField(CharField(), keys=StaticKeys({"k": os.urandom(32)}))


@pytest.mark.parametrize("format", ["json", "csv"])
def test_an_import_of_decrypted_values_stores_them_encrypted(
    connection: Connection, format: str
) -> None:
    dynamodb.create_table(Secret, force=True)
    try:
        Secret(id="a", code="pin 4711").save()
        out = io.StringIO()
        export_items(connection, Secret.__table_name__, out, format=format, model=Secret)
        assert "pin 4711" in out.getvalue()  # json and csv hold the decrypted values
        Secret.delete_by_key(id="a")
        out.seek(0)
        result = import_items(connection, Secret.__table_name__, read_lines(out, format, Secret))
        assert result.written == 1
        (row,) = connection.client.scan(TableName=Secret.__table_name__)["Items"]
        assert list(row["code"]) == ["B"]
        assert b"pin 4711" not in row["code"]["B"]
        stored = Secret.get(id="a", consistent=True)
        assert stored is not None
        assert stored.code == "pin 4711"
    finally:
        dynamodb.delete_table(Secret)


class Row(Model):
    __table_name__ = "test_transfer_csv_rows"

    id = CharField(hash_key=True)
    text = CharField()
    count = IntegerField()
    ratio = FloatField()
    price = DecimalField()
    flag = BooleanField()
    names = SetField(of=str)
    numbers = SetField(of=int)
    info = DictField()
    items = ListField()
    blob = BinaryField()
    doc = JSONField()


ROWS = [
    Row(id="[1]", text="[1]", count=-3, ratio=0.25, price=Decimal("12.50"), flag=False,
        names={"a", "[b]"}, numbers={1, 20}, info={"k": [1, "x"], "n": None}, items=[1, "two"],
        blob=b"\x00[", doc={"a": [1, 2]}),
    Row(id='{"a": 1}', text='{"not": "json"', count=0, ratio=1e-7, price=Decimal("0.1"),
        flag=True, doc="just text"),
    Row(id="true", text="123"),
    Row(id="1.5", text='"quoted", and, commas\nand a line'),
    Row(id="empty"),
]  # fmt: skip


def test_csv_round_trips_values_by_field_type(connection: Connection) -> None:
    dynamodb.create_table(Row, force=True)
    try:
        Row.batch_write(ROWS)
        before = raw_scan_by_id(connection)
        out = io.StringIO()
        result = export_items(connection, Row.__table_name__, out, format="csv", model=Row)
        assert result.items == len(ROWS)
        rows = {row["id"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
        assert rows["[1]"]["text"] == "[1]"  # text as it is
        assert rows["[1]"]["flag"] == "false"
        assert rows["empty"]["count"] == ""  # no value: an empty cell
        assert rows["true"]["text"] == "123"
        Row.batch_delete([{"id": row.id} for row in ROWS])
        out.seek(0)
        imported = import_items(connection, Row.__table_name__, read_lines(out, "csv", Row))
        assert (imported.read, imported.written) == (len(ROWS), len(ROWS))
        assert raw_scan_by_id(connection) == before
    finally:
        dynamodb.delete_table(Row)


def raw_scan_by_id(connection: Connection) -> dict[str, Any]:
    rows = connection.client.scan(TableName=Row.__table_name__, ConsistentRead=True)["Items"]
    for row in rows:
        for value in row.values():
            for tag in ("SS", "NS", "BS"):
                if tag in value:
                    value[tag] = sorted(value[tag])
    return {row["id"]["S"]: row for row in rows}


def test_a_csv_cell_that_is_not_a_value_of_its_field_names_the_line() -> None:
    source = io.StringIO("id,count\na,1\nb,[not json\n")
    with pytest.raises(TransferError, match=r"^line 3: count: not a JSON value: '\[not json'"):
        list(read_lines(source, "csv", Row))
