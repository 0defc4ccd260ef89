"""The recorder: ``with dynamodb.testing.record() as calls:`` lists each request sent.

Each entry is a :class:`~dynamodb.testing.calls.Call`: ``calls[0].operation``
is ``"Query"``, ``.table``, ``.index``, ``.key_condition`` and ``.filter`` say
what it asked, ``.items`` how many items it carried or returned. So a test can
say "this page is one Query on the email index"::

    with dynamodb.testing.record() as calls:
        users = User.query().where(User.email == "a@example.com").all()
    assert [call.operation for call in calls] == ["Query"]
    assert calls[0].index == "email_index"
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import overload

from dynamodb.testing.calls import Call
from dynamodb.testing.observe import Scope, ScopedBlock

__all__ = ["Recording", "record"]


class Recording(ScopedBlock, Sequence[Call]):
    """The calls sent inside a :func:`record` block, in the order they were sent.

    A sequence of :class:`~dynamodb.testing.calls.Call` (``len(calls)``,
    ``calls[0]``, ``for call in calls``); it keeps growing while the block runs,
    from every thread and task the block reaches. Each call is listed when it is
    sent, and its ``response`` or ``error`` is filled in when it ends. Blocks
    nest: each one lists every call made inside it.
    """

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Recording {self._calls!r}>"

    def _scoped(self, scope: Scope) -> Scope:
        return scope.with_listener(self._add)

    def _add(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def __len__(self) -> int:
        return len(self._calls)

    @overload
    def __getitem__(self, index: int) -> Call: ...

    @overload
    def __getitem__(self, index: slice) -> list[Call]: ...

    def __getitem__(self, index: int | slice) -> Call | list[Call]:
        return self._calls[index]

    def __iter__(self) -> Iterator[Call]:
        with self._lock:
            return iter(list(self._calls))

    def operations(self) -> list[str]:
        """The operation of each call, in order: ``["BatchWriteItem", "BatchWriteItem"]``."""
        return [call.operation for call in self]

    def of(self, *operations: str) -> list[Call]:
        """The calls of these operations, in order (``calls.of("Query", "Scan")``)."""
        return [call for call in self if call.operation in operations]

    def clear(self) -> None:
        """Forget the calls listed so far (the block goes on listing)."""
        with self._lock:
            self._calls.clear()


def record() -> Recording:
    """A block that lists each request sent inside it: ``with record() as calls:``.

    Every connection and transport, sync and async, in the block's thread or
    task and what that starts (tasks, a batch's threads). Inside a
    :func:`~dynamodb.testing.faults` block, or around one, each call is listed
    as the calling code sent it, and ``call.faults`` names what was injected.
    """
    return Recording()
