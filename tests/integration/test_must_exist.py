"""``update(..., must_exist=True)``: an update by key that refuses to make a ghost.

An update of an item built from its key alone creates the item when it is
missing (the upsert atomic counters need), holding only the key and what the
update sets. ``must_exist=True`` adds ``attribute_exists`` of the key and raises
ItemNotFound, naming the model and the key, when there is no such item.
Against DynamoDB Local.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    Connection,
    IntegerField,
    ItemNotFound,
    Model,
    TransactionCanceled,
    VersionConflict,
    VersionField,
)
from tests.integration.helpers import RecordingConnection

Tables = Callable[..., None]


class MustIssue(Model):
    __table_name__ = "test_must_exist_issues"

    project_key = CharField(hash_key=True)
    issue_id = CharField(range_key=True)
    title = CharField(required=True)
    votes = IntegerField()


class MustVersioned(Model):
    __table_name__ = "test_must_exist_versioned"

    name = CharField(hash_key=True)
    votes = IntegerField()
    version = VersionField()


GHOST: dict[str, Any] = {"project_key": "acme#web", "issue_id": "ghost"}
REAL: dict[str, Any] = {"project_key": "acme#web", "issue_id": "real"}


@pytest.fixture
def issues(tables: Tables) -> None:
    tables(MustIssue, MustVersioned)
    MustIssue.create(title="a real issue", votes=1, **REAL)


def stored(**key: Any) -> MustIssue | None:
    return MustIssue.get(consistent=True, **key)


@pytest.mark.usefixtures("issues")
def test_an_update_by_key_is_still_an_upsert() -> None:
    """The issue's reproduction: without must_exist the ghost is made (counters want it)."""
    MustIssue(**GHOST).update(MustIssue.votes.add(1))

    ghost = stored(**GHOST)
    assert ghost is not None
    assert ghost.title is None  # required, yet missing: what must_exist prevents
    assert ghost.votes == 1


@pytest.mark.usefixtures("issues")
def test_must_exist_refuses_a_missing_item_and_writes_nothing(
    recording: RecordingConnection,
) -> None:
    with pytest.raises(ItemNotFound) as caught:
        MustIssue(**GHOST).update(MustIssue.votes.add(1), must_exist=True, connection=recording)

    error = caught.value
    assert isinstance(error, ConditionalCheckFailed)  # existing except clauses still catch it
    assert str(error) == (
        "ConditionalCheckFailedException (UpdateItem): MustIssue {'project_key': 'acme#web', "
        "'issue_id': 'ghost'} does not exist (must_exist=True), so nothing was written"
    )
    assert stored(**GHOST) is None
    ((operation, params),) = recording.sent
    assert operation == "UpdateItem"
    assert params["ConditionExpression"] == "attribute_exists(#n1)"
    assert params["ExpressionAttributeNames"]["#n1"] == "project_key"


@pytest.mark.usefixtures("issues")
def test_must_exist_updates_a_stored_item() -> None:
    item = MustIssue(**REAL).update(MustIssue.votes.add(2), title="renamed", must_exist=True)

    assert (item.title, item.votes) == ("renamed", 3)
    assert stored(**REAL) == item


@pytest.mark.usefixtures("issues")
async def test_aupdate_takes_must_exist(aconnection: Connection) -> None:
    with pytest.raises(ItemNotFound, match="'issue_id': 'ghost'} does not exist"):
        await MustIssue(**GHOST).aupdate(MustIssue.votes.add(1), must_exist=True)
    item = await MustIssue(**REAL).aupdate(MustIssue.votes.add(1), must_exist=True)
    assert item.votes == 2
    assert await MustIssue.aget(consistent=True, **GHOST) is None


@pytest.mark.usefixtures("issues")
def test_conditional_update_takes_must_exist() -> None:
    ghost = MustIssue(**GHOST).condition(MustIssue.votes < 5)
    with pytest.raises(ItemNotFound):
        ghost.update(MustIssue.votes.add(1), must_exist=True)
    assert stored(**GHOST) is None

    # On a stored item the caller's condition still decides, and fails as before.
    real = MustIssue(**REAL).condition(MustIssue.votes > 5)
    with pytest.raises(ConditionalCheckFailed) as caught:
        real.update(MustIssue.votes.add(1), must_exist=True)
    assert not isinstance(caught.value, ItemNotFound)
    updated = MustIssue(**REAL).condition(MustIssue.votes < 5)
    assert updated.update(MustIssue.votes.add(1), must_exist=True).votes == 2


@pytest.mark.usefixtures("issues")
def test_must_exist_with_idempotent_is_refused_the_same_way() -> None:
    with pytest.raises(ItemNotFound, match="does not exist"):
        MustIssue(**GHOST).update(MustIssue.votes.add(1), must_exist=True, idempotent=True)
    assert stored(**GHOST) is None
    item = MustIssue(**REAL).update(MustIssue.votes.add(1), must_exist=True, idempotent=True)
    assert item.votes == 2


@pytest.mark.usefixtures("issues")
def test_a_transaction_update_with_must_exist_cancels_naming_the_item() -> None:
    tx = dynamodb.transaction()
    tx.update(MustIssue(**REAL), MustIssue.votes.add(1))
    tx.update(MustIssue(**GHOST), MustIssue.votes.add(1), must_exist=True)
    with pytest.raises(TransactionCanceled) as caught:
        tx.commit()

    assert caught.value.failures == [
        "update MustIssue {'project_key': 'acme#web', 'issue_id': 'ghost'}: "
        "ConditionalCheckFailed: MustIssue {'project_key': 'acme#web', 'issue_id': 'ghost'} "
        "does not exist (must_exist=True), so nothing was written"
    ]
    assert stored(**GHOST) is None
    real = stored(**REAL)
    assert real is not None
    assert real.votes == 1  # all or nothing

    with dynamodb.transaction() as tx:
        tx.update(MustIssue(**REAL), MustIssue.votes.add(1), must_exist=True)
    real = stored(**REAL)
    assert real is not None
    assert real.votes == 2


@pytest.mark.usefixtures("issues")
def test_versioned_items_take_must_exist_too() -> None:
    with pytest.raises(ItemNotFound, match=r"MustVersioned \{'name': 'nobody'\} does not exist"):
        MustVersioned(name="nobody").update(MustVersioned.votes.add(1), must_exist=True)
    assert MustVersioned.get(consistent=True, name="nobody") is None

    read = MustVersioned.create(name="ann", votes=1)
    read.update(MustVersioned.votes.add(1), must_exist=True)
    assert (read.votes, read.version) == (2, 2)

    stale = MustVersioned.get(consistent=True, name="ann")
    assert stale is not None
    read.update(MustVersioned.votes.add(1))
    with pytest.raises(VersionConflict):  # a stale version is still a version conflict
        stale.update(MustVersioned.votes.add(1), must_exist=True)

    MustVersioned.delete_by_key(name="ann")
    with pytest.raises(ItemNotFound):  # gone: said as such, even for an item that was read
        read.update(MustVersioned.votes.add(1), must_exist=True)
