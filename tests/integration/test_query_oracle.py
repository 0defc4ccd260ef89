"""Random queries and scans checked against a plain-Python evaluation of the same conditions.

One fixed random data set is written once for the module. Hypothesis draws
condition *specs* (plain tuples); each spec is turned into library conditions
on one side and evaluated in Python by :func:`holds` on the other, so the
library's expression objects are never used to compute the expected answer.

Semantics the evaluator encodes (DynamoDB's): a comparison, ``between``,
``begins_with``, ``contains``, ``IN`` or ``size`` on a missing attribute is
false, except ``<>``, which is true for a missing attribute (``size(a) <> n``
too); ``NOT`` negates whatever the inner condition gave.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dynamodb
from dynamodb import (
    CharField,
    Condition,
    Connection,
    Cursor,
    DictField,
    IntegerField,
    ListField,
    Model,
    SetField,
)
from dynamodb.fields import NestedAttribute

Row = dict[str, Any]
PathSpec = tuple[str | int, ...]
Spec = tuple[Any, ...]


class Entry(Model):
    __table_name__ = "test_query_oracle_entries"
    __secondary_indexes__ = {  # noqa: RUF012
        "by_g": {"hash_key": "g", "range_key": "gr", "projections": "ALL"},
    }

    h = CharField(hash_key=True)
    r = IntegerField(range_key=True)
    lv = IntegerField(indexed=True, projections=["s"])  # LSI lv_index
    g = CharField()  # GSI hash key, missing on some items (sparse index)
    gr = IntegerField()
    s = CharField()
    i = IntegerField()
    t = CharField()
    ss = SetField(of=str)
    li = ListField(of=IntegerField())
    m = DictField()


HASHES = ("a", "b", "c")
GROUPS = ("x", "y", "z")
WORDS = ("ant", "anchor", "bee", "beetle", "cat", "cow", "dog", "do", "emu", "zebra")
LETTERS = ("a", "e", "o", "t", "be", "og", "z")
MEMBERS = ("p", "q", "r", "s")
COUNT = 300


def make_rows() -> list[Row]:
    rng = random.Random(20240601)
    local_values = rng.sample(range(1000), COUNT)
    global_values = rng.sample(range(1000), COUNT)
    rows: list[Row] = []
    for n in range(COUNT):
        row: Row = {"h": rng.choice(HASHES), "r": n * 3 - 200, "t": rng.choice(WORDS)}
        if rng.random() < 0.9:
            row["lv"] = local_values[n]
        if rng.random() < 0.85:
            row["g"] = rng.choice(GROUPS)
            row["gr"] = global_values[n]
        if rng.random() < 0.8:
            row["s"] = rng.choice(WORDS)
        if rng.random() < 0.8:
            row["i"] = rng.randint(-5, 20)
        members = {member for member in MEMBERS if rng.random() < 0.4}
        if members:
            row["ss"] = members
        if rng.random() < 0.8:
            row["li"] = [rng.randint(0, 6) for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.7:
            inner: dict[str, Any] = {"k": rng.randint(0, 9)}
            if rng.random() < 0.5:
                inner["z"] = rng.choice(WORDS)
            row["m"] = inner
        rows.append(row)
    return rows


ROWS = make_rows()


@pytest.fixture(scope="module")
def entries(connection: Connection) -> Iterator[None]:
    """Writes ROWS to the table for the module (yields None: Hypothesis reprs its arguments)."""
    dynamodb.create_table(Entry, force=True)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda row: Entry.create(**row), ROWS))
    yield
    dynamodb.delete_table(Entry)


# -- the independent evaluator -------------------------------------------------------------

_MISSING = object()


def value_at(row: Row, path: PathSpec) -> Any:
    """The value at ``path`` in a plain row, or _MISSING."""
    value: Any = row
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return _MISSING
            value = value[step]
    return value


def compare(operator: str, left: Any, right: Any) -> bool:
    if operator == "eq":
        return bool(left == right)
    if operator == "ne":
        return bool(left != right)
    if operator == "lt":
        return bool(left < right)
    if operator == "lte":
        return bool(left <= right)
    if operator == "gt":
        return bool(left > right)
    assert operator == "gte"
    return bool(left >= right)


def holds(spec: Spec, row: Row) -> bool:
    """Evaluate a condition spec over a plain row, the way DynamoDB does."""
    kind = spec[0]
    if kind == "and":
        return all(holds(part, row) for part in spec[1])
    if kind == "or":
        return any(holds(part, row) for part in spec[1])
    if kind == "not":
        return not holds(spec[1], row)
    _, operator, path, args = spec
    value = value_at(row, path)
    if operator == "exists":
        return value is not _MISSING
    if operator == "not_exists":
        return value is _MISSING
    if value is _MISSING:  # only <> holds for a missing attribute, size(...) <> n too
        return bool(operator == "ne" or (operator == "size" and args[0] == "ne"))
    if operator == "between":
        low, high = args
        return bool(low <= value) and bool(value <= high)
    if operator == "begins_with":
        return isinstance(value, str) and value.startswith(str(args[0]))
    if operator == "contains":
        return bool(args[0] in value)
    if operator == "in":
        return value in args
    if operator == "size":
        return compare(args[0], len(value), args[1])
    return compare(operator, value, args[0])


# -- specs to library conditions -----------------------------------------------------------------


def target_of(path: PathSpec) -> Any:
    """The field or nested attribute for ``path`` (a field of Entry, then map keys/indexes)."""
    field = Entry._meta.fields[str(path[0])]
    current: Any = field
    for step in path[1:]:
        current = current[step]
    assert current is field or isinstance(current, NestedAttribute)
    return current


def build(spec: Spec) -> Condition:
    """The library condition for a spec."""
    kind = spec[0]
    if kind in ("and", "or"):
        parts = [build(part) for part in spec[1]]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if kind == "and" else combined | part
        return combined
    if kind == "not":
        return ~build(spec[1])
    _, operator, path, args = spec
    subject = target_of(path)
    if operator == "in":  # both spellings, both ways of passing the choices
        if len(args) % 2:
            return subject.is_in(*args)  # type: ignore[no-any-return]
        return subject.in_(list(args))  # type: ignore[no-any-return]
    if operator == "size":
        return getattr(subject.size(), args[0])(args[1])  # type: ignore[no-any-return]
    return getattr(subject, operator)(*args)  # type: ignore[no-any-return]


# -- strategies ------------------------------------------------------------------------------

COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte")
INTS = st.integers(min_value=-6, max_value=21)
SMALL = st.integers(min_value=0, max_value=4)


def _ordered(values: tuple[Any, Any]) -> tuple[Any, Any]:
    return (min(values), max(values))


def number_leaf(path: PathSpec, values: st.SearchStrategy[int]) -> st.SearchStrategy[Spec]:
    return st.one_of(
        st.tuples(st.just("cmp"), st.sampled_from(COMPARISONS), st.just(path), st.tuples(values)),
        st.tuples(
            st.just("cmp"),
            st.just("between"),
            st.just(path),
            st.tuples(values, values).map(_ordered),
        ),
        st.tuples(
            st.just("cmp"),
            st.just("in"),
            st.just(path),
            st.lists(values, min_size=1, max_size=4, unique=True).map(tuple),
        ),
        st.tuples(
            st.just("cmp"), st.sampled_from(("exists", "not_exists")), st.just(path), st.just(())
        ),
    )


def string_leaf(path: PathSpec) -> st.SearchStrategy[Spec]:
    words = st.sampled_from((*WORDS, "a", "b", "d", "zz"))
    return st.one_of(
        st.tuples(st.just("cmp"), st.sampled_from(COMPARISONS), st.just(path), st.tuples(words)),
        st.tuples(
            st.just("cmp"), st.just("between"), st.just(path), st.tuples(words, words).map(_ordered)
        ),
        st.tuples(
            st.just("cmp"),
            st.just("begins_with"),
            st.just(path),
            st.tuples(st.sampled_from(("a", "an", "be", "c", "do", "zeb", "q"))),
        ),
        st.tuples(
            st.just("cmp"), st.just("contains"), st.just(path), st.tuples(st.sampled_from(LETTERS))
        ),
        st.tuples(
            st.just("cmp"),
            st.just("in"),
            st.just(path),
            st.lists(words, min_size=1, max_size=4, unique=True).map(tuple),
        ),
        st.tuples(
            st.just("cmp"), st.sampled_from(("exists", "not_exists")), st.just(path), st.just(())
        ),
        st.tuples(
            st.just("cmp"),
            st.just("size"),
            st.just(path),
            st.tuples(st.sampled_from(COMPARISONS), SMALL),
        ),
    )


def collection_leaf(path: PathSpec, members: st.SearchStrategy[Any]) -> st.SearchStrategy[Spec]:
    return st.one_of(
        st.tuples(st.just("cmp"), st.just("contains"), st.just(path), st.tuples(members)),
        st.tuples(
            st.just("cmp"), st.sampled_from(("exists", "not_exists")), st.just(path), st.just(())
        ),
        st.tuples(
            st.just("cmp"),
            st.just("size"),
            st.just(path),
            st.tuples(st.sampled_from(COMPARISONS), SMALL),
        ),
    )


def map_leaf(path: PathSpec) -> st.SearchStrategy[Spec]:
    return st.one_of(
        st.tuples(
            st.just("cmp"), st.sampled_from(("exists", "not_exists")), st.just(path), st.just(())
        ),
        st.tuples(
            st.just("cmp"),
            st.just("size"),
            st.just(path),
            st.tuples(st.sampled_from(COMPARISONS), SMALL),
        ),
    )


def filter_leaf(with_keys: bool) -> st.SearchStrategy[Spec]:
    """A condition on one non-key attribute (and, for scans, key attributes too)."""
    leaves = [
        string_leaf(("s",)),
        string_leaf(("t",)),
        number_leaf(("i",), INTS),
        collection_leaf(("ss",), st.sampled_from(MEMBERS)),
        collection_leaf(("li",), st.integers(min_value=0, max_value=7)),
        number_leaf(("li", 0), st.integers(min_value=-1, max_value=7)),
        number_leaf(("m", "k"), st.integers(min_value=-1, max_value=10)),
        string_leaf(("m", "z")),
        map_leaf(("m",)),
    ]
    if with_keys:
        leaves += [
            number_leaf(("r",), st.integers(min_value=-210, max_value=700)),
            number_leaf(("lv",), st.integers(min_value=0, max_value=1000)),
            number_leaf(("gr",), st.integers(min_value=0, max_value=1000)),
            string_leaf(("h",)),
            string_leaf(("g",)),
        ]
    return st.one_of(*leaves)


def filter_tree(with_keys: bool, only_s: bool = False) -> st.SearchStrategy[Spec]:
    """Leaves combined with & | ~ (a tree of depth up to three).

    ``only_s``: conditions on ``s`` only, the one attribute lv_index projects.
    """
    return st.recursive(
        string_leaf(("s",)) if only_s else filter_leaf(with_keys),
        lambda children: st.one_of(
            st.tuples(st.just("not"), children),
            st.tuples(st.sampled_from(("and", "or")), st.lists(children, min_size=2, max_size=3)),
        ),
        max_leaves=4,
    )


RANGE_OPERATORS = ("eq", "lt", "lte", "gt", "gte", "between", "between")  # eq picks <= 1 item

# target: (hash attribute, hash values, range attribute, index name)
TARGETS: dict[str, tuple[str, tuple[str, ...], str, str | None]] = {
    "table": ("h", HASHES, "r", None),
    "lsi": ("h", HASHES, "lv", "lv_index"),
    "gsi": ("g", GROUPS, "gr", "by_g"),
}


@st.composite
def range_condition(draw: st.DrawFn, attribute: str, required: bool) -> Spec | None:
    if not required and draw(st.booleans()):
        return None
    values = [row[attribute] for row in ROWS if attribute in row]
    pick = st.one_of(st.sampled_from(values), st.integers(min_value=-250, max_value=1100))
    operator = draw(st.sampled_from(RANGE_OPERATORS))
    if operator == "between":
        return ("cmp", "between", (attribute,), _ordered((draw(pick), draw(pick))))
    return ("cmp", operator, (attribute,), (draw(pick),))


@st.composite
def query_case(draw: st.DrawFn) -> dict[str, Any]:
    target = draw(st.sampled_from(list(TARGETS)))
    hash_attr, hash_values, range_attr, _ = TARGETS[target]
    return {
        "target": target,
        "hash": ("cmp", "eq", (hash_attr,), (draw(st.sampled_from(hash_values)),)),
        # the LSI is only chosen for a condition on its range key
        "range": draw(range_condition(range_attr, required=target == "lsi")),
        "filters": draw(
            st.lists(filter_tree(with_keys=False, only_s=draw(st.booleans())), max_size=3)
        ),
        "ascending": draw(st.booleans()),
        "limit": draw(st.none() | st.integers(min_value=1, max_value=40)),
        "page_size": draw(st.none() | st.integers(min_value=7, max_value=60)),
    }


def _key(row: Row) -> tuple[str, int]:
    return (row["h"], row["r"])


def attributes_of(spec: Spec) -> set[str]:
    """The top-level attributes a condition spec reads."""
    if spec[0] in ("and", "or"):
        return set().union(*(attributes_of(part) for part in spec[1]))
    if spec[0] == "not":
        return attributes_of(spec[1])
    return {str(spec[2][0])}


def expected_target(case: dict[str, Any]) -> tuple[str | None, str]:
    """(index, range attribute) the planner should use for a query case.

    lv_index projects only ``s``: DynamoDB refuses filters on other attributes
    of a local index, so with those the table is read (lv becomes a filter).
    """
    _, _, range_attr, index = TARGETS[case["target"]]
    filtered = set().union(*(attributes_of(spec) for spec in case["filters"]))
    if index == "lv_index" and not filtered <= {"s"}:
        return None, "r"
    return index, range_attr


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=query_case())
def test_query_matches_python(entries: None, case: dict[str, Any]) -> None:
    index, range_attr = expected_target(case)
    specs: list[Spec] = [
        case["hash"],
        *([case["range"]] if case["range"] else []),
        *case["filters"],
    ]
    query = Entry.query().where(*(build(spec) for spec in specs))
    query = query.use_index(index, asc=case["ascending"]) if not case["ascending"] else query
    query = query.page_size(case["page_size"]).limit(case["limit"])
    assert query.explain().get("IndexName") == index

    matching = [row for row in ROWS if all(holds(spec, row) for spec in specs)]
    matching.sort(key=lambda row: row[range_attr], reverse=not case["ascending"])
    expected = [_key(row) for row in matching][: case["limit"]]

    items = query.all()
    assert [(item.h, item.r) for item in items] == expected
    assert all(isinstance(item, Entry) for item in items)
    if index != "lv_index":  # the table and by_g hold whole items
        assert items == [Entry(**row) for row in matching][: case["limit"]]
    assert query.count() == len(expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=query_case(), data=st.data())
def test_query_pages_with_cursors_match_python(
    entries: None, case: dict[str, Any], data: st.DataObject
) -> None:
    range_attr = expected_target(case)[1]
    specs: list[Spec] = [
        case["hash"],
        *([case["range"]] if case["range"] else []),
        *case["filters"],
    ]
    query = Entry.query().where(*(build(spec) for spec in specs)).page_size(case["page_size"])
    matching = sorted(
        (row for row in ROWS if all(holds(spec, row) for spec in specs)),
        key=lambda row: row[range_attr],
    )
    per_page = data.draw(st.integers(min_value=1, max_value=25), label="per_page")
    seen: list[tuple[str, int]] = []
    cursor: Cursor | None = None
    for _ in range(len(matching) + 2):
        items, cursor = query.limit(per_page).start_key(cursor).get_items()
        assert len(items) <= per_page
        seen.extend((item.h, item.r) for item in items)
        if cursor is None:
            break
        assert len(items) == per_page  # a short page only at the end
    assert cursor is None
    assert seen == [_key(row) for row in matching]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    filters=st.lists(filter_tree(with_keys=True), min_size=1, max_size=3),
    segments=st.integers(min_value=1, max_value=3),
    limit=st.none() | st.integers(min_value=1, max_value=60),
    page_size=st.none() | st.integers(min_value=20, max_value=120),
)
def test_scan_matches_python(
    entries: None,
    filters: list[Spec],
    segments: int,
    limit: int | None,
    page_size: int | None,
) -> None:
    scan = Entry.scan(segments=segments).where(*(build(spec) for spec in filters))
    scan = scan.limit(limit).page_size(page_size)
    expected = {_key(row) for row in ROWS if all(holds(spec, row) for spec in filters)}
    items = scan.all()
    keys = [(item.h, item.r) for item in items]
    assert len(keys) == len(set(keys))
    if limit is None:
        assert set(keys) == expected
    else:
        assert len(keys) == min(limit, len(expected))
        assert set(keys) <= expected
    assert scan.count() == (len(expected) if limit is None else min(limit, len(expected)))


def test_the_data_set_exercises_every_case(entries: None) -> None:
    """The fixed data has missing attributes, sparse indexes and repeated words."""
    assert {row["h"] for row in ROWS} == set(HASHES)
    assert sum("lv" not in row for row in ROWS) > 10
    assert sum("g" not in row for row in ROWS) > 10
    assert sum("s" not in row for row in ROWS) > 10
    assert sum("ss" not in row for row in ROWS) > 10
    assert any(row.get("li") == [] for row in ROWS)
    assert sum("m" in row and "z" not in row["m"] for row in ROWS) > 10
    stored = Entry.scan().count()
    assert stored == COUNT
    in_gsi = Entry.scan().use_index("by_g").count()
    assert in_gsi == sum("g" in row for row in ROWS)
