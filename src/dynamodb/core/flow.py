"""The sans-I/O core: operations as generators of requests.

A multi-step operation (create a table and wait, page through a scan, retry a
batch) is written once as a generator. It yields :class:`Request` (send this to
DynamoDB), :class:`Sleep` (wait this long) or :class:`Invoke` (call user code, such
as a model's hook: awaited by the async driver when it is a coroutine), receives
the response dict (or has the typed error thrown into it), and returns its result.
A sync driver and an async driver (:meth:`dynamodb.wire.connection.Connection.run` /
``arun``) run it; the only code that differs between them is the send, the sleep and
the call of user code.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Flow", "Invoke", "Request", "Sleep", "call", "invoke", "relay", "sleep", "table_names"]

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


@dataclass(frozen=True, slots=True)
class Invoke:
    """Call ``function(*args)`` and send its result back (its error is thrown in).

    The sync driver calls it and refuses an ``async def`` function (naming
    ``label``); the async driver awaits what it returns when that is awaitable.
    """

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    label: str = ""


Step = Request | Sleep | Invoke
Flow = Generator[Step, Any, T]


def call(
    operation: str, params: dict[str, Any], *, idempotent: bool | None = None
) -> Flow[dict[str, Any]]:
    """One request; ``response = yield from call(...)`` inside a flow."""
    response: dict[str, Any] = yield Request(operation, params, idempotent)
    return response


def invoke(function: Callable[..., Any], *args: Any, label: str = "") -> Flow[Any]:
    """``result = yield from invoke(hook, item)`` inside a flow (see :class:`Invoke`)."""
    result = yield Invoke(function, args, label)
    return result


def sleep(seconds: float) -> Flow[None]:
    """``yield from sleep(s)`` inside a flow."""
    yield Sleep(seconds)


def relay(
    flow: Flow[T],
    handle: Callable[[Step], Flow[Any]],
    escape: Callable[[Exception], BaseException | None] | None = None,
) -> Flow[T]:
    """``flow``, with each of its steps passed through ``handle``.

    ``handle(step)`` is a small flow of its own: it yields the steps to send
    instead (the same one, a retry of it, a sleep ...) and returns the reply for
    ``flow``, or raises the error to throw into it. ``escape(error)`` sees an
    error ``flow`` lets out and may return another one to raise in its place.
    A flow run inside another flow (retries, error renaming) is written with this.
    """
    reply: Any = None
    failure: Exception | None = None
    try:
        while True:
            try:
                step = flow.send(reply) if failure is None else flow.throw(failure)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            except Exception as error:
                replacement = escape(error) if escape is not None else None
                if replacement is None:
                    raise
                raise replacement from error
            reply, failure = None, None
            try:
                reply = yield from handle(step)
            except Exception as error:  # thrown into the flow, which decides
                failure = error
    finally:
        flow.close()


def table_names(params: Mapping[str, Any]) -> tuple[str, ...]:
    """Every table a request's parameters name, in order, each once: its ``TableName``,
    a batch's ``RequestItems`` tables, or each ``TransactItems`` action's table."""
    name = params.get("TableName")
    if name is not None:
        return (str(name),)
    items = params.get("RequestItems")
    if isinstance(items, Mapping):
        return tuple(str(table) for table in items)
    names: dict[str, None] = {}
    for action in params.get("TransactItems") or ():
        for body in action.values() if isinstance(action, Mapping) else ():
            if isinstance(body, Mapping) and "TableName" in body:
                names[str(body["TableName"])] = None
    return tuple(names)
