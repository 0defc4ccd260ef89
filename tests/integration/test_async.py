"""The async API (issue 6) against DynamoDB Local.

Each scenario is written once against :class:`Api`, which calls a method by its
sync name: in sync mode ``await api(Item, "get", ...)`` calls ``Item.get(...)``,
in async mode it awaits ``Item.aget(...)``. Every scenario runs in both modes,
asserts what it expects, and returns what it saw; the two modes must see the
same. (So a missing ``a``-twin fails too.)

Then what only the async side has: ``async with Connection(...)`` closes its
client (pytest turns an "Unclosed client session" warning into an error), one
connection serves two event loops one after the other, and 200 gathered
``aget`` calls through a loopback proxy that delays every answer by 50 ms
overlap, without the sync path (``Connection.send``/``run``) or threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import http.client
import threading
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    Connection,
    IntegerField,
    ItemAlreadyExists,
    Model,
    SetField,
    Table,
    Transaction,
    TransactionCanceled,
)
from tests.integration.helpers import TRANSPORT

Tables = Callable[..., None]
T = TypeVar("T")
MODES = ("sync", "async")


class AsyncItem(Model):
    __table_name__ = "test_async_item"
    ReadCapacityUnits = 5
    WriteCapacityUnits = 5
    __secondary_indexes__ = {  # noqa: RUF012 - the model setting is a plain dict
        "by_title": {
            "hash_key": "title",
            "range_key": "score",
            "projections": "ALL",
            "read_capacity": 5,
            "write_capacity": 5,
        }
    }

    name = CharField(hash_key=True)
    score = IntegerField(range_key=True)
    title = CharField()
    visits = IntegerField(default=0)
    labels = SetField(of=str)


class AsyncItemResized(Model):
    """The same table with more capacity: ``Table(AsyncItemResized).update()`` changes it."""

    __table_name__ = "test_async_item"
    ReadCapacityUnits = 7
    WriteCapacityUnits = 9
    __secondary_indexes__ = AsyncItem.__secondary_indexes__

    name = CharField(hash_key=True)
    score = IntegerField(range_key=True)
    title = CharField()
    visits = IntegerField(default=0)
    labels = SetField(of=str)


class AsyncLedger(Model):
    __table_name__ = "test_async_ledger"

    account = CharField(hash_key=True)
    balance = IntegerField(default=0)


# -- running one scenario in both modes ---------------------------------------------------------


class Api:
    """Calls the sync method, or awaits its ``a``-prefixed twin, by the sync name."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __repr__(self) -> str:
        return f"<Api {self.mode}>"

    async def __call__(self, target: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            return getattr(target, method)(*args, **kwargs)
        return await getattr(target, "a" + method)(*args, **kwargs)

    async def list(self, iterable: Any) -> list[Any]:
        """``list(iterable)`` or ``[x async for x in iterable]``."""
        if self.mode == "sync":
            return list(iterable)
        return [item async for item in iterable]

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``with dynamodb.transaction()`` or ``async with dynamodb.atransaction()``."""
        if self.mode == "sync":
            with dynamodb.transaction() as tx:
                yield tx
        else:
            async with dynamodb.atransaction() as tx:
                yield tx


async def in_both_modes(scenario: Callable[[Api], Awaitable[T]]) -> T:
    """Run ``scenario`` in sync then async mode; both must see the same."""
    seen: dict[str, T] = {}
    for mode in MODES:
        try:
            seen[mode] = await scenario(Api(mode))
        except AssertionError as error:
            raise AssertionError(f"[{mode} mode] {error}") from error
    assert seen["sync"] == seen["async"]
    return seen["sync"]


def son(items: Iterable[Model | None]) -> list[Any]:
    return [None if item is None else item.to_son() for item in items]


def keyed(items: Iterable[Model]) -> list[Any]:
    """Items as data, sorted (for reads whose order DynamoDB does not fix)."""
    return sorted(son(items), key=repr)


async def fresh_tables(api: Api, *models: type[Model]) -> None:
    for model in models:
        await api(dynamodb, "create_table", model, force=True)


# -- scenarios ----------------------------------------------------------------------------------


async def items_scenario(api: Api) -> list[Any]:
    await fresh_tables(api, AsyncItem)
    seen: list[Any] = []

    created = await api(AsyncItem, "create", name="a", score=1, title="first", labels={"x"})
    seen.append(created.to_son())
    assert created.visits == 0
    with pytest.raises(ItemAlreadyExists) as exists:
        await api(AsyncItem, "create", overwrite=False, name="a", score=1, title="again")
    seen.append(str(exists.value))
    assert exists.value.item is not None
    assert exists.value.item["title"] == {"S": "first"}

    got = await api(AsyncItem, "get", name="a", score=1)
    assert got == created
    assert await api(AsyncItem, "get", name="a", score=2) is None
    assert await api(AsyncItem, "get", consistent=True, name="a", score=1) == created

    got.title = "renamed"
    saved = await api(got, "save")
    assert saved is got
    assert (await api(AsyncItem, "get", name="a", score=1)).title == "renamed"

    updated = await api(got, "update", AsyncItem.visits.add(2), AsyncItem.labels.add({"y"}))
    assert (updated.visits, updated.labels) == (2, {"x", "y"})
    counted = await api(AsyncItem, "add", name="a", score=1, visits=3)
    assert counted.visits == 5
    with pytest.raises(ConditionalCheckFailed):
        await api(got.condition(AsyncItem.visits.gt(100)), "update", title="never")

    got.set_field(AsyncItem.title, "committed")
    got.add_to_field(AsyncItem.visits, 10)
    await api(got, "commit_changes")
    assert (got.title, got.visits) == ("committed", 15)
    assert got.pending_changes == []
    seen.append((await api(AsyncItem, "get", name="a", score=1)).to_son())

    await api(AsyncItem, "create", name="b", score=1)
    assert await api(AsyncItem, "item_count", exact=True) == 2
    await api(got, "delete")
    await api(AsyncItem, "delete_by_key", name="b", score=1)
    assert await api(AsyncItem, "get", name="a", score=1) is None
    assert await api(AsyncItem, "item_count", exact=True) == 0
    return seen


async def batch_scenario(api: Api) -> list[Any]:
    await fresh_tables(api, AsyncItem)
    written = await api(
        AsyncItem,
        "batch_write",
        [{"name": "batch", "score": score, "title": f"t{score}"} for score in range(60)],
    )
    assert len(written) == 60
    asked = [{"name": "batch", "score": score} for score in (59, 3, 1000, 3, 0)]
    found = await api(AsyncItem, "batch_get", *asked, keep_missing=True)
    assert [item.score if item else None for item in found] == [59, 3, None, 3, 0]
    deleted = await api(
        AsyncItem, "batch_delete", [{"name": "batch", "score": s} for s in range(50)]
    )
    assert deleted == 50
    left = await api(AsyncItem.query().where(AsyncItem.name.eq("batch")), "count")
    assert left == 10
    return [son(found), deleted, left]


def _table_view(description: dict[str, Any]) -> dict[str, Any]:
    """What a table description says that does not change from one creation to the next."""
    throughput = description.get("ProvisionedThroughput", {})
    return {
        "name": description["TableName"],
        "status": description["TableStatus"],
        "keys": description["KeySchema"],
        "capacity": (throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")),
        "indexes": sorted(
            (index["IndexName"], repr(index["KeySchema"]), index["Projection"]["ProjectionType"])
            for index in description.get("GlobalSecondaryIndexes", [])
        ),
    }


async def table_scenario(api: Api) -> list[Any]:
    await api(dynamodb, "delete_table", AsyncItem)
    assert await api(dynamodb, "delete_table", AsyncItem) is False  # nothing left to delete
    table = Table(AsyncItem)
    created = _table_view(await api(table, "create"))
    assert created["status"] == "ACTIVE"
    assert created["capacity"] == (5, 5)
    assert created["indexes"] == [
        (
            "by_title",
            repr(
                [
                    {"AttributeName": "title", "KeyType": "HASH"},
                    {"AttributeName": "score", "KeyType": "RANGE"},
                ]
            ),
            "ALL",
        )
    ]
    info = _table_view(await api(table, "info"))
    assert info == created
    assert _table_view(await api(table, "update")) == created  # matches the model already

    resized = _table_view(await api(Table(AsyncItemResized), "update"))
    assert resized["capacity"] == (7, 9)
    assert _table_view(await api(table, "info"))["capacity"] == (7, 9)

    assert await api(table, "delete") is True
    with pytest.raises(dynamodb.ResourceNotFound):
        await api(table, "info")
    again = _table_view(await api(dynamodb, "create_table", AsyncItem))
    left_alone = _table_view(await api(dynamodb, "create_table", AsyncItem))  # exists: kept
    assert again == left_alone == created
    assert await api(dynamodb, "delete_table", AsyncItem) is True
    return [created, resized, again]


async def transaction_scenario(api: Api) -> list[Any]:
    await fresh_tables(api, AsyncLedger)
    alice = await api(AsyncLedger, "create", account="alice", balance=100)
    bob = await api(AsyncLedger, "create", account="bob", balance=5)
    await api(AsyncLedger, "create", account="dave", balance=0)
    async with api.transaction() as tx:
        tx.update(alice, AsyncLedger.balance.add(-30), condition=AsyncLedger.balance.gte(30))
        tx.update(bob, AsyncLedger.balance.add(30))
        tx.put(AsyncLedger(account="carol", balance=1))
        tx.check(AsyncLedger, {"account": "dave"}, AsyncLedger.balance.exists())
    assert (alice.balance, bob.balance) == (70, 35)  # refreshed after the commit

    read = await api(
        dynamodb,
        "transact_get",
        [alice, (AsyncLedger, {"account": "carol"}), (AsyncLedger, {"account": "nobody"})],
    )
    assert [item.balance if item else None for item in read] == [70, 1, None]

    async def overdraw() -> None:
        async with api.transaction() as tx:
            tx.update(alice, AsyncLedger.balance.add(-500), condition=AsyncLedger.balance.gte(500))
            tx.delete(bob)

    with pytest.raises(TransactionCanceled) as cancelled:
        await overdraw()
    failures = cancelled.value.failures
    assert len(failures) == 1
    assert failures[0].startswith("update AsyncLedger {'account': 'alice'}: ConditionalCheckFailed")

    async def change_mind() -> None:
        async with api.transaction() as tx:
            tx.delete(bob)
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        await change_mind()
    after = await api(dynamodb, "transact_get", [alice, bob])
    assert [item.balance for item in after] == [70, 35]  # nothing was applied
    return [son(read), failures, son(after)]


async def query_scenario(api: Api) -> list[Any]:
    await fresh_tables(api, AsyncItem)
    await api(
        AsyncItem,
        "batch_write",
        [
            {"name": name, "score": score, "title": "even" if score % 2 == 0 else "odd"}
            for name in ("q", "other")
            for score in range(25)
        ],
    )
    query = AsyncItem.query().where(AsyncItem.name.eq("q"))
    seen: list[Any] = []

    page, cursor = await api(query.limit(10), "get_items")
    assert [item.score for item in page] == list(range(10))
    assert cursor is not None
    rest, end = await api(query.limit(100).start_key(cursor), "get_items")
    assert [item.score for item in rest] == list(range(10, 25))
    assert end is None
    seen.append([son(page), son(rest)])

    first = await api(query.order_by(AsyncItem.score, asc=False), "first")
    assert first is not None
    assert first.score == 24
    assert await api(AsyncItem.query().where(AsyncItem.name.eq("none")), "first") is None
    assert await api(query, "count") == 25
    assert await api(query.where(AsyncItem.score.between(5, 9)), "count") == 5
    everything = await api.list(query.page_size(4))
    assert [item.score for item in everything] == list(range(25))
    odd = await api.list(query.where(AsyncItem.title.eq("odd")))
    assert [item.score for item in odd] == list(range(1, 25, 2))
    by_title = await api.list(
        AsyncItem.query().where(AsyncItem.title.eq("even"), AsyncItem.score.lt(6))
    )
    assert keyed(by_title) == keyed(
        [AsyncItem(name=n, score=s, title="even") for n in ("q", "other") for s in (0, 2, 4)]
    )
    seen.append([first.to_son(), son(everything), keyed(by_title)])

    scanned = await api.list(AsyncItem.scan(segments=4))
    assert len(scanned) == 50
    assert await api(AsyncItem.scan(segments=4), "count") == 50
    filtered = await api.list(AsyncItem.scan(segments=4).where(AsyncItem.score.gte(20)))
    assert sorted((item.name, item.score) for item in filtered) == [
        (name, score) for name in ("other", "q") for score in range(20, 25)
    ]
    limited = await api.list(AsyncItem.scan(segments=4).limit(7))
    assert len(limited) == 7
    seen.append([keyed(scanned), keyed(filtered)])
    return seen


@pytest.fixture
def dropped_afterwards(connection: Connection) -> Iterator[None]:
    """The scenarios make their own tables (in each mode); drop them at the end."""
    yield
    for model in (AsyncItem, AsyncLedger):
        dynamodb.delete_table(model)


@pytest.mark.parametrize(
    "scenario",
    [items_scenario, batch_scenario, table_scenario, transaction_scenario, query_scenario],
    ids=lambda scenario: scenario.__name__.removesuffix("_scenario"),
)
async def test_the_same_in_both_modes(
    scenario: Callable[[Api], Awaitable[Any]], dropped_afterwards: None, aconnection: Connection
) -> None:
    assert await in_both_modes(scenario)


async def test_a_missing_twin_fails_the_comparison() -> None:
    """The harness itself: a scenario whose modes differ, or that lacks a twin, fails."""

    async def differs(api: Api) -> str:
        return api.mode

    with pytest.raises(AssertionError):
        await in_both_modes(differs)

    class OnlySync:
        def thing(self) -> int:
            return 1

    async def missing(api: Api) -> Any:
        return await api(OnlySync(), "thing")

    with pytest.raises(AttributeError, match="athing"):
        await in_both_modes(missing)


# -- clients and event loops ----------------------------------------------------------------------


def make_connection(endpoint: str, **options: Any) -> Connection:
    return Connection(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **options,
    )


class LeakWatch:
    """Collects "Unclosed ..." warnings and event-loop complaints inside a ``with`` block."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self._catcher = warnings.catch_warnings(record=True)
        self._caught: list[warnings.WarningMessage] = []

    def __enter__(self) -> LeakWatch:
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        loop = asyncio.get_running_loop()
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(lambda _, context: self.found.append(str(context["message"])))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # A recorded warning keeps its source (the session) alive: keep only the text,
        # then collect again for what the session held (its connector).
        for _ in range(3):
            gc.collect()
            self.found.extend(str(w.message) for w in self._caught)
            self._caught.clear()
        asyncio.get_running_loop().set_exception_handler(self._previous)
        self._catcher.__exit__(kind, error, traceback)

    @property
    def unclosed(self) -> list[str]:
        return [message for message in self.found if "unclosed" in message.lower()]


async def test_async_with_connection_closes_its_client(
    tables: Tables, dynamodb_endpoint: str
) -> None:
    tables(AsyncLedger)
    AsyncLedger.create(account="x", balance=3)

    with LeakWatch() as watch:
        async with make_connection(dynamodb_endpoint) as conn:
            item = await AsyncLedger.aget(account="x", connection=conn)
            assert item is not None
            assert item.balance == 3
        del conn
    assert watch.unclosed == []

    with LeakWatch() as watch:
        leaky = make_connection(dynamodb_endpoint)
        assert await AsyncLedger.aget(account="x", connection=leaky) is not None
        sockets = [
            connection.transport
            for pool in leaky._async_clients.values()
            for connection in getattr(getattr(pool, "pool", None), "_all", ())
        ]
        del leaky
        gc.collect()
        await asyncio.sleep(0.05)  # the loop runs what a dropped connection left to close
    if TRANSPORT == "botocore":
        # The watch does see a client that was never closed.
        assert any("Unclosed client session" in message for message in watch.unclosed)
    else:
        # A direct connection dropped unclosed closes its sockets on its own loop.
        assert sockets
        assert all(transport is not None and transport.is_closing() for transport in sockets)
        assert watch.unclosed == []


def test_one_connection_on_two_event_loops(tables: Tables, dynamodb_endpoint: str) -> None:
    tables(AsyncLedger)
    conn = make_connection(dynamodb_endpoint)

    async def use(account: str) -> int | None:
        try:
            await AsyncLedger.acreate(account=account, balance=len(account), connection=conn)
            item = await AsyncLedger.aget(account=account, connection=conn)
            return item.balance if item else None
        finally:
            await conn.aclose()

    assert asyncio.run(use("first")) == 5
    assert asyncio.run(use("second")) == 6  # a new loop: a new client, the old one is closed
    assert AsyncLedger.get(account="first", connection=conn) is not None
    conn.close()


async def test_concurrent_first_calls_share_one_client(
    tables: Tables,
    dynamodb_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Credentials from a credential_process make creating the client wait; tasks that
    start meanwhile must share the one client, not each make (and leak) their own."""
    tables(AsyncLedger)
    AsyncLedger.create(account="x", balance=1)
    script = tmp_path / "credentials.sh"
    script.write_text(
        "#!/bin/sh\n"
        'echo \'{"Version": 1, "AccessKeyId": "testing", "SecretAccessKey": "testing"}\'\n'
    )
    script.chmod(0o755)
    config = tmp_path / "config"
    config.write_text(f"[profile by-process]\ncredential_process = {script}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    with LeakWatch() as watch:
        conn = Connection(
            endpoint_url=dynamodb_endpoint, region_name="us-east-1", profile_name="by-process"
        )
        async with conn:
            found = await asyncio.gather(
                *(AsyncLedger.aget(account="x", connection=conn) for _ in range(20))
            )
            assert [item.balance for item in found if item] == [1] * 20
        del conn
    assert watch.unclosed == []


# -- real concurrency: a loopback proxy that delays every answer ----------------------------------


class DelayingProxy:
    """A loopback HTTP proxy (threads) that forwards to ``upstream`` and holds each answer.

    Records, for every request, when it arrived and when its answer left, and the
    most requests it held at once. It stops on leaving the ``with`` block, or by
    itself after ``lifetime`` seconds.
    """

    def __init__(self, upstream: str, delay: float, lifetime: float = 60.0) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname in ("127.0.0.1", "localhost"), "loopback only"
        self.upstream = (parts.hostname, parts.port or 80)
        self.delay = delay
        self.lifetime = lifetime
        self.spans: list[tuple[float, float]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        """Forget what was recorded so far."""
        with self._lock:
            self.spans.clear()
            self.max_in_flight = self.in_flight

    def _enter(self) -> float:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return time.monotonic()

    def _leave(self, started: float) -> None:
        with self._lock:
            self.in_flight -= 1
            self.spans.append((started, time.monotonic()))

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, bytes]:
        host, port = self.upstream
        upstream = http.client.HTTPConnection(host, port, timeout=10)
        try:
            upstream.request("POST", path, body, headers)
            response = upstream.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            upstream.close()

    def __enter__(self) -> DelayingProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 5.0

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                started = proxy._enter()
                try:
                    headers = {
                        name: value
                        for name, value in self.headers.items()
                        if name.lower() not in ("host", "connection")
                    }
                    status, reply_headers, reply = proxy._forward(self.path, body, headers)
                    time.sleep(proxy.delay)
                finally:
                    proxy._leave(started)
                self.send_response(status)
                for name, value in reply_headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 512

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self._server.shutdown)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        assert self._timer is not None
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


async def test_200_gathered_agets_overlap(
    tables: Tables, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables(AsyncLedger)
    AsyncLedger.batch_write([{"account": f"a{i:03}", "balance": i} for i in range(200)])

    # The async path never touches the sync one (no thread pool around Connection.send).
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the async API used the sync path")

    monkeypatch.setattr(Connection, "send", refuse)
    monkeypatch.setattr(Connection, "run", refuse)
    delay = 0.05

    with DelayingProxy(dynamodb_endpoint, delay) as proxy:
        async with make_connection(proxy.endpoint, max_pool_connections=200) as conn:
            assert await AsyncLedger.aget(account="a000", connection=conn) is not None
            proxy.reset()  # the client exists now: time the requests only
            started = time.monotonic()
            found = await asyncio.gather(
                *(AsyncLedger.aget(account=f"a{i:03}", connection=conn) for i in range(200))
            )
            elapsed = time.monotonic() - started

    assert [item.balance for item in found if item] == list(range(200))
    assert len(proxy.spans) == 200
    assert all(end - start >= delay for start, end in proxy.spans)
    # One after the other this would take at least 200 x 50 ms = 10 s. The bound on the
    # elapsed time is loose on purpose (a busy 2-CPU machine); the overlap is the point.
    stats = f"max in flight {proxy.max_in_flight}, elapsed {elapsed:.2f} s"
    assert proxy.max_in_flight >= 20, stats
    assert elapsed < 200 * delay / 2, stats
