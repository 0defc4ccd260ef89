"""Retrying a request by what it does: resent when that is safe, never blindly.

Every flow a connection runs is wrapped in :func:`retrying`. When a request
fails, the error says what is known about it:

- **refused before anything was applied** (throttling, a connection that
  could not be made): any request is resent, after a backoff;
- **outcome unknown** (HTTP 5xx, the connection dropped or timed out after the
  request was sent): an *idempotent* request is resent, since applying it
  twice changes nothing; any other one raises :class:`OutcomeUnknown`, which
  names the operation, the table and the key;
- **answered** (a failed condition, a validation error ...): raised as it is.

Which failures are refused or unknown follows AWS's standard retry mode (the
error codes botocore retries): throttling codes are refused; the transient
ones (``RequestTimeout``, HTTP 500, 502, 503, 504) and dropped connections are
unknown. A connection's :class:`RetryState` adds standard mode's retry quota,
and adaptive mode's client-side rate limiter (:mod:`dynamodb.core.ratelimit`).

Which requests are idempotent is :func:`is_idempotent`: reads; puts and deletes
without a condition; updates made of SETs of values, REMOVEs of attributes and
DELETEs of set members; BatchWriteItem (puts and deletes); TransactWriteItems
(its ClientRequestToken makes DynamoDB apply it at most once). Not: an ADD, a
``list_append``, arithmetic (``if_not_exists(#a, :z) + :v``), a REMOVE by list
index, or any write with a ConditionExpression (a version check included: the
resend of an applied write would fail its own condition).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from dynamodb.core.codec import decode_value
from dynamodb.core.errors import (
    DynamoDBError,
    InternalServerError,
    LimitExceeded,
    OutcomeUnknown,
    ServiceError,
    ThrottlingError,
    TransactionConflict,
    TransportError,
)
from dynamodb.core.flow import Flow, Request, Sleep, Step, relay
from dynamodb.core.ratelimit import RateLimiter, RetryQuota

__all__ = [
    "THROTTLING_CODES",
    "TRANSIENT_CODES",
    "RetryPolicy",
    "RetryState",
    "Watch",
    "is_idempotent",
    "retrying",
]

T = TypeVar("T")

_READ_PREFIXES = ("Get", "Query", "Scan", "Describe", "List", "TransactGet")
_ALWAYS_IDEMPOTENT = frozenset({"BatchWriteItem", "TransactWriteItems", "BatchGetItem"})
_REFUSED = (ThrottlingError, LimitExceeded, TransactionConflict)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
"""Error codes AWS's standard retry mode counts as throttling: refused, so resent."""

_REFUSED_CODES = THROTTLING_CODES | {
    "TransactionConflictException",
    "ReplicatedWriteConflictException",  # DynamoDB models it as retryable
}

TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException"})
"""Error codes AWS's standard retry mode counts as transient (as are HTTP 500, 502-504)."""

_TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
_NOT_IDEMPOTENT_SET = re.compile(r"list_append\s*\(|[+-]")
_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class RetryPolicy:
    """A retry budget: ``max_attempts`` sends (the first included), with
    full-jitter backoff delays growing from ``base`` to at most ``cap`` seconds."""

    max_attempts: int = 10
    base: float = 0.05
    cap: float = 5.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        ceiling = min(self.cap, self.base * (2**attempt))
        return (rng or random).uniform(0.0, ceiling)


def is_idempotent(operation: str, params: Mapping[str, Any]) -> bool:
    """Whether sending this request twice leaves DynamoDB as sending it once would."""
    if operation in _ALWAYS_IDEMPOTENT or operation.startswith(_READ_PREFIXES):
        return True
    if operation in ("PutItem", "DeleteItem"):
        return "ConditionExpression" not in params
    if operation == "UpdateItem":
        return "ConditionExpression" not in params and _repeatable_update(
            str(params.get("UpdateExpression", ""))
        )
    return False  # control-plane writes and anything unknown


def _repeatable_update(expression: str) -> bool:
    """An UpdateExpression that gives the same item when applied twice."""
    pieces = _CLAUSE.split(expression)
    # split keeps the keywords: ["", "SET", " #a = :v ", "REMOVE", " #b "]
    for keyword, body in zip(pieces[1::2], pieces[2::2], strict=True):
        clause = keyword.upper()
        if clause == "ADD":
            return False
        if clause == "SET" and _NOT_IDEMPOTENT_SET.search(body):
            return False
        if clause == "REMOVE" and "[" in body:
            return False  # removing list element i twice removes two elements
    return True


class RetryState:
    """What one connection's retries share: standard mode's retry quota, and adaptive
    mode's rate limiter (None in the other modes). Thread-safe."""

    def __init__(self, *, adaptive: bool = False, quota: RetryQuota | None = None) -> None:
        self.quota = quota if quota is not None else RetryQuota()
        self.limiter: RateLimiter | None = RateLimiter() if adaptive else None


class Watch(Protocol):
    """What sees each request :func:`retrying` sends: the connection's capacity
    counting, logs, spans and rate limits (:mod:`dynamodb.wire.telemetry`).

    ``limited`` says whether :meth:`delay` may ask for a wait (when it is False,
    it is not asked).
    """

    limited: bool

    def begin(self, request: Request) -> tuple[Request, Any]:
        """The request to send in place of ``request`` (with ``ReturnConsumedCapacity``),
        and a token that the other calls get back."""

    def delay(self, token: Any, now: float) -> float:
        """Seconds to wait before the next attempt (a rate limit's debt)."""

    def answered(self, token: Any, reply: dict[str, Any], attempts: int) -> None:
        """The request was answered, at its ``attempts``-th attempt."""

    def failed(
        self,
        token: Any,
        error: BaseException,
        attempt: int,
        throttled: bool,
        retry_in: float | None,
    ) -> None:
        """An attempt failed (or was abandoned: the flow closed while it was in
        flight); it is resent in ``retry_in`` seconds (None: it is not)."""


def retrying(
    flow: Flow[T],
    policy: RetryPolicy,
    state: RetryState | None = None,
    watch: Watch | None = None,
) -> Flow[T]:
    """``flow``, with each of its requests resent as :mod:`this module <.retries>` says.

    Requests and sleeps pass through; a failed request is resent (after a
    :class:`~dynamodb.core.flow.Sleep`) while that is safe and the budget lasts
    (``policy.max_attempts``, and ``state``'s retry quota), and otherwise its error
    (or :class:`OutcomeUnknown`) is thrown into ``flow``, which may handle it. With
    ``state``'s rate limiter (adaptive mode), a request may first wait for its turn.
    ``watch`` sees every request, its attempts and how it ended (see :class:`Watch`).
    """
    quota = state.quota if state is not None else None
    limiter = state.limiter if state is not None else None

    def attempts(step: Step) -> Flow[Any]:
        if isinstance(step, Sleep):
            yield step
            return None
        if not isinstance(step, Request):  # user code (hooks): not a request to resend
            return (yield step)
        token = None
        if watch is not None:
            step, token = watch.begin(step)
        spent = 0
        for attempt in range(1, policy.max_attempts + 1):
            if limiter is not None:
                wait = limiter.delay(time.monotonic())
                if wait > 0:
                    yield Sleep(wait)
            if watch is not None and watch.limited:
                wait = watch.delay(token, time.monotonic())
                if wait > 0:
                    yield Sleep(wait)
            try:
                reply = yield step
            except DynamoDBError as error:
                throttled = _is_throttling(error)
                if limiter is not None:
                    limiter.update(throttled, time.monotonic())
                failure = _verdict(step, error, attempt, policy)
                if failure is None and quota is not None:
                    spent = quota.spend(timeout=getattr(error, "timeout", False))
                    if not spent:
                        failure = error  # the retry quota is spent: no more retries for now
                backoff = policy.delay(attempt) if failure is None else None
                if watch is not None:
                    watch.failed(token, error, attempt, throttled, backoff)
                if failure is error:
                    raise
                if failure is not None:
                    raise failure from error
                assert backoff is not None
                yield Sleep(backoff)
            except BaseException as abandoned:  # the flow was closed (or cancelled) meanwhile
                if watch is not None:
                    watch.failed(token, abandoned, attempt, False, None)
                raise
            else:
                if limiter is not None:
                    limiter.update(False, time.monotonic())
                if quota is not None:
                    quota.refund(spent)
                if watch is not None:
                    watch.answered(token, reply, attempt)
                return reply
        raise AssertionError("unreachable: the last attempt always gives a verdict")

    return relay(flow, attempts)


def _status(error: DynamoDBError) -> int | None:
    if not isinstance(error, ServiceError):
        return None
    metadata = error.response.get("ResponseMetadata")
    status = metadata.get("HTTPStatusCode") if isinstance(metadata, dict) else None
    return status if isinstance(status, int) else None


def _is_throttling(error: DynamoDBError) -> bool:
    return isinstance(error, ThrottlingError) or (
        isinstance(error, ServiceError) and error.code in THROTTLING_CODES
    )


def _verdict(
    request: Request, error: DynamoDBError, attempt: int, policy: RetryPolicy
) -> BaseException | None:
    """None to resend ``request``; else the error to give its flow."""
    refused = (
        isinstance(error, _REFUSED)
        or (isinstance(error, ServiceError) and error.code in _REFUSED_CODES)
        or (isinstance(error, TransportError) and not error.sent)
    )
    unknown = not refused and (
        isinstance(error, InternalServerError)
        or (isinstance(error, TransportError) and error.sent)
        or (isinstance(error, ServiceError) and error.code in TRANSIENT_CODES)
        or _status(error) in _TRANSIENT_STATUSES
    )
    if not (refused or unknown):
        return error  # DynamoDB answered: the request was refused for good
    if unknown and not _idempotent(request):
        return outcome_unknown(request, error)
    if attempt >= policy.max_attempts:
        return error
    return None


def _idempotent(request: Request) -> bool:
    if request.idempotent is not None:
        return request.idempotent
    return is_idempotent(request.operation, request.params)


def outcome_unknown(request: Request, cause: DynamoDBError) -> OutcomeUnknown:
    """The :class:`OutcomeUnknown` of ``request`` failing with ``cause``."""
    params = request.params
    key = params.get("Key")
    plain = {name: decode_value(value) for name, value in key.items()} if key else None
    return OutcomeUnknown(
        operation=request.operation,
        table=params.get("TableName"),
        key=plain,
        cause=cause,
    )
