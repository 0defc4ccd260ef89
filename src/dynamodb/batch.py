"""Batch flows: BatchGetItem with chunking, de-duplication and retry of what DynamoDB left.

Pure: the flows yield requests and sleeps (see :mod:`dynamodb.flow`). Keys and
items are wire dicts; the model layer converts.

Retries use exponential backoff with full jitter (a random delay between 0 and
``min(cap, base * 2**attempt)``), within a budget of attempts; when the budget
runs out, :class:`BatchIncomplete` names exactly the keys that were left.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .codec import AttributeValue
from .exceptions import DynamoDBError
from .expressions import Placeholders
from .flow import Flow, call, sleep

__all__ = ["BatchIncomplete", "RetryPolicy", "batch_get", "key_identity"]

Item = dict[str, AttributeValue]
KeyIdentity = tuple[tuple[str, str, Any], ...]

GET_CHUNK = 100


class BatchIncomplete(DynamoDBError):
    """A batch ran out of retries; ``unprocessed`` holds exactly the keys or items left."""

    def __init__(self, message: str, unprocessed: list[Item]) -> None:
        self.unprocessed = unprocessed
        super().__init__(message)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for retrying what a batch call left unprocessed.

    ``max_attempts`` counts the calls for one chunk, the first included.
    """

    max_attempts: int = 10
    base: float = 0.05
    cap: float = 5.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        ceiling = min(self.cap, self.base * (2**attempt))
        return (rng or random).uniform(0.0, ceiling)


def key_identity(item: Item, key_names: Sequence[str]) -> KeyIdentity:
    """A hashable identity of an item's key (its key attributes' tags and values)."""
    parts = []
    for name in key_names:
        ((tag, raw),) = item[name].items()
        parts.append((name, tag, bytes(raw) if tag == "B" else raw))
    return tuple(parts)


def _unique(keys: Iterable[Item], key_names: Sequence[str]) -> list[tuple[KeyIdentity, Item]]:
    seen: dict[KeyIdentity, Item] = {}
    for key in keys:
        seen.setdefault(key_identity(key, key_names), key)
    return list(seen.items())


def batch_get(
    table: str,
    keys: Iterable[Item],
    key_names: Sequence[str],
    *,
    consistent: bool = False,
    attributes: Sequence[str] | None = None,
    policy: RetryPolicy | None = None,
) -> Flow[dict[KeyIdentity, Item]]:
    """Read items by key; returns ``{key identity: item}`` for the keys that exist.

    Duplicate keys are sent once; keys go in chunks of 100; UnprocessedKeys are
    retried with backoff until ``policy.max_attempts`` calls of a chunk.
    """
    policy = policy or RetryPolicy()
    pending = [key for _, key in _unique(keys, key_names)]
    found: dict[KeyIdentity, Item] = {}
    extra: dict[str, Any] = {}
    if consistent:
        extra["ConsistentRead"] = True
    if attributes is not None:
        placeholders = Placeholders()
        wanted = list(dict.fromkeys([*key_names, *attributes]))
        extra["ProjectionExpression"] = ", ".join(placeholders.name(name) for name in wanted)
        extra["ExpressionAttributeNames"] = placeholders.names
    while pending:
        chunk, pending = pending[:GET_CHUNK], pending[GET_CHUNK:]
        attempt = 0
        while chunk:
            request = {"RequestItems": {table: {"Keys": chunk, **extra}}}
            response = yield from call("BatchGetItem", request)
            for item in response.get("Responses", {}).get(table, []):
                found[key_identity(item, key_names)] = item
            left = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not left:
                break
            attempt += 1
            if attempt >= policy.max_attempts:
                raise BatchIncomplete(
                    f"BatchGetItem on {table}: {len(left) + len(pending)} keys still unread "
                    f"after {attempt} attempts",
                    [*left, *pending],
                )
            chunk = left
            yield from sleep(policy.delay(attempt))
    return found
