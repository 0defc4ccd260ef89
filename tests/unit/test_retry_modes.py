"""AWS's retry modes on every transport: standard mode's codes and retry quota, and
adaptive mode's client-side rate limiter (``dynamodb.core.ratelimit``). No server:
a MockTransport fails on cue, and the rate limiter runs on a clock given to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    MockTransport,
    Model,
    OutcomeUnknown,
    ServiceError,
    ThrottlingError,
    TransportError,
)
from dynamodb.core.ratelimit import RateLimiter, RetryQuota
from dynamodb.core.retries import THROTTLING_CODES


class Counter(Model):
    __table_name__ = "unit_retry_modes_counter"

    id = CharField(hash_key=True)
    n = IntegerField()


STORED = {"id": {"S": "c"}, "n": {"N": "1"}}


class Failing:
    """Fails the first ``failures`` calls with ``make_error()``, then answers; counts calls."""

    def __init__(self, make_error: Callable[[], Exception], failures: int = 10**9) -> None:
        self.make_error = make_error
        self.failures = failures
        self.calls = 0

    def __call__(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.make_error()
        return {"Item": STORED} if operation == "GetItem" else {"Attributes": STORED}


@pytest.fixture
def connect() -> Iterator[Callable[..., Connection]]:
    made: list[Connection] = []

    def make(handler: Failing, **options: Any) -> Connection:
        connection = Connection(transport=MockTransport(handler), **options)
        made.append(connection)
        return connection

    yield make
    for connection in made:
        connection.close()


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff sleeps are real sleeps: make them instant here."""
    monkeypatch.setattr("time.sleep", lambda seconds: None)


def service_error(code: str, status: int = 400) -> ServiceError:
    from dynamodb.core.errors import error_from_response

    return error_from_response(
        code, "injected", {"ResponseMetadata": {"HTTPStatusCode": status}}, "GetItem"
    )


# -- which failures are retried ------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(THROTTLING_CODES))
def test_every_throttling_code_is_resent_even_for_a_non_idempotent_write(
    connect: Callable[..., Connection], code: str
) -> None:
    handler = Failing(lambda: service_error(code), failures=2)
    connection = connect(handler, max_attempts=3)
    item = Counter.add(id="c", n=1, connection=connection)
    assert item.n == 1
    assert handler.calls == 3


@pytest.mark.parametrize(
    "make",
    [
        lambda: service_error("RequestTimeout"),
        lambda: service_error("RequestTimeoutException"),
        lambda: service_error("502", status=502),
        lambda: service_error("ServiceUnavailable", status=503),
        lambda: service_error("504", status=504),
        lambda: TransportError("reset after sending"),
    ],
)
def test_transient_failures_resend_reads_and_refuse_to_guess_about_adds(
    connect: Callable[..., Connection], make: Callable[[], Exception]
) -> None:
    reads = Failing(make, failures=2)
    assert Counter.get(id="c", connection=connect(reads, max_attempts=3)) is not None
    assert reads.calls == 3
    adds = Failing(make, failures=2)
    with pytest.raises(OutcomeUnknown):
        Counter.add(id="c", n=1, connection=connect(adds, max_attempts=3))
    assert adds.calls == 1


def test_an_answered_error_is_not_resent(connect: Callable[..., Connection]) -> None:
    handler = Failing(lambda: service_error("ValidationException"))
    with pytest.raises(ServiceError, match="ValidationException"):
        Counter.get(id="c", connection=connect(handler, max_attempts=5))
    assert handler.calls == 1


# -- the retry quota -----------------------------------------------------------------------------


def test_the_retry_quota_runs_out_and_successes_refill_it(
    connect: Callable[..., Connection],
) -> None:
    """500 tokens, 5 a retry: 25 calls that always fail make 4 retries each
    (25 x 4 x 5 = 500 tokens), then failures are no longer retried."""
    handler = Failing(lambda: ThrottlingError("slow down"))
    connection = connect(handler, max_attempts=5)
    for _ in range(25):
        with pytest.raises(ThrottlingError):
            Counter.get(id="c", connection=connection)
    assert handler.calls == 25 * 5
    assert connection._retry_state.quota.available == 0

    before = handler.calls
    with pytest.raises(ThrottlingError):
        Counter.get(id="c", connection=connection)
    assert handler.calls - before == 1  # no quota: not retried

    handler.failures = 0  # the service is back: each success gives one token back
    for _ in range(5):
        assert Counter.get(id="c", connection=connection) is not None
    assert connection._retry_state.quota.available == 5
    handler.failures = handler.calls + 1  # one failure: its retry is paid for again
    assert Counter.get(id="c", connection=connection) is not None
    assert connection._retry_state.quota.available == 5  # spent 5, given back 5


def test_a_retry_after_a_timeout_costs_more() -> None:
    quota = RetryQuota()
    assert quota.spend(timeout=True) == 10
    assert quota.spend(timeout=False) == 5
    assert quota.available == 485
    quota.refund(10)
    quota.refund(0)  # a success that needed no retry
    assert quota.available == 496
    for _ in range(10):
        quota.refund(5)
    assert quota.available == quota.capacity  # never above capacity


def test_quotas_are_per_connection(connect: Callable[..., Connection]) -> None:
    spent = connect(Failing(lambda: ThrottlingError("slow down")), max_attempts=3)
    fresh = connect(Failing(lambda: ThrottlingError("slow down")), max_attempts=3)
    with pytest.raises(ThrottlingError):
        Counter.get(id="c", connection=spent)
    assert spent._retry_state.quota.available == 490
    assert fresh._retry_state.quota.available == 500


# -- adaptive mode's rate limiter ----------------------------------------------------------------


def send_at(limiter: RateLimiter, rate: float, seconds: float, start: float = 0.0) -> float:
    """Succeed ``rate`` requests a second for ``seconds``; the clock at the end."""
    now = start
    for _ in range(int(rate * seconds)):
        now += 1.0 / rate
        assert limiter.delay(now) == 0.0 or limiter.enabled
        limiter.update(False, now)
    return now


def test_the_limiter_is_off_until_the_first_throttle() -> None:
    limiter = RateLimiter()
    now = send_at(limiter, rate=100, seconds=3)
    assert not limiter.enabled
    assert limiter.delay(now) == 0.0
    assert limiter.measured == pytest.approx(100, rel=0.2)


def test_a_throttle_cuts_the_rate_and_successes_grow_it_back() -> None:
    limiter = RateLimiter()
    now = send_at(limiter, rate=100, seconds=3)
    before = limiter.measured
    limiter.update(True, now)
    assert limiter.enabled
    cut = limiter.rate
    assert cut == pytest.approx(0.7 * limiter.measured, rel=0.05)

    # A burst right after the throttle has to wait for tokens.
    waits = [limiter.delay(now) for _ in range(int(cut) * 2)]
    assert waits[-1] > 0.5
    assert waits == sorted(waits)  # each later sender waits longer

    # Successes at the rate allowed grow it back along the cubic curve: slowly at
    # first, back to where it was throttled after CUBIC's window (about 4 s here), and
    # never above twice the measured send rate.
    rates = []
    for step in range(1, 8 * 80):
        moment = now + step / 80
        limiter.update(False, moment)
        rates.append(limiter.rate)
        assert limiter.rate <= 2 * max(limiter.measured, limiter.MIN_RATE) + 1e-9
    assert rates[40] < 0.85 * before  # half a second on: still well below
    assert rates[-1] > before  # eight seconds on: past the rate it was throttled at


def test_an_adaptive_connection_limits_its_rate_after_a_throttle(
    connect: Callable[..., Connection],
) -> None:
    handler = Failing(lambda: ThrottlingError("slow down"), failures=1)
    connection = connect(handler, max_attempts=3, retry_mode="adaptive")
    limiter = connection._retry_state.limiter
    assert limiter is not None
    assert not limiter.enabled
    assert Counter.get(id="c", connection=connection) is not None
    assert limiter.enabled
    assert handler.calls == 2


def test_standard_mode_has_no_rate_limiter(connect: Callable[..., Connection]) -> None:
    assert connect(Failing(lambda: ThrottlingError("x")))._retry_state.limiter is None
    with pytest.raises(ValueError, match="retry_mode"):
        Connection(retry_mode="fast")
