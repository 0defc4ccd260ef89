"""DynamoDB's limits as pure functions: item sizes, nesting, expressions, transactions.

The expected sizes are DynamoDB's documented rules ("DynamoDB item sizes and
formats"), worked out by hand in the comments; every number and container size
here was also measured against DynamoDB Local 3.3 (the largest item it accepts
with the value beside a string padding it to 400 KB), and it agreed with each.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynamodb.core.codec import AttributeValue
from dynamodb.core.expressions import Path
from dynamodb.core.limits import (
    MAX_EXPRESSION_BYTES,
    MAX_HASH_KEY_BYTES,
    MAX_ITEM_BYTES,
    MAX_NESTING_LEVELS,
    MAX_RANGE_KEY_BYTES,
    MAX_TRANSACTION_ACTIONS,
    MAX_TRANSACTION_BYTES,
    attribute_size,
    item_size,
    key_size,
    largest_attributes,
    nesting_levels,
    number_size,
    oversized_expressions,
    size_after_update,
    text_size,
    transaction_action_size,
    update_nesting_levels,
    value_size,
)
from dynamodb.core.updates import UpdateAction


def test_the_limits_are_dynamodbs_documented_ones() -> None:
    assert MAX_ITEM_BYTES == 409_600  # 400 KB, 1 KB = 1024 bytes
    assert MAX_NESTING_LEVELS == 32
    assert MAX_HASH_KEY_BYTES == 2048
    assert MAX_RANGE_KEY_BYTES == 1024
    assert MAX_EXPRESSION_BYTES == 4096
    assert MAX_TRANSACTION_BYTES == 4 * 1024 * 1024
    assert MAX_TRANSACTION_ACTIONS == 100


# -- scalars ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("", 0), ("abc", 3), ("é", 2), ("€", 3), ("😀", 4), ("aé€😀", 10)],
)
def test_strings_count_their_utf8_bytes(text: str, size: int) -> None:
    assert text_size(text) == size
    assert value_size({"S": text}) == size


# Measured against DynamoDB Local 3.3; the comments show the pairs of digits
# (aligned on the decimal point) that the rule counts.
MEASURED_NUMBERS = [
    ("0", 1),  # zero: the 1 byte alone
    ("-0", 1),
    ("0.00", 1),
    ("1", 2),  # 01
    ("12", 2),  # 12
    ("123", 3),  # 01 23
    ("1234", 3),  # 12 34
    ("-1", 3),  # 01, and a byte for the sign
    ("-12", 3),
    ("123.45", 4),  # 01 23 . 45
    ("0.1", 2),  # . 10
    ("0.01", 2),  # . 01
    ("0.12", 2),  # . 12
    ("0.012", 3),  # . 01 20
    ("1.2", 3),  # 01 . 20
    ("12.3", 3),  # 12 . 30
    ("1.23", 3),  # 01 . 23
    ("10", 2),  # 10
    ("100", 2),  # 01 00: zero pairs at the end are dropped
    ("120", 3),  # 01 20
    ("1000", 2),  # 10 00
    ("11", 2),
    ("101", 3),  # 01 01
    ("1001", 3),  # 10 01
    ("10001", 4),  # 01 00 01
    ("-0.1", 3),
    ("1E+2", 2),  # 100
    ("1.5E+3", 2),  # 15 00
    ("15E+2", 2),
    ("1e-130", 2),  # the smallest magnitude
    ("-1e-130", 3),
    ("12345678901234567890123456789012345678", 20),  # 38 digits: 19 pairs
    ("-12345678901234567890123456789012345678", 21),
    ("1234567890123456789012345678901234567", 20),  # 37 digits: 01 23 ...
    ("1.2345678901234567890123456789012345678", 21),  # 38 digits, odd alignment: 20 pairs
    ("123456789012345678901234567890123456.7", 20),
    ("9.9999999999999999999999999999999999999E+125", 20),  # the largest magnitude
]


@pytest.mark.parametrize(("text", "size"), MEASURED_NUMBERS)
def test_numbers_count_one_byte_per_pair_of_digits_plus_one(text: str, size: int) -> None:
    assert number_size(text) == size
    assert value_size({"N": text}) == size


def _reference_number_size(text: str) -> int:
    """The rule spelled out slowly: the fixed-point digits, split into pairs at the point."""
    number = Decimal(text)
    if not number:
        return 1
    whole, _, fraction = format(number.copy_abs(), "f").partition(".")
    whole = whole.lstrip("0")
    whole = "0" * (len(whole) % 2) + whole
    fraction += "0" * (len(fraction) % 2)
    pairs = [whole[i : i + 2] for i in range(0, len(whole), 2)]
    pairs += [fraction[i : i + 2] for i in range(0, len(fraction), 2)]
    while pairs and pairs[0] == "00":
        pairs.pop(0)
    while pairs and pairs[-1] == "00":
        pairs.pop()
    return 1 + len(pairs) + (number < 0)


@given(
    st.booleans(),
    st.integers(min_value=0, max_value=10**38 - 1),
    st.integers(min_value=-167, max_value=88),
)
def test_number_sizes_follow_the_pairs_rule_for_any_number(
    negative: bool, digits: int, exponent: int
) -> None:
    number = Decimal((int(negative), tuple(map(int, str(digits))), exponent))
    for text in (str(number), format(number, "f"), format(number, "e")):
        assert number_size(text) == _reference_number_size(text)


@given(st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1))
def test_the_integer_shortcut_agrees_with_the_general_rule(value: int) -> None:
    assert number_size(str(value)) == _reference_number_size(str(value))


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"B": b""}, 0),
        ({"B": b"\x00\xff" * 10}, 20),  # raw bytes, not their base64 text (28)
        ({"B": bytearray(b"abc")}, 3),
        ({"B": memoryview(b"abcd")}, 4),
        ({"BOOL": True}, 1),
        ({"BOOL": False}, 1),
        ({"NULL": True}, 1),
    ],
)
def test_binary_counts_raw_bytes_and_null_or_boolean_one(value: AttributeValue, size: int) -> None:
    assert value_size(value) == size


# -- sets, lists and maps -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"SS": ["a", "bc"]}, 3),  # 1 + 2: members only, no overhead
        ({"SS": ["é"]}, 2),
        ({"NS": ["1", "123", "-1"]}, 8),  # 2 + 3 + 3
        ({"BS": [b"abc", b"d"]}, 4),
        ({"L": []}, 3),  # the 3 bytes of a list, empty or not
        ({"M": {}}, 3),
        ({"L": [{"S": "ab"}]}, 6),  # 3 + (1 + 2)
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 9),  # 3 + (1 + 2) + (1 + 2)
        ({"L": [{"BOOL": False}, {"NULL": True}]}, 7),  # 3 + 2 + 2
        ({"L": [{"L": []}]}, 7),  # 3 + (1 + 3)
        ({"L": [{"SS": ["ab"]}]}, 6),  # 3 + (1 + 2)
        ({"M": {"k": {"S": "ab"}}}, 7),  # 3 + (1 + 1 for "k" + 2)
        ({"M": {"kk": {"S": "ab"}, "j": {"NULL": True}}}, 11),  # 3 + (1 + 2 + 2) + (1 + 1 + 1)
        ({"M": {"é": {"S": "é"}}}, 8),  # 3 + (1 + 2 + 2): keys count UTF-8 bytes too
        ({"M": {"a": {"M": {}}}}, 8),  # 3 + (1 + 1 + 3)
    ],
)
def test_containers_cost_three_bytes_and_one_per_element(value: AttributeValue, size: int) -> None:
    assert value_size(value) == size


def test_an_item_is_the_sum_of_its_names_and_values() -> None:
    item: dict[str, AttributeValue] = {
        "id": {"S": "a"},  # 2 + 1
        "n": {"N": "123.45"},  # 1 + 4
        "é": {"BOOL": True},  # 2 + 1
        "tags": {"SS": ["x", "yz"]},  # 4 + 3
        "doc": {"M": {"k": {"L": [{"N": "0"}]}}},  # 3 + (3 + (1 + 1 + (3 + (1 + 1))))
    }
    assert item_size(item) == 3 + 5 + 3 + 7 + 13
    assert attribute_size("doc", item["doc"]) == 13
    assert item_size({}) == 0
    assert largest_attributes(item, 2) == [("doc", 13), ("tags", 7)]


def test_a_400_kb_item_is_exactly_the_limit() -> None:
    # The largest item DynamoDB Local accepts with one string padding it.
    item = {"id": {"S": "a"}, "d": {"S": "x" * (MAX_ITEM_BYTES - 4)}}
    assert item_size(item) == MAX_ITEM_BYTES


def test_an_unknown_type_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown AttributeValue type"):
        value_size({"X": 1})
    with pytest.raises(ValueError, match="type tag"):
        value_size({})


def test_key_values_count_utf8_or_raw_bytes() -> None:
    assert key_size({"S": "é" * 1024}) == 2048
    assert key_size({"B": b"x" * 1025}) == 1025


# -- nesting -------------------------------------------------------------------------------


def _wrapped(leaf: AttributeValue, maps: int) -> AttributeValue:
    for _ in range(maps):
        leaf = {"M": {"k": leaf}}
    return leaf


def test_nesting_counts_the_top_level_attribute_as_level_one() -> None:
    assert nesting_levels({"S": "x"}) == 1
    assert nesting_levels({"SS": ["x"]}) == 1
    assert nesting_levels({"M": {}}) == 2  # its (absent) members are a level too
    assert nesting_levels({"L": [{"N": "1"}]}) == 2
    assert nesting_levels({"L": [{"S": "a"}, {"L": [{"M": {}}]}]}) == 4
    # DynamoDB Local accepts 31 maps around a string, or 30 around an empty map, not more.
    assert nesting_levels(_wrapped({"S": "x"}, 31)) == MAX_NESTING_LEVELS
    assert nesting_levels(_wrapped({"S": "x"}, 32)) == MAX_NESTING_LEVELS + 1
    assert nesting_levels(_wrapped({"M": {}}, 30)) == MAX_NESTING_LEVELS
    assert nesting_levels(_wrapped({"M": {}}, 31)) == MAX_NESTING_LEVELS + 1


def test_an_update_values_nesting_counts_its_path() -> None:
    # SET d.k.k.k.k.k = value: measured against DynamoDB Local, 26 maps around a
    # string fit there and 27 do not.
    path = Path(("d", "k", "k", "k", "k", "k"))
    assert update_nesting_levels(UpdateAction(path, "set", _wrapped({"S": "x"}, 26))) == 32
    assert update_nesting_levels(UpdateAction(path, "set", _wrapped({"S": "x"}, 27))) == 33
    assert update_nesting_levels(UpdateAction(path, "remove")) == 0


# -- expressions and transactions ----------------------------------------------------------


def test_expressions_over_4_kb_are_found() -> None:
    fits = "attribute_not_exists(id)".ljust(MAX_EXPRESSION_BYTES)
    request = {
        "ConditionExpression": fits,
        "UpdateExpression": fits + " ",
        "FilterExpression": "é" * 2049,  # 2,049 characters, 4,098 bytes
        "TableName": "x" * 5000,  # not an expression
    }
    assert oversized_expressions(request) == [
        ("UpdateExpression", MAX_EXPRESSION_BYTES + 1),
        ("FilterExpression", 4098),
    ]
    assert oversized_expressions({"ConditionExpression": fits}) == []


def test_a_transaction_action_counts_its_item_expressions_names_and_values() -> None:
    # As DynamoDB Local measures a transaction against its 4 MB (see the docstring).
    put = {
        "TableName": "not counted",
        "Item": {"id": {"S": "p"}, "d": {"S": "x" * 100}},  # 3 + 101
        "ConditionExpression": "attribute_not_exists(id) AND (d <> :v)",  # 38
        "ExpressionAttributeValues": {":v": {"S": "q" * 200}},  # 200
    }
    assert transaction_action_size(put) == 104 + 38 + 200
    update = {
        "Key": {"id": {"S": "u0"}},  # 4
        "UpdateExpression": "SET #n = :v",  # 11
        "ExpressionAttributeNames": {"#n": "n" * 60},  # 60
        "ExpressionAttributeValues": {":v": {"S": "y" * 100}},  # 100
    }
    assert transaction_action_size(update) == 4 + 11 + 60 + 100


# -- the size after an update --------------------------------------------------------------

READ: dict[str, AttributeValue] = {
    "id": {"S": "a"},  # 3
    "text": {"S": "x" * 100},  # 104
    "ids": {"L": [{"N": "1"}]},  # 3 + 3 + 3
    "n": {"N": "5"},  # 1 + 2
    "tags": {"SS": ["a", "b"]},  # 4 + 2
    "doc": {"M": {"a": {"S": "xyz"}}},  # 3 + 3 + 1 + 1 + 3
}
READ_SIZE = 3 + 104 + 9 + 3 + 6 + 11


def _set(name: str, value: AttributeValue, *more: str | int) -> UpdateAction:
    return UpdateAction(Path((name, *more)), "set", value)


def test_read_item_sizes() -> None:
    assert item_size(READ) == READ_SIZE


@pytest.mark.parametrize(
    ("action", "change"),
    [
        (_set("body", {"S": "y" * 50}), 4 + 50),
        (_set("text", {"S": "short"}), -100 + 5),
        (UpdateAction(Path(("text",)), "remove"), -104),
        (UpdateAction(Path(("ids",)), "append", {"L": [{"N": "2"}, {"N": "3"}]}), 6),
        (UpdateAction(Path(("ids",)), "prepend", {"L": [{"S": "abc"}]}), 4),
        (UpdateAction(Path(("n",)), "add", {"N": "100"}), 1),  # 5 + 100 = 105: 01 05
        (UpdateAction(Path(("tags",)), "add", {"SS": ["b", "cd"]}), 2),
        (UpdateAction(Path(("tags",)), "delete", {"SS": ["a", "b"]}), -6),  # empty: gone
        (UpdateAction(Path(("text",)), "set_if_not_exists", {"S": "z" * 900}), 0),
        (UpdateAction(Path(("new",)), "set_if_not_exists", {"S": "z"}), 3 + 1),
        (_set("doc", {"S": "long" * 10}, "b"), 1 + 1 + 40),  # a new map member
        (_set("ids", {"S": "abc"}, 5), 1 + 3),  # past the end of a list: appended
        (UpdateAction(Path(("doc", "a")), "remove"), -(1 + 1 + 3)),
    ],
)
def test_the_size_after_an_update_of_an_item_read_whole_is_exact(
    action: UpdateAction, change: int
) -> None:
    assert size_after_update(READ, [action], complete=True) == READ_SIZE + change


def test_an_update_dynamodb_would_refuse_counts_only_what_it_certainly_adds() -> None:
    into_a_string = _set("text", {"S": "abcdef"}, "inner")  # text is no map
    assert size_after_update(READ, [into_a_string], complete=True) == READ_SIZE - 104 + 4 + 6


def test_without_the_stored_item_the_size_is_a_lower_bound() -> None:
    key: dict[str, AttributeValue] = {"id": {"S": "a"}}
    actions = [
        _set("body", {"S": "y" * 50}),  # certainly 4 + 50
        UpdateAction(Path(("ids",)), "append", {"L": [{"N": "2"}]}),  # at least name + 1 + 2
        UpdateAction(Path(("tags",)), "add", {"SS": ["a"]}),  # at least 4 + 1
        UpdateAction(Path(("n",)), "add", {"N": "7"}),  # the sum is unknown: the name only
        UpdateAction(Path(("x",)), "set_if_not_exists", {"S": "long"}),  # maybe kept: name
        _set("doc", {"S": "abc"}, "a", "b"),  # somewhere inside doc: name + 3
    ]
    expected = 3 + 54 + (3 + 3) + (4 + 1) + 1 + 1 + (3 + 3)
    assert size_after_update(key, actions, complete=False) == expected


def test_a_partial_item_counts_what_was_read_and_what_replaces_it() -> None:
    partial: dict[str, Any] = {"id": {"S": "a"}, "text": {"S": "x" * 100}}
    assert size_after_update(partial, [_set("text", {"S": "y"})], complete=False) == 3 + 5
    append = UpdateAction(Path(("text",)), "append", {"L": [{"S": "z"}]})  # what text held is lost
    assert size_after_update(partial, [append], complete=False) == 3 + 4 + 2
