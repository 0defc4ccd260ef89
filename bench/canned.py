"""Section 2: client CPU per operation, canned answers over real loopback sockets.

A server in another process (:mod:`bench.server`) answers each DynamoDB
operation with fixed bytes (the same bytes for every client), over kept-alive
HTTP/1.1. Everything a client does runs and is measured in this process:
request building, serialization, signing, the HTTP exchange on a real socket,
the response parser and each library's own work; the server's work is not.

Clients: ours on the direct transport (``ours``) and on botocore
(``ours botocore``), the raw boto3 client with wire-format data prepared in
advance (the floor of what a boto3 caller does), PynamoDB, and pydynox (Rust
core; its CPU is the whole process's, its threads included).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from .models import (
    floor_to_wire,
    many_values,
    ours_model,
    pydynox_model,
    pynamodb_model,
    wire_key,
)
from .report import Report, Row
from .server import canned_server
from .timing import Measure, Settings, cpu_per_call

TABLE = "bench_canned"
REGION = "us-east-1"
PAGE = 1_000  # items in the canned Query and Scan pages
BATCH_WRITE = 25
BATCH_GET = 100
GATHERED = 2_000  # async gets gathered at once
PK = "bench#q"

Calls = dict[str, Callable[[], object]]


def canned_bodies() -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """The response bytes of every operation, and the values of the page's items."""
    values = list(many_values(PAGE, pk=PK))
    wires = [floor_to_wire(v) for v in values]
    answers: dict[str, Any] = {
        "GetItem": {"Item": wires[0]},
        "PutItem": {},
        "UpdateItem": {"Attributes": wires[0]},
        "DeleteItem": {},
        "BatchWriteItem": {"UnprocessedItems": {}},
        "BatchGetItem": {"Responses": {TABLE: wires[:BATCH_GET]}, "UnprocessedKeys": {}},
        "Query": {"Items": wires, "Count": PAGE, "ScannedCount": PAGE},
        "Scan": {"Items": wires, "Count": PAGE, "ScannedCount": PAGE},
    }
    return {op: json.dumps(answer).encode() for op, answer in answers.items()}, values


OPERATIONS = ("get", "put", "update", "delete", "batch_write", "batch_get", "query", "scan")
LABELS = {
    "get": ("get", "us/op"),
    "put": ("put", "us/op"),
    "update": ("update (ALL_NEW)", "us/op"),
    "delete": ("delete", "us/op"),
    "batch_write": (f"batch write, {BATCH_WRITE} items", "us/op"),
    "batch_get": (f"batch get, {BATCH_GET} keys", "us/op"),
    "query": (f"query page of {PAGE:,}", "us/item"),
    "scan": (f"scan page of {PAGE:,}", "us/item"),
}
PER_ITEM = {"query", "scan"}


def _ours(endpoint: str, values: list[dict[str, Any]], transport: str) -> tuple[Calls, Any]:
    import dynamodb

    model = ours_model(TABLE)
    connection = dynamodb.Connection(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        transport=transport,
        max_pool_connections=50,
    )
    item = model(**values[0])
    batch = [model(**v) for v in values[:BATCH_WRITE]]
    keys = [{"pk": v["pk"], "sk": v["sk"]} for v in values[:BATCH_GET]]
    query = model.query().where(model.pk.eq(PK)).page_size(PAGE).using(connection)
    scan = model.scan().page_size(PAGE).using(connection)

    calls: Calls = {
        "get": lambda: model.get(pk=PK, sk=0, connection=connection),
        "put": lambda: item.save(full=True, connection=connection),
        "update": lambda: item.update(model.views.add(1), status="active", connection=connection),
        "delete": lambda: item.delete(connection=connection),
        "batch_write": lambda: model.batch_write(batch, connection=connection),
        "batch_get": lambda: model.batch_get(*keys, connection=connection),
        "query": lambda: query.get_items(),
        "scan": lambda: scan.get_items(),
    }

    async def gathered() -> int:
        found = await asyncio.gather(
            *(model.aget(pk=PK, sk=0, connection=connection) for _ in range(GATHERED))
        )
        return sum(item is not None for item in found)

    return calls, (gathered, connection)


def _pynamodb(endpoint: str, values: list[dict[str, Any]]) -> Calls:
    model = pynamodb_model(TABLE, endpoint, REGION)
    item = model(**values[0])
    batch = [model(**v) for v in values[:BATCH_WRITE]]
    keys = [(v["pk"], v["sk"]) for v in values[:BATCH_GET]]

    def batch_write() -> object:
        with model.batch_write() as writer:
            for member in batch:
                writer.save(member)
        return None

    return {
        "get": lambda: model.get(PK, 0),
        "put": lambda: item.save(),
        "update": lambda: item.update(actions=[model.views.add(1), model.status.set("active")]),
        "delete": lambda: item.delete(),
        "batch_write": batch_write,
        "batch_get": lambda: list(model.batch_get(keys)),
        "query": lambda: list(model.query(PK, page_size=PAGE, limit=PAGE)),
        "scan": lambda: list(model.scan(page_size=PAGE, limit=PAGE)),
    }


def _boto3(endpoint: str, values: list[dict[str, Any]]) -> Calls:
    """The raw client with wire-format data prepared in advance (no conversion at all)."""
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    wire = floor_to_wire(values[0])
    key = wire_key(values[0])
    batch = [{"PutRequest": {"Item": floor_to_wire(v)}} for v in values[:BATCH_WRITE]]
    keys = [wire_key(v) for v in values[:BATCH_GET]]

    return {
        "get": lambda: client.get_item(TableName=TABLE, Key=key),
        "put": lambda: client.put_item(TableName=TABLE, Item=wire),
        "update": lambda: client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET #s = :s ADD #v :one",
            ExpressionAttributeNames={"#s": "status", "#v": "views"},
            ExpressionAttributeValues={":s": {"S": "active"}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        "delete": lambda: client.delete_item(TableName=TABLE, Key=key),
        "batch_write": lambda: client.batch_write_item(RequestItems={TABLE: batch}),
        "batch_get": lambda: client.batch_get_item(RequestItems={TABLE: {"Keys": keys}}),
        "query": lambda: client.query(
            TableName=TABLE,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "pk"},
            ExpressionAttributeValues={":pk": {"S": PK}},
            Limit=PAGE,
        ),
        "scan": lambda: client.scan(TableName=TABLE, Limit=PAGE),
    }


def _pydynox(endpoint: str, values: list[dict[str, Any]]) -> tuple[Calls, Any] | None:
    try:
        model = pydynox_model(TABLE, endpoint, REGION)
        from pydynox import SyncBatchWriter
    except ImportError:
        return None
    logging.getLogger("pydynox").setLevel(logging.ERROR)  # its "slow operation" warnings
    item = model(**values[0])
    batch = [model(**v).to_dict() for v in values[:BATCH_WRITE]]
    keys = [{"pk": v["pk"], "sk": v["sk"]} for v in values[:BATCH_GET]]
    client = model.model_config.client

    def batch_write() -> object:
        with SyncBatchWriter(client, TABLE) as writer:
            for member in batch:
                writer.put(member)
        return None

    calls: Calls = {
        "get": lambda: model.sync_get(pk=PK, sk=0),
        "put": lambda: item.sync_save(),
        "update": lambda: item.sync_update(atomic=[model.views.add(1)], status="active"),
        "delete": lambda: item.sync_delete(),
        "batch_write": batch_write,
        "batch_get": lambda: model.sync_batch_get(keys),
        "query": lambda: list(model.sync_query(partition_key=PK, page_size=PAGE, limit=PAGE)),
        "scan": lambda: list(model.sync_scan(page_size=PAGE, limit=PAGE)),
    }

    async def gathered() -> int:
        found = await asyncio.gather(*(model.get(pk=PK, sk=0) for _ in range(GATHERED)))
        return sum(item is not None for item in found)

    return calls, gathered


def _throughput(
    gathered: Callable[[], Any], runs: int, closing: Callable[[], Any] | None = None
) -> tuple[Measure, Measure]:
    """(gets per second, client CPU us per get) of ``GATHERED`` gathered gets, per run.

    ``closing()`` closes what the client holds on the loop, before the loop closes.
    """
    rate, cpu = Measure(), Measure()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(gathered())  # warm: connections, clients
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            handled = loop.run_until_complete(gathered())
            wall = time.perf_counter() - started
            rate.samples.append(handled / wall)
            cpu.samples.append((time.process_time() - cpu_started) / handled * 1e6)
        if closing is not None:
            loop.run_until_complete(closing())
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    return rate, cpu


def run(settings: Settings, report: Report) -> None:
    bodies, values = canned_bodies()
    with canned_server(bodies) as endpoint:
        ours, (ours_gathered, ours_connection) = _ours(endpoint, values, "direct")
        boto, (boto_gathered, boto_connection) = _ours(endpoint, values, "botocore")
        calls: dict[str, Calls] = {
            "ours": ours,
            "ours botocore": boto,
            "boto3": _boto3(endpoint, values),
            "PynamoDB": _pynamodb(endpoint, values),
        }
        pydynox = _pydynox(endpoint, values)
        if pydynox is None:
            report.note("pydynox is not installed: its columns are empty")
        else:
            calls["pydynox"] = pydynox[0]
        for operation in OPERATIONS:
            label, unit = LABELS[operation]
            measures = cpu_per_call(
                {library: ops[operation] for library, ops in calls.items()},
                settings.repeats,
                settings.cpu_seconds,
                PAGE if operation in PER_ITEM else 1,
            )
            report.add(
                Row(
                    section=2,
                    name=label,
                    unit=unit,
                    values={library: m.scaled(1e6) for library, m in measures.items()},
                    ratios=[
                        ("ours/boto3", "ours", "boto3"),
                        ("ours/pydynox", "ours", "pydynox"),
                        ("ours/botocore", "ours", "ours botocore"),
                    ],
                )
            )
        gathered = {
            "ours": (ours_gathered, ours_connection.aclose),
            "ours botocore": (boto_gathered, boto_connection.aclose),
        }
        if pydynox is not None:
            gathered["pydynox"] = (pydynox[1], None)
        rates: dict[str, Measure] = {}
        cpus: dict[str, Measure] = {}
        for library, (work, closing) in gathered.items():
            rates[library], cpus[library] = _throughput(work, max(3, settings.repeats), closing)
        report.add(
            Row(
                section=2,
                name=f"async: {GATHERED:,} gathered gets",
                unit="gets/s",
                values=rates,
                ratios=[
                    ("ours/pydynox", "ours", "pydynox"),
                    ("ours/botocore", "ours", "ours botocore"),
                ],
                note="wall clock: the server and the client share the machine's cores",
            )
        )
        report.add(
            Row(
                section=2,
                name=f"async: {GATHERED:,} gathered gets, CPU",
                unit="us/op",
                values=cpus,
                ratios=[
                    ("ours/pydynox", "ours", "pydynox"),
                    ("ours/botocore", "ours", "ours botocore"),
                ],
            )
        )
        for connection in (ours_connection, boto_connection):
            connection.close()


def build(endpoint: str) -> Calls:
    """Our direct transport's calls against ``endpoint`` (for ``--profile``)."""
    _, values = canned_bodies()
    return _ours(endpoint, values, "direct")[0]
