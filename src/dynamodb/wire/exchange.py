"""A minimal HTTP/1.1 client for one endpoint: kept-alive connections, sync and asyncio.

What the direct transport needs and no more: ``POST`` a body with given
headers, read the status line, the headers and a ``Content-Length`` or chunked
body, keep the connection for the next request. On top of the bare exchange:

- **TLS** with certificate and host name checks (:func:`tls_context`: the
  system's certificates, or a bundle: ``verify=`` or ``AWS_CA_BUNDLE``);
- **timeouts**: ``connect_timeout`` for the connection (TLS handshake
  included), ``read_timeout`` for each wait for the answer;
- **a pool** of idle connections shared by every thread (:class:`Pool`), or by
  every task of one event loop (:class:`AsyncPool`, which also caps the open
  connections at ``max_connections``, as aiohttp does, and queues the rest);
- **stale connections**: a kept-alive connection that the server closed while it
  was idle is found before anything is written on it, and replaced by a fresh one.

Failures are :class:`~dynamodb.TransportError`: ``sent=False`` when the request
cannot have been applied (no connection could be made, or it broke before the
whole request was written: DynamoDB only acts on a complete request),
``sent=True`` when it may have been (it broke, or timed out, after that).

Proxies are not spoken here: :mod:`dynamodb.wire.direct` sends through urllib3
or aiohttp when the environment names a proxy for the endpoint.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import select
import socket
import ssl
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from dynamodb.core.errors import TransportError

__all__ = ["AsyncPool", "Pool", "Response", "tls_context"]

_MAX_HEAD = 64 * 1024  # a status line and headers longer than this are refused
_RECEIVE = 256 * 1024


class Response(NamedTuple):
    """An HTTP answer: the status, the headers (names in lowercase), the body."""

    status: int
    headers: dict[str, str]
    body: bytes


def tls_context(verify: bool | str | None) -> ssl.SSLContext:
    """The TLS settings of a connection: certificates checked unless ``verify`` is False.

    ``verify`` may name a CA bundle (a file, or a directory of certificates); None
    means ``AWS_CA_BUNDLE`` when that is set, else the system's certificates.
    """
    if verify is None:
        verify = os.environ.get("AWS_CA_BUNDLE") or True
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()


class _Target(NamedTuple):
    host: str  # as connected to (no brackets around an IPv6 address)
    port: int
    tls: bool
    path: str  # the request target of every request


def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    return _Target(parts.hostname, parts.port or (443 if tls else 80), tls, parts.path or "/")


def request_head(path: str, headers: dict[str, str], length: int) -> bytes:
    """The request line and headers of a ``POST`` of ``length`` bytes."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST {path} HTTP/1.1\r\n{lines}Content-Length: {length}\r\n\r\n".encode("latin-1")


class _Malformed(Exception):
    """The server's answer is not HTTP/1.x as this client reads it."""


def _head(block: bytes) -> tuple[int, dict[str, str], bool]:
    """(status, headers, keep-alive) of a status line and header block (no blank line)."""
    text = block.decode("latin-1")
    first, _, rest = text.partition("\r\n")
    version, _, status_text = first.partition(" ")
    if not version.startswith("HTTP/1."):
        raise _Malformed(f"not an HTTP/1.x status line: {first[:80]!r}")
    try:
        status = int(status_text[:3])
    except ValueError:
        raise _Malformed(f"bad status line: {first[:80]!r}") from None
    headers: dict[str, str] = {}
    if rest:
        for line in rest.split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon:
                raise _Malformed(f"bad header line: {line[:80]!r}")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return status, headers, keep


def _body_length(status: int, headers: dict[str, str]) -> int | None:
    """The body's length; -1 for chunked, None for "until the connection closes"."""
    if status in (204, 304) or 100 <= status < 200:
        return 0
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return -1
    length = headers.get("content-length")
    if length is None:
        return None
    try:
        value = int(length)
    except ValueError:
        raise _Malformed(f"bad Content-Length: {length!r}") from None
    if value < 0:
        raise _Malformed(f"bad Content-Length: {length!r}")
    return value


def _dechunk(data: bytes | bytearray, start: int) -> tuple[bytes, int] | None:
    """(body, end) of a complete chunked body beginning at ``start``; None if incomplete."""
    pieces: list[bytes] = []
    at = start
    while True:
        line_end = data.find(b"\r\n", at)
        if line_end < 0:
            return None
        size_text = bytes(data[at:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _Malformed(f"bad chunk size: {size_text[:20]!r}") from None
        at = line_end + 2
        if size == 0:
            # trailers (ignored) end with an empty line
            while True:
                line_end = data.find(b"\r\n", at)
                if line_end < 0:
                    return None
                if line_end == at:
                    return b"".join(pieces), line_end + 2
                at = line_end + 2
        if len(data) < at + size + 2:
            return None
        pieces.append(bytes(data[at : at + size]))
        at += size + 2


def _find_head(buffer: bytearray) -> tuple[int, dict[str, str], bool, int] | None:
    """(status, headers, keep-alive, where the body starts) once the headers are in.

    Interim answers (``100 Continue``) are dropped from ``buffer`` on the way.
    """
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _MAX_HEAD:
                raise _Malformed("the answer's headers are too long")
            return None
        status, headers, keep = _head(bytes(buffer[:end]))
        if 100 <= status < 200 and status != 101:
            del buffer[: end + 4]
            continue
        return status, headers, keep, end + 4


# -- sync -------------------------------------------------------------------------------------


class _Dropped(Exception):
    """The connection closed; ``answered`` is whether any of the answer had arrived."""

    def __init__(self, answered: bool) -> None:
        super().__init__("the connection was closed by the server")
        self.answered = answered


class _Connection:
    """One kept-alive socket (``reused`` once it has carried a request)."""

    __slots__ = ("reused", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reused = False

    def dropped(self) -> bool:
        """Whether the server closed it (or sent something unasked) while it was idle."""
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(self.sock, select.POLLIN)
                return bool(poller.poll(0))
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _read_response(sock: socket.socket) -> tuple[Response, bool]:
    buffer = b""
    while True:
        chunk = sock.recv(_RECEIVE)
        if not chunk:
            raise _Dropped(bool(buffer))
        buffer += chunk
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            status, headers, keep = _head(buffer[:end])
            if 100 <= status < 200 and status != 101:
                buffer = buffer[end + 4 :]  # 100 Continue and the like: the answer follows
                continue
            break
        if len(buffer) > _MAX_HEAD:
            raise _Malformed("the answer's headers are too long")
    start = end + 4
    length = _body_length(status, headers)
    if length is None:  # the body runs until the server closes the connection
        parts = [buffer[start:]]
        while chunk := sock.recv(_RECEIVE):
            parts.append(chunk)
        return Response(status, headers, b"".join(parts)), False
    if length == -1:
        data = bytearray(buffer)
        while (found := _dechunk(data, start)) is None:
            chunk = sock.recv(_RECEIVE)
            if not chunk:
                raise _Dropped(True)
            data += chunk
        body, used = found
        return Response(status, headers, body), keep and used == len(data)
    have = len(buffer) - start
    if have >= length:
        return Response(status, headers, buffer[start : start + length]), keep and have == length
    whole = bytearray(length)
    whole[:have] = buffer[start:]
    view = memoryview(whole)
    while have < length:
        got = sock.recv_into(view[have:])
        if not got:
            raise _Dropped(True)
        have += got
    return Response(status, headers, bytes(whole)), keep


class Pool:
    """Kept-alive connections to one ``http(s)://host:port``, shared by every thread.

    At most ``max_connections`` idle connections are kept; a thread that finds
    none idle opens one of its own (as urllib3 does without blocking), and an
    extra one is closed when it is given back to a full pool.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self._target = _target(url)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max(1, max_connections)
        self._tls = tls if tls is not None or not self._target.tls else tls_context(None)
        self._idle: collections.deque[_Connection] = collections.deque()
        self.opened = 0  # connections made so far (to look at, in tests)

    @property
    def path(self) -> str:
        """The request target: the URL's path, ``/`` if it has none."""
        return self._target.path

    def __repr__(self) -> str:
        return f"<Pool {self.url} ({len(self._idle)} idle)>"

    def post(self, headers: dict[str, str], body: bytes) -> Response:
        """``POST`` ``body``; the answer, whatever its status. Raises TransportError."""
        data = request_head(self._target.path, headers, len(body)) + body
        connection = self._take()
        try:
            connection.sock.sendall(data)
        except OSError as error:
            connection.close()
            if not (connection.reused and isinstance(error, _CLOSED_WHILE_WRITING)):
                raise TransportError(f"{self.url}: {error}", sent=False) from error
            # The server closed the kept-alive connection as the request was being
            # written: no complete request reached it. Once more, on a fresh connection.
            connection = self._open()
            try:
                connection.sock.sendall(data)
            except OSError as again:
                connection.close()
                raise TransportError(f"{self.url}: {again}", sent=False) from again
        connection.reused = True
        try:
            response, keep = _read_response(connection.sock)
        except BaseException as error:
            connection.close()
            raise _transport_error(self.url, error, self.read_timeout) from error
        if keep:
            self._give_back(connection)
        else:
            connection.close()
        return response

    def _take(self) -> _Connection:
        idle = self._idle
        while True:
            try:
                connection = idle.pop()
            except IndexError:
                return self._open()
            if connection.dropped():
                connection.close()
                continue
            return connection

    def _give_back(self, connection: _Connection) -> None:
        if len(self._idle) < self.max_connections:
            self._idle.append(connection)
        else:
            connection.close()

    def _open(self) -> _Connection:
        target = self._target
        try:
            sock = socket.create_connection((target.host, target.port), self.connect_timeout)
        except OSError as error:
            raise TransportError(
                f"{self.url}: cannot connect: {error}",
                sent=False,
                timeout=isinstance(error, TimeoutError),
            ) from error
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=target.host)
            sock.settimeout(self.read_timeout)
        except (OSError, ssl.SSLError) as error:
            sock.close()
            raise TransportError(f"{self.url}: cannot connect: {error}", sent=False) from error
        self.opened += 1
        return _Connection(sock)

    def close(self) -> None:
        """Close every idle connection (the pool makes new ones if used again)."""
        idle = self._idle
        while True:
            try:
                connection = idle.pop()
            except IndexError:
                return
            connection.close()


_CLOSED_WHILE_WRITING = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


def _transport_error(url: str, error: BaseException, read_timeout: float) -> BaseException:
    """The TransportError for what broke an exchange after the request was sent."""
    if isinstance(error, TransportError):
        return error
    if isinstance(error, TimeoutError):
        return TransportError(
            f"{url}: no answer within {read_timeout} s (read timeout)", timeout=True
        )
    if isinstance(error, _Dropped):
        return TransportError(f"{url}: the connection was closed before the answer came")
    if isinstance(error, _Malformed):
        return TransportError(f"{url}: a malformed answer: {error}")
    if isinstance(error, OSError):
        return TransportError(f"{url}: {error}")
    return error


# -- asyncio ----------------------------------------------------------------------------------


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


class AsyncPool:
    """Kept-alive connections to one endpoint for the tasks of one event loop.

    At most ``max_connections`` are open at once; a task that finds all of them
    busy waits for one (as aiohttp's connector does), so a thousand gathered
    calls share the pool instead of opening a thousand sockets.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self._target = _target(url)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max(1, max_connections)
        self._tls = tls if tls is not None or not self._target.tls else tls_context(None)
        self._idle: collections.deque[_AsyncConnection] = collections.deque()
        self._waiting: collections.deque[asyncio.Future[_AsyncConnection | None]] = (
            collections.deque()
        )
        self._open_count = 0
        self._all: set[_AsyncConnection] = set()
        self.opened = 0

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
