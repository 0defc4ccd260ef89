"""Section 2: client CPU per operation, the server taken out.

Every request is answered at botocore's HTTP layer: a ``before-send.dynamodb``
handler on the client's event system returns a botocore ``AWSResponse`` made of
canned bytes, so nothing is sent, while everything above the socket runs
(parameter handling, serialisation, signing, retries' bookkeeping, the
response parser and each library's own work). All three clients get the very
same bytes.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from botocore.awsrequest import AWSResponse

from .models import floor_to_wire, many_values, ours_model, pynamodb_model, wire_key
from .report import Report, Row
from .timing import Settings, cpu_per_call

TABLE = "bench_canned"
ENDPOINT = "http://127.0.0.1:9"  # never contacted: every request is answered in-process
REGION = "us-east-1"
PAGE = 1_000  # items in the canned Query page
BATCH_WRITE = 25
BATCH_GET = 100
PK = "bench#q"


class _Body:
    """The ``raw`` of an AWSResponse: botocore only calls ``stream()``."""

    __slots__ = ("_body",)

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class CannedHTTP:
    """A ``before-send`` handler answering each DynamoDB operation with fixed bytes."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.headers = {
            operation: {
                "content-type": "application/x-amz-json-1.0",
                "content-length": str(len(body)),
                "x-amz-crc32": str(zlib.crc32(body) & 0xFFFFFFFF),
                "x-amzn-requestid": "BENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCH",
                "connection": "keep-alive",
            }
            for operation, body in bodies.items()
        }
        self.sent: dict[str, int] = dict.fromkeys(bodies, 0)

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        operation = event_name.rpartition(".")[2]
        self.sent[operation] += 1
        return AWSResponse(request.url, 200, self.headers[operation], _Body(self.bodies[operation]))

    def install(self, client: Any) -> None:
        """Answer every DynamoDB request of this botocore client."""
        client.meta.events.register("before-send.dynamodb", self)

    def requests_made(self, call: Callable[[], object]) -> int:
        before = sum(self.sent.values())
        call()
        return sum(self.sent.values()) - before


def canned_bodies() -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """The response bytes of every operation, and the values of the page's items."""
    values = list(many_values(PAGE, pk=PK))
    wires = [floor_to_wire(v) for v in values]
    answers: dict[str, Any] = {
        "GetItem": {"Item": wires[0]},
        "PutItem": {},
        "UpdateItem": {"Attributes": wires[0]},
        "BatchWriteItem": {"UnprocessedItems": {}},
        "BatchGetItem": {"Responses": {TABLE: wires[:BATCH_GET]}, "UnprocessedKeys": {}},
        "Query": {"Items": wires, "Count": PAGE, "ScannedCount": PAGE},
    }
    return {op: json.dumps(answer).encode() for op, answer in answers.items()}, values


OPERATIONS = ("get", "put", "update", "batch_write", "batch_get", "query")
LABELS = {
    "get": ("get", "us/op"),
    "put": ("put", "us/op"),
    "update": ("update (ALL_NEW)", "us/op"),
    "batch_write": (f"batch write, {BATCH_WRITE} items", "us/op"),
    "batch_get": (f"batch get, {BATCH_GET} keys", "us/op"),
    "query": (f"query page of {PAGE:,}", "us/item"),
}


def _ours(canned: CannedHTTP, values: list[dict[str, Any]]) -> dict[str, Callable[[], object]]:
    import dynamodb

    model = ours_model(TABLE)
    connection = dynamodb.Connection(
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    canned.install(connection.client)
    item = model(**values[0])
    batch = [model(**v) for v in values[:BATCH_WRITE]]
    keys = [{"pk": v["pk"], "sk": v["sk"]} for v in values[:BATCH_GET]]
    query = model.query().where(model.pk.eq(PK)).page_size(PAGE).using(connection)

    def get() -> object:
        return model.get(pk=PK, sk=0, connection=connection)

    def put() -> object:
        return item.save(full=True, connection=connection)

    def update() -> object:
        return item.update(model.views.add(1), status="active", connection=connection)

    def batch_write() -> object:
        return model.batch_write(batch, connection=connection)

    def batch_get() -> object:
        return model.batch_get(*keys, connection=connection)

    def query_page() -> object:
        return query.get_items()

    return {
        "get": get,
        "put": put,
        "update": update,
        "batch_write": batch_write,
        "batch_get": batch_get,
        "query": query_page,
    }


def _pynamodb(canned: CannedHTTP, values: list[dict[str, Any]]) -> dict[str, Callable[[], object]]:
    model = pynamodb_model(TABLE, ENDPOINT, REGION)
    canned.install(model._get_connection().connection.client)
    item = model(**values[0])
    batch = [model(**v) for v in values[:BATCH_WRITE]]
    keys = [(v["pk"], v["sk"]) for v in values[:BATCH_GET]]

    def get() -> object:
        return model.get(PK, 0)

    def put() -> object:
        return item.save()

    def update() -> object:
        return item.update(actions=[model.views.add(1), model.status.set("active")])

    def batch_write() -> object:
        with model.batch_write() as writer:
            for member in batch:
                writer.save(member)
        return None

    def batch_get() -> object:
        return list(model.batch_get(keys))

    def query_page() -> object:
        return list(model.query(PK, page_size=PAGE))

    return {
        "get": get,
        "put": put,
        "update": update,
        "batch_write": batch_write,
        "batch_get": batch_get,
        "query": query_page,
    }


def _boto3(canned: CannedHTTP, values: list[dict[str, Any]]) -> dict[str, Callable[[], object]]:
    """The raw client with wire-format data prepared in advance (no conversion at all)."""
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    canned.install(client)
    wire = floor_to_wire(values[0])
    key = wire_key(values[0])
    batch = [{"PutRequest": {"Item": floor_to_wire(v)}} for v in values[:BATCH_WRITE]]
    keys = [wire_key(v) for v in values[:BATCH_GET]]

    def get() -> object:
        return client.get_item(TableName=TABLE, Key=key)

    def put() -> object:
        return client.put_item(TableName=TABLE, Item=wire)

    def update() -> object:
        return client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET #s = :s ADD #v :one",
            ExpressionAttributeNames={"#s": "status", "#v": "views"},
            ExpressionAttributeValues={":s": {"S": "active"}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )

    def batch_write() -> object:
        return client.batch_write_item(RequestItems={TABLE: batch})

    def batch_get() -> object:
        return client.batch_get_item(RequestItems={TABLE: {"Keys": keys}})

    def query_page() -> object:
        return client.query(
            TableName=TABLE,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "pk"},
            ExpressionAttributeValues={":pk": {"S": PK}},
            Limit=PAGE,
        )

    return {
        "get": get,
        "put": put,
        "update": update,
        "batch_write": batch_write,
        "batch_get": batch_get,
        "query": query_page,
    }


def build() -> tuple[dict[str, CannedHTTP], dict[str, dict[str, Callable[[], object]]]]:
    """Per library: its canned-answer handler and ``{operation: call}``, all on the same bytes."""
    bodies, values = canned_bodies()
    handlers = {library: CannedHTTP(bodies) for library in ("ours", "PynamoDB", "boto3")}
    calls = {
        "ours": _ours(handlers["ours"], values),
        "PynamoDB": _pynamodb(handlers["PynamoDB"], values),
        "boto3": _boto3(handlers["boto3"], values),
    }
    return handlers, calls


def run(settings: Settings, report: Report) -> None:
    handlers, calls = build()
    for operation in OPERATIONS:
        label, unit = LABELS[operation]
        per = PAGE if operation == "query" else 1
        requests = {
            library: handlers[library].requests_made(ops[operation])
            for library, ops in calls.items()
        }
        measures = cpu_per_call(
            {library: ops[operation] for library, ops in calls.items()},
            settings.repeats,
            settings.cpu_seconds,
            per,
        )
        row = Row(
            section=2,
            name=label,
            unit=unit,
            values={library: m.scaled(1e6) for library, m in measures.items()},
            ratios=[("ours/boto3", "ours", "boto3"), ("ours/PynamoDB", "ours", "PynamoDB")],
        )
        if len(set(requests.values())) != 1:
            row.note = f"requests per call differ: {requests}"
        report.add(row)
