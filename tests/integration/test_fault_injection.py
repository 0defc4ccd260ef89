"""Batches through a faulty network: a loopback proxy in front of DynamoDB Local.

:class:`FaultProxy` forwards each request to DynamoDB Local, except that for a
seeded-random share of them it

- answers HTTP 400 ``ProvisionedThroughputExceededException`` (throttling),
- answers HTTP 500 ``InternalServerError``,
- closes the connection without an answer (``drop``: nothing forwarded;
  ``lost``: forwarded, so the write happened, but the answer is lost),
- trims a BatchWriteItem/BatchGetItem: forwards only part of its
  RequestItems and reports the rest as UnprocessedItems/UnprocessedKeys,

and it can refuse some keys for good (``never``), as a DynamoDB that keeps
leaving them unprocessed. The client is a real :class:`~dynamodb.Connection`
with ``max_attempts=1`` so botocore retries nothing: every fault reaches the
library's own retry logic. What is in the table afterwards is checked through
the direct (session) connection.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import pytest

from dynamodb import (
    BatchIncomplete,
    CharField,
    Connection,
    DictField,
    FloatField,
    IntegerField,
    InternalServerError,
    Model,
    ProvisionedThroughputExceeded,
    RetryPolicy,
    TransportError,
)
from tests.integration.helpers import HOST, LoopbackHTTPServer

JSON_TYPE = "application/x-amz-json-1.0"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
BATCHES = ("BatchWriteItem", "BatchGetItem")

Wire = dict[str, Any]
Tables = Callable[..., None]


class Reading(Model):
    __table_name__ = "test_fault_injection_reading"

    sensor = CharField(hash_key=True)
    seq = IntegerField(range_key=True)
    value = FloatField()
    extra = DictField()


def reading(n: int) -> dict[str, Any]:
    return {"sensor": f"s{n % 16:02d}", "seq": n, "value": n / 4, "extra": {"n": n}}


def key_of(values: dict[str, Any]) -> tuple[str, int]:
    return (values["sensor"], values["seq"])


def wire_seq(entry: Wire) -> int:
    """The ``seq`` of a put request's item, a delete request's key, or a key."""
    if "PutRequest" in entry:
        entry = entry["PutRequest"]["Item"]
    elif "DeleteRequest" in entry:
        entry = entry["DeleteRequest"]["Key"]
    return int(entry["seq"]["N"])


# -- the proxy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Faults:
    """Shares (0..1) of requests that get each fault, and keys never processed."""

    throttle: float = 0.0
    server_error: float = 0.0
    drop: float = 0.0
    lost: float = 0.0
    trim: float = 0.0
    never: Callable[[Wire], bool] | None = None
    seed: int = 0

    def pick(self, rng: random.Random) -> str | None:
        draw = rng.random()
        for name in ("throttle", "server_error", "drop", "lost", "trim"):
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
        fault = proxy.choose()
        proxy.count(operation)
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
        self._reply(status, headers, answer)

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"__type": ERROR_PREFIX + code, "message": message}).encode()
        self._reply(status, [("Content-Type", JSON_TYPE)], body)

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        skip = {"content-length", "x-amz-crc32", "connection", "transfer-encoding"}
        skip |= {"server", "date"}  # send_response wrote its own
        for name, value in headers:
            if name.lower() not in skip:
                self.send_header(name, value)
        # botocore checks x-amz-crc32 against the body it gets: recompute it.
        self.send_header("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _abort(self) -> None:
        """Close the connection without an answer (a reset: SO_LINGER 0)."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


class FaultProxy:
    """A loopback HTTP proxy to DynamoDB Local that injects :class:`Faults`.

    Runs in a thread; stops on leaving the ``with`` block or by itself after
    ``lifetime`` seconds. ``counts`` says how many requests of each operation it
    got and how many of each fault it injected (``trimmed``/``held`` count
    trimmed batches and the entries held back).
    """

    def __init__(self, upstream: str, faults: Faults, lifetime: float = 120.0) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname in (HOST, "localhost"), "the upstream must be on loopback"
        assert parts.port is not None
        self.upstream = (parts.hostname, parts.port)
        self.faults = faults
        self.lifetime = lifetime
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._rng = random.Random(faults.seed)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- what the handlers use ---------------------------------------------------------

    def count(self, what: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[what] += amount

    def choose(self) -> str | None:
        with self._lock:
            return self.faults.pick(self._rng)

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

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start the proxy first"
        return f"http://{HOST}:{self._server.server_port}"

    def connection(self, **options: Any) -> Connection:
        """A Connection through this proxy; botocore does not retry (max_attempts=1)."""
        settings: dict[str, Any] = {
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
            "max_attempts": 1,
            **options,
        }
        return Connection(
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **settings,
        )

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        deadline = time.monotonic() + self.lifetime
        while not self._stopping.is_set() and time.monotonic() < deadline:
            server.handle_request()
        self._stopping.set()

    def start(self) -> FaultProxy:
        self._server = _Server(self)
        self._server.timeout = 0.05
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._server is not None:
            self._server.wake_handlers()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture
def proxy_for(
    dynamodb_endpoint: str, connection: Connection
) -> Iterator[Callable[[Faults], tuple[FaultProxy, Connection]]]:
    """``proxy_for(Faults(...))`` -> a running proxy and a Connection through it."""
    started: list[tuple[FaultProxy, Connection]] = []

    def make(faults: Faults) -> tuple[FaultProxy, Connection]:
        proxy = FaultProxy(dynamodb_endpoint, faults).start()
        through = proxy.connection()
        started.append((proxy, through))
        return proxy, through

    yield make
    for proxy, through in started:
        through.close()
        proxy.stop()


@pytest.fixture
async def aproxy_for(
    dynamodb_endpoint: str, connection: Connection
) -> AsyncIterator[Callable[[Faults], tuple[FaultProxy, Connection]]]:
    """The async twin of ``proxy_for``: the connection's async client is closed afterwards."""
    started: list[tuple[FaultProxy, Connection]] = []

    def make(faults: Faults) -> tuple[FaultProxy, Connection]:
        proxy = FaultProxy(dynamodb_endpoint, faults).start()
        through = proxy.connection()
        started.append((proxy, through))
        return proxy, through

    yield make
    for proxy, through in started:
        await through.aclose()
        proxy.stop()


ProxyFor = Callable[[Faults], tuple[FaultProxy, Connection]]

PATIENT = RetryPolicy(max_attempts=30, base=0.001, cap=0.02)

EVERY_FAULT = Faults(throttle=0.08, server_error=0.06, drop=0.05, lost=0.05, trim=0.25, seed=11)


def missing_directly(keys: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """The keys not in the table, read through the direct connection."""
    found = Reading.batch_get(*keys, consistent=True, keep_missing=True)
    return {key_of(key) for key, item in zip(keys, found, strict=True) if item is None}


# -- the proxy itself ---------------------------------------------------------------------


def test_the_proxy_passes_requests_and_injects_typed_faults(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Reading)
    proxy, through = proxy_for(Faults())
    Reading.create(connection=through, **reading(1))
    stored = Reading.get(sensor="s01", seq=1, connection=through)
    assert stored is not None
    assert stored.value == 0.25
    assert proxy.counts["PutItem"] == proxy.counts["GetItem"] == 1

    throttling, throttled = proxy_for(Faults(throttle=1.0))
    with pytest.raises(ProvisionedThroughputExceeded, match="injected throttling"):
        Reading.get(sensor="s01", seq=1, connection=throttled)
    assert throttling.counts["throttle"] == 1  # max_attempts=1: botocore did not retry

    dropping, dropped = proxy_for(Faults(drop=1.0))
    with pytest.raises(TransportError):
        Reading.get(sensor="s01", seq=1, connection=dropped)
    assert dropping.counts["drop"] == 1


async def test_the_proxy_faults_reach_async_calls_typed(
    tables: Tables, aproxy_for: ProxyFor
) -> None:
    tables(Reading)
    Reading.create(**reading(2))
    _, throttled = aproxy_for(Faults(throttle=1.0))
    with pytest.raises(ProvisionedThroughputExceeded):
        await Reading.aget(sensor="s02", seq=2, connection=throttled)
    _, failing = aproxy_for(Faults(server_error=1.0))
    with pytest.raises(InternalServerError):
        await Reading.aget(sensor="s02", seq=2, connection=failing)
    for fault in (Faults(drop=1.0), Faults(lost=1.0)):
        _, dropped = aproxy_for(fault)
        with pytest.raises(TransportError):
            await Reading.aget(sensor="s02", seq=2, connection=dropped)


# -- everything arrives in the end ---------------------------------------------------------


def test_ten_thousand_items_through_every_fault(tables: Tables, proxy_for: ProxyFor) -> None:
    tables(Reading)
    proxy, through = proxy_for(EVERY_FAULT)
    values = [reading(n) for n in range(10_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]

    written = Reading.batch_write(values, concurrency=16, retry=PATIENT, connection=through)
    assert len(written) == 10_000

    random.Random(3).shuffle(keys)
    found = Reading.batch_get(*keys, concurrency=16, retry=PATIENT, connection=through)
    assert [key_of(item.to_dict()) for item in found] == [key_of(key) for key in keys]
    expected = {key_of(item.to_dict()): item for item in written}
    assert all(item == expected[key_of(item.to_dict())] for item in found)

    # every kind of fault did happen, and the library got past all of them
    for fault in ("throttle", "server_error", "drop", "lost", "trimmed"):
        assert proxy.counts[fault] > 0, fault
    assert proxy.counts["BatchWriteItem"] > 400
    assert proxy.counts["BatchGetItem"] > 100

    # checked through the direct connection
    assert Reading.item_count(exact=True) == 10_000
    direct = Reading.batch_get(*keys, consistent=True)
    assert direct == found


async def test_async_batches_through_every_fault(tables: Tables, aproxy_for: ProxyFor) -> None:
    tables(Reading)
    proxy, through = aproxy_for(EVERY_FAULT)
    values = [reading(n) for n in range(2_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]

    written = await Reading.abatch_write(values, concurrency=16, retry=PATIENT, connection=through)
    found = await Reading.abatch_get(*keys, concurrency=16, retry=PATIENT, connection=through)
    assert found == written
    assert missing_directly(keys) == set()

    deleted = await Reading.abatch_delete(
        keys=keys[:1_500], concurrency=16, retry=PATIENT, connection=through
    )
    assert deleted == 1_500
    assert missing_directly(keys) == {key_of(key) for key in keys[:1_500]}
    for fault in ("throttle", "server_error", "drop", "lost", "trimmed"):
        assert proxy.counts[fault] > 0, fault


def test_batch_delete_through_every_fault(tables: Tables, proxy_for: ProxyFor) -> None:
    tables(Reading)
    values = [reading(n) for n in range(1_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]
    Reading.batch_write(values)
    _proxy, through = proxy_for(EVERY_FAULT)

    assert Reading.batch_delete(keys=keys[::2], retry=PATIENT, connection=through) == 500

    assert missing_directly(keys) == {key_of(key) for key in keys[::2]}


# -- out of budget: exactly what is missing --------------------------------------------------


def test_keys_never_processed_are_exactly_those_reported(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Reading)
    refused = {seq for seq in range(1_000) if seq % 37 == 5}
    proxy, through = proxy_for(Faults(never=lambda entry: wire_seq(entry) in refused))
    values = [reading(n) for n in range(1_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]
    budget = RetryPolicy(max_attempts=2, base=0.001, cap=0.002)

    with pytest.raises(BatchIncomplete) as raised:
        Reading.batch_write(values, retry=budget, connection=through)
    error = raised.value
    expected = {key_of(reading(seq)) for seq in refused}
    assert len(error.keys) == len(refused) == 27
    assert {key_of(key) for key in error.keys} == expected
    assert error.done == 1_000 - 27
    assert len(error.unprocessed) == 27
    assert {wire_seq(entry) for entry in error.unprocessed} == refused
    assert missing_directly(keys) == expected
    assert proxy.counts["held"] == 2 * 27  # each refused item was sent twice

    # reading them back through the same proxy: the refused keys are not read
    present = [key for key in keys if key["seq"] not in refused]
    Reading.batch_write([reading(seq) for seq in refused])  # now they exist (direct)
    with pytest.raises(BatchIncomplete) as raised_read:
        Reading.batch_get(*keys, retry=budget, connection=through)
    assert {key_of(key) for key in raised_read.value.keys} == expected
    assert raised_read.value.done == len(present)
    # what was read is carried by the error, in the order asked
    assert [key_of(item.to_dict()) for item in raised_read.value.items] == [
        key_of(key) for key in present
    ]
    assert Reading.batch_get(*present, retry=budget, connection=through) == Reading.batch_get(
        *present
    )

    # deleting everything: the refused keys stay, and are exactly those reported
    with pytest.raises(BatchIncomplete) as raised_delete:
        Reading.batch_delete(keys=keys, retry=budget, connection=through)
    assert {key_of(key) for key in raised_delete.value.keys} == expected
    assert raised_delete.value.done == len(present)
    assert missing_directly(keys) == {key_of(key) for key in present}


@pytest.mark.parametrize("attempts", [1, 2])
def test_random_faults_with_a_tiny_budget_report_exactly_the_missing_keys(
    tables: Tables, proxy_for: ProxyFor, attempts: int
) -> None:
    tables(Reading)
    # no "lost" fault here: a lost answer means written but reported as left
    faults = Faults(throttle=0.15, server_error=0.1, drop=0.1, trim=0.3, seed=attempts)
    _proxy, through = proxy_for(faults)
    values = [reading(n) for n in range(2_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]
    budget = RetryPolicy(max_attempts=attempts, base=0.001, cap=0.002)

    with pytest.raises(BatchIncomplete) as raised:
        Reading.batch_write(values, concurrency=8, retry=budget, connection=through)
    error = raised.value
    left = [key_of(key) for key in error.keys]
    assert len(left) == len(set(left)) > 0
    assert set(left) == missing_directly(keys)
    assert error.done == 2_000 - len(left)

    # reads: what is reported not read is exactly what the result lacks
    with pytest.raises(BatchIncomplete) as raised_read:
        Reading.batch_get(*keys, concurrency=8, retry=budget, connection=through)
    not_read = {key_of(key) for key in raised_read.value.keys}
    assert 0 < len(not_read) == len(raised_read.value.keys)
    assert raised_read.value.done == 2_000 - len(not_read)

    # a patient retry through the same faults completes the job
    Reading.batch_write(values, concurrency=8, retry=PATIENT, connection=through)
    assert missing_directly(keys) == set()


def test_conditional_batch_puts_retry_throttling_and_report_what_is_unconfirmed(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Reading)
    _, throttled = proxy_for(Faults(throttle=0.3, seed=7))
    values = [reading(n) for n in range(100)]
    budget = RetryPolicy(max_attempts=10, base=0.001, cap=0.01)
    written = Reading.batch_write(values, overwrite=False, retry=budget, connection=throttled)
    assert len(written) == 100
    assert missing_directly([{"sensor": s, "seq": n} for s, n in map(key_of, values)]) == set()

    _, dropping = proxy_for(Faults(drop=0.3, seed=3))
    more = [reading(n) for n in range(100, 200)]
    with pytest.raises(BatchIncomplete) as raised:
        Reading.batch_write(more, overwrite=False, retry=budget, connection=dropping)
    unconfirmed = {key_of(key) for key in raised.value.keys}
    assert unconfirmed  # dropped calls were not retried: their fate is unknown to the client
    keys = [{"sensor": s, "seq": n} for s, n in map(key_of, more)]
    assert missing_directly(keys) <= unconfirmed  # whatever is missing was reported
    assert raised.value.done == 100 - len(unconfirmed)
