"""RateLimit: capacity budgets per second, charged by what answers report (a debt),
adaptive mode's AIMD, and the waits a connection's requests take (Sleep steps)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    InvalidArgument,
    InvalidValue,
    MockTransport,
    Model,
    RateLimit,
    ThrottlingError,
)
from dynamodb.core.flow import Flow, Request, Sleep, call
from dynamodb.core.ratelimit import TokenBucket
from dynamodb.core.retries import RetryPolicy, retrying
from dynamodb.wire.telemetry import RequestWatch, limiting


class Item(Model):
    __table_name__ = "unit_rate_limit"

    key = CharField(hash_key=True)
    n = IntegerField(default=0)


def test_a_bucket_fills_up_to_its_capacity_and_tells_how_long_a_debt_takes() -> None:
    bucket = TokenBucket()
    bucket.refill(0.0, rate=10.0, capacity=10.0)
    bucket.tokens -= 5.0
    assert bucket.wait(10.0) == pytest.approx(0.5)
    bucket.refill(0.2, rate=10.0, capacity=10.0)
    assert bucket.wait(10.0) == pytest.approx(0.3)
    bucket.refill(100.0, rate=10.0, capacity=10.0)
    assert (bucket.tokens, bucket.wait(10.0)) == (10.0, 0.0)


def test_the_next_request_waits_until_what_the_last_one_cost_is_paid_back() -> None:
    limit = RateLimit(read_units_per_second=100)
    assert limit.delay("read", 0.0) == 0.0  # nothing owed yet
    limit.charge(50.0, 0.0, 0.0)
    assert limit.delay("read", 0.0) == pytest.approx(0.5)
    assert limit.delay("read", 0.25) == pytest.approx(0.25)
    assert limit.delay("write", 0.0) == 0.0  # no write budget: writes never wait
    limit.charge(0.0, 1000.0, 0.0)
    assert limit.delay("write", 0.0) == 0.0


def test_a_bucket_holds_at_most_burst_seconds_of_budget() -> None:
    limit = RateLimit(write_units_per_second=10, burst=2)
    limit.delay("write", 0.0)
    limit.charge(0.0, 1.0, 1000.0)  # idle for long: the bucket holds 20 units, not 10,000
    limit.charge(0.0, 29.0, 1000.0)
    assert limit.delay("write", 1000.0) == pytest.approx(1.0)


def test_adaptive_mode_halves_at_each_throttle_and_grows_back_by_steps() -> None:
    limit = RateLimit(read_units_per_second=100, adaptive=True)
    limit.throttled("read", 0.0)
    assert limit.rate("read") == 50.0
    limit.throttled("read", 0.0)
    assert limit.rate("read") == 25.0
    limit.delay("read", 2.0)  # two seconds without a throttle: 2 x 5% of 100 back
    assert limit.rate("read") == pytest.approx(35.0)
    limit.delay("read", 60.0)
    assert limit.rate("read") == 100.0  # never above the budget
    for _ in range(20):
        limit.throttled("read", 60.0)
    assert limit.rate("read") == 5.0  # never below 5% of it
    plain = RateLimit(read_units_per_second=100)
    plain.throttled("read", 0.0)
    assert plain.rate("read") == 100.0  # only adaptive mode cuts


def test_a_rate_limit_names_what_is_wrong() -> None:
    with pytest.raises(InvalidValue, match="needs read_units_per_second"):
        RateLimit()
    with pytest.raises(InvalidValue, match="read_units_per_second is a number above 0"):
        RateLimit(read_units_per_second=0)
    with pytest.raises(InvalidValue, match="burst"):
        RateLimit(read_units_per_second=1, burst=-1)
    with pytest.raises(InvalidValue, match=r"rate_limit is a dynamodb\.RateLimit"):
        Connection(transport=MockTransport(lambda o, p: {}), rate_limit=10)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="rate_limit"):
        Item.scan(rate_limit=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match=r"Item.batch_write\(rate_limit=...\)"):
        Item.batch_write([Item(key="a")], rate_limit=5)  # type: ignore[arg-type]
    assert (
        repr(RateLimit(10, adaptive=True)) == "RateLimit(read_units_per_second=10, adaptive=True)"
    )


def _answering(units: float) -> MockTransport:
    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        capacity = {"TableName": "unit_rate_limit", "CapacityUnits": units}
        return {"Items": [], "Count": 0, "ConsumedCapacity": capacity}

    return MockTransport(answer)


def _steps(connection: Connection, flow: Flow[Any], replies: list[Any]) -> list[Any]:
    """The steps the connection's edge yields for ``flow`` (answered from ``replies``)."""
    edged = retrying(
        flow,
        RetryPolicy(max_attempts=3, base=0.0, cap=0.0),
        None,
        RequestWatch.for_run(connection),
    )
    steps: list[Any] = []
    step = next(edged)
    try:
        while True:
            steps.append(step)
            if isinstance(step, Request):
                reply = replies.pop(0)
                step = edged.throw(reply) if isinstance(reply, Exception) else edged.send(reply)
            else:
                step = edged.send(None)
    except StopIteration:
        return steps


def _two_scans() -> Flow[None]:
    yield from call("Scan", {"TableName": "unit_rate_limit"})
    yield from call("Scan", {"TableName": "unit_rate_limit"})


def test_the_wait_is_a_sleep_step_so_sync_and_async_share_it() -> None:
    connection = Connection(transport=_answering(0), rate_limit=RateLimit(read_units_per_second=10))
    answer = {"ConsumedCapacity": {"TableName": "unit_rate_limit", "CapacityUnits": 5.0}}
    steps = _steps(connection, _two_scans(), [answer, answer])
    assert [type(step).__name__ for step in steps] == ["Request", "Sleep", "Request"]
    assert steps[1].seconds == pytest.approx(0.5, abs=0.05)


def test_a_calls_limit_adds_to_the_connections_and_hears_of_throttles() -> None:
    connection = Connection(transport=_answering(0))
    limit = RateLimit(read_units_per_second=100, adaptive=True)
    throttle = ThrottlingError("slow down", operation="Scan")
    answer = {"ConsumedCapacity": {"TableName": "unit_rate_limit", "CapacityUnits": 1.0}}
    with limiting(limit):
        steps = _steps(connection, _two_scans(), [throttle, answer, answer])
    assert limit.rate("read") == pytest.approx(50.0, abs=1.0)  # halved by the throttle
    assert [type(step) for step in steps].count(Request) == 3
    assert all(isinstance(step, Request | Sleep) for step in steps)


def test_a_limited_scan_waits_between_its_pages() -> None:
    pages = iter([{"key": {"S": "a"}}, {"key": {"S": "b"}}, None])

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        capacity = {"TableName": "unit_rate_limit", "CapacityUnits": 2.0}
        item = next(pages)
        found: dict[str, Any] = {"Items": [item] if item else [], "ConsumedCapacity": capacity}
        if item is not None:
            found["LastEvaluatedKey"] = item
        return found

    connection = Connection(transport=MockTransport(answer))
    scan = Item.scan(rate_limit=RateLimit(read_units_per_second=40)).using(connection)
    started = time.monotonic()
    assert [item.key for item in scan] == ["a", "b"]
    # three pages of 2 units at 40 a second: two waits of 0.05 s
    assert time.monotonic() - started >= 0.09
    assert scan.consumed.read_units == 6.0


def test_a_batchs_chunks_on_all_its_threads_share_one_budget() -> None:
    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"ConsumedCapacity": [{"TableName": "unit_rate_limit", "CapacityUnits": 10.0}]}

    connection = Connection(transport=MockTransport(answer))
    items = [Item(key=str(n)) for n in range(300)]  # 12 chunks of 25, 10 units each
    started = time.monotonic()
    Item.batch_write(
        items,
        connection=connection,
        concurrency=4,
        rate_limit=RateLimit(write_units_per_second=100),
    )
    elapsed = time.monotonic() - started
    # The first 4 chunks go at once (their cost is known only when answered); the other
    # 80 units wait for the budget: at least 0.8 s, whatever thread sends them.
    assert elapsed >= 0.75
    assert elapsed < 3.0
