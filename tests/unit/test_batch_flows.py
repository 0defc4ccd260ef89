"""The batch flows of :mod:`dynamodb.batch`, driven by hand without a server.

A flow yields ``Request``/``Sleep`` steps; these tests answer each request with
a canned response dict (or throw a typed error into the flow, as the drivers
do) and look at what the flow sends next, how long it sleeps and what it
returns or raises. This checks the library's chunking and retry logic, not
DynamoDB.
"""

from __future__ import annotations

import random
import statistics
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dynamodb import (
    BatchIncomplete,
    ConditionalCheckFailed,
    InternalServerError,
    ProvisionedThroughputExceeded,
    RequestLimitExceeded,
    ServiceError,
    ThrottlingError,
    TransportError,
    ValidationError,
)
from dynamodb.core import progress as progress_module
from dynamodb.core.batch import (
    GET_CHUNK,
    WRITE_CHUNK,
    batch_get,
    gather,
    get_chunks,
    key_identity,
    unique_writes,
    write_chunks,
)
from dynamodb.core.flow import Flow, Request, Sleep
from dynamodb.core.progress import Progress, make_progress
from dynamodb.core.retries import RetryPolicy

TABLE = "test_batch_flows_table"
KEYS = ("pk", "sk")

Wire = dict[str, Any]
Answer = Callable[[Request], Wire | Exception]


# -- helpers ------------------------------------------------------------------------


def key(n: int, sk: int = 0) -> Wire:
    return {"pk": {"S": f"p{n}"}, "sk": {"N": str(sk)}}


def item(n: int, sk: int = 0, value: str = "v") -> Wire:
    return {**key(n, sk), "value": {"S": value}}


def put(n: int, sk: int = 0, value: str = "v") -> Wire:
    return {"PutRequest": {"Item": item(n, sk, value)}}


def delete(n: int, sk: int = 0) -> Wire:
    return {"DeleteRequest": {"Key": key(n, sk)}}


class Driven:
    """What happened while a flow ran: the requests sent and the sleeps asked for."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.sleeps: list[float] = []
        self.result: Any = None


def drive(flow: Flow[Any], answer: Answer, driven: Driven | None = None) -> Driven:
    """Run ``flow`` like ``Connection.run`` does, answering requests with ``answer``.

    An exception returned by ``answer`` is thrown into the flow (a failed call);
    an exception that leaves the flow propagates (``driven`` still records the steps).
    """
    driven = driven if driven is not None else Driven()
    try:
        step = next(flow)
        while True:
            if isinstance(step, Request):
                driven.requests.append(step)
                reply = answer(step)
                if isinstance(reply, Exception):
                    step = flow.throw(reply)
                    continue
                step = flow.send(reply)
            else:
                assert isinstance(step, Sleep)
                driven.sleeps.append(step.seconds)
                step = flow.send(None)
    except StopIteration as stop:
        driven.result = stop.value
    return driven


def written(request: Request) -> list[Wire]:
    """The write requests of a BatchWriteItem request."""
    assert request.operation == "BatchWriteItem"
    assert list(request.params["RequestItems"]) == [TABLE]
    entries: list[Wire] = request.params["RequestItems"][TABLE]
    return entries


def asked(request: Request) -> list[Wire]:
    """The keys of a BatchGetItem request."""
    assert request.operation == "BatchGetItem"
    assert list(request.params["RequestItems"]) == [TABLE]
    keys: list[Wire] = request.params["RequestItems"][TABLE]["Keys"]
    return keys


def write_ok(request: Request) -> Wire:
    written(request)
    return {"UnprocessedItems": {}}


def write_leaving(left: Callable[[list[Wire]], list[Wire]]) -> Answer:
    """Each call leaves ``left(sent)`` unprocessed."""

    def answer(request: Request) -> Wire:
        rest = left(written(request))
        return {"UnprocessedItems": {TABLE: rest} if rest else {}}

    return answer


def get_answer(stored: dict[str, Wire], left: Callable[[list[Wire]], list[Wire]]) -> Answer:
    """BatchGetItem over ``stored`` (by pk), leaving ``left(asked keys)`` unprocessed."""

    def answer(request: Request) -> Wire:
        keys = asked(request)
        rest = left(keys)
        served = [k for k in keys if k not in rest]
        found = [stored[k["pk"]["S"]] for k in served if k["pk"]["S"] in stored]
        response: Wire = {"Responses": {TABLE: found}}
        if rest:
            response["UnprocessedKeys"] = {TABLE: {"Keys": rest}}
        return response

    return answer


def fast(max_attempts: int = 10) -> RetryPolicy:
    return RetryPolicy(max_attempts=max_attempts, base=0.01, cap=0.05)


def ceiling(policy: RetryPolicy, attempt: int) -> float:
    return min(policy.cap, policy.base * float(2**attempt))


# -- chunking ---------------------------------------------------------------------------


def test_writes_are_cut_into_chunks_of_25() -> None:
    requests = [put(n) for n in range(60)]
    flows = write_chunks(TABLE, requests)
    assert WRITE_CHUNK == 25
    assert len(flows) == 3

    sent: list[list[Wire]] = []
    counts: list[int] = []
    for flow in flows:
        driven = drive(flow, write_ok)
        assert len(driven.requests) == 1
        assert driven.sleeps == []
        sent.append(written(driven.requests[0]))
        counts.append(driven.result)

    assert [len(chunk) for chunk in sent] == [25, 25, 10]
    assert counts == [25, 25, 10]
    assert [entry for chunk in sent for entry in chunk] == requests


def test_no_write_requests_make_no_flows() -> None:
    assert write_chunks(TABLE, []) == []
    assert get_chunks(TABLE, [], KEYS) == []


def test_reads_are_cut_into_chunks_of_100_distinct_keys() -> None:
    keys = [key(n) for n in range(250)] + [key(7), key(100)]  # two asked again
    flows = get_chunks(TABLE, keys, KEYS)
    assert GET_CHUNK == 100
    assert len(flows) == 3

    stored = {f"p{n}": item(n) for n in range(250)}
    returned: list[Wire] = []
    sizes: list[int] = []
    for flow in flows:
        driven = drive(flow, get_answer(stored, lambda _keys: []))
        assert len(driven.requests) == 1
        sizes.append(len(asked(driven.requests[0])))
        returned.extend(driven.result)

    assert sizes == [100, 100, 50]
    assert returned == [stored[f"p{n}"] for n in range(250)]


def test_get_chunk_request_carries_consistency_and_projection() -> None:
    (flow,) = get_chunks(TABLE, [key(1)], KEYS, consistent=True, attributes=["value", "pk", "size"])
    driven = drive(flow, get_answer({}, lambda _keys: []))
    params = driven.requests[0].params["RequestItems"][TABLE]
    assert params["ConsistentRead"] is True
    names = params["ExpressionAttributeNames"]
    projected = [names[part.strip()] for part in params["ProjectionExpression"].split(",")]
    # the key attributes always come first, each attribute once
    assert projected == ["pk", "sk", "value", "size"]
    assert driven.result == []


def test_get_chunk_without_options_sends_only_keys() -> None:
    (flow,) = get_chunks(TABLE, [key(1)], KEYS)
    driven = drive(flow, get_answer({}, lambda _keys: []))
    assert driven.requests[0].params == {"RequestItems": {TABLE: {"Keys": [key(1)]}}}


# -- de-duplication ---------------------------------------------------------------------


def test_unique_writes_last_one_wins_in_the_order_of_the_last_occurrence() -> None:
    requests = [put(1, value="a"), put(2), put(1, value="b"), put(3), delete(2), put(1, value="c")]
    unique, repeated = unique_writes(requests, KEYS)
    assert unique == [put(3), delete(2), put(1, value="c")]
    assert repeated == [
        key_identity(key(1), KEYS),
        key_identity(key(2), KEYS),
        key_identity(key(1), KEYS),
    ]


def test_unique_writes_tell_range_keys_apart() -> None:
    unique, repeated = unique_writes([put(1, 1), put(1, 2), put(2, 1)], KEYS)
    assert unique == [put(1, 1), put(1, 2), put(2, 1)]
    assert repeated == []


def test_key_identity_ignores_other_attributes_and_binary_container_types() -> None:
    assert key_identity(item(1, value="a"), KEYS) == key_identity(key(1), KEYS)
    assert key_identity(key(1), KEYS) != key_identity(key(1, 1), KEYS)
    as_bytes = {"b": {"B": b"\x00\x01"}}
    as_bytearray = {"b": {"B": bytearray(b"\x00\x01")}}
    assert key_identity(as_bytes, ["b"]) == key_identity(as_bytearray, ["b"])
    hash(key_identity(as_bytearray, ["b"]))  # usable as a dict key


def test_get_chunks_ask_each_key_once() -> None:
    flows = get_chunks(TABLE, [key(1), key(2), key(1), key(1, 1)], KEYS)
    (flow,) = flows
    driven = drive(flow, get_answer({}, lambda _keys: []))
    assert asked(driven.requests[0]) == [key(1), key(2), key(1, 1)]


# -- unprocessed items and keys ----------------------------------------------------------


def test_unprocessed_items_are_sent_again_until_none_is_left() -> None:
    requests = [put(n) for n in range(25)]
    (flow,) = write_chunks(TABLE, requests, policy=fast())
    # each call processes the first 10 it gets and leaves the rest
    driven = drive(flow, write_leaving(lambda sent: sent[10:]))

    assert [written(request) for request in driven.requests] == [
        requests,
        requests[10:],
        requests[20:],
    ]
    assert driven.result == 25
    assert len(driven.sleeps) == 2


def test_unprocessed_keys_are_asked_again_and_every_found_item_returned() -> None:
    keys = [key(n) for n in range(30)]
    stored = {f"p{n}": item(n) for n in range(30) if n % 3 != 0}  # every third is missing
    (flow,) = get_chunks(TABLE, keys, KEYS, policy=fast())
    driven = drive(flow, get_answer(stored, lambda asked_keys: asked_keys[:-7]))

    sent = [asked(request) for request in driven.requests]
    assert sent == [keys, keys[:23], keys[:16], keys[:9], keys[:2]]
    assert sorted(found["pk"]["S"] for found in driven.result) == sorted(stored)
    assert len(driven.result) == len(stored)


def test_batch_get_flow_maps_found_items_by_key_identity() -> None:
    keys = [key(n) for n in range(150)]
    stored = {f"p{n}": item(n) for n in range(0, 150, 2)}
    driven = drive(
        batch_get(get_chunks(TABLE, keys, KEYS, policy=fast()), KEYS),
        get_answer(stored, lambda asked_keys: asked_keys[50:]),
    )
    assert len(driven.requests) == 3  # 100 keys (50 left, then asked again) and 50 keys
    assert driven.result == {key_identity(found, KEYS): found for found in stored.values()}


def test_progress_hook_counts_a_chunk_once_when_it_is_done() -> None:
    seen: list[int] = []
    flows = write_chunks(TABLE, [put(n) for n in range(30)], policy=fast(), on_chunk=seen.append)
    drive(flows[0], write_leaving(lambda sent: sent[20:]))
    assert seen == [25]
    drive(flows[1], write_ok)
    assert seen == [25, 5]


# -- backoff ------------------------------------------------------------------------------


def test_backoff_sleeps_grow_within_full_jitter_bounds() -> None:
    policy = RetryPolicy(max_attempts=9, base=0.01, cap=0.5)
    every: list[list[float]] = []
    for _ in range(50):
        (flow,) = write_chunks(TABLE, [put(n) for n in range(9)], policy=policy)
        driven = drive(flow, write_leaving(lambda sent: sent[1:]))  # one item per call
        assert driven.result == 9
        assert len(driven.requests) == 9
        assert len(driven.sleeps) == 8
        for attempt, slept in enumerate(driven.sleeps, start=1):
            assert 0.0 <= slept <= ceiling(policy, attempt)
        every.append(driven.sleeps)
    # the sleeps are random (jitter), and the later ones can reach the cap
    assert len({tuple(sleeps) for sleeps in every}) == 50
    assert ceiling(policy, 8) == policy.cap
    assert max(sleeps[-1] for sleeps in every) > ceiling(policy, 5)


def test_no_sleep_after_the_last_call() -> None:
    (flow,) = write_chunks(TABLE, [put(1)], policy=fast())
    driven = drive(flow, write_ok)
    assert driven.sleeps == []


def test_retry_policy_delay_is_uniform_in_zero_to_ceiling() -> None:
    policy = RetryPolicy(base=0.05, cap=5.0)
    rng = random.Random(20240501)
    for attempt, top in [(0, 0.05), (1, 0.1), (3, 0.4), (6, 3.2), (7, 5.0), (30, 5.0)]:
        assert ceiling(policy, attempt) == pytest.approx(top)
        samples = [policy.delay(attempt, rng) for _ in range(4000)]
        assert min(samples) >= 0.0
        assert max(samples) <= top
        # full jitter: spread over the whole range, not bunched at the top
        assert min(samples) < 0.02 * top
        assert max(samples) > 0.98 * top
        assert statistics.fmean(samples) == pytest.approx(top / 2, rel=0.05)


def test_retry_policy_delay_without_rng_uses_module_random() -> None:
    policy = RetryPolicy(base=1.0, cap=2.0)
    samples = {policy.delay(5) for _ in range(100)}
    assert all(0.0 <= sample <= 2.0 for sample in samples)
    assert len(samples) > 90


def test_retry_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base, policy.cap) == (10, 0.05, 5.0)


# -- errors thrown into the flow -----------------------------------------------------------


RETRYABLE: list[Exception] = [
    ThrottlingError("slow down", code="ThrottlingException"),
    ProvisionedThroughputExceeded("too fast", code="ProvisionedThroughputExceededException"),
    RequestLimitExceeded("account limit", code="RequestLimitExceeded"),
    InternalServerError("oops", code="InternalServerError"),
    TransportError("BatchWriteItem: connection reset"),
]


@pytest.mark.parametrize("error", RETRYABLE, ids=lambda error: type(error).__name__)
def test_retryable_errors_are_retried_with_the_same_items(error: Exception) -> None:
    requests = [put(n) for n in range(5)]
    (flow,) = write_chunks(TABLE, requests, policy=fast())
    answers: Iterator[Wire | Exception] = iter([error, error, {"UnprocessedItems": {}}])
    driven = drive(flow, lambda _request: next(answers))
    assert [written(request) for request in driven.requests] == [requests] * 3
    assert len(driven.sleeps) == 2
    assert driven.result == 5


@pytest.mark.parametrize("error", RETRYABLE, ids=lambda error: type(error).__name__)
def test_retryable_errors_are_retried_for_reads(error: Exception) -> None:
    keys = [key(n) for n in range(3)]
    stored = {f"p{n}": item(n) for n in range(3)}
    (flow,) = get_chunks(TABLE, keys, KEYS, policy=fast())
    normal = get_answer(stored, lambda _keys: [])
    calls = [0]

    def answer(request: Request) -> Wire | Exception:
        calls[0] += 1
        return error if calls[0] == 1 else normal(request)

    driven = drive(flow, answer)
    assert [asked(request) for request in driven.requests] == [keys, keys]
    assert driven.result == list(stored.values())


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("bad request", code="ValidationException"),
        ConditionalCheckFailed("no", code="ConditionalCheckFailedException"),
        ServiceError("something else", code="AccessDeniedException"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_other_errors_are_not_retried(error: ServiceError) -> None:
    (flow,) = write_chunks(TABLE, [put(1)], policy=fast())
    sent: list[Request] = []

    def answer(request: Request) -> Exception:
        sent.append(request)
        return error

    with pytest.raises(type(error)) as raised:
        drive(flow, answer)
    assert raised.value is error
    assert len(sent) == 1


def test_an_error_after_partial_progress_retries_only_what_is_left() -> None:
    requests = [put(n) for n in range(10)]
    (flow,) = write_chunks(TABLE, requests, policy=fast())
    answers: Iterator[Wire | Exception] = iter(
        [
            {"UnprocessedItems": {TABLE: requests[4:]}},
            InternalServerError("oops", code="InternalServerError"),
            {"UnprocessedItems": {}},
        ]
    )
    driven = drive(flow, lambda _request: next(answers))
    assert [written(request) for request in driven.requests] == [
        requests,
        requests[4:],
        requests[4:],
    ]
    assert driven.result == 10


# -- running out of budget -------------------------------------------------------------------


def test_out_of_budget_write_raises_batch_incomplete_with_exactly_the_leftovers() -> None:
    requests = [put(n) for n in range(25)]
    (flow,) = write_chunks(TABLE, requests, policy=fast(max_attempts=3))
    # each call processes the first 5 it gets
    with pytest.raises(BatchIncomplete) as raised:
        drive(flow, write_leaving(lambda sent: sent[5:]))
    assert raised.value.unprocessed == requests[15:]
    assert "BatchWriteItem" in str(raised.value)
    assert "10 left after 3 attempts" in str(raised.value)


def test_out_of_budget_read_raises_batch_incomplete_with_exactly_the_keys_left() -> None:
    keys = [key(n) for n in range(10)]
    (flow,) = get_chunks(TABLE, keys, KEYS, policy=fast(max_attempts=2))
    never = {"p3", "p8"}
    with pytest.raises(BatchIncomplete) as raised:
        drive(
            flow,
            get_answer({}, lambda asked_keys: [k for k in asked_keys if k["pk"]["S"] in never]),
        )
    assert raised.value.unprocessed == [key(3), key(8)]


def test_budget_counts_calls_including_the_first() -> None:
    sent: list[Request] = []

    def throttled(request: Request) -> Exception:
        sent.append(request)
        return ProvisionedThroughputExceeded("too fast", code="PTE")

    (flow,) = write_chunks(TABLE, [put(1), put(2)], policy=fast(max_attempts=4))
    with pytest.raises(BatchIncomplete) as raised:
        drive(flow, throttled)
    assert len(sent) == 4
    assert raised.value.unprocessed == [put(1), put(2)]
    assert "last error" in str(raised.value)
    assert "too fast" in str(raised.value)


def test_a_budget_of_one_call_never_sleeps() -> None:
    (flow,) = write_chunks(TABLE, [put(1), put(2)], policy=fast(max_attempts=1))
    driven = Driven()
    with pytest.raises(BatchIncomplete) as raised:
        drive(flow, lambda _request: {"UnprocessedItems": {TABLE: [put(2)]}}, driven)
    assert raised.value.unprocessed == [put(2)]
    assert len(driven.requests) == 1
    assert driven.sleeps == []


# -- gather -------------------------------------------------------------------------------------


def test_gather_returns_results_in_order_when_every_chunk_succeeded() -> None:
    assert gather([25, 25, 3], [25, 25, 3], "label") == [25, 25, 3]
    assert gather([], [], "label") == []


def test_gather_merges_every_chunks_leftovers_and_counts_what_was_done() -> None:
    outcomes: list[int | Exception] = [
        25,
        BatchIncomplete("x", [put(30), put(31)]),
        25,
        BatchIncomplete("y", [put(80)]),
    ]
    with pytest.raises(BatchIncomplete) as raised:
        gather(outcomes, [25, 25, 25, 10], "Thing.batch_write")
    error = raised.value
    assert error.unprocessed == [put(30), put(31), put(80)]
    assert error.done == 25 + 23 + 25 + 9
    assert "Thing.batch_write" in str(error)
    assert "3 of 85" in str(error)


def test_gather_drives_real_chunks_into_one_error() -> None:
    requests = [put(n) for n in range(60)]
    never = {"p3", "p40", "p59"}
    answer = write_leaving(
        lambda sent: [r for r in sent if r["PutRequest"]["Item"]["pk"]["S"] in never]
    )
    outcomes: list[int | Exception] = []
    for flow in write_chunks(TABLE, requests, policy=fast(max_attempts=2)):
        try:
            outcomes.append(drive(flow, answer).result)
        except BatchIncomplete as error:
            outcomes.append(error)
    with pytest.raises(BatchIncomplete) as raised:
        gather(outcomes, [25, 25, 10], "label")
    assert raised.value.unprocessed == [put(3), put(40), put(59)]
    assert raised.value.done == 57


def test_gather_raises_another_error_as_it_is() -> None:
    failure = ValidationError("bad", code="ValidationException")
    outcomes: list[int | Exception] = [25, BatchIncomplete("x", [put(1)]), failure, 4]
    with pytest.raises(ValidationError) as raised:
        gather(outcomes, [25, 25, 25, 4], "label")
    assert raised.value is failure


def test_gather_wants_one_size_per_outcome() -> None:
    with pytest.raises(ValueError, match="zip"):
        gather([1, 2], [1], "label")


# -- progress ----------------------------------------------------------------------------------


def test_progress_callback_counts_add_up_under_threads() -> None:
    calls: list[tuple[int, int]] = []
    reporter = make_progress(lambda done, total: calls.append((done, total)), 8 * 500, "label")
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for _ in range(250):
            reporter.advance(2)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reporter.close()

    assert reporter.done == 4000
    assert len(calls) == 2000
    assert calls == [(2 * n, 4000) for n in range(1, 2001)]  # in order, none lost
    assert calls[-1] == (4000, 4000)


def test_progress_none_and_false_count_silently(capsys: pytest.CaptureFixture[str]) -> None:
    for off in (None, False):
        reporter = make_progress(off, 10, "label")
        reporter.advance(4)
        reporter.advance(6)
        reporter.close()
        assert reporter.done == 10
    assert capsys.readouterr() == ("", "")


def test_progress_refuses_what_is_not_a_callable() -> None:
    with pytest.raises(TypeError, match="progress="):
        make_progress("yes", 10, "label")  # type: ignore[arg-type]


def test_progress_true_shows_a_bar(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = make_progress(True, 50, "Thing.batch_write")
    assert isinstance(reporter, Progress)
    for _ in range(5):
        reporter.advance(10)
    reporter.close()
    assert reporter.done == 50
    err = capsys.readouterr().err
    assert "Thing.batch_write" in err
    assert "50/50" in err


def test_progress_true_falls_back_to_a_text_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "_tqdm_bar", lambda total, label: None)
    monkeypatch.setattr(progress_module, "_rich_bar", lambda total, label: None)
    reporter = make_progress(True, 30, "Thing.batch_get")
    reporter.advance(25)
    reporter.advance(5)
    reporter.close()
    err = capsys.readouterr().err
    assert err == "\rThing.batch_get: 25/30\rThing.batch_get: 30/30\n"
