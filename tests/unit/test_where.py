"""The safe condition parser: text to the library's conditions, never eval."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import pytest

from dynamodb import CharField, DictField, IntegerField, ListField, Model, UnknownField
from dynamodb.core.expressions import Condition, Placeholders
from dynamodb.exceptions import WhereSyntaxError
from dynamodb.models.where import parse_condition


class WhereOrder(Model):
    __table_name__ = "unit_where_orders"

    id = CharField(hash_key=True)
    status = CharField()
    total = IntegerField(name="t")
    info = DictField()
    tags = ListField()


def rendered(condition: Condition) -> tuple[str, dict[str, str], dict[str, Any]]:
    placeholders = Placeholders()
    text = condition.render(placeholders)
    return text, placeholders.names, placeholders.values


def same(text: str, built: Condition) -> None:
    assert rendered(parse_condition(WhereOrder, text)) == rendered(built)


@pytest.mark.parametrize(
    ("text", "built"),
    [
        ('status = "open"', WhereOrder.status == "open"),
        ("status == 'open'", WhereOrder.status == "open"),
        ("total > 10", WhereOrder.total > 10),
        ("total >= 10", WhereOrder.total >= 10),
        ("total < 10", WhereOrder.total < 10),
        ("total <= -3", WhereOrder.total <= -3),
        ("total != 1", WhereOrder.total != 1),
        ("total <> 1", WhereOrder.total != 1),
        ('status = "open" and total > 10', (WhereOrder.status == "open") & (WhereOrder.total > 10)),
        (
            'status = "a" or status = "b" and total > 1',
            (WhereOrder.status == "a") | ((WhereOrder.status == "b") & (WhereOrder.total > 1)),
        ),
        (
            '(status = "a" or status = "b") and total > 1',
            ((WhereOrder.status == "a") | (WhereOrder.status == "b")) & (WhereOrder.total > 1),
        ),
        ('NOT status = "a"', ~(WhereOrder.status == "a")),
        ("total between 1 and 5", WhereOrder.total.between(1, 5)),
        ('status in ("a", "b")', WhereOrder.status.is_in("a", "b")),
        ("exists(status)", WhereOrder.status.exists()),
        ("attribute_not_exists(status)", WhereOrder.status.not_exists()),
        ('begins_with(status, "op")', WhereOrder.status.begins_with("op")),
        ('contains(tags, "x")', WhereOrder.tags.contains("x")),
        ("size(tags) > 2", WhereOrder.tags.size().gt(2)),
        ("info.rating >= 7.5", WhereOrder.info["rating"] >= Decimal("7.5")),
        ('tags[0] = "first"', WhereOrder.tags[0] == "first"),
        ("t > 3", WhereOrder.total > 3),  # the stored name works too
        ('status = "say \\"hi\\""', WhereOrder.status == 'say "hi"'),
        (
            "info.flag = true and info.gone = null",
            WhereOrder.info["flag"].eq(True) & WhereOrder.info["gone"].eq(None),
        ),
    ],
)
def test_text_builds_the_same_condition_as_python(text: str, built: Condition) -> None:
    same(text, built)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "expected a condition, found the end at position 0"),
        (
            "total >",
            "expected a value (a quoted string, a number, true, false or null), found "
            "the end at position 7",
        ),
        ("total > 1 status", "expected 'and', 'or' or the end, found 'status' at position 10"),
        ("(total > 1", "expected ')', found the end at position 10"),
        ("total ~ 1", "unexpected character '~' at position 6"),
        ("total", "expected a comparison (=, <, between, in ...), found the end at position 5"),
        ("total between 1", "expected 'and', found the end at position 15"),
        ('size(tags) > "a"', "size(...) is compared with an integer at position 11"),
    ],
)
def test_bad_text_says_where_it_stops(text: str, where: str) -> None:
    with pytest.raises(WhereSyntaxError) as raised:
        parse_condition(WhereOrder, text)
    assert str(raised.value).startswith(f"cannot parse {text!r}: ")
    assert where in str(raised.value)


def test_an_unknown_field_is_named_with_a_suggestion() -> None:
    with pytest.raises(UnknownField, match=r"unknown field 'totl' \(did you mean 'total'\?\)"):
        parse_condition(WhereOrder, "totl > 1")


def test_values_are_checked_by_the_fields() -> None:
    with pytest.raises(ValueError, match="total"):
        parse_condition(WhereOrder, 'total > "many"')


def test_nothing_is_evaluated() -> None:
    """Names resolve through the model only: Python names are unknown fields."""
    with pytest.raises(UnknownField, match="'__class__'"):
        parse_condition(WhereOrder, "__class__ = 1")
    with pytest.raises(UnknownField, match="'__import__'"):
        parse_condition(WhereOrder, "__import__('os').system('x')")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('status = "a" and', "expected a field name, found the end at position 16"),
        ("total = 1 or", "expected a field name, found the end at position 12"),
        ("not", "expected a field name, found the end at position 3"),
        ("(", "expected a field name, found the end at position 1"),
        ("not not", "expected a field name, found the end at position 7"),
        ("total = 1 and (", "expected a field name, found the end at position 15"),
    ],
)
def test_text_ending_after_a_connective_is_a_syntax_error(text: str, where: str) -> None:
    with pytest.raises(WhereSyntaxError) as raised:
        parse_condition(WhereOrder, text)
    assert str(raised.value) == f"cannot parse {text!r}: {where}"


VALID = [
    'status = "open" and total > 10',
    '(status = "a" or status = "b") and not total between 1 and 5',
    'status in ("a", "b") or begins_with(status, "op") or contains(tags, "x")',
    "size(tags) > 2 and info.rating >= 7.5 and tags[0] = 'first'",
    "exists(status) and attribute_not_exists(info.gone) or info.flag = true",
]


@pytest.mark.parametrize("text", VALID)
def test_every_truncation_either_parses_or_is_a_typed_error(text: str) -> None:
    """No prefix or suffix of a valid expression escapes as an IndexError or the like."""
    parse_condition(WhereOrder, text)
    pieces = {text[:end] for end in range(len(text))} | {text[start:] for start in range(len(text))}
    for piece in sorted(pieces):
        with contextlib.suppress(WhereSyntaxError, UnknownField):
            parse_condition(WhereOrder, piece)
