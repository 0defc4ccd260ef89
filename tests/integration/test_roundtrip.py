"""Every field type round-trips through DynamoDB Local: values -> item -> values, equal.

Each test writes generated values with ``create`` and reads them back with a
consistent ``get``. All models of the value tests share one table (DynamoDB only
fixes the key), created once for the module.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dynamodb
from dynamodb import (
    BinaryField,
    BooleanField,
    CharField,
    Connection,
    DateField,
    DateTimeField,
    DecimalField,
    DictField,
    EnumField,
    FloatField,
    IntegerField,
    JSONField,
    ListField,
    MapField,
    MapModel,
    Model,
    SetField,
    TimeDeltaField,
    UUIDField,
)

ROUNDTRIP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

VALUES_TABLE = "test_roundtrip_values"
KEYS_TABLE = "test_roundtrip_keys"

# -- models ---------------------------------------------------------------------------


class Row(Model):
    """Base of the value models: one table, keyed by a random ``pk``."""

    __abstract__ = True

    pk = CharField(hash_key=True)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    EMPTY = ""


class Level(enum.IntEnum):
    LOW = -1
    MID = 0
    HIGH = 10**30


class Address(MapModel):
    street = CharField()
    number = IntegerField()
    flat = DecimalField()
    tags = SetField(of=str)
    since = DateTimeField()
    extra = DictField()


class CharRow(Row):
    __table_name__ = VALUES_TABLE
    value = CharField()


class IntegerRow(Row):
    __table_name__ = VALUES_TABLE
    value = IntegerField()


class FloatRow(Row):
    __table_name__ = VALUES_TABLE
    value = FloatField()


class DecimalRow(Row):
    __table_name__ = VALUES_TABLE
    value = DecimalField()


class BooleanRow(Row):
    __table_name__ = VALUES_TABLE
    value = BooleanField()


class DateTimeRow(Row):
    __table_name__ = VALUES_TABLE
    value = DateTimeField()


class DateRow(Row):
    __table_name__ = VALUES_TABLE
    value = DateField()


class TimeDeltaRow(Row):
    __table_name__ = VALUES_TABLE
    value = TimeDeltaField()


class ListRow(Row):
    __table_name__ = VALUES_TABLE
    value = ListField()


class DictRow(Row):
    __table_name__ = VALUES_TABLE
    value = DictField()


class TypedContainersRow(Row):
    __table_name__ = VALUES_TABLE
    numbers = ListField(of=IntegerField())
    moments = DictField(of=DateTimeField())
    nested = ListField(of=ListField(of=DecimalField()))


class StrSetRow(Row):
    __table_name__ = VALUES_TABLE
    value = SetField(of=str)


class IntSetRow(Row):
    __table_name__ = VALUES_TABLE
    value = SetField(of=int)


class BytesSetRow(Row):
    __table_name__ = VALUES_TABLE
    value = SetField(of=bytes)


class BinaryRow(Row):
    __table_name__ = VALUES_TABLE
    value = BinaryField()


class UUIDRow(Row):
    __table_name__ = VALUES_TABLE
    value = UUIDField()


class EnumRow(Row):
    __table_name__ = VALUES_TABLE
    color = EnumField(Color)
    level = EnumField(Level)


class JSONRow(Row):
    __table_name__ = VALUES_TABLE
    value = JSONField()


class MapRow(Row):
    __table_name__ = VALUES_TABLE
    home = MapField(Address)
    others = ListField(of=Address)
    by_name = DictField(of=Address)


class KeyRow(Model):
    """Keys of type N and B."""

    __table_name__ = KEYS_TABLE

    number = IntegerField(hash_key=True)
    blob = BinaryField(range_key=True)


@pytest.fixture(scope="module", autouse=True)
def roundtrip_tables(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(CharRow, force=True)
    dynamodb.create_table(KeyRow, force=True)
    yield
    dynamodb.delete_table(CharRow)
    dynamodb.delete_table(KeyRow)


R = TypeVar("R", bound=Row)


def roundtrip(model: type[R], **values: Any) -> R:
    """Store ``values`` under a new key and read the item back (consistent read)."""
    pk = uuid.uuid4().hex
    model.create(pk=pk, **values)
    stored = model.get(pk=pk, consistent=True)
    assert stored is not None
    return stored


# -- strategies -----------------------------------------------------------------------

MAX_NUMBER = 10**38 - 1

# ints DynamoDB takes: up to 38 digits, or fewer significant digits followed by zeros
integers = st.integers(-MAX_NUMBER, MAX_NUMBER) | st.builds(
    lambda digits, zeros: digits * 10**zeros,
    st.integers(-(10**20), 10**20),
    st.integers(0, 100),
)

positive_floats = st.floats(min_value=1e-130, max_value=1e126, exclude_max=True)
floats = st.sampled_from([0.0, -0.0]) | positive_floats | positive_floats.map(lambda f: -f)


@st.composite
def decimals(draw: st.DrawFn) -> Decimal:
    """Decimals of at most 38 significant digits, magnitude 1E-130 to below 1E+126."""
    coefficient = draw(st.integers(0, MAX_NUMBER))
    if coefficient == 0:
        return Decimal(0)
    width = len(str(coefficient))
    exponent = draw(st.integers(-130 - width + 1, 125 - width + 1))
    sign = draw(st.sampled_from([0, 1]))
    return Decimal((sign, tuple(int(digit) for digit in str(coefficient)), exponent))


offsets = st.timedeltas(
    min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
)
aware_datetimes = st.datetimes(
    min_value=dt.datetime(2, 1, 1),
    max_value=dt.datetime(9998, 12, 31),
    timezones=st.builds(dt.timezone, offsets),
)
naive_datetimes = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 30))

# nested untyped values: what ListField()/DictField() hold
nested_leaves = (
    st.none()
    | st.booleans()
    | st.text()
    | st.integers(-MAX_NUMBER, MAX_NUMBER)
    | floats
    | st.binary()
    | st.sets(st.text(), min_size=1)
    | st.sets(st.integers(-MAX_NUMBER, MAX_NUMBER), min_size=1)
    | st.sets(st.binary(), min_size=1)
)
map_keys = st.text(min_size=1)  # DynamoDB refuses empty attribute names in maps
nested = st.recursive(
    nested_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(map_keys, inner, max_size=4),
    max_leaves=12,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)

addresses = st.builds(
    Address,
    street=st.none() | st.text(),
    number=st.none() | integers,
    flat=st.none() | decimals(),
    tags=st.sets(st.text(), max_size=3),
    since=st.none() | aware_datetimes,
    extra=st.dictionaries(map_keys, nested, max_size=3),
)


# -- tests ----------------------------------------------------------------------------


@ROUNDTRIP
@given(st.text())
def test_char_field(value: str) -> None:
    assert roundtrip(CharRow, value=value).value == value


def test_char_field_empty_and_unicode() -> None:
    for value in ["", " ", "ünïcødé ✓ 漢字 🎉", "a\x00b", "\U0010ffff"]:
        assert roundtrip(CharRow, value=value).value == value


@ROUNDTRIP
@given(integers)
def test_integer_field(value: int) -> None:
    stored = roundtrip(IntegerRow, value=value).value
    assert stored == value
    assert type(stored) is int


def test_integer_field_extremes() -> None:
    for value in [0, MAX_NUMBER, -MAX_NUMBER, 10**125, -(10**125), 12345678901234567890 * 10**100]:
        assert roundtrip(IntegerRow, value=value).value == value


@ROUNDTRIP
@given(floats)
def test_float_field(value: float) -> None:
    stored = roundtrip(FloatRow, value=value).value
    assert stored == value
    assert type(stored) is float


def test_float_field_extremes() -> None:
    for value in [1e-130, -1e-130, math.nextafter(1e126, 0), math.pi, 0.1, 1.0, -0.0]:
        assert roundtrip(FloatRow, value=value).value == value


@ROUNDTRIP
@given(decimals())
def test_decimal_field(value: Decimal) -> None:
    stored = roundtrip(DecimalRow, value=value).value
    assert stored == value
    assert isinstance(stored, Decimal)


def test_decimal_field_keeps_38_digits() -> None:
    value = Decimal("3.1415926535897932384626433832795028841")  # 38 digits
    assert roundtrip(DecimalRow, value=value).value == value
    assert roundtrip(DecimalRow, value=Decimal("-1E-130")).value == Decimal("-1E-130")


@ROUNDTRIP
@given(st.booleans())
def test_boolean_field(value: bool) -> None:
    assert roundtrip(BooleanRow, value=value).value is value


@ROUNDTRIP
@given(aware_datetimes)
def test_datetime_field_aware_any_timezone(value: dt.datetime) -> None:
    stored = roundtrip(DateTimeRow, value=value).value
    assert stored == value  # the same instant
    assert stored.utcoffset() == dt.timedelta(0)


@ROUNDTRIP
@given(naive_datetimes)
def test_datetime_field_naive_is_utc(value: dt.datetime) -> None:
    stored = roundtrip(DateTimeRow, value=value).value
    assert stored == value.replace(tzinfo=dt.timezone.utc)


@ROUNDTRIP
@given(st.dates())
def test_date_field(value: dt.date) -> None:
    stored = roundtrip(DateRow, value=value).value
    assert stored == value
    assert type(stored) is dt.date


@ROUNDTRIP
@given(st.timedeltas())
def test_timedelta_field(value: dt.timedelta) -> None:
    assert roundtrip(TimeDeltaRow, value=value).value == value


@ROUNDTRIP
@given(st.lists(nested, max_size=5))
def test_list_field_nested(value: list[Any]) -> None:
    assert roundtrip(ListRow, value=value).value == value


@ROUNDTRIP
@given(st.dictionaries(map_keys, nested, max_size=5))
def test_dict_field_nested(value: dict[str, Any]) -> None:
    assert roundtrip(DictRow, value=value).value == value


@ROUNDTRIP
@given(
    st.lists(integers, max_size=5),
    st.dictionaries(map_keys, aware_datetimes, max_size=3),
    st.lists(st.lists(decimals(), max_size=3), max_size=3),
)
def test_typed_list_and_dict_fields(
    numbers: list[int], moments: dict[str, dt.datetime], nested: list[list[Decimal]]
) -> None:
    stored = roundtrip(TypedContainersRow, numbers=numbers, moments=moments, nested=nested)
    assert stored.numbers == numbers
    assert stored.moments == moments
    assert stored.nested == nested
    assert all(isinstance(d, Decimal) for inner in stored.nested for d in inner)


@ROUNDTRIP
@given(st.sets(st.text(), max_size=6))
def test_set_field_of_str(value: set[str]) -> None:
    assert roundtrip(StrSetRow, value=value).value == value


@ROUNDTRIP
@given(st.sets(integers, max_size=6))
def test_set_field_of_int(value: set[int]) -> None:
    stored = roundtrip(IntSetRow, value=value).value
    assert stored == value
    assert all(type(member) is int for member in stored)


@ROUNDTRIP
@given(st.sets(st.binary(), max_size=6))
def test_set_field_of_bytes(value: set[bytes]) -> None:
    assert roundtrip(BytesSetRow, value=value).value == value


@ROUNDTRIP
@given(st.binary())
def test_binary_field(value: bytes) -> None:
    assert roundtrip(BinaryRow, value=value).value == value


@ROUNDTRIP
@given(st.uuids())
def test_uuid_field(value: uuid.UUID) -> None:
    assert roundtrip(UUIDRow, value=value).value == value


@ROUNDTRIP
@given(st.sampled_from(Color), st.sampled_from(Level))
def test_enum_field(color: Color, level: Level) -> None:
    stored = roundtrip(EnumRow, color=color, level=level)
    assert stored.color is color
    assert stored.level is level


@ROUNDTRIP
@given(json_values)
def test_json_field(value: Any) -> None:
    stored = roundtrip(JSONRow, value=value).value
    assert stored == value
    assert json.dumps(stored, sort_keys=True) == json.dumps(value, sort_keys=True)


@ROUNDTRIP
@given(addresses, st.lists(addresses, max_size=3), st.dictionaries(map_keys, addresses, max_size=2))
def test_map_field_and_lists_of_map_models(
    home: Address, others: list[Address], by_name: dict[str, Address]
) -> None:
    stored = roundtrip(MapRow, home=home, others=others, by_name=by_name)
    assert stored.home == home
    assert stored.others == others
    assert stored.by_name == by_name
    assert all(isinstance(other, Address) for other in stored.others)


@ROUNDTRIP
@given(st.integers(-MAX_NUMBER, MAX_NUMBER), st.binary(min_size=1, max_size=64))
def test_number_and_binary_keys(number: int, blob: bytes) -> None:
    created = KeyRow.create(number=number, blob=blob)
    stored = KeyRow.get(number=number, blob=blob, consistent=True)
    assert stored == created
    assert stored is not None
    assert stored.get_primary_key_dict() == {"number": number, "blob": blob}
