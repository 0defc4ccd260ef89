"""A stream worker in a process of its own, for the test that kills one with SIGKILL.

``python -m tests.support.stream_worker ENDPOINT CHECKPOINT_TABLE WORKER LEASE BATCH HANG``
reads the shop table's stream with ``dynamodb.streams.read([Order, Customer])``,
sharing ``CHECKPOINT_TABLE``, and prints one JSON line per change it is handed
(sequence number, model, key, kind, images as ``to_son()``). After ``HANG``
changes it stops inside its loop, as a process busy with a change would, until
it is killed: that change's batch is never acknowledged.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import dynamodb
from dynamodb.streams import Change, TableCheckpoints
from tests.support.stream_models import Customer, Order


def delivery(change: Change[Any]) -> dict[str, Any]:
    """What a worker reports of a change: JSON data."""
    return {
        "seq": change.sequence_number,
        "model": change.model.__name__,
        "key": [change.keys["pk"], change.keys["sk"]],
        "kind": change.kind,
        "old": None if change.old is None else change.old.to_son(),
        "new": None if change.new is None else change.new.to_son(),
    }


def main(endpoint: str, checkpoints: str, worker: str, lease: str, batch: str, hang: str) -> None:
    dynamodb.set_connection(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    reader = dynamodb.streams.read(
        [Order, Customer],
        checkpoints=TableCheckpoints(checkpoints),
        worker=worker,
        lease_seconds=float(lease),
        batch_size=int(batch),
    )
    for handed, change in enumerate(reader, 1):
        sys.stdout.write(json.dumps(delivery(change)) + "\n")
        sys.stdout.flush()
        if handed >= int(hang):
            while True:  # busy with this change until killed
                time.sleep(60)


if __name__ == "__main__":
    main(*sys.argv[1:7])
