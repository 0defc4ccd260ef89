"""Connections: timeouts and retries take effect, errors come back typed, defaults are set.

The timeout and retry tests talk to tiny loopback servers (``helpers.CountingServer``)
that count the requests they get: one never answers, the others answer every
request with one DynamoDB error. They assert on the number of requests; elapsed
time is only bounded generously.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    InternalServerError,
    Model,
    ProvisionedThroughputExceeded,
    ServiceError,
    ThrottlingError,
    TransportError,
    ValidationError,
)
from dynamodb.wire.connection import LOCAL_ENDPOINT
from tests.integration.helpers import (
    TRANSPORT,
    CountingServer,
    RecordingConnection,
    dead_connection,
    resource_warnings,
)


class Ping(Model):
    __table_name__ = "test_connection_ping"

    key = CharField(hash_key=True)
    hits = IntegerField(default=0)


T = TypeVar("T")

GENEROUS = 10.0  # seconds; the point is the request count, not the clock


@pytest.fixture
def hanging() -> Iterator[CountingServer]:
    """A loopback server that reads each request and never answers."""
    with CountingServer(status=None) as server:
        yield server


@pytest.fixture
def failing() -> Iterator[CountingServer]:
    """A loopback server that answers every request with HTTP 500 InternalServerError."""
    with CountingServer(status=500, code="InternalServerError", message="injected failure") as s:
        yield s


@pytest.fixture
def default_restored(connection: Connection) -> Iterator[None]:
    """Tests that call set_connection() get the session's default connection back."""
    with dynamodb.use_connection(connection):
        yield
    assert dynamodb.get_connection() is connection


# -- timeouts and retries (sync) --------------------------------------------------


def test_read_timeout_with_retries_raises_transport_error(hanging: CountingServer) -> None:
    conn = hanging.connection(read_timeout=0.3, connect_timeout=0.3, max_attempts=3)
    started = time.monotonic()
    try:
        with pytest.raises(TransportError) as caught:
            Ping.get(key="a", connection=conn)
    finally:
        conn.close()

    assert hanging.requests == 3
    assert hanging.connections == 3  # a timed-out connection is not reused
    assert "GetItem" in str(caught.value)
    assert time.monotonic() - started < GENEROUS


def test_max_attempts_one_means_no_retry(hanging: CountingServer) -> None:
    conn = hanging.connection(read_timeout=0.3, connect_timeout=0.3, max_attempts=1)
    with conn, pytest.raises(TransportError):
        Ping.create(key="a", connection=conn)

    assert hanging.requests == 1


def test_server_errors_are_retried_max_attempts_times(failing: CountingServer) -> None:
    conn = failing.connection(max_attempts=3)
    started = time.monotonic()
    with conn, pytest.raises(InternalServerError) as caught:
        Ping.get(key="a", connection=conn)

    assert failing.requests == 3
    assert caught.value.code == "InternalServerError"
    assert caught.value.message == "injected failure"
    assert caught.value.operation == "GetItem"
    assert time.monotonic() - started < GENEROUS


@pytest.mark.parametrize(
    ("status", "code", "error", "requests"),
    [
        (400, "ProvisionedThroughputExceededException", ProvisionedThroughputExceeded, 2),
        (400, "ThrottlingException", ThrottlingError, 2),
        (400, "ValidationException", ValidationError, 1),  # not retryable
        (400, "SomethingNew", ServiceError, 1),  # an unknown code is a plain ServiceError
    ],
)
def test_retry_only_what_is_retryable(
    status: int, code: str, error: type[ServiceError], requests: int
) -> None:
    with CountingServer(status=status, code=code, message=f"{code} here") as server:
        conn = server.connection(max_attempts=2)
        with conn, pytest.raises(error) as caught:
            Ping.create(key="a", connection=conn)

        assert server.requests == requests
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.message == f"{code} here"


def test_connection_refused_raises_transport_error() -> None:
    conn = dead_connection()
    with conn, pytest.raises(TransportError) as caught:
        Ping.get(key="a", connection=conn)
    assert isinstance(caught.value, ConnectionError)  # also a builtin ConnectionError


# -- timeouts and retries (async) -----------------------------------------------


async def test_async_read_timeout_with_retries(hanging: CountingServer) -> None:
    started = time.monotonic()
    async with hanging.connection(read_timeout=0.3, connect_timeout=0.3, max_attempts=2) as conn:
        with pytest.raises(TransportError):
            await Ping.aget(key="a", connection=conn)

    assert hanging.requests == 2
    assert time.monotonic() - started < GENEROUS


async def test_async_server_errors_are_retried(failing: CountingServer) -> None:
    async with failing.connection(max_attempts=2) as conn:
        with pytest.raises(InternalServerError) as caught:
            await Ping.acreate(key="a", connection=conn)

    assert failing.requests == 2
    assert caught.value.message == "injected failure"


async def test_async_connection_refused_raises_transport_error() -> None:
    async with dead_connection() as conn:
        with pytest.raises(TransportError):
            await Ping.aget(key="a", connection=conn)


# -- async clients ------------------------------------------------------------------


async def test_async_calls_on_the_default_connection(
    aconnection: Connection, tables: Callable[..., None]
) -> None:
    tables(Ping)

    created = await Ping.acreate(key="a", hits=3)
    stored = await Ping.aget(key="a")

    assert stored == created
    assert Ping.get(key="a") == created  # the sync client sees the same table


async def test_async_with_closes_the_client_without_warnings(
    dynamodb_endpoint: str, tables: Callable[..., None]
) -> None:
    tables(Ping)
    Ping.create(key="a", hits=1)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with Connection(
            endpoint_url=dynamodb_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ) as conn:
            first = await Ping.aget(key="a", connection=conn)
        # used again after closing, it opens a new client; close that one too
        again = await Ping.aget(key="a", connection=conn)
        await conn.aclose()
        del conn
        gc.collect()

    assert first is not None
    assert first.hits == 1
    assert again == first
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_sync_with_closes_the_client(dynamodb_endpoint: str, tables: Callable[..., None]) -> None:
    tables(Ping)
    Ping.create(key="a")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Connection(
            endpoint_url=dynamodb_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ) as conn:
            assert Ping.get(key="a", connection=conn) is not None
        del conn
        gc.collect()

    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


# -- async clients over many event loops ---------------------------------------------


@pytest.fixture
def ping(tables: Callable[..., None]) -> Ping:
    """A fresh Ping table holding one item, ``key="a"``."""
    tables(Ping)
    return Ping.create(key="a", hits=2)


def local_settings(endpoint: str) -> dict[str, Any]:
    return {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


def local_connection(endpoint: str) -> Connection:
    return Connection(**local_settings(endpoint))


def async_clients(conn: Connection) -> int:
    """How many async clients the connection holds (one per event loop, at most)."""
    return len(conn._async_clients)


def shut_down(work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(work)  # closes the loop's async generators, then the loop


def closed_at_once(work: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        loop.close()  # no shutdown_asyncgens(): the loop's client cannot be closed any more


@pytest.mark.parametrize("run", [shut_down, closed_at_once])
def test_a_new_event_loop_each_time_keeps_at_most_one_async_client(
    run: Callable[[Coroutine[Any, Any, Ping | None]], Ping | None],
    dynamodb_endpoint: str,
    ping: Ping,
) -> None:
    """asyncio.run() closes each loop's client as the loop shuts down. A loop closed
    without shutting down leaves its client to the next loop, which drops it
    (aiohttp warns about it then): either way clients do not pile up."""
    with resource_warnings() as leaks:
        conn = local_connection(dynamodb_endpoint)
        for _ in range(5):
            found = run(Ping.aget(key="a", connection=conn))
            assert found == ping
            assert async_clients(conn) <= 1
        conn.close()
        assert async_clients(conn) == 0
        del conn

    if run is shut_down:
        assert leaks == []  # every client was closed, none leaked
    else:  # dropped, not closed: aiohttp's sessions, or asyncio's transports, say so
        said = "Unclosed client session" if TRANSPORT == "botocore" else "unclosed transport"
        assert any(said in leak for leak in leaks)


async def others_done() -> None:
    """Wait for every other task of the running loop (a client being closed, say)."""
    await asyncio.sleep(0)
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    if others:
        await asyncio.wait(others, timeout=GENEROUS)


async def test_close_on_the_event_loop_closes_its_async_client(
    dynamodb_endpoint: str, ping: Ping
) -> None:
    with resource_warnings() as leaks:
        conn = local_connection(dynamodb_endpoint)
        first = await Ping.aget(key="a", connection=conn)
        assert async_clients(conn) == 1
        conn.close()  # sync close(), called on the loop: the client is closed on it
        assert async_clients(conn) == 0
        again = await Ping.aget(key="a", connection=conn)  # a new client
        assert async_clients(conn) == 1
        await conn.aclose()
        assert async_clients(conn) == 0
        await others_done()
        del conn

    assert first == again == ping
    assert leaks == []


def test_close_from_another_thread_closes_the_client_on_its_loop(
    dynamodb_endpoint: str, ping: Ping
) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="other-loop")

    with resource_warnings() as leaks:
        conn = local_connection(dynamodb_endpoint)
        thread.start()
        try:
            get = Ping.aget(key="a", connection=conn)
            found = asyncio.run_coroutine_threadsafe(get, loop).result(GENEROUS)
            assert async_clients(conn) == 1
            conn.close()
            assert async_clients(conn) == 0
            asyncio.run_coroutine_threadsafe(others_done(), loop).result(GENEROUS)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(GENEROUS)
            loop.close()
        del conn

    assert found == ping
    assert leaks == []


# -- use_connection: one block per thread or task ---------------------------------------


def test_threads_in_their_own_blocks_send_through_their_own_connections(
    dynamodb_endpoint: str, ping: Ping
) -> None:
    both_inside = threading.Barrier(2, timeout=GENEROUS)
    found: dict[str, Ping | None] = {}
    errors: list[BaseException] = []

    def work(name: str, conn: RecordingConnection) -> None:
        try:
            with dynamodb.use_connection(conn):
                both_inside.wait()  # the other thread has entered its block too
                found[name] = Ping.get(key="a")
                both_inside.wait()
        except BaseException as error:
            errors.append(error)

    recordings = {
        name: RecordingConnection(**local_settings(dynamodb_endpoint))
        for name in ("first", "second")
    }
    threads = [threading.Thread(target=work, args=item) for item in recordings.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GENEROUS)
    for conn in recordings.values():
        conn.close()

    assert errors == []
    assert found["first"] == found["second"] == ping
    assert recordings["first"].operations == ["GetItem"]
    assert recordings["second"].operations == ["GetItem"]


async def test_tasks_in_their_own_blocks_send_through_their_own_connections(
    dynamodb_endpoint: str, ping: Ping
) -> None:
    recordings = [RecordingConnection(**local_settings(dynamodb_endpoint)) for _ in range(2)]

    async def work(conn: RecordingConnection) -> Ping | None:
        with dynamodb.use_connection(conn):
            await asyncio.sleep(0)  # let the other task enter its block
            return await Ping.aget(key="a")

    try:
        found = await asyncio.gather(*(work(conn) for conn in recordings))
    finally:
        for conn in recordings:
            await conn.aclose()

    assert found == [ping, ping]
    assert [conn.operations for conn in recordings] == [["GetItem"], ["GetItem"]]


# -- set_connection ---------------------------------------------------------------


@pytest.mark.usefixtures("default_restored")
def test_set_connection_local_endpoint_true() -> None:
    conn = dynamodb.set_connection(is_local_endpoint=True)

    assert dynamodb.get_connection() is conn
    assert conn.endpoint_url == "http://127.0.0.1:8000" == LOCAL_ENDPOINT
    assert conn.region_name == "us-east-1"
    assert conn.aws_access_key_id
    assert conn.aws_secret_access_key


@pytest.mark.usefixtures("default_restored")
def test_set_connection_local_endpoint_host_and_port() -> None:
    conn = dynamodb.set_connection(is_local_endpoint=("127.0.0.1", 1234))
    assert conn.endpoint_url == "http://127.0.0.1:1234"
    assert dynamodb.get_connection() is conn

    # the dynamix README's form: port as a string, keys and region given
    readme = dynamodb.set_connection(
        is_local_endpoint=("127.0.0.1", "8000"),
        aws_access_key_id="key",
        aws_secret_access_key="secret",
        region_name="ap-south-1",
    )
    assert readme.endpoint_url == "http://127.0.0.1:8000"
    assert (readme.aws_access_key_id, readme.aws_secret_access_key) == ("key", "secret")
    assert readme.region_name == "ap-south-1"
    assert dynamodb.get_connection() is readme


@pytest.mark.usefixtures("default_restored")
def test_the_dynamix_readme_connection_line_works_against_dynamodb_local(
    dynamodb_endpoint: str,
) -> None:
    host, port = dynamodb_endpoint.removeprefix("http://").split(":")
    # The README's call as written: "*" is no access key id DynamoDB Local (2.0+) takes.
    readme = dynamodb.set_connection(
        is_local_endpoint=(host, port),
        aws_access_key_id="*",
        aws_secret_access_key="*",
        region_name="ap-south-1",
    )
    try:
        dynamodb.create_table(Ping, force=True)
        Ping.create(key="readme", hits=3)
        found = Ping.get(key="readme", consistent=True)
        assert found is not None
        assert found.hits == 3
        assert dynamodb.get_connection() is readme
        dynamodb.delete_table(Ping)
    finally:
        readme.close()


@pytest.mark.usefixtures("default_restored")
def test_set_connection_passes_connection_options() -> None:
    conn = dynamodb.set_connection(
        is_local_endpoint=True, read_timeout=0.5, connect_timeout=0.25, max_attempts=2
    )
    assert (conn.read_timeout, conn.connect_timeout, conn.max_attempts) == (0.5, 0.25, 2)

    plain = dynamodb.set_connection(endpoint_url="http://127.0.0.1:4567", region_name="eu-west-1")
    assert plain.endpoint_url == "http://127.0.0.1:4567"
    assert plain.region_name == "eu-west-1"
    assert plain.max_attempts == 5  # the default counts the first attempt


@pytest.mark.usefixtures("default_restored")
def test_set_connection_refuses_two_endpoints() -> None:
    with pytest.raises(ValueError, match="not both"):
        dynamodb.set_connection(is_local_endpoint=True, endpoint_url="http://127.0.0.1:1")


def test_set_connection_default_really_is_used(
    default_restored: None, hanging: CountingServer
) -> None:
    """Calls without connection= go to whatever set_connection() made the default."""
    dynamodb.set_connection(
        is_local_endpoint=("127.0.0.1", hanging.endpoint.rsplit(":", 1)[1]),
        read_timeout=0.3,
        max_attempts=1,
    )
    try:
        with pytest.raises(TransportError):
            Ping.get(key="a")
    finally:
        dynamodb.get_connection().close()
    assert hanging.requests == 1


def test_max_attempts_counts_the_first_attempt() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        Connection(max_attempts=0)
