"""Unique fields under contention (issue 15): one email, ten creators at once.

``email = CharField(unique=True)`` keeps a guard item per value in the model's
own table (its ``pk`` starts with ``UNIQUE#``), written in the same transaction
as the user. Ten threads (then ten gathered ``acreate`` calls) create users
with different ids and one email at the same moment: exactly one may win, the
other nine must get :class:`dynamodb.UniqueViolation` naming the model, field
and value, and nothing of theirs may be stored. The guard items are read with
plain Scan requests, never through the library's typed reads: there must be
exactly one guard per stored user's email, and it must name its owner. Then
changing the email frees the old value, and deleting the user frees the new one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import dynamodb
from dynamodb import CharField, Connection, Model
from dynamodb.exceptions import error_from_response

TABLE = "test_unique_race_app"
Tables = Callable[..., None]
RACERS = [f"racer-{n:02d}" for n in range(10)]  # fixed width: no id is part of another


class ConflictingConnection(Connection):
    """A Connection whose first ``conflicts`` TransactWriteItems are cancelled with
    ``TransactionConflict``, the way DynamoDB cancels transactions that race for one item
    (DynamoDB Local runs transactions one at a time and never does). Nothing of a
    cancelled request reaches the server; ``operations`` lists every request sent."""

    def __init__(self, conflicts: int, **options: Any) -> None:
        super().__init__(**options)
        self.conflicts = conflicts
        self.operations: list[str] = []

    def _conflict(self, operation: str, params: dict[str, Any]) -> None:
        self.operations.append(operation)
        if operation != "TransactWriteItems" or self.conflicts <= 0:
            return
        self.conflicts -= 1
        reasons = [{"Code": "None"} for _ in params["TransactItems"]]
        reasons[-1] = {
            "Code": "TransactionConflict",
            "Message": "Transaction is ongoing for the item",
        }
        codes = ", ".join(reason["Code"] for reason in reasons)
        message = (
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{codes}]"
        )
        response = {
            "Error": {"Code": "TransactionCanceledException", "Message": message},
            "CancellationReasons": reasons,
        }
        raise error_from_response("TransactionCanceledException", message, response, operation)

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self._conflict(operation, params)
        return super().send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self._conflict(operation, params)
        return await super().asend(operation, params)


class User(Model):
    __table_name__ = TABLE

    pk = CharField(hash_key=True, template="USER#{user_id}")
    sk = CharField(range_key=True, template="PROFILE")
    user_id = CharField(required=True)
    email = CharField(required=True, unique=True)
    name = CharField()


def raw_items(connection: Connection) -> list[dict[str, Any]]:
    """Every item of the table as DynamoDB holds it, by consistent plain Scan requests."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": TABLE, "ConsistentRead": True}
    while True:
        page = connection.send("Scan", params)
        items.extend(page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            return items
        params = {**params, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def strings(value: Any) -> list[str]:
    """Every string inside a raw AttributeValue (or item), nested ones too."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for part in value.values() for text in strings(part)]
    if isinstance(value, list):
        return [text for part in value for text in strings(part)]
    return []


def mentions(guard: dict[str, Any], value: str) -> bool:
    """Whether a raw item holds ``value`` as a string, or as the last ``#`` part of one."""
    return any(text == value or text.endswith(f"#{value}") for text in strings(guard))


def guards(connection: Connection) -> list[dict[str, Any]]:
    return [
        item
        for item in raw_items(connection)
        if str(item.get("pk", {}).get("S", "")).startswith("UNIQUE#")
    ]


def guard_owners(connection: Connection, candidates: list[str]) -> dict[str, list[str]]:
    """For each guard item (by its pk): the candidate user ids it mentions."""
    return {
        str(guard["pk"]["S"]): sorted(user_id for user_id in candidates if mentions(guard, user_id))
        for guard in guards(connection)
    }


def assert_guards_match_users(connection: Connection, candidates: list[str]) -> None:
    """Exactly one guard per stored user, for that user's email and naming that user."""
    stored = {user.user_id: user.email for user in User.scan().consistent().all()}
    found = guards(connection)
    assert len(found) == len(stored), (found, stored)
    for user_id, email in stored.items():
        own = [guard for guard in found if mentions(guard, email)]
        assert len(own) == 1, (email, found)
        mentioned = [other for other in candidates if mentions(own[0], other)]
        assert mentioned == [user_id], own[0]


def check_race(
    connection: Connection, email: str, outcomes: list[User | BaseException]
) -> tuple[str, list[str]]:
    """One winner, nine UniqueViolations, one guard: returns (winner id, loser ids)."""
    unexpected = [
        (user_id, outcome)
        for user_id, outcome in zip(RACERS, outcomes, strict=True)
        if isinstance(outcome, BaseException) and not isinstance(outcome, dynamodb.UniqueViolation)
    ]
    assert unexpected == [], (
        f"creators failed with something else than UniqueViolation: {unexpected}"
    )
    winners = [user_id for user_id, o in zip(RACERS, outcomes, strict=True) if isinstance(o, User)]
    assert len(winners) == 1, winners
    losers = [user_id for user_id in RACERS if user_id not in winners]
    assert issubclass(dynamodb.UniqueViolation, dynamodb.ConditionalCheckFailed)
    for outcome in outcomes:
        if isinstance(outcome, dynamodb.UniqueViolation):
            assert (outcome.model, outcome.field, outcome.value) == ("User", "email", email)
    [winner] = winners
    stored = User.scan().consistent().all()
    assert [(user.user_id, user.email) for user in stored] == [(winner, email)]
    for loser in losers:
        assert User.get(user_id=loser, consistent=True) is None
    owners = guard_owners(connection, RACERS)
    assert list(owners.values()) == [[winner]], owners
    assert_guards_match_users(connection, RACERS)
    return winner, losers


def test_ten_threads_race_for_one_email(tables: Tables, connection: Connection) -> None:
    tables(User)
    email = "race@example.com"
    start = threading.Barrier(len(RACERS))

    def attempt(user_id: str) -> User | BaseException:
        start.wait()
        try:
            return User.create(user_id=user_id, email=email, name=user_id)
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(RACERS)) as pool:
        outcomes = list(pool.map(attempt, RACERS))
    winner, losers = check_race(connection, email, outcomes)

    # A save that does not touch the email keeps the guard.
    user = User.get(user_id=winner, consistent=True)
    assert user is not None
    user.name = "renamed"
    user.save()
    assert_guards_match_users(connection, RACERS)

    # Changing the email frees the old value and takes the new one.
    user.email = "changed@example.com"
    user.save()
    assert_guards_match_users(connection, RACERS)
    taker = User.create(user_id=losers[0], email=email)
    assert taker.email == email
    assert_guards_match_users(connection, RACERS)
    with pytest.raises(dynamodb.UniqueViolation) as caught:
        User.create(user_id=losers[1], email="changed@example.com")
    assert caught.value.value == "changed@example.com"
    assert User.get(user_id=losers[1], consistent=True) is None
    assert_guards_match_users(connection, RACERS)

    # update() takes and frees values too.
    with pytest.raises(dynamodb.UniqueViolation):
        taker.update(email="changed@example.com")
    stored = User.get(user_id=losers[0], consistent=True)
    assert stored is not None
    assert stored.email == email
    taker.update(email="updated@example.com")
    assert_guards_match_users(connection, RACERS)
    User.create(user_id=losers[2], email=email)
    assert_guards_match_users(connection, RACERS)

    # Deleting a user frees its email.
    user.delete()
    assert_guards_match_users(connection, RACERS)
    again = User.create(user_id=losers[1], email="changed@example.com")
    assert again.email == "changed@example.com"
    assert_guards_match_users(connection, RACERS)
    assert sorted(user.user_id for user in User.scan().consistent().all()) == sorted(
        [losers[0], losers[1], losers[2]]
    )


def test_delete_by_key_frees_the_email(tables: Tables, connection: Connection) -> None:
    tables(User)
    User.create(user_id="racer-00", email="gone@example.com")
    User.create(user_id="racer-01", email="kept@example.com")
    User.delete_by_key(user_id="racer-00")
    assert User.get(user_id="racer-00", consistent=True) is None
    assert_guards_match_users(connection, RACERS)
    User.create(user_id="racer-02", email="gone@example.com")
    assert_guards_match_users(connection, RACERS)


def test_a_taken_email_writes_nothing(tables: Tables, connection: Connection) -> None:
    tables(User)
    User.create(user_id="first", email="taken@example.com")
    before = raw_items(connection)
    with pytest.raises(dynamodb.UniqueViolation) as caught:
        User.create(user_id="second", email="taken@example.com", name="second")
    error = caught.value
    assert isinstance(error, dynamodb.ConditionalCheckFailed)
    assert (error.model, error.field, error.value) == ("User", "email", "taken@example.com")
    after = raw_items(connection)
    assert sorted(map(repr, after)) == sorted(map(repr, before))


async def test_ten_gathered_acreates_race_for_one_email(
    tables: Tables, aconnection: Connection
) -> None:
    tables(User)
    email = "arace@example.com"
    outcomes = await asyncio.gather(
        *(User.acreate(user_id=user_id, email=email, name=user_id) for user_id in RACERS),
        return_exceptions=True,
    )
    winner, losers = check_race(aconnection, email, list(outcomes))

    user = await User.aget(user_id=winner, consistent=True)
    assert user is not None
    user.email = "achanged@example.com"
    await user.asave()
    assert_guards_match_users(aconnection, RACERS)
    taker = await User.acreate(user_id=losers[0], email=email)
    assert taker.email == email
    with pytest.raises(dynamodb.UniqueViolation):
        await User.acreate(user_id=losers[1], email="achanged@example.com")
    assert_guards_match_users(aconnection, RACERS)

    await user.adelete()
    assert_guards_match_users(aconnection, RACERS)
    await User.acreate(user_id=losers[1], email="achanged@example.com")
    assert_guards_match_users(aconnection, RACERS)


def test_ten_threads_race_to_change_to_one_email(tables: Tables, connection: Connection) -> None:
    """Ten stored users save the same new email at once: one gets it, nine keep theirs."""
    tables(User)
    for user_id in RACERS:
        User.create(user_id=user_id, email=f"{user_id}@example.com")
    users = [User.get(user_id=user_id, consistent=True) for user_id in RACERS]
    start = threading.Barrier(len(RACERS))

    def attempt(user: User | None) -> User | BaseException:
        assert user is not None
        user.email = "wanted@example.com"
        start.wait()
        try:
            return user.save()
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(RACERS)) as pool:
        outcomes = list(pool.map(attempt, users))
    unexpected = [o for o in outcomes if isinstance(o, BaseException)]
    unexpected = [o for o in unexpected if not isinstance(o, dynamodb.UniqueViolation)]
    assert unexpected == []
    winners = [o.user_id for o in outcomes if isinstance(o, User)]
    assert len(winners) == 1, winners
    stored = {user.user_id: user.email for user in User.scan().consistent().all()}
    assert stored == {
        user_id: "wanted@example.com" if user_id in winners else f"{user_id}@example.com"
        for user_id in RACERS
    }
    assert_guards_match_users(connection, RACERS)


@pytest.mark.parametrize("conflicts", [1, 2])
def test_a_create_cancelled_by_a_transaction_conflict_is_retried(
    tables: Tables, dynamodb_endpoint: str, connection: Connection, conflicts: int
) -> None:
    """DynamoDB cancels racing transactions with TransactionConflict (nothing written): a
    retryable refusal, not a taken value and not an error for the caller."""
    tables(User)
    racing = ConflictingConnection(
        conflicts,
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        user = User.create(user_id="racer-00", email="conflict@example.com", connection=racing)
    finally:
        racing.close()
    assert user.email == "conflict@example.com"
    assert racing.operations.count("TransactWriteItems") == conflicts + 1
    assert_guards_match_users(connection, RACERS)
    with pytest.raises(dynamodb.UniqueViolation):
        User.create(user_id="racer-01", email="conflict@example.com")


async def test_an_acreate_cancelled_by_a_transaction_conflict_is_retried(
    tables: Tables, dynamodb_endpoint: str, aconnection: Connection
) -> None:
    tables(User)
    racing = ConflictingConnection(
        1,
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        user = await User.acreate(
            user_id="racer-00", email="aconflict@example.com", connection=racing
        )
    finally:
        await racing.aclose()
        racing.close()
    assert user.email == "aconflict@example.com"
    assert racing.operations.count("TransactWriteItems") == 2
    assert_guards_match_users(aconnection, RACERS)


def test_ten_threads_overwrite_one_user_with_different_emails(
    tables: Tables, connection: Connection
) -> None:
    """create() overwrites by default: ten overwrites of one user at once, each with its own
    email, leave one user and exactly one guard, for the email it holds."""
    tables(User)
    start = threading.Barrier(len(RACERS))

    def attempt(email_owner: str) -> User | BaseException:
        start.wait()
        try:
            return User.create(user_id="the-one", email=f"{email_owner}@example.com")
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(RACERS)) as pool:
        outcomes = list(pool.map(attempt, RACERS))
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, dynamodb.ConcurrentModification) for o in failures), failures
    assert len(failures) < len(RACERS)
    [stored] = User.scan().consistent().all()
    assert stored.user_id == "the-one"
    assert stored.email in {f"{racer}@example.com" for racer in RACERS}
    found = guards(connection)
    assert len(found) == 1, found
    assert mentions(found[0], stored.email)
    assert mentions(found[0], "the-one")


def test_a_batch_with_one_email_four_times_stores_one_of_them(
    tables: Tables, connection: Connection
) -> None:
    """batch_write puts each user with its guard; the four that share an email race."""
    tables(User)
    rows = [
        {"user_id": user_id, "email": "dup@example.com" if n % 3 == 0 else f"{user_id}@x.org"}
        for n, user_id in enumerate(RACERS)
    ]
    sharing = [row["user_id"] for row in rows if row["email"] == "dup@example.com"]
    assert len(sharing) == 4
    with pytest.raises(dynamodb.UniqueViolation) as caught:
        User.batch_write(rows)
    assert (caught.value.model, caught.value.field) == ("User", "email")
    assert caught.value.value == "dup@example.com"
    stored = {user.user_id: user.email for user in User.scan().consistent().all()}
    assert len([user_id for user_id in stored if user_id in sharing]) == 1
    assert set(RACERS) - set(sharing) <= set(stored)
    assert len(stored) == len(RACERS) - 3
    assert_guards_match_users(connection, RACERS)
