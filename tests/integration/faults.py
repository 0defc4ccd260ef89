"""A loopback proxy in front of DynamoDB Local that injects network and service faults.

:class:`FaultProxy` forwards each request to DynamoDB Local, except that for a
seeded-random share of them it

- answers HTTP 400 ``ProvisionedThroughputExceededException`` (throttling),
- answers HTTP 500 ``InternalServerError``,
- closes the connection without an answer (``drop``: nothing forwarded;
  ``lost``: forwarded, so DynamoDB applied it, but the answer is lost),
- trims a BatchWriteItem/BatchGetItem: forwards only part of its
  RequestItems and reports the rest as UnprocessedItems/UnprocessedKeys,
- damages the answer (``bad_crc``: forwarded and applied, but answered with
  an ``x-amz-crc32`` that does not match the body, as a corrupted answer),

and it can refuse some keys for good (``never``), as a DynamoDB that keeps
leaving them unprocessed. :class:`Faults` can also aim the faults at some
operations only (``operations``) and stop after a number of them (``limit``):
``Faults(lost=1.0, operations=frozenset({"PutItem"}), limit=1)`` loses exactly
the answer to the first PutItem.

``FaultProxy.connection()`` is a real :class:`~dynamodb.Connection` through the
proxy, with ``max_attempts=1`` unless told otherwise. :class:`ProxyPool` starts
proxies and closes them and their connections afterwards: the ``proxy_for`` and
``aproxy_for`` fixtures (``tests/integration/conftest.py``) are made of it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import urlsplit

from dynamodb import Connection
from tests.integration.helpers import HOST, LoopbackHTTPServer, LoopbackService

__all__ = ["FaultProxy", "Faults", "ProxyFor", "ProxyPool", "Wire"]

JSON_TYPE = "application/x-amz-json-1.0"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
BATCHES = ("BatchWriteItem", "BatchGetItem")

Wire = dict[str, Any]


@dataclass(frozen=True)
class Faults:
    """Shares (0..1) of requests that get each fault, and keys never processed.

    ``operations`` names the operations that may get a fault (None: every one);
    ``limit`` is how many faults are injected at most (None: no limit). A draw is
    made for every request either way, so a seed picks the same sequence.
    """

    throttle: float = 0.0
    server_error: float = 0.0
    drop: float = 0.0
    lost: float = 0.0
    trim: float = 0.0
    bad_crc: float = 0.0
    never: Callable[[Wire], bool] | None = None
    seed: int = 0
    operations: frozenset[str] | None = None
    limit: int | None = None

    def pick(self, rng: random.Random) -> str | None:
        draw = rng.random()
        for name in ("throttle", "server_error", "drop", "lost", "trim", "bad_crc"):
            share: float = getattr(self, name)
            if draw < share:
                return name
            draw -= share
        return None


class _Server(LoopbackHTTPServer):
    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(_Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is expected here; count it, stay quiet."""
        self.proxy.count("handler_errors")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 5.0  # an idle kept-alive connection ends its thread after this

    def log_message(self, format: str, *args: Any) -> None:
        """No request log on stderr."""

    def do_POST(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        fault = proxy.choose(operation)
        proxy.count(operation)
        if fault is not None:
            proxy.count(f"{fault}:{operation}")
        if fault == "throttle":
            proxy.count("throttle")
            self._error(400, "ProvisionedThroughputExceededException", "injected throttling")
            return
        if fault == "server_error":
            proxy.count("server_error")
            self._error(500, "InternalServerError", "injected server error")
            return
        if fault == "drop":
            proxy.count("drop")
            self._abort()
            return

        payload: Wire = json.loads(body)
        held: dict[str, Any] = {}
        if operation in BATCHES:
            payload, held = proxy.split(operation, payload, trim=fault == "trim")
        if operation not in BATCHES or payload["RequestItems"]:
            forwarded = json.dumps(payload).encode() if held else body
            status, headers, answer = proxy.forward(self.path, self.headers, forwarded)
        else:  # everything was held back: answer without asking DynamoDB
            status, headers, answer = 200, [("Content-Type", JSON_TYPE)], b"{}"
        if fault == "lost":
            proxy.count("lost")
            self._abort()
            return
        if held and status == 200:
            answer = proxy.merge(operation, answer, held)
        if fault == "bad_crc":
            proxy.count("bad_crc")
        self._reply(status, headers, answer, damaged=fault == "bad_crc")

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"__type": ERROR_PREFIX + code, "message": message}).encode()
        self._reply(status, [("Content-Type", JSON_TYPE)], body)

    def _reply(
        self, status: int, headers: list[tuple[str, str]], body: bytes, damaged: bool = False
    ) -> None:
        self.send_response(status)
        skip = {"content-length", "x-amz-crc32", "connection", "transfer-encoding"}
        skip |= {"server", "date"}  # send_response wrote its own
        for name, value in headers:
            if name.lower() not in skip:
                self.send_header(name, value)
        # botocore checks x-amz-crc32 against the body it gets: recompute it.
        crc = zlib.crc32(body) & 0xFFFFFFFF
        self.send_header("x-amz-crc32", str(crc ^ 1 if damaged else crc))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _abort(self) -> None:
        """Close the connection without an answer (a reset: SO_LINGER 0)."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


class FaultProxy(LoopbackService):
    """A loopback HTTP proxy to DynamoDB Local that injects :class:`Faults`.

    Runs in a thread; stops on leaving the ``with`` block or by itself after
    ``lifetime`` seconds. ``counts`` says how many requests of each operation it
    got and how many of each fault it injected, in all (``lost``) and by operation
    (``lost:UpdateItem``); ``trimmed``/``held`` count trimmed batches and the
    entries held back.
    """

    def __init__(self, upstream: str, faults: Faults, lifetime: float = 120.0) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname in (HOST, "localhost"), "the upstream must be on loopback"
        assert parts.port is not None
        self.upstream = (parts.hostname, parts.port)
        super().__init__(lifetime)
        self.faults = faults
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._rng = random.Random(faults.seed)
        self._injected = 0

    # -- what the handlers use ---------------------------------------------------------

    def count(self, what: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[what] += amount

    def choose(self, operation: str) -> str | None:
        """The fault for the next request (None: forward it as it is)."""
        faults = self.faults
        with self._lock:
            fault = faults.pick(self._rng)
            aimed = faults.operations is None or operation in faults.operations
            if fault is None or not aimed:
                return None
            if faults.limit is not None and self._injected >= faults.limit:
                return None
            self._injected += 1
            return fault

    def split(self, operation: str, payload: Wire, *, trim: bool) -> tuple[Wire, dict[str, Any]]:
        """(what to forward, what to hold back) of a batch request, per table."""
        never = self.faults.never or (lambda _entry: False)
        forward: dict[str, Any] = {}
        held: dict[str, Any] = {}
        for table, entry in payload["RequestItems"].items():
            entries: list[Wire] = entry["Keys"] if operation == "BatchGetItem" else entry
            keep = [one for one in entries if not never(one)]
            back = [one for one in entries if never(one)]
            if trim and len(keep) > 1:
                cut = len(keep) // 2
                keep, back = keep[:cut], keep[cut:] + back
                self.count("trimmed")
            self.count("held", len(back))
            if operation == "BatchGetItem":
                if keep:
                    forward[table] = {**entry, "Keys": keep}
                if back:
                    held[table] = {**entry, "Keys": back}
            else:
                if keep:
                    forward[table] = keep
                if back:
                    held[table] = back
        return {**payload, "RequestItems": forward}, held

    def merge(self, operation: str, answer: bytes, held: dict[str, Any]) -> bytes:
        """The response with the held-back entries added as unprocessed."""
        response: Wire = json.loads(answer)
        if operation == "BatchGetItem":
            unprocessed = response.setdefault("UnprocessedKeys", {})
            for table, entry in held.items():
                if table in unprocessed:
                    unprocessed[table]["Keys"].extend(entry["Keys"])
                else:
                    unprocessed[table] = entry
            response.setdefault("Responses", {})
        else:
            unprocessed = response.setdefault("UnprocessedItems", {})
            for table, entries in held.items():
                unprocessed.setdefault(table, []).extend(entries)
        return json.dumps(response).encode()

    def forward(
        self, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request on to DynamoDB Local; its status, headers and body."""
        host, port = self.upstream
        upstream = http.client.HTTPConnection(host, port, timeout=10.0)
        try:
            sent = {
                name: value
                for name, value in headers.items()
                if name.lower() not in ("host", "content-length", "connection", "accept-encoding")
            }
            sent["Accept-Encoding"] = "identity"
            upstream.request("POST", path, body=body, headers=sent)
            response = upstream.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            upstream.close()

    # -- running ---------------------------------------------------------------------------

    thread_name = "fault-proxy"

    def _make_server(self) -> LoopbackHTTPServer:
        return _Server(self)

    def connection(self, **options: Any) -> Connection:
        """A Connection through this proxy: max_attempts=1 (no retry) unless ``options`` say."""
        settings: dict[str, Any] = {
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
            "max_attempts": 1,
            **options,
        }
        return super().connection(**settings)


class ProxyFor(Protocol):
    """``proxy_for(Faults(...), **connection_options)`` -> a running proxy and a
    Connection through it (options as :meth:`FaultProxy.connection`'s)."""

    def __call__(self, faults: Faults, **options: Any) -> tuple[FaultProxy, Connection]: ...


class ProxyPool:
    """Proxies and their connections, started on demand and closed together.

    ``pool.start`` is a :class:`ProxyFor`; ``close()`` (sync tests) or ``aclose()``
    (async tests: each connection's async client too) closes the connections and
    stops the proxies.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.started: list[tuple[FaultProxy, Connection]] = []

    def start(self, faults: Faults, **options: Any) -> tuple[FaultProxy, Connection]:
        proxy = FaultProxy(self.upstream, faults).start()
        through = proxy.connection(**options)
        self.started.append((proxy, through))
        return proxy, through

    def close(self) -> None:
        for proxy, through in self.started:
            through.close()
            proxy.stop()
        self.started.clear()

    async def aclose(self) -> None:
        for proxy, through in self.started:
            await through.aclose()
            proxy.stop()
        self.started.clear()
