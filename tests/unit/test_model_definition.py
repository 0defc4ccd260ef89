"""Model definitions are checked when the class statement runs.

Each mistake raises ModelDefinitionError with a message naming the model and
the field (or setting) at fault, before any request could be sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest

import dynamodb
from dynamodb import (
    BooleanField,
    CharField,
    DateTimeField,
    DictField,
    FieldValidationError,
    IntegerField,
    ListField,
    MapModel,
    Model,
    ModelDefinitionError,
    SetField,
)


def no_hash_key() -> None:
    class NoHashKey(Model):
        title = CharField()


def two_hash_keys() -> None:
    class TwoHashKeys(Model):
        first = CharField(hash_key=True)
        second = CharField(hash_key=True)


def two_range_keys() -> None:
    class TwoRangeKeys(Model):
        owner = CharField(hash_key=True)
        first = CharField(range_key=True)
        second = IntegerField(range_key=True)


def hash_and_range_on_one_field() -> None:
    class BothKeys(Model):
        owner = CharField(hash_key=True, range_key=True)


def list_hash_key() -> None:
    class ListHashKey(Model):
        tags = ListField(hash_key=True)


def bool_range_key() -> None:
    class BoolRangeKey(Model):
        owner = CharField(hash_key=True)
        active = BooleanField(range_key=True)


def duplicate_dynamodb_names() -> None:
    class DuplicateNames(Model):
        owner = CharField(hash_key=True)
        title = CharField(name="label")
        label = CharField()


def field_named_save() -> None:
    class SaveField(Model):
        owner = CharField(hash_key=True)
        save = CharField()  # type: ignore[assignment]


def field_named_to_son() -> None:
    class ToSonField(Model):
        owner = CharField(hash_key=True)
        to_son = CharField()  # type: ignore[assignment]


def field_with_underscore() -> None:
    class UnderscoreField(Model):
        owner = CharField(hash_key=True)
        _secret = CharField()


def indexed_without_range_key() -> None:
    class IndexedNoRange(Model):
        owner = CharField(hash_key=True)
        updated = IntegerField(indexed=True)


def indexed_key_field() -> None:
    class IndexedKey(Model):
        owner = CharField(hash_key=True)
        created = IntegerField(range_key=True, indexed=True)


def indexed_list() -> None:
    class IndexedList(Model):
        owner = CharField(hash_key=True)
        created = IntegerField(range_key=True)
        tags = ListField(indexed=True)


def local_projection_unknown() -> None:
    class LocalProjection(Model):
        owner = CharField(hash_key=True)
        created = IntegerField(range_key=True)
        updated = IntegerField(indexed=True, projections=["nowhere"])


def global_unknown_hash_key() -> None:
    class GlobalHash(Model):
        __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
            "by_user": {"hash_key": "user"}
        }
        owner = CharField(hash_key=True)


def global_unknown_range_key() -> None:
    class GlobalRange(Model):
        __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
            "by_owner": {"hash_key": "owner", "range_key": "stamp"}
        }
        owner = CharField(hash_key=True)


def global_unknown_option() -> None:
    class GlobalOption(Model):
        __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
            "by_owner": {"hash_key": "owner", "projection": ["title"]}
        }
        owner = CharField(hash_key=True)
        title = CharField()


def global_projection_unknown() -> None:
    class GlobalProjection(Model):
        __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
            "by_title": {"hash_key": "title", "projections": ["nowhere"]}
        }
        owner = CharField(hash_key=True)
        title = CharField()


def global_set_hash_key() -> None:
    class GlobalSetKey(Model):
        __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
            "by_tags": {"hash_key": "tags"}
        }
        owner = CharField(hash_key=True)
        tags = SetField()


def global_capacity_on_demand() -> None:
    class GlobalCapacity(Model):
        __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
            "by_title": {"hash_key": "title", "read_capacity": 1, "write_capacity": 1}
        }
        owner = CharField(hash_key=True)
        title = CharField()


def only_read_capacity() -> None:
    class OnlyRead(Model):
        ReadCapacityUnits = 5
        owner = CharField(hash_key=True)


def only_write_capacity() -> None:
    class OnlyWrite(Model):
        WriteCapacityUnits = 5
        owner = CharField(hash_key=True)


def zero_capacity() -> None:
    class ZeroCapacity(Model):
        ReadCapacityUnits = 0
        WriteCapacityUnits = 1
        owner = CharField(hash_key=True)


def two_indexes_one_name() -> None:
    class TwoIndexNames(Model):
        owner = CharField(hash_key=True)
        created = IntegerField(range_key=True)
        first = IntegerField(indexed=True, index_name="same")
        second = IntegerField(indexed=True, index_name="same")


def map_model_with_key() -> None:
    class KeyedAddress(MapModel):
        street = CharField(hash_key=True)


def map_model_indexed() -> None:
    class IndexedAddress(MapModel):
        street = CharField(indexed=True)


@pytest.mark.parametrize(
    ("define", "mentions"),
    [
        (no_hash_key, ["NoHashKey", "exactly one field with hash_key=True", "none"]),
        (two_hash_keys, ["TwoHashKeys", "exactly one field with hash_key=True", "first, second"]),
        (two_range_keys, ["TwoRangeKeys", "more than one field with range_key=True", "first"]),
        (hash_and_range_on_one_field, ["BothKeys", "field owner", "both hash_key and range_key"]),
        (list_hash_key, ["ListHashKey", "field tags (ListField) cannot be a key"]),
        (bool_range_key, ["BoolRangeKey", "field active (BooleanField) cannot be a key"]),
        (duplicate_dynamodb_names, ["DuplicateNames", "title and label", "'label'"]),
        (field_named_save, ["SaveField", "'save'", "Model method", "name='save'"]),
        (field_named_to_son, ["ToSonField", "'to_son'", "Model method"]),
        (field_with_underscore, ["UnderscoreField", "field _secret", "starts with '_'"]),
        (indexed_without_range_key, ["IndexedNoRange", "field updated", "range key"]),
        (indexed_key_field, ["IndexedKey", "field created is a table key"]),
        (indexed_list, ["IndexedList", "field tags (ListField) cannot be an index key"]),
        (local_projection_unknown, ["LocalProjection", "field updated", "'nowhere'"]),
        (global_unknown_hash_key, ["GlobalHash", "index 'by_user'", "hash_key 'user'"]),
        (global_unknown_range_key, ["GlobalRange", "index 'by_owner'", "range_key 'stamp'"]),
        (global_unknown_option, ["GlobalOption", "index 'by_owner'", "['projection']"]),
        (global_projection_unknown, ["GlobalProjection", "index 'by_title'", "'nowhere'"]),
        (global_set_hash_key, ["GlobalSetKey", "index 'by_tags'", "field tags"]),
        (global_capacity_on_demand, ["GlobalCapacity", "index 'by_title'", "on-demand"]),
        (only_read_capacity, ["OnlyRead", "ReadCapacityUnits and WriteCapacityUnits"]),
        (only_write_capacity, ["OnlyWrite", "ReadCapacityUnits and WriteCapacityUnits"]),
        (zero_capacity, ["ZeroCapacity", "ReadCapacityUnits must be a positive int"]),
        (two_indexes_one_name, ["TwoIndexNames", "two indexes are named 'same'"]),
        (map_model_with_key, ["KeyedAddress", "field street", "cannot be a key"]),
        (map_model_indexed, ["IndexedAddress", "field street", "indexed"]),
    ],
)
def test_definition_mistakes_raise_at_class_creation(
    define: Callable[[], None], mentions: list[str]
) -> None:
    with pytest.raises(ModelDefinitionError) as caught:
        define()
    message = str(caught.value)
    assert message.startswith("model ")
    for fragment in mentions:
        assert fragment in message


def test_model_definition_error_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        no_hash_key()


# -- a good definition ---------------------------------------------------------------------


class Article(Model):
    owner = CharField(hash_key=True)
    slug = CharField(range_key=True)
    title = CharField()


class Named(Model):
    __table_name__ = "unit_definition_named"
    owner = CharField(hash_key=True)


def test_table_name_defaults_to_the_class_name() -> None:
    assert Article._meta.schema is not None
    assert Article._meta.schema.table_name == "Article"
    assert Named._meta.schema is not None
    assert Named._meta.schema.table_name == "unit_definition_named"


def test_a_field_keeps_its_dynamodb_name_apart_from_its_python_name() -> None:
    class Renamed(Model):
        __table_name__ = "unit_definition_renamed"
        owner = CharField("owner-id", hash_key=True)
        saved = CharField(name="save")

    item = Renamed(owner="o", saved="yes")
    assert item._to_wire_map() == {"owner-id": {"S": "o"}, "save": {"S": "yes"}}
    assert item.get_primary_key_dict() == {"owner": "o"}


@pytest.mark.parametrize(
    ("kwargs", "unknown"),
    [
        ({"owner": "o", "slug": "s", "titel": "t"}, "['titel']"),
        ({"owner": "o", "b": 1, "a": 2}, "['a', 'b']"),
    ],
)
def test_unknown_constructor_arguments_are_refused_by_name(
    kwargs: dict[str, object], unknown: str
) -> None:
    with pytest.raises(TypeError) as caught:
        Article(**kwargs)
    message = str(caught.value)
    assert message.startswith(f"Article() got unknown fields {unknown}")
    assert "['owner', 'slug', 'title']" in message


def test_instances_compare_by_class_and_values() -> None:
    assert Article(owner="o", slug="s") == Article(owner="o", slug="s")
    assert Article(owner="o", slug="s") != Article(owner="o", slug="t")
    assert Article(owner="o") != Named(owner="o")


# -- abstract bases and map models ---------------------------------------------------------------


class Timestamped(Model):
    __abstract__ = True
    created = DateTimeField()
    notes = DictField(default={})


class Post(Timestamped):
    __table_name__ = "unit_definition_post"
    post_id = CharField(hash_key=True)


class Pinned(Post):
    __table_name__ = "unit_definition_pinned"
    rank = IntegerField()


def test_an_abstract_model_needs_no_keys_and_has_no_table() -> None:
    assert Timestamped._meta.schema is None
    with pytest.raises(TypeError, match="Timestamped is abstract: it has no table"):
        Timestamped._meta.require_table()


def test_an_abstract_model_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError, match=r"Timestamped is abstract \(no table\)"):
        Timestamped(notes={})


def test_a_subclass_of_an_abstract_model_inherits_its_fields() -> None:
    assert list(Post._meta.fields) == ["created", "notes", "post_id"]
    post = Post(post_id="p")
    assert post.notes == {}
    assert Post._meta.schema is not None
    assert Post._meta.schema.hash_key is Post.post_id
    assert Post._meta.schema.table_name == "unit_definition_post"


def test_a_subclass_of_a_concrete_model_inherits_keys_and_adds_fields() -> None:
    assert list(Pinned._meta.fields) == ["created", "notes", "post_id", "rank"]
    assert Pinned._meta.schema is not None
    assert Pinned._meta.schema.table_name == "unit_definition_pinned"
    assert Pinned(post_id="p", rank=1).rank == 1


def test_the_base_model_itself_is_abstract() -> None:
    with pytest.raises(TypeError, match="Model is abstract"):
        Model()


class Point(MapModel):
    x = IntegerField(required=True)
    y = IntegerField(default=0)


def test_a_map_model_can_be_instantiated_but_has_no_table() -> None:
    point = Point(x=1)
    assert (point.x, point.y) == (1, 0)
    assert Point._meta.schema is None
    with pytest.raises(TypeError, match="Point is a map model: it has no table"):
        Point._meta.require_table()


def test_a_map_model_refuses_unknown_arguments() -> None:
    with pytest.raises(TypeError, match=r"Point\(\) got unknown fields \['z'\]"):
        Point(x=1, z=2)


# -- inheritance: each model owns its fields ------------------------------------------------


class _Contact(Model):
    __abstract__ = True

    key = CharField(hash_key=True)
    email = CharField()


class _IndexedContact(_Contact):
    __table_name__ = "unit_indexed_contact"
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {"by_email": {"hash_key": "email"}}


class _PlainContact(_Contact):
    __table_name__ = "unit_plain_contact"


def test_an_index_on_an_inherited_field_does_not_leak_into_a_sibling() -> None:
    with pytest.raises(FieldValidationError, match="email"):
        _IndexedContact(key="a", email="")  # an index key cannot be empty
    assert _PlainContact(key="a", email="").email == ""  # the sibling has no such index
    assert _IndexedContact.email is not _PlainContact.email
    assert _IndexedContact.email.origin is _Contact.email


def test_the_base_class_field_works_for_a_subclass_item() -> None:
    tx = dynamodb.transaction()
    tx.update(_PlainContact(key="a"), _Contact.email.set("x@example.com"))
    (update,) = [action["Update"] for action in tx.request()["TransactItems"]]
    assert update["ExpressionAttributeValues"] == {":v0": {"S": "x@example.com"}}
    query = _PlainContact.query(_Contact.email).where(_PlainContact.key.eq("a"))
    assert set(query.explain()["ExpressionAttributeNames"].values()) == {"key", "email"}


def test_repr_of_a_query_never_raises() -> None:
    query = _PlainContact.query()  # no key condition yet: it cannot be planned
    text = repr(query)
    assert text.startswith("<Query of _PlainContact: not sendable yet (NoIndexForQuery")
    assert "TableName" in repr(query.where(_PlainContact.key.eq("a")))
