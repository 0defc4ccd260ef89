"""Consumed capacity: the records of an answer, the totals, the prices, the collectors.

Pure parts are checked directly; the connection's part (asking for the capacity,
counting each answer) with a MockTransport whose answers report capacity as
DynamoDB does (one dict for item calls, a list for batches and transactions).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    Capacity,
    CharField,
    Connection,
    IntegerField,
    InvalidValue,
    MockTransport,
    Model,
    Prices,
    Units,
)
from dynamodb.core.capacity import Consumed, consumed_of, kind_of

Params = dict[str, Any]


class Score(Model):
    __table_name__ = "unit_capacity_scores"

    player = CharField(hash_key=True)
    game = IntegerField(range_key=True)


STORED = {"player": {"S": "ann"}, "game": {"N": "1"}}


def test_an_item_answer_gives_one_record_of_the_operations_kind() -> None:
    answer = {"ConsumedCapacity": {"TableName": "T", "CapacityUnits": 1.5}}
    assert consumed_of("GetItem", {"TableName": "T"}, answer) == [
        Consumed("GetItem", "T", 1.5, 0.0)
    ]
    assert consumed_of("PutItem", {"TableName": "T"}, answer) == [
        Consumed("PutItem", "T", 0.0, 1.5)
    ]
    assert consumed_of("GetItem", {}, {"Item": {}}) == []  # nothing reported, nothing counted


def test_batch_answers_give_one_record_per_table() -> None:
    answer = {
        "ConsumedCapacity": [
            {"TableName": "A", "CapacityUnits": 2.0},
            {"TableName": "B", "CapacityUnits": 3.0},
        ]
    }
    records = consumed_of("BatchWriteItem", {"RequestItems": {"A": [], "B": []}}, answer)
    assert [(record.table, record.units) for record in records] == [
        ("A", Units(0.0, 2.0)),
        ("B", Units(0.0, 3.0)),
    ]


def test_index_detail_and_the_index_read_are_both_attributed_to_the_index() -> None:
    detailed = {
        "ConsumedCapacity": {
            "TableName": "T",
            "CapacityUnits": 3.0,
            "Table": {"CapacityUnits": 1.0},
            "GlobalSecondaryIndexes": {"by_email": {"CapacityUnits": 2.0}},
        }
    }
    (record,) = consumed_of("PutItem", {"TableName": "T"}, detailed)
    assert record.units == Units(0.0, 3.0)
    assert record.indexes == (("by_email", Units(0.0, 2.0)),)
    # TOTAL detail: a query of an index costs the index what it costs in all.
    total = {"ConsumedCapacity": {"TableName": "T", "CapacityUnits": 0.5}}
    (record,) = consumed_of("Query", {"TableName": "T", "IndexName": "by_email"}, total)
    assert record.indexes == (("by_email", Units(0.5, 0.0)),)


def test_read_and_write_units_reported_apart_are_taken_as_reported() -> None:
    answer = {
        "ConsumedCapacity": {
            "TableName": "T",
            "CapacityUnits": 3.0,
            "ReadCapacityUnits": 1.0,
            "WriteCapacityUnits": 2.0,
        }
    }
    (record,) = consumed_of("ExecuteTransaction", {}, answer)
    assert record.units == Units(1.0, 2.0)


@pytest.mark.parametrize(
    ("operation", "params", "answer"),
    [
        (
            "GetItem",
            {"TableName": "T"},
            {"ConsumedCapacity": {"TableName": "T", "CapacityUnits": 1}},
        ),
        (
            "PutItem",
            {"TableName": "T"},
            {"ConsumedCapacity": {"TableName": "T", "CapacityUnits": 2}},
        ),
        ("GetItem", {"TableName": "T"}, {"Item": {}}),
        (
            "Query",
            {"TableName": "T", "IndexName": "by_email"},
            {"ConsumedCapacity": {"TableName": "T", "CapacityUnits": 0.5}},
        ),
        (
            "ExecuteStatement",
            {"Statement": "SELECT * FROM T"},
            {"ConsumedCapacity": {"TableName": "T", "CapacityUnits": 0.5}},
        ),
        (
            "BatchWriteItem",
            {"RequestItems": {"A": [], "B": []}},
            {
                "ConsumedCapacity": [
                    {"TableName": "A", "CapacityUnits": 2.0},
                    {"TableName": "B", "CapacityUnits": 3.0},
                ]
            },
        ),
    ],
)
def test_counting_an_answer_counts_what_its_records_say(
    operation: str, params: Params, answer: dict[str, Any]
) -> None:
    # Connection.capacity counts answers without building records when nobody else
    # wants them: the totals must be the records' totals.
    counted, recorded = Capacity(), Capacity()
    for _ in range(2):
        counted.add_answer(operation, params, answer)
        recorded.add(consumed_of(operation, params, answer))
    assert counted.requests == recorded.requests == 2
    assert counted.units == recorded.units
    assert counted.by_table == recorded.by_table
    assert counted.by_index == recorded.by_index
    assert counted.by_operation == recorded.by_operation


def test_partiql_statements_are_reads_or_writes_by_their_verb() -> None:
    assert kind_of("ExecuteStatement", {"Statement": "  select * FROM T"}) == "read"
    assert kind_of("ExecuteStatement", {"Statement": "UPDATE T SET a = 1"}) == "write"
    assert kind_of("TransactGetItems") == "read"
    assert kind_of("TransactWriteItems") == "write"


def test_totals_by_table_index_and_operation_and_their_cost() -> None:
    cap = Capacity()
    cap.add([Consumed("Query", "T", 4.0, 0.0, (("ix", Units(4.0, 0.0)),))])
    cap.add([Consumed("PutItem", "T", 0.0, 2.0), Consumed("PutItem", "U", 0.0, 1.0)])
    assert (cap.read_units, cap.write_units, cap.requests) == (4.0, 3.0, 2)
    assert cap.by_table == {"T": Units(4.0, 2.0), "U": Units(0.0, 1.0)}
    assert cap.by_index == {("T", "ix"): Units(4.0, 0.0)}
    assert cap.by_operation == {"Query": Units(4.0, 0.0), "PutItem": Units(0.0, 3.0)}
    # us-east-1 on demand: $0.125 per million reads, $0.625 per million writes
    assert cap.cost() == pytest.approx((4 * 0.125 + 3 * 0.625) / 1e6)
    assert cap.cost(Prices(read_per_million=1.0, write_per_million=10.0)) == pytest.approx(34e-6)
    assert "4 read, 3 write units in 2 requests" in repr(cap)
    cap.reset()
    assert (cap.units, cap.requests, cap.by_table) == (Units(), 0, {})


def test_adding_from_many_threads_loses_nothing() -> None:
    cap = Capacity()
    record = [Consumed("GetItem", "T", 0.5, 0.0)]

    def add() -> None:
        for _ in range(2000):
            cap.add(record)

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (cap.read_units, cap.requests, cap.by_table["T"].read_units) == (8000.0, 16000, 8000.0)


class Answers:
    """A MockTransport handler answering with capacity, recording what it was sent."""

    def __init__(self, units: float = 1.0) -> None:
        self.units = units
        self.sent: list[tuple[str, Params]] = []

    def __call__(self, operation: str, params: Params) -> Params:
        self.sent.append((operation, params))
        capacity: Params = {"TableName": params.get("TableName", "unit_capacity_scores")}
        capacity["CapacityUnits"] = self.units
        if operation == "Query":
            return {"Items": [STORED], "Count": 1, "ConsumedCapacity": capacity}
        if operation == "GetItem":
            return {"Item": STORED, "ConsumedCapacity": capacity}
        return {"ConsumedCapacity": capacity}


def test_every_call_asks_for_its_capacity_and_the_block_and_connection_count_it() -> None:
    handler = Answers(units=0.5)
    connection = Connection(transport=MockTransport(handler))
    with dynamodb.capacity() as cap:
        Score.get(player="ann", game=1, connection=connection)
        Score.create(player="ann", game=2, connection=connection)
    Score.get(player="ann", game=1, connection=connection)  # after the block

    assert [params["ReturnConsumedCapacity"] for _, params in handler.sent] == ["TOTAL"] * 3
    assert (cap.read_units, cap.write_units, cap.requests) == (0.5, 0.5, 2)
    assert cap.by_operation == {"GetItem": Units(0.5, 0.0), "PutItem": Units(0.0, 0.5)}
    assert (connection.capacity.read_units, connection.capacity.write_units) == (1.0, 0.5)


def test_index_detail_is_asked_inside_an_indexes_block_or_by_the_connection() -> None:
    handler = Answers()
    connection = Connection(transport=MockTransport(handler))
    with dynamodb.capacity(indexes=True):
        Score.get(player="ann", game=1, connection=connection)
    Score.get(player="ann", game=1, connection=connection)
    detailed = Connection(transport=MockTransport(handler), return_consumed_capacity="INDEXES")
    Score.get(player="ann", game=1, connection=detailed)
    silent = Connection(transport=MockTransport(handler), return_consumed_capacity="NONE")
    Score.get(player="ann", game=1, connection=silent)
    asked = [params.get("ReturnConsumedCapacity") for _, params in handler.sent]
    assert asked == ["INDEXES", "TOTAL", "INDEXES", None]
    with pytest.raises(InvalidValue, match="return_consumed_capacity is one of"):
        Connection(transport=MockTransport(handler), return_consumed_capacity="ALL")


def test_blocks_nest_and_reach_threads_that_copy_the_context_and_tasks() -> None:
    connection = Connection(transport=MockTransport(Answers()))
    with dynamodb.capacity() as outer:
        with dynamodb.capacity() as inner:
            Score.get(player="ann", game=1, connection=connection)
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run,
            args=(lambda: Score.get(player="ann", game=1, connection=connection),),
        )
        thread.start()
        thread.join()

        async def two() -> None:
            await asyncio.gather(
                Score.aget(player="ann", game=1, connection=connection),
                Score.aget(player="ann", game=2, connection=connection),
            )

        asyncio.run(two())
    assert (inner.requests, outer.requests, outer.read_units) == (1, 4, 4.0)


def test_a_query_keeps_what_its_pages_cost_sync_and_async() -> None:
    connection = Connection(transport=MockTransport(Answers(units=2.0)))
    query = Score.query().where(Score.player.eq("ann")).using(connection)
    assert query.consumed.read_units == 0.0  # nothing read yet
    assert len(query.all()) == 1
    assert (query.consumed.read_units, query.consumed.requests) == (2.0, 1)
    assert query.count() == 1
    assert query.consumed.read_units == 2.0  # each read starts afresh

    async def read() -> float:
        found = [item async for item in query]
        assert len(found) == 1
        return query.consumed.read_units

    assert asyncio.run(read()) == 2.0
    assert query.where(Score.game.gt(0)).consumed.requests == 0  # a new builder, its own
