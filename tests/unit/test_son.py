"""``Model.from_son(data)``: the inverse of ``item.to_son()``, for web APIs.

``to_son()`` writes what ``json.dumps`` takes (ISO datetimes and dates, timedeltas
as seconds, bytes as base64, UUIDs as strings, enums by value, sets as sorted
lists, nested models as dicts); ``from_son`` reads each back by its field, checks
it as the constructor does, and refuses keys that are not fields.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
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
    FieldValidationError,
    FloatField,
    IntegerField,
    InvalidArgument,
    JSONField,
    ListField,
    MapField,
    MapModel,
    Model,
    SetField,
    TimeDeltaField,
    UnknownField,
    UUIDField,
    VersionField,
)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = -1
    HIGH = 10


class SonAddress(MapModel):
    street = CharField()
    number = IntegerField()
    since = DateTimeField()
    tags = SetField(of=str)


class Everything(Model):
    """One field of every kind (and the typed containers)."""

    __table_name__ = "unit_son_everything"

    pk = CharField(hash_key=True)
    text = CharField()
    count = IntegerField()
    ratio = FloatField()
    amount = DecimalField()
    flag = BooleanField()
    blob = BinaryField()
    ident = UUIDField()
    at = DateTimeField()
    day = DateField()
    span = TimeDeltaField()
    color = EnumField(Color)
    level = EnumField(Level)
    doc = JSONField()
    plain = ListField()
    stamps = ListField(of=DateTimeField())
    blobs = DictField(of=BinaryField())
    meta = DictField()
    names = SetField(of=str)
    counts = SetField(of=int)
    ratios = SetField(of=float)
    raws = SetField(of=bytes)
    home = MapField(SonAddress)
    homes = ListField(of=SonAddress)
    version = VersionField()


# -- strategies ----------------------------------------------------------------------

_offsets = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)
_datetimes = st.datetimes(
    min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=_offsets
)
_ints = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
_floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda x: x == 0 or 1e-120 < abs(x) < 1e120
)
# to_son writes a DecimalField's value as a JSON number (an int, or a float): the
# decimals that such a number holds exactly come back exactly.
_decimals = st.decimals(
    allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
)
# Seconds as a float hold microseconds exactly for about 285 years either way.
_timedeltas = st.timedeltas(
    min_value=dt.timedelta(days=-36_500), max_value=dt.timedelta(days=36_500)
)
_text = st.text(max_size=12)
_key_text = st.text(min_size=1, max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | _ints | _floats | _text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(_key_text, children, max_size=3)
    ),
    max_leaves=10,
)
_addresses = st.builds(
    SonAddress,
    street=st.none() | _text,
    number=st.none() | _ints,
    since=st.none() | _datetimes,
    tags=st.sets(_key_text, max_size=3),
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


_values = st.fixed_dictionaries(
    {
        "pk": _key_text,
        "text": _maybe(_text),
        "count": _maybe(_ints),
        "ratio": _maybe(_floats),
        "amount": _maybe(_decimals),
        "flag": _maybe(st.booleans()),
        "blob": _maybe(st.binary(max_size=12)),
        "ident": _maybe(st.uuids()),
        "at": _maybe(_datetimes),
        "day": _maybe(st.dates()),
        "span": _maybe(_timedeltas),
        "color": _maybe(st.sampled_from(Color)),
        "level": _maybe(st.sampled_from(Level)),
        "doc": _maybe(_json),
        "plain": _maybe(st.lists(_json, max_size=3)),
        "stamps": _maybe(st.lists(_maybe(_datetimes), max_size=3)),
        "blobs": _maybe(st.dictionaries(_key_text, st.binary(max_size=6), max_size=3)),
        "meta": _maybe(st.dictionaries(_key_text, _json, max_size=3)),
        "names": st.sets(_key_text, max_size=3),
        "counts": st.sets(_ints, max_size=3),
        "ratios": st.sets(_floats, max_size=3),
        "raws": st.sets(st.binary(min_size=1, max_size=6), max_size=3),
        "home": _maybe(_addresses),
        "homes": _maybe(st.lists(_addresses, max_size=2)),
        "version": _maybe(st.integers(min_value=0, max_value=10**6)),
    }
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_from_son_inverts_to_son_for_every_field_type(values: dict[str, Any]) -> None:
    item = Everything(**values)
    sent = json.dumps(item.to_son())  # what a web API sends and gets back

    back = Everything.from_son(json.loads(sent))

    assert back == item
    assert back.to_son() == item.to_son()


@settings(max_examples=100)
@given(_values)
def test_from_son_takes_to_son_data_before_json_too(values: dict[str, Any]) -> None:
    item = Everything(**values)
    assert Everything.from_son(item.to_son()) == item


def test_the_json_forms_are_read_back_by_their_fields() -> None:
    data = {
        "pk": "p",
        "blob": "AAE=",
        "ident": "12345678-1234-5678-1234-567812345678",
        "at": "2024-05-01T12:00:00+02:00",
        "day": "2024-05-01",
        "span": 90.000001,
        "color": "red",
        "level": 10,
        "amount": 1.25,
        "stamps": ["2024-05-01T10:00:00Z", None],
        "blobs": {"a": "eno="},
        "raws": ["YQ==", "Yg=="],
        "ratios": [1, 2.5],
        "home": {"street": "Main", "since": "2024-01-01T00:00:00"},
        "homes": [{"number": 3}],
    }

    item = Everything.from_son(data)

    utc = dt.timezone.utc
    assert item.blob == b"\x00\x01"
    assert item.ident == uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert item.at == dt.datetime(2024, 5, 1, 10, 0, tzinfo=utc)
    assert item.day == dt.date(2024, 5, 1)
    assert item.span == dt.timedelta(seconds=90, microseconds=1)
    assert item.color is Color.RED
    assert item.level is Level.HIGH
    assert item.amount == Decimal("1.25")
    assert item.stamps == [dt.datetime(2024, 5, 1, 10, 0, tzinfo=utc), None]
    assert item.blobs == {"a": b"zz"}
    assert item.raws == {b"a", b"b"}
    assert item.ratios == {1.0, 2.5}
    assert item.home == SonAddress(street="Main", since=dt.datetime(2024, 1, 1, tzinfo=utc))
    assert item.homes == [SonAddress(number=3)]
    assert item.names == set()  # absent: the field's default
    assert item.text is None
    assert item._original is None  # a new item: save() puts it whole


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("blob", "not base64!", "'not base64!' is not base64 text"),
        ("at", "yesterday", "'yesterday' is not an ISO 8601 datetime"),
        ("day", "2024-13-01", "month must be in 1..12"),
        ("span", "an hour", "expected a timedelta, got str"),
        ("count", 1.5, "expected an int, got float"),
        ("color", "blue", "not a Color (one of 'red', 'green')"),
        ("raws", ["%%"], "'%%' is not base64 text"),
        ("names", "abc", "expected a set, got str"),
    ],
)
def test_a_value_that_does_not_fit_is_refused_naming_model_and_field(
    field: str, value: Any, reason: str
) -> None:
    with pytest.raises(FieldValidationError) as caught:
        Everything.from_son({"pk": "p", field: value})
    assert str(caught.value) == f"Everything.{field}: {value!r} is not valid: {reason}"


def test_nested_refusals_name_the_nested_field() -> None:
    with pytest.raises(FieldValidationError, match=r"^SonAddress\.number: 'x' is not valid"):
        Everything.from_son({"pk": "p", "home": {"number": "x"}})
    with pytest.raises(UnknownField, match=r"SonAddress\.from_son\(\) got unknown fields"):
        Everything.from_son({"pk": "p", "homes": [{"streat": "Main"}]})


def test_unknown_keys_and_non_dicts_are_refused() -> None:
    with pytest.raises(UnknownField) as caught:
        Everything.from_son({"pk": "p", "colour": "red"})
    assert str(caught.value).startswith(
        "Everything.from_son() got unknown fields ['colour'] (did you mean 'color'?)"
    )
    with pytest.raises(InvalidArgument, match=r"from_son\(\) takes a dict .*not list"):
        Everything.from_son([("pk", "p")])  # type: ignore[arg-type]


def test_values_are_checked_as_the_constructor_checks_them() -> None:
    class Checked(Model):
        __table_name__ = "unit_son_checked"
        pk = CharField(hash_key=True)
        code = CharField(max_length=3)
        score = IntegerField(minimum=0, validator=lambda n: n != 13)

    with pytest.raises(FieldValidationError, match="length 4 is above max_length 3"):
        Checked.from_son({"pk": "p", "code": "abcd"})
    with pytest.raises(FieldValidationError, match="below minimum 0"):
        Checked.from_son({"pk": "p", "score": -1})
    with pytest.raises(FieldValidationError, match="refused by validator"):
        Checked.from_son({"pk": "p", "score": 13})


def test_a_custom_field_reads_back_what_its_to_son_writes() -> None:
    class Cents(IntegerField):
        """An amount in cents, shown to web clients as a string of euros."""

        def to_son(self, value: int) -> Any:
            return f"{value / 100:.2f}"

        def from_son(self, data: Any) -> int:
            return round(Decimal(data) * 100) if isinstance(data, str) else self.convert(data)

    class Priced(Model):
        __table_name__ = "unit_son_priced"
        pk = CharField(hash_key=True)
        price = Cents()

    item = Priced(pk="p", price=1999)
    assert item.to_son() == {"pk": "p", "price": "19.99"}
    assert Priced.from_son(item.to_son()) == item
