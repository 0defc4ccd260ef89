"""Item operations against DynamoDB Local: create, get, save, delete, counts, conditions, errors."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    BinaryField,
    BooleanField,
    CharField,
    ConditionalCheckFailed,
    Connection,
    DateField,
    DateTimeField,
    DictField,
    FieldValidationError,
    IntegerField,
    ItemAlreadyExists,
    ListField,
    Model,
    ResourceNotFound,
    ServiceError,
    Table,
    TransportError,
)
from tests.integration.helpers import RecordingConnection, dead_connection

Tables = Callable[..., None]


class Score(Model):
    __table_name__ = "test_items_scores"

    player = CharField(hash_key=True)
    game = IntegerField(range_key=True)
    points = IntegerField(default=0)
    version = IntegerField(default=1)
    note = CharField()


class Profile(Model):
    __table_name__ = "test_items_profiles"

    user_id = CharField(hash_key=True)
    email = CharField(required=True)
    age = IntegerField(minimum=0)
    scores = ListField(of=IntegerField(), default=[])
    extra = DictField(default={})


class Reserved(Model):
    """Attribute names that are DynamoDB reserved words, or hold dots, dashes, spaces."""

    __table_name__ = "test_items_reserved"

    name = CharField(hash_key=True)
    date = DateField(range_key=True)
    year = IntegerField()
    status = CharField()
    full_name = CharField(name="full name")
    dotted = CharField(name="a.b")
    dashed = IntegerField(name="x-y")


class Dotted(Model):
    """Key attributes whose DynamoDB names hold a dot, a dash and a space."""

    __table_name__ = "test_items_dotted"

    user = CharField(name="user.id", hash_key=True)
    sort = CharField(name="sort-key", range_key=True)
    note = CharField(name="my note")


class Session(Model):
    """A table with a hash key only."""

    __table_name__ = "test_items_sessions"

    token = CharField(hash_key=True)
    data = DictField()
    active = BooleanField(default=True)


class Blob(Model):
    """A number hash key and a binary range key."""

    __table_name__ = "test_items_blobs"

    number = IntegerField(hash_key=True)
    chunk = BinaryField(range_key=True)
    label = CharField()


class BinaryOnly(Model):
    """A binary hash key, no range key."""

    __table_name__ = "test_items_binary_only"

    digest = BinaryField(hash_key=True)
    size = IntegerField()


class Document(Model):
    """An abstract base: fields shared by two tables, no table of its own."""

    __abstract__ = True

    doc_id = CharField(hash_key=True)
    title = CharField(required=True)
    created = DateTimeField(default=lambda: dt.datetime.now(dt.timezone.utc))


class Article(Document):
    __table_name__ = "test_items_articles"

    body = CharField()


class Note(Document):
    __table_name__ = "test_items_notes"

    pinned = BooleanField(default=False)


class Missing(Model):
    """A model whose table is never created."""

    __table_name__ = "test_items_no_such_table"

    key = CharField(hash_key=True)


@pytest.fixture
def dead() -> Iterator[Connection]:
    """A connection to a closed loopback port: a request would raise TransportError."""
    connection = dead_connection()
    yield connection
    connection.close()


@pytest.fixture
def recording(dynamodb_endpoint: str, connection: Connection) -> Iterator[RecordingConnection]:
    """A second connection to DynamoDB Local that records what it sends."""
    recorder = RecordingConnection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield recorder
    recorder.close()


# -- create / get / save / delete ----------------------------------------------


def test_create_get_save_delete(tables: Tables) -> None:
    tables(Score)

    created = Score.create(player="ann", game=1, points=10)
    assert isinstance(created, Score)
    assert created.get_primary_key_dict() == {"player": "ann", "game": 1}

    stored = Score.get(player="ann", game=1)
    assert stored == created
    assert stored is not None
    assert (stored.points, stored.version) == (10, 1)
    assert stored.note is None

    stored.points = 25
    stored.note = "personal best"
    assert stored.save() is stored
    again = Score.get(player="ann", game=1)
    assert again is not None
    assert (again.points, again.note) == (25, "personal best")

    again.delete()
    assert Score.get(player="ann", game=1) is None


def test_save_replaces_the_whole_item(tables: Tables) -> None:
    tables(Score)
    Score.create(player="ann", game=1, points=10, note="old note")

    Score(player="ann", game=1, points=11).save()

    stored = Score.get(player="ann", game=1)
    assert stored is not None
    assert stored.points == 11
    assert stored.note is None  # PutItem replaces: the old attribute is gone


def test_get_accepts_python_or_dynamodb_names_for_key_parts(tables: Tables) -> None:
    tables(Dotted)
    Dotted.create(user="u1", sort="s1", note="hello")

    by_python = Dotted.get(user="u1", sort="s1")
    dynamodb_names: dict[str, Any] = {"user.id": "u1", "sort-key": "s1"}
    by_dynamodb = Dotted.get(**dynamodb_names)

    assert by_python is not None
    assert by_python.note == "hello"
    assert by_dynamodb == by_python


def test_delete_by_key(tables: Tables) -> None:
    tables(Score)
    Score.create(player="ann", game=1)
    Score.create(player="ann", game=2)

    Score.delete_by_key(player="ann", game=1)

    assert Score.get(player="ann", game=1) is None
    assert Score.get(player="ann", game=2) is not None
    # deleting a key that holds nothing is not an error in DynamoDB
    Score.delete_by_key(player="nobody", game=1)


def test_consistent_get_reads_the_latest_write(
    tables: Tables, recording: RecordingConnection
) -> None:
    tables(Score)
    Score.create(player="ann", game=1, points=1, connection=recording)
    Score.create(player="ann", game=1, points=2, connection=recording)

    stored = Score.get(player="ann", game=1, consistent=True, connection=recording)
    eventual = Score.get(player="ann", game=1, connection=recording)

    assert stored is not None
    assert stored.points == 2
    assert eventual is not None
    (_, consistent_request), (_, eventual_request) = recording.sent[-2:]
    assert consistent_request["ConsistentRead"] is True
    assert "ConsistentRead" not in eventual_request


def test_item_count_default_and_exact(tables: Tables) -> None:
    tables(Score)
    assert Score.item_count() == 0
    assert Score.item_count(exact=True) == 0

    for game in range(3):
        Score.create(player="ann", game=game)
    # DynamoDB Local keeps ItemCount current; AWS refreshes it about every six hours.
    assert Score.item_count() == 3
    assert Score.item_count(exact=True) == 3

    Score.delete_by_key(player="ann", game=0)
    assert Score.item_count(exact=True) == 2


def test_exact_item_count_pages_through_the_table(
    tables: Tables, recording: RecordingConnection
) -> None:
    tables(Score)
    big = "x" * 390_000  # a Scan page reads at most 1 MB: five of these need two pages
    for game in range(5):
        Score.create(player="ann", game=game, note=big)

    assert Score.item_count(exact=True, connection=recording) == 5
    assert recording.operations.count("Scan") >= 2


# -- conditions ---------------------------------------------------------------------


def test_save_with_a_false_condition_raises_and_leaves_the_item(tables: Tables) -> None:
    tables(Score)
    Score.create(player="ann", game=1, points=10, version=1)
    item = Score.get(player="ann", game=1)
    assert item is not None
    item.points = 99
    item.version = 2

    with pytest.raises(ConditionalCheckFailed) as caught:
        item.save(condition=Score.version.eq(5))

    assert caught.value.code == "ConditionalCheckFailedException"
    assert caught.value.message == "The conditional request failed"
    assert caught.value.item is not None
    assert caught.value.item["points"] == {"N": "10"}
    stored = Score.get(player="ann", game=1)
    assert stored is not None
    assert (stored.points, stored.version) == (10, 1)

    # the same save with a true condition goes through
    item.save(condition=Score.version.eq(1) & Score.points.lt(50))
    stored = Score.get(player="ann", game=1)
    assert stored is not None
    assert (stored.points, stored.version) == (99, 2)


def test_save_with_not_exists_condition_refuses_to_overwrite(tables: Tables) -> None:
    tables(Score)
    Score.create(player="ann", game=1, points=10)

    with pytest.raises(ConditionalCheckFailed):
        Score(player="ann", game=1, points=0).save(condition=Score.player.not_exists())
    fresh = Score(player="bob", game=1, points=3).save(condition=Score.player.not_exists())

    stored = Score.get(player="ann", game=1)
    assert stored is not None
    assert stored.points == 10
    assert Score.get(player="bob", game=1) == fresh


def test_delete_with_a_false_condition_raises_and_keeps_the_item(tables: Tables) -> None:
    tables(Score)
    item = Score.create(player="ann", game=1, points=10)

    with pytest.raises(ConditionalCheckFailed) as caught:
        item.delete(condition=Score.points.gt(10))
    assert caught.value.item is not None
    assert caught.value.item["player"] == {"S": "ann"}
    assert Score.get(player="ann", game=1) == item

    with pytest.raises(ConditionalCheckFailed):
        Score.delete_by_key(player="ann", game=1, condition=Score.note.exists())
    assert Score.get(player="ann", game=1) == item

    Score.delete_by_key(player="ann", game=1, condition=Score.points.between(5, 10))
    assert Score.get(player="ann", game=1) is None


def test_create_overwrite_false(tables: Tables) -> None:
    tables(Score)
    first = Score.create(player="ann", game=1, points=10, overwrite=False)

    with pytest.raises(ItemAlreadyExists) as caught:
        Score.create(player="ann", game=1, points=20, overwrite=False)

    assert isinstance(caught.value, ConditionalCheckFailed)
    assert caught.value.item is not None
    assert caught.value.item["points"] == {"N": "10"}
    assert Score.get(player="ann", game=1) == first
    # another range key under the same hash key is a different item
    Score.create(player="ann", game=2, points=20, overwrite=False)
    assert Score.item_count(exact=True) == 2


# -- checks made before any request ---------------------------------------------------


def test_get_with_a_missing_key_part_sends_nothing(dead: Connection) -> None:
    with pytest.raises(FieldValidationError) as caught:
        Score.get(player="ann", connection=dead)
    assert caught.value.field == "game"
    assert caught.value.model == "Score"

    with pytest.raises(FieldValidationError):
        Score.delete_by_key(game=1, connection=dead)


def test_the_dead_connection_really_fails(dead: Connection) -> None:
    """The control for the tests above: a complete request does go out, and fails."""
    with pytest.raises(TransportError):
        Score.get(player="ann", game=1, connection=dead)


def test_get_with_an_unknown_key_name_raises_type_error(dead: Connection) -> None:
    with pytest.raises(TypeError, match="color"):
        Score.get(player="ann", game=1, color="red", connection=dead)
    with pytest.raises(TypeError, match="points"):
        Score.get(player="ann", game=1, points=3, connection=dead)  # not a key field


def test_missing_required_field_is_refused_before_sending(dead: Connection) -> None:
    with pytest.raises(FieldValidationError) as caught:
        Profile.create(user_id="u1", connection=dead)
    assert (caught.value.model, caught.value.field) == ("Profile", "email")

    with pytest.raises(FieldValidationError):
        Profile(user_id="u1").save(connection=dead)


def test_missing_required_field_stores_nothing(tables: Tables) -> None:
    tables(Profile)

    with pytest.raises(FieldValidationError):
        Profile.create(user_id="u1")
    with pytest.raises(FieldValidationError):
        Profile(user_id="u2", age=3).save()

    assert Profile.get(user_id="u1") is None
    assert Profile.get(user_id="u2") is None
    assert Profile.item_count(exact=True) == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"age": -1}, "age"),  # below minimum
        ({"age": "old"}, "age"),  # not an int
        ({"email": 5}, "email"),  # not a str
        ({"scores": [1, "two"]}, "scores"),  # a list element of the wrong type
        ({"extra": {"when": dt.date(2024, 1, 1)}}, "extra"),  # not storable in a map
        ({"age": 10**40 + 1}, "age"),  # more than 38 significant digits
    ],
)
def test_bad_values_are_refused_before_sending(
    tables: Tables, dead: Connection, values: dict[str, Any], field: str
) -> None:
    complete = {"user_id": "u1", "email": "a@example.com", **values}
    with pytest.raises(FieldValidationError) as caught:
        Profile.create(connection=dead, **complete)
    assert caught.value.field == field

    tables(Profile)
    with pytest.raises(FieldValidationError):
        Profile.create(**complete)
    assert Profile.get(user_id="u1") is None


def test_values_broken_in_place_are_refused_when_writing(tables: Tables, dead: Connection) -> None:
    tables(Profile)
    profile = Profile(user_id="u1", email="a@example.com")
    profile.scores.append("not a number")  # the list is changed in place, unchecked
    with pytest.raises(FieldValidationError) as caught:
        profile.save(connection=dead)
    assert caught.value.field == "scores"
    with pytest.raises(FieldValidationError):
        profile.save()

    other = Profile(user_id="u2", email="b@example.com")
    other.extra["empty"] = set()  # DynamoDB cannot store an empty set
    with pytest.raises(FieldValidationError) as caught:
        other.save(connection=dead)
    assert caught.value.field == "extra"
    with pytest.raises(FieldValidationError):
        other.save()

    assert Profile.item_count(exact=True) == 0


def test_assigning_a_bad_value_raises_at_once() -> None:
    profile = Profile(user_id="u1", email="a@example.com")
    with pytest.raises(FieldValidationError):
        profile.age = -5
    assert profile.age is None


# -- attribute names ------------------------------------------------------------------


def test_reserved_words_and_odd_names_as_attribute_names(tables: Tables) -> None:
    tables(Reserved)
    day = dt.date(2024, 2, 29)
    created = Reserved.create(
        name="n1", date=day, year=2024, status="open", full_name="Ann Lee", dotted="v", dashed=3
    )

    stored = Reserved.get(name="n1", date=day)
    assert stored == created
    assert stored is not None
    assert (stored.year, stored.status, stored.full_name, stored.dotted, stored.dashed) == (
        2024,
        "open",
        "Ann Lee",
        "v",
        3,
    )
    # the attributes are stored under their DynamoDB names (a top-level "a.b", not a path)
    raw = dynamodb.get_connection().send(
        "GetItem",
        {
            "TableName": "test_items_reserved",
            "Key": {"name": {"S": "n1"}, "date": {"S": "2024-02-29"}},
        },
    )
    stored_names = set(raw["Item"])
    assert stored_names == {"name", "date", "year", "status", "full name", "a.b", "x-y"}

    condition = (
        Reserved.status.eq("open")
        & Reserved.year.gte(2000)
        & Reserved.full_name.begins_with("Ann")
        & Reserved.dotted.eq("v")
        & Reserved.dashed.is_in(1, 2, 3)
        & Reserved.date.exists()
    )
    stored.status = "closed"
    stored.save(condition=condition)
    stored.year = 2025
    with pytest.raises(ConditionalCheckFailed):
        stored.save(condition=condition)  # status is "closed" now
    stored.year = 2024
    assert Reserved.get(name="n1", date=day) == stored

    with pytest.raises(ConditionalCheckFailed):
        stored.delete(condition=Reserved.dashed.ne(3) | Reserved.name.ne("n1"))
    stored.delete(condition=Reserved.status.eq("closed") & ~Reserved.year.lt(2024))
    assert Reserved.get(name="n1", date=day) is None


def test_key_names_with_dots_dashes_and_spaces(tables: Tables) -> None:
    tables(Dotted)
    Dotted.create(user="u1", sort="a", note="first")
    Dotted.create(user="u1", sort="b", note="second", overwrite=False)

    with pytest.raises(ItemAlreadyExists):
        Dotted.create(user="u1", sort="b", note="again", overwrite=False)
    Dotted.delete_by_key(user="u1", sort="a", condition=Dotted.note.eq("first"))

    assert Dotted.get(user="u1", sort="a") is None
    second = Dotted.get(user="u1", sort="b", consistent=True)
    assert second is not None
    assert second.note == "second"
    info = Table(Dotted).info()
    assert info["KeySchema"] == [
        {"AttributeName": "user.id", "KeyType": "HASH"},
        {"AttributeName": "sort-key", "KeyType": "RANGE"},
    ]


# -- key shapes and types -----------------------------------------------------------


def test_table_with_a_hash_key_only(tables: Tables) -> None:
    tables(Session)
    Session.create(token="t1", data={"user": "ann", "roles": ["admin"]})

    stored = Session.get(token="t1")
    assert stored is not None
    assert stored.data == {"user": "ann", "roles": ["admin"]}
    assert stored.active is True
    assert stored.get_primary_key_dict() == {"token": "t1"}

    with pytest.raises(ItemAlreadyExists):
        Session.create(token="t1", overwrite=False)
    with pytest.raises(TypeError, match=re.escape("Session key has unknown parts ['game']")):
        Session.get(token="t1", game=1)

    Session.delete_by_key(token="t1")
    assert Session.get(token="t1") is None


def test_number_and_binary_keys(tables: Tables) -> None:
    tables(Blob, BinaryOnly)
    big = -(10**37) - 12345  # 38 digits
    Blob.create(number=big, chunk=b"\x00\xff", label="big")
    Blob.create(number=7, chunk=b"\x00\xff", label="seven")
    Blob.create(number=7, chunk=b"\x01", label="seven-b")

    stored = Blob.get(number=big, chunk=b"\x00\xff")
    assert stored is not None
    assert stored.number == big
    assert stored.chunk == b"\x00\xff"
    assert stored.label == "big"
    seven = Blob.get(number=7, chunk=bytearray(b"\x01"))
    assert seven is not None
    assert seven.label == "seven-b"
    assert Blob.get(number=7, chunk=b"\x02") is None

    BinaryOnly.create(digest=bytes(range(256)), size=256)
    digest = BinaryOnly.get(digest=bytes(range(256)))
    assert digest is not None
    assert digest.size == 256
    digest.delete()
    assert BinaryOnly.get(digest=bytes(range(256))) is None


# -- inheritance --------------------------------------------------------------------


def test_abstract_base_shared_by_two_models(tables: Tables) -> None:
    with pytest.raises(TypeError, match=re.escape("Document is abstract (no table)")):
        Document(doc_id="d1", title="t")
    with pytest.raises(TypeError, match=re.escape("Document is abstract: it has no table")):
        Table(Document)

    tables(Article, Note)
    article = Article.create(doc_id="d1", title="An article", body="text")
    note = Note.create(doc_id="d1", title="A note", pinned=True)

    stored_article = Article.get(doc_id="d1")
    stored_note = Note.get(doc_id="d1")
    assert stored_article == article
    assert stored_note == note
    assert isinstance(stored_article, Article)
    assert isinstance(stored_note, Note)
    assert stored_article.created.tzinfo is not None
    assert stored_note.pinned is True
    assert Table(Article).info()["TableName"] == "test_items_articles"
    assert Table(Note).info()["TableName"] == "test_items_notes"

    with pytest.raises(FieldValidationError):
        Note.create(doc_id="d2")  # title is required, inherited
    with pytest.raises(TypeError, match=re.escape("Article() got unknown fields ['pinned']")):
        Article(doc_id="d3", title="t", pinned=True)  # pinned belongs to Note

    article.delete()
    assert Article.get(doc_id="d1") is None
    assert Note.get(doc_id="d1") == note


# -- connections --------------------------------------------------------------------


def test_model_connection_and_call_connection(
    tables: Tables, dynamodb_endpoint: str, recording: RecordingConnection, dead: Connection
) -> None:
    second = RecordingConnection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    class Routed(Model):
        __table_name__ = "test_items_routed"
        __connection__ = second

        key = CharField(hash_key=True)
        value = IntegerField()

    try:
        tables(Routed, Score)
        assert "CreateTable" in second.operations  # the table went through the model's

        sent_before = len(second.sent)
        Routed.create(key="k", value=1)
        assert second.operations[sent_before:] == ["PutItem"]

        via_call = Routed.get(key="k", connection=recording)  # the call's connection wins
        assert via_call is not None
        assert via_call.value == 1
        assert recording.operations == ["GetItem"]
        assert len(second.sent) == sent_before + 1

        with pytest.raises(TransportError):
            Routed.get(key="k", connection=dead)

        # a model without __connection__ keeps using the default connection
        Score.create(player="ann", game=1)
        assert dynamodb.get_connection() is not second
        assert len(second.sent) == sent_before + 1
        assert Score.get(player="ann", game=1) is not None
    finally:
        second.close()


# -- DynamoDB's errors, typed ---------------------------------------------------------


def test_missing_table_raises_resource_not_found_with_dynamodb_message(
    connection: Connection,
) -> None:
    with pytest.raises(ResourceNotFound) as caught:
        Missing.get(key="k")

    error = caught.value
    assert isinstance(error, ServiceError)
    assert error.code == "ResourceNotFoundException"
    assert error.operation == "GetItem"
    assert error.message == "Cannot do operations on a non-existent table"
    assert error.message in str(error)
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"

    with pytest.raises(ResourceNotFound):
        Missing.create(key="k")
    with pytest.raises(ResourceNotFound):
        Missing.item_count()


def test_item_too_large_is_refused_before_anything_is_sent(tables: Tables) -> None:
    tables(Score)
    with pytest.raises(dynamodb.ItemTooLarge) as caught:  # see test_limits.py
        Score.create(player="ann", game=1, note="x" * 410_000)

    assert isinstance(caught.value, FieldValidationError)
    assert caught.value.field == "note"
    assert "Score {'player': 'ann', 'game': 1}: the item is 410,035 bytes" in str(caught.value)
    assert Score.get(player="ann", game=1) is None


# -- async twins ----------------------------------------------------------------------


async def test_async_item_operations(tables: Tables, aconnection: Connection) -> None:
    tables(Score)

    created = await Score.acreate(player="ann", game=1, points=10)
    with pytest.raises(ItemAlreadyExists):
        await Score.acreate(player="ann", game=1, overwrite=False)
    stored = await Score.aget(player="ann", game=1, consistent=True)
    assert stored == created
    assert stored is not None

    stored.points = 11
    with pytest.raises(ConditionalCheckFailed):
        await stored.asave(condition=Score.points.eq(0))
    await stored.asave(condition=Score.points.eq(10))
    assert (await Score.aget(player="ann", game=1)) == stored
    assert await Score.aitem_count() == 1
    assert await Score.aitem_count(exact=True) == 1

    await Score.acreate(player="ann", game=2)
    await stored.adelete()
    await Score.adelete_by_key(player="ann", game=2)
    assert await Score.aget(player="ann", game=1) is None
    assert await Score.aget(player="ann", game=2) is None
    assert await Score.aitem_count(exact=True) == 0
