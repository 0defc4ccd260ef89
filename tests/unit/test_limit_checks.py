"""The model side of DynamoDB's limits: which attributes are keys, ``size()``, the errors.

No server: a ``MockTransport`` that fails the test if anything is sent stands in
for DynamoDB, since everything here is refused before a request.
"""

from __future__ import annotations

from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    ItemTooLarge,
    KeyTooLong,
    LimitViolation,
    MapModel,
    MockTransport,
    Model,
    NestingTooDeep,
)
from dynamodb.models.limit_checks import key_limits


class Sized(Model):
    __table_name__ = "limit_checks_sized"
    id = CharField(hash_key=True)
    size = IntegerField()  # a field may be called size: it hides the method


class Keyed(Model):
    __table_name__ = "limit_checks_keyed"
    owner = CharField(hash_key=True)
    name = CharField(range_key=True)
    label = CharField(indexed=True)
    email = CharField()
    __secondary_indexes__ = {  # noqa: RUF012
        "by_label": {"hash_key": "label"},
        "by_email": {"hash_key": "email", "range_key": "name"},
    }


class Address(MapModel):
    city = CharField()


def nothing_sent(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError(f"{operation} was sent")


CONNECTION = Connection(transport=MockTransport(nothing_sent))


def test_size_counts_the_item_as_dynamodb_does() -> None:
    item = Keyed(owner="o", name="é", label="l")
    # owner 5 + 1, name 4 + 2, label 5 + 1
    assert item.size() == 6 + 6 + 6
    assert Address(city="Köln").size() == 4 + 5


def test_a_field_called_size_hides_the_method_and_model_size_still_measures() -> None:
    item = Sized(id="a", size=12)
    assert item.size == 12
    assert Model.size(item) == 3 + 4 + 2  # id "a", size 12


def test_each_key_attribute_gets_its_tightest_limit() -> None:
    limits = key_limits(Keyed)
    assert limits["owner"] == (2048, "the hash key")
    assert limits["name"] == (1024, "the range key")  # also the range key of by_email
    # label is the range key of a local index (1,024) and the hash key of by_label (2,048).
    assert limits["label"][0] == 1024
    assert limits["label"][1].startswith("the range key of local index")
    assert limits["email"] == (2048, "the hash key of global index 'by_email'")


def test_a_limit_violation_is_a_field_validation_error_naming_the_model_key_and_field() -> None:
    with pytest.raises(KeyTooLong) as refused:
        Keyed(owner="o", name="n", label="l" * 1025).save(connection=CONNECTION)
    error = refused.value
    assert isinstance(error, dynamodb.FieldValidationError)
    assert isinstance(error, ValueError)
    assert (error.model, error.field, error.limit) == ("Keyed", "label", "range key")
    assert error.key == {"owner": "o", "name": "n"}
    assert error.keys == [error.key]
    assert error.violations == [error]


def test_one_item_with_several_problems_reports_them_all() -> None:
    item = Keyed(owner="o" * 3000, name="n", email="e" * 2049)
    with pytest.raises(LimitViolation) as refused:
        item.save(connection=CONNECTION)
    assert [type(found) for found in refused.value.violations] == [KeyTooLong, KeyTooLong]
    assert type(refused.value) is KeyTooLong  # all of one kind: that kind
    assert {found.field for found in refused.value.violations} == {"owner", "email"}


def test_the_size_error_names_the_largest_attributes() -> None:
    class Page(Model):
        __table_name__ = "limit_checks_pages"
        id = CharField(hash_key=True)
        text = CharField()
        note = CharField()
        doc = dynamodb.ListField()

    page = Page(id="p", text="t" * 400_000, note="n" * 20_000, doc=[[[]]])
    with pytest.raises(ItemTooLarge) as refused:
        page.save(connection=CONNECTION)
    assert refused.value.field == "text"
    assert "largest attributes: text 400,004 bytes, note 20,004 bytes, doc" in str(refused.value)
    deep: Any = []
    for _ in range(32):
        deep = [deep]
    with pytest.raises(NestingTooDeep, match="doc nests 34 levels deep"):
        Page(id="p", doc=deep).save(connection=CONNECTION)
