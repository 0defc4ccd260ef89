"""Update actions and UpdatePlan without a server: building, merging, conflicts, rendering."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    DictField,
    FieldValidationError,
    FloatField,
    IntegerField,
    ListField,
    Model,
    SetField,
    UpdateAction,
    UpdateConflict,
)
from dynamodb.core.codec import AttributeValue
from dynamodb.core.expressions import Path, Placeholders
from dynamodb.core.updates import UpdatePlan


class Doc(Model):
    __table_name__ = "test_updates_unit_doc"

    name = CharField(hash_key=True)
    score = IntegerField()
    level = IntegerField(minimum=0, maximum=10)
    ratio = FloatField()
    size = IntegerField()  # a DynamoDB reserved word
    status = CharField(name="status")  # a reserved word too
    spaced = CharField(name="full name")
    dotted = IntegerField(name="a.b")
    title = CharField()
    ids = ListField()
    nums = ListField(of=IntegerField())
    doc = DictField()
    counts = DictField(of=IntegerField())
    tags = SetField(of=str)
    codes = SetField(of=int)
    anything = SetField()


def render(*actions: UpdateAction) -> tuple[str, dict[str, str], dict[str, AttributeValue]]:
    placeholders = Placeholders()
    text = UpdatePlan(actions).render(placeholders)
    return text, placeholders.names, placeholders.values


def expand(*actions: UpdateAction) -> str:
    """The expression with names put back (for readable assertions)."""
    text, names, _ = render(*actions)
    return re.sub(r"#n\d+", lambda match: names[match.group(0)], text)


def only_placeholders(text: str) -> bool:
    """Whether the expression names nothing but placeholders, keywords and functions."""
    words = set(re.findall(r"(?<![#:\w])[A-Za-z_][\w-]*", text))
    return words <= {"SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append"}


def actions_of(plan: UpdatePlan) -> list[UpdateAction]:
    return list(plan)


# -- building actions from fields ------------------------------------------------------


def test_field_actions_hold_path_kind_and_encoded_value() -> None:
    assert Doc.score.set(5) == UpdateAction(Path(("score",)), "set", {"N": "5"})
    assert Doc.score.set(5, if_not_exists=True).kind == "set_if_not_exists"
    assert Doc.score.add(2) == UpdateAction(Path(("score",)), "add", {"N": "2"})
    assert Doc.tags.add({"x"}) == UpdateAction(Path(("tags",)), "add", {"SS": ["x"]})
    assert Doc.tags.delete({"x"}) == UpdateAction(Path(("tags",)), "delete", {"SS": ["x"]})
    assert Doc.title.remove() == UpdateAction(Path(("title",)), "remove")
    assert Doc.ids.list_append([1, "a"]) == UpdateAction(
        Path(("ids",)), "append", {"L": [{"N": "1"}, {"S": "a"}]}
    )
    assert Doc.nums.list_prepend([3]).kind == "prepend"
    assert Doc.dotted.set(1).path == Path(("a.b",))  # the DynamoDB name, not the Python one


def test_nested_actions() -> None:
    assert Doc.doc["a"].set(1) == UpdateAction(Path(("doc", "a")), "set", {"N": "1"})
    # A nested number add is SET if_not_exists(...) + n: ADD works only at the top level.
    assert Doc.doc["a"].add(2) == UpdateAction(Path(("doc", "a")), "increment", {"N": "2"})
    assert Doc.ids[0].set("x") == UpdateAction(Path(("ids", 0)), "set", {"S": "x"})
    assert Doc.doc["a"]["b"][1].remove() == UpdateAction(Path(("doc", "a", "b", 1)), "remove")
    assert Doc.counts["k"].set(3).value == {"N": "3"}


def test_setting_none_or_an_empty_set_at_the_top_removes_the_attribute() -> None:
    assert Doc.title.set(None) == UpdateAction(Path(("title",)), "remove")
    assert Doc.tags.set(set()) == UpdateAction(Path(("tags",)), "remove")
    # Inside a map, None is a stored NULL.
    assert Doc.doc["a"].set(None).value == {"NULL": True}


def test_remove_indexes_gives_one_action_per_distinct_index_in_order() -> None:
    actions = Doc.ids.remove(indexes=[2, 0, 2])
    assert actions == (
        UpdateAction(Path(("ids", 0)), "remove"),
        UpdateAction(Path(("ids", 2)), "remove"),
    )
    assert expand(*actions) == "REMOVE ids[0], ids[2]"


# -- merging ---------------------------------------------------------------------------


def test_set_then_set_last_wins() -> None:
    plan = UpdatePlan([Doc.score.set(1), Doc.score.set(2)])
    assert actions_of(plan) == [Doc.score.set(2)]


def test_set_then_set_if_not_exists_last_wins() -> None:
    plan = UpdatePlan([Doc.score.set(1), Doc.score.set(7, if_not_exists=True)])
    assert actions_of(plan) == [Doc.score.set(7, if_not_exists=True)]


@pytest.mark.parametrize(
    ("first", "second", "total"),
    [
        (Doc.score.add(2), Doc.score.add(3), "5"),
        (Doc.score.add(5), Doc.score.add(-7), "-2"),
        (Doc.ratio.add(0.1), Doc.ratio.add(0.2), "0.3"),
        (Doc.doc["n"].add(1), Doc.doc["n"].add(2), "3"),
    ],
)
def test_numbers_added_twice_are_summed(
    first: UpdateAction, second: UpdateAction, total: str
) -> None:
    (merged,) = actions_of(UpdatePlan([first, second]))
    assert merged.kind == first.kind
    assert merged.path == first.path
    assert merged.value == {"N": total}


def test_sets_added_twice_are_united() -> None:
    (merged,) = actions_of(UpdatePlan([Doc.tags.add({"a", "b"}), Doc.tags.add({"b", "c"})]))
    assert merged.kind == "add"
    assert merged.value is not None
    assert sorted(merged.value["SS"]) == ["a", "b", "c"]


def test_number_sets_added_twice_are_united() -> None:
    (merged,) = actions_of(UpdatePlan([Doc.codes.add({1, 2}), Doc.codes.add({2, 3})]))
    assert merged.value is not None
    assert sorted(merged.value["NS"], key=int) == ["1", "2", "3"]


def test_sets_deleted_twice_are_united() -> None:
    (merged,) = actions_of(UpdatePlan([Doc.tags.delete({"a"}), Doc.tags.delete({"b", "a"})]))
    assert merged.kind == "delete"
    assert merged.value is not None
    assert sorted(merged.value["SS"]) == ["a", "b"]


def test_appends_are_concatenated_in_order() -> None:
    plan = UpdatePlan([Doc.ids.list_append([1, 2]), Doc.ids.list_append([3])])
    assert actions_of(plan) == [
        UpdateAction(Path(("ids",)), "append", {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]})
    ]


def test_prepends_put_the_later_values_in_front() -> None:
    plan = UpdatePlan([Doc.nums.list_prepend([1, 2]), Doc.nums.list_prepend([3])])
    assert actions_of(plan) == [
        UpdateAction(Path(("nums",)), "prepend", {"L": [{"N": "3"}, {"N": "1"}, {"N": "2"}]})
    ]


def test_remove_twice_is_one_remove() -> None:
    plan = UpdatePlan([Doc.title.remove(), Doc.title.remove()])
    assert actions_of(plan) == [Doc.title.remove()]
    assert expand(*plan) == "REMOVE title"


def test_actions_on_different_paths_stay_apart_in_order() -> None:
    plan = UpdatePlan(
        [
            Doc.title.set("t"),
            Doc.score.add(1),
            Doc.ids[0].set(1),
            Doc.ids[1].remove(),
            Doc.doc["a"].set(1),
            Doc.doc["ab"].set(2),
        ]
    )
    assert [str(action.path) for action in plan] == [
        "title",
        "score",
        "ids[0]",
        "ids[1]",
        "doc.a",
        "doc.ab",
    ]
    assert plan.attributes() == {"title", "score", "ids", "doc"}


def test_a_plan_is_empty_until_an_action_is_added() -> None:
    plan = UpdatePlan()
    assert not plan
    assert len(plan) == 0
    plan.add(Doc.score.set(1))
    assert plan
    assert len(plan) == 1
    assert plan.get(Path(("score",))) == Doc.score.set(1)
    assert plan.get(Path(("title",))) is None


# -- conflicts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Doc.score.set(1), Doc.score.add(1)),
        (Doc.score.add(1), Doc.score.set(1)),
        (Doc.tags.add({"a"}), Doc.tags.delete({"b"})),
        (Doc.ids.list_append([1]), Doc.ids.list_prepend([2])),
        (Doc.ids.list_append([1]), Doc.ids.set([2])),
        (Doc.doc["n"].set(1), Doc.doc["n"].add(1)),
        (Doc.anything.add({"a"}), Doc.anything.add({1})),  # a string set and a number set
    ],
    ids=lambda action: action.describe(),
)
def test_different_actions_on_one_path_conflict(first: UpdateAction, second: UpdateAction) -> None:
    plan = UpdatePlan([first])
    with pytest.raises(UpdateConflict) as raised:
        plan.add(second)
    message = str(raised.value)
    assert first.describe() in message
    assert second.describe() in message
    assert actions_of(plan) == [first]  # the plan is left as it was


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Doc.title.set("x"), Doc.title.remove()),
        (Doc.title.remove(), Doc.title.set("x")),
        (Doc.title.set("x", if_not_exists=True), Doc.title.remove()),
    ],
    ids=lambda action: action.describe(),
)
def test_a_set_and_a_remove_on_one_path_are_assignments_the_last_wins(
    first: UpdateAction, second: UpdateAction
) -> None:
    plan = UpdatePlan([first])
    plan.add(second)
    assert actions_of(plan) == [second]


def test_an_action_built_from_another_models_field_is_refused() -> None:
    class Other(Model):
        __table_name__ = "unit_updates_other"
        key = CharField(hash_key=True)
        title = IntegerField()

    doc = Doc(name="d1")
    with pytest.raises(TypeError, match="not a field of Doc"):
        doc.update(Other.title.set(3))


_ON_IDS: list[Callable[[], UpdateAction]] = [
    lambda: Doc.ids.set([1]),
    lambda: Doc.ids.remove(),
    lambda: Doc.ids.list_append([1]),
    lambda: Doc.ids.list_prepend([1]),
]
_ON_IDS_0: list[Callable[[], UpdateAction]] = [
    lambda: Doc.ids[0].set(1),
    lambda: Doc.ids[0].remove(),
    lambda: Doc.ids[0].add(1),
]


@pytest.mark.parametrize("whole", _ON_IDS)
@pytest.mark.parametrize("element", _ON_IDS_0)
@pytest.mark.parametrize("whole_first", [True, False])
def test_any_action_on_a_list_conflicts_with_one_on_its_element(
    whole: Callable[[], UpdateAction],
    element: Callable[[], UpdateAction],
    whole_first: bool,
) -> None:
    first, second = (whole(), element()) if whole_first else (element(), whole())
    with pytest.raises(UpdateConflict) as raised:
        UpdatePlan([first, second])
    message = str(raised.value)
    assert first.describe() in message
    assert second.describe() in message
    assert "ids[0])" in message
    assert "(ids)" in message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Doc.doc.set({"a": 1}), Doc.doc["a"].set(2)),
        (Doc.doc["a"].set(2), Doc.doc.set({"a": 1})),
        (Doc.doc.remove(), Doc.doc["a"].remove()),
        (Doc.doc["a"].set(1), Doc.doc["a"]["b"].set(1)),
        (Doc.doc["a"]["b"].add(1), Doc.doc["a"].remove()),
    ],
    ids=lambda action: action.describe(),
)
def test_a_map_and_a_key_inside_it_conflict(first: UpdateAction, second: UpdateAction) -> None:
    with pytest.raises(UpdateConflict) as raised:
        UpdatePlan([first, second])
    assert first.describe() in str(raised.value)
    assert second.describe() in str(raised.value)
    assert "overlapping" in str(raised.value)


def test_update_conflict_is_a_value_error_of_the_library() -> None:
    assert issubclass(UpdateConflict, dynamodb.DynamoDBError)
    assert issubclass(UpdateConflict, ValueError)


# -- rendering ----------------------------------------------------------------------------


def test_render_set() -> None:
    assert render(Doc.score.set(5)) == ("SET #n0 = :v0", {"#n0": "score"}, {":v0": {"N": "5"}})


def test_render_set_if_not_exists() -> None:
    assert render(Doc.score.set(5, if_not_exists=True)) == (
        "SET #n0 = if_not_exists(#n0, :v0)",
        {"#n0": "score"},
        {":v0": {"N": "5"}},
    )


def test_render_remove() -> None:
    assert render(Doc.title.remove()) == ("REMOVE #n0", {"#n0": "title"}, {})


def test_render_add_number_and_set() -> None:
    assert render(Doc.score.add(-3)) == ("ADD #n0 :v0", {"#n0": "score"}, {":v0": {"N": "-3"}})
    assert render(Doc.tags.add({"x"})) == ("ADD #n0 :v0", {"#n0": "tags"}, {":v0": {"SS": ["x"]}})


def test_render_delete() -> None:
    assert render(Doc.codes.delete({4})) == (
        "DELETE #n0 :v0",
        {"#n0": "codes"},
        {":v0": {"NS": ["4"]}},
    )


def test_render_list_append_treats_a_missing_list_as_empty() -> None:
    assert render(Doc.ids.list_append(["x"])) == (
        "SET #n0 = list_append(if_not_exists(#n0, :v1), :v0)",
        {"#n0": "ids"},
        {":v0": {"L": [{"S": "x"}]}, ":v1": {"L": []}},
    )


def test_render_list_prepend_treats_a_missing_list_as_empty() -> None:
    assert render(Doc.nums.list_prepend([1])) == (
        "SET #n0 = list_append(:v0, if_not_exists(#n0, :v1))",
        {"#n0": "nums"},
        {":v0": {"L": [{"N": "1"}]}, ":v1": {"L": []}},
    )


def test_render_nested_increment_starts_a_missing_number_at_zero() -> None:
    assert render(Doc.doc["hits"].add(2)) == (
        "SET #n0.#n1 = if_not_exists(#n0.#n1, :v1) + :v0",
        {"#n0": "doc", "#n1": "hits"},
        {":v0": {"N": "2"}, ":v1": {"N": "0"}},
    )


def test_render_list_index_and_nested_paths() -> None:
    assert render(Doc.ids[3].set("x"), Doc.doc["a"][0]["b"].remove()) == (
        "SET #n0[3] = :v0 REMOVE #n1.#n2[0].#n3",
        {"#n0": "ids", "#n1": "doc", "#n2": "a", "#n3": "b"},
        {":v0": {"S": "x"}},
    )


def test_render_puts_clauses_in_order_whatever_the_order_of_the_actions() -> None:
    text = expand(
        Doc.codes.delete({1}),
        Doc.tags.add({"t"}),
        Doc.title.remove(),
        Doc.score.set(1),
        Doc.level.add(1),
        Doc.ids.list_append([1]),
    )
    assert text == (
        "SET score = :v2, ids = list_append(if_not_exists(ids, :v5), :v4) "
        "REMOVE title ADD tags :v1, level :v3 DELETE codes :v0"
    )


def test_render_uses_a_name_placeholder_once_per_name() -> None:
    text, names, _ = render(Doc.doc["a"].set(1), Doc.doc["b"].set(2), Doc.doc["a2"].remove())
    assert text == "SET #n0.#n1 = :v0, #n0.#n2 = :v1 REMOVE #n0.#n3"
    assert names == {"#n0": "doc", "#n1": "a", "#n2": "b", "#n3": "a2"}


@pytest.mark.parametrize(
    ("action", "names"),
    [
        (Doc.size.set(1), ["size"]),
        (Doc.status.set("on"), ["status"]),
        (Doc.spaced.set("x"), ["full name"]),
        (Doc.dotted.add(1), ["a.b"]),
        (Doc.doc["a b"].set(1), ["doc", "a b"]),
        (Doc.doc["c.d"].set(1), ["doc", "c.d"]),
        (Doc.doc["e-f"].add(1), ["doc", "e-f"]),
        (Doc.doc["size"].remove(), ["doc", "size"]),
        (Doc.doc["#x :y"].set(1), ["doc", "#x :y"]),
        (Doc.counts["select"].set(1), ["counts", "select"]),
    ],
    ids=lambda value: str(value),
)
def test_reserved_words_and_odd_keys_only_appear_as_placeholders(
    action: UpdateAction, names: list[str]
) -> None:
    text, placeholders, _ = render(action)
    assert only_placeholders(text), text
    assert list(placeholders.values()) == names
    for name in names:
        assert name not in text.replace("if_not_exists", "")


def test_placeholders_are_added_to_a_request_only_when_used() -> None:
    placeholders = Placeholders()
    UpdatePlan([Doc.title.remove()]).render(placeholders)
    request = placeholders.apply({"TableName": "t"})
    assert request == {"TableName": "t", "ExpressionAttributeNames": {"#n0": "title"}}


# -- values are validated by the field ------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: Doc.score.set("x"),
        lambda: Doc.score.set(True),
        lambda: Doc.score.set(1.5),
        lambda: Doc.score.add("x"),
        lambda: Doc.score.set("3", if_not_exists=True),
        lambda: Doc.level.set(11),  # above maximum
        lambda: Doc.level.set(-1),  # below minimum
        lambda: Doc.title.set(3),
        lambda: Doc.title.add(1),
        lambda: Doc.tags.add(set()),
        lambda: Doc.tags.delete(set()),
        lambda: Doc.tags.add({1}),
        lambda: Doc.codes.add({"x"}),
        lambda: Doc.nums.list_append(["x"]),
        lambda: Doc.nums.list_prepend([1, "x"]),
        lambda: Doc.nums[0].set("x"),
        lambda: Doc.counts["a"].set("x"),
        lambda: Doc.counts["a"].add("x"),
        lambda: Doc.ids.list_append([object()]),
        lambda: Doc.ids.list_append([{1, "a"}]),
        lambda: Doc.ids.list_append([set()]),
        lambda: Doc.doc["a"].set(object()),
        lambda: Doc.doc["a"].set(float("nan")),
        lambda: Doc.doc.set({"a": object()}),
        lambda: Doc.ratio.add(float("inf")),
        lambda: Doc.score.add(Decimal("1e200")),
    ],
)
def test_bad_update_values_raise_field_validation_error(build: Callable[[], Any]) -> None:
    with pytest.raises(FieldValidationError) as raised:
        build()
    assert raised.value.model == "Doc"


def test_field_validation_error_names_field_and_value() -> None:
    with pytest.raises(FieldValidationError) as raised:
        Doc.score.set("x")
    assert raised.value.field == "score"
    assert raised.value.value == "x"
    assert "int" in raised.value.reason


@pytest.mark.parametrize(
    ("build", "field", "where"),
    [
        (lambda: Doc.nums[0].set("x"), "nums", "nums[0]"),
        (lambda: Doc.nums.set("x", path="nums[2]"), "nums", "nums[2]"),
        (lambda: Doc.counts["a"].set("x"), "counts", "counts.a"),
        (lambda: Doc.counts["a"].add("x"), "counts", "counts.a"),
        (lambda: Doc.doc["a"].set(object()), "doc", "doc.a"),
        (lambda: Doc.counts["a"].eq("x"), "counts", "counts.a"),  # a condition's operand
    ],
)
def test_a_bad_nested_value_names_the_model_field_and_the_path(
    build: Callable[[], Any], field: str, where: str
) -> None:
    with pytest.raises(FieldValidationError) as raised:
        build()
    assert (raised.value.model, raised.value.field) == ("Doc", field)
    assert where in str(raised.value)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        # a string is not a number
        (lambda: Doc.title.add("x"), "title: add() takes a number"),
        # sets can be added at the top level only
        (lambda: Doc.doc["a"].add({"x"}), "doc.a: add() takes a number (or a non-empty set, at"),
        # DELETE takes members of a set attribute
        (lambda: Doc.ids.delete([1]), "ids: delete() removes members of a top-level set"),
        (lambda: Doc.doc["a"].delete({"x"}), "doc.a: delete() removes members of a top-level set"),
        # a string is not a list of values
        (lambda: Doc.ids.list_append("abc"), "ids: give a list of values, not 'abc'"),
        (lambda: Doc.ids.list_append(5), "ids: give a list of values, not 5"),  # type: ignore[arg-type]
        # a string has no nested paths
        (lambda: Doc.title["a"], "CharField title has no nested paths"),
        # lists are indexed with ints
        (lambda: Doc.ids["a"], "ListField ids: index with an int, not 'a'"),
        # maps are keyed with strings
        (lambda: Doc.doc[1], "DictField doc: map keys are str, not 1"),
    ],
)
def test_actions_that_do_not_fit_the_attribute_raise_type_error(
    build: Callable[[], Any], message: str
) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        build()


def test_valid_values_are_converted_by_the_field() -> None:
    assert Doc.ratio.set(1).value == {"N": "1.0"}
    assert Doc.score.set(Decimal("4")).value == {"N": "4"}
    assert Doc.codes.add({1}).value == {"NS": ["1"]}
    assert Doc.nums.list_append([1, 2]).value == {"L": [{"N": "1"}, {"N": "2"}]}


# -- path= -------------------------------------------------------------------------------


def test_path_reaches_inside_maps_and_lists() -> None:
    action = Doc.doc.set(1, path="doc.a[2].b")
    assert action == UpdateAction(Path(("doc", "a", 2, "b")), "set", {"N": "1"})
    assert render(action)[0] == "SET #n0.#n1[2].#n2 = :v0"
    assert Doc.ids.set("x", path="ids[1]").path == Path(("ids", 1))
    assert Doc.doc.set(1, path="doc.a b").path == Path(("doc", "a b"))
    assert Doc.doc.set(1, path="doc.a", if_not_exists=True).kind == "set_if_not_exists"


def test_path_values_are_checked_by_the_element_field() -> None:
    assert Doc.nums.set(3, path="nums[0]").value == {"N": "3"}
    with pytest.raises(FieldValidationError):
        Doc.nums.set("x", path="nums[0]")
    with pytest.raises(FieldValidationError):
        Doc.counts.set("x", path="counts.a")


@pytest.mark.parametrize(
    "path",
    [
        "",
        "doc",  # must go inside the field
        "score.a",  # another attribute
        "other.a",
        "doc.",
        ".doc.a",
        "doc..a",
        "doc.[1]",
        "doc.a[",
        "doc.a[]",
        "doc.a[-1]",
        "doc[x]",
        "doc.a]",
        "doc.a[1]b",
    ],
)
def test_bad_paths_raise_value_error(path: str) -> None:
    with pytest.raises(ValueError, match="path"):
        Doc.doc.set(1, path=path)


def test_a_path_into_a_field_without_nested_values_is_refused() -> None:
    with pytest.raises(TypeError, match=re.escape("CharField title has no nested paths")):
        Doc.title.set("x", path="title.a")
    with pytest.raises(TypeError, match=re.escape("ListField ids: index with an int, not 'a'")):
        Doc.ids.set("x", path="ids.a")  # a list's steps are indexes
