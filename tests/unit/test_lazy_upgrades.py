"""Lazy upgrades on read, without a server: ``__schema_version__`` and ``upgrade_to_N``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from dynamodb import CharField, IntegerField, ListField, Model, ModelDefinitionError, SetField
from dynamodb.exceptions import UpgradeError
from dynamodb.models.persistence import changes_of
from dynamodb.models.upgrades import SCHEMA_VERSION_ATTRIBUTE


class Lazy(Model):
    __table_name__ = "unit_lazy"
    __schema_version__ = 3

    id = CharField(hash_key=True)
    full_name = CharField()
    cents = IntegerField()
    tags = SetField(of=str)
    history = ListField()

    @staticmethod
    def upgrade_to_2(raw: dict[str, Any]) -> dict[str, Any]:
        raw["full_name"] = raw.pop("name", None)
        return raw

    @staticmethod
    def upgrade_to_3(raw: dict[str, Any]) -> None:  # in place
        raw["cents"] = int(raw.pop("total", 0) * 100)
        raw.setdefault("history", []).append(3)


V1: dict[str, Any] = {
    "id": {"S": "a"},
    "name": {"S": "Ann"},
    "total": {"N": "1.25"},
    "tags": {"SS": ["x"]},
}


def test_an_old_item_reads_in_the_current_shape() -> None:
    item = Lazy._from_wire(V1)
    assert item.to_dict() == {
        "id": "a",
        "full_name": "Ann",
        "cents": 125,
        "tags": {"x"},
        "history": [3],
    }


def test_steps_start_at_the_stored_version() -> None:
    v2: dict[str, Any] = {"id": {"S": "a"}, "full_name": {"S": "Ann"}, "total": {"N": "2"}}
    item = Lazy._from_wire({**v2, SCHEMA_VERSION_ATTRIBUTE: {"N": "2"}})
    assert (item.full_name, item.cents, item.history) == ("Ann", 200, [3])


def test_a_current_item_is_decoded_as_it_is() -> None:
    current = {"id": {"S": "a"}, "full_name": {"S": "B"}, SCHEMA_VERSION_ATTRIBUTE: {"N": "3"}}
    assert Lazy._from_wire(current).full_name == "B"


def test_the_next_save_writes_the_upgrade_and_the_version_back() -> None:
    item = Lazy._from_wire(V1)
    plan = changes_of(item)
    assert plan is not None
    written = {str(action.path): (action.kind, action.value) for action in plan._actions.values()}
    assert written == {
        "full_name": ("set", {"S": "Ann"}),
        "cents": ("set", {"N": "125"}),
        "history": ("set", {"L": [{"N": "3"}]}),
        "name": ("remove", None),  # what the steps popped is removed
        "total": ("remove", None),
        SCHEMA_VERSION_ATTRIBUTE: ("set", {"N": "3"}),
    }
    assert item._to_wire_map()[SCHEMA_VERSION_ATTRIBUTE] == {"N": "3"}


def test_a_new_item_is_written_with_the_version() -> None:
    assert Lazy(id="n")._to_wire_map() == {"id": {"S": "n"}, SCHEMA_VERSION_ATTRIBUTE: {"N": "3"}}


def test_a_partial_item_is_not_upgraded() -> None:
    item = Lazy._from_wire({"id": {"S": "a"}, "name": {"S": "Ann"}}, partial=True)
    assert item.full_name is None


def test_a_failing_step_names_the_model_and_step() -> None:
    with pytest.raises(
        UpgradeError, match=r"model Lazy: upgrade_to_3 failed on an item of version 2: ValueError"
    ):
        Lazy._from_wire({"id": {"S": "a"}, "total": {"S": "x"}})


def test_models_without_a_version_keep_the_generated_decoder() -> None:
    class Plain(Model):
        __table_name__ = "unit_lazy_plain"
        id = CharField(hash_key=True)

    assert Plain._meta.schema_version is None
    assert Plain._meta.decode_item.__name__ == "decode"  # the compiled one, not a wrapper
    assert SCHEMA_VERSION_ATTRIBUTE not in Plain(id="a")._to_wire_map()


def test_a_missing_step_is_a_definition_error() -> None:
    with pytest.raises(ModelDefinitionError, match=r"needs upgrade_to_2\(raw\)"):

        class Broken(Model):
            __table_name__ = "unit_lazy_broken"
            __schema_version__ = 2
            id = CharField(hash_key=True)

    with pytest.raises(ModelDefinitionError, match="must be a positive int, not '2'"):

        class Worse(Model):
            __table_name__ = "unit_lazy_worse"
            __schema_version__ = "2"
            id = CharField(hash_key=True)


def test_raw_values_are_plain_untyped_values() -> None:
    seen: list[dict[str, Any]] = []

    class Peek(Model):
        __table_name__ = "unit_lazy_peek"
        __schema_version__ = 2
        id = CharField(hash_key=True)

        @staticmethod
        def upgrade_to_2(raw: dict[str, Any]) -> dict[str, Any]:
            seen.append(dict(raw))
            return raw

    Peek._from_wire({"id": {"S": "a"}, "n": {"N": "1.5"}, "m": {"M": {"b": {"B": b"x"}}}})
    assert seen == [{"id": "a", "n": Decimal("1.5"), "m": {"b": b"x"}}]
