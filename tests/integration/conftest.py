"""Fixtures for tests that talk to DynamoDB (DynamoDB Local unless DYNAMODB_ENDPOINT is set)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

import dynamodb
from dynamodb import Connection, Model
from tests.integration.faults import ProxyFor, ProxyPool
from tests.integration.helpers import RecordingConnection


@pytest.fixture(scope="session")
def connection(dynamodb_endpoint: str) -> Iterator[Connection]:
    """The default connection for the session, pointed at the test endpoint."""
    conn = dynamodb.set_connection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield conn
    conn.close()


@pytest.fixture
def recording(dynamodb_endpoint: str, connection: Connection) -> Iterator[RecordingConnection]:
    """A RecordingConnection to the test endpoint (``.sent`` lists every request sent),
    for ``.using(recording)`` or ``connection=recording``; closed after the test."""
    recorder = RecordingConnection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield recorder
    recorder.close()


@pytest.fixture
def tables(connection: Connection) -> Iterator[Callable[..., None]]:
    """``tables(ModelA, ModelB)`` creates fresh tables, dropped after the test."""
    created: list[type[Model]] = []

    def make(*models: type[Model]) -> None:
        for model in models:
            dynamodb.create_table(model, force=True)
            created.append(model)

    yield make
    for model in created:
        dynamodb.delete_table(model)


@pytest.fixture
async def aconnection(connection: Connection) -> AsyncIterator[Connection]:
    """The same connection for async tests; its async client is closed after the test."""
    yield connection
    await connection.aclose()


@pytest.fixture
def proxy_for(dynamodb_endpoint: str, connection: Connection) -> Iterator[ProxyFor]:
    """``proxy_for(Faults(...), **connection_options)`` -> a running fault proxy to
    DynamoDB Local and a Connection through it; both are closed after the test."""
    pool = ProxyPool(dynamodb_endpoint)
    yield pool.start
    pool.close()


@pytest.fixture
async def aproxy_for(dynamodb_endpoint: str, connection: Connection) -> AsyncIterator[ProxyFor]:
    """The async twin of ``proxy_for``: the connections' async clients are closed afterwards."""
    pool = ProxyPool(dynamodb_endpoint)
    yield pool.start
    await pool.aclose()
