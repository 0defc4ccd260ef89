"""Index selection, key/filter split, builder checks and cursors, without a server.

Everything here is visible through ``Query.explain()`` (the first request a
builder would send) and the exceptions raised before any request.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    BinaryField,
    CharField,
    Condition,
    Connection,
    Cursor,
    DateField,
    DictField,
    IntegerField,
    InvalidCursor,
    ListField,
    Model,
    NoIndexForQuery,
    QueryError,
    TransportError,
    set_cursor_secret,
)
from dynamodb.core.cursor import decode_cursor, query_scope


class Thread(Model):
    """A table range key, two local indexes and two global indexes.

    - ``updated_at_index``: LSI on updated_at, projects views
    - ``views_index``: LSI on views, projects title, updated_at and user_id
    - ``by_user``: GSI user_id/updated_at, projects title
    - ``by_user_views``: GSI user_id/views, projects everything
    """

    __table_name__ = "test_planner_threads"
    __secondary_indexes__ = {  # noqa: RUF012
        "by_user": {"hash_key": "user_id", "range_key": "updated_at", "projections": ["title"]},
        "by_user_views": {"hash_key": "user_id", "range_key": "views", "projections": "ALL"},
    }

    forum = CharField(hash_key=True)
    thread = CharField(range_key=True)
    user_id = CharField()
    title = CharField()
    body = CharField()
    updated_at = IntegerField(indexed=True, projections=["views"])
    views = IntegerField(indexed=True, projections=["title", "updated_at", "user_id"])
    meta = DictField()
    labels = ListField(of=IntegerField())


class Ticket(Model):
    """Only a keys-only global index: filters on other attributes cannot use it."""

    __table_name__ = "test_planner_tickets"
    __secondary_indexes__ = {"by_assignee": {"hash_key": "assignee"}}  # noqa: RUF012

    ticket_id = CharField(hash_key=True)
    assignee = CharField()
    subject = CharField()


class Odd(Model):
    """Reserved words and names with dots, dashes and spaces, keys included."""

    __table_name__ = "test_planner_odd"
    __secondary_indexes__ = {  # noqa: RUF012
        "by-status.v1": {"hash_key": "status", "range_key": "x-y", "projections": "ALL"},
    }

    name = CharField(hash_key=True)
    date = DateField(range_key=True)
    year = IntegerField(indexed=True)
    status = CharField()
    dashed = IntegerField(name="x-y")
    dotted = CharField(name="a.b")
    spaced = CharField(name="full name")
    doc = DictField()


class Note(Model):
    """A keys-only local index."""

    __table_name__ = "test_planner_notes"

    owner = CharField(hash_key=True)
    created = IntegerField(range_key=True)
    rank = IntegerField(indexed=True)
    text = CharField()


class Blob(Model):
    __table_name__ = "test_planner_blobs"

    bucket = BinaryField(hash_key=True)
    seq = IntegerField(range_key=True)


_PLACEHOLDER = re.compile(r"#n\d+|:v\d+")


def _show(value: dict[str, Any]) -> str:
    ((tag, raw),) = value.items()
    if tag == "S":
        return repr(raw)
    if tag == "N":
        return str(raw)
    if tag == "L":
        return "[" + ", ".join(_show(member) for member in raw) + "]"
    return f"{tag}:{raw!r}"


def resolved(request: dict[str, Any], part: str) -> str | None:
    """An expression of ``request`` with its placeholders replaced by names and values."""
    text = request.get(part)
    if text is None:
        return None
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        return str(names[token]) if token.startswith("#") else _show(values[token])

    return _PLACEHOLDER.sub(swap, str(text))


def index_of(query: dynamodb.Query[Any]) -> str | None:
    """The index a query reads (None: the table)."""
    return query.explain().get("IndexName")


# -- automatic index selection -------------------------------------------------------


F = Thread.forum.eq("f")
U = Thread.user_id.eq("u")

SELECTION_CASES: list[tuple[str, list[Condition], str | None]] = [
    ("hash only: the table", [F], None),
    ("table range key: the table", [F, Thread.thread.begins_with("t")], None),
    ("LSI range key: that LSI", [F, Thread.updated_at.gt(3)], "updated_at_index"),
    ("other LSI range key", [F, Thread.views.between(1, 9)], "views_index"),
    (
        "two LSI ranges: first declared",
        [F, Thread.updated_at.gt(3), Thread.views.gt(2)],
        ("updated_at_index"),
    ),
    (
        "two LSI ranges, other order",
        [F, Thread.views.gt(2), Thread.updated_at.gt(3)],
        ("updated_at_index"),
    ),
    ("table range beats LSI range", [F, Thread.updated_at.gt(3), Thread.thread.eq("t")], None),
    ("ne is no key condition", [F, Thread.updated_at.ne(3)], None),
    ("is_in is no key condition", [F, Thread.updated_at.is_in(1, 2)], None),
    ("GSI hash only: first GSI", [U], "by_user"),
    ("GSI range key: that GSI", [U, Thread.views.gte(5)], "by_user_views"),
    ("first GSI range key", [U, Thread.updated_at.lt(5)], "by_user"),
    ("GSI not projecting a filter is skipped", [U, Thread.body.eq("x")], "by_user_views"),
    ("GSI projecting the filter", [U, Thread.title.eq("x")], "by_user"),
    ("nested filter path counts as its attribute", [U, Thread.meta["a"].eq(1)], "by_user_views"),
    ("table hash and GSI hash: the table", [F, U], None),
    ("LSI not projecting a filter loses", [F, U, Thread.updated_at.gt(3)], "by_user"),
    ("LSI not projecting a filter: table", [F, Thread.updated_at.gt(3), Thread.body.eq("b")], None),
    ("LSI range beats GSI range (views)", [U, F, Thread.views.gt(3)], "views_index"),
    ("combined with &", [F & Thread.updated_at.gt(3)], "updated_at_index"),
]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [pytest.param(conds, expected, id=label) for label, conds, expected in SELECTION_CASES],
)
def test_automatic_index_selection(conditions: list[Condition], expected: str | None) -> None:
    assert index_of(Thread.query().where(*conditions)) == expected


def test_selection_is_deterministic_across_calls_and_where_steps() -> None:
    one_call = Thread.query().where(F, Thread.views.gt(2), Thread.updated_at.gt(3))
    steps = Thread.query().where(Thread.views.gt(2)).where(Thread.updated_at.gt(3)).where(F)
    requests = [one_call.explain() for _ in range(5)]
    assert all(request == requests[0] for request in requests)
    assert steps.explain()["IndexName"] == "updated_at_index"
    assert resolved(steps.explain(), "FilterExpression") == "views > 2"


def test_unused_range_condition_becomes_a_filter() -> None:
    request = Thread.query().where(F, Thread.updated_at.gt(3), Thread.views.lt(7)).explain()
    assert request["IndexName"] == "updated_at_index"
    assert resolved(request, "KeyConditionExpression") == "(forum = 'f') AND (updated_at > 3)"
    assert resolved(request, "FilterExpression") == "views < 7"


def test_or_of_equalities_is_no_hash_condition() -> None:
    query = Thread.query().where(Thread.forum.eq("a") | Thread.forum.eq("b"))
    with pytest.raises(NoIndexForQuery):
        query.explain()


def test_negated_equality_is_no_hash_condition() -> None:
    with pytest.raises(NoIndexForQuery):
        Thread.query().where(~Thread.forum.eq("a")).explain()


def test_no_conditions_at_all() -> None:
    with pytest.raises(NoIndexForQuery, match="scan"):
        Thread.query().explain()


# -- order_by ------------------------------------------------------------------------


def test_order_by_picks_the_target_sorted_by_that_field() -> None:
    assert index_of(Thread.query().where(F).order_by(Thread.views)) == "views_index"
    assert index_of(Thread.query().where(F).order_by(Thread.thread)) is None
    assert index_of(Thread.query().where(U).order_by(Thread.updated_at)) == "by_user"
    assert index_of(Thread.query().where(U).order_by(Thread.views)) == "by_user_views"


def test_order_by_overrides_a_range_condition_elsewhere() -> None:
    request = Thread.query().where(F, Thread.updated_at.gt(3)).order_by(Thread.views).explain()
    assert request["IndexName"] == "views_index"
    assert resolved(request, "KeyConditionExpression") == "forum = 'f'"
    assert resolved(request, "FilterExpression") == "updated_at > 3"


def test_order_by_direction() -> None:
    ascending = Thread.query().where(F).order_by(Thread.views).explain()
    descending = Thread.query().where(F).order_by(Thread.views, asc=False).explain()
    assert "ScanIndexForward" not in ascending
    assert descending["ScanIndexForward"] is False


def test_order_by_a_field_no_target_sorts_by() -> None:
    with pytest.raises(NoIndexForQuery, match="ordered by its range key, not title"):
        Thread.query().where(F).order_by(Thread.title).explain()


def test_order_by_takes_a_field() -> None:
    with pytest.raises(TypeError, match="order_by"):
        Thread.query().order_by("views")  # type: ignore[arg-type]


# -- consistent() --------------------------------------------------------------------


def test_consistent_excludes_global_indexes() -> None:
    with pytest.raises(NoIndexForQuery, match="cannot read consistently") as caught:
        Thread.query().where(U).consistent().explain()
    assert "global index 'by_user'" in str(caught.value)


def test_consistent_falls_back_to_the_table_or_an_lsi() -> None:
    table = Thread.query().where(F, U).consistent().explain()
    assert "IndexName" not in table
    assert table["ConsistentRead"] is True
    assert resolved(table, "FilterExpression") == "user_id = 'u'"
    local = Thread.query().where(F, U, Thread.views.gt(1)).consistent().explain()
    assert local["IndexName"] == "views_index"
    assert local["ConsistentRead"] is True


def test_consistent_with_explicit_gsi_is_refused() -> None:
    with pytest.raises(QueryError, match="consistent"):
        Thread.query().use_index("by_user").where(U).consistent().explain()


def test_consistent_can_be_turned_off_again() -> None:
    assert index_of(Thread.query().where(U).consistent().consistent(False)) == "by_user"


# -- GSI projection coverage -----------------------------------------------------------


def test_projection_decides_between_global_indexes() -> None:
    assert index_of(Thread.query(Thread.title).where(U)) == "by_user"
    assert index_of(Thread.query(Thread.body).where(U)) == "by_user_views"


def test_uncovered_gsi_loses_its_range_condition_to_a_covering_one() -> None:
    request = Thread.query(Thread.body).where(U, Thread.updated_at.gt(3)).explain()
    assert request["IndexName"] == "by_user_views"
    assert resolved(request, "FilterExpression") == "updated_at > 3"


def test_no_gsi_projects_the_filtered_attribute() -> None:
    query = Ticket.query().where(Ticket.assignee.eq("ann"), Ticket.subject.eq("bug"))
    with pytest.raises(NoIndexForQuery) as caught:
        query.explain()
    message = str(caught.value)
    assert "global index 'by_assignee' needs the attributes ['subject'] projected" in message
    assert "KEYS_ONLY" in message
    # the keys alone are fine
    assert index_of(Ticket.query().where(Ticket.assignee.eq("ann"))) == "by_assignee"


def test_local_indexes_fetch_unprojected_results_but_do_not_filter_on_them() -> None:
    # DynamoDB reads unprojected attributes asked for from the table ...
    assert index_of(Thread.query(Thread.body).where(F, Thread.updated_at.gt(1))) == (
        "updated_at_index"
    )
    # ... but refuses a filter on them (ValidationException), so the table is read instead
    request = Thread.query().where(F, Thread.updated_at.gt(1), Thread.title.eq("x")).explain()
    assert "IndexName" not in request
    assert resolved(request, "FilterExpression") == "(updated_at > 1) AND (title = 'x')"


def test_keys_only_local_index_with_an_unprojected_filter() -> None:
    query = Note.query().use_index(Note.rank).where(Note.owner.eq("o"), Note.text.eq("t"))
    with pytest.raises(QueryError) as caught:
        query.explain()
    message = str(caught.value)
    assert "local index 'rank_index' needs the filtered attributes ['text'] projected" in message
    assert "KEYS_ONLY" in message
    assert index_of(Note.query().where(Note.owner.eq("o"), Note.rank.gt(1))) == "rank_index"


# -- explicit use_index ------------------------------------------------------------------


def test_use_index_by_name_and_by_field() -> None:
    assert index_of(Thread.query().use_index("by_user").where(U)) == "by_user"
    assert index_of(Thread.query().use_index(Thread.updated_at).where(F)) == "updated_at_index"
    assert index_of(Thread.query().use_index("views_index").where(F)) == "views_index"
    request = Thread.query().use_index(Thread.views, asc=False).where(F).explain()
    assert request["IndexName"] == "views_index"
    assert request["ScanIndexForward"] is False


def test_use_index_none_reads_the_table_and_filters_the_rest() -> None:
    request = Thread.query().use_index(None).where(F, Thread.updated_at.gt(3)).explain()
    assert "IndexName" not in request
    assert resolved(request, "KeyConditionExpression") == "forum = 'f'"
    assert resolved(request, "FilterExpression") == "updated_at > 3"


def test_use_index_unknown_name_lists_the_indexes() -> None:
    with pytest.raises(QueryError) as caught:
        Thread.query().use_index("nope")
    message = str(caught.value)
    assert "'nope'" in message
    for name in ("updated_at_index", "views_index", "by_user", "by_user_views"):
        assert repr(name) in message


def test_use_index_field_without_index() -> None:
    with pytest.raises(QueryError, match="no index"):
        Thread.query().use_index(Thread.title)


@pytest.mark.parametrize(
    ("index", "conditions", "needs"),
    [
        ("by_user", [F], "an eq() condition on user_id"),
        (None, [U], "an eq() condition on forum"),
        ("updated_at_index", [U], "an eq() condition on forum"),
        ("by_user", [U, Thread.body.eq("x")], "the attributes ['body'] projected"),
        (
            "updated_at_index",
            [F, Thread.body.eq("x")],
            "the filtered attributes ['body'] projected",
        ),
    ],
)
def test_use_index_checks_the_conditions_fit(
    index: str | None, conditions: list[Condition], needs: str
) -> None:
    query = Thread.query().use_index(index).where(*conditions)
    with pytest.raises(QueryError) as caught:
        query.explain()
    assert needs in str(caught.value)
    assert not isinstance(caught.value, NoIndexForQuery)  # an explicit choice that does not fit


def test_use_index_conflicting_with_order_by() -> None:
    query = Thread.query().use_index("updated_at_index").order_by(Thread.views).where(F)
    with pytest.raises(QueryError, match="ordered by"):
        query.explain()


# -- NoIndexForQuery -------------------------------------------------------------------


def test_no_index_message_lists_every_target_and_suggests_scan() -> None:
    with pytest.raises(NoIndexForQuery) as caught:
        Thread.query().where(Thread.title.eq("x"), Thread.views.gt(3)).explain()
    error = caught.value
    assert isinstance(error, QueryError)
    assert isinstance(error, ValueError)
    message = str(error)
    assert "conditions on title, views" in message
    assert "the table needs an eq() condition on forum" in message
    assert "local index 'updated_at_index' needs an eq() condition on forum" in message
    assert "local index 'views_index' needs an eq() condition on forum" in message
    assert "global index 'by_user' needs an eq() condition on user_id" in message
    assert "global index 'by_user_views' needs an eq() condition on user_id" in message
    assert "Thread.scan().where(...)" in message


def test_no_index_is_raised_by_every_reader_before_any_request(dead: Connection) -> None:
    query = Thread.query().where(Thread.title.eq("x")).using(dead)
    with pytest.raises(NoIndexForQuery):
        query.get_items()
    with pytest.raises(NoIndexForQuery):
        query.first()
    with pytest.raises(NoIndexForQuery):
        query.count()
    with pytest.raises(NoIndexForQuery):
        query.all()


# -- range key and key attribute rules -------------------------------------------------------


def test_two_conditions_on_the_range_key() -> None:
    query = Thread.query().where(F, Thread.thread.gt("a"), Thread.thread.lt("m"))
    with pytest.raises(QueryError, match=r"2 conditions on the range key thread.*between\(\)"):
        query.explain()
    fixed = Thread.query().where(F, Thread.thread.between("a", "m")).explain()
    assert (
        resolved(fixed, "KeyConditionExpression")
        == "(forum = 'f') AND (thread BETWEEN 'a' AND 'm')"
    )


def test_two_conditions_on_an_lsi_range_key() -> None:
    query = Thread.query().use_index(Thread.views).where(F, Thread.views.gt(1), Thread.views.lt(5))
    with pytest.raises(QueryError, match="between"):
        query.explain()


def test_filter_on_a_key_attribute_of_the_target_is_refused() -> None:
    with pytest.raises(QueryError, match=r"\['thread'\]"):
        Thread.query().where(F, Thread.thread.ne("t")).explain()
    with pytest.raises(QueryError, match=r"\['forum'\]"):
        Thread.query().where(F, Thread.forum.exists()).explain()


def test_key_attribute_of_another_target_is_a_plain_filter() -> None:
    request = Thread.query().where(F, Thread.user_id.ne("u")).explain()
    assert resolved(request, "FilterExpression") == "user_id <> 'u'"


# -- key condition / filter split ------------------------------------------------------------


def test_key_and_filter_split_with_every_filter_operator() -> None:
    query = Thread.query().where(
        U,
        Thread.views.between(10, 20),
        Thread.title.begins_with("Re:"),
        Thread.updated_at.lt(3) | Thread.updated_at.gte(100),
        ~Thread.body.exists(),
        Thread.labels.contains(7),
        Thread.forum.is_in("a", "b"),
        Thread.thread.in_(["c"]),
        Thread.meta.not_exists(),
        Thread.labels.size().gt(2),
        Thread.body.ne("x"),
    )
    request = query.explain()
    assert request["IndexName"] == "by_user_views"
    assert resolved(request, "KeyConditionExpression") == (
        "(user_id = 'u') AND (views BETWEEN 10 AND 20)"
    )
    assert resolved(request, "FilterExpression") == (
        "(begins_with(title, 'Re:')) AND ((updated_at < 3) OR (updated_at >= 100)) "
        "AND (NOT (attribute_exists(body))) AND (contains(labels, 7)) "
        "AND (forum IN ('a', 'b')) AND (thread IN ('c')) "
        "AND (attribute_not_exists(meta)) AND (size(labels) > 2) AND (body <> 'x')"
    )


def test_nested_paths_in_filters() -> None:
    query = Thread.query().where(
        F, Thread.meta["a"]["b"].gt(1), Thread.labels[0].eq(5), Thread.meta["x.y"].exists()
    )
    request = query.explain()
    assert "IndexName" not in request
    assert resolved(request, "FilterExpression") == (
        "(meta.a.b > 1) AND (labels[0] = 5) AND (attribute_exists(meta.x.y))"
    )
    # "x.y" is one map key, not two: it has one placeholder of its own
    assert "x.y" in request["ExpressionAttributeNames"].values()


def test_every_name_goes_through_a_placeholder() -> None:
    query = Odd.query(Odd.dotted, Odd.spaced).where(
        Odd.name.eq("n"),
        Odd.date.lte(dt.date(2024, 1, 31)),
        Odd.status.eq("open"),
        Odd.dashed.gt(1),
        Odd.doc["some key"].exists(),
    )
    request = query.explain()
    assert "IndexName" not in request
    names = set(request["ExpressionAttributeNames"].values())
    assert {"name", "date", "status", "x-y", "a.b", "full name", "doc", "some key"} <= names
    expressions = " ".join(
        str(request[part])
        for part in ("KeyConditionExpression", "FilterExpression", "ProjectionExpression")
    )
    for word in ("name", "date", "status", "x-y", "a.b", "full name", "doc"):
        assert word not in expressions
    assert resolved(request, "KeyConditionExpression") == "(name = 'n') AND (date <= '2024-01-31')"
    assert resolved(request, "ProjectionExpression") == "name, date, a.b, full name"


def test_odd_names_pick_their_indexes() -> None:
    assert index_of(Odd.query().where(Odd.name.eq("n"), Odd.year.gt(2000))) == "year_index"
    request = Odd.query().where(Odd.status.eq("open"), Odd.dashed.lt(5)).explain()
    assert request["IndexName"] == "by-status.v1"
    assert resolved(request, "KeyConditionExpression") == "(status = 'open') AND (x-y < 5)"


def test_projection_adds_the_keys_of_table_and_index() -> None:
    request = Thread.query(Thread.title).where(U, Thread.updated_at.gt(1)).explain()
    assert request["IndexName"] == "by_user"
    assert resolved(request, "ProjectionExpression") == "forum, thread, user_id, updated_at, title"


# -- builders ------------------------------------------------------------------------------


def test_builders_are_immutable() -> None:
    base = Thread.query()
    narrowed = base.where(F)
    limited = narrowed.limit(3)
    assert base is not narrowed
    with pytest.raises(NoIndexForQuery):
        base.explain()
    assert "Limit" not in narrowed.explain()
    assert index_of(narrowed.use_index(Thread.views)) == "views_index"
    assert index_of(narrowed) is None
    assert limited.explain() == narrowed.explain()  # Limit is set per request when reading


def test_where_takes_conditions_only() -> None:
    with pytest.raises(TypeError, match=r"Thread\.field\.eq"):
        Thread.query().where(True)  # type: ignore[arg-type]


def test_bool_of_a_condition_raises() -> None:
    with pytest.raises(TypeError, match=re.escape("& | ~")):
        bool(Thread.forum.eq("f"))
    with pytest.raises(TypeError):
        Thread.query().where(Thread.forum.eq("f") and Thread.views.gt(1))


@pytest.mark.parametrize("bad", [0, -1, True])
def test_limit_and_page_size_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        Thread.query().limit(bad)
    with pytest.raises(ValueError, match="page_size"):
        Thread.query().page_size(bad)


def test_projection_takes_fields_of_the_model() -> None:
    with pytest.raises(TypeError, match="projections"):
        Thread.query(Ticket.subject)
    with pytest.raises(TypeError, match="projections"):
        Thread.scan("title")  # type: ignore[arg-type]


def test_scan_explain_and_segments() -> None:
    request = Thread.scan(Thread.title).where(Thread.views.gt(3)).explain()
    assert request["TableName"] == "test_planner_threads"
    assert resolved(request, "FilterExpression") == "views > 3"
    assert resolved(request, "ProjectionExpression") == "forum, thread, title"
    assert Thread.scan().use_index("by_user").explain()["IndexName"] == "by_user"
    with pytest.raises(ValueError, match="segments"):
        Thread.scan(segments=0)
    with pytest.raises(ValueError, match="segment must be from 0 to 3"):
        Thread.scan(segments=4).segment(4)


def test_parallel_scan_is_not_read_by_pages(dead: Connection) -> None:
    scan = Thread.scan(segments=3).using(dead)
    with pytest.raises(QueryError, match="iterating"):
        scan.get_items()
    with pytest.raises(QueryError, match="iterating"):
        scan.first()


# -- cursors --------------------------------------------------------------------------------


@pytest.fixture
def dead() -> Iterator[Connection]:
    """A connection to a closed loopback port: any request raises TransportError."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connection = Connection(
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=1,
    )
    yield connection
    connection.close()


@pytest.fixture
def restore_cursor_secret() -> Iterator[None]:
    yield
    set_cursor_secret(None)


TABLE_SCOPE = query_scope(Thread.query().where(F).explain())  # what its cursors are bound to
KEY = {"forum": {"S": "science"}, "thread": {"S": "physics_1"}}


def test_cursor_round_trip_for_string_number_and_binary_keys() -> None:
    keys: list[tuple[dict[str, Any], str]] = [
        (KEY, TABLE_SCOPE),
        ({"forum": {"S": "é ∑ x"}, "thread": {"S": ""}, "views": {"N": "-12.5"}}, "t/views_index"),
        ({"bucket": {"B": b"\x00\xffbin"}, "seq": {"N": "7"}}, "test_planner_blobs/"),
    ]
    for key, scope in keys:
        cursor = Cursor.from_key(key, scope)
        assert isinstance(cursor, str)
        assert cursor.isascii()
        assert cursor.to_key(scope) == key
        assert decode_cursor(json.loads(json.dumps(cursor)), scope) == key


def test_cursor_is_opaque() -> None:
    cursor = Cursor.from_key(KEY, TABLE_SCOPE)
    assert "science" not in cursor
    assert "physics" not in cursor


def test_cursor_through_json_and_start_key_str() -> None:
    cursor = Cursor.from_key(KEY, TABLE_SCOPE)
    text = json.loads(json.dumps({"next": cursor}))["next"]
    assert type(text) is str
    request = Thread.query().where(F).start_key_str(text).explain()
    assert request["ExclusiveStartKey"] == KEY
    assert Thread.query().where(F).start_key(cursor).explain()["ExclusiveStartKey"] == KEY
    assert (
        "ExclusiveStartKey"
        not in Thread.query().where(F).start_key(cursor).start_key(None).explain()
    )


def _flip(text: str, position: int) -> str:
    char = text[position]
    return text[:position] + ("B" if char == "A" else "A") + text[position + 1 :]


TAMPERINGS: list[tuple[str, Callable[[str], str]]] = [
    ("flip a payload char", lambda c: _flip(c, 5)),
    ("flip a mac char", lambda c: _flip(c, len(c) - 3)),
    ("flip the version", lambda c: "c2" + c[2:]),
    ("cut the end", lambda c: c[:-1]),
    ("cut the mac", lambda c: c.rsplit(".", 1)[0]),
    ("cut the start", lambda c: c[3:]),
    ("cut in half", lambda c: c[: len(c) // 2]),
    ("extra part", lambda c: c + ".x"),
    ("non-ascii mac", lambda c: c[:-1] + "é"),
    ("non-ascii payload", lambda c: c[:4] + "é" + c[5:]),
    ("lone surrogate in mac", lambda c: c[:-1] + "\ud800"),
    ("lone surrogate in payload", lambda c: c[:4] + "\ud800" + c[5:]),
    ("empty", lambda c: ""),
    ("garbage", lambda c: "not a cursor"),
    ("raw json key", lambda c: json.dumps(KEY)),
]


@pytest.mark.parametrize("tamper", [pytest.param(fn, id=label) for label, fn in TAMPERINGS])
def test_tampered_cursor_is_refused(tamper: Callable[[str], str]) -> None:
    bad = tamper(Cursor.from_key(KEY, TABLE_SCOPE))
    with pytest.raises(InvalidCursor):
        decode_cursor(bad, TABLE_SCOPE)
    query = Thread.query().where(F).start_key_str(bad)
    with pytest.raises(InvalidCursor):
        query.explain()


def test_tampered_cursor_is_refused_before_any_request(dead: Connection) -> None:
    bad = _flip(Cursor.from_key(KEY, TABLE_SCOPE), 6)
    query = Thread.query().where(F).start_key(bad).using(dead)
    for read in (query.get_items, query.first, query.all, query.count):
        with pytest.raises(InvalidCursor):
            read()
    # the same query with a good cursor does try to send (and fails to connect)
    with pytest.raises(TransportError):
        query.start_key(Cursor.from_key(KEY, TABLE_SCOPE)).get_items()


async def test_tampered_cursor_is_refused_by_async_readers(dead: Connection) -> None:
    bad = Cursor.from_key(KEY, TABLE_SCOPE)[:-2]
    query = Thread.query().where(F).start_key(bad).using(dead)
    with pytest.raises(InvalidCursor):
        await query.aget_items()
    with pytest.raises(InvalidCursor):
        await query.afirst()
    with pytest.raises(InvalidCursor):
        await query.aall()
    with pytest.raises(InvalidCursor):
        await query.acount()


@pytest.mark.parametrize(
    ("scope", "query"),
    [
        ("other_table/", Thread.query().where(F)),
        (TABLE_SCOPE, Thread.query().where(F, Thread.views.gt(1))),  # reads views_index
        (TABLE_SCOPE, Thread.query().where(U)),  # reads by_user
        (
            query_scope(Thread.query().where(F, Thread.views.gt(1)).explain()),
            Thread.query().where(F),
        ),
        (
            query_scope(Thread.query().where(U).explain()),
            Thread.query().where(U, Thread.views.gt(0)),
        ),
    ],
)
def test_cursor_from_another_table_or_index_is_refused(
    scope: str, query: dynamodb.Query[Thread]
) -> None:
    cursor = Cursor.from_key(KEY, scope)
    with pytest.raises(InvalidCursor, match="another table, index"):
        query.start_key(cursor).explain()


def test_cursor_of_one_scan_segment_is_refused_by_another() -> None:
    scan = Thread.scan(segments=2)
    cursor = Cursor.from_key(KEY, query_scope(scan.segment(0).explain()))
    request = scan.segment(0).start_key(cursor).explain()
    assert request["ExclusiveStartKey"] == KEY
    assert (request["Segment"], request["TotalSegments"]) == (0, 2)
    assert "ExclusiveStartKey" in repr(scan.segment(0).start_key(cursor))
    with pytest.raises(InvalidCursor):
        scan.segment(1).start_key(cursor).explain()


def test_start_key_takes_a_string() -> None:
    with pytest.raises(TypeError, match="cursor"):
        Thread.query().start_key(KEY)  # type: ignore[arg-type]


@pytest.mark.usefixtures("restore_cursor_secret")
def test_cursor_secret_changes_validity() -> None:
    default_cursor = Cursor.from_key(KEY, TABLE_SCOPE)
    set_cursor_secret("first secret")
    with pytest.raises(InvalidCursor, match="cursor secret"):
        decode_cursor(default_cursor, TABLE_SCOPE)
    first_cursor = Cursor.from_key(KEY, TABLE_SCOPE)
    assert first_cursor != default_cursor
    assert decode_cursor(first_cursor, TABLE_SCOPE) == KEY
    set_cursor_secret(b"first secret")  # the same secret as bytes
    assert decode_cursor(first_cursor, TABLE_SCOPE) == KEY
    set_cursor_secret("second secret")
    with pytest.raises(InvalidCursor):
        decode_cursor(first_cursor, TABLE_SCOPE)
    with pytest.raises(InvalidCursor):
        Thread.query().where(F).start_key(first_cursor).explain()
    set_cursor_secret(None)  # back to the default
    assert decode_cursor(default_cursor, TABLE_SCOPE) == KEY
    with pytest.raises(InvalidCursor):
        decode_cursor(first_cursor, TABLE_SCOPE)
