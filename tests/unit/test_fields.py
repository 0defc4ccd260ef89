"""Typed fields: what each accepts, converts, refuses, writes and reads back."""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynamodb import (
    BinaryField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    DictField,
    EnumField,
    Field,
    FieldValidationError,
    FloatField,
    IntegerField,
    JSONField,
    ListField,
    MapField,
    MapModel,
    Model,
    ModelDefinitionError,
    SetField,
    TimeDeltaField,
    UUIDField,
    VersionField,
)
from dynamodb.core import codec
from dynamodb.core.codec import AttributeValue, Item
from dynamodb.fields import MISSING

UTC = dt.timezone.utc
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))
AN_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


class Address(MapModel):
    street = CharField(required=True)
    number = IntegerField()


class Everything(Model):
    __table_name__ = "unit_fields_everything"

    key = CharField(hash_key=True)
    text = CharField()
    count = IntegerField()
    ratio = FloatField()
    amount = DecimalField()
    flag = BooleanField()
    when = DateTimeField()
    day = DateField()
    span = TimeDeltaField()
    blob = BinaryField()
    ident = UUIDField()
    color = EnumField(Color)
    level = EnumField(Level)
    data = JSONField()
    items = ListField()
    numbers = ListField(of=IntegerField())
    addresses = ListField(of=Address)
    mapping = DictField()
    counts = DictField(of=IntegerField)
    tags = SetField()
    words = SetField(of=str)
    home = MapField(Address)


def field(attr: str) -> Field[Any]:
    return Everything._meta.fields[attr]


def refused(attr: str, value: Any) -> FieldValidationError:
    """Assign ``value`` both ways a user can, and return the (identical) error."""
    with pytest.raises(FieldValidationError) as on_create:
        Everything(key="k", **{attr: value})
    item = Everything(key="k")
    with pytest.raises(FieldValidationError) as on_assign:
        setattr(item, attr, value)
    assert str(on_create.value) == str(on_assign.value)
    return on_create.value


# -- accepted values and conversions -------------------------------------------------


@pytest.mark.parametrize(
    ("attr", "given", "expected"),
    [
        ("text", "hello", "hello"),
        ("text", "", ""),
        ("count", 5, 5),
        ("count", -(10**20), -(10**20)),
        ("count", Decimal("7"), 7),
        ("ratio", 1.5, 1.5),
        ("ratio", 2, 2.0),
        ("ratio", Decimal("0.5"), 0.5),
        ("amount", Decimal("1.10"), Decimal("1.10")),
        ("amount", 3, Decimal(3)),
        ("amount", "2.50", Decimal("2.50")),
        ("flag", True, True),
        ("flag", False, False),
        ("day", dt.date(2024, 5, 1), dt.date(2024, 5, 1)),
        ("span", dt.timedelta(days=-1, microseconds=7), dt.timedelta(days=-1, microseconds=7)),
        ("blob", b"\x00\x01", b"\x00\x01"),
        ("blob", bytearray(b"ab"), b"ab"),
        ("ident", AN_ID, AN_ID),
        ("ident", str(AN_ID), AN_ID),
        ("ident", str(AN_ID).upper(), AN_ID),
        ("color", Color.RED, Color.RED),
        ("color", "blue", Color.BLUE),
        ("level", Level.HIGH, Level.HIGH),
        ("level", 1, Level.LOW),
        ("data", {"a": [1, None, "x"], "b": {"c": True}}, {"a": [1, None, "x"], "b": {"c": True}}),
        ("items", [1, "a", None, [2.5], {"k": b"v"}], [1, "a", None, [2.5], {"k": b"v"}]),
        ("items", (1, 2), [1, 2]),
        ("numbers", [1, 2, 3], [1, 2, 3]),
        ("addresses", [{"street": "Main"}], [Address(street="Main")]),
        ("addresses", [Address(street="Elm", number=4)], [Address(street="Elm", number=4)]),
        ("mapping", {"a": 1, "b": [True]}, {"a": 1, "b": [True]}),
        ("counts", {"a": 1}, {"a": 1}),
        ("tags", {1, 2}, {1, 2}),
        ("tags", ["a", "b", "a"], {"a", "b"}),
        ("words", frozenset({"x"}), {"x"}),
        ("home", {"street": "Main", "number": 1}, Address(street="Main", number=1)),
        ("home", Address(street="Elm"), Address(street="Elm")),
    ],
)
def test_accepted_values_are_converted_to_the_field_type(
    attr: str, given: Any, expected: Any
) -> None:
    item = Everything(key="k", **{attr: given})
    assert getattr(item, attr) == expected
    assert type(getattr(item, attr)) is type(expected)
    other = Everything(key="k")
    setattr(other, attr, given)
    assert getattr(other, attr) == expected


def test_float_field_turns_ints_into_floats() -> None:
    item = Everything(key="k", ratio=3)
    assert item.ratio == 3.0
    assert type(item.ratio) is float
    assert field("ratio").to_wire(item.ratio) == {"N": "3.0"}


def test_decimal_field_takes_floats_by_their_shortest_repr() -> None:
    item = Everything(key="k", amount=0.1)
    assert item.amount == Decimal("0.1")
    assert item.amount != Decimal.from_float(0.1)  # not 0.1000000000000000055511151231...
    assert Everything(key="k", amount=1e-7).amount == Decimal("1e-7")


def test_naive_datetimes_are_taken_as_utc() -> None:
    item = Everything(key="k", when=dt.datetime(2024, 5, 1, 12, 30))
    assert item.when == dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert item.when.tzinfo is UTC


def test_aware_datetimes_are_converted_to_utc() -> None:
    item = Everything(key="k", when=dt.datetime(2024, 5, 1, 12, 30, tzinfo=PLUS_TWO))
    assert item.when.tzinfo is UTC
    assert (item.when.hour, item.when.minute) == (10, 30)


def test_enum_field_definition_mistakes() -> None:
    class Mixed(enum.Enum):
        A = 1
        B = "b"

    with pytest.raises(ModelDefinitionError, match="needs an Enum class"):
        EnumField(str)  # type: ignore[type-var]
    with pytest.raises(ModelDefinitionError, match=r"Mixed.*all str or all int"):
        EnumField(Mixed)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SetField(of=list), r"SetField\(of=...\) takes str, int, float, Decimal or bytes"),
        (lambda: ListField(of=5), r"ListField\(of=...\) needs a field or a model class"),
        (lambda: DictField(of="x"), r"DictField\(of=...\) needs a field or a model class"),
        (lambda: MapField(dict), "MapField needs a model class"),  # type: ignore[type-var]
        (lambda: CharField(name=""), "a field's name must be a non-empty string"),
    ],
)
def test_field_definition_mistakes(make: Any, message: str) -> None:
    with pytest.raises(ModelDefinitionError, match=message):
        make()


# -- refused values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attr", "value", "reason"),
    [
        ("text", 5, "expected a str, got int"),
        ("text", b"bytes", "expected a str, got bytes"),
        ("count", "5", "expected an int, got str"),
        ("count", True, "expected an int, got bool"),
        ("count", 1.0, "expected an int, got float"),
        ("count", Decimal("1.5"), "expected an int, got Decimal"),
        ("count", 10**40 + 1, "38 significant digits"),
        ("ratio", "1.0", "expected a float, got str"),
        ("ratio", False, "expected a float, got bool"),
        ("ratio", float("nan"), "NaN or infinity"),
        ("ratio", float("-inf"), "NaN or infinity"),
        ("ratio", 1e200, "magnitude"),
        ("ratio", 10**400, "too large"),
        ("amount", "abc", "'abc' is not a decimal number"),
        ("amount", Decimal("NaN"), "NaN or infinity"),
        ("amount", True, "expected a Decimal, got bool"),
        ("amount", Decimal("1" * 39), "38 significant digits"),
        ("flag", 1, "expected a bool, got int"),
        ("flag", "true", "expected a bool, got str"),
        ("when", "2024-05-01T00:00:00", "expected a datetime, got str"),
        ("when", dt.date(2024, 5, 1), "expected a datetime, got date"),
        ("when", dt.datetime(1, 1, 1, tzinfo=PLUS_TWO), "out of range"),
        ("day", dt.datetime(2024, 5, 1, 12), "expected a date, got datetime"),
        ("day", "2024-05-01", "expected a date, got str"),
        ("span", 5, "expected a timedelta, got int"),
        ("blob", "text", "expected bytes, got str"),
        ("ident", "not-a-uuid", "badly formed"),
        ("ident", 5, "expected a UUID, got int"),
        ("color", "green", "not a Color (one of 'red', 'blue')"),
        ("color", Level.LOW, "not a Color"),
        ("level", 3, "not a Level (one of 1, 2)"),
        ("data", {1, 2}, "not JSON serializable"),
        ("data", float("nan"), "not JSON compliant"),
        ("items", "abc", "expected a list, got str"),
        ("items", [dt.datetime(2024, 5, 1)], "cannot store a datetime in an untyped list"),
        ("items", [set()], "empty set"),
        ("numbers", [1, "x"], "element 'x': expected an int, got str"),
        ("numbers", [True], "element True: expected an int, got bool"),
        ("addresses", [{"street": 1}], "expected a str, got int"),
        ("addresses", [{"nope": 1}], "unknown fields ['nope']"),
        ("addresses", ["Main"], "expected a Address or a dict"),
        ("mapping", [("a", 1)], "expected a dict, got list"),
        ("mapping", {1: "a"}, "keys must be str, got int"),
        ("mapping", {"a": object()}, "cannot store a object"),
        ("counts", {"a": "x"}, "value 'x': expected an int, got str"),
        ("tags", {1, "a"}, "only strings, only numbers or only bytes"),
        ("tags", "abc", "expected a set, got str"),
        ("tags", 5, "expected a set, got int"),
        ("words", {1}, "members must be str, got int"),
        ("home", 5, "expected a Address or a dict, got int"),
    ],
)
def test_refused_values_raise_field_validation_error_naming_them(
    attr: str, value: Any, reason: str
) -> None:
    error = refused(attr, value)
    assert error.model == "Everything"
    assert error.field == attr
    assert error.value is value
    assert reason in error.reason
    message = str(error)
    assert message.startswith(f"Everything.{attr}: ")
    assert reason in message


def test_a_bad_value_inside_a_map_field_names_the_nested_model_and_field() -> None:
    with pytest.raises(FieldValidationError) as caught:
        Everything(key="k", home={"street": "Main", "number": "x"})
    assert (caught.value.model, caught.value.field, caught.value.value) == (
        "Address",
        "number",
        "x",
    )
    assert str(caught.value) == "Address.number: 'x' is not valid: expected an int, got str"


def test_field_validation_error_message_shows_the_value() -> None:
    error = refused("count", "five")
    assert str(error) == "Everything.count: 'five' is not valid: expected an int, got str"


def test_field_validation_error_is_a_value_error() -> None:
    assert isinstance(refused("count", "5"), ValueError)


def test_long_values_are_shortened_in_the_message() -> None:
    error = refused("count", "x" * 1000)
    assert len(str(error)) < 300
    assert "..." in str(error)
    assert error.value == "x" * 1000


def test_none_clears_a_value() -> None:
    item = Everything(key="k", count=5)
    item.count = None
    assert item.count is None
    assert "count" not in item._to_wire_map()


# -- lengths and ranges ---------------------------------------------------------------

_DAY = dt.date(2024, 5, 1)


class Bounded(Model):
    __table_name__ = "unit_fields_bounded"

    key = CharField(hash_key=True)
    code = CharField(min_length=2, max_length=4)
    blob = BinaryField(min_length=1, max_length=2)
    entries = ListField(min_length=1, max_length=2)
    pairs = DictField(min_length=1, max_length=1)
    labels = SetField(of=str, max_length=2)
    percent = IntegerField(minimum=0, maximum=100)
    ratio = FloatField(minimum=0.0, maximum=1.0)
    price = DecimalField(minimum=Decimal("0.01"))
    since = DateTimeField(minimum=dt.datetime(2000, 1, 1), maximum=dt.datetime(2000, 12, 31))
    day = DateField(minimum=_DAY, maximum=_DAY + dt.timedelta(days=1))
    delay = TimeDeltaField(maximum=dt.timedelta(seconds=60))


@pytest.mark.parametrize(
    ("attr", "value"),
    [
        ("code", "ab"),
        ("code", "abcd"),
        ("blob", b"a"),
        ("blob", b"ab"),
        ("entries", [1]),
        ("entries", [1, 2]),
        ("pairs", {"a": 1}),
        ("labels", {"a", "b"}),
        ("percent", 0),
        ("percent", 100),
        ("ratio", 0),
        ("ratio", 1.0),
        ("price", Decimal("0.01")),
        ("since", dt.datetime(2000, 1, 1)),
        ("since", dt.datetime(2000, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
        ("since", dt.datetime(2000, 12, 31, tzinfo=UTC)),
        ("day", _DAY),
        ("day", _DAY + dt.timedelta(days=1)),
        ("delay", dt.timedelta(seconds=60)),
        ("delay", dt.timedelta(seconds=-5)),
    ],
)
def test_values_within_bounds_are_accepted(attr: str, value: Any) -> None:
    item = Bounded(key="k", **{attr: value})
    naive = isinstance(value, dt.datetime) and value.tzinfo is None
    assert getattr(item, attr) == (value.replace(tzinfo=UTC) if naive else value)


@pytest.mark.parametrize(
    ("attr", "value", "reason"),
    [
        ("code", "a", "length 1 is below min_length 2"),
        ("code", "abcde", "length 5 is above max_length 4"),
        ("blob", b"", "length 0 is below min_length 1"),
        ("blob", b"abc", "length 3 is above max_length 2"),
        ("entries", [], "length 0 is below min_length 1"),
        ("entries", [1, 2, 3], "length 3 is above max_length 2"),
        ("pairs", {}, "below min_length 1"),
        ("pairs", {"a": 1, "b": 2}, "above max_length 1"),
        ("labels", {"a", "b", "c"}, "above max_length 2"),
        ("percent", -1, "below minimum 0"),
        ("percent", 101, "above maximum 100"),
        ("ratio", 1.5, "above maximum 1.0"),
        ("price", Decimal("0.009"), "below minimum Decimal('0.01')"),
        ("price", 0, "below minimum"),
        ("since", dt.datetime(1999, 12, 31, 23, 59), "below minimum"),
        ("since", dt.datetime(2000, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), "below"),
        ("since", dt.datetime(2000, 12, 31, 0, 0, 1), "above maximum"),
        ("day", _DAY - dt.timedelta(days=1), "below minimum"),
        ("delay", dt.timedelta(seconds=61), "above maximum"),
    ],
)
def test_values_out_of_bounds_are_refused(attr: str, value: Any, reason: str) -> None:
    with pytest.raises(FieldValidationError) as caught:
        Bounded(key="k", **{attr: value})
    assert (caught.value.model, caught.value.field) == ("Bounded", attr)
    assert reason in str(caught.value)


def test_lengths_are_checked_again_after_in_place_changes() -> None:
    item = Bounded(key="k", entries=[1, 2])
    item.entries.append(3)
    with pytest.raises(FieldValidationError, match=r"Bounded\.entries: .*above max_length 2"):
        item._to_wire_map()


# -- validators -----------------------------------------------------------------------


def _even(value: int) -> bool:
    return value % 2 == 0


def _no_spaces(value: str) -> None:
    if " " in value:
        raise ValueError("must not contain spaces")


class Validated(Model):
    __table_name__ = "unit_fields_validated"

    key = CharField(hash_key=True, validator=_no_spaces)
    even = IntegerField(validator=_even)
    ident = UUIDField(validator=lambda value: value.version == 4)


def test_a_validator_returning_false_refuses_the_value() -> None:
    with pytest.raises(FieldValidationError) as caught:
        Validated(key="k", even=3)
    assert (caught.value.model, caught.value.field, caught.value.value) == ("Validated", "even", 3)
    assert "refused by validator" in str(caught.value)


def test_a_validator_raising_value_error_refuses_with_its_message() -> None:
    item = Validated(key="ok")
    with pytest.raises(FieldValidationError, match=r"Validated\.key: 'a b' .*must not contain"):
        item.key = "a b"
    assert item.key == "ok"


def test_a_validator_returning_none_or_true_accepts() -> None:
    item = Validated(key="k", even=4)
    assert (item.key, item.even) == ("k", 4)


def test_a_validator_sees_the_converted_value() -> None:
    random_id = uuid.uuid4()
    assert Validated(key="k", ident=str(random_id)).ident == random_id
    with pytest.raises(FieldValidationError, match="refused by validator"):
        Validated(key="k", ident=str(AN_ID))  # version 5-ish, not 4


def test_a_refused_assignment_keeps_the_old_value() -> None:
    item = Validated(key="k", even=2)
    with pytest.raises(FieldValidationError):
        item.even = 5
    assert item.even == 2


# -- required ----------------------------------------------------------------------------


class WithRequired(Model):
    __table_name__ = "unit_fields_required"

    key = CharField(hash_key=True)
    sort = IntegerField(range_key=True)
    note = CharField(required=True)
    optional = CharField()


def test_required_fields_are_checked_on_write_not_on_construction() -> None:
    item = WithRequired(key="k", sort=1)
    assert item.note is None
    with pytest.raises(FieldValidationError) as caught:
        item._to_wire_map()
    assert (caught.value.model, caught.value.field, caught.value.value) == (
        "WithRequired",
        "note",
        None,
    )
    assert str(caught.value) == "WithRequired.note: None is not valid: is required"
    item.note = "now"
    assert item._to_wire_map() == {"key": {"S": "k"}, "sort": {"N": "1"}, "note": {"S": "now"}}


@pytest.mark.parametrize("missing", ["key", "sort"])
def test_key_fields_are_required(missing: str) -> None:
    values: dict[str, Any] = {"key": "k", "sort": 1, "note": "n"}
    del values[missing]
    with pytest.raises(FieldValidationError, match=f"WithRequired.{missing}: None .*is required"):
        WithRequired(**values)._to_wire_map()


# -- defaults ----------------------------------------------------------------------------

_counter = itertools.count(1)


class WithDefaults(Model):
    __table_name__ = "unit_fields_defaults"

    key = CharField(hash_key=True)
    serial = IntegerField(default=lambda: next(_counter))
    status = CharField(default="new")
    history = ListField(default=[])
    doc = DictField(default={"nested": [1]})
    data = JSONField(default={"a": []})
    tags = SetField(of=str)
    home = MapField(Address, default={"street": "Main"})
    nothing = CharField()


def test_a_callable_default_is_called_per_instance() -> None:
    first = WithDefaults(key="a")
    second = WithDefaults(key="b")
    assert first.serial is not None
    assert second.serial == first.serial + 1


def test_a_plain_default_is_used_when_the_value_is_not_given() -> None:
    assert WithDefaults(key="a").status == "new"
    assert WithDefaults(key="a", status="old").status == "old"
    assert WithDefaults(key="a").nothing is None


def test_an_explicit_none_wins_over_the_default() -> None:
    assert WithDefaults(key="a", status=None).status is None


def test_mutable_defaults_are_copied_per_instance() -> None:
    first = WithDefaults(key="a")
    second = WithDefaults(key="b")
    first.history.append("x")
    first.doc["nested"].append(2)
    first.data["a"].append(1)
    first.tags.add("t")
    assert first.home is not None
    first.home.number = 7
    assert second.history == []
    assert second.doc == {"nested": [1]}
    assert second.data == {"a": []}
    assert second.tags == set()
    assert second.home == Address(street="Main")
    assert WithDefaults(key="c").history == []


def test_a_default_that_does_not_fit_its_field_is_refused() -> None:
    class BadDefault(Model):
        __table_name__ = "unit_fields_bad_default"
        key = CharField(hash_key=True)
        count = IntegerField(default="zero")

    with pytest.raises(FieldValidationError, match="count: 'zero'"):
        BadDefault(key="k")


# -- wire round trips --------------------------------------------------------------------

_WHEN = dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)

_WIRE_CASES: list[tuple[str, Any, AttributeValue]] = [
    ("text", "hé", {"S": "hé"}),
    ("count", 5, {"N": "5"}),
    ("count", -(10**37), {"N": str(-(10**37))}),
    ("ratio", 2.0, {"N": "2.0"}),
    ("ratio", 0.1, {"N": "0.1"}),
    ("amount", Decimal("1.10"), {"N": "1.10"}),
    ("amount", Decimal("3.14159265358979323846264338"), {"N": "3.14159265358979323846264338"}),
    ("flag", False, {"BOOL": False}),
    ("when", _WHEN, {"S": "2024-05-01T10:00:00.000000+00:00"}),
    ("when", _WHEN.replace(microsecond=5), {"S": "2024-05-01T10:00:00.000005+00:00"}),
    ("day", dt.date(2024, 5, 1), {"S": "2024-05-01"}),
    ("span", dt.timedelta(seconds=1, microseconds=500000), {"N": "1.5"}),
    ("span", dt.timedelta(microseconds=1), {"N": "0.000001"}),
    ("span", dt.timedelta(days=-1), {"N": "-86400"}),
    ("blob", b"\x00\xff", {"B": b"\x00\xff"}),
    ("ident", AN_ID, {"S": str(AN_ID)}),
    ("color", Color.RED, {"S": "red"}),
    ("level", Level.HIGH, {"N": "2"}),
    ("data", {"b": 1, "a": [1.5, None]}, {"S": '{"b":1,"a":[1.5,null]}'}),
    ("items", [1, "a", [None]], {"L": [{"N": "1"}, {"S": "a"}, {"L": [{"NULL": True}]}]}),
    ("numbers", [3, 1], {"L": [{"N": "3"}, {"N": "1"}]}),
    (
        "addresses",
        [Address(street="Main", number=1), Address(street="Elm")],
        {
            "L": [
                {"M": {"street": {"S": "Main"}, "number": {"N": "1"}}},
                {"M": {"street": {"S": "Elm"}}},
            ]
        },
    ),
    (
        "mapping",
        {"a": 1, "b": {"c": b"d"}},
        {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"B": b"d"}}}}},
    ),
    ("counts", {"a": 1}, {"M": {"a": {"N": "1"}}}),
    ("tags", {"x"}, {"SS": ["x"]}),
    ("tags", {7}, {"NS": ["7"]}),
    ("words", {"b", "a"}, {"SS": ["a", "b"]}),
    ("home", Address(street="Main"), {"M": {"street": {"S": "Main"}}}),
]


@pytest.mark.parametrize(("attr", "value", "wire"), _WIRE_CASES)
def test_values_go_to_the_wire_and_back(attr: str, value: Any, wire: AttributeValue) -> None:
    f = field(attr)
    assert f.to_wire(value) == wire
    back = f.from_wire(wire)
    assert back == value
    assert type(back) is type(value)


def test_a_whole_item_round_trips() -> None:
    item = Everything(**{attr: value for attr, value, _ in _WIRE_CASES}, key="k")
    wire = item._to_wire_map()
    assert Everything._from_wire(wire) == item


@pytest.mark.parametrize(
    ("attr", "wire", "expected"),
    [
        ("flag", {"N": "1"}, True),
        ("flag", {"N": "0"}, False),
        ("blob", {"B": "AP8="}, b"\x00\xff"),
        ("when", {"S": "2024-05-01T12:00:00+02:00"}, _WHEN),
        ("when", {"S": "2024-05-01T10:00:00Z"}, _WHEN),
        ("when", {"S": "2024-05-01T10:00:00"}, _WHEN),
        ("count", {"N": "5.0"}, 5),
        ("text", {"NULL": True}, None),
        ("tags", {"NULL": True}, set()),
    ],
)
def test_other_stored_forms_are_read(attr: str, wire: AttributeValue, expected: Any) -> None:
    back = field(attr).from_wire(wire)
    assert back == expected
    if isinstance(back, dt.datetime):
        assert back.tzinfo is UTC


def test_an_empty_set_is_left_out_of_the_item_and_reads_back_empty() -> None:
    item = Everything(key="k", tags=set())
    wire = item._to_wire_map()
    assert "tags" not in wire
    assert "words" not in wire
    assert wire == {"key": {"S": "k"}}
    assert Everything._from_wire(wire).tags == set()


def test_absent_attributes_read_as_none() -> None:
    item = Everything._from_wire({"key": {"S": "k"}})
    assert item.text is None
    assert item.home is None
    assert item.numbers is None


# -- containers changed in place ----------------------------------------------------------


def test_list_of_ints_refuses_a_str_on_assignment() -> None:
    error = refused("numbers", [1, "2"])
    assert "element '2': expected an int, got str" in str(error)


def test_list_of_ints_refuses_a_str_appended_in_place_at_write_time() -> None:
    item = Everything(key="k", numbers=[1])
    item.numbers.append("2")
    with pytest.raises(FieldValidationError) as caught:
        item._to_wire_map()
    assert (caught.value.model, caught.value.field) == ("Everything", "numbers")
    assert "element '2': expected an int, got str" in str(caught.value)


def test_set_of_str_refuses_an_int_added_in_place_at_write_time() -> None:
    item = Everything(key="k", words={"a"})
    item.words.add(1)
    with pytest.raises(FieldValidationError, match=r"Everything\.words: .*must be str, got int"):
        item._to_wire_map()


def test_dict_of_ints_refuses_a_str_stored_in_place_at_write_time() -> None:
    item = Everything(key="k", counts={"a": 1})
    item.counts["b"] = "x"
    with pytest.raises(FieldValidationError, match=r"Everything\.counts: .*expected an int"):
        item._to_wire_map()


def test_untyped_list_refuses_an_unsupported_value_appended_in_place() -> None:
    item = Everything(key="k", items=[])
    item.items.append(dt.date(2024, 5, 1))
    with pytest.raises(FieldValidationError, match=r"Everything\.items: .*cannot store a date"):
        item._to_wire_map()


def test_nested_models_are_checked_on_write() -> None:
    item = Everything(key="k", addresses=[{"number": 1}], home={"number": 2})
    with pytest.raises(FieldValidationError) as caught:
        item._to_wire_map()
    assert (caught.value.model, caught.value.field) == ("Address", "street")
    assert "is required" in str(caught.value)


def test_list_of_map_models_round_trips() -> None:
    item = Everything(key="k", addresses=[{"street": "Main", "number": 1}, {"street": "Elm"}])
    back = Everything._from_wire(item._to_wire_map())
    assert back.addresses == [Address(street="Main", number=1), Address(street="Elm")]
    assert all(isinstance(address, Address) for address in back.addresses)


def test_map_field_round_trips() -> None:
    item = Everything(key="k", home={"street": "Main", "number": 9})
    back = Everything._from_wire(item._to_wire_map())
    assert isinstance(back.home, Address)
    assert (back.home.street, back.home.number) == ("Main", 9)


# -- to_son -------------------------------------------------------------------------------


def test_to_son_is_json_serialisable() -> None:
    item = Everything(
        key="k",
        text="t",
        count=1,
        ratio=0.5,
        amount=Decimal("1.10"),
        flag=True,
        when=dt.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=PLUS_TWO),
        day=dt.date(2024, 5, 1),
        span=dt.timedelta(seconds=90, microseconds=500000),
        blob=b"\x00\xff",
        ident=AN_ID,
        color=Color.BLUE,
        level=Level.LOW,
        data={"x": [1]},
        items=[1, Decimal("2"), b"a", {"s": {"b", "a"}}],
        numbers=[3],
        addresses=[{"street": "Main"}],
        mapping={"d": Decimal("0.5")},
        counts={"a": 1},
        tags={3, 1, 2},
        words={"b", "c", "a"},
        home={"street": "Elm", "number": 2},
    )
    son = json.loads(json.dumps(item.to_son()))
    assert son == {
        "key": "k",
        "text": "t",
        "count": 1,
        "ratio": 0.5,
        "amount": 1.1,
        "flag": True,
        "when": "2024-05-01T10:00:00.250000+00:00",
        "day": "2024-05-01",
        "span": 90.5,
        "blob": "AP8=",
        "ident": str(AN_ID),
        "color": "blue",
        "level": 1,
        "data": {"x": [1]},
        "items": [1, 2, "YQ==", {"s": ["a", "b"]}],
        "numbers": [3],
        "addresses": [{"street": "Main", "number": None}],
        "mapping": {"d": 0.5},
        "counts": {"a": 1},
        "tags": [1, 2, 3],
        "words": ["a", "b", "c"],
        "home": {"street": "Elm", "number": 2},
    }
    assert dt.datetime.fromisoformat(son["when"]) == item.when


def test_to_son_of_an_empty_item() -> None:
    son = Everything(key="k").to_son()
    assert json.loads(json.dumps(son)) == son
    assert son["tags"] == []
    assert son["text"] is None


# -- properties ---------------------------------------------------------------------------

_offsets = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)
_aware = st.datetimes(
    min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=_offsets
)


def _wire_text(value: dt.datetime) -> str:
    f = field("when")
    encoded = f.to_wire(f.clean(value))
    assert encoded is not None
    return str(encoded["S"])


@given(_aware, _aware)
def test_datetime_wire_strings_sort_in_time_order(first: dt.datetime, second: dt.datetime) -> None:
    first_text, second_text = _wire_text(first), _wire_text(second)
    assert (first_text < second_text) == (first < second)
    assert (first_text == second_text) == (first == second)


@given(_aware)
def test_datetimes_round_trip_to_the_same_instant_in_utc(value: dt.datetime) -> None:
    f = field("when")
    back = f.from_wire({"S": _wire_text(value)})
    assert back == value
    assert back.tzinfo is UTC


@given(st.timedeltas())
def test_timedeltas_keep_microseconds_exactly(value: dt.timedelta) -> None:
    f = field("span")
    wire = f.to_wire(value)
    assert wire is not None
    assert Decimal(wire["N"]) * 1_000_000 == value // dt.timedelta(microseconds=1)
    assert f.from_wire(wire) == value


# -- docstrings ---------------------------------------------------------------------------


def test_a_field_shows_its_class_docstring_unless_given_its_own() -> None:
    assert CharField.__doc__
    assert CharField().__doc__ == CharField.__doc__
    assert Everything.text.__doc__ == CharField.__doc__
    assert CharField(doc="x").__doc__ == "x"


# -- VersionField options -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("default", 0),
        ("default", 1),
        ("default", None),
        ("default", ""),
        ("required", True),
        ("required", 0),
        ("hash_key", True),
        ("hash_key", 0),
        ("range_key", True),
        ("range_key", ""),
        ("validator", lambda version: True),
        ("minimum", 0),
        ("minimum", 5),
        ("maximum", 0),
        ("maximum", 10),
    ],
)
def test_version_field_refuses_options_it_does_not_take(option: str, value: Any) -> None:
    with pytest.raises(ModelDefinitionError, match=rf"^VersionField does not take {option}= \("):
        VersionField(**{option: value})


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"hash_key": False, "range_key": False, "required": False},
        {"validator": None, "minimum": None, "maximum": None},
        {"name": "_rev", "doc": "the revision"},
        {"indexed": True},
    ],
)
def test_version_field_takes_its_options_and_values_that_mean_not_given(
    options: dict[str, Any],
) -> None:
    version = VersionField(**options)
    assert (version.is_key, version.required, version.default) == (False, False, MISSING)
    assert (version.validator, version.minimum, version.maximum) == (None, 0, None)


# -- sets of numbers ----------------------------------------------------------------------


class NumberSets(Model):
    __table_name__ = "unit_fields_number_sets"

    key = CharField(hash_key=True)
    decimals = SetField(of=Decimal)
    ints = SetField(of=int)
    floats = SetField(of=float)
    untyped = SetField()


@pytest.mark.parametrize(
    ("attr", "members", "kind", "expected"),
    [
        ("decimals", ["1.10", "2", "1E+3", "0.1"], Decimal, {"1.10", "2", "1E+3", "0.1"}),
        ("ints", ["1", "20"], int, {"1", "20"}),
        ("floats", ["1.5", "2"], float, {"1.5", "2.0"}),
    ],
)
def test_a_typed_number_set_reads_each_member_once_as_its_type(
    monkeypatch: pytest.MonkeyPatch, attr: str, members: list[str], kind: type, expected: set[str]
) -> None:
    # The untyped number rule (decode_number) must not run before the member type's.
    calls: list[str] = []
    untyped = codec.decode_number

    def counting(text: str) -> Any:
        calls.append(text)
        return untyped(text)

    monkeypatch.setattr(codec, "decode_number", counting)
    item: Item = {"key": {"S": "k"}, attr: {"NS": members}}
    for back in (
        NumberSets._meta.decode_item(item, False)[attr],  # the per-class codec
        NumberSets._decode_carefully(item, False)[attr],  # field by field
        NumberSets._from_wire(item)._data[attr],
    ):
        assert {str(member) for member in back} == expected  # Decimal("1.10") stays 1.10
        assert {type(member) for member in back} == {kind}
    assert calls == []


def test_a_stored_null_set_reads_as_an_empty_set_on_every_path() -> None:
    item: Item = {"key": {"S": "k"}, "untyped": {"NULL": True}, "ints": {"NULL": True}}
    assert NumberSets._meta.decode_item(item, False)["untyped"] == set()
    assert NumberSets._from_wire(item).untyped == set()
    assert NumberSets._from_wire(item).ints == set()
