"""Transports wrapped for the length of a block, in one thread or task.

Inside ``with wrapping_transports(wrap):`` every :class:`~dynamodb.Connection`
sends through ``wrap(its transport)`` instead of its transport: whatever that
transport is (botocore, :class:`~dynamodb.MockTransport`, one of your own),
for sync and async calls alike. The wraps live in a ``ContextVar``, as
:func:`~dynamodb.use_connection` does: the block's thread or task sees them,
and so do the tasks it starts and the worker threads of a batch (they copy the
context); other threads and tasks do not.

:mod:`dynamodb.testing` injects faults and records requests this way. Outside
every block, :func:`effective` returns the transport itself: one ``ContextVar``
read per request is all it costs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from dynamodb.wire.transport import Transport

__all__ = ["Wrap", "effective", "wrapping_transports"]

Wrap = Callable[[Transport], Transport]
"""``wrap(transport) -> transport``: the transport to send through instead."""

_wraps: ContextVar[tuple[Wrap, ...]] = ContextVar("dynamodb_transport_wraps", default=())


def effective(transport: Transport) -> Transport:
    """``transport``, wrapped by the running context's blocks (itself outside them).

    The innermost block's wrap is applied last, so it sees a request first.
    """
    wraps = _wraps.get()
    for wrap in wraps:
        transport = wrap(transport)
    return transport


@contextlib.contextmanager
def wrapping_transports(wrap: Wrap) -> Iterator[None]:
    """Send every connection's requests through ``wrap(transport)`` inside the block.

    A wrap already in effect is not applied twice: nesting blocks of one wrap
    sends through it once. Leaving the block, also by an exception, restores
    what was in effect before it.
    """
    current = _wraps.get()
    if wrap in current:
        yield
        return
    token = _wraps.set((*current, wrap))
    try:
        yield
    finally:
        _wraps.reset(token)
