"""The pytest plugin, as a user meets it: test files run by pytest in a process of their own.

The README's example test file (taken from the README itself) runs on this
suite's DynamoDB Local through ``DYNAMODB_ENDPOINT``, beside a file that checks
what the fixtures promise: one endpoint for the session, the connection every
thread's default and restored afterwards, tables created and dropped. The
plugin comes from the installed package's ``pytest11`` entry point, as it does
for users. ``make test-user-example`` runs the example from a freshly built
wheel in a new virtualenv, also on moto's threaded server with no Java on
``PATH`` (``start_server``'s fallback is tested in ``tests/unit``).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dynamodb
from dynamodb import CharField, Connection, IntegerField, Model
from dynamodb.testing.support import Tables
from tests.support.readme_example import example_files

PLUGIN_CHECKS = """
import threading

import pytest

import dynamodb
from dynamodb import CharField, Connection, Model


class Thing(Model):
    __table_name__ = "plugin_things"
    id = CharField(hash_key=True)


class Elsewhere(Model):
    __table_name__ = "plugin_elsewhere"
    __connection__ = Connection(region_name="us-east-1")
    id = CharField(hash_key=True)


seen = {}


def test_one_endpoint_for_the_session(dynamodb_endpoint):
    seen["endpoint"] = dynamodb_endpoint


def test_the_connection_is_every_threads_default(dynamodb_connection, dynamodb_endpoint):
    assert dynamodb_endpoint == seen["endpoint"]
    assert dynamodb_connection.endpoint_url == dynamodb_endpoint
    found = []
    worker = threading.Thread(target=lambda: found.append(dynamodb.get_connection()))
    worker.start()
    worker.join()
    assert found == [dynamodb_connection]
    seen["connection"] = dynamodb_connection


def test_the_default_before_comes_back_after_the_test():
    assert dynamodb.get_connection() is not seen["connection"]


def test_tables_are_created_empty(dynamodb_tables):
    [table] = dynamodb_tables(Thing, Thing)
    assert Thing.scan().count() == 0
    Thing.create(id="a")
    assert Thing.get(id="a") is not None
    seen["table"] = table.name


def test_and_dropped_after_the_test(dynamodb_connection):
    assert seen["table"] not in dynamodb_connection.send("ListTables", {})["TableNames"]


def test_a_model_with_a_connection_of_its_own_is_refused(dynamodb_tables):
    with pytest.raises(dynamodb.InvalidArgument, match="Elsewhere names its own connection"):
        dynamodb_tables(Elsewhere)
"""


QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio")
"""No cache folder in the test's folder; pytest-asyncio (installed here) left out."""


def run_pytest(folder: Path, *arguments: str, **environment: str | None) -> str:
    """pytest on ``folder`` in a new process; its output, once it passed."""
    env = {name: value for name, value in os.environ.items() if name != "DYNAMODB_ENDPOINT"}
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", *QUIET, *arguments],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_plugin_is_installed_through_its_entry_point(pytestconfig: pytest.Config) -> None:
    [entry] = [
        entry
        for entry in importlib.metadata.entry_points(group="pytest11")
        if entry.name == "dynamodb"
    ]
    assert entry.value == "dynamodb.testing.plugin"
    assert pytestconfig.pluginmanager.get_plugin("dynamodb") is entry.load()


def test_the_readme_example_and_the_fixtures_promises_hold_on_dynamodb_local(
    tmp_path: Path, dynamodb_endpoint: str, connection: Connection
) -> None:
    before = set(connection.send("ListTables", {})["TableNames"])
    (tmp_path / "test_orders.py").write_text(example_files()[1])
    (tmp_path / "test_plugin_checks.py").write_text(PLUGIN_CHECKS)
    output = run_pytest(tmp_path, DYNAMODB_ENDPOINT=dynamodb_endpoint)
    assert "11 passed" in output
    assert f"dynamodb: the tests ran on {dynamodb_endpoint} (DYNAMODB_ENDPOINT)" in output
    assert set(connection.send("ListTables", {})["TableNames"]) == before  # all dropped


class Tally(Model):
    __table_name__ = "test_testing_plugin_tally"

    id = CharField(hash_key=True)
    n = IntegerField(default=0)


def test_the_fixtures_work_in_this_suite_too(
    dynamodb_connection: Connection, dynamodb_tables: Tables, connection: Connection
) -> None:
    assert dynamodb.get_connection() is dynamodb_connection is not connection
    assert dynamodb_connection.endpoint_url == connection.endpoint_url
    [table] = dynamodb_tables(Tally)
    Tally.add(id="a", n=2)
    stored = Tally.get(id="a", consistent=True)
    assert stored is not None
    assert stored.n == 2
    assert table.info()["TableStatus"] == "ACTIVE"
