"""Queries against DynamoDB Local.

Key conditions and filters on the table, a local and a global index; paging
past 1 MB; ``limit`` with filters; descending order; reserved and odd attribute
names; nested paths; cursors; projections; requery of keys-only indexes; and
the async twins. Expected results come from plain Python over the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Condition,
    Connection,
    Cursor,
    DateField,
    DictField,
    IntegerField,
    InvalidCursor,
    ListField,
    MapField,
    MapModel,
    Model,
    SetField,
)
from dynamodb.core.codec import encode_value

Row = dict[str, Any]
Tables = Callable[..., None]


# -- models and data ---------------------------------------------------------------------


class Post(Model):
    """Table key forum/slug; LSIs on code (ALL) and points (keys only); two GSIs."""

    __table_name__ = "test_query_posts"
    __secondary_indexes__ = {  # noqa: RUF012
        "by_author": {"hash_key": "author", "range_key": "code", "projections": "ALL"},
        "by_author_points": {"hash_key": "author", "range_key": "points"},
    }

    forum = CharField(hash_key=True)
    slug = CharField(range_key=True)
    code = CharField(indexed=True, projections="ALL")
    points = IntegerField(indexed=True)
    author = CharField()
    title = CharField()
    votes = IntegerField()
    note = CharField()
    tags = SetField(of=str)
    labels = ListField(of=IntegerField())


AUTHORS = ("ann", "bob", "cy")
COLOURS = ("red", "blue", "green")


def post_rows() -> list[Row]:
    rows: list[Row] = []
    for forum in ("f1", "f2"):
        for i in range(30):
            rows.append(
                {
                    "forum": forum,
                    "slug": f"s{i:02d}",
                    "code": f"c{(i * 13) % 30:02d}-{forum}",
                    "points": (i * 7) % 30 + (0 if forum == "f1" else 1000),
                    "author": AUTHORS[i % 3],
                    "title": ("Hello " if i % 2 == 0 else "Bye ") + str(i),
                    "votes": None if i % 5 == 0 else i % 7,
                    "note": "noted" if i % 4 == 0 else None,
                    "tags": {COLOURS[j] for j in range(3) if (i >> j) & 1},
                    "labels": None if i % 7 == 0 else ([i % 4] if i % 2 else [i % 4, i % 3]),
                }
            )
    return rows


def post_key(row: Row) -> tuple[str, str]:
    return (row["forum"], row["slug"])


def keys_of(items: list[Post]) -> list[tuple[str, str]]:
    return [(item.forum, item.slug) for item in items]


@pytest.fixture(scope="module")
def posts(connection: Connection) -> Iterator[list[Row]]:
    dynamodb.create_table(Post, force=True)
    rows = post_rows()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda row: Post.create(**row), rows))
    yield rows
    dynamodb.delete_table(Post)


def bulk_put(connection: Connection, table: str, rows: list[Row]) -> None:
    """Write plain rows with BatchWriteItem through the low-level client."""
    items = [{name: encode_value(value) for name, value in row.items()} for row in rows]
    batches = [items[start : start + 25] for start in range(0, len(items), 25)]

    def write(batch: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while pending:
            response = connection.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, batches))


# -- key conditions: each operator on the table, a local index and a global index --------


KEY_TARGETS: dict[str, tuple[str, str, str, str | None]] = {
    # name: (hash attribute, hash value, range attribute, index read)
    "table": ("forum", "f1", "slug", None),
    "lsi": ("forum", "f1", "code", "code_index"),
    "gsi": ("author", "ann", "code", "by_author"),
}
KEY_OPERATORS = ("eq", "lt", "lte", "gt", "gte", "between", "begins_with")


def _key_case(
    rows: list[Row], target: str, operator: str
) -> tuple[list[Condition], Callable[[Any], bool], str, str | None]:
    hash_attr, hash_value, range_attr, index = KEY_TARGETS[target]
    values = sorted(row[range_attr] for row in rows if row[hash_attr] == hash_value)
    pivot, low, high = values[len(values) // 2], values[2], values[-3]
    field = Post._meta.fields[range_attr]
    cases: dict[str, tuple[Condition, Callable[[Any], bool]]] = {
        "eq": (field.eq(pivot), lambda v: v == pivot),
        "lt": (field.lt(pivot), lambda v: v < pivot),
        "lte": (field.lte(pivot), lambda v: v <= pivot),
        "gt": (field.gt(pivot), lambda v: v > pivot),
        "gte": (field.gte(pivot), lambda v: v >= pivot),
        "between": (field.between(low, high), lambda v: low <= v <= high),
        "begins_with": (field.begins_with(pivot[:2]), lambda v: v.startswith(pivot[:2])),
    }
    condition, predicate = cases[operator]
    return [Post._meta.fields[hash_attr].eq(hash_value), condition], predicate, range_attr, index


@pytest.mark.parametrize("operator", KEY_OPERATORS)
@pytest.mark.parametrize("target", list(KEY_TARGETS))
def test_key_condition_operator(posts: list[Row], target: str, operator: str) -> None:
    conditions, predicate, range_attr, index = _key_case(posts, target, operator)
    hash_attr, hash_value = KEY_TARGETS[target][:2]
    expected = sorted(
        (row for row in posts if row[hash_attr] == hash_value and predicate(row[range_attr])),
        key=lambda row: row[range_attr],
    )
    assert expected, "the case selects nothing"
    query = Post.query().where(*conditions)
    assert query.explain().get("IndexName") == index
    items = query.all()
    assert all(isinstance(item, Post) for item in items)
    assert items == [Post(**row) for row in expected]  # whole items: both indexes project ALL
    assert query.count() == len(expected)


@pytest.mark.parametrize("operator", KEY_OPERATORS[:-1])
@pytest.mark.parametrize(
    ("hash_attr", "hash_value", "index"),
    [("forum", "f2", "points_index"), ("author", "bob", "by_author_points")],
)
def test_number_key_condition_on_keys_only_indexes(
    posts: list[Row], hash_attr: str, hash_value: str, index: str, operator: str
) -> None:
    partition = [row for row in posts if row[hash_attr] == hash_value]
    values = sorted(row["points"] for row in partition)
    pivot, low, high = values[len(values) // 2], values[3], values[-4]
    predicates: dict[str, Callable[[int], bool]] = {
        "eq": lambda v: v == pivot,
        "lt": lambda v: v < pivot,
        "lte": lambda v: v <= pivot,
        "gt": lambda v: v > pivot,
        "gte": lambda v: v >= pivot,
        "between": lambda v: low <= v <= high,
    }
    condition = (
        Post.points.between(low, high)
        if operator == "between"
        else getattr(Post.points, operator)(pivot)
    )
    query = Post.query().where(Post._meta.fields[hash_attr].eq(hash_value), condition)
    assert query.explain()["IndexName"] == index
    expected = sorted(
        (row for row in partition if predicates[operator](row["points"])),
        key=lambda row: row["points"],
    )
    items = query.all()
    assert [(item.forum, item.slug, item.points) for item in items] == [
        (row["forum"], row["slug"], row["points"]) for row in expected
    ]
    # keys-only index: the rest of each item is not read
    assert all(item.title is None and item.votes is None for item in items)
    assert getattr(items[0], hash_attr) == hash_value


# -- filters: every operator, on the table, a local index and a global index --------------


def _size(value: Any) -> int | None:
    return None if value is None else len(value)


FILTERS: list[tuple[str, Callable[[], Condition], Callable[[Row], bool]]] = [
    ("eq", lambda: Post.votes.eq(4), lambda r: r["votes"] == 4),
    ("ne", lambda: Post.votes.ne(4), lambda r: r["votes"] != 4),  # missing counts as ne
    ("lt", lambda: Post.votes.lt(4), lambda r: r["votes"] is not None and r["votes"] < 4),
    ("lte", lambda: Post.votes.lte(4), lambda r: r["votes"] is not None and r["votes"] <= 4),
    ("gt", lambda: Post.votes.gt(4), lambda r: r["votes"] is not None and r["votes"] > 4),
    ("gte", lambda: Post.votes.gte(4), lambda r: r["votes"] is not None and r["votes"] >= 4),
    (
        "between",
        lambda: Post.votes.between(2, 6),
        lambda r: r["votes"] is not None and 2 <= r["votes"] <= 6,
    ),
    ("begins_with", lambda: Post.title.begins_with("Hello"), lambda r: r["title"][:5] == "Hello"),
    ("contains substring", lambda: Post.title.contains("e 1"), lambda r: "e 1" in r["title"]),
    ("contains set member", lambda: Post.tags.contains("red"), lambda r: "red" in r["tags"]),
    (
        "contains list member",
        lambda: Post.labels.contains(2),
        lambda r: r["labels"] is not None and 2 in r["labels"],
    ),
    ("is_in", lambda: Post.votes.is_in(1, 3, 5), lambda r: r["votes"] in (1, 3, 5)),
    ("in_", lambda: Post.votes.in_([2, 4]), lambda r: r["votes"] in (2, 4)),
    ("exists", lambda: Post.note.exists(), lambda r: r["note"] is not None),
    ("not_exists", lambda: Post.votes.not_exists(), lambda r: r["votes"] is None),
    (
        "size of a set",
        lambda: Post.tags.size().gte(2),
        lambda r: len(r["tags"]) >= 2,
    ),
    ("size of a string", lambda: Post.title.size().lt(7), lambda r: len(r["title"]) < 7),
    (
        "size of a list",
        lambda: Post.labels.size().eq(2),
        lambda r: _size(r["labels"]) == 2,
    ),
    (
        "and or not",
        lambda: (Post.votes.gt(5) | Post.tags.contains("red")) & ~Post.note.exists(),
        lambda r: ((r["votes"] or 0) > 5 or "red" in r["tags"]) and r["note"] is None,
    ),
    (
        "not of an or",
        lambda: ~(Post.title.begins_with("Bye") | Post.votes.is_in(0, 1, 2)),
        lambda r: not (r["title"].startswith("Bye") or r["votes"] in (0, 1, 2)),
    ),
]

FILTER_TARGETS: dict[
    str, tuple[Callable[[], list[Condition]], Callable[[Row], bool], str, str | None]
] = {
    "table": (lambda: [Post.forum.eq("f2")], lambda r: r["forum"] == "f2", "slug", None),
    "lsi": (
        lambda: [Post.forum.eq("f2"), Post.code.gte("c05")],
        lambda r: r["forum"] == "f2" and r["code"] >= "c05",
        "code",
        "code_index",
    ),
    "gsi": (
        lambda: [Post.author.eq("bob"), Post.code.lt("c25")],
        lambda r: r["author"] == "bob" and r["code"] < "c25",
        "code",
        "by_author",
    ),
}


@pytest.mark.parametrize("target", list(FILTER_TARGETS))
@pytest.mark.parametrize(
    ("build", "predicate"), [pytest.param(b, p, id=label) for label, b, p in FILTERS]
)
def test_filter_operator(
    posts: list[Row],
    target: str,
    build: Callable[[], Condition],
    predicate: Callable[[Row], bool],
) -> None:
    key_conditions, in_key, range_attr, index = FILTER_TARGETS[target]
    query = Post.query().where(*key_conditions(), build())
    request = query.explain()
    assert request.get("IndexName") == index
    assert "FilterExpression" in request
    partition = sorted((row for row in posts if in_key(row)), key=lambda row: row[range_attr])
    expected = [row for row in partition if predicate(row)]
    assert 0 < len(expected) < len(partition), "the filter should keep some rows, not all"
    items = query.all()
    assert items == [Post(**row) for row in expected]
    assert query.count() == len(expected)


# -- paging past 1 MB, limit with filters, page_size --------------------------------------------


class Chunk(Model):
    __table_name__ = "test_query_chunks"

    part = CharField(hash_key=True)
    n = IntegerField(range_key=True)
    bucket = IntegerField()
    body = CharField()


CHUNKS = 1200  # ~1 KB each: more than one 1 MB response page


@pytest.fixture(scope="module")
def chunks(connection: Connection) -> Iterator[int]:
    dynamodb.create_table(Chunk, force=True)
    rows = [
        {"part": "p", "n": n, "bucket": n % 20, "body": f"{n:06d}" + "x" * 1000}
        for n in range(CHUNKS)
    ]
    rows.append({"part": "other", "n": 0, "bucket": 0, "body": "other partition"})
    bulk_put(connection, Chunk.__table_name__, rows)
    yield CHUNKS
    dynamodb.delete_table(Chunk)


def test_get_items_without_limit_is_one_response_page(chunks: int) -> None:
    query = Chunk.query().where(Chunk.part.eq("p"))
    items, cursor = query.get_items()
    assert 0 < len(items) < chunks  # DynamoDB stops at 1 MB
    assert cursor is not None
    assert [item.n for item in items] == list(range(len(items)))
    assert items[0].body == "000000" + "x" * 1000
    # following the cursors reads the rest, page by page, without gaps or repeats
    seen = [item.n for item in items]
    pages = 1
    while cursor is not None:
        items, cursor = query.start_key(cursor).get_items()
        seen.extend(item.n for item in items)
        pages += 1
    assert seen == list(range(chunks))
    assert pages >= 2


def test_iteration_and_all_read_every_page(chunks: int) -> None:
    query = Chunk.query().where(Chunk.part.eq("p"))
    assert [item.n for item in query] == list(range(chunks))
    assert [item.n for item in query.all()] == list(range(chunks))
    assert query.count() == chunks


def test_limit_larger_than_a_response_page(chunks: int) -> None:
    query = Chunk.query().where(Chunk.part.eq("p"))
    items, cursor = query.limit(1100).get_items()
    assert [item.n for item in items] == list(range(1100))
    assert cursor is not None
    rest, end = query.limit(1100).start_key(cursor).get_items()
    assert [item.n for item in rest] == list(range(1100, chunks))
    assert end is None


def test_iteration_is_lazy(chunks: int, dynamodb_endpoint: str) -> None:
    connection = _RecordingConnection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        query = Chunk.query().where(Chunk.part.eq("p")).page_size(10).using(connection)
        iterator = iter(query)
        first = [next(iterator).n for _ in range(15)]
        assert first == list(range(15))
        assert connection.operations == ["Query", "Query"]
        assert next(iterator).n == 15
        assert connection.operations == ["Query", "Query"]
    finally:
        connection.close()


@pytest.mark.parametrize("page_size", [None, 50, 333])
def test_limit_with_a_filter_dropping_most_items(chunks: int, page_size: int | None) -> None:
    """1 in 20 items match: limit(7) still returns 7, and the cursor goes on right after."""
    matching = list(range(0, chunks, 20))
    query = Chunk.query().where(Chunk.part.eq("p"), Chunk.bucket.eq(0)).page_size(page_size)
    items, cursor = query.limit(7).get_items()
    assert [item.n for item in items] == matching[:7]
    assert cursor is not None
    items, cursor = query.limit(7).start_key(cursor).get_items()
    assert [item.n for item in items] == matching[7:14]
    # the whole chain: every match once, in order
    seen: list[int] = []
    cursor = None
    for _ in range(len(matching)):
        items, cursor = query.limit(7).start_key(cursor).get_items()
        seen.extend(item.n for item in items)
        assert len(items) == 7 or cursor is None
        if cursor is None:
            break
    assert seen == matching
    assert len(list(query.limit(7))) == 7
    assert query.limit(7).count() == 7
    assert query.count() == len(matching)


def test_limit_with_filter_keeps_fewer_when_fewer_match(chunks: int) -> None:
    query = Chunk.query().where(Chunk.part.eq("p"), Chunk.n.gte(1150), Chunk.bucket.eq(0))
    items, cursor = query.limit(7).get_items()
    assert [item.n for item in items] == [1160, 1180]
    assert cursor is None


def test_page_size_is_one_request_of_that_many(chunks: int) -> None:
    query = Chunk.query().where(Chunk.part.eq("p")).page_size(4)
    items, cursor = query.get_items()
    assert [item.n for item in items] == [0, 1, 2, 3]
    assert cursor is not None
    items, cursor = query.limit(10).start_key(cursor).get_items()
    assert [item.n for item in items] == list(range(4, 14))
    assert cursor is not None


def test_descending_filter_with_limit(chunks: int) -> None:
    query = Chunk.query().where(Chunk.part.eq("p"), Chunk.bucket.eq(0)).use_index(None, asc=False)
    items, cursor = query.limit(3).get_items()
    assert [item.n for item in items] == [1180, 1160, 1140]
    items, _ = query.limit(3).start_key(cursor).get_items()
    assert [item.n for item in items] == [1120, 1100, 1080]


# -- descending order ---------------------------------------------------------------------


def test_descending_order_on_table_lsi_and_gsi(posts: list[Row]) -> None:
    f1 = [row for row in posts if row["forum"] == "f1"]
    by_slug = [post_key(row) for row in sorted(f1, key=lambda row: row["slug"], reverse=True)]
    by_code = [post_key(row) for row in sorted(f1, key=lambda row: row["code"], reverse=True)]
    ann = [row for row in posts if row["author"] == "ann"]
    by_ann = [post_key(row) for row in sorted(ann, key=lambda row: row["code"], reverse=True)]
    where = Post.forum.eq("f1")
    assert keys_of(Post.query().where(where).use_index(None, asc=False).all()) == by_slug
    assert keys_of(Post.query().where(where).order_by(Post.slug, asc=False).all()) == by_slug
    assert keys_of(Post.query().where(where).order_by(Post.code, asc=False).all()) == by_code
    assert keys_of(Post.query().where(where).use_index("code_index", asc=False).all()) == by_code
    ann_query = Post.query().where(Post.author.eq("ann")).use_index("by_author", asc=False)
    assert keys_of(ann_query.all()) == by_ann


def test_descending_paging_with_cursors(posts: list[Row]) -> None:
    f1 = sorted((row for row in posts if row["forum"] == "f1"), key=lambda row: row["code"])
    query = Post.query().where(Post.forum.eq("f1")).order_by(Post.code, asc=False).limit(4)
    seen: list[tuple[str, str]] = []
    cursor: Cursor | None = None
    while True:
        items, cursor = query.start_key(cursor).get_items()
        seen.extend(keys_of(items))
        if cursor is None:
            break
    assert seen == [post_key(row) for row in reversed(f1)]


# -- first / count / all, projections ------------------------------------------------------


def test_first_count_all(posts: list[Row]) -> None:
    query = Post.query().where(Post.forum.eq("f1"))
    first = query.first()
    assert first is not None
    assert first.slug == "s00"
    assert first == Post(**posts[0])
    last = query.use_index(None, asc=False).first()
    assert last is not None
    assert last.slug == "s29"
    first_six = next(row for row in posts if row["votes"] == 6)
    assert first_six["slug"] != "s00"
    assert query.where(Post.votes.eq(6)).first() == Post(**first_six)
    assert Post.query().where(Post.forum.eq("nowhere")).first() is None
    assert query.where(Post.votes.gt(100)).first() is None
    assert query.count() == 30
    assert query.limit(12).count() == 12
    assert query.where(Post.note.exists()).count() == 8
    assert Post.query().where(Post.forum.eq("nowhere")).count() == 0
    everything = query.all()
    assert everything == list(query)
    assert everything == [Post(**row) for row in posts[:30]]
    assert query.limit(5).all() == everything[:5]


def test_projection_sets_only_the_read_fields_and_the_keys(posts: list[Row]) -> None:
    items = Post.query(Post.title, Post.tags).where(Post.forum.eq("f1")).all()
    assert [item.title for item in items] == [row["title"] for row in posts[:30]]
    assert keys_of(items) == [post_key(row) for row in posts[:30]]
    assert [item.tags for item in items] == [row["tags"] or None for row in posts[:30]]
    for item in items:
        assert item.author is None
        assert item.votes is None
        assert item.code is None
        assert item.labels is None


def test_projection_on_indexes_includes_the_index_keys(posts: list[Row]) -> None:
    lsi = Post.query(Post.votes).where(Post.forum.eq("f1"), Post.code.lt("c10")).all()
    assert lsi
    for item in lsi:
        row = next(r for r in posts if post_key(r) == (item.forum, item.slug))
        assert (item.code, item.votes) == (row["code"], row["votes"])
        assert item.title is None
    gsi = Post.query(Post.title).where(Post.author.eq("cy")).all()
    assert len(gsi) == 20
    for item in gsi:
        assert item.author == "cy"
        assert item.code is not None
        assert item.title is not None
        assert item.votes is None
        assert item.points is None


# -- reserved words and odd attribute names ------------------------------------------------


class Odd(Model):
    """DynamoDB reserved words and names with dots, dashes and spaces."""

    __table_name__ = "test_query_odd"
    __secondary_indexes__ = {  # noqa: RUF012
        "by-status.v1": {"hash_key": "status", "range_key": "x-y", "projections": "ALL"},
    }

    name = CharField(hash_key=True)
    date = DateField(range_key=True)
    year = IntegerField(indexed=True, projections=["status"])
    status = CharField()
    dashed = IntegerField(name="x-y")
    dotted = CharField(name="a.b")
    spaced = CharField(name="full name")
    comment = CharField()


class OddKeys(Model):
    """Key and index attribute names with a dot, a dash and a space."""

    __table_name__ = "test_query_odd_keys"

    user = CharField(name="user.id", hash_key=True)
    sort = CharField(name="sort-key", range_key=True)
    score = IntegerField(name="my score", indexed=True)
    note = CharField(name="my note")


DAY0 = dt.date(2024, 1, 1)


def odd_rows() -> list[Row]:
    return [
        {
            "name": name,
            "date": DAY0 + dt.timedelta(days=k),
            "year": 2000 + (k * 5) % 12,
            "status": ("open", "closed")[k % 2],
            "dashed": k + (0 if name == "alpha" else 100),
            "dotted": f"d{k % 3}",
            "spaced": f"Full {k}",
            "comment": None if k % 4 else "c",
        }
        for name in ("alpha", "beta")
        for k in range(12)
    ]


@pytest.fixture(scope="module")
def odd(connection: Connection) -> Iterator[list[Row]]:
    dynamodb.create_table(Odd, force=True)
    dynamodb.create_table(OddKeys, force=True)
    rows = odd_rows()
    for row in rows:
        Odd.create(**row)
    for k in range(10):
        OddKeys.create(
            user="u.1-x y", sort=f"k-{k:02d}", score=(k * 3) % 10, note=None if k % 2 else "n"
        )
    yield rows
    dynamodb.delete_table(Odd)
    dynamodb.delete_table(OddKeys)


def _odd_keys(items: list[Odd]) -> list[tuple[str, dt.date]]:
    return [(item.name, item.date) for item in items]


def test_reserved_words_in_key_conditions_and_filters(odd: list[Row]) -> None:
    alpha = [row for row in odd if row["name"] == "alpha"]
    query = Odd.query().where(
        Odd.name.eq("alpha"),
        Odd.date.between(DAY0 + dt.timedelta(days=2), DAY0 + dt.timedelta(days=9)),
        Odd.status.eq("open"),
        Odd.year.gt(2002),
    )
    assert "IndexName" not in query.explain()
    expected = [
        row
        for row in alpha
        if 2 <= (row["date"] - DAY0).days <= 9 and row["status"] == "open" and row["year"] > 2002
    ]
    assert expected
    assert query.all() == [Odd(**row) for row in expected]
    assert query.where(Odd.comment.exists()).all() == [
        Odd(**row) for row in expected if row["comment"]
    ]


def test_dotted_dashed_spaced_names_in_filters(odd: list[Row]) -> None:
    query = Odd.query().where(
        Odd.name.eq("beta"),
        Odd.dotted.eq("d1"),
        Odd.dashed.lt(110),
        Odd.spaced.begins_with("Full"),
    )
    expected = [
        row
        for row in odd
        if row["name"] == "beta" and row["dotted"] == "d1" and row["dashed"] < 110
    ]
    assert len(expected) == 3
    assert query.all() == [Odd(**row) for row in expected]
    assert query.count() == 3


def test_odd_names_in_projections(odd: list[Row]) -> None:
    items = Odd.query(Odd.dotted, Odd.spaced, Odd.status).where(Odd.name.eq("alpha")).all()
    assert len(items) == 12
    for item, row in zip(items, odd[:12], strict=True):
        assert (item.name, item.date) == (row["name"], row["date"])
        assert (item.dotted, item.spaced, item.status) == (
            row["dotted"],
            row["spaced"],
            row["status"],
        )
        assert item.year is None
        assert item.dashed is None


def test_reserved_word_lsi_and_odd_gsi(odd: list[Row]) -> None:
    query = Odd.query().where(Odd.name.eq("alpha"), Odd.year.gte(2006))
    assert query.explain()["IndexName"] == "year_index"
    expected = sorted(
        (row for row in odd if row["name"] == "alpha" and row["year"] >= 2006),
        key=lambda row: row["year"],
    )
    items = query.all()
    assert [(item.date, item.year, item.status) for item in items] == [
        (row["date"], row["year"], row["status"]) for row in expected
    ]
    assert all(item.dotted is None for item in items)  # not projected into year_index

    gsi = Odd.query().where(Odd.status.eq("closed"), Odd.dashed.between(3, 105))
    assert gsi.explain()["IndexName"] == "by-status.v1"
    expected = sorted(
        (row for row in odd if row["status"] == "closed" and 3 <= row["dashed"] <= 105),
        key=lambda row: row["dashed"],
    )
    assert gsi.all() == [Odd(**row) for row in expected]
    # paging the GSI: its cursor holds table and index keys with odd names
    seen: list[Odd] = []
    cursor: Cursor | None = None
    while True:
        items, cursor = gsi.limit(2).start_key(cursor).get_items()
        seen.extend(items)
        if cursor is None:
            break
    assert seen == [Odd(**row) for row in expected]


def test_odd_key_names(odd: list[Row]) -> None:
    query = OddKeys.query().where(OddKeys.user.eq("u.1-x y"), OddKeys.sort.begins_with("k-0"))
    assert [item.sort for item in query.all()] == [f"k-{k:02d}" for k in range(10)]
    assert [item.sort for item in query.where(OddKeys.note.exists()).all()] == [
        f"k-{k:02d}" for k in range(0, 10, 2)
    ]
    projected = OddKeys.query(OddKeys.note).where(OddKeys.user.eq("u.1-x y")).first()
    assert projected is not None
    assert projected.to_dict() == {"user": "u.1-x y", "sort": "k-00", "score": None, "note": "n"}
    by_score = OddKeys.query().where(OddKeys.user.eq("u.1-x y"), OddKeys.score.gte(0))
    assert by_score.explain()["IndexName"] == "my_score_index"
    seen: list[int] = []
    cursor: Cursor | None = None
    while True:
        items, cursor = by_score.limit(3).start_key(cursor).get_items()
        seen.extend(item.score for item in items)
        if cursor is None:
            break
    assert seen == sorted((k * 3) % 10 for k in range(10))


# -- nested paths ------------------------------------------------------------------------


class Address(MapModel):
    city = CharField()
    zip_code = CharField(name="zip")


class Doc(Model):
    __table_name__ = "test_query_docs"

    owner = CharField(hash_key=True)
    n = IntegerField(range_key=True)
    doc = DictField()
    ids = ListField(of=IntegerField())
    home = MapField(Address)


def doc_rows() -> list[Row]:
    rows: list[Row] = []
    for n in range(12):
        row: Row = {"owner": "o", "n": n, "ids": [n, n * 2] if n % 4 else [n]}
        if n % 5:
            row["doc"] = {"a": {"b": n}, "x.y": "dot" if n % 2 else "plain", "t": [f"t{n % 3}"]}
        row["home"] = Address(city=("Paris", "Oslo", "Lima")[n % 3], zip_code=f"{n % 2}{n:03d}")
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def docs(connection: Connection) -> Iterator[list[Row]]:
    dynamodb.create_table(Doc, force=True)
    rows = doc_rows()
    for row in rows:
        Doc.create(**row)
    yield rows
    dynamodb.delete_table(Doc)


NESTED: list[tuple[str, Callable[[], Condition], Callable[[Row], bool]]] = [
    (
        "map in map",
        lambda: Doc.doc["a"]["b"].gt(5),
        lambda r: "doc" in r and r["doc"]["a"]["b"] > 5,
    ),
    (
        "dotted map key",
        lambda: Doc.doc["x.y"].eq("dot"),
        lambda r: "doc" in r and r["doc"]["x.y"] == "dot",
    ),
    (
        "list in map",
        lambda: Doc.doc["t"].contains("t1"),
        lambda r: "doc" in r and "t1" in r["doc"]["t"],
    ),
    ("map key exists", lambda: Doc.doc["a"].exists(), lambda r: "doc" in r),
    ("list element", lambda: Doc.ids[0].lte(4), lambda r: r["ids"][0] <= 4),
    ("list element exists", lambda: Doc.ids[1].exists(), lambda r: len(r["ids"]) > 1),
    ("list element missing", lambda: Doc.ids[1].not_exists(), lambda r: len(r["ids"]) == 1),
    ("model field", lambda: Doc.home["city"].eq("Paris"), lambda r: r["home"].city == "Paris"),
    (
        "renamed model field",
        lambda: Doc.home["zip_code"].begins_with("1"),
        lambda r: r["home"].zip_code.startswith("1"),
    ),
    (
        "combined",
        lambda: Doc.home["city"].ne("Oslo") & ~Doc.doc["a"]["b"].between(2, 8),
        lambda r: r["home"].city != "Oslo" and not ("doc" in r and 2 <= r["doc"]["a"]["b"] <= 8),
    ),
]


@pytest.mark.parametrize(
    ("build", "predicate"), [pytest.param(b, p, id=label) for label, b, p in NESTED]
)
def test_nested_path_filter(
    docs: list[Row], build: Callable[[], Condition], predicate: Callable[[Row], bool]
) -> None:
    expected = [row["n"] for row in docs if predicate(row)]
    assert 0 < len(expected) < len(docs)
    query = Doc.query().where(Doc.owner.eq("o"), build())
    assert [item.n for item in query.all()] == expected
    scanned = Doc.scan().where(build()).all()
    assert sorted(item.n for item in scanned) == expected


def test_nested_values_read_back(docs: list[Row]) -> None:
    item = Doc.query().where(Doc.owner.eq("o"), Doc.n.eq(3)).first()
    assert item is not None
    assert item.doc == {"a": {"b": 3}, "x.y": "dot", "t": ["t0"]}
    assert item.ids == [3, 6]
    assert item.home == Address(city="Paris", zip_code="1003")


# -- cursors ------------------------------------------------------------------------------


def test_cursor_round_trip_through_json(posts: list[Row]) -> None:
    query = Post.query().where(Post.forum.eq("f2")).limit(7)
    seen: list[tuple[str, str]] = []
    text: str | None = None
    while True:
        items, cursor = query.start_key_str(text).get_items()
        seen.extend(keys_of(items))
        if cursor is None:
            break
        assert isinstance(cursor, Cursor)
        assert isinstance(cursor, str)
        payload = json.dumps({"items": len(items), "next": cursor})
        text = json.loads(payload)["next"]
        assert type(text) is str
    assert seen == [post_key(row) for row in posts[30:]]


def test_cursor_from_a_full_last_page_ends_cleanly(posts: list[Row]) -> None:
    query = Post.query().where(Post.forum.eq("f1")).limit(15)
    first, cursor = query.get_items()
    assert len(first) == 15
    second, cursor = query.start_key(cursor).get_items()
    assert len(second) == 15
    # 30 items in all; the page was full, so a cursor may come back, but reads nothing more
    if cursor is not None:
        third, cursor = query.start_key(cursor).get_items()
        assert third == []
        assert cursor is None
    assert keys_of(first + second) == [post_key(row) for row in posts[:30]]


def test_cursor_of_an_index_query(posts: list[Row]) -> None:
    query = Post.query().where(Post.author.eq("ann"), Post.code.gte("c")).limit(4)
    items, cursor = query.get_items()
    assert cursor is not None
    more, _ = query.start_key(json.loads(json.dumps(cursor))).get_items()
    everything = query.limit(None).all()
    assert items + more == everything[:8]


def test_tampered_or_foreign_cursor_is_refused(posts: list[Row]) -> None:
    query = Post.query().where(Post.forum.eq("f1")).limit(3)
    _, cursor = query.get_items()
    assert cursor is not None
    flipped = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    for bad in (flipped, cursor[:-4], cursor + "x", "", "garbage"):
        with pytest.raises(InvalidCursor):
            query.start_key_str(bad).get_items()
    # a cursor of the table does not fit the code_index query, nor another table
    with pytest.raises(InvalidCursor):
        Post.query().where(Post.forum.eq("f1"), Post.code.gt("c")).start_key(cursor).get_items()
    with pytest.raises(InvalidCursor):
        Doc.query().where(Doc.owner.eq("o")).start_key(cursor).get_items()


# -- requery of keys-only and INCLUDE indexes ----------------------------------------------------


def test_keys_only_lsi_with_and_without_requery(posts: list[Row]) -> None:
    query = Post.query().use_index(Post.points).where(Post.forum.eq("f1"), Post.points.gte(10))
    assert query.explain()["IndexName"] == "points_index"
    expected = sorted(
        (row for row in posts if row["forum"] == "f1" and row["points"] >= 10),
        key=lambda row: row["points"],
    )
    partial, cursor = query.get_items()
    assert cursor is None
    assert [(item.forum, item.slug, item.points) for item in partial] == [
        (row["forum"], row["slug"], row["points"]) for row in expected
    ]
    assert all(item.title is None and item.code is None for item in partial)
    full, _ = query.get_items(requery_for_all_projections=True)
    assert full == [Post(**row) for row in expected]
    assert query.requery_for_all_projections().all() == full
    assert list(query.requery_for_all_projections()) == full


def test_keys_only_gsi_requery_with_limit_and_cursor(posts: list[Row]) -> None:
    expected = sorted(
        (row for row in posts if row["author"] == "bob"), key=lambda row: row["points"]
    )
    query = Post.query().use_index("by_author_points").where(Post.author.eq("bob")).limit(6)
    seen: list[Post] = []
    cursor: Cursor | None = None
    while True:
        items, cursor = query.start_key(cursor).get_items(requery_for_all_projections=True)
        seen.extend(items)
        if cursor is None:
            break
    assert seen == [Post(**row) for row in expected]


def test_include_lsi_requery(odd: list[Row]) -> None:
    query = Odd.query().where(Odd.name.eq("beta"), Odd.year.lt(2005))
    assert query.explain()["IndexName"] == "year_index"
    expected = sorted(
        (row for row in odd if row["name"] == "beta" and row["year"] < 2005),
        key=lambda row: row["year"],
    )
    partial = query.all()
    assert [item.to_dict() for item in partial] == [
        {
            **dict.fromkeys(Odd._meta.fields),
            "name": "beta",
            "date": row["date"],
            "year": row["year"],
            "status": row["status"],
        }
        for row in expected
    ]
    items, _ = query.get_items(requery_for_all_projections=True)
    assert items == [Odd(**row) for row in expected]


class Volatile(Model):
    __table_name__ = "test_query_volatile"
    __secondary_indexes__ = {"by_kind": {"hash_key": "kind", "range_key": "rank"}}  # noqa: RUF012

    box = CharField(hash_key=True)
    n = IntegerField(range_key=True)
    rank = IntegerField(indexed=True)
    kind = CharField()
    body = CharField()


class DeleteAfterQuery(Connection):
    """A real connection that deletes some items right after a Query returns.

    The deletion happens between reading the index and the requery's
    BatchGetItem, which is the race ``requery_for_all_projections`` must survive.
    """

    def __init__(self, victims: list[dict[str, Any]], **options: Any) -> None:
        super().__init__(**options)
        self.victims = victims
        self.operations: list[str] = []

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        response = super().send(operation, params)
        if operation == "Query":
            while self.victims:
                key = self.victims.pop()
                super().send("DeleteItem", {"TableName": Volatile.__table_name__, "Key": key})
        return response

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        response = await super().asend(operation, params)
        if operation == "Query":
            while self.victims:
                key = self.victims.pop()
                delete = {"TableName": Volatile.__table_name__, "Key": key}
                await super().asend("DeleteItem", delete)
        return response


def _fill_volatile() -> list[Volatile]:
    return [
        Volatile.create(box="b", n=n, rank=(n * 5) % 8, kind="k", body=f"body {n}")
        for n in range(8)
    ]


def _deleting(endpoint: str, victims: list[dict[str, Any]]) -> DeleteAfterQuery:
    return DeleteAfterQuery(
        victims,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.mark.parametrize("index", ["rank_index", "by_kind"])
def test_requery_skips_items_deleted_after_the_index_read(
    tables: Tables, dynamodb_endpoint: str, index: str
) -> None:
    tables(Volatile)
    stored = sorted(_fill_volatile(), key=lambda item: item.rank)
    victim = stored[3]
    where = Volatile.box.eq("b") if index == "rank_index" else Volatile.kind.eq("k")
    query = Volatile.query().use_index(index).where(where)
    index_read = query.all()
    assert [item.n for item in index_read] == [item.n for item in stored]
    assert all(item.body is None for item in index_read)

    connection = _deleting(dynamodb_endpoint, [{"box": {"S": "b"}, "n": {"N": str(victim.n)}}])
    try:
        items, cursor = query.using(connection).get_items(requery_for_all_projections=True)
    finally:
        connection.close()
    assert connection.operations == ["Query", "BatchGetItem"]
    assert cursor is None
    assert items == [item for item in stored if item.n != victim.n]
    assert Volatile.get(box="b", n=victim.n) is None


async def test_async_requery_skips_deleted_items(
    tables: Tables, dynamodb_endpoint: str, aconnection: Connection
) -> None:
    tables(Volatile)
    stored = sorted(_fill_volatile(), key=lambda item: item.rank)
    victims = [{"box": {"S": "b"}, "n": {"N": str(item.n)}} for item in (stored[0], stored[-1])]
    connection = _deleting(dynamodb_endpoint, victims)
    query = Volatile.query().where(Volatile.box.eq("b"), Volatile.rank.gte(0))
    try:
        items, _ = await query.using(connection).aget_items(requery_for_all_projections=True)
    finally:
        await connection.aclose()
        connection.close()
    assert connection.operations == ["Query", "BatchGetItem"]
    assert items == stored[1:-1]


# -- the dynamix seed's "Querying" examples, in Python 3 -----------------------------------


class ForumThread(Model):
    """The seed's full-featured model (its own table name)."""

    __table_name__ = "test_query_forum_thread"

    ReadCapacityUnits = 2
    WriteCapacityUnits = 2

    __secondary_indexes__ = {  # noqa: RUF012
        "user_threads_index": {
            "hash_key": "user_id",
            "range_key": "updated_at",
            "read_capacity": 2,
            "write_capacity": 2,
            "projections": ["title"],
        },
    }

    forum_id = CharField(name="forum_id", hash_key=True)
    thread_id = CharField(name="thread_id", range_key=True)
    user_id = CharField(name="user_id")
    title = CharField(name="title")
    description = CharField(name="description")
    updated_at = IntegerField(
        name="updated_at", default=lambda: int(time.time() * 1000), indexed=True
    )
    expiry_timestamp = IntegerField(
        name="expiry_timestamp", indexed=True, projections=["updated_at"]
    )
    tags = SetField(name="tags")
    user_reviews = ListField(name="user_reviews", default=[])
    key_value_data = DictField(name="key_value_data")


@pytest.fixture
def forum(tables: Tables) -> list[ForumThread]:
    tables(ForumThread)
    now = int(time.time() * 1000)
    threads = []
    for n in range(12):
        threads.append(
            ForumThread.create(
                forum_id="science",
                thread_id=f"physics_{n}",
                title=f"thread {n}",
                description="equations and more",
                tags={"physics", f"t{n % 3}"},
                user_id="some_new_user_id" if n % 2 else "me",
                key_value_data={"a": n},
                updated_at=now - 1000 * ((n * 5) % 12) - 10,
                expiry_timestamp=now + n,
            )
        )
    ForumThread.create(forum_id="science", thread_id="chemistry_1", title="other", user_id="me")
    ForumThread.create(forum_id="art", thread_id="physics_1", title="elsewhere", user_id="me")
    return threads


def test_seed_querying_examples(forum: list[ForumThread]) -> None:
    physics = sorted(forum, key=lambda thread: thread.thread_id)  # string order: physics_10 < _2

    # By primary key
    forum_thread = ForumThread.get(forum_id="science", thread_id="physics_1")
    assert forum_thread == forum[1]

    # By using a query
    threads, cursor = (
        ForumThread.query()
        .where(ForumThread.forum_id.eq("science"), ForumThread.thread_id.begins_with("physics_"))
        .get_items()
    )
    assert threads == physics
    assert cursor is None  # one page held everything

    # Get next page using cursor: start_key()
    threads, cursor = (
        ForumThread.query()
        .start_key(cursor)
        .where(ForumThread.forum_id.eq("science"), ForumThread.thread_id.begins_with("physics_"))
        .get_items()
    )
    assert threads == physics  # start_key(None) starts at the beginning

    # Query on a local index: use_index(index_name/field, asc=True/False)
    threads, cursor = (
        ForumThread.query()
        .start_key(cursor)
        .use_index(ForumThread.updated_at, asc=True)
        .where(
            ForumThread.forum_id.eq("science"),
            ForumThread.updated_at.lte(int(time.time() * 1000)),
        )
        .get_items(requery_for_all_projections=True)
    )
    chemistry = ForumThread.get(forum_id="science", thread_id="chemistry_1")
    assert chemistry is not None
    in_science = [*forum, chemistry]
    assert threads == sorted(in_science, key=lambda thread: thread.updated_at)
    # without the requery: the keys and the index key only
    keys_only, _ = (
        ForumThread.query()
        .use_index(ForumThread.updated_at, asc=True)
        .where(
            ForumThread.forum_id.eq("science"),
            ForumThread.updated_at.lte(int(time.time() * 1000)),
        )
        .get_items()
    )
    assert [(t.thread_id, t.updated_at) for t in keys_only] == [
        (t.thread_id, t.updated_at) for t in threads
    ]
    assert all(t.title is None and t.description is None for t in keys_only)

    # Query on a secondary index using index name
    user_recent_threads, cursor = (
        ForumThread.query()
        .start_key(cursor)
        .use_index("user_threads_index", asc=True)
        .where(
            ForumThread.user_id.eq("some_new_user_id"),
            ForumThread.updated_at.lte(int(time.time() * 1000)),
        )
        .get_items()
    )
    mine = sorted((t for t in forum if t.user_id == "some_new_user_id"), key=lambda t: t.updated_at)
    assert [(t.thread_id, t.title, t.updated_at) for t in user_recent_threads] == [
        (t.thread_id, t.title, t.updated_at) for t in mine
    ]
    assert all(t.description is None for t in user_recent_threads)  # projections=["title"]

    # Scan all data
    assert len(list(ForumThread.scan())) == 14


def test_seed_query_operators_and_paging(forum: list[ForumThread]) -> None:
    """The seed's ".begins_with, .gte, .eq, .lt, .lte, .ne, .gt", and a real next page."""
    physics = sorted(forum, key=lambda thread: thread.thread_id)
    where = ForumThread.forum_id.eq("science")
    pivot = "physics_3"
    cases: list[tuple[Condition, list[ForumThread]]] = [
        (ForumThread.thread_id.gte(pivot), [t for t in physics if t.thread_id >= pivot]),
        (ForumThread.thread_id.gt(pivot), [t for t in physics if t.thread_id > pivot]),
        (ForumThread.thread_id.eq(pivot), [forum[3]]),
    ]
    for condition, expected in cases:
        assert ForumThread.query().where(where, condition).get_items()[0] == expected
    lower = ForumThread.query().where(where, ForumThread.thread_id.lt(pivot)).get_items()[0]
    assert [t.thread_id for t in lower] == ["chemistry_1"] + [
        t.thread_id for t in physics if t.thread_id < pivot
    ]
    upto = ForumThread.query().where(where, ForumThread.thread_id.lte(pivot)).get_items()[0]
    assert len(upto) == len(lower) + 1
    # .ne on a non-key attribute is a filter
    others = ForumThread.query().where(where, ForumThread.user_id.ne("me")).get_items()[0]
    assert [t.thread_id for t in others] == [t.thread_id for t in physics if t.user_id != "me"]
    # the next page, when there is one
    query = ForumThread.query().where(where, ForumThread.thread_id.begins_with("physics_"))
    first, cursor = query.limit(5).get_items()
    assert cursor is not None
    second, cursor = query.limit(5).start_key(cursor).get_items()
    third, cursor = query.limit(5).start_key(cursor).get_items()
    assert cursor is None
    assert first + second + third == physics


# -- async twins ---------------------------------------------------------------------------


async def test_async_readers(posts: list[Row], aconnection: Connection) -> None:
    query = Post.query().where(Post.forum.eq("f2"))
    expected = [Post(**row) for row in posts[30:]]
    assert await query.aall() == expected
    assert [item async for item in query] == expected
    assert await query.afirst() == expected[0]
    assert await query.acount() == 30
    assert await query.limit(4).acount() == 4
    assert await Post.query().where(Post.forum.eq("nowhere")).afirst() is None
    seen: list[Post] = []
    cursor: Cursor | None = None
    while True:
        items, cursor = await query.limit(8).start_key(cursor).aget_items()
        assert len(items) <= 8
        seen.extend(items)
        if cursor is None:
            break
    assert seen == expected
    partial = await Post.query(Post.title).where(Post.forum.eq("f2")).aall()
    assert [item.to_dict() for item in partial] == [
        {
            **dict.fromkeys(Post._meta.fields),
            "forum": "f2",
            "slug": row["slug"],
            "title": row["title"],
        }
        for row in posts[30:]
    ]
    with pytest.raises(InvalidCursor):
        await query.start_key_str("c1.abc.def").aget_items()


async def test_async_requery_and_filters(posts: list[Row], aconnection: Connection) -> None:
    query = Post.query().where(Post.author.eq("cy"), Post.points.lt(1010))
    assert query.explain()["IndexName"] == "by_author_points"
    expected = sorted(
        (row for row in posts if row["author"] == "cy" and row["points"] < 1010),
        key=lambda row: row["points"],
    )
    items, _ = await query.aget_items(requery_for_all_projections=True)
    assert items == [Post(**row) for row in expected]
    filtered = Post.query().where(Post.forum.eq("f1"), Post.tags.contains("blue")).limit(3)
    got = [item async for item in filtered]
    assert keys_of(got) == [post_key(row) for row in posts[:30] if "blue" in row["tags"]][:3]


async def test_async_iteration_over_many_pages(chunks: int, aconnection: Connection) -> None:
    query = Chunk.query().where(Chunk.part.eq("p"))
    numbers = [item.n async for item in query]
    assert numbers == list(range(chunks))
    assert await query.acount() == chunks
    items, cursor = await query.where(Chunk.bucket.eq(0)).limit(7).aget_items()
    assert [item.n for item in items] == list(range(0, 140, 20))
    assert cursor is not None


# -- helpers -------------------------------------------------------------------------------


class _RecordingConnection(Connection):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.operations: list[str] = []

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        return super().send(operation, params)
