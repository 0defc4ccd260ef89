"""OpenTelemetry spans against DynamoDB Local, on the transport the suite runs with
(``DYNAMODB_TRANSPORT=botocore`` runs this file on the botocore transport).

Spans are captured with the SDK's in-memory exporter: one CLIENT span per request,
named and attributed by the semantic conventions for DynamoDB, under one INTERNAL
span per library call, also from batch threads and async tasks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

import dynamodb
from dynamodb import CharField, ConditionalCheckFailed, Connection, IntegerField, Model
from dynamodb.testing import faults

Tables = Callable[..., None]


class Order(Model):
    __table_name__ = "test_tracing_orders"
    __secondary_indexes__ = {"by_status": {"hash_key": "status", "projections": "ALL"}}  # noqa: RUF012

    customer = CharField(hash_key=True)
    n = IntegerField(range_key=True)
    status = CharField(default="new")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """A tracer provider exporting to memory, installed for the test only.

    OpenTelemetry lets a process set its provider once; the test puts the global
    state back as it found it, so the rest of the suite runs untraced.
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    saved = (trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE)
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = saved
        provider.shutdown()


def _by_name(finished: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in finished if span.name == name]


def _int(span: ReadableSpan, attribute: str) -> int:
    value = dict(span.attributes or {})[attribute]
    assert isinstance(value, int)
    return value


def _children(finished: tuple[ReadableSpan, ...], parent: ReadableSpan) -> list[ReadableSpan]:
    return [
        span
        for span in finished
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


def test_an_item_call_is_one_span_with_its_request_as_child(
    tables: Tables, spans: InMemorySpanExporter
) -> None:
    tables(Order)
    spans.clear()
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("app") as app:
        Order(customer="ada", n=1).save()
    finished = spans.get_finished_spans()
    (call,) = _by_name(finished, "Order.save")
    (request,) = _by_name(finished, "PutItem test_tracing_orders")
    assert call.parent is not None
    assert call.parent.span_id == app.get_span_context().span_id
    assert call.kind == trace.SpanKind.INTERNAL
    assert _children(finished, call) == [request]
    assert request.kind == trace.SpanKind.CLIENT
    attributes = dict(request.attributes or {})
    assert attributes["db.system.name"] == "aws.dynamodb"
    assert attributes["db.operation.name"] == "PutItem"
    assert attributes["db.collection.name"] == "test_tracing_orders"
    assert attributes["aws.dynamodb.table_names"] == ("test_tracing_orders",)
    assert attributes["dynamodb.retries"] == 0
    assert attributes["aws.request_id"]
    (consumed,) = attributes["aws.dynamodb.consumed_capacity"]  # type: ignore[misc]
    # one unit for the table, one for the index the item is written to
    assert json.loads(str(consumed)) == {"TableName": "test_tracing_orders", "CapacityUnits": 2.0}


def test_a_query_is_one_span_with_a_child_per_page(
    tables: Tables, spans: InMemorySpanExporter
) -> None:
    tables(Order)
    Order.batch_write([Order(customer="bob", n=n, status="paid") for n in range(5)])
    spans.clear()
    found = list(Order.query().where(Order.status.eq("paid")).use_index("by_status").page_size(2))
    assert len(found) == 5
    finished = spans.get_finished_spans()
    (call,) = _by_name(finished, "Order.query")
    pages = _children(finished, call)
    assert len(pages) == 3  # 2 + 2 + 1 items
    assert {span.name for span in pages} == {"Query test_tracing_orders"}
    attributes = dict(pages[0].attributes or {})
    assert attributes["aws.dynamodb.index_name"] == "by_status"
    assert attributes["aws.dynamodb.limit"] == 2
    assert attributes["aws.dynamodb.count"] == 2
    assert attributes["aws.dynamodb.scanned_count"] == 2
    assert [dict(span.attributes or {})["db.response.returned_rows"] for span in pages] == [2, 2, 1]


def test_a_batch_is_one_span_with_its_chunks_from_every_thread(
    tables: Tables, spans: InMemorySpanExporter
) -> None:
    tables(Order)
    spans.clear()
    Order.batch_write([Order(customer="cy", n=n) for n in range(120)], concurrency=4)
    finished = spans.get_finished_spans()
    (call,) = _by_name(finished, "Order.batch_write")
    chunks = _children(finished, call)
    assert len(chunks) == 5  # 25 + 25 + 25 + 25 + 20
    assert {span.name for span in chunks} == {"BatchWriteItem test_tracing_orders"}
    sizes = sorted(_int(span, "db.operation.batch.size") for span in chunks)
    assert sizes == [20, 25, 25, 25, 25]
    assert len({span.context.trace_id for span in (call, *chunks)}) == 1


def test_a_parallel_scan_and_async_tasks_carry_the_parent(
    tables: Tables, spans: InMemorySpanExporter, connection: Connection
) -> None:
    tables(Order)
    Order.batch_write([Order(customer="dee", n=n) for n in range(30)])
    spans.clear()
    assert len(list(Order.scan(segments=3))) == 30
    finished = spans.get_finished_spans()
    (scan,) = _by_name(finished, "Order.scan")
    segments = _children(finished, scan)
    assert sorted(_int(span, "aws.dynamodb.segment") for span in segments) == [0, 1, 2]

    async def many() -> None:
        await Order.abatch_write([Order(customer="eve", n=n) for n in range(60)])
        await asyncio.gather(*(Order.aget(customer="eve", n=n) for n in range(3)))
        await connection.aclose()

    spans.clear()
    asyncio.run(many())
    finished = spans.get_finished_spans()
    (batch,) = _by_name(finished, "Order.batch_write")
    assert len(_children(finished, batch)) == 3
    gets = _by_name(finished, "Order.get")
    assert len(gets) == 3
    for get in gets:
        (request,) = _children(finished, get)
        assert request.name == "GetItem test_tracing_orders"


def test_errors_are_recorded_on_both_spans(tables: Tables, spans: InMemorySpanExporter) -> None:
    tables(Order)
    Order(customer="fay", n=1).save()
    spans.clear()
    with pytest.raises(ConditionalCheckFailed):
        Order(customer="fay", n=1).save(condition=Order.customer.not_exists())
    finished = spans.get_finished_spans()
    (call,) = _by_name(finished, "Order.save")
    (request,) = _children(finished, call)
    for span in (call, request):
        assert span.status.status_code == trace.StatusCode.ERROR
        assert any(event.name == "exception" for event in span.events)
    attributes: dict[str, Any] = dict(request.attributes or {})
    assert attributes["error.type"] == "ConditionalCheckFailedException"
    assert attributes["db.response.status_code"] == "400"


def test_a_transaction_and_a_table_call_are_spans_too(
    tables: Tables, spans: InMemorySpanExporter
) -> None:
    tables(Order)
    spans.clear()
    with dynamodb.transaction() as tx:
        tx.save(Order(customer="gus", n=1))
        tx.save(Order(customer="gus", n=2))
    dynamodb.Table(Order).info()
    finished = spans.get_finished_spans()
    (commit,) = _by_name(finished, "transaction.commit")
    (write,) = _children(finished, commit)
    assert write.name == "TransactWriteItems test_tracing_orders"
    assert dict(write.attributes or {})["db.operation.batch.size"] == 2
    (info,) = _by_name(finished, "Table.info")
    assert [span.name for span in _children(finished, info)] == [
        "DescribeTable test_tracing_orders",
        "DescribeTimeToLive test_tracing_orders",
    ]


@pytest.fixture
def dev(dynamodb_endpoint: str, connection: Connection) -> Iterator[Connection]:
    """A connection with ``table_prefix="trace_dev_"``, its Order table made and dropped."""
    conn = Connection(
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        table_prefix="trace_dev_",
    )
    dynamodb.create_table(Order, force=True, connection=conn)
    yield conn
    dynamodb.delete_table(Order, connection=conn)
    conn.close()


def test_call_spans_name_the_table_with_the_connection_prefix(
    dev: Connection, spans: InMemorySpanExporter
) -> None:
    prefixed = "trace_dev_test_tracing_orders"
    spans.clear()
    Order(customer="hal", n=1).save(connection=dev)
    Order.batch_write([Order(customer="hal", n=n) for n in range(2, 5)], connection=dev)
    items, _ = Order.query().where(Order.customer == "hal").using(dev).get_items()
    assert len(items) == 4
    dynamodb.Table(Order, connection=dev).info()

    async def read() -> None:
        await Order.aget(customer="hal", n=1, connection=dev)
        await dev.aclose()

    asyncio.run(read())
    finished = spans.get_finished_spans()
    calls = [span for span in finished if span.kind == trace.SpanKind.INTERNAL]
    assert sorted(span.name for span in calls) == [
        "Order.batch_write",
        "Order.get",
        "Order.query",
        "Order.save",
        "Table.info",
    ]
    for span in calls:
        attributes = dict(span.attributes or {})
        assert attributes["db.collection.name"] == prefixed, span.name
        assert attributes["aws.dynamodb.table_names"] == (prefixed,), span.name
        for child in _children(finished, span):
            assert dict(child.attributes or {})["db.collection.name"] == prefixed


def test_a_retried_request_has_its_retries_on_its_span(
    tables: Tables, spans: InMemorySpanExporter
) -> None:
    tables(Order)
    Order.batch_write([Order(customer="ivy", n=n) for n in range(6)])
    spans.clear()
    with faults(throttle=0.5, seed=5, operations=["GetItem"]) as f:
        for n in range(6):
            assert Order.get(customer="ivy", n=n) is not None
    assert f.injected["throttle"] > 0
    requests = _by_name(spans.get_finished_spans(), "GetItem test_tracing_orders")
    assert len(requests) == 6  # one span per request, however many attempts it took
    retried = [span for span in requests if _int(span, "dynamodb.retries") > 0]
    assert retried
    for span in requests:
        events = [event for event in span.events if event.name == "retry"]
        assert len(events) == _int(span, "dynamodb.retries")
        for attempt, event in enumerate(events, start=1):
            attributes = dict(event.attributes or {})
            assert attributes["error.type"] == "ProvisionedThroughputExceededException"
            assert attributes["dynamodb.attempt"] == attempt
        assert span.status.status_code != trace.StatusCode.ERROR
    assert sum(_int(span, "dynamodb.retries") for span in requests) == f.injected["throttle"]


def test_an_export_an_import_and_a_migration_are_one_span_each(
    tables: Tables, spans: InMemorySpanExporter, connection: Connection
) -> None:
    import io

    from dynamodb.core.leases import TableCheckpoints
    from dynamodb.migrations import Migration, MigrationRunner, migration_status
    from dynamodb.transfer import export_items, import_items, read_lines

    tables(Order)
    Order.batch_write([Order(customer="di", n=n) for n in range(30)])
    table = Order.__table_name__
    spans.clear()
    out = io.StringIO()
    export_items(connection, table, out, segments=3)
    finished = spans.get_finished_spans()
    (call,) = _by_name(finished, "export_items")
    assert dict(call.attributes or {})["aws.dynamodb.table_names"] == (table,)
    scans = _children(finished, call)
    assert len(scans) == 3  # one page per segment, from three threads
    assert {span.name for span in scans} == {f"Scan {table}"}
    assert len(finished) == 4  # nothing outside the call's span

    spans.clear()
    Order.batch_delete([{"customer": "di", "n": n} for n in range(30)])
    spans.clear()
    out.seek(0)
    import_items(connection, table, read_lines(out), concurrency=2)
    finished = spans.get_finished_spans()
    (call,) = _by_name(finished, "import_items")
    assert {span.name for span in _children(finished, call)} == {
        f"DescribeTable {table}",
        f"BatchGetItem {table}",
        f"BatchWriteItem {table}",
    }
    assert len(_children(finished, call)) == len(finished) - 1

    store = TableCheckpoints("test_tracing_migrations")
    connection.run(store.prepare())
    try:

        def mark(item: Order) -> Order:
            item.status = "marked"
            return item

        spans.clear()
        runner = MigrationRunner(Migration("0001_mark", Order, mark, segments=2), store=store)
        runner.run(connection)
        finished = spans.get_finished_spans()
        (call,) = _by_name(finished, "MigrationRunner.run")
        children = _children(finished, call)
        assert len(children) == len(finished) - 1  # every request, from every thread
        assert len(_by_name(tuple(children), f"UpdateItem {table}")) == 30
        spans.clear()
        migration_status([runner.migration], connection, store=store)
        finished = spans.get_finished_spans()
        (call,) = _by_name(finished, "migration_status")
        assert len(_children(finished, call)) == len(finished) - 1 >= 1
    finally:
        connection.client.delete_table(TableName=store.table_name)


def test_a_schema_apply_is_one_span(spans: InMemorySpanExporter, connection: Connection) -> None:
    class Traced(Model):
        __table_name__ = "test_tracing_schema"

        id = CharField(hash_key=True)

    try:
        plan = dynamodb.plan_schema(Traced)
        spans.clear()
        dynamodb.apply_schema(plan)
        finished = spans.get_finished_spans()
        (call,) = _by_name(finished, "apply_schema")
        children = _children(finished, call)
        assert f"CreateTable {Traced.__table_name__}" in {span.name for span in children}
        assert len(children) == len(finished) - 1
    finally:
        dynamodb.delete_table(Traced)
