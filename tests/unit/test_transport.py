"""``Connection(transport=MockTransport(handler))``: every flow runs against the handler.

No server and no botocore: the handler sees each request as DynamoDB's JSON
(operation name and params) and answers as DynamoDB would, or raises one of
the library's errors, which reaches the caller typed.
"""

from __future__ import annotations

from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    Connection,
    IntegerField,
    ItemAlreadyExists,
    MockTransport,
    Model,
    ResourceNotFound,
    Transport,
)

Params = dict[str, Any]


class Score(Model):
    __table_name__ = "unit_transport_scores"

    player = CharField(hash_key=True)
    game = IntegerField(range_key=True)
    points = IntegerField(default=0)


STORED = {"player": {"S": "ann"}, "game": {"N": "1"}, "points": {"N": "7"}}


class Recorder:
    """A handler that records every call and answers from ``answers`` by operation."""

    def __init__(self, **answers: Params | Exception) -> None:
        self.answers = answers
        self.calls: list[tuple[str, Params]] = []

    def __call__(self, operation: str, params: Params) -> Params:
        self.calls.append((operation, params))
        answer = self.answers.get(operation, {})
        if isinstance(answer, Exception):
            raise answer
        return answer


def mock_connection(handler: Recorder) -> Connection:
    return Connection(transport=MockTransport(handler))


# Every item request asks for its consumed capacity (the connection counts it).
GET = {
    "TableName": "unit_transport_scores",
    "Key": {"player": {"S": "ann"}, "game": {"N": "1"}},
    "ReturnConsumedCapacity": "TOTAL",
}
PUT = {
    "TableName": "unit_transport_scores",
    "Item": {"player": {"S": "ann"}, "game": {"N": "2"}, "points": {"N": "3"}},
    "ReturnConsumedCapacity": "TOTAL",
}
QUERY = {
    "TableName": "unit_transport_scores",
    "KeyConditionExpression": "(#n0 = :v0) AND (#n1 > :v1)",
    "ExpressionAttributeNames": {"#n0": "player", "#n1": "game"},
    "ExpressionAttributeValues": {":v0": {"S": "ann"}, ":v1": {"N": "0"}},
    "ReturnConsumedCapacity": "TOTAL",
}


def test_get_put_and_query_run_against_the_handler() -> None:
    handler = Recorder(GetItem={"Item": STORED}, Query={"Items": [STORED], "Count": 1})
    connection = mock_connection(handler)

    got = Score.get(player="ann", game=1, connection=connection)
    put = Score.create(player="ann", game=2, points=3, connection=connection)
    found = Score.query().where(Score.player.eq("ann"), Score.game.gt(0)).using(connection).all()

    assert got == Score(player="ann", game=1, points=7)
    assert put == Score(player="ann", game=2, points=3)
    assert found == [Score(player="ann", game=1, points=7)]
    assert handler.calls == [("GetItem", GET), ("PutItem", PUT), ("Query", QUERY)]


async def test_async_get_put_and_query_run_against_the_handler() -> None:
    handler = Recorder(GetItem={"Item": STORED}, Query={"Items": [STORED], "Count": 1})
    connection = mock_connection(handler)

    got = await Score.aget(player="ann", game=1, connection=connection)
    put = await Score.acreate(player="ann", game=2, points=3, connection=connection)
    query = Score.query().where(Score.player.eq("ann"), Score.game.gt(0)).using(connection)
    found = await query.aall()

    assert got == Score(player="ann", game=1, points=7)
    assert put == Score(player="ann", game=2, points=3)
    assert found == [Score(player="ann", game=1, points=7)]
    assert handler.calls == [("GetItem", GET), ("PutItem", PUT), ("Query", QUERY)]


def test_an_item_that_is_not_there_is_none() -> None:
    handler = Recorder(GetItem={})
    assert Score.get(player="bob", game=1, connection=mock_connection(handler)) is None


def test_the_default_connection_can_be_a_mock() -> None:
    handler = Recorder(GetItem={"Item": STORED})
    with dynamodb.use_connection(mock_connection(handler)):
        assert Score.get(player="ann", game=1) == Score(player="ann", game=1, points=7)
    assert handler.calls == [("GetItem", GET)]


def test_an_error_the_handler_raises_reaches_the_caller_typed() -> None:
    missing = ResourceNotFound("Requested resource not found", operation="GetItem")
    connection = mock_connection(Recorder(GetItem=missing))

    with pytest.raises(ResourceNotFound) as caught:
        Score.get(player="ann", game=1, connection=connection)

    # A missing table comes back named (TableNotFound), caused by the handler's error.
    assert isinstance(caught.value, dynamodb.TableNotFound)
    assert caught.value.__cause__ is missing
    assert caught.value.code == "ResourceNotFoundException"
    assert str(caught.value).startswith(
        "ResourceNotFoundException (GetItem): Requested resource not found; "
        "the table 'unit_transport_scores' (model Score) does not exist"
    )


async def test_a_failed_condition_reaches_the_flow_that_explains_it() -> None:
    """create(overwrite=False) turns DynamoDB's failed condition into ItemAlreadyExists."""
    # As DynamoDB answers a put asking for ReturnValuesOnConditionCheckFailure=ALL_OLD.
    taken = ConditionalCheckFailed("The conditional request failed", response={"Item": STORED})
    handler = Recorder(PutItem=taken)
    connection = mock_connection(handler)

    with pytest.raises(ItemAlreadyExists) as caught:
        Score.create(player="ann", game=1, overwrite=False, connection=connection)
    with pytest.raises(ItemAlreadyExists):
        await Score.acreate(player="ann", game=1, overwrite=False, connection=connection)

    assert caught.value.item == STORED
    assert "exists already" in str(caught.value)
    assert [operation for operation, _ in handler.calls] == ["PutItem", "PutItem"]
    sent = handler.calls[0][1]
    assert sent["ConditionExpression"] == "attribute_not_exists(#n0)"
    assert sent["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_any_other_exception_of_the_handler_is_not_caught() -> None:
    connection = mock_connection(Recorder(GetItem=KeyError("a bug in the handler")))
    with pytest.raises(KeyError, match="a bug in the handler"):
        Score.get(player="ann", game=1, connection=connection)


def test_batches_retry_what_the_handler_leaves_unprocessed() -> None:
    answers = iter(
        [
            {"UnprocessedItems": {"unit_transport_scores": [{"PutRequest": {"Item": STORED}}]}},
            {},
        ]
    )
    calls: list[Params] = []

    def handler(operation: str, params: Params) -> Params:
        assert operation == "BatchWriteItem"
        calls.append(params)
        return next(answers)

    stored = Score.batch_write(
        [Score(player="ann", game=1, points=7), Score(player="bob", game=1)],
        connection=Connection(transport=MockTransport(handler)),
    )

    assert [item.player for item in stored] == ["ann", "bob"]
    assert [len(call["RequestItems"]["unit_transport_scores"]) for call in calls] == [2, 1]
    assert calls[1]["RequestItems"]["unit_transport_scores"] == [{"PutRequest": {"Item": STORED}}]


def test_requests_and_answers_are_copies() -> None:
    kept: list[Params] = []

    def handler(operation: str, params: Params) -> Params:
        kept.append(params)
        params["Key"]["player"] = {"S": "changed by the handler"}
        return {"Item": STORED}

    connection = Connection(transport=MockTransport(handler))
    first = Score.get(player="ann", game=1, connection=connection)
    assert first is not None
    first.points = 8
    second = Score.get(player="ann", game=1, connection=connection)

    assert second == Score(player="ann", game=1, points=7)
    assert STORED["points"] == {"N": "7"}
    assert len(kept) == 2


class ClosingTransport(MockTransport):
    def __init__(self) -> None:
        super().__init__(Recorder())
        self.closed: list[str] = []

    def close(self) -> None:
        self.closed.append("close")

    async def aclose(self) -> None:
        self.closed.append("aclose")


async def test_a_connection_closes_its_transport() -> None:
    transport = ClosingTransport()
    with Connection(transport=transport):
        pass
    async with Connection(transport=transport):
        pass
    assert transport.closed == ["close", "aclose"]


def test_a_connection_through_a_mock_has_no_botocore_client() -> None:
    transport: Transport = MockTransport(Recorder())
    connection = Connection(transport=transport)

    assert connection.transport is transport
    assert repr(connection) == "<Connection via <MockTransport Recorder>>"
    with pytest.raises(AttributeError, match="no botocore client"):
        _ = connection.client


def test_the_default_transport_is_botocore_with_the_connection_settings() -> None:
    connection = Connection(
        endpoint_url="http://127.0.0.1:1", region_name="eu-west-1", read_timeout=2.5
    )
    client = connection.client
    assert client.meta.endpoint_url == "http://127.0.0.1:1"
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.read_timeout == 2.5
    connection.close()
