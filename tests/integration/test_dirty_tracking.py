"""Dirty tracking against DynamoDB Local: save() of a read item sends only what changed."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    Connection,
    DateTimeField,
    DecimalField,
    DictField,
    FloatField,
    IntegerField,
    ListField,
    MapField,
    MapModel,
    Model,
    SetField,
)


class Address(MapModel):
    city = CharField()
    zip_code = CharField()


class Profile(Model):
    __table_name__ = "test_dirty_tracking_profile"

    user_id = CharField(hash_key=True)
    name = CharField()
    email = CharField()
    age = IntegerField()
    ratio = FloatField()
    price = DecimalField()
    joined = DateTimeField()
    ids = ListField()
    doc = DictField()
    tags = SetField(of=str)
    address = MapField(Address)


class CountingConnection(Connection):
    """A real Connection that also records the requests it sends."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.sent]

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.sent.append((operation, params))
        return super().send(operation, params)


def _connect(endpoint: str, kind: type[Connection] = Connection) -> Connection:
    return kind(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def profile_table(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(Profile, force=True)
    yield
    dynamodb.delete_table(Profile)


@pytest.fixture(scope="module")
def module_counting(dynamodb_endpoint: str) -> Iterator[CountingConnection]:
    conn = _connect(dynamodb_endpoint, CountingConnection)
    assert isinstance(conn, CountingConnection)
    yield conn
    conn.close()


@pytest.fixture
def counting(module_counting: CountingConnection, profile_table: None) -> CountingConnection:
    """A connection that records our requests (none recorded yet)."""
    module_counting.sent.clear()
    return module_counting


@pytest.fixture(scope="module")
def writer(dynamodb_endpoint: str, profile_table: None) -> Iterator[Connection]:
    """A second, independent client writing between our read and our save."""
    conn = _connect(dynamodb_endpoint)
    yield conn
    conn.close()


def new_id() -> str:
    return f"user-{uuid.uuid4().hex}"


@pytest.fixture
def profile(profile_table: None) -> Profile:
    """A full profile as stored and read back."""
    user_id = new_id()
    Profile.create(
        user_id=user_id,
        name="Ann",
        email="ann@example.com",
        age=30,
        ratio=0.1,
        price=Decimal("19.90"),
        joined=dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc),
        ids=[1, 2],
        doc={"a": 0, "nested": {"x": [1.5, "s"]}},
        tags={"red"},
        address=Address(city="Oslo", zip_code="0150"),
    )
    found = Profile.get(consistent=True, user_id=user_id)
    assert found is not None
    return found


def fresh(item: Profile) -> Profile:
    found = Profile.get(consistent=True, user_id=item.user_id)
    assert found is not None
    return found


def raw(item: Profile) -> dict[str, Any]:
    """The item's stored AttributeValues."""
    response = dynamodb.get_connection().send(
        "GetItem",
        {"TableName": Profile.__table_name__, "Key": item._key(), "ConsistentRead": True},
    )
    found: dict[str, Any] = response["Item"]
    return found


def sent_names(params: dict[str, Any]) -> set[str]:
    names: dict[str, str] = params.get("ExpressionAttributeNames", {})
    return set(names.values())


# -- only what changed is sent ------------------------------------------------------------------


def test_a_concurrent_writers_attribute_survives_a_save(
    profile: Profile, writer: Connection, counting: CountingConnection
) -> None:
    Profile(user_id=profile.user_id).update(email="new@example.com", connection=writer)
    profile.name = "Bob"
    profile.save(connection=counting)

    assert counting.operations == ["UpdateItem"]
    stored = fresh(profile)
    assert stored.name == "Bob"
    assert stored.email == "new@example.com"
    # The saved item holds what DynamoDB holds, the other writer's change included.
    assert profile == stored


def test_the_update_names_only_the_changed_attributes(
    profile: Profile, counting: CountingConnection
) -> None:
    profile.name = "Bob"
    profile.age = None
    profile.save(connection=counting)
    ((operation, params),) = counting.sent
    assert operation == "UpdateItem"
    # The key guard names the hash key; nothing else but the changes is named.
    assert sent_names(params) == {"name", "age", "user_id"}
    assert "attribute_exists" in params["ConditionExpression"]


@pytest.mark.parametrize(
    ("change", "attribute", "expected"),
    [
        pytest.param(lambda p: p.ids.append(3), "ids", [1, 2, 3], id="list-append"),
        pytest.param(lambda p: p.doc.__setitem__("a", 1), "doc", None, id="dict-setitem"),
        pytest.param(lambda p: p.doc["nested"]["x"].append(None), "doc", None, id="deep-in-place"),
        pytest.param(lambda p: p.tags.add("x"), "tags", {"red", "x"}, id="set-add"),
        pytest.param(lambda p: p.tags.discard("red"), "tags", set(), id="set-emptied"),
        pytest.param(
            lambda p: setattr(p.address, "city", "Bergen"), "address", None, id="map-model"
        ),
    ],
)
def test_in_place_changes_count(
    profile: Profile,
    writer: Connection,
    counting: CountingConnection,
    change: Callable[[Profile], None],
    attribute: str,
    expected: Any,
) -> None:
    Profile(user_id=profile.user_id).update(email="theirs@example.com", connection=writer)
    change(profile)
    wanted = getattr(profile, attribute)
    profile.save(connection=counting)
    assert counting.operations == ["UpdateItem"]
    stored = fresh(profile)
    assert getattr(stored, attribute) == wanted
    if expected is not None:
        assert wanted == expected
    assert stored.email == "theirs@example.com"


def test_the_in_place_change_of_a_dict_is_stored(profile: Profile) -> None:
    profile.doc["a"] = 1
    profile.doc["nested"]["x"].append(None)
    profile.save()
    assert fresh(profile).doc == {"a": 1, "nested": {"x": [1.5, "s", None]}}


def test_setting_a_field_to_none_removes_the_attribute(
    profile: Profile, counting: CountingConnection
) -> None:
    profile.email = None
    profile.tags = set()
    profile.save(connection=counting)
    assert counting.operations == ["UpdateItem"]
    stored = raw(profile)
    assert "email" not in stored
    assert "tags" not in stored
    assert stored["name"] == {"S": "Ann"}
    assert fresh(profile).email is None
    assert fresh(profile).tags == set()


# -- nothing changed: nothing sent ---------------------------------------------------------------


@pytest.mark.parametrize(
    "touch",
    [
        pytest.param(lambda p: None, id="untouched"),
        pytest.param(lambda p: setattr(p, "name", "Ann"), id="same-value"),
        pytest.param(lambda p: setattr(p, "ids", [1, 2]), id="equal-new-list"),
        pytest.param(lambda p: setattr(p, "price", Decimal("19.9")), id="equal-number"),
        pytest.param(lambda p: setattr(p, "ratio", 0.1), id="same-float"),
        pytest.param(
            lambda p: setattr(p, "joined", dt.datetime(2024, 5, 1, 12, 0)), id="naive-utc"
        ),
        pytest.param(lambda p: p.tags.add("red"), id="member-already-there"),
        pytest.param(lambda p: (p.ids.append(3), p.ids.pop()), id="changed-back"),
    ],
)
def test_no_change_sends_no_request(
    profile: Profile, counting: CountingConnection, touch: Callable[[Profile], Any]
) -> None:
    touch(profile)
    assert profile.save(connection=counting) is profile
    assert counting.operations == []


def test_a_second_save_after_a_save_sends_nothing(
    profile: Profile, counting: CountingConnection
) -> None:
    profile.age = 31
    profile.save(connection=counting)
    profile.save(connection=counting)
    assert counting.operations == ["UpdateItem"]


def test_a_created_item_saved_unchanged_sends_nothing(
    profile_table: None, counting: CountingConnection
) -> None:
    item = Profile.create(user_id=new_id(), name="Cy", ids=[1], price=Decimal("1.50"))
    item.save(connection=counting)
    assert counting.operations == []
    item.ids.append(2)
    item.save(connection=counting)
    assert counting.operations == ["UpdateItem"]
    assert fresh(item).ids == [1, 2]


async def test_asave_sends_only_changes(
    profile: Profile, writer: Connection, aconnection: Connection
) -> None:
    Profile(user_id=profile.user_id).update(age=99, connection=writer)
    profile.name = "Async"
    await profile.asave()
    stored = fresh(profile)
    assert (stored.name, stored.age) == ("Async", 99)


# -- whole puts -----------------------------------------------------------------------------


def test_save_full_puts_the_whole_item(
    profile: Profile, writer: Connection, counting: CountingConnection
) -> None:
    Profile(user_id=profile.user_id).update(email="theirs@example.com", connection=writer)
    profile.name = "Bob"
    profile.save(full=True, connection=counting)
    assert counting.operations == ["PutItem"]
    stored = fresh(profile)
    assert stored.name == "Bob"
    assert stored.email == "ann@example.com"  # the other writer's change is overwritten
    assert stored == profile


def test_a_new_items_save_is_a_put_then_changes_are_updates(
    profile_table: None, counting: CountingConnection
) -> None:
    item = Profile(user_id=new_id(), name="Dee", tags={"a"})
    item.save(connection=counting)
    assert counting.operations == ["PutItem"]
    assert fresh(item) == item
    item.name = "Dee Dee"
    item.save(connection=counting)
    assert counting.operations == ["PutItem", "UpdateItem"]
    assert fresh(item).name == "Dee Dee"


def test_a_new_item_over_a_stored_one_replaces_it(profile: Profile) -> None:
    Profile(user_id=profile.user_id, name="Replacement").save()
    stored = fresh(profile)
    assert stored.name == "Replacement"
    assert stored.email is None


def test_a_changed_key_saves_a_new_item(profile: Profile, counting: CountingConnection) -> None:
    old_id = profile.user_id
    profile.user_id = new_id()
    profile.name = "Copy"
    profile.save(connection=counting)
    assert counting.operations == ["PutItem"]
    copy = fresh(profile)
    assert copy.name == "Copy"
    assert copy.email == "ann@example.com"  # the whole item was written
    original = Profile.get(consistent=True, user_id=old_id)
    assert original is not None
    assert original.name == "Ann"
    # The copy is now the stored item: a further change is an update of it.
    profile.age = 1
    profile.save(connection=counting)
    assert counting.operations == ["PutItem", "UpdateItem"]
    assert fresh(profile).age == 1


# -- guards ------------------------------------------------------------------------------------


def test_a_dirty_save_of_an_item_deleted_meanwhile_fails(
    profile: Profile, writer: Connection
) -> None:
    Profile.delete_by_key(user_id=profile.user_id, connection=writer)
    profile.name = "Ghost"
    with pytest.raises(ConditionalCheckFailed) as raised:
        profile.save()
    assert raised.value.item is None  # there is no stored item
    assert Profile.get(consistent=True, user_id=profile.user_id) is None  # not re-created
    # A full save puts it back on purpose.
    profile.save(full=True)
    assert fresh(profile).name == "Ghost"


def test_a_dirty_save_with_a_condition(profile: Profile, writer: Connection) -> None:
    Profile(user_id=profile.user_id).update(age=40, connection=writer)
    profile.name = "Eve"
    with pytest.raises(ConditionalCheckFailed) as raised:
        profile.save(condition=Profile.age.eq(30))
    assert raised.value.item is not None
    assert raised.value.item["age"] == {"N": "40"}
    assert fresh(profile).name == "Ann"
    profile.save(condition=Profile.age.eq(40))
    assert fresh(profile).name == "Eve"


def test_a_failed_save_keeps_the_changes_for_the_next_save(
    profile: Profile, counting: CountingConnection
) -> None:
    profile.name = "Fay"
    with pytest.raises(ConditionalCheckFailed):
        profile.save(condition=Profile.age.eq(0), connection=counting)
    profile.save(connection=counting)
    assert counting.operations == ["UpdateItem", "UpdateItem"]
    assert fresh(profile).name == "Fay"
