"""The asyncio side of :mod:`dynamodb.wire.exchange`: kept-alive connections on an event loop.

One :class:`AsyncPool` per event loop and endpoint; each connection is an
:class:`asyncio.Protocol` that parses the answer as its bytes arrive. The HTTP
rules (what an answer is, keep-alive, what counts as sent) are the sync side's.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

from dynamodb.core.errors import TransportError
from dynamodb.wire.exchange import (
    PoolSettings,
    Response,
    _body_length,
    _dechunk,
    _Dropped,
    _find_head,
    _Malformed,
    _transport_error,
    request_head,
)

__all__ = ["AsyncPool"]


class _AsyncConnection(asyncio.Protocol):
    """One kept-alive connection on an event loop; answers are parsed as data arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[Response, bool]] | None = None
        self._head: tuple[int, dict[str, str], bool, int] | None = None  # + body start
        self._length: int | None = 0

    # -- asyncio's callbacks ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            self._fail(None)  # nothing was asked: this connection cannot be trusted
            return
        self._buffer += data
        try:
            answer = self._parse()
        except _Malformed as error:
            self._fail(error)
            return
        if answer is not None:
            self._waiter = None
            waiter.set_result(answer)

    def eof_received(self) -> bool:
        waiter = self._waiter
        head = self._head
        if waiter is not None and not waiter.done() and head is not None and self._length is None:
            # the body ran until the connection closed
            status, headers, _, start = head
            self._waiter = None
            waiter.set_result((Response(status, headers, bytes(self._buffer[start:])), False))
        self._fail(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc)

    # -- use ----------------------------------------------------------------------------

    def _fail(self, error: BaseException | None) -> None:
        self.closed = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            answered = bool(self._buffer)
            waiter.set_exception(error if error is not None else _Dropped(answered))
        if self.transport is not None:
            self.transport.close()

    def _parse(self) -> tuple[Response, bool] | None:
        buffer = self._buffer
        if self._head is None:
            head = _find_head(buffer)
            if head is None:
                return None
            self._head = head
            self._length = _body_length(head[0], head[1])
        status, headers, keep, start = self._head
        length = self._length
        if length is None:
            return None  # until EOF
        if length == -1:
            found = _dechunk(buffer, start)
            if found is None:
                return None
            body, used = found
            return Response(status, headers, body), keep and used == len(buffer)
        have = len(buffer) - start
        if have < length:
            return None
        body = bytes(buffer[start : start + length])
        return Response(status, headers, body), keep and have == length

    async def exchange(
        self, data: bytes, timeout: float, loop: asyncio.AbstractEventLoop
    ) -> tuple[Response, bool]:
        transport = self.transport
        assert transport is not None
        self._buffer = bytearray()
        self._head = None
        waiter: asyncio.Future[tuple[Response, bool]] = loop.create_future()
        self._waiter = waiter
        transport.write(data)
        self.reused = True
        timer = loop.call_later(timeout, _time_out, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _time_out(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class AsyncPool(PoolSettings):
    """Kept-alive connections to one endpoint for the tasks of one event loop.

    At most ``max_connections`` are open at once; a task that finds all of them
    busy waits for one (as aiohttp's connector does), so a thousand gathered
    calls share the pool instead of opening a thousand sockets.
    """

    def _start(self) -> None:
        self._idle: collections.deque[_AsyncConnection] = collections.deque()
        self._waiting: collections.deque[asyncio.Future[_AsyncConnection | None]] = (
            collections.deque()
        )
        self._open_count = 0
        self._all: set[_AsyncConnection] = set()

    def __repr__(self) -> str:
        return f"<AsyncPool {self.url} ({len(self._idle)} idle, {self._open_count} open)>"

    async def post(self, headers: dict[str, str], body: bytes) -> Response:
        """``POST`` ``body`` on the running loop; the answer whatever its status."""
        loop = asyncio.get_running_loop()
        data = request_head(self._target.path, headers, len(body)) + body
        connection = await self._take(loop)
        try:
            response, keep = await connection.exchange(data, self.read_timeout, loop)
        except BaseException as error:
            self._forget(connection)
            if isinstance(error, asyncio.CancelledError):
                raise
            raise _transport_error(self.url, error, self.read_timeout) from error
        if keep and not connection.closed:
            self._give_back(connection)
        else:
            self._forget(connection)
        return response

    async def _take(self, loop: asyncio.AbstractEventLoop) -> _AsyncConnection:
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
            self._forget(connection)
        if self._open_count >= self.max_connections:
            waiter: asyncio.Future[_AsyncConnection | None] = loop.create_future()
            self._waiting.append(waiter)
            given = await waiter
            if given is not None and not given.closed:
                return given
            if given is not None:
                self._forget(given)
        self._open_count += 1
        try:
            return await self._open(loop)
        except BaseException:
            self._open_count -= 1
            self._wake_one()
            raise

    def _give_back(self, connection: _AsyncConnection) -> None:
        waiting = self._waiting
        while waiting:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def _forget(self, connection: _AsyncConnection) -> None:
        if connection in self._all:
            self._all.discard(connection)
            self._open_count -= 1
            self._wake_one()
        connection.close()

    def _wake_one(self) -> None:
        """A connection slot came free: a waiting task may open a connection of its own."""
        waiting = self._waiting
        while waiting:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _AsyncConnection:
        target = self._target
        connection = _AsyncConnection()
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: connection,
                    target.host,
                    target.port,
                    ssl=self._tls,
                    server_hostname=target.host if self._tls is not None else None,
                ),
                self.connect_timeout,
            )
        except (OSError, TimeoutError, asyncio.TimeoutError, ssl.SSLError) as error:
            detail = str(error) or type(error).__name__
            raise TransportError(
                f"{self.url}: cannot connect: {detail}",
                sent=False,
                timeout=isinstance(error, (TimeoutError, asyncio.TimeoutError)),
            ) from error
        transport = connection.transport
        assert transport is not None
        raw = transport.get_extra_info("socket")
        if raw is not None:
            with contextlib.suppress(OSError, AttributeError):
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._all.add(connection)
        self.opened += 1
        return connection

    def idle_connections(self) -> Iterator[_AsyncConnection]:
        """The connections not in use (to look at, in tests)."""
        return iter(list(self._idle))

    def close(self) -> None:
        """Close every connection (call it on the pool's own event loop)."""
        for connection in list(self._all):
            connection.close()
        self._all.clear()
        self._idle.clear()
        self._open_count = 0
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
