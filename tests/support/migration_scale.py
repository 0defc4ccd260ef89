"""The migration run of the tests: a model, a migration file, and a concurrent writer.

The test (tests/integration/test_migrations_workers.py) starts worker processes
with ``python -m dynamodb migrate``, kills one midway, restarts it, and runs
``python -m tests.support.migration_scale writer`` beside them: that process
writes ``note`` on items while they are being upgraded, with plain UpdateItems,
and prints the ids it wrote, one per line, at the end.
"""

from __future__ import annotations

import os
import random
import sys
import time

from dynamodb import CharField, Connection, IntegerField, Model

__all__ = ["MIGRATION_FILE", "Thing", "writer"]


class Thing(Model):
    """An item the migration upgrades: ``status`` set, ``upgrades`` counted."""

    __table_name__ = "migration_things"

    id = IntegerField(hash_key=True)
    status = CharField()
    upgrades = IntegerField()
    note = CharField()


MIGRATION_FILE = '''"""Things get a status (and count their upgrades)."""
from tests.support.migration_scale import Thing

model = Thing
segments = 8


def upgrade(item):
    item.status = "open"
    item.upgrades = (item.upgrades or 0) + 1
    return item
'''


def writer(count: int, writes: int, seconds: float) -> list[int]:
    """Write ``note`` on ``writes`` random items, spread over ``seconds``; the ids written."""
    connection = Connection(
        endpoint_url=os.environ["DYNAMODB_ENDPOINT"],
        region_name="us-east-1",
        table_prefix=os.environ.get("DYNAMODB_TABLE_PREFIX", ""),
    )
    rng = random.Random(7)
    ids = rng.sample(range(count), writes)
    started = time.monotonic()
    done = []
    for position, number in enumerate(ids):
        delay = started + seconds * position / writes - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        connection.run(_note(number))
        done.append(number)
    connection.close()
    return done


def _note(number: int):  # type: ignore[no-untyped-def]
    from dynamodb.core.flow import call

    yield from call(
        "UpdateItem",
        {
            "TableName": Thing.__table_name__,
            "Key": {"id": {"N": str(number)}},
            "UpdateExpression": "SET #n = :n",
            "ExpressionAttributeNames": {"#n": "note"},
            "ExpressionAttributeValues": {":n": {"S": f"written {number}"}},
        },
    )


if __name__ == "__main__":
    _, role, count, writes, seconds = sys.argv
    assert role == "writer"
    for number in writer(int(count), int(writes), float(seconds)):
        print(number)
