"""Errors of usage are library errors: DynamoDBError and the builtin they always were.

Unknown field names (the constructor, ``update(x=...)``, ``add(x=...)``, key parts,
``tx.update(x=...)``, ``from_son``), a transaction over 100 actions, one item twice,
an update of a key attribute, an update with nothing to do ... each raises its own
class under DynamoDBError that is also the TypeError / ValueError / RuntimeError /
AttributeError it was, before any request. Messages show keys as plain values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import dynamodb
import dynamodb.exceptions
from dynamodb import (
    CharField,
    Connection,
    DuplicateItem,
    DynamoDBError,
    EmptyUpdate,
    IntegerField,
    InvalidArgument,
    InvalidValue,
    KeyUpdateError,
    MapField,
    MapModel,
    Model,
    TransactionCommitted,
    TransactionTooLarge,
    UnknownAssociation,
    UnknownField,
    belongs_to,
)
from tests.support.recorder import Recorder


class ErrComment(Model):
    __table_name__ = "unit_errors_comments"

    issue_key = CharField(hash_key=True)
    comment_id = CharField(range_key=True)
    title = CharField()
    votes = IntegerField()


class ErrAddress(MapModel):
    city = CharField()


class ErrUser(Model):
    __table_name__ = "unit_errors_users"

    name = CharField(hash_key=True)
    home = MapField(ErrAddress)


class ErrPost(Model):
    __table_name__ = "unit_errors_posts"

    post_id = CharField(hash_key=True)
    user = belongs_to(ErrUser)


class ErrAbstract(Model):
    __abstract__ = True

    name = CharField(hash_key=True)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def comment(comment_id: str = "c1") -> ErrComment:
    return ErrComment(issue_key="tx", comment_id=comment_id, title="t")


def _full_transaction() -> None:
    tx = dynamodb.transaction()
    for number in range(101):
        tx.put(comment(f"c{number}"))


def _committed_twice(connection: Connection) -> None:
    tx = dynamodb.transaction(connection=connection)
    tx.commit()
    tx.commit()


# (what the user does, the library class, the builtin it also is, words of the message)
MISUSES: dict[str, tuple[Callable[[Connection], Any], type[DynamoDBError], type, str]] = {
    "constructor": (
        lambda c: ErrComment(issue_key="a", comment_id="b", titel="x"),
        UnknownField,
        TypeError,
        "ErrComment() got unknown fields ['titel'] (did you mean 'title'?); "
        "ErrComment's fields are ['comment_id', 'issue_key', 'title', 'votes']",
    ),
    "update(unknown=...)": (
        lambda c: comment().update(titel="x", connection=c),
        UnknownField,
        TypeError,
        "ErrComment.update() got an unknown field 'titel' (did you mean 'title'?)",
    ),
    "add(unknown=...)": (
        lambda c: ErrComment.add(issue_key="a", comment_id="b", vots=1, connection=c),
        UnknownField,
        TypeError,
        "ErrComment.add() got an unknown field 'vots' (did you mean 'votes'?)",
    ),
    "key with unknown parts": (
        lambda c: ErrComment.get(issue_key="a", comment="b", connection=c),
        UnknownField,
        TypeError,
        "ErrComment key has unknown parts ['comment']; its key is issue_key, comment_id",
    ),
    "tx.update(unknown=...)": (
        lambda c: dynamodb.transaction().update(comment(), titel="x"),
        UnknownField,
        TypeError,
        "tx.update() of ErrComment got an unknown field 'titel' (did you mean 'title'?)",
    ),
    "from_son(unknown)": (
        lambda c: ErrComment.from_son({"issue_key": "a", "comment_id": "b", "titel": "x"}),
        UnknownField,
        TypeError,
        "ErrComment.from_son() got unknown fields ['titel'] (did you mean 'title'?)",
    ),
    "MapField[unknown]": (
        lambda c: ErrUser.home["town"],
        UnknownField,
        TypeError,
        "MapField home: ErrAddress has no field 'town'; its fields are ['city']",
    ),
    "more than 100 actions": (
        lambda c: _full_transaction(),
        TransactionTooLarge,
        ValueError,
        "a transaction takes at most 100 actions",
    ),
    "transact_get of 101 items": (
        lambda c: dynamodb.transact_get([comment(f"c{n}") for n in range(101)], connection=c),
        TransactionTooLarge,
        ValueError,
        "transact_get() reads at most 100 items in one call",
    ),
    "a key attribute updated": (
        lambda c: comment().update(ErrComment.comment_id.set("other"), connection=c),
        KeyUpdateError,
        ValueError,
        "ErrComment: key attributes ['comment_id'] cannot be updated",
    ),
    "update() of nothing": (
        lambda c: comment().update(connection=c),
        EmptyUpdate,
        ValueError,
        "ErrComment.update() needs at least one action or field=value",
    ),
    "add() of nothing": (
        lambda c: ErrComment.add(issue_key="a", comment_id="b", connection=c),
        EmptyUpdate,
        ValueError,
        "ErrComment.add() needs at least one field=amount besides the key",
    ),
    "tx.update() of nothing": (
        lambda c: dynamodb.transaction().update(comment()),
        EmptyUpdate,
        ValueError,
        "tx.update() of ErrComment needs at least one action or field=value",
    ),
    "committed twice": (
        _committed_twice,
        TransactionCommitted,
        RuntimeError,
        "this transaction was committed already",
    ),
    "load(unknown)": (
        lambda c: ErrPost(post_id="p").load("author", connection=c),
        UnknownAssociation,
        AttributeError,
        "ErrPost has no association 'author'",
    ),
    "prefetch(unknown)": (
        lambda c: ErrPost.scan().prefetch("author"),
        UnknownAssociation,
        ValueError,
        "ErrPost has no association 'author'",
    ),
    "an abstract model instantiated": (
        lambda c: ErrAbstract(name="x"),
        InvalidArgument,
        TypeError,
        "ErrAbstract is abstract (no table); instantiate a subclass",
    ),
    "a map model read": (
        lambda c: ErrAddress.get(city="x", connection=c),
        InvalidArgument,
        TypeError,
        "ErrAddress is a map model: it has no table",
    ),
    "limit(0)": (
        lambda c: ErrComment.query().limit(0),
        InvalidValue,
        ValueError,
        "limit must be a positive int or None, not 0",
    ),
    "update() of a non-action": (
        lambda c: comment().update("votes + 1", connection=c),  # type: ignore[arg-type]
        InvalidArgument,
        TypeError,
        "update() takes actions like Test.score.add(1), not 'votes + 1'",
    ),
    "unknown batch options": (
        lambda c: ErrComment.batch_write([], concurrenc=2),  # type: ignore[call-arg]
        InvalidArgument,
        TypeError,
        "ErrComment.batch_write() got unknown options ['concurrenc']",
    ),
    "a bad path": (
        lambda c: ErrUser.home.set("x", path="home..city"),
        InvalidValue,
        ValueError,
        "cannot read the path 'home..city'",
    ),
}


@pytest.mark.parametrize("misuse", sorted(MISUSES))
def test_each_misuse_raises_a_library_error_that_is_also_its_builtin(
    misuse: str, recorder: Recorder
) -> None:
    call, library_class, builtin, words = MISUSES[misuse]

    with pytest.raises(library_class) as caught:
        call(recorder.connection)

    assert isinstance(caught.value, DynamoDBError)
    assert isinstance(caught.value, builtin)
    assert words in str(caught.value)
    assert recorder.calls == []


def test_the_same_item_twice_in_a_transaction_is_named_by_plain_values() -> None:
    tx = dynamodb.transaction()
    tx.put(comment("dup"))
    key = {"issue_key": "tx", "comment_id": "dup"}

    agains: list[Callable[[], None]] = [
        lambda: tx.put(comment("dup")),
        lambda: tx.update(comment("dup"), ErrComment.votes.add(1)),
        lambda: tx.check(ErrComment, key, ErrComment.votes > 1),
    ]
    for again in agains:
        with pytest.raises(DuplicateItem) as caught:
            again()
        assert str(caught.value) == (
            "ErrComment {'issue_key': 'tx', 'comment_id': 'dup'}: "
            "a transaction may touch each item only once"
        )
        assert isinstance(caught.value, ValueError)
        assert "{'S':" not in str(caught.value)
    assert len(tx) == 1


def test_a_batch_write_without_overwrite_refuses_a_key_given_twice(recorder: Recorder) -> None:
    with pytest.raises(DuplicateItem, match=r"the key \{'issue_key': 'tx', 'comment_id': 'c1'\}"):
        ErrComment.batch_write(
            [comment(), comment()], overwrite=False, connection=recorder.connection
        )
    assert recorder.calls == []


def test_the_new_classes_are_exported_and_listed() -> None:
    for cls in (UnknownField, InvalidArgument, InvalidValue, TransactionTooLarge, DuplicateItem):
        assert getattr(dynamodb, cls.__name__) is cls
        assert cls.__name__ in dynamodb.exceptions.__all__
        assert getattr(dynamodb.exceptions, cls.__name__) is cls
