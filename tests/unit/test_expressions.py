"""Condition expressions: building from fields, combining, and rendering."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest

from dynamodb import (
    BinaryField,
    CharField,
    Condition,
    DateTimeField,
    FieldValidationError,
    IntegerField,
    ListField,
    Model,
    SetField,
    UUIDField,
)
from dynamodb.core.codec import AttributeValue
from dynamodb.core.expressions import And, Not, Or, Path, Placeholders


class Doc(Model):
    __table_name__ = "unit_expressions_doc"

    name = CharField(hash_key=True)
    date = DateTimeField(range_key=True)
    size_ = IntegerField("size")
    dotted = IntegerField("a.b")
    dashed = CharField("first-name")
    spaced = CharField("full name")
    tags = SetField(of=str)
    counts = SetField(of=int)
    scores = ListField(of=IntegerField())
    anything = ListField()
    blob = BinaryField()
    ident = UUIDField()


def render(condition: Condition) -> tuple[str, dict[str, str], dict[str, AttributeValue]]:
    placeholders = Placeholders()
    text = condition.render(placeholders)
    return text, placeholders.names, placeholders.values


# -- names and values become placeholders --------------------------------------------------


@pytest.mark.parametrize(
    ("field", "name"),
    [
        (Doc.name, "name"),
        (Doc.date, "date"),
        (Doc.size_, "size"),
        (Doc.dotted, "a.b"),
        (Doc.dashed, "first-name"),
        (Doc.spaced, "full name"),
    ],
)
def test_every_attribute_name_is_a_placeholder(field: Any, name: str) -> None:
    text, names, _ = render(field.exists())
    assert text == "attribute_exists(#n0)"
    assert names == {"#n0": name}


@pytest.mark.parametrize(
    ("build", "text", "value"),
    [
        (lambda: Doc.size_.eq(1), "#n0 = :v0", {"N": "1"}),
        (lambda: Doc.size_.ne(1), "#n0 <> :v0", {"N": "1"}),
        (lambda: Doc.size_.lt(1), "#n0 < :v0", {"N": "1"}),
        (lambda: Doc.size_.lte(1), "#n0 <= :v0", {"N": "1"}),
        (lambda: Doc.size_.gt(1), "#n0 > :v0", {"N": "1"}),
        (lambda: Doc.size_.gte(1), "#n0 >= :v0", {"N": "1"}),
        (lambda: Doc.name.begins_with("ab"), "begins_with(#n0, :v0)", {"S": "ab"}),
        (lambda: Doc.name.contains("b"), "contains(#n0, :v0)", {"S": "b"}),
        (lambda: Doc.name.eq(None), "#n0 = :v0", {"NULL": True}),
        (lambda: Doc.blob.begins_with(b"\x00"), "begins_with(#n0, :v0)", {"B": b"\x00"}),
    ],
)
def test_comparisons_render_with_placeholders(
    build: Callable[[], Condition], text: str, value: AttributeValue
) -> None:
    rendered, names, values = render(build())
    assert rendered == text
    assert len(names) == 1
    assert values == {":v0": value}


def test_the_same_name_reuses_its_placeholder_but_values_do_not() -> None:
    condition = Doc.name.eq("x") | Doc.name.eq("x") | Doc.dotted.gt(1) | Doc.name.ne("y")
    text, names, values = render(condition)
    assert text == "(#n0 = :v0) OR (#n0 = :v1) OR (#n1 > :v2) OR (#n0 <> :v3)"
    assert names == {"#n0": "name", "#n1": "a.b"}
    assert values == {
        ":v0": {"S": "x"},
        ":v1": {"S": "x"},
        ":v2": {"N": "1"},
        ":v3": {"S": "y"},
    }


def test_placeholders_render_document_paths() -> None:
    placeholders = Placeholders()
    assert placeholders.path(Path.of("address", "lines", 0, "city")) == "#n0.#n1[0].#n2"
    assert placeholders.path(Path.of("lines", 2)) == "#n1[2]"
    assert placeholders.names == {"#n0": "address", "#n1": "lines", "#n2": "city"}
    assert str(Path.of("address", "lines", 0, "city")) == "address.lines[0].city"


def test_placeholders_apply_adds_names_and_values() -> None:
    placeholders = Placeholders()
    request: dict[str, Any] = {"TableName": "t"}
    request["ConditionExpression"] = Doc.name.eq("x").render(placeholders)
    assert placeholders.apply(request) is request
    assert request == {
        "TableName": "t",
        "ConditionExpression": "#n0 = :v0",
        "ExpressionAttributeNames": {"#n0": "name"},
        "ExpressionAttributeValues": {":v0": {"S": "x"}},
    }


def test_placeholders_apply_leaves_out_what_was_not_used() -> None:
    placeholders = Placeholders()
    request: dict[str, Any] = {"ConditionExpression": Doc.name.not_exists().render(placeholders)}
    assert placeholders.apply(request) == {
        "ConditionExpression": "attribute_not_exists(#n0)",
        "ExpressionAttributeNames": {"#n0": "name"},
    }
    assert Placeholders().apply({"TableName": "t"}) == {"TableName": "t"}


def test_applied_maps_are_copies() -> None:
    placeholders = Placeholders()
    Doc.name.eq("x").render(placeholders)
    request = placeholders.apply({})
    Doc.dotted.eq(1).render(placeholders)
    assert request["ExpressionAttributeNames"] == {"#n0": "name"}
    assert request["ExpressionAttributeValues"] == {":v0": {"S": "x"}}


# -- combining -------------------------------------------------------------------------------


def test_and_or_not_render_nested_with_parentheses() -> None:
    condition = (Doc.name.eq("a") | Doc.name.eq("b")) & ~Doc.dotted.exists()
    text, names, _ = render(condition)
    assert text == "((#n0 = :v0) OR (#n0 = :v1)) AND (NOT (attribute_exists(#n1)))"
    assert names == {"#n0": "name", "#n1": "a.b"}


def test_chained_ands_and_ors_are_flattened() -> None:
    a, b, c, d = (Doc.size_.eq(n) for n in range(4))
    both = (a & b) & (c & d)
    assert isinstance(both, And)
    assert both.parts == (a, b, c, d)
    either = a | (b | c)
    assert isinstance(either, Or)
    assert either.parts == (a, b, c)
    assert render(a & b & c)[0] == "(#n0 = :v0) AND (#n0 = :v1) AND (#n0 = :v2)"


def test_and_inside_or_is_not_flattened() -> None:
    a, b, c = (Doc.size_.eq(n) for n in range(3))
    mixed = a | (b & c)
    assert isinstance(mixed, Or)
    assert mixed.parts == (a, And((b, c)))
    assert render(mixed)[0] == "(#n0 = :v0) OR ((#n0 = :v1) AND (#n0 = :v2))"


def test_not_wraps_its_part() -> None:
    inner = Doc.name.eq("a")
    negated = ~inner
    assert negated == Not(inner)
    assert render(~negated)[0] == "NOT (NOT (#n0 = :v0))"


@pytest.mark.parametrize("operation", [lambda c: bool(c), lambda c: not c, lambda c: c and c])
def test_a_condition_has_no_truth_value(operation: Callable[[Condition], object]) -> None:
    with pytest.raises(TypeError, match=re.escape("combine conditions with & | ~")):
        operation(Doc.name.eq("a"))


def test_combining_with_something_else_is_a_type_error() -> None:
    condition: Any = Doc.name.eq("a")
    with pytest.raises(TypeError, match=re.escape("unsupported operand type(s) for &")):
        condition & True
    with pytest.raises(TypeError, match=re.escape("unsupported operand type(s) for |")):
        condition | "name = 'a'"


def test_conditions_list_the_paths_they_read() -> None:
    condition = (Doc.name.eq("a") & Doc.dotted.gt(1)) | ~Doc.tags.exists()
    assert list(condition.paths()) == [Path.of("name"), Path.of("a.b"), Path.of("tags")]


# -- is_in, between, size ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: Doc.size_.is_in(1, 2, 3),
        lambda: Doc.size_.is_in([1, 2, 3]),
        lambda: Doc.size_.is_in((1, 2, 3)),
        lambda: Doc.size_.in_(1, 2, 3),
    ],
)
def test_is_in_takes_several_arguments_or_one_iterable(build: Callable[[], Condition]) -> None:
    text, names, values = render(build())
    assert text == "#n0 IN (:v0, :v1, :v2)"
    assert names == {"#n0": "size"}
    assert values == {":v0": {"N": "1"}, ":v1": {"N": "2"}, ":v2": {"N": "3"}}


def test_is_in_with_one_choice() -> None:
    assert render(Doc.name.is_in("only")) == (
        "#n0 IN (:v0)",
        {"#n0": "name"},
        {":v0": {"S": "only"}},
    )


def test_is_in_with_a_set() -> None:
    _, _, values = render(Doc.name.is_in({"a", "b"}))
    assert sorted(value["S"] for value in values.values()) == ["a", "b"]


@pytest.mark.parametrize("choices", [(), ([],)])
def test_is_in_needs_a_choice(choices: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match=r"a\.b: is_in\(\) needs at least one choice"):
        Doc.dotted.is_in(*choices)


def test_is_in_checks_every_choice() -> None:
    with pytest.raises(FieldValidationError, match=r"Doc\.size_: 'x' is not valid"):
        Doc.size_.is_in(1, "x")


def test_between_renders_both_ends() -> None:
    assert render(Doc.size_.between(1, 9)) == (
        "#n0 BETWEEN :v0 AND :v1",
        {"#n0": "size"},
        {":v0": {"N": "1"}, ":v1": {"N": "9"}},
    )


@pytest.mark.parametrize(
    ("method", "operator"),
    [("eq", "="), ("ne", "<>"), ("lt", "<"), ("lte", "<="), ("gt", ">"), ("gte", ">=")],
)
def test_size_comparisons(method: str, operator: str) -> None:
    condition = getattr(Doc.tags.size(), method)(2)
    assert render(condition) == (f"size(#n0) {operator} :v0", {"#n0": "tags"}, {":v0": {"N": "2"}})


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True, None])
def test_size_compares_with_non_negative_ints_only(bad: Any) -> None:
    with pytest.raises(TypeError, match="size\\(\\) compares with a non-negative int"):
        Doc.tags.size().gt(bad)


# -- operands are encoded with the field's type ---------------------------------------------------

_UTC = dt.timezone.utc


def test_datetime_operands_become_utc_iso_strings() -> None:
    low = dt.datetime(2024, 5, 1)  # naive: UTC
    high = dt.datetime(2024, 5, 2, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    _, _, values = render(Doc.date.between(low, high))
    assert values == {
        ":v0": {"S": "2024-05-01T00:00:00.000000+00:00"},
        ":v1": {"S": "2024-05-02T00:00:00.000000+00:00"},
    }


def test_datetime_comparison_operand() -> None:
    _, _, values = render(Doc.date.gte(dt.datetime(2024, 5, 1, 12, tzinfo=_UTC)))
    assert values == {":v0": {"S": "2024-05-01T12:00:00.000000+00:00"}}


def test_begins_with_encodes_with_the_field_type() -> None:
    _, _, values = render(Doc.ident.begins_with("12345678-1234-5678-1234-567812345678"))
    assert values == {":v0": {"S": "12345678-1234-5678-1234-567812345678"}}


@pytest.mark.parametrize(
    ("condition", "member"),
    [
        (lambda: Doc.tags.contains("red"), {"S": "red"}),
        (lambda: Doc.counts.contains(3), {"N": "3"}),
        (lambda: Doc.scores.contains(7), {"N": "7"}),
        (lambda: Doc.anything.contains(1.5), {"N": "1.5"}),
        (lambda: Doc.anything.contains("x"), {"S": "x"}),
    ],
)
def test_contains_encodes_one_member_of_a_set_or_list(
    condition: Callable[[], Condition], member: AttributeValue
) -> None:
    text, names, values = render(condition())
    assert text == "contains(#n0, :v0)"
    assert values == {":v0": member}
    assert len(names) == 1


@pytest.mark.parametrize(
    ("build", "field", "value"),
    [
        (lambda: Doc.size_.eq("1"), "size_", "1"),
        (lambda: Doc.size_.between(1, "9"), "size_", "9"),
        (lambda: Doc.date.lt("2024-05-01"), "date", "2024-05-01"),
        (lambda: Doc.name.begins_with(5), "name", 5),
        (lambda: Doc.ident.eq("not-a-uuid"), "ident", "not-a-uuid"),
    ],
)
def test_operands_that_do_not_fit_the_field_are_refused(
    build: Callable[[], Condition], field: str, value: Any
) -> None:
    with pytest.raises(FieldValidationError) as caught:
        build()
    assert (caught.value.model, caught.value.field, caught.value.value) == ("Doc", field, value)
