"""The sans-I/O core: operations as generators of requests.

A multi-step operation (create a table and wait, page through a scan, retry a
batch) is written once as a generator. It yields :class:`Request` (send this to
DynamoDB) or :class:`Sleep` (wait this long), receives the response dict (or has
the typed error thrown into it), and returns its result. A sync driver and an
async driver (:meth:`dynamodb.wire.connection.Connection.run` / ``arun``) run it; the
only code that differs between them is the send and the sleep.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Flow", "Request", "Sleep", "call", "sleep"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Request:
    """Send ``params`` to the DynamoDB API ``operation`` (e.g. ``"PutItem"``).

    ``idempotent`` says whether sending it twice is harmless; None (the
    default) lets :func:`dynamodb.core.retries.is_idempotent` tell from the
    request itself.
    """

    operation: str
    params: dict[str, Any]
    idempotent: bool | None = None


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` before going on."""

    seconds: float


Step = Request | Sleep
Flow = Generator[Step, Any, T]


def call(
    operation: str, params: dict[str, Any], *, idempotent: bool | None = None
) -> Flow[dict[str, Any]]:
    """One request; ``response = yield from call(...)`` inside a flow."""
    response: dict[str, Any] = yield Request(operation, params, idempotent)
    return response


def sleep(seconds: float) -> Flow[None]:
    """``yield from sleep(s)`` inside a flow."""
    yield Sleep(seconds)
