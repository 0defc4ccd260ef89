"""Fixtures for tests that talk to DynamoDB (DynamoDB Local unless DYNAMODB_ENDPOINT is set)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

import dynamodb
from dynamodb import Connection, Model


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
