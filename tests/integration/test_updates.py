"""Updates against DynamoDB Local: the pending API of the dynamix seed, item.update(),
conditions, updates by key, atomic counters, and validation before sending."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConcurrentModification,
    ConditionalCheckFailed,
    Connection,
    DictField,
    FieldValidationError,
    IntegerField,
    ItemAlreadyExists,
    ListField,
    Model,
    SetField,
    UpdateConflict,
    VersionConflict,
)


class Thread(Model):
    """The seed's ForumThread, plus typed containers."""

    __table_name__ = "test_updates_forum_thread"

    forum_id = CharField(hash_key=True)
    thread_id = CharField(range_key=True)
    user_id = CharField()
    title = CharField()
    views = IntegerField()
    updated_at = IntegerField()
    tags = SetField(of=str)
    codes = SetField(of=int)
    user_reviews = ListField(default=[])
    scores = ListField(of=IntegerField())
    key_value_data = DictField()
    counts = DictField(of=IntegerField())


class Other(Model):
    __table_name__ = "test_updates_other"

    name = CharField(hash_key=True)
    views = IntegerField()


class CountingConnection(Connection):
    """A real Connection that also counts the requests it sends, by operation."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.operations: list[str] = []
        self._lock = threading.Lock()

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.operations.append(operation)
        return super().send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.operations.append(operation)
        return await super().asend(operation, params)


@pytest.fixture(scope="module")
def thread_table(connection: Connection) -> Iterator[None]:
    dynamodb.create_table(Thread, force=True)
    dynamodb.create_table(Other, force=True)
    yield
    dynamodb.delete_table(Thread)
    dynamodb.delete_table(Other)


def _connect(endpoint: str, kind: type[Connection] = Connection) -> Connection:
    return kind(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def module_counting(dynamodb_endpoint: str) -> Iterator[CountingConnection]:
    conn = _connect(dynamodb_endpoint, CountingConnection)
    assert isinstance(conn, CountingConnection)
    yield conn
    conn.close()


@pytest.fixture
def counting(module_counting: CountingConnection, thread_table: None) -> CountingConnection:
    """A connection that counts our requests (none counted yet)."""
    module_counting.operations.clear()
    return module_counting


@pytest.fixture(scope="module")
def writer(dynamodb_endpoint: str, thread_table: None) -> Iterator[Connection]:
    """A second, independent connection: another client writing meanwhile."""
    conn = _connect(dynamodb_endpoint)
    yield conn
    conn.close()


def new_key() -> dict[str, Any]:
    return {"forum_id": "science", "thread_id": f"physics_{uuid.uuid4().hex}"}


@pytest.fixture
def thread(thread_table: None) -> Thread:
    """The seed's thread, as stored and read back."""
    key = new_key()
    Thread.create(
        **key,
        title="gravitational field of a blackhole",
        user_id="me",
        views=10,
        updated_at=1000,
        tags={"physics", "gravity"},
        codes={1, 2, 3},
        user_reviews=["a", "b", "c"],
        scores=[1, 2, 3],
        key_value_data={"a": 1, "b": 2},
        counts={"x": 1},
    )
    found = Thread.get(consistent=True, **key)
    assert found is not None
    return found


def fresh(item: Thread) -> Thread:
    """The item as stored now (a strongly consistent read)."""
    found = Thread.get(consistent=True, **item.get_primary_key_dict())
    assert found is not None
    return found


def stored_attributes(connection: Connection, item: Model) -> dict[str, Any]:
    """The raw stored AttributeValues of ``item``."""
    response = connection.send(
        "GetItem",
        {"TableName": Thread.__table_name__, "Key": item._key(), "ConsistentRead": True},
    )
    found: dict[str, Any] = response["Item"]
    return found


# -- the pending API of the seed, one action at a time ---------------------------------------


def test_set_field(thread: Thread) -> None:
    thread.set_field(Thread.updated_at, 2000)
    assert thread.updated_at == 1000  # queued, not applied in memory
    thread.commit_changes()
    assert thread.updated_at == 2000
    assert thread == fresh(thread)
    assert thread.pending_changes == []


def test_add_to_field_adds_atomically_to_the_stored_value(
    thread: Thread, writer: Connection
) -> None:
    Thread(**thread.get_primary_key_dict()).update(updated_at=5000, connection=writer)
    thread.add_to_field(Thread.updated_at, 1000)
    thread.commit_changes()
    assert thread.updated_at == 6000  # added to what was stored, not to the 1000 we read
    assert thread == fresh(thread)


def test_add_to_field_on_a_missing_number_starts_at_zero(thread: Thread) -> None:
    thread.update(views=None)
    thread.add_to_field(Thread.views, 3)
    thread.commit_changes()
    assert thread.views == 3
    assert fresh(thread).views == 3


def test_update_to_dict_field_adds_new_keys_and_replaces_existing_ones(
    thread: Thread, writer: Connection
) -> None:
    # Another client adds a key meanwhile: the update touches only the keys given.
    Thread(**thread.get_primary_key_dict()).update(
        Thread.key_value_data["z"].set(26), connection=writer
    )
    thread.update_to_dict_field(Thread.key_value_data, {"c": 100, "b": 5})
    assert thread.key_value_data == {"a": 1, "b": 2}
    thread.commit_changes()
    assert thread.key_value_data == {"a": 1, "b": 5, "c": 100, "z": 26}
    assert thread == fresh(thread)


def test_update_to_dict_field_on_an_item_without_the_map_sets_the_whole_map(
    thread_table: None,
) -> None:
    key = new_key()
    Thread.create(**key, title="no map yet")
    item = Thread.get(consistent=True, **key)
    assert item is not None
    assert item.key_value_data is None
    item.update_to_dict_field(Thread.key_value_data, {"c": 100})
    item.update_to_dict_field(Thread.key_value_data, {"b": 5, "c": 101})
    item.commit_changes()
    assert item.key_value_data == {"b": 5, "c": 101}
    assert item == fresh(item)


def test_update_to_dict_field_typed_values(thread: Thread) -> None:
    thread.update_to_dict_field(Thread.counts, {"y": 2, "x": 10})
    thread.commit_changes()
    assert thread.counts == {"x": 10, "y": 2}
    assert thread == fresh(thread)


def test_remove_from_dict_field(thread: Thread) -> None:
    thread.update(Thread.key_value_data["c"].set(100))
    thread.remove_from_dict_field(Thread.key_value_data, ["a", "b"])
    thread.remove_from_dict_field(Thread.key_value_data, "no such key")
    thread.commit_changes()
    assert thread.key_value_data == {"c": 100}
    assert thread == fresh(thread)


def test_append_to_listfield_one_value_and_a_list(thread: Thread) -> None:
    thread.append_to_listfield(Thread.user_reviews, "100")
    thread.append_to_listfield(Thread.user_reviews, ["100", "101"])
    assert thread.user_reviews == ["a", "b", "c"]
    thread.commit_changes()
    assert thread.user_reviews == ["a", "b", "c", "100", "100", "101"]
    assert thread == fresh(thread)


def test_append_to_a_missing_list_creates_it(thread_table: None) -> None:
    key = new_key()
    Thread.create(**key, user_reviews=None)
    item = Thread.get(consistent=True, **key)
    assert item is not None
    assert item.user_reviews is None
    item.append_to_listfield(Thread.user_reviews, [{"stars": 5}, None])
    item.commit_changes()
    assert item.user_reviews == [{"stars": 5}, None]
    assert item == fresh(item)


def test_append_keeps_a_concurrent_append(thread: Thread, writer: Connection) -> None:
    Thread(**thread.get_primary_key_dict()).update(
        Thread.user_reviews.list_append(["theirs"]), connection=writer
    )
    thread.append_to_listfield(Thread.user_reviews, "ours")
    thread.commit_changes()
    assert thread.user_reviews == ["a", "b", "c", "theirs", "ours"]


def test_replace_by_index_in_listfield(thread: Thread) -> None:
    thread.replace_by_index_in_listfield(Thread.user_reviews, 1, "1000")
    thread.commit_changes()
    assert thread.user_reviews == ["a", "1000", "c"]
    assert thread == fresh(thread)


def test_replace_by_index_checks_a_typed_list(thread: Thread) -> None:
    with pytest.raises(FieldValidationError):
        thread.replace_by_index_in_listfield(Thread.scores, 0, "x")
    thread.replace_by_index_in_listfield(Thread.scores, 0, 9)
    thread.commit_changes()
    assert thread.scores == [9, 2, 3]


def test_remove_by_index_from_listfield(thread: Thread) -> None:
    thread.remove_by_index_from_listfield(Thread.user_reviews, 1)
    thread.commit_changes()
    assert thread.user_reviews == ["a", "c"]
    assert thread == fresh(thread)


def test_two_removals_by_index_apply_one_after_another(thread: Thread) -> None:
    thread.remove_by_index_from_listfield(Thread.user_reviews, 0)  # "a": ["b", "c"] is left
    thread.remove_by_index_from_listfield(Thread.user_reviews, 1)  # then "c"
    thread.commit_changes()
    assert thread.user_reviews == ["b"]
    assert thread == fresh(thread)


def test_add_to_setfield(thread: Thread) -> None:
    thread.add_to_setfield(Thread.tags, {"black_hole", "white_hole"})
    thread.commit_changes()
    assert thread.tags == {"physics", "gravity", "black_hole", "white_hole"}
    assert thread == fresh(thread)


def test_delete_from_setfield(thread: Thread) -> None:
    thread.delete_from_setfield(Thread.tags, {"gravity", "not there"})
    thread.commit_changes()
    assert thread.tags == {"physics"}
    assert thread == fresh(thread)


def test_deleting_every_member_leaves_an_empty_set(thread: Thread, connection: Connection) -> None:
    thread.delete_from_setfield(Thread.codes, {1, 2, 3})
    thread.commit_changes()
    assert thread.codes == set()
    assert fresh(thread).codes == set()
    assert "codes" not in stored_attributes(connection, thread)


def test_commit_changes_with_nothing_queued_sends_nothing(
    thread: Thread, counting: CountingConnection
) -> None:
    thread.commit_changes(connection=counting)
    assert counting.operations == []


def test_discard_changes_forgets_actions_and_conditions(
    thread: Thread, counting: CountingConnection
) -> None:
    thread.set_field(Thread.title, "discarded")
    thread.set_modify_conditions(Thread.views.eq(-1))
    thread.discard_changes()
    assert thread.pending_changes == []
    thread.commit_changes(connection=counting)
    assert counting.operations == []
    thread.set_field(Thread.title, "kept")
    thread.commit_changes(connection=counting)  # the discarded condition is gone too
    assert counting.operations == ["UpdateItem"]
    assert fresh(thread).title == "kept"


async def test_acommit_changes(thread: Thread, aconnection: Connection) -> None:
    thread.add_to_field(Thread.views, 5)
    thread.append_to_listfield(Thread.user_reviews, "async")
    await thread.acommit_changes()
    assert thread.views == 15
    assert thread.user_reviews == ["a", "b", "c", "async"]
    assert thread == fresh(thread)


# -- combinations within one commit ----------------------------------------------------------


def test_every_kind_of_action_on_different_paths_goes_into_one_update(
    thread: Thread, counting: CountingConnection
) -> None:
    thread.set_field(Thread.title, "new title")
    thread.add_to_field(Thread.views, 5)
    thread.add_to_field(Thread.updated_at, -1)
    thread.update_to_dict_field(Thread.key_value_data, {"c": 3})
    thread.remove_from_dict_field(Thread.key_value_data, ["a"])
    thread.append_to_listfield(Thread.user_reviews, ["d"])
    thread.replace_by_index_in_listfield(Thread.scores, 0, 9)
    thread.remove_by_index_from_listfield(Thread.scores, 2)
    thread.add_to_setfield(Thread.tags, {"new"})
    thread.delete_from_setfield(Thread.codes, {1})
    thread.update_to_dict_field(Thread.counts, {"y": 7})
    thread.commit_changes(connection=counting)

    assert counting.operations == ["UpdateItem"]
    assert thread.title == "new title"
    assert thread.views == 15
    assert thread.updated_at == 999
    assert thread.key_value_data == {"b": 2, "c": 3}
    assert thread.user_reviews == ["a", "b", "c", "d"]
    assert thread.scores == [9, 2]
    assert thread.tags == {"physics", "gravity", "new"}
    assert thread.codes == {2, 3}
    assert thread.counts == {"x": 1, "y": 7}
    assert thread.user_id == "me"  # untouched
    assert thread == fresh(thread)


def test_repeated_actions_on_one_field_merge(thread: Thread, counting: CountingConnection) -> None:
    thread.set_field(Thread.title, "first")
    thread.set_field(Thread.title, "second")
    thread.add_to_field(Thread.views, 1)
    thread.add_to_field(Thread.views, 2)
    thread.append_to_listfield(Thread.user_reviews, "x")
    thread.append_to_listfield(Thread.user_reviews, ["y", "z"])
    thread.add_to_setfield(Thread.tags, {"t1"})
    thread.add_to_setfield(Thread.tags, {"t2", "t1"})
    thread.delete_from_setfield(Thread.codes, {1})
    thread.delete_from_setfield(Thread.codes, {2})
    thread.update_to_dict_field(Thread.key_value_data, {"c": 1})
    thread.update_to_dict_field(Thread.key_value_data, {"c": 2, "d": 4})
    thread.remove_from_dict_field(Thread.key_value_data, ["a"])
    thread.remove_from_dict_field(Thread.key_value_data, ["a"])
    assert len(thread.pending_changes) == 8
    thread.commit_changes(connection=counting)

    assert counting.operations == ["UpdateItem"]
    assert thread.title == "second"
    assert thread.views == 13
    assert thread.user_reviews == ["a", "b", "c", "x", "y", "z"]
    assert thread.tags == {"physics", "gravity", "t1", "t2"}
    assert thread.codes == {3}
    assert thread.key_value_data == {"b": 2, "c": 2, "d": 4}
    assert thread == fresh(thread)


def test_set_field_of_a_map_then_update_to_dict_field_merge_into_one_map(thread: Thread) -> None:
    thread.set_field(Thread.key_value_data, {"p": 1})
    thread.update_to_dict_field(Thread.key_value_data, {"q": 2})
    thread.commit_changes()
    assert thread.key_value_data == {"p": 1, "q": 2}
    assert thread == fresh(thread)


Queue = Callable[[Thread], None]


def key_only(item: Thread) -> Thread:
    """The same item built from its key alone (never read)."""
    return Thread(**item.get_primary_key_dict())


def twin(item: Thread) -> Thread:
    """Another stored item holding what ``item`` holds, under a new key, as read."""
    values = {attr: getattr(item, attr) for attr in Thread._meta.fields}
    copy = Thread.create(**{**values, **new_key()})
    return fresh(copy)


def one_by_one(item: Thread, calls: list[Queue]) -> Thread:
    """Each call queued and committed alone, in order; the item as stored after."""
    for queue in calls:
        queue(item)
        item.commit_changes()
    return fresh(item)


def same_content(first: Thread, second: Thread) -> bool:
    """Whether two items hold the same values, keys aside."""
    skip = {"forum_id", "thread_id"}
    return all(
        getattr(first, attr) == getattr(second, attr)
        for attr in Thread._meta.fields
        if attr not in skip
    )


# Pairs of calls that DynamoDB cannot take as they are in one UpdateExpression (one path twice, or
# overlapping paths). Committed together they must give what they give one after another.
_SEQUENCES: list[tuple[str, list[Queue]]] = [
    (
        "set and add",
        [lambda t: t.set_field(Thread.views, 1), lambda t: t.add_to_field(Thread.views, 1)],
    ),
    (
        "add and set",
        [lambda t: t.add_to_field(Thread.views, 1), lambda t: t.set_field(Thread.views, 1)],
    ),
    (
        "add and delete members",
        [
            lambda t: t.add_to_setfield(Thread.tags, {"a", "b"}),
            lambda t: t.delete_from_setfield(Thread.tags, {"b", "physics"}),
        ],
    ),
    (
        "append and replace by index",
        [
            lambda t: t.append_to_listfield(Thread.user_reviews, "x"),
            lambda t: t.replace_by_index_in_listfield(Thread.user_reviews, 3, "y"),
        ],
    ),
    (
        "append and remove by index",
        [
            lambda t: t.append_to_listfield(Thread.user_reviews, "x"),
            lambda t: t.remove_by_index_from_listfield(Thread.user_reviews, 0),
        ],
    ),
    (
        "remove by index and append",
        [
            lambda t: t.remove_by_index_from_listfield(Thread.user_reviews, 0),
            lambda t: t.append_to_listfield(Thread.user_reviews, "x"),
        ],
    ),
    (
        "remove by index and replace by index",
        [
            lambda t: t.remove_by_index_from_listfield(Thread.user_reviews, 0),
            lambda t: t.replace_by_index_in_listfield(Thread.user_reviews, 0, "y"),
        ],
    ),
    (
        "replace by index past the end, twice",
        [
            lambda t: t.replace_by_index_in_listfield(Thread.user_reviews, 7, "x"),
            lambda t: t.replace_by_index_in_listfield(Thread.user_reviews, 7, "y"),
        ],
    ),
    (
        "set a list and append",
        [
            lambda t: t.set_field(Thread.user_reviews, ["x"]),
            lambda t: t.append_to_listfield(Thread.user_reviews, "y"),
        ],
    ),
    (
        "set a map and remove a key",
        [
            lambda t: t.set_field(Thread.key_value_data, {"a": 1, "z": 2}),
            lambda t: t.remove_from_dict_field(Thread.key_value_data, ["a"]),
        ],
    ),
    (
        "delete and add members",
        [
            lambda t: t.delete_from_setfield(Thread.codes, {1, 2}),
            lambda t: t.add_to_setfield(Thread.codes, {2, 5}),
        ],
    ),
]

# The pairs DynamoDB can take exactly in one UpdateExpression, whatever is stored.
_EXACT = {"set and add", "add and set", "set a list and append", "set a map and remove a key"}


@pytest.mark.parametrize("calls", [pytest.param(calls, id=name) for name, calls in _SEQUENCES])
def test_one_commit_of_a_read_item_equals_the_calls_one_after_another(
    thread: Thread, counting: CountingConnection, calls: list[Queue]
) -> None:
    expected = one_by_one(twin(thread), calls)
    for queue in calls:
        queue(thread)
    thread.commit_changes(connection=counting)

    assert counting.operations == ["UpdateItem"]
    assert same_content(fresh(thread), expected)
    assert thread == fresh(thread)


@pytest.mark.parametrize(
    "calls", [pytest.param(calls, id=name) for name, calls in _SEQUENCES if name in _EXACT]
)
def test_exact_sequences_need_no_read(
    thread: Thread, counting: CountingConnection, calls: list[Queue]
) -> None:
    expected = one_by_one(twin(thread), calls)
    item = key_only(thread)
    for queue in calls:
        queue(item)
    item.commit_changes(connection=counting)

    assert counting.operations == ["UpdateItem"]
    assert same_content(fresh(thread), expected)


@pytest.mark.parametrize(
    ("first", "second"),
    [pytest.param(calls[0], calls[1], id=name) for name, calls in _SEQUENCES if name not in _EXACT],
)
def test_on_a_key_only_item_an_inexact_sequence_raises_before_any_request(
    thread: Thread, counting: CountingConnection, first: Queue, second: Queue
) -> None:
    before = fresh(thread)
    item = key_only(thread)
    first(item)
    queued = item.pending_changes
    with pytest.raises(UpdateConflict, match="read the item first"):
        second(item)
    # The failed call queued nothing (not even part of it) and nothing was sent.
    assert item.pending_changes == queued
    assert counting.operations == []
    assert fresh(thread) == before
    # What was queued before the conflict can still be committed.
    item.commit_changes(connection=counting)
    assert counting.operations == ["UpdateItem"]


def readme_calls(now: int) -> list[Queue]:
    """The dynamix README's "Updating and commit_changes()" calls, in its order."""
    return [
        lambda t: t.set_field(Thread.updated_at, now),
        lambda t: t.add_to_field(Thread.updated_at, 1000),
        lambda t: t.update_to_dict_field(Thread.key_value_data, {"c": 100, "b": 5}),
        lambda t: t.remove_from_dict_field(Thread.key_value_data, ["a", "b"]),
        lambda t: t.append_to_listfield(Thread.user_reviews, "100"),
        lambda t: t.append_to_listfield(Thread.user_reviews, ["100", "101"]),
        lambda t: t.replace_by_index_in_listfield(Thread.user_reviews, 1, "1000"),
        lambda t: t.remove_by_index_from_listfield(Thread.user_reviews, 1),
        lambda t: t.add_to_setfield(Thread.tags, {"black_hole", "white_hole"}),
        lambda t: t.delete_from_setfield(Thread.tags, {"black_hole"}),
    ]


def test_the_readme_sequence_in_one_commit_equals_the_calls_one_after_another(
    thread: Thread, counting: CountingConnection
) -> None:
    now = int(time.time() * 1000)
    expected = one_by_one(twin(thread), readme_calls(now))
    for queue in readme_calls(now):
        queue(thread)
    thread.commit_changes(connection=counting)

    assert counting.operations == ["UpdateItem"]
    stored = fresh(thread)
    assert same_content(stored, expected)
    assert stored == thread
    assert stored.updated_at == now + 1000
    assert stored.key_value_data == {"c": 100}
    assert stored.user_reviews == ["a", "c", "100", "100", "101"]
    assert stored.tags == {"physics", "gravity", "white_hole"}


def test_the_readme_sequence_on_a_key_only_item_raises_at_the_replace_by_index(
    thread: Thread, counting: CountingConnection
) -> None:
    before = fresh(thread)
    item = key_only(thread)
    calls = readme_calls(int(time.time() * 1000))
    for queue in calls[:6]:
        queue(item)
    with pytest.raises(UpdateConflict, match=re.escape("set(user_reviews[1])")):
        calls[6](item)
    assert counting.operations == []
    assert fresh(thread) == before


@pytest.mark.parametrize("idempotent", [False, True], ids=["UpdateItem", "a transaction"])
def test_a_concurrent_change_of_a_computed_attribute_raises_and_writes_nothing(
    thread: Thread, writer: Connection, idempotent: bool
) -> None:
    thread.append_to_listfield(Thread.user_reviews, "100")
    thread.replace_by_index_in_listfield(Thread.user_reviews, 1, "1000")
    thread.set_field(Thread.title, "ours")
    # Another client appends to the list between our read and our commit.
    key_only(thread).update(Thread.user_reviews.list_append(["theirs"]), connection=writer)
    theirs = fresh(thread)
    queued = thread.pending_changes

    with pytest.raises(ConcurrentModification) as raised:
        thread.commit_changes(idempotent=idempotent)

    error = raised.value
    assert isinstance(error, ConditionalCheckFailed)
    assert error.attributes == ("user_reviews",)
    assert "user_reviews changed since the item was read" in str(error)
    assert "read the item again and retry" in str(error)
    assert fresh(thread) == theirs  # nothing of ours was written, the title neither
    assert thread.pending_changes == queued  # still queued

    # Read again, queue again: the commit goes through and keeps their append.
    again = fresh(thread)
    again.append_to_listfield(Thread.user_reviews, "100")
    again.replace_by_index_in_listfield(Thread.user_reviews, 1, "1000")
    again.commit_changes()
    assert again.user_reviews == ["a", "1000", "c", "theirs", "100"]
    assert again == fresh(again)


def test_a_concurrent_change_of_another_attribute_does_not_stop_the_commit(
    thread: Thread, writer: Connection
) -> None:
    thread.add_to_setfield(Thread.tags, {"x"})
    thread.delete_from_setfield(Thread.tags, {"gravity"})
    key_only(thread).update(title="theirs", views=None, connection=writer)
    thread.commit_changes()
    stored = fresh(thread)
    assert stored.tags == {"physics", "x"}
    assert stored.title == "theirs"
    assert stored.views is None


def test_a_computed_commit_of_a_deleted_item_raises_and_creates_nothing(
    thread: Thread, writer: Connection
) -> None:
    thread.append_to_listfield(Thread.user_reviews, "x")
    thread.remove_by_index_from_listfield(Thread.user_reviews, 0)
    key_only(thread).delete(connection=writer)
    with pytest.raises(ConcurrentModification, match="the item is gone"):
        thread.commit_changes()
    assert Thread.get(consistent=True, **thread.get_primary_key_dict()) is None


def test_a_computed_attribute_that_was_absent_is_guarded_by_attribute_not_exists(
    thread_table: None, writer: Connection
) -> None:
    key = new_key()
    Thread.create(**key, user_reviews=None)
    item = Thread.get(consistent=True, **key)
    assert item is not None
    item.append_to_listfield(Thread.user_reviews, ["x", "y"])
    item.remove_by_index_from_listfield(Thread.user_reviews, 0)
    queued = item.pending_changes
    assert [(str(action.path), action.kind) for action in queued] == [("user_reviews", "set")]

    key_only(item).update(user_reviews=["theirs"], connection=writer)
    with pytest.raises(ConcurrentModification):
        item.commit_changes()
    assert fresh(item).user_reviews == ["theirs"]

    item.discard_changes()
    item = fresh(item)
    item.update(user_reviews=None)
    item.append_to_listfield(Thread.user_reviews, ["x", "y"])
    item.remove_by_index_from_listfield(Thread.user_reviews, 0)
    item.commit_changes()
    assert item.user_reviews == ["y"]


def test_a_set_and_a_remove_of_one_path_in_one_commit_the_last_wins(
    thread: Thread, counting: CountingConnection
) -> None:
    thread.replace_by_index_in_listfield(Thread.user_reviews, 1, "y")
    thread.remove_by_index_from_listfield(Thread.user_reviews, 1)
    thread.update_to_dict_field(Thread.key_value_data, {"c": 100, "b": 5})
    thread.remove_from_dict_field(Thread.key_value_data, ["a", "b"])
    before = fresh(thread)
    thread.commit_changes(connection=counting)
    assert counting.operations == ["UpdateItem"]
    stored = fresh(thread)
    assert stored == thread
    assert stored.user_reviews == [before.user_reviews[0], *before.user_reviews[2:]]
    assert stored.key_value_data == {"c": 100}


def test_update_to_dict_field_of_a_missing_map_then_removing_keys_is_one_set(
    thread_table: None, counting: CountingConnection
) -> None:
    key = new_key()
    item = Thread.create(**key)
    item.update_to_dict_field(Thread.key_value_data, {"a": 1, "b": 2})
    item.remove_from_dict_field(Thread.key_value_data, ["b", "c"])
    assert [(str(action.path), action.kind) for action in item.pending_changes] == [
        ("key_value_data", "set")
    ]
    item.commit_changes(connection=counting)
    assert counting.operations == ["UpdateItem"]
    assert fresh(item).key_value_data == {"a": 1}


@pytest.mark.parametrize(
    "actions",
    [
        pytest.param((Thread.views.set(1), Thread.views.add(1)), id="set+add"),
        pytest.param(
            (Thread.user_reviews.list_append(["x"]), Thread.user_reviews[0].set("y")),
            id="append+index",
        ),
        pytest.param(
            (Thread.key_value_data.set({"a": 1}), Thread.key_value_data["a"].remove()),
            id="map+key",
        ),
        pytest.param((Thread.tags.add({"a"}), Thread.tags.delete({"a"})), id="add+delete"),
    ],
)
def test_conflicting_actions_in_update_raise_before_any_request(
    thread: Thread, counting: CountingConnection, actions: tuple[Any, ...]
) -> None:
    before = fresh(thread)
    with pytest.raises(UpdateConflict):
        thread.update(*actions, connection=counting)
    assert counting.operations == []
    assert fresh(thread) == before


def test_an_action_and_a_keyword_on_one_field_conflict(
    thread: Thread, counting: CountingConnection
) -> None:
    with pytest.raises(UpdateConflict):
        thread.update(Thread.views.add(1), views=3, connection=counting)
    assert counting.operations == []


# -- odd dict keys ----------------------------------------------------------------------------

ODD_KEYS = {"a b": 1, "c.d": 2, "e-f": 3, "size": 4, "#x": 5, ":y": 6, "select": 7}


def test_dict_keys_with_spaces_dots_dashes_and_reserved_words(thread: Thread) -> None:
    thread.update_to_dict_field(Thread.key_value_data, ODD_KEYS)
    thread.commit_changes()
    assert thread.key_value_data == {"a": 1, "b": 2, **ODD_KEYS}
    assert thread == fresh(thread)

    thread.remove_from_dict_field(Thread.key_value_data, ["c.d", "size", "a b"])
    thread.set_modify_conditions(Thread.key_value_data["e-f"].eq(3))
    thread.commit_changes()
    assert thread.key_value_data == {"a": 1, "b": 2, "e-f": 3, "#x": 5, ":y": 6, "select": 7}
    assert thread == fresh(thread)

    thread.update(Thread.key_value_data["e-f"].add(10), Thread.key_value_data["#x"].remove())
    assert thread.key_value_data == {"a": 1, "b": 2, "e-f": 13, ":y": 6, "select": 7}
    assert thread == fresh(thread)


def test_odd_keys_in_a_missing_map(thread_table: None) -> None:
    item = Thread.create(**new_key())
    item.update_to_dict_field(Thread.key_value_data, ODD_KEYS)
    item.commit_changes()
    assert item.key_value_data == ODD_KEYS
    assert item == fresh(item)


# -- set_modify_conditions -----------------------------------------------------------------------


def test_modify_conditions_that_hold_let_the_commit_through(thread: Thread) -> None:
    thread.set_modify_conditions(Thread.views.eq(10), Thread.title.begins_with("gravitational"))
    thread.set_modify_conditions(Thread.tags.contains("physics"))
    thread.set_field(Thread.title, "changed")
    thread.commit_changes()
    assert fresh(thread).title == "changed"


def test_a_failed_modify_condition_keeps_the_changes_queued(
    thread: Thread, writer: Connection
) -> None:
    thread.set_modify_conditions(Thread.views.eq(11))
    thread.set_field(Thread.title, "changed")
    thread.add_to_field(Thread.updated_at, 1)
    queued = thread.pending_changes
    with pytest.raises(ConditionalCheckFailed) as raised:
        thread.commit_changes()
    assert not isinstance(raised.value, VersionConflict)
    assert raised.value.item is not None
    assert raised.value.item["views"] == {"N": "10"}
    assert thread.pending_changes == queued
    assert thread.title == "gravitational field of a blackhole"
    assert fresh(thread) == thread  # nothing was written

    # Once the condition holds, the same queued changes go through.
    Thread(**thread.get_primary_key_dict()).update(views=11, connection=writer)
    thread.commit_changes()
    assert thread.pending_changes == []
    assert (thread.title, thread.updated_at, thread.views) == ("changed", 1001, 11)
    assert thread == fresh(thread)


def test_modify_conditions_are_anded(thread: Thread) -> None:
    thread.set_modify_conditions(Thread.views.eq(10), Thread.user_id.eq("someone else"))
    thread.set_field(Thread.title, "changed")
    with pytest.raises(ConditionalCheckFailed):
        thread.commit_changes()
    assert fresh(thread).title == "gravitational field of a blackhole"


def test_set_modify_conditions_takes_conditions_only(thread: Thread) -> None:
    with pytest.raises(TypeError, match=re.escape("set_modify_conditions() takes conditions")):
        thread.set_modify_conditions(True)  # type: ignore[arg-type]


def test_pending_methods_take_fields_of_the_model(thread: Thread) -> None:
    with pytest.raises(
        TypeError, match=re.escape("Thread has no field <IntegerField Other.views>")
    ):
        thread.set_field(Other.views, 1)
    with pytest.raises(TypeError, match=re.escape("update_to_dict_field() takes a non-empty dict")):
        thread.update_to_dict_field(Thread.key_value_data, {})
    assert thread.pending_changes == []


# -- the direct form: item.update(...) -------------------------------------------------------


def test_update_with_keyword_sets(thread: Thread, counting: CountingConnection) -> None:
    result = thread.update(title="t", views=99, user_id=None, connection=counting)
    assert result is thread
    assert counting.operations == ["UpdateItem"]
    assert (thread.title, thread.views) == ("t", 99)
    assert thread.user_id is None
    assert thread == fresh(thread)


def test_update_set_and_set_if_not_exists(thread: Thread) -> None:
    thread.update(
        Thread.title.set("kept?", if_not_exists=True),
        Thread.user_id.remove(),
    )
    assert thread.title == "gravitational field of a blackhole"
    thread.update(Thread.user_id.set("new", if_not_exists=True))
    assert thread.user_id == "new"
    assert thread == fresh(thread)


def test_update_remove_attribute_and_list_indexes(thread: Thread) -> None:
    thread.update(Thread.title.remove(), Thread.user_reviews.remove(indexes=[0, 2]))
    assert thread.title is None
    assert thread.user_reviews == ["b"]
    assert thread == fresh(thread)


def test_update_add_and_delete(thread: Thread) -> None:
    thread.update(
        Thread.views.add(-4),
        Thread.tags.add({"x"}),
        Thread.codes.delete({2}),
        Thread.counts["x"].add(2),
        Thread.counts["new"].add(5),
    )
    assert thread.views == 6
    assert thread.tags == {"physics", "gravity", "x"}
    assert thread.codes == {1, 3}
    assert thread.counts == {"x": 3, "new": 5}
    assert thread == fresh(thread)


def test_update_list_append_and_prepend(thread: Thread) -> None:
    thread.update(Thread.user_reviews.list_prepend(["z"]), Thread.scores.list_append([4, 5]))
    assert thread.user_reviews == ["z", "a", "b", "c"]
    assert thread.scores == [1, 2, 3, 4, 5]
    assert thread == fresh(thread)


def test_update_nested_paths(thread: Thread) -> None:
    thread.update(
        Thread.key_value_data["a"].set({"deep": [1, 2]}),
        Thread.user_reviews[1].set({"k": "v"}),
    )
    thread.update(
        Thread.key_value_data.set(3, path="key_value_data.a.deep[1]"),
        Thread.key_value_data["a"]["count"].add(1),
    )
    assert thread.key_value_data == {"a": {"deep": [1, 3], "count": 1}, "b": 2}
    assert thread.user_reviews == ["a", {"k": "v"}, "c"]
    assert thread == fresh(thread)


def test_update_takes_a_sequence_of_actions(thread: Thread) -> None:
    thread.update([Thread.views.add(1), Thread.title.set("listed")])
    assert (thread.views, thread.title) == (11, "listed")


def test_update_refuses_key_attributes(thread: Thread, counting: CountingConnection) -> None:
    with pytest.raises(ValueError, match="key"):
        thread.update(forum_id="other", connection=counting)
    with pytest.raises(ValueError, match="key"):
        thread.update(Thread.thread_id.set("other"), connection=counting)
    assert counting.operations == []


def test_update_refuses_unknown_fields_and_foreign_actions(thread: Thread) -> None:
    with pytest.raises(TypeError, match=re.escape("Thread.update() got an unknown field 'nope'")):
        thread.update(nope=1)
    with pytest.raises(TypeError, match=re.escape("Thread cannot apply set(name)")):
        thread.update(Other.name.set("x"))  # Thread has no attribute "name"
    with pytest.raises(TypeError, match=re.escape("update() takes actions like Test.score.add(1)")):
        thread.update("views")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        thread.update()


async def test_aupdate(thread: Thread, aconnection: Connection) -> None:
    await thread.aupdate(Thread.views.add(1), title="async")
    assert (thread.views, thread.title) == (11, "async")
    assert thread == fresh(thread)


# -- conditional writes ------------------------------------------------------------------------


def test_condition_update(thread: Thread) -> None:
    thread.condition(Thread.views.eq(10)).update(Thread.views.add(1))
    assert thread.views == 11
    with pytest.raises(ConditionalCheckFailed) as raised:
        thread.condition(Thread.views.eq(10)).update(Thread.views.add(1))
    assert raised.value.item is not None
    assert raised.value.item["views"] == {"N": "11"}
    assert fresh(thread).views == 11


def test_condition_save(thread: Thread) -> None:
    thread.title = "saved"
    with pytest.raises(ConditionalCheckFailed):
        thread.condition(Thread.user_id.eq("someone else")).save()
    assert fresh(thread).title == "gravitational field of a blackhole"
    thread.condition(Thread.user_id.eq("me")).save()
    assert fresh(thread).title == "saved"


def test_condition_delete(thread: Thread) -> None:
    with pytest.raises(ConditionalCheckFailed):
        thread.condition(Thread.views.gt(10)).delete()
    assert fresh(thread) == thread
    thread.condition(Thread.views.lte(10), Thread.tags.contains("physics")).delete()
    assert Thread.get(consistent=True, **thread.get_primary_key_dict()) is None


def test_condition_needs_a_condition(thread: Thread) -> None:
    with pytest.raises(ValueError, match="at least one"):
        thread.condition()


def test_save_with_a_failed_condition_shows_the_stored_item(thread: Thread) -> None:
    thread.views = 50
    with pytest.raises(ConditionalCheckFailed) as raised:
        thread.save(condition=Thread.views.gt(20))
    stored = raised.value.item
    assert stored is not None
    assert stored["views"] == {"N": "10"}
    assert stored["title"] == {"S": "gravitational field of a blackhole"}
    assert fresh(thread).views == 10


def test_delete_with_a_failed_condition_shows_the_stored_item(thread: Thread) -> None:
    with pytest.raises(ConditionalCheckFailed) as raised:
        thread.delete(condition=Thread.user_id.eq("not me"))
    assert raised.value.item is not None
    assert raised.value.item["user_id"] == {"S": "me"}
    assert fresh(thread) == thread


def test_create_without_overwrite_shows_the_stored_item(thread: Thread) -> None:
    with pytest.raises(ItemAlreadyExists) as raised:
        Thread.create(overwrite=False, **thread.get_primary_key_dict(), title="imposter")
    assert isinstance(raised.value, ConditionalCheckFailed)
    assert raised.value.item is not None
    assert raised.value.item["title"] == {"S": "gravitational field of a blackhole"}
    assert fresh(thread) == thread


# -- updates by key, without a read -------------------------------------------------------------


def test_update_by_key_without_a_read(thread: Thread, counting: CountingConnection) -> None:
    updated = Thread(**thread.get_primary_key_dict()).update(
        Thread.views.add(1), Thread.tags.add({"k"}), title="by key", connection=counting
    )
    assert counting.operations == ["UpdateItem"]
    # The other attributes survive and the instance holds the whole stored item.
    assert updated.views == 11
    assert updated.user_id == "me"
    assert updated.tags == {"physics", "gravity", "k"}
    assert updated.title == "by key"
    assert updated == fresh(thread)


def test_update_by_key_creates_a_missing_item(thread_table: None) -> None:
    key = new_key()
    item = Thread(**key).update(Thread.views.add(2), Thread.user_reviews.list_append(["x"]))
    assert item.views == 2
    assert item.user_reviews == ["x"]
    assert item == fresh(item)


def test_add_is_an_atomic_counter(thread_table: None) -> None:
    key = new_key()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                Thread.add(**key, views=1)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    found = Thread.get(consistent=True, **key)
    assert found is not None
    assert found.views == 200


def test_add_several_counters_and_set_members(thread: Thread) -> None:
    item = Thread.add(**thread.get_primary_key_dict(), views=2, updated_at=-1000, codes={9})
    assert (item.views, item.updated_at, item.codes) == (12, 0, {1, 2, 3, 9})
    assert item.title == thread.title
    assert item == fresh(thread)


def test_add_needs_a_whole_key_and_an_amount(thread_table: None) -> None:
    with pytest.raises(ValueError, match="at least one"):
        Thread.add(**new_key())
    with pytest.raises(FieldValidationError):
        Thread.add(forum_id="science", views=1)
    with pytest.raises(TypeError, match=re.escape("Thread.add() got an unknown field 'nope'")):
        Thread.add(**new_key(), nope=1)


# -- values are validated before sending ------------------------------------------------------


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda t, c: t.update(views="x", connection=c), id="update-keyword"),
        pytest.param(
            lambda t, c: Thread(**t.get_primary_key_dict()).update(views="1", connection=c),
            id="update-by-key",
        ),
        pytest.param(
            lambda t, c: Thread.add(**t.get_primary_key_dict(), views="1", connection=c),
            id="add-counter",
        ),
        pytest.param(
            lambda t, c: Thread.add(**t.get_primary_key_dict(), tags=set(), connection=c),
            id="add-empty-set",
        ),
        pytest.param(
            lambda t, c: t.update(Thread.user_reviews.list_append([object()]), connection=c),
            id="append-object",
        ),
    ],
)
def test_bad_values_are_refused_before_sending(
    thread: Thread,
    counting: CountingConnection,
    send: Callable[[Thread, Connection], Any],
) -> None:
    with pytest.raises(FieldValidationError):
        send(thread, counting)
    assert counting.operations == []
    assert fresh(thread) == thread


@pytest.mark.parametrize(
    "queue",
    [
        pytest.param(lambda t: t.set_field(Thread.views, "x"), id="set-int-to-str"),
        pytest.param(lambda t: t.add_to_field(Thread.views, "1"), id="add-str"),
        pytest.param(lambda t: t.add_to_setfield(Thread.tags, set()), id="add-empty-set"),
        pytest.param(lambda t: t.delete_from_setfield(Thread.tags, []), id="delete-empty-set"),
        pytest.param(lambda t: t.add_to_setfield(Thread.codes, {"x"}), id="str-in-int-set"),
        pytest.param(lambda t: t.append_to_listfield(Thread.scores, "x"), id="typed-list"),
        pytest.param(lambda t: t.update_to_dict_field(Thread.counts, {"a": "x"}), id="typed-map"),
        pytest.param(
            lambda t: t.update_to_dict_field(Thread.key_value_data, {"a": object()}),
            id="untyped-map",
        ),
    ],
)
def test_bad_pending_values_are_refused_when_queued(
    thread: Thread, counting: CountingConnection, queue: Queue
) -> None:
    with pytest.raises(FieldValidationError):
        queue(thread)
    assert thread.pending_changes == []
    thread.commit_changes(connection=counting)
    assert counting.operations == []
