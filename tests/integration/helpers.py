"""Helpers for the integration tests: loopback servers and observable connections.

Nothing here imitates DynamoDB. ``CountingServer`` is a tiny HTTP server on
127.0.0.1 that counts the requests it gets and either never answers or answers
every request with one fixed error; it stops by itself after ``lifetime``
seconds. ``RecordingConnection`` is a real :class:`~dynamodb.Connection` that
also records which operations it sent. ``resource_warnings`` records the
ResourceWarnings of unclosed clients and sockets instead of raising them.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import socket
import socketserver
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from dynamodb import Connection
from dynamodb.core.compat import Self

__all__ = [
    "CountingServer",
    "LoopbackHTTPServer",
    "RecordingConnection",
    "closed_port",
    "dead_connection",
    "resource_warnings",
]

HOST = "127.0.0.1"

TRANSPORT = os.environ.get("DYNAMODB_TRANSPORT") or "direct"
"""The transport every connection of this run uses (``make test`` runs the suite on both)."""


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


def dead_connection() -> Connection:
    """A Connection to a closed loopback port: any request fails with TransportError."""
    return Connection(
        endpoint_url=f"http://{HOST}:{closed_port()}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=1,
    )


@contextlib.contextmanager
def resource_warnings() -> Iterator[list[str]]:
    """``with resource_warnings() as found:`` the ResourceWarnings of the block, as text.

    Garbage is collected at the end of the block, so what the block dropped warns
    inside it. A recorded warning keeps its source (a session, a socket) alive:
    only the text is kept, and garbage is collected again for what that held.
    """
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield found
        finally:
            for _ in range(3):
                gc.collect()
                found.extend(str(w.message) for w in caught if w.category is ResourceWarning)
                caught.clear()


class RecordingConnection(Connection):
    """A Connection that records ``(operation, params)`` of every request it sends."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.sent: list[tuple[str, dict[str, Any]]] = []

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.sent]

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((operation, params))
        return super().send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((operation, params))
        return await super().asend(operation, params)


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that can end its kept-alive connections.

    ``server_close()`` joins the handler threads; ``wake_handlers()`` first shuts
    down every open client socket, so handlers blocked on a kept-alive
    connection's next request finish. Clients that go away are expected, so
    errors are not printed.
    """

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__((HOST, 0), handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up; loopback needs no lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def wake_handlers(self) -> None:
        """End kept-alive connections so their handler threads finish."""
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (reset, closed) is expected here; stay quiet."""


class _Server(LoopbackHTTPServer):
    def __init__(self, owner: CountingServer) -> None:
        self.owner = owner
        super().__init__(_Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.owner._count("connections")
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 5.0

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        owner._count("requests")
        if owner.status is None:
            # Never answer: hold the request until the server stops.
            owner._stopping.wait(max(0.0, owner._deadline - time.monotonic()))
            self.close_connection = True
            return
        body = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{owner.code}", "message": owner.message}
        ).encode()
        self.send_response(owner.status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", f"test-{owner.requests}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """No request log on stderr."""


class LoopbackService:
    """A loopback HTTP server run in a thread, with a lifetime and a ``with`` block.

    Subclasses give ``_make_server()`` and ``thread_name``. The server stops on
    leaving the ``with`` block, or by itself ``lifetime`` seconds after it started.
    ``endpoint`` is its URL, and ``connection(**options)`` a Connection to it
    (dummy credentials; ``options`` as Connection's).
    """

    thread_name = "loopback-service"

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self._stopping = threading.Event()
        self._deadline = 0.0
        self._server: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _make_server(self) -> LoopbackHTTPServer:
        raise NotImplementedError

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://{HOST}:{self._server.server_address[1]}"

    def connection(self, **options: Any) -> Connection:
        """A Connection to this server (dummy credentials; ``options`` as Connection's)."""
        return Connection(
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **options,
        )

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        while not self._stopping.is_set() and time.monotonic() < self._deadline:
            server.handle_request()
        self._stopping.set()

    def start(self) -> Self:
        """Start serving in a thread; returns the service (``with`` does this)."""
        self._deadline = time.monotonic() + self.lifetime
        self._server = self._make_server()
        self._server.timeout = 0.05
        self._thread = threading.Thread(target=self._serve, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the server (its handler threads are joined)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._server is not None:
            self._server.wake_handlers()
            self._server.server_close()  # joins the handler threads
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class CountingServer(LoopbackService):
    """A loopback HTTP server in a thread that counts connections and requests.

    ``status=None`` never answers (each request is held until the server stops);
    otherwise every request gets ``status`` with a DynamoDB-style JSON error
    ``code``/``message``. The server stops on leaving the ``with`` block, or by
    itself ``lifetime`` seconds after it started.
    """

    thread_name = "counting-server"

    def __init__(
        self,
        status: int | None = None,
        code: str = "InternalServerError",
        message: str = "injected failure",
        lifetime: float = 30.0,
    ) -> None:
        super().__init__(lifetime)
        self.status = status
        self.code = code
        self.message = message
        self.connections = 0
        self.requests = 0
        self._lock = threading.Lock()

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def _make_server(self) -> LoopbackHTTPServer:
        return _Server(self)
