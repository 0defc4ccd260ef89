"""Things that belong to one event loop each (connection pools, client sessions).

:class:`PerLoop` keeps one resource per event loop, made on first use on that
loop. Each is closed on its own loop: by :meth:`PerLoop.aclose` there, when the
loop shuts down (``asyncio.run`` and ``asyncio.Runner`` close a loop's async
generators before closing it, and a small one closes the resource), or, by
:meth:`PerLoop.close` from anywhere, on its loop soon after. The resource of a
loop that was closed without shutting down can only be dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Generic, Protocol, TypeVar

__all__ = ["LoopResource", "PerLoop", "close_on"]


class LoopResource(Protocol):
    """What :class:`PerLoop` holds: something closed with ``await resource.aclose()``."""

    async def aclose(self) -> None: ...


R = TypeVar("R", bound=LoopResource)


class _Entry(Generic[R]):
    __slots__ = ("__weakref__", "guard", "resource")

    def __init__(self, resource: R) -> None:
        self.resource = resource
        self.guard: AsyncGenerator[None, None] | None = None


class PerLoop(Generic[R]):
    """One ``make()`` per event loop; thread-safe."""

    def __init__(self, make: Callable[[], R]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._entries: dict[asyncio.AbstractEventLoop, _Entry[R]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[asyncio.AbstractEventLoop, R]]:
        """Each loop that holds a resource, with it."""
        with self._lock:
            return [(loop, entry.resource) for loop, entry in self._entries.items()]

    def get(self, loop: asyncio.AbstractEventLoop) -> R:
        """The resource of ``loop`` (the running one), made on first use."""
        entry = self._entries.get(loop)
        if entry is not None:
            return entry.resource
        with self._lock:
            for other in [other for other in self._entries if other.is_closed()]:
                # A loop closed without shutting down: its resource cannot be closed
                # any more (that needs its loop); dropping it is all that can be done.
                self._entries.pop(other).guard = None
            entry = self._entries.get(loop)
            if entry is None:
                entry = self._entries[loop] = _Entry(self._make())
                guard = _close_at_shutdown(weakref.ref(self), entry.resource)
                # Started once, the generator is known to the loop's async generator
                # hooks, which close it when the loop shuts down.
                with contextlib.suppress(StopIteration):
                    guard.asend(None).send(None)
                entry.guard = guard
        return entry.resource

    async def _forget(self, loop: asyncio.AbstractEventLoop, resource: R) -> None:
        """Drop ``loop``'s entry if it still holds ``resource`` (its guard is closing it)."""
        with self._lock:
            entry = self._entries.get(loop)
            if entry is not None and entry.resource is resource:
                del self._entries[loop]
                entry.guard = None

    async def _release(self, loop: asyncio.AbstractEventLoop, entry: _Entry[R]) -> None:
        """Close ``entry``'s resource now (its guard's ``finally`` closes it)."""
        with self._lock:
            if self._entries.get(loop) is entry:
                del self._entries[loop]
        guard, entry.guard = entry.guard, None
        if guard is not None:
            await guard.aclose()
        else:
            await entry.resource.aclose()

    async def aclose(self) -> None:
        """Close the running loop's resource (a new one is made on use)."""
        loop = asyncio.get_running_loop()
        entry = self._entries.get(loop)
        if entry is not None:
            await self._release(loop, entry)

    def close(self) -> None:
        """Close every loop's resource on its own loop (at once when called on it)."""
        with self._lock:
            entries = list(self._entries.items())
            self._entries.clear()
        for loop, entry in entries:
            guard, entry.guard = entry.guard, None
            close_on(loop, entry.resource)
            del guard  # closed with the resource's aclose: its finally finds nothing to do


async def _close_at_shutdown(
    owner: weakref.ref[PerLoop[R]], resource: R
) -> AsyncGenerator[None, None]:
    """Closes a loop's resource when the loop shuts down, while it can still run it.

    It holds the resource, not its owner: when the owner is dropped unclosed, the
    loop's async generator finalizer runs this ``finally`` on the loop, so even a
    connection nobody closed leaves no socket open behind it.
    """
    try:
        yield
    finally:
        keeper = owner()
        if keeper is not None:
            await keeper._forget(asyncio.get_running_loop(), resource)
        await resource.aclose()


_CLOSING: set[asyncio.Task[None]] = set()  # closing tasks, kept until done


def _start_closing(resource: LoopResource) -> None:
    task = asyncio.get_running_loop().create_task(resource.aclose())
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


def close_on(loop: asyncio.AbstractEventLoop, resource: LoopResource) -> None:
    """Close ``resource`` on its own loop, as soon as that loop runs (at once on it)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _start_closing(resource)
        return
    # A closed loop (call_soon_threadsafe raises RuntimeError) cannot close anything
    # any more: the resource is dropped.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_start_closing, resource)
