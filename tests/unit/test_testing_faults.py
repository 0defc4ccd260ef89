"""``dynamodb.testing.faults``: what it injects, typed as DynamoDB's own answers, per seed.

The connection sends through a MockTransport whose handler records what reached
it, so each test sees what the faults held back, sent, applied or answered. What
DynamoDB itself does with the requests (storing items, keeping nothing twice) is
checked against DynamoDB Local in ``tests/integration/test_testing_toolkit.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    InternalServerError,
    InvalidValue,
    MockTransport,
    Model,
    OutcomeUnknown,
    ProvisionedThroughputExceeded,
    ThrottlingError,
    TransactionCanceled,
    TransportError,
)
from dynamodb.core.flow import call
from dynamodb.testing import FAULTS, Call, faults, record
from dynamodb.testing.observe import Observed
from dynamodb.wire.intercept import effective

Params = dict[str, Any]
TABLE = "unit_faults"


class Note(Model):
    __table_name__ = TABLE

    id = CharField(hash_key=True)
    n = IntegerField(default=0)


class Seen:
    """A handler that records each request that reached it; batches are answered whole."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Params]] = []
        self.lock = threading.Lock()

    def __call__(self, operation: str, params: Params) -> Params:
        with self.lock:
            self.requests.append((operation, params))
        if operation == "BatchGetItem":
            found = {table: body["Keys"] for table, body in params["RequestItems"].items()}
            return {"Responses": found, "UnprocessedKeys": {}}
        if operation == "BatchWriteItem":
            return {"UnprocessedItems": {}}
        return {}

    def count(self, operation: str) -> int:
        return sum(1 for seen, _ in self.requests if seen == operation)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resends go at once: these tests count faults, not the time between attempts."""
    monkeypatch.setattr(dynamodb.RetryPolicy, "delay", lambda self, attempt, rng=None: 0.0)


def through(handler: Callable[[str, Params], Params], **options: Any) -> Connection:
    return Connection(transport=MockTransport(handler), **options)


GET = {"TableName": TABLE, "Key": {"id": {"S": "a"}}}
ADD = {
    "TableName": TABLE,
    "Key": {"id": {"S": "a"}},
    "UpdateExpression": "ADD #n0 :v0",
    "ExpressionAttributeNames": {"#n0": "n"},
    "ExpressionAttributeValues": {":v0": {"N": "1"}},
}


def puts(count: int, table: str = TABLE) -> list[Params]:
    return [{"PutRequest": {"Item": {"id": {"S": f"{table}-{n}"}}}} for n in range(count)]


# -- each fault ------------------------------------------------------------------------------


def test_throttling_is_refused_before_sending_and_retried_as_dynamodbs() -> None:
    seen = Seen()
    connection = through(seen, max_attempts=3)
    with faults(throttle=1.0) as injected, pytest.raises(ProvisionedThroughputExceeded) as caught:
        connection.run(call("GetItem", GET))
    assert seen.requests == []  # never sent
    assert injected.injected["throttle"] == 3  # every attempt the connection made
    error = caught.value
    assert isinstance(error, ThrottlingError)
    assert error.code == "ProvisionedThroughputExceededException"
    assert error.operation == "GetItem"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "provisioned throughput for the table was exceeded" in error.message


def test_a_throttled_request_is_resent_until_it_goes_through() -> None:
    seen = Seen()
    connection = through(seen, max_attempts=10)
    with faults(throttle=0.6, seed=5) as injected:
        for n in range(20):
            connection.run(call("GetItem", {"TableName": TABLE, "Key": {"id": {"S": str(n)}}}))
    assert seen.count("GetItem") == 20  # each one reached the handler exactly once
    assert injected.injected["throttle"] > 0
    assert injected.requests == 20 + injected.injected["throttle"]


def test_a_500_comes_before_or_after_applying_and_a_counter_is_never_resent() -> None:
    applied = 0
    for seed in range(40):
        seen = Seen()
        connection = through(seen)
        with faults(server_errors=1.0, seed=seed) as injected:
            with pytest.raises(InternalServerError) as caught:
                connection.send("UpdateItem", ADD)
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
            assert seen.count("UpdateItem") == injected.lost_answers  # applied, answer lost
            applied += injected.lost_answers
            with pytest.raises(OutcomeUnknown) as unknown:  # the driver: an ADD is not resent
                connection.run(call("UpdateItem", ADD))
        assert isinstance(unknown.value.cause, InternalServerError)
        assert unknown.value.key == {"id": "a"}
        assert seen.count("UpdateItem") == injected.lost_answers
    assert 0 < applied < 80  # both ways happen


def test_a_reset_is_refused_dropped_or_lost_after_applying() -> None:
    kinds: Counter[tuple[bool, int]] = Counter()
    for seed in range(60):
        seen = Seen()
        with faults(resets=1.0, seed=seed) as injected, pytest.raises(TransportError) as caught:
            through(seen).send("PutItem", {"TableName": TABLE, "Item": {"id": {"S": "a"}}})
        assert seen.count("PutItem") == injected.lost_answers
        if not caught.value.sent:  # no connection was made: nothing can have arrived
            assert seen.requests == []
        assert "injected reset" in str(caught.value)
        kinds[caught.value.sent, seen.count("PutItem")] += 1
    assert set(kinds) == {(False, 0), (True, 0), (True, 1)}


def test_a_trimmed_batch_write_sends_part_and_answers_the_rest_unprocessed() -> None:
    seen = Seen()
    request = {"RequestItems": {TABLE: puts(6), "unit_other": puts(4, "unit_other")}}
    with faults(unprocessed=1.0, seed=3) as injected:
        answer = through(seen).send("BatchWriteItem", request)
    assert injected.injected["unprocessed"] == 1
    [(_, sent)] = seen.requests
    left = answer["UnprocessedItems"]
    assert left  # something held back, something sent
    assert sent["RequestItems"]
    for table, entries in request["RequestItems"].items():
        got = sent["RequestItems"].get(table, []) + left.get(table, [])
        assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, entries))
        for part in (sent["RequestItems"].get(table, []), left.get(table, [])):
            assert part == [entry for entry in entries if entry in part]  # order kept


def test_a_trimmed_batch_get_keeps_the_projection_of_the_keys_it_leaves() -> None:
    seen = Seen()
    keys = [{"id": {"S": str(n)}} for n in range(8)]
    body: Params = {
        "Keys": keys,
        "ConsistentRead": True,
        "ProjectionExpression": "#n0, #n1",
        "ExpressionAttributeNames": {"#n0": "id", "#n1": "n"},
    }
    with faults(unprocessed=1.0, seed=1):
        answer = through(seen).send("BatchGetItem", {"RequestItems": {TABLE: body}})
    left = answer["UnprocessedKeys"][TABLE]
    assert {name: value for name, value in left.items() if name != "Keys"} == {
        name: value for name, value in body.items() if name != "Keys"
    }
    found = answer["Responses"][TABLE]
    assert 0 < len(left["Keys"]) < 8
    assert sorted(map(json.dumps, found + left["Keys"])) == sorted(map(json.dumps, keys))


def test_what_dynamodb_left_unprocessed_itself_stays_in_the_answer() -> None:
    def partial(operation: str, params: Params) -> Params:
        entries = params["RequestItems"][TABLE]
        return {"UnprocessedItems": {TABLE: entries[:1]}}

    request = {"RequestItems": {TABLE: puts(5)}}
    with faults(unprocessed=1.0, seed=2):
        answer = through(partial).send("BatchWriteItem", request)
    left = answer["UnprocessedItems"][TABLE]
    assert sorted(map(json.dumps, left)) != []
    assert all(entry in request["RequestItems"][TABLE] for entry in left)
    assert len(left) >= 2  # DynamoDB's one, and at least one held back


def test_a_batch_of_one_entry_is_never_trimmed() -> None:
    seen = Seen()
    with faults(unprocessed=1.0) as injected:
        through(seen).send("BatchWriteItem", {"RequestItems": {TABLE: puts(1)}})
    assert injected.injected["unprocessed"] == 0
    assert seen.count("BatchWriteItem") == 1


def test_a_model_batch_written_with_every_batch_trimmed_gets_everything_through() -> None:
    seen = Seen()
    items = [{"id": str(n)} for n in range(60)]
    with record() as calls, faults(unprocessed=1.0, seed=9) as injected:
        Note.batch_write(items, connection=through(seen))
    written = [
        entry["PutRequest"]["Item"]["id"]["S"]
        for operation, params in seen.requests
        for entry in params["RequestItems"][TABLE]
    ]
    assert sorted(written) == sorted(item["id"] for item in items)  # each exactly once
    assert injected.injected["unprocessed"] == sum(1 for c in calls if c.faults)
    assert sum(c.items - c.unprocessed for c in calls if c.answered) == 60


def test_cancelled_transactions_name_one_action_with_dynamodbs_reason_code() -> None:
    seen = Seen()
    connection = through(seen)

    def transfer() -> None:
        with dynamodb.transaction(connection=connection) as tx:
            tx.put(Note(id="a"))
            tx.put(Note(id="b"))
            tx.put(Note(id="c"))

    with faults(cancel_transactions=1.0, seed=4), pytest.raises(TransactionCanceled) as caught:
        transfer()
    assert seen.requests == []  # a cancelled transaction applies nothing
    codes = [reason["Code"] for reason in caught.value.reasons]
    assert sorted(codes) == ["None", "None", "TransactionConflict"]
    assert caught.value.code == "TransactionCanceledException"
    assert f"[{', '.join(codes)}]" in caught.value.response["Error"]["Message"]
    [failure] = caught.value.failures
    assert "TransactionConflict: Transaction is ongoing for the item" in failure


def test_cancel_reasons_choose_the_codes_and_transact_gets_are_cancelled_too() -> None:
    seen = Seen()
    request = {"TransactItems": [{"Get": {"TableName": TABLE, "Key": {"id": {"S": "a"}}}}]}
    with (
        faults(cancel_transactions=1.0, cancel_reasons=["ThrottlingError"]),
        pytest.raises(TransactionCanceled) as caught,
    ):
        through(seen).send("TransactGetItems", request)
    assert caught.value.reasons[0]["Code"] == "ThrottlingError"
    assert caught.value.reasons[0]["Message"].startswith("Throughput exceeds the current capacity")
    assert seen.requests == []


def test_latency_sleeps_before_sending_sync_and_async(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(time, "sleep", slept.append)
    monkeypatch.setattr(asyncio, "sleep", asleep)
    seen = Seen()
    connection = through(seen)
    with faults(latency=1.0, delay=0.05) as injected:
        for _ in range(4):
            connection.send("GetItem", GET)

        async def twice() -> None:
            await connection.asend("GetItem", GET)
            await connection.asend("GetItem", GET)

        asyncio.run(twice())
    assert injected.injected["latency"] == 6 == len(slept)
    assert all(0 <= seconds <= 0.05 for seconds in slept)
    assert len(set(slept)) > 1  # drawn, not fixed
    assert seen.count("GetItem") == 6  # a delay, then the request as it was


# -- reproducible, and the same whatever the order of threads ---------------------------------


def _fates(seed: int, run: Callable[[Connection], Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(operation, request, faults) of each call ``run`` makes under a fixed mix of faults."""
    with (
        record() as calls,
        faults(
            throttle=0.1,
            unprocessed=0.3,
            server_errors=0.05,
            resets=0.05,
            latency=0.1,
            delay=0.0,
            seed=seed,
        ),
    ):
        run(through(Seen(), max_attempts=10))
    return [(c.operation, json.dumps(c.params, sort_keys=True), c.faults) for c in calls]


def _gets(connection: Connection) -> None:
    for n in range(100):
        with contextlib.suppress(dynamodb.DynamoDBError):
            connection.send("GetItem", {"TableName": TABLE, "Key": {"id": {"S": str(n)}}})


def test_the_same_seed_meets_the_same_faults_and_another_seed_others() -> None:
    first = _fates(7, _gets)
    assert first == _fates(7, _gets)
    assert first != _fates(8, _gets)
    assert any(fate for _, _, fate in first)


def test_concurrent_batches_meet_the_same_faults_whatever_the_threads_order() -> None:
    def batches(connection: Connection) -> None:
        Note.batch_write([{"id": str(n)} for n in range(400)], connection=connection)

    first = sorted(_fates(21, batches))
    assert first == sorted(_fates(21, batches))
    assert Counter(name for _, _, fate in first for name in fate)["unprocessed"] > 0


def test_sync_and_async_calls_meet_the_same_faults() -> None:
    async def agets(connection: Connection) -> None:
        for n in range(100):
            with contextlib.suppress(dynamodb.DynamoDBError):
                await connection.asend(
                    "GetItem", {"TableName": TABLE, "Key": {"id": {"S": str(n)}}}
                )

    assert _fates(3, _gets) == _fates(3, lambda connection: asyncio.run(agets(connection)))


def test_a_transaction_token_does_not_change_the_draw() -> None:
    def transact(connection: Connection) -> None:
        for n in range(30):
            try:
                with dynamodb.transaction(connection=connection) as tx:
                    tx.put(Note(id=str(n)))
            except dynamodb.DynamoDBError:
                pass

    assert [fate for _, _, fate in _fates(5, transact)] == [
        fate for _, _, fate in _fates(5, transact)
    ]


# -- where the faults apply --------------------------------------------------------------------


def test_tasks_and_batch_threads_see_the_block_and_other_threads_do_not() -> None:
    seen = Seen()
    connection = through(seen)
    outside: list[BaseException | None] = []

    def plain_thread() -> None:
        try:
            connection.send("GetItem", GET)
            outside.append(None)
        except dynamodb.DynamoDBError as error:
            outside.append(error)

    async def in_a_task() -> None:
        with pytest.raises(ProvisionedThroughputExceeded):
            await asyncio.create_task(connection.asend("GetItem", GET))

    with faults(throttle=1.0) as injected:
        worker = threading.Thread(target=plain_thread)
        worker.start()
        worker.join()
        asyncio.run(in_a_task())
        outcomes = connection.run_many([call("GetItem", GET), call("GetItem", GET)], 2)
    assert outside == [None]  # a thread of its own starts with an empty context
    assert all(isinstance(outcome, ProvisionedThroughputExceeded) for outcome in outcomes)
    assert injected.injected["throttle"] == 1 + 2 * connection.max_attempts
    connection.send("GetItem", GET)  # after the block: nothing injected
    assert seen.count("GetItem") == 2


def test_the_innermost_block_is_in_effect() -> None:
    seen = Seen()
    connection = through(seen)
    with faults(throttle=1.0) as outer:
        with faults() as inner:
            connection.send("GetItem", GET)
        with pytest.raises(ThrottlingError):
            connection.send("GetItem", GET)
    assert inner.requests == 1
    assert outer.requests == 1
    assert seen.count("GetItem") == 1


def test_one_block_may_be_entered_by_several_tasks_at_once() -> None:
    seen = Seen()
    connection = through(seen, max_attempts=1)
    block = faults(throttle=1.0)

    async def use() -> None:
        with block:
            await asyncio.sleep(0)  # the other task enters meanwhile
            with pytest.raises(ThrottlingError):
                await connection.asend("GetItem", GET)
            await asyncio.sleep(0)

    async def both() -> None:
        await asyncio.gather(use(), use())
        await connection.asend("GetItem", GET)  # both blocks are closed

    asyncio.run(both())
    assert block.injected["throttle"] == 2
    assert seen.count("GetItem") == 1


@pytest.mark.parametrize("recorder_outside", [True, False])
def test_the_recorder_sees_each_call_as_sent_with_its_faults_either_way(
    recorder_outside: bool,
) -> None:
    connection = through(Seen(), max_attempts=10)
    injected = faults(throttle=0.2, server_errors=0.1, resets=0.1, latency=0.2, delay=0.0, seed=1)
    if recorder_outside:
        with record() as calls, injected:
            _gets(connection)
    else:
        with injected, record() as calls:
            _gets(connection)
    assert len(calls) == injected.requests == 100
    assert Counter(name for c in calls for name in c.faults) == injected.injected
    assert set(injected.injected) == set(FAULTS)
    for c in calls:
        assert c.operation == "GetItem"
        failed = {"throttle", "server_errors", "resets"} & set(c.faults)
        assert (c.error is not None) == bool(failed), c


def test_any_transport_is_wrapped_not_only_the_mock() -> None:
    class Counting:
        def __init__(self) -> None:
            self.sent = 0

        def send(self, operation: str, params: Params) -> Params:
            self.sent += 1
            return {}

        async def asend(self, operation: str, params: Params) -> Params:
            return self.send(operation, params)

        def close(self) -> None:
            pass

        async def aclose(self) -> None:
            pass

    transport = Counting()
    connection = Connection(transport=transport)
    assert effective(transport) is transport
    with faults(throttle=1.0):
        assert isinstance(effective(transport), Observed)
        with pytest.raises(ThrottlingError):
            connection.send("GetItem", GET)
    assert effective(transport) is transport
    connection.send("GetItem", GET)
    assert transport.sent == 1


def test_the_control_plane_is_left_alone_unless_named() -> None:
    seen = Seen()
    connection = through(seen)
    with faults(throttle=1.0):
        connection.send("DescribeTable", {"TableName": TABLE})
    assert seen.count("DescribeTable") == 1
    with faults(throttle=1.0, operations=["DescribeTable"]) as injected:
        with pytest.raises(ThrottlingError) as caught:
            connection.send("DescribeTable", {"TableName": TABLE})
        connection.send("GetItem", GET)  # not named: left alone
    assert not isinstance(caught.value, ProvisionedThroughputExceeded)
    assert caught.value.code == "ThrottlingException"
    assert injected.injected["throttle"] == 1


# -- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"throttle": 1.5}, r"faults\(throttle=1.5\): a share of the requests, from 0 to 1"),
        ({"resets": -0.1}, r"faults\(resets=-0.1\)"),
        ({"latency": True}, r"faults\(latency=True\)"),
        ({"unprocessed": "0.3"}, r"faults\(unprocessed='0.3'\)"),
        ({"throttle": 0.6, "server_errors": 0.3, "unprocessed": 0.2}, r"is 1.1, over 1"),
        ({"delay": -1}, r"faults\(delay=-1\): the longest delay in seconds"),
        ({"cancel_reasons": ["ConditionalCheckFailed"]}, r"give one or more of"),
        ({"cancel_reasons": []}, r"give one or more of"),
        ({"operations": "Query"}, r"give a list of names"),
        ({"seed": 1.5}, r"a seed is an int"),
    ],
)
def test_bad_arguments_are_refused_by_name(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        faults(**arguments)


def test_shares_that_never_meet_may_add_up_past_one() -> None:
    both = faults(
        unprocessed=1.0, cancel_transactions=1.0
    )  # one is for batches, one for transactions
    assert (both.unprocessed, both.cancel_transactions) == (1.0, 1.0)


def test_a_block_without_a_seed_draws_one_and_shows_it() -> None:
    block = faults(throttle=0.5)
    assert isinstance(block.seed, int)
    assert repr(block) == f"<faults(throttle=0.5, seed={block.seed}) injected={{}}>"
    assert dict(block.injected) == dict.fromkeys(FAULTS, 0)


def test_a_call_repr_names_what_happened() -> None:
    with record() as calls, faults(throttle=1.0), pytest.raises(ThrottlingError):
        through(Seen()).send("GetItem", GET)
    [only] = calls
    assert isinstance(only, Call)
    assert repr(only) == (
        f"<Call GetItem {TABLE} items=0 faults=['throttle'] error=ProvisionedThroughputExceeded>"
    )
