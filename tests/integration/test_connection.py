"""Connections: timeouts and retries take effect, errors come back typed, defaults are set.

The timeout and retry tests talk to tiny loopback servers (``helpers.CountingServer``)
that count the requests they get: one never answers, the others answer every
request with one DynamoDB error. They assert on the number of requests; elapsed
time is only bounded generously.
"""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Callable, Iterator

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
from tests.integration.helpers import CountingServer, dead_connection


class Ping(Model):
    __table_name__ = "test_connection_ping"

    key = CharField(hash_key=True)
    hits = IntegerField(default=0)


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
