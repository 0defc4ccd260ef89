"""How the testing blocks see every request: one transport wrap, one scope per context.

Inside a :func:`~dynamodb.testing.faults` or :func:`~dynamodb.testing.record`
block, every connection sends through :class:`Observed` around its own
transport (:func:`dynamodb.wire.intercept.wrapping_transports`), whatever that
transport is. For each request, :class:`Observed` makes a
:class:`~dynamodb.testing.calls.Call`, hands it to the scope's listeners (the
recordings), and runs the exchange: the scope's injector's flow if a fault
block is in effect, else the plain request. The exchange is a small flow of
:class:`~dynamodb.core.flow.Request` and :class:`~dynamodb.core.flow.Sleep`
steps, so the sync and async paths differ only in how they send and sleep.

The order is fixed, whichever block is outside the other: recordings see each
request as the calling code sent it, then the faults act on it. The scope is a
``ContextVar``: the block's thread or task sees it, and so do the tasks it
starts and a batch's worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Protocol

from dynamodb.core.compat import Self
from dynamodb.core.flow import Flow, Request, Sleep, Step
from dynamodb.testing.calls import Call
from dynamodb.wire.intercept import wrapping_transports
from dynamodb.wire.transport import Transport

__all__ = ["Injector", "Listener", "Observed", "Scope", "ScopedBlock"]

Answer = dict[str, Any]
Listener = Callable[[Call], None]
"""Called with each call as it starts (a recording appends it)."""


class Injector(Protocol):
    """What a fault block does to a request: the exchange to run instead of sending it."""

    def exchange(self, call: Call, params: dict[str, Any]) -> Flow[Answer]:
        """The flow that sends (or does not send) ``params``; it returns the answer."""
        ...


@dataclass(frozen=True)
class Scope:
    """What the running context's blocks want of each request."""

    listeners: tuple[Listener, ...] = ()
    injector: Injector | None = None

    def with_listener(self, listener: Listener) -> Scope:
        """This scope, with ``listener`` told of every call too."""
        return replace(self, listeners=(*self.listeners, listener))

    def with_injector(self, injector: Injector) -> Scope:
        """This scope, with ``injector`` in place of any other."""
        return replace(self, injector=injector)


_NOTHING = Scope()  # frozen: one shared default is safe
_scope: ContextVar[Scope] = ContextVar("dynamodb_testing_scope", default=_NOTHING)


class ScopedBlock:
    """A ``with`` block that changes the scope of the running context while it lasts.

    Subclasses say how, in :meth:`_scoped`. Entering returns the object itself;
    leaving, also by an exception, restores the scope before it. What is open is
    kept per context, so one object may be entered by several tasks at once.
    """

    def _scoped(self, scope: Scope) -> Scope:
        raise NotImplementedError

    def __enter__(self) -> Self:
        stack = contextlib.ExitStack()
        token = _scope.set(self._scoped(_scope.get()))
        stack.callback(_scope.reset, token)
        stack.enter_context(wrapping_transports(Observed))
        _open.set((*_open.get(), (self, stack)))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        opened = _open.get()
        at = max(index for index, (block, _) in enumerate(opened) if block is self)
        _open.set(opened[:at] + opened[at + 1 :])
        opened[at][1].close()


_open: ContextVar[tuple[tuple[ScopedBlock, contextlib.ExitStack], ...]] = ContextVar(
    "dynamodb_testing_open_blocks", default=()
)
"""The blocks open in this context, with what closes each."""


class Observed:
    """A transport that shows each request to the scope's blocks before ``inner`` sends it."""

    __slots__ = ("inner",)

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    def __repr__(self) -> str:
        return f"<Observed {self.inner!r}>"

    def send(self, operation: str, params: dict[str, Any]) -> Answer:
        """Run the request's exchange, blocking; record its answer or error."""
        call, flow = _begin(operation, params)
        try:
            response = _run(flow, self.inner.send)
        except Exception as error:
            call.error = error
            raise
        call.response = response
        return response

    async def asend(self, operation: str, params: dict[str, Any]) -> Answer:
        """Async twin of :meth:`send`."""
        call, flow = _begin(operation, params)
        try:
            response = await _arun(flow, self.inner.asend)
        except Exception as error:
            call.error = error
            raise
        call.response = response
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()

    async def aclose(self) -> None:
        """Close the wrapped transport's async side for the running loop."""
        await self.inner.aclose()


def _begin(operation: str, params: dict[str, Any]) -> tuple[Call, Flow[Answer]]:
    scope = _scope.get()
    call = Call(operation, params)
    for listener in scope.listeners:
        listener(call)
    if scope.injector is not None:
        return call, scope.injector.exchange(call, params)
    return call, _plain(operation, params)


def _plain(operation: str, params: dict[str, Any]) -> Flow[Answer]:
    response: Answer = yield Request(operation, params)
    return response


@dataclass(frozen=True, slots=True)
class _Done:
    """What an exchange returned, once it has."""

    value: Answer


def _advance(flow: Flow[Answer], reply: Answer | None) -> Step | _Done:
    try:
        return flow.send(reply)
    except StopIteration as stop:
        return _Done(stop.value)


def _run(flow: Flow[Answer], send: Callable[[str, dict[str, Any]], Answer]) -> Answer:
    with contextlib.closing(flow):
        step = _advance(flow, None)
        while not isinstance(step, _Done):
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                step = _advance(flow, None)
            else:
                assert isinstance(step, Request)  # an exchange yields requests and sleeps
                step = _advance(flow, send(step.operation, step.params))
        return step.value


async def _arun(
    flow: Flow[Answer], send: Callable[[str, dict[str, Any]], Awaitable[Answer]]
) -> Answer:
    with contextlib.closing(flow):
        step = _advance(flow, None)
        while not isinstance(step, _Done):
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                step = _advance(flow, None)
            else:
                assert isinstance(step, Request)  # an exchange yields requests and sleeps
                step = _advance(flow, await send(step.operation, step.params))
        return step.value
