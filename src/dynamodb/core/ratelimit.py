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

Pure: the time is passed in (the drivers' clock), nothing sleeps here.
"""

from __future__ import annotations

import math
import threading

__all__ = ["RateLimiter", "RetryQuota"]


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
        self._tokens = 0.0
        self._filled_at: float | None = None
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
            self._tokens -= 1.0  # may go below 0: later senders wait for what is owed
            if self._tokens >= 0.0:
                return 0.0
            return -self._tokens / max(self.rate, self.MIN_RATE)

    def _refill(self, now: float) -> None:
        rate = max(self.rate, self.MIN_RATE)
        if self._filled_at is not None:
            capacity = max(rate, 1.0)
            self._tokens = min(capacity, self._tokens + (now - self._filled_at) * rate)
        self._filled_at = now

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
