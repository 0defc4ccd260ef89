"""Key templates without a server: parsing, rendering, definitions, keys by parts, planning."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dynamodb import (
    CharField,
    DateTimeField,
    FieldValidationError,
    IntegerField,
    KeyUpdateError,
    Model,
    ModelDefinitionError,
    NoIndexForQuery,
    QueryError,
    UnknownField,
)
from dynamodb.core.templates import HIGHEST, KeyTemplate
from dynamodb.models.single_table.entities import shared_schema

T0 = dt.datetime(2026, 1, 5, 10, tzinfo=dt.timezone.utc)
STORED_T0 = "2026-01-05T10:00:00.000000+00:00"


class Account(Model):
    __table_name__ = "unit_templates_app"
    pk = CharField(hash_key=True, template="ACCOUNT#{account_id}")
    sk = CharField(range_key=True, template="ACCOUNT")
    gsi1pk = CharField(template="EMAIL#{email}")
    gsi1sk = CharField(template="ACCOUNT")
    __secondary_indexes__ = {  # noqa: RUF012
        "gsi1": {"hash_key": "gsi1pk", "range_key": "gsi1sk", "projections": "ALL"}
    }
    account_id = CharField(required=True)
    email = CharField()


class Invoice(Model):
    __table_name__ = "unit_templates_app"
    pk = CharField(hash_key=True, template="ACCOUNT#{account_id}")
    sk = CharField(range_key=True, template="INVOICE#{issued_at}#{number:06d}")
    gsi1pk = CharField(template="STATE#{state}")
    gsi1sk = CharField(template="{issued_at}")
    __secondary_indexes__ = {  # noqa: RUF012
        "gsi1": {"hash_key": "gsi1pk", "range_key": "gsi1sk", "projections": "ALL"}
    }
    account_id = CharField(required=True)
    number = IntegerField(required=True)
    issued_at = DateTimeField(required=True)
    state = CharField()
    amount = IntegerField()


# -- the pure template ------------------------------------------------------------------


def test_a_template_parses_into_literals_parts_and_specs() -> None:
    template = KeyTemplate.parse("ORDER#{created_at}#{n:08d}!", "t")
    assert template.names == ("created_at", "n")
    assert [part.literal for part in template.parts] == ["ORDER#", "#"]
    assert template.parts[1].spec == "08d"
    assert template.tail == "!"
    assert template.prefix == "ORDER#"
    assert template.render({"created_at": "x", "n": "00000007"}) == "ORDER#x#00000007!"


def test_a_constant_template_renders_itself() -> None:
    template = KeyTemplate.parse("PROFILE", "t")
    assert template.names == ()
    assert template.render({}) == "PROFILE"
    assert template.bound_prefix({}) == ("PROFILE", 0)


def test_bound_prefix_stops_at_the_first_unknown_part() -> None:
    template = KeyTemplate.parse("A#{a}#B#{b}#{c}", "t")
    assert template.bound_prefix({}) == ("A#", 0)
    assert template.bound_prefix({"a": "1"}) == ("A#1#B#", 1)
    assert template.bound_prefix({"a": "1", "c": "3"}) == ("A#1#B#", 1)
    assert template.bound_prefix({"a": "1", "b": "2", "c": "3"}) == ("A#1#B#2#3", 3)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("", "non-empty"),
        ("X#{}", "must name a field"),
        ("X#{a.b}", "must name a field"),
        ("X#{a!r}", "conversions are not allowed"),
        ("X#{a}{a}", "names a part twice"),
        ("X#{a", "expected '}'"),
    ],
)
def test_bad_templates_are_refused_when_the_field_is_made(source: str, problem: str) -> None:
    with pytest.raises(ModelDefinitionError, match=problem):
        CharField(template=source)


# -- definitions ------------------------------------------------------------------------


def test_a_part_must_be_a_field_of_the_model() -> None:
    with pytest.raises(ModelDefinitionError, match=r"\{user\} is not a field of Broken"):

        class Broken(Model):
            __table_name__ = "unit_templates_broken"
            pk = CharField(hash_key=True, template="U#{user}")


def test_a_templated_field_is_a_char_field() -> None:
    with pytest.raises(ModelDefinitionError, match="must be a CharField"):

        class Broken(Model):
            __table_name__ = "unit_templates_broken2"
            pk = IntegerField(hash_key=True, template="{n}")
            n = IntegerField()


def test_a_part_cannot_be_templated_itself() -> None:
    with pytest.raises(ModelDefinitionError, match="templated itself"):

        class Broken(Model):
            __table_name__ = "unit_templates_broken3"
            pk = CharField(hash_key=True, template="A#{sk}")
            sk = CharField(range_key=True, template="B")


def test_models_of_one_table_must_agree_on_its_keys() -> None:
    with pytest.raises(ModelDefinitionError, match="their table keys differ"):

        class Other(Model):
            __table_name__ = "unit_templates_app"
            pk = CharField(hash_key=True)  # no range key, unlike Account and Invoice


def test_models_of_one_table_must_agree_on_an_index_they_both_declare() -> None:
    with pytest.raises(ModelDefinitionError, match="index 'gsi1' with different keys"):

        class Other(Model):
            __table_name__ = "unit_templates_app"
            pk = CharField(hash_key=True)
            sk = CharField(range_key=True)
            other = CharField()
            __secondary_indexes__ = {"gsi1": {"hash_key": "other"}}  # noqa: RUF012


def test_versions_of_one_entity_need_not_agree() -> None:
    class Old(Model):
        __table_name__ = "unit_templates_versions"
        __entity__ = "Thing"
        pk = CharField(hash_key=True)

    class New(Model):
        __table_name__ = "unit_templates_versions"
        __entity__ = "Thing"
        pk = CharField(hash_key=True)
        sk = IntegerField(range_key=True)

    assert New._meta.entity_tag is None  # one entity: not a shared table
    assert Old._meta.entity == New._meta.entity == "Thing"


def test_unique_fields_need_string_table_keys_and_plain_fields() -> None:
    with pytest.raises(ModelDefinitionError, match="must then be strings"):

        class Numbered(Model):
            __table_name__ = "unit_templates_numbered"
            n = IntegerField(hash_key=True)
            email = CharField(unique=True)

    with pytest.raises(ModelDefinitionError, match="unique by itself"):

        class KeyUnique(Model):
            __table_name__ = "unit_templates_key_unique"
            pk = CharField(hash_key=True, unique=True)


# -- instances --------------------------------------------------------------------------


def test_templated_attributes_follow_their_parts() -> None:
    invoice = Invoice(account_id="a1", number=7, issued_at=T0, state="open")
    assert invoice.pk == "ACCOUNT#a1"
    assert invoice.sk == f"INVOICE#{STORED_T0}#000007"
    assert invoice.gsi1pk == "STATE#open"
    invoice.state = "paid"
    assert invoice.gsi1pk == "STATE#paid"
    invoice.state = None
    assert invoice.gsi1pk is None  # a sparse index leaves it out
    wire = invoice._to_wire_map()
    assert "gsi1pk" not in wire
    assert wire["_type"] == {"S": "Invoice"}


def test_a_templated_attribute_cannot_be_set_by_hand() -> None:
    with pytest.raises(FieldValidationError, match=r"Invoice\.pk.*set its parts \(account_id\)"):
        Invoice(account_id="a1", number=1, issued_at=T0, pk="ACCOUNT#x")
    invoice = Invoice(account_id="a1", number=1, issued_at=T0)
    with pytest.raises(FieldValidationError, match="built from its template"):
        invoice.sk = "INVOICE#x"


def test_a_missing_key_part_is_named() -> None:
    with pytest.raises(FieldValidationError, match=r"built from .*ACCOUNT#\{account_id\}"):
        Invoice(number=1, issued_at=T0)._to_wire_map()


def test_keys_are_built_from_parts_or_taken_as_they_are() -> None:
    by_parts = Invoice._key_from_values({"account_id": "a1", "issued_at": T0, "number": 3})
    assert by_parts == {"pk": {"S": "ACCOUNT#a1"}, "sk": {"S": f"INVOICE#{STORED_T0}#000003"}}
    raw = Invoice._key_from_values({"pk": "ACCOUNT#a1", "sk": "INVOICE#x"})
    assert raw == {"pk": {"S": "ACCOUNT#a1"}, "sk": {"S": "INVOICE#x"}}
    with pytest.raises(UnknownField, match=r"needs issued_at, number"):
        Invoice._key_from_values({"account_id": "a1"})
    with pytest.raises(UnknownField, match=r"unknown parts \['state'\]"):
        Invoice._key_from_values({"account_id": "a1", "state": "x"})


def test_an_update_of_a_part_sets_what_is_built_from_it() -> None:
    from dynamodb.models.persistence import prepare_update

    invoice = Invoice._key_instance({"account_id": "a1", "issued_at": T0, "number": 3})
    plan = invoice._update_plan([], {"state": "paid"}, "update()")
    request = prepare_update(invoice, plan).params
    names = request["ExpressionAttributeNames"]
    assert set(names.values()) >= {"state", "gsi1pk", "_type"}
    assert {"S": "STATE#paid"} in request["ExpressionAttributeValues"].values()
    with pytest.raises(KeyUpdateError, match=r"account_id \(a part of pk\)"):
        prepare_update(invoice, invoice._update_plan([], {"account_id": "a2"}, "update()"))


# -- planning ---------------------------------------------------------------------------


def _explain(query: Any) -> dict[str, Any]:
    request: dict[str, Any] = query.explain()
    values = request.get("ExpressionAttributeValues", {})
    names = request.get("ExpressionAttributeNames", {})
    text = request["KeyConditionExpression"]
    for placeholder, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(placeholder, name)
    for placeholder, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(placeholder, f"'{next(iter(value.values()))}'")
    return {
        "index": request.get("IndexName"),
        "key": text,
        "filter": request.get("FilterExpression"),
    }


def test_a_query_by_the_hash_parts_reads_the_entity_prefix() -> None:
    plan = _explain(Invoice.query().where(Invoice.account_id.eq("a1")))
    assert plan["index"] is None
    assert plan["key"] == "(pk = 'ACCOUNT#a1') AND (begins_with(sk, 'INVOICE#'))"


def test_a_range_on_a_part_stays_inside_the_prefix() -> None:
    query = Invoice.query().where(Invoice.account_id.eq("a1"), Invoice.issued_at.gte(T0))
    plan = _explain(query)
    assert plan["key"] == (
        f"(pk = 'ACCOUNT#a1') AND (sk BETWEEN 'INVOICE#{STORED_T0}' AND 'INVOICE#{HIGHEST}')"
    )
    below = _explain(Invoice.query().where(Invoice.account_id.eq("a1"), Invoice.issued_at.lt(T0)))
    assert below["key"].endswith(f"BETWEEN 'INVOICE#' AND 'INVOICE#{STORED_T0}{HIGHEST}')")


def test_every_part_bound_is_an_equality() -> None:
    query = Invoice.query().where(
        Invoice.account_id.eq("a1"), Invoice.issued_at.eq(T0), Invoice.number.eq(9)
    )
    plan = _explain(query)
    assert plan["key"] == f"(pk = 'ACCOUNT#a1') AND (sk = 'INVOICE#{STORED_T0}#000009')"
    assert plan["filter"] == "#n2 = :v2"  # only the entity is filtered


def test_order_by_a_part_reads_the_range_key() -> None:
    query = (
        Invoice.query().where(Invoice.account_id.eq("a1")).order_by(Invoice.issued_at, asc=False)
    )
    assert query.explain()["ScanIndexForward"] is False
    with pytest.raises(NoIndexForQuery, match="ordered by its range key"):
        Invoice.query().where(Invoice.account_id.eq("a1")).order_by(Invoice.number).explain()


def test_an_index_is_chosen_by_its_parts() -> None:
    assert _explain(Invoice.query().where(Invoice.state.eq("open")))["index"] == "gsi1"
    assert _explain(Account.query().where(Account.email.eq("a@b.c"))) == {
        "index": "gsi1",
        "key": "(gsi1pk = 'EMAIL#a@b.c') AND (gsi1sk = 'ACCOUNT')",
        "filter": "#n2 = :v2",
    }


def test_no_index_names_the_missing_parts() -> None:
    with pytest.raises(NoIndexForQuery) as raised:
        Invoice.query().where(Invoice.amount.gt(3)).explain()
    message = str(raised.value)
    assert "the table needs eq() conditions on account_id" in message
    assert "global index 'gsi1' needs eq() conditions on state" in message


def test_two_ranges_on_one_part_are_refused() -> None:
    query = Invoice.query().where(
        Invoice.account_id.eq("a1"), Invoice.issued_at.gte(T0), Invoice.issued_at.lte(T0)
    )
    with pytest.raises(QueryError, match="combine them with between"):
        query.explain()


def test_the_shared_table_has_every_index_with_the_entity_projected() -> None:
    class Tagged(Model):
        __table_name__ = "unit_templates_app"
        pk = CharField(hash_key=True, template="TAG#{tag}")
        sk = CharField(range_key=True, template="TAG")
        tag = CharField()
        gsi2pk = CharField(template="T#{tag}")
        __secondary_indexes__ = {"gsi2": {"hash_key": "gsi2pk"}}  # noqa: RUF012

    schema = shared_schema(Account)
    assert sorted(schema.indexes) == ["gsi1", "gsi2"]
    assert schema.indexes["gsi2"].projection_type == "INCLUDE"
    assert schema.indexes["gsi2"].projected == ("_type",)
    assert Tagged._meta.entity_tag == ("_type", "Tagged")


def test_a_subclass_with_its_own_table_is_not_an_entity_of_its_base() -> None:
    class Base(Model):
        __table_name__ = "unit_templates_base"
        pk = CharField(hash_key=True)

    class Elsewhere(Base):
        __table_name__ = "unit_templates_elsewhere"

    class Same(Base):
        pass

    assert Elsewhere._meta.table_name == "unit_templates_elsewhere"
    assert Elsewhere._meta.entity_tag is None
    assert Same._meta.table_name == "unit_templates_base"
    assert Same._meta.entity_tag == ("_type", "Same")
    assert Base._meta.readable_entities == ("Base", "Same")
