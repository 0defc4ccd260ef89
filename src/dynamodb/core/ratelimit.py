"""The retry quota and adaptive mode's client-side rate limiter (AWS's retry modes).

Both are state of one connection, shared by every flow it runs, and are driven by
:func:`dynamodb.core.retries.retrying`:

- :class:`RetryQuota` (standard and adaptive modes): each retry spends from a
  budget of 500 (5 a retry, 10 after a timeout), each success gives back what its
  retry spent (1 when it needed none). An empty budget means failures are not
  retried: a service in trouble gets fewer requests, not more.
- :class:`RateLimiter` (adaptive mode): off until DynamoDB throttles; from then
  on, sends are spaced by a token bucket whose rate follows CUBIC, as AWS's SDKs
  do: cut to 70% of the measured send rate at each throttle, grown back along a
  cubic curve while requests succeed (never above twice the measured rate).
  Waiting is a :class:`~dynamodb.core.flow.Sleep`, so sync and async flows share it.
- :class:`RateLimit` (``dynamodb.RateLimit``): a budget of read and write capacity
  units per second, for a connection or one call. Its buckets are charged with the
  units each answer reports (a debt: the next request waits until the bucket is
  back to zero); ``adaptive=True`` halves the rate at each throttle and adds back
  a twentieth of the budget per second while none comes (AIMD).

Both limiters fill a :class:`TokenBucket`.

Pure: the time is passed in (the drivers' clock), nothing sleeps here.
"""

from __future__ import annotations

import math
import threading

from dynamodb.core.errors import InvalidValue

__all__ = ["RateLimit", "RateLimiter", "RetryQuota", "TokenBucket"]


class TokenBucket:
    """Tokens that fill at a rate up to a capacity, and may be owed (below zero).

    Not locked: its owner holds its own lock around each use. The rate and the
    capacity are given at each :meth:`refill`, since both owners change them.
    """

    __slots__ = ("filled_at", "tokens")

    def __init__(self, tokens: float = 0.0) -> None:
        self.tokens = tokens
        self.filled_at: float | None = None

    def refill(self, now: float, rate: float, capacity: float) -> None:
        """Add what ``rate`` gave since the last refill, up to ``capacity``."""
        if self.filled_at is not None and now > self.filled_at:
            self.tokens = min(capacity, self.tokens + (now - self.filled_at) * rate)
        if self.filled_at is None or now > self.filled_at:
            self.filled_at = now

    def wait(self, rate: float) -> float:
        """Seconds until the bucket is back to zero at ``rate`` (0 when it is not owed)."""
        return -self.tokens / rate if self.tokens < 0.0 else 0.0


class RetryQuota:
    """AWS's retry quota: a token budget that retries spend and successes refill."""

    CAPACITY = 500
    RETRY_COST = 5
    TIMEOUT_RETRY_COST = 10
    SUCCESS_REFUND = 1

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.available = capacity
        self._lock = threading.Lock()

    def spend(self, timeout: bool) -> int:
        """Take the cost of one retry; 0 (and nothing taken) when the budget cannot pay it."""
        cost = self.TIMEOUT_RETRY_COST if timeout else self.RETRY_COST
        with self._lock:
            if cost > self.available:
                return 0
            self.available -= cost
        return cost

    def refund(self, spent: int) -> None:
        """A request succeeded: give back what its retries spent (or the success refund)."""
        amount = spent or self.SUCCESS_REFUND
        if self.available >= self.capacity:
            return
        with self._lock:
            self.available = min(self.capacity, self.available + amount)


class RateLimiter:
    """Adaptive mode's client-side rate limiting: a token bucket with a CUBIC rate.

    :meth:`delay` is asked before each send (how long to wait for a token);
    :meth:`update` after each answer (whether it was a throttle).
    """

    BETA = 0.7  # the share of the rate kept after a throttle
    SCALE = 0.4  # CUBIC's scale constant
    MIN_RATE = 0.5  # requests per second, the least the bucket fills at
    SMOOTHING = 0.8
    BUCKET = 0.5  # seconds over which the send rate is measured

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.enabled = False  # turned on by the first throttle
        self.rate = 0.0  # the bucket's fill rate (requests per second)
        self._bucket = TokenBucket()
        self._max_rate = 0.0  # the rate when last throttled
        self._throttled_at = 0.0
        self._window = 0.0  # CUBIC's K: seconds from a throttle back to _max_rate
        self.measured = 0.0  # the smoothed send rate
        self._count = 0
        self._bucket_start: float | None = None

    def delay(self, now: float) -> float:
        """Seconds to wait before sending (0 while off); the token is taken now."""
        if not self.enabled:
            return 0.0
        with self._lock:
            self._refill(now)
            self._bucket.tokens -= 1.0  # may go below 0: later senders wait for what is owed
            return self._bucket.wait(max(self.rate, self.MIN_RATE))

    def _refill(self, now: float) -> None:
        rate = max(self.rate, self.MIN_RATE)
        self._bucket.refill(now, rate, max(rate, 1.0))

    def update(self, throttled: bool, now: float) -> None:
        """Account for one answer: a throttle cuts the rate, a success grows it back."""
        with self._lock:
            self._measure(now)
            if throttled:
                base = self.measured if not self.enabled else min(self.measured, self.rate)
                self._max_rate = base
                self._window = ((base * (1 - self.BETA)) / self.SCALE) ** (1 / 3)
                self._throttled_at = now
                new_rate = base * self.BETA
                self.enabled = True
            else:
                if not self.enabled:
                    return
                elapsed = now - self._throttled_at - self._window
                new_rate = self.SCALE * elapsed**3 + self._max_rate
            self._refill(now)
            self.rate = max(self.MIN_RATE, min(new_rate, 2.0 * max(self.measured, self.MIN_RATE)))

    def _measure(self, now: float) -> None:
        """The smoothed send rate, over buckets of ``BUCKET`` seconds."""
        bucket = math.floor(now / self.BUCKET) * self.BUCKET
        self._count += 1
        if self._bucket_start is None:
            self._bucket_start = bucket
            return
        if bucket > self._bucket_start:
            current = self._count / (bucket - self._bucket_start)
            self.measured = current * self.SMOOTHING + self.measured * (1 - self.SMOOTHING)
            self._count = 0
            self._bucket_start = bucket


class _Budget:
    """One kind of units (read or write) of a :class:`RateLimit`: its bucket and rate."""

    __slots__ = ("bucket", "changed_at", "rate", "target")

    def __init__(self, target: float) -> None:
        self.target = target  # the budget, units per second
        self.rate = target  # what the bucket fills at now (lower after throttles)
        self.bucket = TokenBucket()
        self.changed_at: float | None = None  # when the rate was last cut or grown


class RateLimit:
    """A budget of capacity units per second: ``dynamodb.RateLimit(read_units_per_second=100)``.

    Give it as ``rate_limit=`` to a :class:`~dynamodb.Connection` (every call it
    runs) or to one call (``Model.scan(rate_limit=...)``, a parallel scan, the
    batch calls). Before each request of a kind (reads: GetItem, Query, Scan,
    BatchGetItem, TransactGetItems; writes: the rest) it waits until that kind's
    bucket owes nothing; after each answer the bucket is charged with the units
    DynamoDB reports. A request's cost is known only once it is answered, so the
    requests in flight at once may each take their own cost beyond the budget;
    the waits that follow pay it back, so over a run the rate stays within the
    budget. The bucket holds at most ``burst`` seconds of budget (default 1).

    ``adaptive=True`` also halves the rate at each throttle DynamoDB answers, and
    adds back ``increase`` of the budget per second while none comes (additive
    increase, multiplicative decrease), never above the budget nor below
    ``minimum`` of it. One RateLimit is one budget: every thread and task of the
    calls that share it draws on it. Thread-safe; the time is passed in.
    """

    DECREASE = 0.5  # the share of the rate kept after a throttle
    INCREASE = 0.05  # the share of the budget added back per second without a throttle
    MINIMUM = 0.05  # the least share of the budget the rate is cut to

    def __init__(
        self,
        read_units_per_second: float | None = None,
        write_units_per_second: float | None = None,
        *,
        adaptive: bool = False,
        burst: float = 1.0,
    ) -> None:
        for name, value in (
            ("read_units_per_second", read_units_per_second),
            ("write_units_per_second", write_units_per_second),
            ("burst", burst),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not value > 0
            ):
                raise InvalidValue(f"RateLimit's {name} is a number above 0, not {value!r}")
        if read_units_per_second is None and write_units_per_second is None:
            raise InvalidValue(
                "RateLimit needs read_units_per_second, write_units_per_second or both"
            )
        self.read_units_per_second = read_units_per_second
        self.write_units_per_second = write_units_per_second
        self.adaptive = adaptive
        self.burst = float(burst)
        self._lock = threading.Lock()
        self._budgets: dict[str, _Budget] = {}
        if read_units_per_second is not None:
            self._budgets["read"] = _Budget(float(read_units_per_second))
        if write_units_per_second is not None:
            self._budgets["write"] = _Budget(float(write_units_per_second))

    def __repr__(self) -> str:
        parts = [
            f"{name}={value:g}"
            for name, value in (
                ("read_units_per_second", self.read_units_per_second),
                ("write_units_per_second", self.write_units_per_second),
            )
            if value is not None
        ]
        return f"RateLimit({', '.join(parts)}{', adaptive=True' if self.adaptive else ''})"

    def rate(self, kind: str) -> float | None:
        """The units per second ``kind`` (``"read"``/``"write"``) is held to now
        (None: no budget for it)."""
        budget = self._budgets.get(kind)
        return None if budget is None else budget.rate

    def _refill(self, budget: _Budget, now: float) -> None:
        if self.adaptive and budget.rate < budget.target and budget.changed_at is not None:
            grown = budget.rate + budget.target * self.INCREASE * (now - budget.changed_at)
            budget.rate = min(budget.target, grown)
            budget.changed_at = now
        budget.bucket.refill(now, budget.rate, budget.rate * self.burst)

    def delay(self, kind: str, now: float) -> float:
        """Seconds to wait before sending a request of ``kind`` (0: send now)."""
        budget = self._budgets.get(kind)
        if budget is None:
            return 0.0
        with self._lock:
            self._refill(budget, now)
            return budget.bucket.wait(budget.rate)

    def charge(self, read_units: float, write_units: float, now: float) -> None:
        """Take what an answer consumed from the buckets (they may go below zero)."""
        for kind, units in (("read", read_units), ("write", write_units)):
            budget = self._budgets.get(kind)
            if budget is None or not units:
                continue
            with self._lock:
                self._refill(budget, now)
                budget.bucket.tokens -= units

    def throttled(self, kind: str, now: float) -> None:
        """DynamoDB throttled a request of ``kind``: adaptive mode halves its rate."""
        budget = self._budgets.get(kind)
        if budget is None or not self.adaptive:
            return
        with self._lock:
            self._refill(budget, now)
            budget.rate = max(budget.target * self.MINIMUM, budget.rate * self.DECREASE)
            budget.changed_at = now
