"""Batch flows: BatchGetItem and BatchWriteItem in chunks that never lose an item.

Pure: flows yield requests and sleeps (see :mod:`dynamodb.core.flow`); keys and
items are wire dicts and the model layer converts. Work is cut into chunks (100
keys per BatchGetItem, 25 writes per BatchWriteItem), one flow per chunk, so a
driver can keep several in flight (``Connection.run_many``/``arun_many``).

Each chunk retries what DynamoDB left (UnprocessedKeys / UnprocessedItems) and
calls that failed with throttling, a 500 or a dropped connection, with
exponential backoff and full jitter (a random delay in ``[0, min(cap, base *
2**attempt)]``), up to ``RetryPolicy.max_attempts`` calls. When the budget runs
out, :class:`BatchIncomplete` names exactly the keys that were not read or
written; :func:`gather` merges the chunks' outcomes into one such error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from dynamodb.core.codec import Item
from dynamodb.core.errors import (
    BatchIncomplete,
    InternalServerError,
    ThrottlingError,
    TransportError,
)
from dynamodb.core.expressions import Path, Placeholders
from dynamodb.core.flow import Flow, call, sleep
from dynamodb.core.retries import RetryPolicy

_logger = logging.getLogger("dynamodb.batch")

__all__ = [
    "BatchIncomplete",
    "batch_get",
    "gather",
    "get_chunks",
    "key_identity",
    "unique_writes",
    "write_chunks",
]

T = TypeVar("T")
KeyIdentity = tuple[tuple[str, str, Any], ...]
OnChunk = Callable[[int], None]

GET_CHUNK = 100
WRITE_CHUNK = 25
_RETRYABLE = (ThrottlingError, InternalServerError, TransportError)


def key_identity(item: Item, key_names: Sequence[str]) -> KeyIdentity:
    """A hashable identity of an item's key (its key attributes' tags and values)."""
    parts = []
    for name in key_names:
        ((tag, raw),) = item[name].items()
        parts.append((name, tag, bytes(raw) if tag == "B" else raw))
    return tuple(parts)


def _retrying(
    operation: str,
    pending: list[dict[str, Any]],
    build: Callable[[list[dict[str, Any]]], dict[str, Any]],
    left_of: Callable[[dict[str, Any]], list[dict[str, Any]]],
    policy: RetryPolicy,
) -> Flow[list[dict[str, Any]]]:
    """Send ``build(pending)`` until nothing is left; the responses of the calls."""
    responses: list[dict[str, Any]] = []
    attempt = 0
    while pending:
        cause: Exception | None = None
        try:
            response = yield from call(operation, build(pending))
        except _RETRYABLE as error:
            left, cause = pending, error
        else:
            responses.append(response)
            left = left_of(response)
        if not left:
            break
        attempt += 1
        if attempt >= policy.max_attempts:
            reason = f" (last error: {cause})" if cause is not None else ""
            incomplete = BatchIncomplete(
                f"{operation}: {len(left)} left after {attempt} attempts{reason}", left
            )
            incomplete.partial = responses
            _logger.warning(
                "%s gives up: %d requests left unprocessed after %d attempts%s",
                operation,
                len(left),
                attempt,
                f" (last error: {type(cause).__name__})" if cause is not None else "",
            )
            raise incomplete
        pending = left
        yield from sleep(policy.delay(attempt))
    return responses


def _get_chunk(
    table: str,
    keys: list[Item],
    extra: dict[str, Any],
    policy: RetryPolicy,
    on_chunk: OnChunk | None,
) -> Flow[list[Item]]:
    def items_of(responses: list[dict[str, Any]]) -> list[Item]:
        return [
            item for response in responses for item in response.get("Responses", {}).get(table, [])
        ]

    try:
        responses = yield from _retrying(
            "BatchGetItem",
            keys,
            lambda pending: {"RequestItems": {table: {"Keys": pending, **extra}}},
            lambda response: response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []),
            policy,
        )
    except BatchIncomplete as error:
        error.partial = items_of(error.partial)  # the keys that were read are not lost
        raise
    if on_chunk is not None:
        on_chunk(len(keys))
    return items_of(responses)


def get_chunks(
    table: str,
    keys: Iterable[Item],
    key_names: Sequence[str],
    *,
    consistent: bool = False,
    attributes: Sequence[str | Path] | None = None,
    policy: RetryPolicy | None = None,
    on_chunk: OnChunk | None = None,
) -> list[Flow[list[Item]]]:
    """One flow per 100 distinct keys; each returns the items found."""
    unique = list({key_identity(key, key_names): key for key in keys}.values())
    extra: dict[str, Any] = {}
    if consistent:
        extra["ConsistentRead"] = True
    if attributes is not None:
        placeholders = Placeholders()
        wanted = dict.fromkeys([*key_names, *attributes])
        extra["ProjectionExpression"] = placeholders.projection(wanted)
        extra["ExpressionAttributeNames"] = placeholders.names
    policy = policy or RetryPolicy()
    return [
        _get_chunk(table, unique[start : start + GET_CHUNK], extra, policy, on_chunk)
        for start in range(0, len(unique), GET_CHUNK)
    ]


def batch_get(
    chunks: Iterable[Flow[list[Item]]], key_names: Sequence[str]
) -> Flow[dict[KeyIdentity, Item]]:
    """Run ``chunks`` (from :func:`get_chunks`) one after another: ``{key identity: item}``."""
    found: dict[KeyIdentity, Item] = {}
    for chunk in chunks:
        for item in (yield from chunk):
            found[key_identity(item, key_names)] = item
    return found


def _write_key(request: dict[str, Any], key_names: Sequence[str]) -> KeyIdentity:
    if "PutRequest" in request:
        return key_identity(request["PutRequest"]["Item"], key_names)
    return key_identity(request["DeleteRequest"]["Key"], key_names)


def unique_writes(
    requests: Iterable[dict[str, Any]], key_names: Sequence[str]
) -> tuple[list[dict[str, Any]], list[KeyIdentity]]:
    """The requests with one per key, the last one winning, and the keys that repeated.

    DynamoDB refuses a BatchWriteItem with one key twice, and chunks run
    concurrently, so duplicates are settled before chunking.
    """
    latest: dict[KeyIdentity, dict[str, Any]] = {}
    repeated: list[KeyIdentity] = []
    for request in requests:
        identity = _write_key(request, key_names)
        if identity in latest:
            repeated.append(identity)
            del latest[identity]  # keep the order of the last occurrence
        latest[identity] = request
    return list(latest.values()), repeated


def _write_chunk(
    table: str, requests: list[dict[str, Any]], policy: RetryPolicy, on_chunk: OnChunk | None
) -> Flow[int]:
    yield from _retrying(
        "BatchWriteItem",
        requests,
        lambda pending: {"RequestItems": {table: pending}},
        lambda response: response.get("UnprocessedItems", {}).get(table, []),
        policy,
    )
    if on_chunk is not None:
        on_chunk(len(requests))
    return len(requests)


def write_chunks(
    table: str,
    requests: Sequence[dict[str, Any]],
    *,
    policy: RetryPolicy | None = None,
    on_chunk: OnChunk | None = None,
) -> list[Flow[int]]:
    """One flow per 25 write requests (PutRequest/DeleteRequest); each returns its count."""
    policy = policy or RetryPolicy()
    return [
        _write_chunk(table, list(requests[start : start + WRITE_CHUNK]), policy, on_chunk)
        for start in range(0, len(requests), WRITE_CHUNK)
    ]


def gather(outcomes: Sequence[T | Exception], sizes: Sequence[int], label: str) -> list[T]:
    """The chunks' results, or one error for all of them.

    Any error other than BatchIncomplete is raised as it is (the first one);
    otherwise every chunk's leftovers go into one BatchIncomplete, with how
    many items did succeed.
    """
    results: list[T] = []
    left: list[dict[str, Any]] = []
    done = 0
    for outcome, size in zip(outcomes, sizes, strict=True):
        if isinstance(outcome, BatchIncomplete):
            left.extend(outcome.unprocessed)
            done += size - len(outcome.unprocessed)
        elif isinstance(outcome, Exception):
            raise outcome
        else:
            results.append(outcome)
            done += size
    if left:
        raise BatchIncomplete(
            f"{label}: {len(left)} of {done + len(left)} not done after every retry; "
            "see .keys (nothing else was lost)",
            left,
            done,
        )
    return results
