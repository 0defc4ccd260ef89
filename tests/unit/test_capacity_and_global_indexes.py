"""Two spellings of the original dynamodb-py, without a server.

- Capacity assigned after the class statement (``Test.ReadCapacityUnits = 50``)
  reaches the next CreateTable / UpdateTable payload; a bad value is refused when
  it is assigned.
- ``__global_indexes__ = [(name, (hash_key, range_key), [projected fields])]``
  (its ``examples/movies.py``) declares the same global indexes as
  ``__secondary_indexes__``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import dynamodb
from dynamodb import (
    BooleanField,
    CharField,
    DateTimeField,
    IntegerField,
    MockTransport,
    Model,
    ModelDefinitionError,
    Table,
)
from dynamodb.models.schema import TableSchema


def schema(model: type[Model]) -> TableSchema:
    assert model._meta.schema is not None
    return model._meta.schema


def described(model: type[Model]) -> dict[str, Any]:
    """What DescribeTable would say of the table the model's CreateTable makes."""
    request = copy.deepcopy(schema(model).create_table_request())
    description: dict[str, Any] = {
        **request,
        "TableStatus": "ACTIVE",
        "BillingModeSummary": {"BillingMode": request.pop("BillingMode")},
    }
    for index in description.get("GlobalSecondaryIndexes", []):
        index["IndexStatus"] = "ACTIVE"
    return description


# -- capacity assigned after the class statement --------------------------------------------


class Test(Model):
    """The dynamodb-py README's model."""

    __test__ = False
    __table_name__ = "unit_capacity_test"

    ReadCapacityUnits: ClassVar[int | None] = 100
    WriteCapacityUnits: ClassVar[int | None] = 120

    name = CharField(name="name", hash_key=True)
    score = IntegerField(name="score", range_key=True)
    owner = CharField()
    color = CharField()

    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "by_owner": {"hash_key": "owner"},  # the table's capacity
        "by_color": {"hash_key": "color", "read_capacity": 3, "write_capacity": 4},
    }


@pytest.fixture(autouse=True)
def capacity_restored() -> Iterator[None]:
    yield
    Test.ReadCapacityUnits = 100
    Test.WriteCapacityUnits = 120


def throughput(request: dict[str, Any]) -> tuple[int, int]:
    found = request["ProvisionedThroughput"]
    return found["ReadCapacityUnits"], found["WriteCapacityUnits"]


def index_throughput(request: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {index["IndexName"]: throughput(index) for index in request["GlobalSecondaryIndexes"]}


def test_a_capacity_assigned_later_reaches_create_table() -> None:
    Test.ReadCapacityUnits = 50
    request = schema(Test).create_table_request()
    assert throughput(request) == (50, 120)
    # An index without capacity of its own has the table's; one with its own keeps it.
    assert index_throughput(request) == {"by_owner": (50, 120), "by_color": (3, 4)}


def test_a_capacity_assigned_later_reaches_update_table() -> None:
    before = described(Test)
    Test.ReadCapacityUnits = 50
    assert schema(Test).update_table_requests(before) == [
        {
            "TableName": "unit_capacity_test",
            "ProvisionedThroughput": {"ReadCapacityUnits": 50, "WriteCapacityUnits": 120},
        },
        {
            "TableName": "unit_capacity_test",
            "GlobalSecondaryIndexUpdates": [
                {
                    "Update": {
                        "IndexName": "by_owner",
                        "ProvisionedThroughput": {
                            "ReadCapacityUnits": 50,
                            "WriteCapacityUnits": 120,
                        },
                    }
                }
            ],
        },
    ]
    Test.ReadCapacityUnits = 100
    assert schema(Test).update_table_requests(before) == []  # back as created: no change


def test_table_update_sends_the_assigned_capacity() -> None:
    """The seed's ``Test.ReadCapacityUnits = 50`` then ``Table(Test()).update()``."""
    stored = described(Test)
    sent: list[tuple[str, dict[str, Any]]] = []

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        sent.append((operation, params))
        if operation == "UpdateTable":
            if "ProvisionedThroughput" in params:
                stored["ProvisionedThroughput"] = params["ProvisionedThroughput"]
            for update in params.get("GlobalSecondaryIndexUpdates", []):
                for index in stored["GlobalSecondaryIndexes"]:
                    if index["IndexName"] == update["Update"]["IndexName"]:
                        index["ProvisionedThroughput"] = update["Update"]["ProvisionedThroughput"]
        return {"Table": stored}

    connection = dynamodb.Connection(transport=MockTransport(handler))
    Test.ReadCapacityUnits = 50
    description = Table(Test(), connection=connection).update()

    updates = [params for operation, params in sent if operation == "UpdateTable"]
    assert updates[0]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 50,
        "WriteCapacityUnits": 120,
    }
    assert throughput(description) == (50, 120)


def test_a_table_object_made_before_the_assignment_sees_it() -> None:
    table = Table(Test)
    Test.WriteCapacityUnits = 7
    assert throughput(table.schema.create_table_request()) == (100, 7)


@pytest.mark.parametrize("value", [0, -1, "50", 2.5, True])
def test_a_bad_capacity_is_refused_when_assigned(value: Any) -> None:
    with pytest.raises(ModelDefinitionError) as raised:
        Test.ReadCapacityUnits = value
    message = str(raised.value)
    assert message.startswith("model Test: ReadCapacityUnits must be a positive int")
    assert repr(value) in message
    assert Test.ReadCapacityUnits == 100  # not assigned


def test_switching_to_on_demand_takes_both_settings() -> None:
    Test.ReadCapacityUnits = None
    with pytest.raises(ModelDefinitionError, match=re.escape("give both ReadCapacityUnits")):
        schema(Test).create_table_request()


class OnDemandLater(Model):
    __table_name__ = "unit_capacity_on_demand_later"

    ReadCapacityUnits: ClassVar[int | None] = 2
    WriteCapacityUnits: ClassVar[int | None] = 2

    key = CharField(hash_key=True)
    owner = CharField()
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {"by_owner": {"hash_key": "owner"}}


def test_both_set_to_none_switch_to_on_demand() -> None:
    before = described(OnDemandLater)
    OnDemandLater.ReadCapacityUnits = None
    OnDemandLater.WriteCapacityUnits = None
    try:
        request = schema(OnDemandLater).create_table_request()
        assert request["BillingMode"] == "PAY_PER_REQUEST"
        assert "ProvisionedThroughput" not in request
        assert "ProvisionedThroughput" not in request["GlobalSecondaryIndexes"][0]
        assert schema(OnDemandLater).update_table_requests(before) == [
            {"TableName": "unit_capacity_on_demand_later", "BillingMode": "PAY_PER_REQUEST"}
        ]
    finally:
        OnDemandLater.ReadCapacityUnits = 2
        OnDemandLater.WriteCapacityUnits = 2


def test_on_demand_with_an_index_of_its_own_capacity_is_refused() -> None:
    Test.ReadCapacityUnits = None
    Test.WriteCapacityUnits = None
    with pytest.raises(ModelDefinitionError, match="index 'by_color': the table is on-demand"):
        schema(Test).create_table_request()


class Base(Model):
    __abstract__ = True
    ReadCapacityUnits = 5
    WriteCapacityUnits = 5
    key = CharField(hash_key=True)


class Child(Base):
    __table_name__ = "unit_capacity_child"


def test_a_subclass_sees_a_capacity_assigned_to_its_base() -> None:
    Base.ReadCapacityUnits = 9
    try:
        assert throughput(schema(Child).create_table_request()) == (9, 5)
        Child.ReadCapacityUnits = 11  # its own now
        Base.ReadCapacityUnits = 12
        assert throughput(schema(Child).create_table_request()) == (11, 5)
    finally:
        Base.ReadCapacityUnits = 5
        del Child.ReadCapacityUnits
    assert throughput(schema(Child).create_table_request()) == (5, 5)


# -- __global_indexes__ ------------------------------------------------------------------------


class Authentication(Model):
    """The original dynamodb-py's examples/movies.py model."""

    __table_name__ = "unit_authentication"

    ReadCapacityUnits = 100
    WriteCapacityUnits = 10

    APPROACH_MOBILE = "mobile"

    __global_indexes__: ClassVar[list[Any]] = [
        (
            "authentication_account_id-index",
            ("account_id", "approach"),
            ["account_id", "approach", "identity", "is_verified"],
        ),
    ]

    account_id = CharField(name="account_id")
    approach = CharField(name="approach", range_key=True)
    identity = CharField(name="identity", hash_key=True)
    is_verified = BooleanField(name="is_verified", default=False)
    date_created = DateTimeField(name="date_created")


class AuthenticationAsDynamix(Model):
    """The same index, in the dynamix spelling."""

    __table_name__ = "unit_authentication"

    ReadCapacityUnits = 100
    WriteCapacityUnits = 10

    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "authentication_account_id-index": {
            "hash_key": "account_id",
            "range_key": "approach",
            "projections": ["is_verified"],
        }
    }

    account_id = CharField(name="account_id")
    approach = CharField(name="approach", range_key=True)
    identity = CharField(name="identity", hash_key=True)
    is_verified = BooleanField(name="is_verified", default=False)
    date_created = DateTimeField(name="date_created")


def test_the_movies_example_index_in_create_table() -> None:
    request = schema(Authentication).create_table_request()
    assert request["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "authentication_account_id-index",
            "KeySchema": [
                {"AttributeName": "account_id", "KeyType": "HASH"},
                {"AttributeName": "approach", "KeyType": "RANGE"},
            ],
            # The keys are in every index: of the fields listed, only is_verified is named.
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["is_verified"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": 10},
        }
    ]
    assert {"AttributeName": "account_id", "AttributeType": "S"} in request["AttributeDefinitions"]
    assert request == schema(AuthenticationAsDynamix).create_table_request()


def global_indexes(**namespace: Any) -> dict[str, dict[str, Any]]:
    """The global indexes (by name) of a model declaring ``namespace``."""
    model = type(
        "Legacy",
        (Model,),
        {
            "__table_name__": "unit_legacy",
            "__module__": __name__,
            "pk": CharField(hash_key=True),
            "h": CharField(),
            "r": IntegerField(),
            "extra": CharField(),
            **namespace,
        },
    )
    request = schema(model).create_table_request()
    return {index["IndexName"]: index for index in request["GlobalSecondaryIndexes"]}


def global_index(**namespace: Any) -> dict[str, Any]:
    """The one global index of a model declaring ``namespace``."""
    (index,) = global_indexes(**namespace).values()
    return index


def keys_of(index: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key["AttributeName"], key["KeyType"]) for key in index["KeySchema"]]


@pytest.mark.parametrize("keys", [("h",), ["h"], "h"], ids=["tuple", "list", "bare name"])
def test_a_hash_only_index(keys: Any) -> None:
    index = global_index(__global_indexes__=[("by_h", keys, ["extra"])])
    assert keys_of(index) == [("h", "HASH")]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["extra"]}


@pytest.mark.parametrize(
    ("projected", "projection"),
    [
        ("ALL", {"ProjectionType": "ALL"}),
        ("KEYS_ONLY", {"ProjectionType": "KEYS_ONLY"}),
        ([], {"ProjectionType": "KEYS_ONLY"}),
        (["h", "r", "pk"], {"ProjectionType": "KEYS_ONLY"}),  # keys only, as listed
        (["extra", "extra"], {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["extra"]}),
    ],
)
def test_projected_fields(projected: Any, projection: dict[str, Any]) -> None:
    index = global_index(__global_indexes__=[("by_h", ("h", "r"), projected)])
    assert keys_of(index) == [("h", "HASH"), ("r", "RANGE")]
    assert index["Projection"] == projection


def test_an_entry_without_projected_fields_projects_the_keys() -> None:
    index = global_index(__global_indexes__=[("by_h", ("h", "r"))])
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_an_index_on_an_on_demand_table_has_no_throughput() -> None:
    index = global_index(__global_indexes__=[("by_h", ("h",), ["extra"])])
    assert "ProvisionedThroughput" not in index


Namespace = dict[str, Any]

_MALFORMED: list[tuple[str, Namespace, str]] = [
    (
        "a dict",
        {"__global_indexes__": {"by_h": ("h",)}},
        "__global_indexes__ must be a list: __global_indexes__ = [(name, (hash_key, range_key)",
    ),
    ("a string", {"__global_indexes__": "by_h"}, "__global_indexes__ must be a list"),
    ("an entry not a tuple", {"__global_indexes__": ["by_h"]}, "entry 'by_h' is not (name"),
    (
        "four parts",
        {"__global_indexes__": [("by_h", ("h",), [], "x")]},
        "is not (name, keys, fields)",
    ),
    ("a name not a string", {"__global_indexes__": [(1, ("h",), [])]}, "index name is not a"),
    (
        "three keys",
        {"__global_indexes__": [("by_h", ("h", "r", "extra"), [])]},
        "index 'by_h': keys must be (hash_key, range_key), (hash_key,) or a hash key name",
    ),
    ("no keys", {"__global_indexes__": [("by_h", (), [])]}, "index 'by_h': keys must be"),
    (
        "an unknown key",
        {"__global_indexes__": [("by_h", ("nope",), [])]},
        "index 'by_h': key 'nope' is not a field",
    ),
    (
        "an unknown projected field",
        {"__global_indexes__": [("by_h", ("h",), ["nope"])]},
        "index 'by_h': projections names an unknown field 'nope'",
    ),
    (
        "projected fields as one string",
        {"__global_indexes__": [("by_h", ("h",), "extra")]},
        "index 'by_h': projections must be a list of field names or 'ALL'",
    ),
    (
        "one name twice",
        {"__global_indexes__": [("by_h", ("h",), []), ("by_h", ("r",), [])]},
        "two indexes are named 'by_h'",
    ),
    (
        "one name in both spellings",
        {
            "__global_indexes__": [("by_h", ("h",), [])],
            "__secondary_indexes__": {"by_h": {"hash_key": "r"}},
        },
        "index 'by_h' is declared in both __secondary_indexes__ and __global_indexes__",
    ),
    (
        "a key that cannot be a key",
        {"flag": BooleanField(), "__global_indexes__": [("by_flag", ("flag",), [])]},
        "index 'by_flag': field flag cannot be an index key",
    ),
]


@pytest.mark.parametrize(
    ("namespace", "message"),
    [pytest.param(namespace, message, id=name) for name, namespace, message in _MALFORMED],
)
def test_malformed_global_indexes_are_refused(namespace: Namespace, message: str) -> None:
    with pytest.raises(ModelDefinitionError) as raised:
        global_index(**namespace)
    assert str(raised.value).startswith("model Legacy: ")
    assert message in str(raised.value)


def test_both_spellings_together_make_every_index() -> None:
    indexes = global_indexes(
        __global_indexes__=[("by_h", ("h",), [])],
        __secondary_indexes__={"by_r": {"hash_key": "r"}},
    )
    assert {name: keys_of(index) for name, index in indexes.items()} == {
        "by_r": [("r", "HASH")],
        "by_h": [("h", "HASH")],
    }
