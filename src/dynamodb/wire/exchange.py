"""A minimal HTTP/1.1 client for one endpoint: kept-alive connections, sync and asyncio.

What the direct transport needs and no more: ``POST`` a body with given
headers, read the status line, the headers and a ``Content-Length`` or chunked
body, keep the connection for the next request. On top of the bare exchange:

- **TLS** with certificate and host name checks (:func:`tls_context`: the
  certificates botocore trusts, or a bundle: ``verify=`` or ``AWS_CA_BUNDLE``);
- **timeouts**: ``connect_timeout`` for the connection (TLS handshake
  included), ``read_timeout`` for each wait for the answer;
- **a pool** of idle connections shared by every thread (:class:`Pool`), or by
  every task of one event loop (:class:`dynamodb.wire.aexchange.AsyncPool`, which
  also caps the open connections at ``max_connections``, as aiohttp does, and
  queues the rest);
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

import collections
import contextlib
import os
import select
import socket
import weakref
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from dynamodb.core.errors import TransportError

if TYPE_CHECKING:
    import ssl  # imported when a connection speaks TLS

__all__ = ["Pool", "PoolSettings", "Response", "request_head", "tls_context"]

_MAX_HEAD = 64 * 1024  # a status line and headers longer than this are refused
_RECEIVE = 256 * 1024


class Response(NamedTuple):
    """An HTTP answer: the status, the headers (names in lowercase), the body."""

    status: int
    headers: dict[str, str]
    body: bytes


def tls_context(verify: bool | str | None) -> ssl.SSLContext:
    """The TLS settings of a connection: certificates checked unless ``verify`` is False.

    ``verify`` may name a CA bundle (a file, or a directory of certificates). None
    means what botocore trusts: ``AWS_CA_BUNDLE`` when that is set, else certifi's
    bundle when certifi is installed, else the bundle botocore ships.
    """
    import ssl

    if verify is None:
        verify = os.environ.get("AWS_CA_BUNDLE") or default_ca_bundle() or True
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


def default_ca_bundle() -> str | None:
    """The CA bundle botocore uses by default (found without importing botocore)."""
    import importlib.util

    for package, name in (("certifi", "cacert.pem"), ("botocore", "cacert.pem")):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec is not None else []:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
    return None


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
            name = name.rstrip().lower()
            if name in headers:
                headers[name] = f"{headers[name]}, {value.strip()}"
            else:
                headers[name] = value.strip()
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
    answered = False  # whether any byte of the answer came
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            status, headers, keep = _head(buffer[:end])
            if 100 <= status < 200 and status != 101:
                buffer = buffer[end + 4 :]  # 100 Continue and the like: the answer follows
                continue
            break
        if len(buffer) > _MAX_HEAD:
            raise _Malformed("the answer's headers are too long")
        chunk = sock.recv(_RECEIVE)
        if not chunk:
            raise _Dropped(answered)
        answered = True
        buffer += chunk
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


class PoolSettings:
    """Where a pool connects and how: the URL, timeouts, size, TLS (shared by both pools)."""

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
        self.opened = 0  # connections made so far (to look at, in tests)
        # An ASCII host name goes to getaddrinfo as bytes: a str would be IDNA-encoded,
        # which imports the idna codec (and unicodedata) on a cold start.
        host = self._target.host
        self._address: str | bytes = host.encode() if host.isascii() else host
        self._start()

    def _start(self) -> None:
        """Make what the pool keeps (its idle connections ...)."""

    @property
    def path(self) -> str:
        """The request target: the URL's path, ``/`` if it has none."""
        return self._target.path


class Pool(PoolSettings):
    """Kept-alive connections to one ``http(s)://host:port``, shared by every thread.

    At most ``max_connections`` idle connections are kept; a thread that finds
    none idle opens one of its own (as urllib3 does without blocking), and an
    extra one is closed when it is given back to a full pool.
    """

    def _start(self) -> None:
        self._idle: collections.deque[_Connection] = collections.deque()
        # A pool dropped unclosed closes its idle sockets (as urllib3's pools do).
        weakref.finalize(self, _close_all, self._idle)

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
            address: Any = (self._address, target.port)  # bytes work; typeshed says str
            sock = socket.create_connection(address, self.connect_timeout)
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
        except OSError as error:  # ssl.SSLError included
            sock.close()
            raise TransportError(f"{self.url}: cannot connect: {error}", sent=False) from error
        self.opened += 1
        return _Connection(sock)

    def close(self) -> None:
        """Close every idle connection (the pool makes new ones if used again)."""
        _close_all(self._idle)


def _close_all(idle: collections.deque[_Connection]) -> None:
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
