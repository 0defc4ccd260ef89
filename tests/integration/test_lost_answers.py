"""Writes whose answer is lost: retried by what they do, never applied twice.

A loopback proxy (:mod:`tests.integration.faults`) forwards every request to
DynamoDB Local, so DynamoDB applies it, and then drops the connection instead of
answering for a share of them (``Faults(lost=...)``). The client only sees a
dropped connection, so for each request it must decide by what the request
does:

- an ADD (``Tally.add``) is not resent: it raises :class:`~dynamodb.OutcomeUnknown`,
  and the stored total lies between what returned and what returned or raised;
- with ``idempotent=True`` the ADD goes as a TransactWriteItems with a
  ClientRequestToken, resent until it is answered and applied exactly once;
- a conditional put (``create(overwrite=False)``) or delete is resent after a
  consistent read, so only another writer's item makes it fail;
- SET-only updates and reads are simply resent.

The proxied connection has ``max_attempts=5``; what is stored is read through
the direct (session) connection, strongly consistent. Faults are drawn from
seeded generators; with several threads the draws go to requests in the order
they arrive, so the assertions hold whichever requests get them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pytest

from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    DynamoDBError,
    IntegerField,
    ItemAlreadyExists,
    Model,
    OutcomeUnknown,
    TransportError,
)
from tests.integration.faults import FaultProxy, Faults, ProxyFor

T = TypeVar("T")

Tables = Callable[..., None]

TABLE = "test_lost_answers_tally"
IN_FLIGHT = 8  # threads, or tasks at a time
ATTEMPTS = 5  # max_attempts of the proxied connection


class Tally(Model):
    __table_name__ = TABLE

    id = CharField(hash_key=True)
    n = IntegerField()


def lost(share: float, seed: int) -> Faults:
    """A share of the answers lost (the requests were applied)."""
    return Faults(lost=share, seed=seed)


def lost_once(operation: str) -> Faults:
    """The answer to the first ``operation`` request lost; everything else answered."""
    return Faults(lost=1.0, operations=frozenset({operation}), limit=1)


# -- running many calls, keeping what each one did --------------------------------------------


@dataclass
class Outcomes(Generic[T]):
    """What each call returned (by index), the OutcomeUnknowns, and any other error."""

    returned: dict[int, T] = field(default_factory=dict)
    unknown: list[OutcomeUnknown] = field(default_factory=list)
    other: list[tuple[int, BaseException]] = field(default_factory=list)

    @classmethod
    def of(cls, results: Iterable[tuple[int, T | BaseException]]) -> Outcomes[T]:
        outcomes = cls()
        for index, result in results:
            if isinstance(result, OutcomeUnknown):
                outcomes.unknown.append(result)
            elif isinstance(result, BaseException):
                outcomes.other.append((index, result))
            else:
                outcomes.returned[index] = result
        return outcomes

    def raised_nothing_else(self) -> None:
        """Fail, showing the first few, if any call raised anything but OutcomeUnknown."""
        if self.other:
            shown = "; ".join(f"call {index}: {error!r}" for index, error in self.other[:3])
            pytest.fail(f"{len(self.other)} calls raised other errors: {shown}")

    def raised_nothing(self) -> None:
        """Fail if any call raised anything, OutcomeUnknown included."""
        self.raised_nothing_else()
        if self.unknown:
            pytest.fail(f"{len(self.unknown)} calls raised OutcomeUnknown: {self.unknown[0]}")


def in_threads(call: Callable[[int], T], count: int) -> Outcomes[T]:
    """``call(0) ... call(count - 1)`` on IN_FLIGHT threads."""

    def attempt(index: int) -> tuple[int, T | BaseException]:
        try:
            return index, call(index)
        except Exception as error:
            return index, error

    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        return Outcomes.of(pool.map(attempt, range(count)))


async def in_tasks(call: Callable[[int], Awaitable[T]], count: int) -> Outcomes[T]:
    """``await call(0) ... call(count - 1)``, IN_FLIGHT at a time."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def attempt(index: int) -> tuple[int, T | BaseException]:
        async with gate:
            try:
                return index, await call(index)
            except Exception as error:
                return index, error

    return Outcomes.of(await asyncio.gather(*(attempt(index) for index in range(count))))


# -- what is stored, read directly ---------------------------------------------------------------


def stored_n(key: str) -> int | None:
    """``n`` of the stored item (None: no item), read consistently without the proxy."""
    item = Tally.get(id=key, consistent=True)
    return None if item is None else item.n


def stored_ns(keys: list[str]) -> list[int | None]:
    """``n`` of each stored item, in order (None: no item), read directly."""
    found = Tally.batch_get(*({"id": key} for key in keys), consistent=True, keep_missing=True)
    return [None if item is None else item.n for item in found]


# -- the checks shared by the sync and async twins -----------------------------------------------


def check_unknown(error: OutcomeUnknown, key: dict[str, Any]) -> None:
    """An OutcomeUnknown names the write, and says how to find out."""
    assert isinstance(error, DynamoDBError)
    assert error.operation == "UpdateItem"
    assert error.table == TABLE
    assert error.key == key
    assert isinstance(error.cause, TransportError), repr(error.cause)
    assert "consistent=True" in str(error), str(error)


def check_adds(outcomes: Outcomes[Tally], proxy: FaultProxy, count: int) -> None:
    """Plain adds of 1 to "c": each returned or raised OutcomeUnknown; none was resent."""
    outcomes.raised_nothing_else()
    returned, unknown = len(outcomes.returned), len(outcomes.unknown)
    assert returned + unknown == count
    total = stored_n("c") or 0
    assert returned <= total <= returned + unknown
    # the faults happened, and each lost answer surfaced as one OutcomeUnknown
    assert proxy.counts["lost:UpdateItem"] > 0
    assert unknown == proxy.counts["lost:UpdateItem"]
    assert unknown > 0
    assert proxy.counts["UpdateItem"] == count  # not one add was sent twice
    for error in outcomes.unknown:
        check_unknown(error, {"id": "c"})


def check_idempotent_adds(outcomes: Outcomes[Tally], proxy: FaultProxy, count: int) -> None:
    """``idempotent=True`` adds of 1 to "c": every one returned, the total is exact."""
    outcomes.raised_nothing()
    assert sorted(outcomes.returned) == list(range(count))
    assert stored_n("c") == count
    # sent as TransactWriteItems, each lost answer resent once (with the same token)
    lost_answers = proxy.counts["lost:TransactWriteItems"]
    assert lost_answers > 0
    assert proxy.counts["UpdateItem"] == 0
    assert proxy.counts["TransactWriteItems"] == count + lost_answers


def check_creates(outcomes: Outcomes[Tally], proxy: FaultProxy, count: int) -> None:
    """``create(id=f"k{i}", n=i, overwrite=False)`` of new keys: none failed, all stored."""
    outcomes.raised_nothing()  # no ItemAlreadyExists among them
    assert sorted(outcomes.returned) == list(range(count))
    assert all(item.n == index for index, item in outcomes.returned.items())
    assert proxy.counts["lost:PutItem"] > 0
    assert stored_ns([f"k{index}" for index in range(count)]) == list(range(count))


# -- adds: not resent, unless made idempotent -------------------------------------------------


ADDS = 800


def test_adds_whose_answer_is_lost_raise_outcome_unknown_and_are_not_resent(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = proxy_for(lost(0.05, seed=101), max_attempts=ATTEMPTS)

    outcomes = in_threads(lambda _: Tally.add(id="c", n=1, connection=through), ADDS)

    check_adds(outcomes, proxy, ADDS)


def test_idempotent_adds_through_lost_answers_are_applied_exactly_once(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = proxy_for(lost(0.05, seed=102), max_attempts=ATTEMPTS)

    outcomes = in_threads(
        lambda _: Tally.add(id="c", n=1, idempotent=True, connection=through), ADDS
    )

    check_idempotent_adds(outcomes, proxy, ADDS)


def test_one_lost_add_raises_outcome_unknown_and_was_applied(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = proxy_for(lost_once("UpdateItem"), max_attempts=ATTEMPTS)

    with pytest.raises(OutcomeUnknown) as raised:
        Tally.add(id="c", n=1, connection=through)
    check_unknown(raised.value, {"id": "c"})
    assert stored_n("c") == 1  # it was applied: the answer was lost, not the request

    after = Tally.add(id="c", n=1, connection=through)  # answered this time
    assert after.n == 2
    assert stored_n("c") == 2
    assert proxy.counts["UpdateItem"] == 2
    assert proxy.counts["lost"] == 1


def test_one_lost_idempotent_add_is_resent_and_applied_once(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = proxy_for(lost_once("TransactWriteItems"), max_attempts=ATTEMPTS)

    Tally.add(id="c", n=3, idempotent=True, connection=through)

    assert stored_n("c") == 3
    assert proxy.counts["TransactWriteItems"] == 2  # resent once, applied once
    assert proxy.counts["lost"] == 1


# -- conditional creates: checked by a consistent read ----------------------------------------


CREATES = 300


def test_creates_whose_answer_is_lost_succeed_and_taken_keys_still_fail(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = proxy_for(lost(0.05, seed=103), max_attempts=ATTEMPTS)

    outcomes = in_threads(
        lambda i: Tally.create(id=f"k{i}", n=i, overwrite=False, connection=through), CREATES
    )

    check_creates(outcomes, proxy, CREATES)

    Tally.create(id="taken", n=-1)  # another writer, directly
    with pytest.raises(ItemAlreadyExists):
        Tally.create(id="taken", n=7, overwrite=False, connection=through)
    assert stored_n("taken") == -1


def test_a_create_whose_answer_is_lost_is_told_apart_from_another_writers_item(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = proxy_for(lost_once("PutItem"), max_attempts=ATTEMPTS)
    created = Tally.create(id="new", n=1, overwrite=False, connection=through)
    assert created.n == 1
    assert proxy.counts["lost:PutItem"] == 1  # its answer was lost: it was ours
    assert stored_n("new") == 1

    Tally.create(id="taken", n=-1)  # another writer, directly
    proxy, through = proxy_for(lost_once("PutItem"), max_attempts=ATTEMPTS)
    with pytest.raises(ItemAlreadyExists):
        Tally.create(id="taken", n=7, overwrite=False, connection=through)
    assert proxy.counts["lost:PutItem"] == 1  # the refusal was lost: the read told
    assert stored_n("taken") == -1


# -- SET-only updates and reads: resent ---------------------------------------------------------


SETS = 200


def test_set_only_updates_and_gets_through_lost_answers_always_succeed(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = proxy_for(lost(0.05, seed=105), max_attempts=ATTEMPTS)

    def set_twice_and_read(index: int) -> int | None:
        key = f"s{index}"
        Tally(id=key).update(n=index, connection=through)  # a SET by keyword
        Tally(id=key).update(Tally.n.set(index + 1), connection=through)  # a SET action
        item = Tally.get(id=key, consistent=True, connection=through)
        return None if item is None else item.n

    outcomes = in_threads(set_twice_and_read, SETS)

    outcomes.raised_nothing()
    assert outcomes.returned == {index: index + 1 for index in range(SETS)}
    assert stored_ns([f"s{index}" for index in range(SETS)]) == [i + 1 for i in range(SETS)]
    for operation, sent in (("UpdateItem", 2 * SETS), ("GetItem", SETS)):
        lost_answers = proxy.counts[f"lost:{operation}"]
        assert lost_answers > 0, operation
        assert proxy.counts[operation] == sent + lost_answers, operation  # each resent once


# -- conditional deletes: gone is done ------------------------------------------------------------


DELETES = 200


def test_conditional_deletes_through_lost_answers_succeed_when_the_item_is_gone(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    keys = [f"d{index}" for index in range(DELETES)]
    items = Tally.batch_write([{"id": key, "n": index} for index, key in enumerate(keys)])
    proxy, through = proxy_for(lost(0.05, seed=106), max_attempts=ATTEMPTS)

    def delete(index: int) -> None:
        items[index].delete(condition=Tally.n.eq(index), connection=through)

    outcomes = in_threads(delete, DELETES)

    outcomes.raised_nothing()
    assert len(outcomes.returned) == DELETES
    assert proxy.counts["lost:DeleteItem"] > 0
    assert stored_ns(keys) == [None] * DELETES


def test_a_conditional_delete_whose_answer_is_lost(tables: Tables, proxy_for: ProxyFor) -> None:
    tables(Tally)
    gone, kept = Tally.create(id="gone", n=3), Tally.create(id="kept", n=3)

    proxy, through = proxy_for(lost_once("DeleteItem"), max_attempts=ATTEMPTS)
    gone.delete(condition=Tally.n.eq(3), connection=through)  # applied, answer lost
    assert proxy.counts["lost:DeleteItem"] == 1
    assert stored_n("gone") is None

    # a condition that does not hold still fails, lost answer or not
    proxy, through = proxy_for(lost_once("DeleteItem"), max_attempts=ATTEMPTS)
    with pytest.raises(ConditionalCheckFailed):
        kept.delete(condition=Tally.n.eq(4), connection=through)
    assert proxy.counts["lost:DeleteItem"] == 1
    assert stored_n("kept") == 3


# -- idempotent=True on every kind of write ---------------------------------------------------


KINDS = 60


def expected_kinds(index: int) -> tuple[int | None, int | None, int | None]:
    """What each step of ``write_every_kind`` leaves stored: 1 + 10, then the save, then gone."""
    return (11, 1000 + index, None)


def test_idempotent_writes_of_every_kind_through_lost_answers_are_applied_once(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    keys = [f"w{index}" for index in range(KINDS)]
    items = Tally.batch_write([{"id": key, "n": 0} for key in keys])
    proxy, through = proxy_for(lost(0.05, seed=107), max_attempts=ATTEMPTS)

    def write_every_kind(index: int) -> tuple[int | None, int | None, int | None]:
        item, key = items[index], keys[index]
        item.update(Tally.n.add(1), idempotent=True, connection=through)
        item.add_to_field(Tally.n, 10)
        item.commit_changes(idempotent=True, connection=through)
        added = stored_n(key)
        item.n = 1000 + index
        item.save(idempotent=True, connection=through)  # a dirty save: conditional
        saved = stored_n(key)
        item.delete(condition=Tally.n.eq(1000 + index), idempotent=True, connection=through)
        return added, saved, stored_n(key)

    outcomes = in_threads(write_every_kind, KINDS)

    outcomes.raised_nothing()
    assert outcomes.returned == {index: expected_kinds(index) for index in range(KINDS)}
    lost_answers = proxy.counts["lost:TransactWriteItems"]
    assert lost_answers > 0
    assert proxy.counts["TransactWriteItems"] == 4 * KINDS + lost_answers
    assert stored_ns(keys) == [None] * KINDS


def test_a_conditional_update_whose_answer_is_lost_is_unknown_unless_idempotent(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Tally)
    item = Tally.create(id="v", n=1)

    # resent, SET n = 2 if n = 1 would fail its own condition: not resent
    proxy, through = proxy_for(lost_once("UpdateItem"), max_attempts=ATTEMPTS)
    with pytest.raises(OutcomeUnknown) as raised:
        item.condition(Tally.n.eq(1)).update(n=2, connection=through)
    check_unknown(raised.value, {"id": "v"})
    assert proxy.counts["UpdateItem"] == 1
    assert stored_n("v") == 2  # applied all the same

    proxy, through = proxy_for(lost_once("TransactWriteItems"), max_attempts=ATTEMPTS)
    item.condition(Tally.n.eq(2)).update(n=3, idempotent=True, connection=through)
    assert proxy.counts["TransactWriteItems"] == 2  # resent once, applied once
    assert stored_n("v") == 3


def test_a_dirty_save_whose_answer_is_lost_is_resent(tables: Tables, proxy_for: ProxyFor) -> None:
    """A dirty save is SET n = 4 if the item exists: applied twice, it leaves the same item."""
    tables(Tally)
    item = Tally.create(id="v", n=1)
    proxy, through = proxy_for(lost_once("UpdateItem"), max_attempts=ATTEMPTS)
    item.n = 4
    item.save(connection=through)
    assert proxy.counts["UpdateItem"] == 2
    assert stored_n("v") == 4


# -- the async twins -------------------------------------------------------------------------------


ASYNC_ADDS = 400
ASYNC_CREATES = 150


async def test_async_adds_whose_answer_is_lost_raise_outcome_unknown_and_are_not_resent(
    tables: Tables, aproxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = aproxy_for(lost(0.05, seed=201), max_attempts=ATTEMPTS)

    outcomes = await in_tasks(lambda _: Tally.aadd(id="c", n=1, connection=through), ASYNC_ADDS)

    check_adds(outcomes, proxy, ASYNC_ADDS)


async def test_async_idempotent_adds_through_lost_answers_are_applied_exactly_once(
    tables: Tables, aproxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = aproxy_for(lost(0.05, seed=202), max_attempts=ATTEMPTS)

    outcomes = await in_tasks(
        lambda _: Tally.aadd(id="c", n=1, idempotent=True, connection=through), ASYNC_ADDS
    )

    check_idempotent_adds(outcomes, proxy, ASYNC_ADDS)


async def test_async_creates_whose_answer_is_lost_succeed_and_taken_keys_still_fail(
    tables: Tables, aproxy_for: ProxyFor
) -> None:
    tables(Tally)
    proxy, through = aproxy_for(lost(0.05, seed=203), max_attempts=ATTEMPTS)

    outcomes = await in_tasks(
        lambda i: Tally.acreate(id=f"k{i}", n=i, overwrite=False, connection=through),
        ASYNC_CREATES,
    )

    check_creates(outcomes, proxy, ASYNC_CREATES)

    Tally.create(id="taken", n=-1)  # another writer, directly
    with pytest.raises(ItemAlreadyExists):
        await Tally.acreate(id="taken", n=7, overwrite=False, connection=through)
    assert stored_n("taken") == -1


ASYNC_KINDS = 40


async def test_async_idempotent_writes_of_every_kind_through_lost_answers_are_applied_once(
    tables: Tables, aproxy_for: ProxyFor
) -> None:
    tables(Tally)
    keys = [f"w{index}" for index in range(ASYNC_KINDS)]
    items = Tally.batch_write([{"id": key, "n": 0} for key in keys])
    proxy, through = aproxy_for(lost(0.05, seed=207), max_attempts=ATTEMPTS)

    async def write_every_kind(index: int) -> tuple[int | None, int | None, int | None]:
        item, key = items[index], keys[index]
        await item.aupdate(Tally.n.add(1), idempotent=True, connection=through)
        item.add_to_field(Tally.n, 10)
        await item.acommit_changes(idempotent=True, connection=through)
        added = stored_n(key)
        item.n = 1000 + index
        await item.asave(idempotent=True, connection=through)
        saved = stored_n(key)
        await item.adelete(condition=Tally.n.eq(1000 + index), idempotent=True, connection=through)
        return added, saved, stored_n(key)

    outcomes = await in_tasks(write_every_kind, ASYNC_KINDS)

    outcomes.raised_nothing()
    assert outcomes.returned == {index: expected_kinds(index) for index in range(ASYNC_KINDS)}
    lost_answers = proxy.counts["lost:TransactWriteItems"]
    assert lost_answers > 0
    assert proxy.counts["TransactWriteItems"] == 4 * ASYNC_KINDS + lost_answers
