"""Without a tracer, tracing costs no import: nothing of OpenTelemetry is loaded by the
library, however many calls it makes (each in a fresh interpreter, where no test has
imported OpenTelemetry first)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CALLS = """
import asyncio, json, sys
import dynamodb
from dynamodb import CharField, Connection, IntegerField, MockTransport, Model

class Note(Model):
    __table_name__ = "notes_t"
    owner = CharField(hash_key=True)
    n = IntegerField(range_key=True)

def answer(operation, params):
    if operation == "GetItem":
        return {"Item": {"owner": {"S": "a"}, "n": {"N": "1"}}}
    if operation == "Query":
        return {"Items": [{"owner": {"S": "a"}, "n": {"N": "1"}}], "Count": 1, "ScannedCount": 1}
    return {}

connection = Connection(transport=MockTransport(answer), table_prefix="dev_")
with dynamodb.capacity():
    Note(owner="a", n=1).save(connection=connection)
    assert Note.get(owner="a", n=1, connection=connection) is not None
    Note.query().where(Note.owner == "a").using(connection).get_items()
    Note.batch_write([Note(owner="a", n=n) for n in range(30)], connection=connection)

async def twins():
    await Note(owner="a", n=2).asave(connection=connection)
    await Note.aget(owner="a", n=1, connection=connection)

asyncio.run(twins())
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] == "opentelemetry")))
"""


@pytest.mark.parametrize("provider", ["", "some.module.Provider"])
def test_calls_without_a_tracer_import_nothing_of_opentelemetry(provider: str) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if provider:  # named in the environment, but the application never imports OpenTelemetry
        environment["OTEL_PYTHON_TRACER_PROVIDER"] = provider
    done = subprocess.run(
        [sys.executable, "-c", CALLS],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=environment,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
