"""Fault injection in the transport: what DynamoDB does in production, on demand.

``with faults(throttle=0.1, unprocessed=0.3, server_errors=0.05, resets=0.01,
latency=0.02, seed=7) as f:`` makes each request sent in the block meet, at
those shares, what a real DynamoDB and a real network do:

- ``throttle``: ProvisionedThroughputExceededException, before anything is
  applied (the library resends it, as it would DynamoDB's);
- ``unprocessed``: a BatchWriteItem or BatchGetItem is trimmed: part of it is
  sent, the rest comes back as UnprocessedItems / UnprocessedKeys, exactly as
  the request had them;
- ``server_errors``: HTTP 500 InternalServerError, either before the request
  is applied or after (its answer lost: the outcome is unknown to the caller);
- ``resets``: the connection fails: before it was made (``TransportError`` with
  ``sent=False``), or dropped after the request left, applied or not
  (``sent=True``: the outcome is unknown);
- ``latency``: a delay of up to ``delay`` seconds before sending;
- ``cancel_transactions``: TransactionCanceledException, with DynamoDB's
  CancellationReasons (``"None"`` for every action but one).

Every error is the library's own typed error, built as the transports build
DynamoDB's answers, so retries and explanations are the same as in production.
Which request meets which fault follows the seed and the request itself (its
operation, its content, and how many times the block saw that content before),
not the order threads happen to send in: a run with the same seed and the same
requests meets the same faults.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from dynamodb.core.errors import InvalidValue, ServiceError, TransportError, error_from_response
from dynamodb.core.flow import Flow, Request, Sleep
from dynamodb.core.operations import ITEM_OPERATIONS
from dynamodb.testing.calls import Call
from dynamodb.testing.observe import Scope, ScopedBlock

_NOT_DRAWN = frozenset({"ClientRequestToken", "ReturnConsumedCapacity"})

__all__ = ["CANCEL_REASONS", "DATA_PLANE", "FAULTS", "Faults", "faults"]

Answer = dict[str, Any]

FAULTS = ("throttle", "unprocessed", "server_errors", "resets", "latency", "cancel_transactions")
"""The names :attr:`Faults.injected` counts, one per keyword of :func:`faults`."""

DATA_PLANE = ITEM_OPERATIONS | {"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"}
"""The operations faults are injected into unless ``operations=`` names others."""

_BATCH_ENTRIES = {"BatchWriteItem": None, "BatchGetItem": "Keys"}
_TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})

_THROTTLED = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
CANCEL_REASONS = {
    "TransactionConflict": "Transaction is ongoing for the item",
    "ThrottlingError": (
        "Throughput exceeds the current capacity for one or more global secondary indexes. "
        "DynamoDB is automatically scaling your index so please try again shortly."
    ),
    "ProvisionedThroughputExceeded": _THROTTLED,
}
"""The cancellation reason codes ``cancel_reasons=`` may name, with DynamoDB's messages.

They are the ones that say nothing about the data: a cancelled transaction
that names ``ConditionalCheckFailed`` would claim a condition is false."""

_RESETS = ("refused", "dropped", "lost")
"""How a reset happens: no connection made; dropped before DynamoDB got it; after it applied it."""


class Faults(ScopedBlock):
    """A ``with`` block in which requests meet throttling, trimmed batches, 500s, resets and delays.

    Each share is the part (0 to 1) of the requests that meet that fault:
    ``throttle`` (ProvisionedThroughputExceeded), ``unprocessed`` (batches of two
    or more entries come back partly unprocessed), ``server_errors`` (HTTP 500),
    ``resets`` (dropped connections), ``cancel_transactions``
    (TransactionCanceled, its reasons drawn from ``cancel_reasons``) and
    ``latency`` (a delay of up to ``delay`` seconds, on top of any other fault).
    A request meets one fault of the first five at most, so their shares add up
    to 1 at most. ``seed`` makes a run reproducible (``f.seed`` is the one drawn
    when none is given). Faults go to the data-plane operations
    (:data:`DATA_PLANE`), or only to those ``operations`` names.

    It applies to every connection and transport, sync and async, in the
    block's thread or task and in what that starts (tasks, a batch's threads)::

        with dynamodb.testing.faults(throttle=0.1, unprocessed=0.3, seed=7) as f:
            User.batch_write(users)
        assert f.injected["unprocessed"] > 0

    While the block runs, :attr:`injected` counts each fault injected so far by
    name (every name of :data:`FAULTS` is there, at 0 until it happens),
    :attr:`requests` the requests the block saw, and :attr:`lost_answers` the
    injected failures that came after DynamoDB had applied the request (a 500
    or a reset whose answer was lost). The innermost block is the one in effect.
    """

    def __init__(
        self,
        *,
        throttle: float = 0.0,
        unprocessed: float = 0.0,
        server_errors: float = 0.0,
        resets: float = 0.0,
        latency: float = 0.0,
        seed: int | None = None,
        cancel_transactions: float = 0.0,
        delay: float = 0.1,
        cancel_reasons: Iterable[str] = ("TransactionConflict",),
        operations: Iterable[str] | None = None,
    ) -> None:
        self.throttle = _share("throttle", throttle)
        self.unprocessed = _share("unprocessed", unprocessed)
        self.server_errors = _share("server_errors", server_errors)
        self.resets = _share("resets", resets)
        self.latency = _share("latency", latency)
        self.cancel_transactions = _share("cancel_transactions", cancel_transactions)
        exclusive = self.throttle + self.server_errors + self.resets
        exclusive += max(self.unprocessed, self.cancel_transactions)
        if exclusive > 1.0 + 1e-9:
            raise InvalidValue(
                "faults(): throttle + server_errors + resets + unprocessed (or "
                f"cancel_transactions) is {exclusive:g}, over 1: one request meets one of "
                "them at most, so their shares add up to 1 at most"
            )
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise InvalidValue(f"faults(delay={delay!r}): the longest delay in seconds, >= 0")
        self.delay = float(delay)
        self.cancel_reasons = tuple(cancel_reasons)
        unknown = [code for code in self.cancel_reasons if code not in CANCEL_REASONS]
        if unknown or not self.cancel_reasons:
            raise InvalidValue(
                f"faults(cancel_reasons={self.cancel_reasons!r}): give one or more of "
                f"{sorted(CANCEL_REASONS)}"
            )
        if isinstance(operations, str):
            raise InvalidValue(f"faults(operations={operations!r}): give a list of names")
        self.operations = DATA_PLANE if operations is None else frozenset(operations)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InvalidValue(f"faults(seed={seed!r}): a seed is an int")
        self.seed: int = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self.injected: Counter[str] = Counter(dict.fromkeys(FAULTS, 0))
        self.requests = 0
        self.lost_answers = 0
        self._seen: Counter[bytes] = Counter()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        shares = ", ".join(
            f"{name}={getattr(self, name):g}" for name in FAULTS if getattr(self, name)
        )
        injected = {name: count for name, count in self.injected.items() if count}
        return f"<faults({shares}, seed={self.seed}) injected={injected}>"

    def _scoped(self, scope: Scope) -> Scope:
        return scope.with_injector(self)

    # -- one request -------------------------------------------------------------------

    def exchange(self, call: Call, params: dict[str, Any]) -> Flow[Answer]:
        """The request's exchange: faults drawn for it, then sent (or not) accordingly."""
        operation = call.operation
        aimed = operation in self.operations
        rng = self._generator(operation, params) if aimed else None
        with self._lock:
            self.requests += 1
        if rng is None:
            return _send(operation, params)
        delayed = rng.random() < self.latency
        delay = rng.uniform(0.0, self.delay)
        fault = self._pick(rng.random(), operation, params)
        how = _RESETS[int(rng.random() * len(_RESETS))]
        applied = rng.random() < 0.5
        if fault == "server_errors":
            how = "lost" if applied else "dropped"
        names = (("latency",) if delayed else ()) + ((fault,) if fault else ())
        call.faults = names
        with self._lock:
            self.injected.update(names)
            if fault in ("server_errors", "resets") and how == "lost":
                self.lost_answers += 1
        return self._faulty(operation, params, fault, how, delay if delayed else 0.0, rng)

    def _generator(self, operation: str, params: dict[str, Any]) -> random.Random:
        """The random generator of this request: from the seed, its content, its repeats.

        Not its content: the ClientRequestToken (new per transaction) and the capacity
        asked for (the connection's setting), so a request meets the same faults
        whatever they are."""
        content = {key: value for key, value in params.items() if key not in _NOT_DRAWN}
        text = json.dumps([operation, content], sort_keys=True, default=_plain)
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        with self._lock:
            self._seen[digest] += 1
            repeat = self._seen[digest]
        material = b"%d:%s:%d" % (self.seed, digest, repeat)
        return random.Random(hashlib.blake2b(material, digest_size=16).digest())

    def _pick(self, draw: float, operation: str, params: dict[str, Any]) -> str | None:
        """The one exclusive fault for a request drawn ``draw`` (None: none)."""
        shares = [
            ("throttle", self.throttle),
            ("server_errors", self.server_errors),
            ("resets", self.resets),
        ]
        if operation in _BATCH_ENTRIES and _batch_size(operation, params) > 1:
            shares.append(("unprocessed", self.unprocessed))
        if operation in _TRANSACTIONS and params.get("TransactItems"):
            shares.append(("cancel_transactions", self.cancel_transactions))
        for name, share in shares:
            if draw < share:
                return name
            draw -= share
        return None

    def _faulty(
        self,
        operation: str,
        params: dict[str, Any],
        fault: str | None,
        how: str,
        delay: float,
        rng: random.Random,
    ) -> Flow[Answer]:
        if delay:
            yield Sleep(delay)
        if fault == "throttle":
            raise _throttled(operation)
        if fault == "cancel_transactions":
            raise _cancelled(operation, params, rng, self.cancel_reasons)
        if fault == "unprocessed":
            return (yield from _trimmed(operation, params, rng))
        if fault in ("server_errors", "resets") and how != "lost":
            raise _failure(operation, fault, how)
        response: Answer = yield Request(operation, params)
        if fault is not None:  # applied, and then the answer is lost
            raise _failure(operation, fault, how)
        return response


faults = Faults
"""``with faults(throttle=0.1, ...) as f:`` makes a :class:`Faults` block."""


# -- what the faults send and answer ---------------------------------------------------------


def _share(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InvalidValue(f"faults({name}={value!r}): a share of the requests, from 0 to 1")
    return float(value)


def _plain(value: Any) -> Any:
    """JSON for what a request may hold besides JSON's own types (bytes, sets)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (set, frozenset)):
        return sorted(map(repr, value))
    return repr(value)


def _send(operation: str, params: dict[str, Any]) -> Flow[Answer]:
    response: Answer = yield Request(operation, params)
    return response


def _error(operation: str, code: str, message: str, status: int, **extra: Any) -> ServiceError:
    """The typed error a transport makes of DynamoDB's answer ``code`` / ``message``."""
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
        "Message": message,
        **extra,
    }
    return error_from_response(code, message, response, operation)


def _throttled(operation: str) -> ServiceError:
    if operation in DATA_PLANE:
        return _error(operation, "ProvisionedThroughputExceededException", _THROTTLED, 400)
    return _error(
        operation, "ThrottlingException", "Rate of requests exceeds the allowed throughput.", 400
    )


def _failure(operation: str, fault: str, how: str) -> Exception:
    """A 500, or a reset: ``how`` says whether a connection was made (``refused``: none)."""
    if fault == "server_errors":
        return _error(operation, "InternalServerError", "Internal server error", 500)
    if how == "refused":
        return TransportError(
            f"{operation}: Could not connect to the endpoint URL (injected reset)", sent=False
        )
    return TransportError(
        f"{operation}: Connection was closed before we received a valid response (injected reset)",
        sent=True,
    )


def _cancelled(
    operation: str, params: dict[str, Any], rng: random.Random, codes: tuple[str, ...]
) -> ServiceError:
    """TransactionCanceledException: one action's reason drawn from ``codes``, the rest "None"."""
    actions = len(params.get("TransactItems", ()))
    failed = rng.randrange(actions)
    code = codes[rng.randrange(len(codes))]
    reasons: list[dict[str, str]] = [{"Code": "None"} for _ in range(actions)]
    reasons[failed] = {"Code": code, "Message": CANCEL_REASONS[code]}
    listed = ", ".join(reason["Code"] for reason in reasons)
    message = (
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{listed}]"
    )
    return _error(
        operation, "TransactionCanceledException", message, 400, CancellationReasons=reasons
    )


def _entries(operation: str, body: Any) -> list[Any]:
    """A batch's entries for one table: the write requests, or the keys to read."""
    key = _BATCH_ENTRIES[operation]
    return list(body if key is None else body.get(key, ()))


def _batch_size(operation: str, params: dict[str, Any]) -> int:
    return sum(len(_entries(operation, body)) for body in params.get("RequestItems", {}).values())


def _trimmed(operation: str, params: dict[str, Any], rng: random.Random) -> Flow[Answer]:
    """Send part of a batch; the rest comes back unprocessed, as DynamoDB leaves it.

    At least one entry is sent and at least one held back, since DynamoDB answers
    a batch it can do none of with ProvisionedThroughputExceeded instead.
    """
    places = [
        (table, position)
        for table, body in params["RequestItems"].items()
        for position in range(len(_entries(operation, body)))
    ]
    held = set(rng.sample(places, rng.randint(1, len(places) - 1)))
    key = _BATCH_ENTRIES[operation]
    sent: dict[str, Any] = {}
    left: dict[str, Any] = {}
    for table, body in params["RequestItems"].items():
        entries = _entries(operation, body)
        keep = [entry for at, entry in enumerate(entries) if (table, at) not in held]
        back = [entry for at, entry in enumerate(entries) if (table, at) in held]
        for part, chosen in ((sent, keep), (left, back)):
            if chosen:
                part[table] = chosen if key is None else {**body, key: chosen}
    response: Answer = yield Request(operation, {**params, "RequestItems": sent})
    field = "UnprocessedItems" if key is None else "UnprocessedKeys"
    unprocessed: dict[str, Any] = dict(response.get(field) or {})
    for table, body in left.items():
        if table in unprocessed:  # DynamoDB left some of this table's entries too
            both = _entries(operation, unprocessed[table]) + _entries(operation, body)
            body = both if key is None else {**unprocessed[table], key: both}
        unprocessed[table] = body
    return {**response, field: unprocessed}
