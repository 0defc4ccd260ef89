"""What the pytest fixtures are made of, for any test runner: a test's connection and tables.

:func:`connect_for_test` makes a :class:`~dynamodb.Connection` to a test
endpoint, with a table prefix of its own when the connection takes one;
:func:`as_default` makes it the process-wide default for a block (every thread
and task sees it); :class:`Tables` creates models' tables on it and drops them
afterwards. The ``dynamodb_connection`` and ``dynamodb_tables`` fixtures of
:mod:`dynamodb.testing.plugin` are these, per test; a ``unittest`` ``setUp`` /
``tearDown`` can use them the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import ipaddress
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from dynamodb.core.errors import DynamoDBError, InvalidArgument
from dynamodb.models.model import Model
from dynamodb.models.table import Table, create_table, delete_table
from dynamodb.wire.connection import Connection, replace_default_connection

__all__ = [
    "Tables",
    "as_default",
    "connect_for_test",
    "is_loopback",
    "takes_table_prefix",
    "unique_prefix",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def is_loopback(endpoint: str) -> bool:
    """Whether ``endpoint`` is on this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    host = urlsplit(endpoint).hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def takes_table_prefix() -> bool:
    """Whether this version's :class:`~dynamodb.Connection` takes ``table_prefix=``."""
    return "table_prefix" in inspect.signature(Connection).parameters


def connect_for_test(endpoint: str, test_id: str = "test", **options: Any) -> Connection:
    """A connection to the test endpoint ``endpoint``, for the test ``test_id``.

    On a loopback endpoint (DynamoDB Local, moto) the credentials are
    placeholders, so your own are never sent to it; elsewhere they come from the
    AWS environment, as with boto3. The region is ``$AWS_DEFAULT_REGION``
    (or ``$AWS_REGION``), else ``us-east-1``. When the connection takes a
    ``table_prefix``, it gets one made of ``name`` and a random part, so each
    test has tables of its own. ``options`` go to :class:`~dynamodb.Connection`.
    """
    settings: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": os.environ.get("AWS_DEFAULT_REGION")
        or os.environ.get("AWS_REGION")
        or "us-east-1",
    }
    if is_loopback(endpoint):
        settings["aws_access_key_id"] = "testing"
        settings["aws_secret_access_key"] = "testing"
    if takes_table_prefix():
        settings["table_prefix"] = unique_prefix(test_id)
    settings.update(options)
    return Connection(**settings)


def unique_prefix(test_id: str) -> str:
    """A table name prefix of the test ``test_id``: ``test_orders-1a2b3c4d-``.

    Its readable part is the test's name (the end of the id), its hash part is
    the whole id and the pytest-xdist worker, if any: unique to the test in a
    session, and the same in every run, so the requests a test sends (which
    name its tables) are the same in every run, and so are the faults they meet.
    """
    readable = _UNSAFE.sub("_", test_id.rsplit("::", 1)[-1]).strip("_")[:40] or "test"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    digest = hashlib.blake2b(f"{worker}:{test_id}".encode(), digest_size=4).hexdigest()
    return f"{readable}-{digest}-"


@contextlib.contextmanager
def as_default(connection: Connection) -> Iterator[Connection]:
    """Make ``connection`` the process-wide default connection for the block.

    Every thread and task without a :func:`~dynamodb.use_connection` block of its
    own uses it, threads the code under test starts included. The default in
    effect before comes back at the end of the block, whatever the block set.
    """
    previous = replace_default_connection(connection)
    try:
        yield connection
    finally:
        replace_default_connection(previous)


class Tables:
    """``tables(User, Order)`` creates those models' tables on ``connection``; ``drop()``
    deletes them again.

    A table left over with the same name is dropped and created anew, so each
    test starts empty. A model that names a connection of its own
    (``__connection__``) other than ``connection`` is refused, since its calls
    would not go to the test's endpoint.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.created: list[type[Model]] = []

    def __call__(self, *models: type[Model]) -> list[Table]:
        """Create the tables of ``models``; their :class:`~dynamodb.Table` objects, one per model.

        A model given twice, or again in the same test, is created once.
        """
        for model in models:
            own = getattr(model, "__connection__", None)
            if own is not None and own is not self.connection:
                raise InvalidArgument(
                    f"{model.__name__} names its own connection ({own!r}): its calls would "
                    "not go to the test's endpoint. Leave __connection__ unset in tests, "
                    "or set it to the test's connection"
                )
        distinct = list(dict.fromkeys(models))
        for model in distinct:
            if model not in self.created:
                create_table(model, force=True, connection=self.connection)
                self.created.append(model)
        return [Table(model, connection=self.connection) for model in distinct]

    def drop(self) -> None:
        """Delete every table created (those already gone are skipped); the first error is
        raised after trying them all."""
        failures: list[DynamoDBError] = []
        while self.created:
            model = self.created.pop()
            try:
                delete_table(model, connection=self.connection)
            except DynamoDBError as error:
                failures.append(error)
        if failures:
            raise failures[0]
