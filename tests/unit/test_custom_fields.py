"""A user's own field types: their methods run on every write and read.

The library's own field classes hand the per-class codec faster encoders and
decoders (and inline expressions) that copy what their ``to_wire`` and
``decode`` do. A subclass that overrides ``convert``, ``to_wire``, ``decode`` or
``from_wire`` must not get those copies: its own methods have to run, through
the model's codec (``_to_wire_map`` / ``_from_wire``), inside typed lists and
dicts, and in conditions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from dynamodb import (
    BooleanField,
    CharField,
    DateTimeField,
    DictField,
    Field,
    FieldValidationError,
    FloatField,
    IntegerField,
    ListField,
    Model,
    SetField,
)
from dynamodb.core.codec import AttributeValue
from dynamodb.core.expressions import Comparison
from dynamodb.models.fields import VersionField
from tests.support.custom_fields import Cents, Lower

PLUS_TWO = dt.timezone(dt.timedelta(hours=2))


class Trimmed(CharField):
    """Older items hold padded strings: reads strip them (overrides ``from_wire`` only)."""

    def from_wire(self, attribute: AttributeValue) -> str:
        if "S" in attribute:
            return str(attribute["S"]).strip()
        return super().from_wire(attribute)


class Rounded(FloatField):
    """Reads round to two places (overrides ``decode`` only)."""

    def decode(self, attribute: AttributeValue) -> float:
        return round(float(attribute["N"]), 2)


class KeepsOffset(DateTimeField):
    """Keeps the given offset in memory (overrides ``convert`` only); stored in UTC."""

    def convert(self, value: Any) -> dt.datetime:
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise TypeError("expected an aware datetime")
        return value


class Inverted(BooleanField):
    """Stores the opposite flag (``to_wire`` and ``decode``)."""

    def to_wire(self, value: bool) -> AttributeValue:
        return {"BOOL": not value}

    def decode(self, attribute: AttributeValue) -> bool:
        return not attribute["BOOL"]


class Slug(CharField):
    """Lower-case words and dashes (overrides ``check`` only)."""

    def check(self, value: str) -> None:
        super().check(value)
        if value != value.lower() or " " in value:
            raise ValueError("a slug is lower-case, without spaces")


class Sorted(ListField):
    """Reads lists sorted (overrides ``decode`` of a container)."""

    def decode(self, attribute: AttributeValue) -> list[Any]:
        return sorted(super().decode(attribute))


class Shop(Model):
    __table_name__ = "unit_custom_fields_shop"

    pk = CharField(hash_key=True)
    email = Lower()
    price = Cents()
    note = Trimmed()
    ratio = Rounded()
    when = KeepsOffset()
    hidden = Inverted()
    slugs = ListField(of=Slug())
    emails = ListField(of=Lower())
    prices = ListField(of=Cents())
    price_by_size = DictField(of=Cents())
    ranks = Sorted(of=IntegerField())


# -- writes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attr", "value", "wire"),
    [
        ("email", "Ann@Example.COM", {"S": "ann@example.com"}),
        ("price", Decimal("12.34"), {"N": "1234"}),
        ("price", 5, {"N": "500"}),
        (
            "when",
            dt.datetime(2024, 5, 1, 12, tzinfo=PLUS_TWO),
            {"S": "2024-05-01T10:00:00.000000+00:00"},
        ),
        ("hidden", True, {"BOOL": False}),
        ("emails", ["A@X.ORG", "b@x.org"], {"L": [{"S": "a@x.org"}, {"S": "b@x.org"}]}),
        ("prices", [Decimal("1.50"), 2], {"L": [{"N": "150"}, {"N": "200"}]}),
        ("price_by_size", {"small": Decimal("0.99")}, {"M": {"small": {"N": "99"}}}),
    ],
)
def test_a_custom_field_writes_through_its_own_to_wire(
    attr: str, value: Any, wire: AttributeValue
) -> None:
    shop = Shop(pk="p", **{attr: value})
    expected = {"pk": {"S": "p"}, attr: wire}
    assert shop._to_wire_map() == expected
    assert Shop._meta.encode_item(shop._data, AssertionError) == expected  # no fallback


def test_a_custom_element_field_checks_elements_added_in_place() -> None:
    shop = Shop(pk="p", slugs=["red-shoes"])
    shop.slugs.append("Blue Shoes")
    with pytest.raises(FieldValidationError, match=r"Shop\.slugs: .*a slug is lower-case"):
        shop._to_wire_map()


def test_a_condition_on_a_custom_field_compares_its_stored_form() -> None:
    condition = Shop.email.eq("ANN@EXAMPLE.COM")
    assert isinstance(condition, Comparison)
    assert condition.value == {"S": "ann@example.com"}
    assert Shop.price.set(Decimal("1.25")).value == {"N": "125"}


# -- reads ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attr", "wire", "value"),
    [
        ("price", {"N": "1234"}, Decimal("12.34")),
        ("note", {"S": "  padded  "}, "padded"),
        ("ratio", {"N": "0.33333"}, 0.33),
        ("hidden", {"BOOL": False}, True),
        ("prices", {"L": [{"N": "150"}, {"N": "7"}]}, [Decimal("1.5"), Decimal("0.07")]),
        ("price_by_size", {"M": {"small": {"N": "99"}}}, {"small": Decimal("0.99")}),
        ("ranks", {"L": [{"N": "3"}, {"N": "1"}, {"N": "2"}]}, [1, 2, 3]),
    ],
)
def test_a_custom_field_reads_through_its_own_decoding(
    attr: str, wire: AttributeValue, value: Any
) -> None:
    item = {"pk": {"S": "p"}, attr: wire}
    decoded = Shop._meta.decode_item(item, False)  # the per-class codec, no fallback
    assert decoded[attr] == value
    assert repr(decoded[attr]) == repr(value)  # the types too
    assert repr(Shop._from_wire(item)._data[attr]) == repr(value)


def test_a_custom_field_round_trips_through_the_model() -> None:
    shop = Shop(pk="p", email="Ann@Example.com", price=Decimal("12.34"), ranks=[2, 1])
    back = Shop._from_wire(shop._to_wire_map())
    assert back.email == "ann@example.com"
    price: object = back.price
    assert price == Decimal("12.34")
    assert back.ranks == [1, 2]


# -- the library's own classes keep their fast path -------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        CharField(),
        IntegerField(),
        FloatField(),
        BooleanField(),
        VersionField(),
        ListField(of=IntegerField()),
        SetField(of=str),
    ],
    ids=repr,
)
def test_library_fields_keep_their_inline_codec(field: Field[Any]) -> None:
    assert field.inline_codec()[1] is not None


@pytest.mark.parametrize(
    "field",
    [Lower(), Cents(), Rounded(), Trimmed(), Inverted(), KeepsOffset(), Sorted(of=IntegerField())],
    ids=lambda field: type(field).__name__,
)
def test_custom_fields_get_the_generic_codec(field: Field[Any]) -> None:
    assert field.inline_codec() == (None, None)
    encode, decode = field.fast_codec()
    assert getattr(encode, "__func__", None) is type(field).to_wire
    expected = "from_wire" if type(field).from_wire is not Field.from_wire else "decode"
    assert getattr(decode, "__func__", None) is getattr(type(field), expected)


def test_a_field_that_only_adds_a_check_keeps_the_fast_path_for_its_own_values() -> None:
    assert Slug().inline_codec() == CharField().inline_codec()


def test_a_custom_element_field_is_encoded_by_its_own_to_wire() -> None:
    def slow(member: Any) -> AttributeValue:
        return {"S": "slow"}

    assert Lower().member_encoder(slow) is slow
    assert Slug().member_encoder(slow) is slow
    assert CharField().member_encoder(slow) is not slow


# -- the recipe of Field's docstring: a new Python type ---------------------------------


class Money(Field[Decimal]):
    """An amount with its currency, ``Decimal`` in Python, ``"12.34 EUR"`` on the wire."""

    key_type = "S"
    type_label = "a Decimal amount"

    def convert(self, value: Any) -> Decimal:
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}")
        return value

    def check(self, value: Decimal) -> None:
        super().check(value)
        if value < 0:
            raise ValueError("an amount cannot be negative")

    def to_wire(self, value: Decimal) -> AttributeValue:
        return {"S": f"{value} EUR"}

    def decode(self, attribute: AttributeValue) -> Decimal:
        amount, _currency = attribute["S"].split(" ")
        return Decimal(amount)

    def to_son(self, value: Decimal) -> Any:
        return str(value)


class Ledger(Model):
    __table_name__ = "unit_custom_fields_ledger"

    account = CharField(hash_key=True)
    amount = Money(range_key=True)


def test_a_field_type_for_a_new_python_type_follows_the_recipe() -> None:
    entry = Ledger(account="a", amount=Decimal("12.30"))
    assert entry._to_wire_map() == {"account": {"S": "a"}, "amount": {"S": "12.30 EUR"}}
    back = Ledger._from_wire(entry._to_wire_map())
    assert back.amount == Decimal("12.30")
    assert back.to_son() == {"account": "a", "amount": "12.30"}
    definitions = Ledger._meta.require_table().attribute_definitions()
    assert {"AttributeName": "amount", "AttributeType": "S"} in definitions
    with pytest.raises(FieldValidationError, match=r"Ledger\.amount: .*cannot be negative"):
        entry.amount = Decimal("-1")
    with pytest.raises(FieldValidationError, match=r"Ledger\.amount: .*expected a Decimal"):
        Ledger(account="a", amount=5)
