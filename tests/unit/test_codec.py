"""The codec: untyped Python values <-> DynamoDB AttributeValues.

The number rule is the heart of it: ints stay ints, floats go out as their
shortest repr, and a wire number comes back as an int, a float, or a Decimal,
whichever reproduces it exactly.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynamodb import CharField, IntegerField, MapModel
from dynamodb.core.codec import (
    AttributeValue,
    EncodeError,
    check_number,
    decode_number,
    decode_value,
    encode_number,
    encode_value,
)

# -- the number rule ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("1", 1),
        ("-7", -7),
        ("0", 0),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("1.0", 1.0),
        ("0.1", 0.1),
        ("-2.5", -2.5),
        ("1e+16", 1e16),
        ("1.5E-7", 1.5e-7),
        ("3.14159265358979323846264338", Decimal("3.14159265358979323846264338")),
        ("0.10000000000000000001", Decimal("0.10000000000000000001")),
    ],
)
def test_wire_numbers_decode_to_the_type_that_reproduces_them(
    wire: str, expected: int | float | Decimal
) -> None:
    decoded = decode_number(wire)
    assert type(decoded) is type(expected)
    assert decoded == expected
    assert decode_value({"N": wire}) == expected


def test_one_never_comes_back_as_one_point_zero() -> None:
    decoded = decode_value(encode_value(1))
    assert type(decoded) is int
    assert repr(decoded) == "1"


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (0, "0"),
        (42, "42"),
        (-42, "-42"),
        (10**37, str(10**37)),
        (0.1, "0.1"),
        (1.0, "1.0"),
        (1 / 3, "0.3333333333333333"),
        (1e100, "1e+100"),
        (-2.5e-100, "-2.5e-100"),
        (Decimal("3.14159265358979323846264338"), "3.14159265358979323846264338"),
        (Decimal("1.50"), "1.50"),
    ],
)
def test_numbers_are_written_exactly(value: int | float | Decimal, wire: str) -> None:
    assert encode_number(value) == wire
    assert encode_value(value) == {"N": wire}


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1" * 38),
        Decimal("-" + "9" * 38),
        10**38 - 1,
        Decimal("1.234567890123456789012345678901234567"),  # 37 digits
        10**40,  # one significant digit
        Decimal("1" * 38 + "000"),  # trailing zeros are not significant
        Decimal("1E-130"),
        Decimal("-1E-130"),
        Decimal("9.9999999999999999999999999999999999999E+125"),
        1e-130,
        9.99e125,
        Decimal("0"),
        0.0,
    ],
)
def test_numbers_within_dynamodb_limits_are_accepted(value: int | float | Decimal) -> None:
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    assert Decimal(encode_number(value)) == exact


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("1" * 39), "38 significant digits"),
        (10**38 + 1, "38 significant digits"),
        (2**200, "38 significant digits"),
        (Decimal("1.00000000000000000000000000000000000001"), "38 significant digits"),
        (Decimal("1E-131"), "magnitude"),
        (Decimal("1E+126"), "magnitude"),
        (10**126, "magnitude"),
        (1e-131, "magnitude"),
        (1e126, "magnitude"),
        (5e-324, "magnitude"),
        (float("nan"), "NaN or infinity"),
        (float("inf"), "NaN or infinity"),
        (float("-inf"), "NaN or infinity"),
        (Decimal("NaN"), "NaN or infinity"),
        (Decimal("sNaN"), "NaN or infinity"),
        (Decimal("-Infinity"), "NaN or infinity"),
    ],
)
def test_numbers_outside_dynamodb_limits_are_refused(
    value: int | float | Decimal, message: str
) -> None:
    with pytest.raises(EncodeError, match=message):
        encode_number(value)
    with pytest.raises(EncodeError, match=message):
        encode_value([value])


def test_encode_error_is_a_value_error() -> None:
    assert issubclass(EncodeError, ValueError)


@pytest.mark.parametrize("text", ["abc", "", "1.2.3", "0x10"])
def test_check_number_refuses_text_that_is_not_a_number(text: str) -> None:
    with pytest.raises(EncodeError, match="is not a number"):
        check_number(text)


def test_check_number_returns_the_text_unchanged() -> None:
    assert check_number("1.50E+3") == "1.50E+3"


# -- scalars, bytes and None -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "attribute"),
    [
        ("text", {"S": "text"}),
        ("", {"S": ""}),
        (True, {"BOOL": True}),
        (False, {"BOOL": False}),
        (None, {"NULL": True}),
        (b"\x00\xff", {"B": b"\x00\xff"}),
        (bytearray(b"ab"), {"B": b"ab"}),
        (memoryview(b"cd"), {"B": b"cd"}),
    ],
)
def test_scalars_encode_to_their_tag(value: Any, attribute: AttributeValue) -> None:
    encoded = encode_value(value)
    assert encoded == attribute
    if "B" in encoded:
        assert type(encoded["B"]) is bytes


def test_bools_are_not_numbers() -> None:
    assert encode_value(True) == {"BOOL": True}
    assert decode_value({"BOOL": True}) is True
    assert decode_value({"NULL": True}) is None


def test_tuples_are_written_as_lists() -> None:
    assert encode_value((1, "a")) == {"L": [{"N": "1"}, {"S": "a"}]}
    assert decode_value(encode_value((1, "a"))) == [1, "a"]


# -- sets --------------------------------------------------------------------------


def test_string_sets_are_ss_sorted() -> None:
    assert encode_value({"b", "a", "c"}) == {"SS": ["a", "b", "c"]}
    assert decode_value({"SS": ["a", "b"]}) == {"a", "b"}


def test_number_sets_are_ns_and_keep_each_member_exact() -> None:
    encoded = encode_value({1, 2.5, Decimal("0.10000000000000000001")})
    assert set(encoded) == {"NS"}
    assert sorted(encoded["NS"]) == ["0.10000000000000000001", "1", "2.5"]
    decoded = decode_value(encoded)
    assert decoded == {1, 2.5, Decimal("0.10000000000000000001")}
    assert {type(member) for member in decoded} == {int, float, Decimal}


def test_binary_sets_are_bs() -> None:
    encoded = encode_value(frozenset({b"a", b"b"}))
    assert set(encoded) == {"BS"}
    assert sorted(encoded["BS"]) == [b"a", b"b"]
    assert decode_value(encoded) == {b"a", b"b"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, "a"}, "only strings, only numbers or only bytes"),
        ({b"a", "a"}, "only strings, only numbers or only bytes"),
        ({True}, "cannot hold bool"),
        ({None}, "cannot hold NoneType"),
        ({(1, 2)}, "cannot hold tuple"),
    ],
)
def test_sets_of_mixed_or_unsupported_members_are_refused(value: Any, message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        encode_value(value)


@pytest.mark.parametrize("value", [[set()], {"tags": set()}, [{"deep": [frozenset()]}]])
def test_empty_sets_inside_lists_or_maps_are_refused(value: Any) -> None:
    with pytest.raises(EncodeError, match="empty set"):
        encode_value(value)


def test_number_sets_refuse_numbers_outside_the_limits() -> None:
    with pytest.raises(EncodeError, match="NaN"):
        encode_value({1.0, float("inf")})


# -- lists and maps ----------------------------------------------------------------


def test_nested_lists_and_maps() -> None:
    value = {"a": [1, "x", None, True, b"b", {"k": 1.5, "s": {"t"}}], "empty": {}, "none": []}
    expected: AttributeValue = {
        "M": {
            "a": {
                "L": [
                    {"N": "1"},
                    {"S": "x"},
                    {"NULL": True},
                    {"BOOL": True},
                    {"B": b"b"},
                    {"M": {"k": {"N": "1.5"}, "s": {"SS": ["t"]}}},
                ]
            },
            "empty": {"M": {}},
            "none": {"L": []},
        }
    }
    assert encode_value(value) == expected
    assert decode_value(expected) == value


@pytest.mark.parametrize("key", [1, None, b"k", ("a",)])
def test_map_keys_must_be_strings(key: Any) -> None:
    with pytest.raises(EncodeError, match=f"map keys must be strings, not {type(key).__name__}"):
        encode_value({key: 1})


def test_a_model_instance_inside_untyped_data_is_written_as_its_map() -> None:
    class CodecAddress(MapModel):
        street = CharField()
        number = IntegerField()

    encoded = encode_value([CodecAddress(street="Main", number=3)])
    assert encoded == {"L": [{"M": {"street": {"S": "Main"}, "number": {"N": "3"}}}]}


class _Opaque:
    pass


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (dt.datetime(2024, 5, 1), "datetime"),
        (dt.date(2024, 5, 1), "date"),
        (complex(1, 2), "complex"),
        (_Opaque(), "_Opaque"),
    ],
)
def test_unsupported_types_are_refused_with_a_clear_message(value: Any, type_name: str) -> None:
    with pytest.raises(EncodeError) as caught:
        encode_value({"nested": [value]})
    message = str(caught.value)
    assert f"cannot store a {type_name}" in message
    assert "ListField(of=...)" in message
    assert "JSONField" in message


def test_an_attribute_value_without_a_tag_cannot_be_decoded() -> None:
    with pytest.raises(ValueError, match="exactly one type tag"):
        decode_value({})


# -- properties --------------------------------------------------------------------

_integers = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
_floats = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-130, max_value=9.99e125),
    st.floats(min_value=-9.99e125, max_value=-1e-130),
)
_scalars = st.one_of(st.text(), _integers, _floats, st.booleans(), st.none(), st.binary())
_sets = st.one_of(
    st.sets(st.text(), min_size=1, max_size=5),
    st.sets(st.one_of(_integers, _floats), min_size=1, max_size=5),
    st.sets(st.binary(), min_size=1, max_size=5),
)
_values = st.recursive(
    st.one_of(_scalars, _sets),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4),
    ),
    max_leaves=25,
)


def _same(left: Any, right: Any) -> bool:
    """Equal, and of the same types all the way down (so 1 and 1.0 differ)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, (set, frozenset)):
        return {(type(m), m) for m in left} == {(type(m), m) for m in right}
    return bool(left == right)


@given(_values)
def test_decode_inverts_encode_and_keeps_types(value: Any) -> None:
    assert _same(decode_value(encode_value(value)), value)


@given(_floats)
def test_floats_go_out_as_their_shortest_repr(value: float) -> None:
    assert encode_number(value) == repr(value)
    decoded = decode_number(encode_number(value))
    assert type(decoded) is float
    assert decoded == value


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: d == 0 or (-130 <= d.adjusted() <= 125 and len(d.as_tuple().digits) <= 38)
    )
)
def test_decimals_come_back_as_the_same_number(value: Decimal) -> None:
    decoded = decode_value(encode_value(value))
    # The documented normalisation: a number a float or int reproduces comes back as one.
    assert isinstance(decoded, (int, float, Decimal))
    exact = Decimal(repr(decoded)) if isinstance(decoded, float) else Decimal(decoded)
    assert exact == value


def test_an_empty_map_key_is_refused_before_sending() -> None:
    with pytest.raises(EncodeError, match="empty map key"):
        encode_value({"": 1})
