"""How a :class:`~dynamodb.Connection` sends a request: the :class:`Transport` interface.

A transport takes one DynamoDB API call, an operation name (``"PutItem"``) and
its parameters as DynamoDB's JSON has them (``{"TableName": ..., "Item": {...}}``),
and gives back the parsed answer, or raises the typed error. Everything above
it (flows, retries of batches, decoding) is the same whatever the transport.

The default transport is :class:`dynamodb.wire.aws.BotocoreTransport`
(botocore, and aiobotocore for the async API). :class:`MockTransport` answers
with a function instead, for tests. A transport that speaks HTTP itself would
implement the same four methods.

The four operations of the DynamoDB Streams API (``GetRecords`` ...) belong to
another service, with its own endpoint on AWS and its own ``X-Amz-Target``
prefix: :func:`dynamodb.core.services.service_of` says which service an
operation goes to, for every transport.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Handler", "MockTransport", "Transport"]


class Transport(Protocol):
    """What a :class:`~dynamodb.Connection` sends its requests through.

    ``send`` and ``asend`` do one DynamoDB API call each. They return the
    answer as a dict (DynamoDB's JSON, parsed; binary values as ``bytes``).
    An error answered by DynamoDB is raised as the
    :class:`~dynamodb.ServiceError` subclass for its code
    (:func:`dynamodb.core.errors.error_from_response` picks it), and a request
    that got no answer as :class:`~dynamodb.TransportError`: flows catch these
    to retry or explain. Any other exception is a bug and is not caught.

    A transport sends each call once: the connection retries it by what it does
    (:mod:`dynamodb.core.retries`), the same whatever the transport. An error for
    a request known not to have reached DynamoDB (the connection could not be
    made) is a ``TransportError(..., sent=False)``. A transport is shared by every
    thread and task that uses its connection.
    """

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Do one API call (``"GetItem"``, ``{"TableName": ..., "Key": ...}``), blocking."""
        ...

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Do one API call on the running event loop."""
        ...

    def close(self) -> None:
        """Release what the transport holds (clients, sockets); using it again reopens them."""
        ...

    async def aclose(self) -> None:
        """Release what the running event loop's requests hold."""
        ...


Handler = Callable[[str, dict[str, Any]], dict[str, Any]]
"""``handler(operation, params) -> response``, as :class:`MockTransport` calls it."""


class MockTransport:
    """A transport that answers every request with ``handler(operation, params)``.

    For tests of code that uses dynamodb-py: no server, no network, no botocore.
    ``Connection(transport=MockTransport(handler))`` runs every flow against
    the handler, sync and async::

        def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
            if operation == "GetItem":
                return {"Item": {"name": {"S": "gs"}, "score": {"N": "100"}}}
            raise dynamodb.ResourceNotFound("no such table", operation=operation)

        connection = dynamodb.Connection(transport=dynamodb.MockTransport(handler))
        Test.get(name="gs", score=100, connection=connection)

    The handler gets the operation name and the request as DynamoDB's JSON
    has it (AttributeValues such as ``{"S": "gs"}``), and returns the answer
    in the same form (``{"Item": ...}``, ``{"Items": [...], "Count": 1}``, or
    ``{}``). To answer with an error it raises one of dynamodb-py's errors
    (``dynamodb.ConditionalCheckFailed("the condition is false")``; give
    ``response={"Item": ...}`` for ``ALL_OLD``): the calling code sees it exactly
    as if DynamoDB had answered so, retries included: a throttling error or
    ``TransportError`` is retried by the connection's rules, as it would be from
    DynamoDB. Requests and answers are copied, so a handler may keep or change
    what it got or gave.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def __repr__(self) -> str:
        handler = self.handler
        name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
        return f"<MockTransport {name}>"

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Answer with the handler's response (or raise what the handler raised)."""
        return copy.deepcopy(self.handler(operation, copy.deepcopy(params)))

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Async twin of :meth:`send` (the handler itself is a plain function)."""
        return self.send(operation, params)

    def close(self) -> None:
        """Nothing to release."""

    async def aclose(self) -> None:
        """Nothing to release."""
