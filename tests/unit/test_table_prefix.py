"""Table-name prefixes without a server: the rewriting of every request and answer shape,
and a prefixed connection driving the library's own flows against a MockTransport.

The handler plays DynamoDB: it sees the names as DynamoDB would (prefixed) and
answers with them; the caller sees the model's names.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    InvalidValue,
    MockTransport,
    Model,
    ResourceNotFound,
    Table,
    TableNotFound,
)
from dynamodb.core.flow import Flow, Request, Sleep, call, sleep
from dynamodb.core.prefix import (
    check_prefix,
    prefixed_request,
    unprefixed_response,
    with_table_prefix,
)

Params = dict[str, Any]
P = "dev_"


class Score(Model):
    __table_name__ = "unit_prefix_scores"

    player = CharField(hash_key=True)
    game = IntegerField(range_key=True)
    points = IntegerField(default=0)


TABLE = "unit_prefix_scores"
STORED = {"player": {"S": "ann"}, "game": {"N": "1"}, "points": {"N": "7"}}
KEY = {"player": {"S": "ann"}, "game": {"N": "1"}}


class Recorder:
    """A handler recording every call; ``answer(operation, params)`` gives the answers."""

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, Params]] = []

    def __call__(self, operation: str, params: Params) -> Params:
        self.calls.append((operation, params))
        if self.answer is None:
            return {}
        result: Params = self.answer(operation, params)
        return result

    def tables(self) -> list[str]:
        """Every table name the calls named, in order."""
        names: list[str] = []
        for _, params in self.calls:
            if "TableName" in params:
                names.append(params["TableName"])
            names.extend(params.get("RequestItems", ()))
            for action in params.get("TransactItems", ()):
                names.extend(body["TableName"] for body in action.values())
        return names


def connection(handler: Recorder, prefix: str = P) -> Connection:
    return Connection(transport=MockTransport(handler), table_prefix=prefix)


# -- the prefix itself -----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "dev_", "staging-", "ci.1234.", "A" * 254])
def test_prefixes_of_table_name_characters_are_taken(prefix: str) -> None:
    assert check_prefix(prefix) == prefix
    assert Connection(transport=MockTransport(Recorder()), table_prefix=prefix).table_prefix == (
        prefix
    )


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("dev/", r"holds '/'"),
        ("dev test", r"holds ' '"),
        ("dév_", r"holds 'é'"),
        ("a#b:", r"holds '#:'"),
        ("A" * 255, "at most 254"),
        (None, "is a NoneType"),
        (b"dev_", "is a bytes"),
        (1, "is a int"),
    ],
)
def test_a_bad_prefix_is_refused_before_any_request(prefix: Any, message: str) -> None:
    handler = Recorder()
    with pytest.raises(InvalidValue, match=message):
        Connection(transport=MockTransport(handler), table_prefix=prefix)
    assert handler.calls == []


def test_set_connection_refuses_a_bad_prefix_and_keeps_the_default() -> None:
    before = dynamodb.get_connection()
    with pytest.raises(InvalidValue, match="table_prefix"):
        dynamodb.set_connection(is_local_endpoint=True, table_prefix="no spaces")
    assert dynamodb.get_connection() is before


def test_set_connection_takes_a_prefix() -> None:
    before = dynamodb.get_connection()
    with dynamodb.use_connection(before):  # set_connection inside a block replaces only it
        made = dynamodb.set_connection(is_local_endpoint=True, table_prefix="test_")
        assert dynamodb.get_connection() is made
        assert made.table_prefix == "test_"
        assert "prefix 'test_'" in repr(made)
    assert dynamodb.get_connection() is before
    made.close()


def test_no_prefix_is_the_default_and_leaves_the_flow_alone() -> None:
    assert Connection(transport=MockTransport(Recorder())).table_prefix == ""
    flow = call("GetItem", {"TableName": TABLE})
    assert with_table_prefix(flow, "") is flow


# -- requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        "CreateTable",
        "UpdateTable",
        "DeleteTable",
        "DescribeTable",
        "PutItem",
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "DescribeTimeToLive",
        "UpdateTimeToLive",
        "ListStreams",
        "DescribeContinuousBackups",
    ],
)
def test_a_table_name_gets_the_prefix(operation: str) -> None:
    params = {"TableName": "Test", "Key": KEY, "IndexName": "by_points", "Limit": 3}
    original = copy.deepcopy(params)
    sent = prefixed_request(operation, params, P)
    assert sent == {**original, "TableName": "dev_Test"}
    assert params == original  # the flow's own request is not changed


def test_batch_request_items_are_keyed_by_prefixed_tables() -> None:
    params: Params = {
        "RequestItems": {
            "A": {"Keys": [KEY], "ConsistentRead": True},
            "B": {"Keys": [KEY]},
        },
        "ReturnConsumedCapacity": "TOTAL",
    }
    original = copy.deepcopy(params)
    for operation in ("BatchGetItem", "BatchWriteItem"):
        sent = prefixed_request(operation, params, P)
        assert sent == {
            "RequestItems": {"dev_A": original["RequestItems"]["A"], "dev_B": {"Keys": [KEY]}},
            "ReturnConsumedCapacity": "TOTAL",
        }
    assert params == original


def test_every_transaction_action_gets_the_prefix() -> None:
    params = {
        "TransactItems": [
            {"Put": {"TableName": "A", "Item": STORED}},
            {"Update": {"TableName": "B", "Key": KEY, "UpdateExpression": "SET p = :p"}},
            {"Delete": {"TableName": "A", "Key": KEY}},
            {"ConditionCheck": {"TableName": "C", "Key": KEY, "ConditionExpression": "x"}},
        ],
        "ClientRequestToken": "token",
    }
    original = copy.deepcopy(params)
    sent = prefixed_request("TransactWriteItems", params, P)
    assert [next(iter(action.values()))["TableName"] for action in sent["TransactItems"]] == [
        "dev_A",
        "dev_B",
        "dev_A",
        "dev_C",
    ]
    assert sent["TransactItems"][1]["Update"]["UpdateExpression"] == "SET p = :p"
    assert sent["ClientRequestToken"] == "token"
    assert params == original


def test_transact_get_items_get_the_prefix() -> None:
    params = {
        "TransactItems": [
            {"Get": {"TableName": "A", "Key": KEY}},
            {"Get": {"TableName": "B", "Key": KEY}},
        ]
    }
    sent = prefixed_request("TransactGetItems", params, P)
    assert sent["TransactItems"] == [
        {"Get": {"TableName": "dev_A", "Key": KEY}},
        {"Get": {"TableName": "dev_B", "Key": KEY}},
    ]
    assert params["TransactItems"][0]["Get"]["TableName"] == "A"


def test_arns_and_other_names_are_not_rewritten() -> None:
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/dev_A/stream/2024-01-01T00:00:00.000"
    assert prefixed_request("DescribeStream", {"StreamArn": arn}, P) == {"StreamArn": arn}
    assert prefixed_request("ListTables", {"Limit": 5}, P) == {"Limit": 5}
    assert prefixed_request("ListTables", {"ExclusiveStartTableName": "A"}, P) == {
        "ExclusiveStartTableName": "dev_A"
    }
    statement = {"Statement": 'SELECT * FROM "A"'}
    assert prefixed_request("ExecuteStatement", statement, P) == statement  # PartiQL: as given


# -- answers -----------------------------------------------------------------------------


def description(name: str) -> Params:
    return {
        "TableName": name,
        "TableArn": f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}",
        "TableStatus": "ACTIVE",
    }


@pytest.mark.parametrize(
    ("operation", "member"),
    [
        ("CreateTable", "TableDescription"),
        ("UpdateTable", "TableDescription"),
        ("DeleteTable", "TableDescription"),
        ("DescribeTable", "Table"),
        ("DescribeTableReplicaAutoScaling", "TableAutoScalingDescription"),
    ],
)
def test_a_table_description_loses_the_prefix(operation: str, member: str) -> None:
    response = {member: description("dev_Test")}
    answer = unprefixed_response(operation, response, P)
    assert answer[member]["TableName"] == "Test"
    assert answer[member]["TableArn"].endswith("table/dev_Test")  # ARNs stay DynamoDB's
    assert response[member]["TableName"] == "dev_Test"  # the transport's answer is not changed


@pytest.mark.parametrize(
    "operation", ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"]
)
def test_an_item_operations_consumed_capacity_loses_the_prefix(operation: str) -> None:
    metrics = {"ItemCollectionKey": {"player": {"S": "ann"}}, "SizeEstimateRangeGB": [0, 1]}
    response = {
        "Item": {"TableName": {"S": "dev_kept"}},  # an attribute called TableName: data
        "Items": [{"TableName": {"S": "dev_kept"}}],
        "Attributes": {"TableName": {"S": "dev_kept"}},
        "ConsumedCapacity": {"TableName": "dev_Test", "CapacityUnits": 1.0},
        "ItemCollectionMetrics": metrics,
    }
    answer = unprefixed_response(operation, response, P)
    assert answer["ConsumedCapacity"] == {"TableName": "Test", "CapacityUnits": 1.0}
    assert answer["Item"] == answer["Attributes"] == {"TableName": {"S": "dev_kept"}}
    assert answer["Items"] == [{"TableName": {"S": "dev_kept"}}]
    assert answer["ItemCollectionMetrics"] == metrics  # one item's: not keyed by table


def test_batch_get_answers_are_keyed_by_the_models_tables() -> None:
    response: Params = {
        "Responses": {"dev_A": [STORED], "dev_B": []},
        "UnprocessedKeys": {"dev_A": {"Keys": [KEY], "ConsistentRead": True}},
        "ConsumedCapacity": [
            {"TableName": "dev_A", "CapacityUnits": 1.0},
            {"TableName": "dev_B", "CapacityUnits": 0.5},
        ],
    }
    answer = unprefixed_response("BatchGetItem", response, P)
    assert answer == {
        "Responses": {"A": [STORED], "B": []},
        "UnprocessedKeys": {"A": {"Keys": [KEY], "ConsistentRead": True}},
        "ConsumedCapacity": [
            {"TableName": "A", "CapacityUnits": 1.0},
            {"TableName": "B", "CapacityUnits": 0.5},
        ],
    }
    assert set(response["Responses"]) == {"dev_A", "dev_B"}


def test_batch_write_answers_are_keyed_by_the_models_tables() -> None:
    unprocessed = [{"PutRequest": {"Item": STORED}}]
    response = {
        "UnprocessedItems": {"dev_A": unprocessed},
        "ItemCollectionMetrics": {"dev_A": [{"ItemCollectionKey": KEY}]},
    }
    answer = unprefixed_response("BatchWriteItem", response, P)
    assert answer == {
        "UnprocessedItems": {"A": unprocessed},
        "ItemCollectionMetrics": {"A": [{"ItemCollectionKey": KEY}]},
    }


def test_transaction_answers_lose_the_prefix() -> None:
    written = unprefixed_response(
        "TransactWriteItems",
        {
            "ConsumedCapacity": [{"TableName": "dev_A", "CapacityUnits": 2.0}],
            "ItemCollectionMetrics": {"dev_A": []},
        },
        P,
    )
    assert written == {
        "ConsumedCapacity": [{"TableName": "A", "CapacityUnits": 2.0}],
        "ItemCollectionMetrics": {"A": []},
    }
    read = unprefixed_response(
        "TransactGetItems",
        {"Responses": [{"Item": STORED}, {}], "ConsumedCapacity": [{"TableName": "dev_B"}]},
        P,
    )
    assert read == {"Responses": [{"Item": STORED}, {}], "ConsumedCapacity": [{"TableName": "B"}]}


def test_stream_answers_lose_the_prefix_and_list_only_the_prefixes_streams() -> None:
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/dev_A/stream/1"
    described = unprefixed_response(
        "DescribeStream",
        {"StreamDescription": {"StreamArn": arn, "TableName": "dev_A", "Shards": []}},
        P,
    )
    assert described["StreamDescription"] == {"StreamArn": arn, "TableName": "A", "Shards": []}
    listed = unprefixed_response(
        "ListStreams",
        {
            "Streams": [
                {"StreamArn": arn, "TableName": "dev_A"},
                {"StreamArn": "arn:other", "TableName": "prod_A"},
            ],
            "LastEvaluatedStreamArn": "arn:other",
        },
        P,
    )
    assert listed == {
        "Streams": [{"StreamArn": arn, "TableName": "A"}],
        "LastEvaluatedStreamArn": "arn:other",  # an ARN: given back as it came
    }


def test_an_answer_naming_no_table_is_given_back_as_it_came() -> None:
    response = {"Item": STORED, "LastEvaluatedKey": KEY, "Count": 1}
    assert unprefixed_response("GetItem", response, P) is response


def test_names_without_the_prefix_are_left_as_they_are() -> None:
    answer = unprefixed_response(
        "BatchGetItem", {"Responses": {"other": []}, "ConsumedCapacity": {"TableName": "x"}}, P
    )
    assert answer == {"Responses": {"other": []}, "ConsumedCapacity": {"TableName": "x"}}
    assert unprefixed_response("DescribeTimeToLive", {"TimeToLiveDescription": {}}, P) == {
        "TimeToLiveDescription": {}
    }


# -- ListTables: paging through the other prefixes' tables -------------------------------


ACCOUNT = sorted(
    ["a1", "a2", "dev_A", "dev_B", "dev_C", "devX", "prod_A", "prod_B", "staging_A", "z9"]
)


def list_tables(operation: str, params: Params) -> Params:
    """ListTables as DynamoDB pages it: names in order, Limit (default 100) per page."""
    assert operation == "ListTables"
    start = params.get("ExclusiveStartTableName")
    rest = [name for name in ACCOUNT if start is None or name > start]
    limit = params.get("Limit", 100)
    page = rest[:limit]
    answer: Params = {"TableNames": page}
    if len(rest) > limit:
        answer["LastEvaluatedTableName"] = page[-1]
    return answer


def all_pages(conn: Connection, limit: int | None) -> list[list[str]]:
    pages: list[list[str]] = []
    params: Params = {} if limit is None else {"Limit": limit}
    while True:
        answer = conn.run(call("ListTables", params))
        pages.append(answer["TableNames"])
        last = answer.get("LastEvaluatedTableName")
        if last is None:
            return pages
        params = {**params, "ExclusiveStartTableName": last}


def test_list_tables_lists_only_the_prefixes_tables() -> None:
    handler = Recorder(list_tables)
    assert all_pages(connection(handler), None) == [["A", "B", "C"]]
    assert all_pages(connection(handler, "prod_"), None) == [["A", "B"]]
    assert all_pages(connection(handler, "nothing_"), None) == [[]]
    assert all_pages(connection(handler, ""), None) == [ACCOUNT]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 100])
def test_list_tables_pages_by_limit_over_the_prefixes_tables(limit: int) -> None:
    handler = Recorder(list_tables)
    pages = all_pages(connection(handler), limit)
    assert [name for page in pages for name in page] == ["A", "B", "C"]
    assert all(len(page) <= limit for page in pages)
    assert all(pages[:-1])  # only the last page may be empty
    for _, params in handler.calls:  # DynamoDB saw prefixed (or its own) names only
        start = params.get("ExclusiveStartTableName")
        assert start is None or start in ACCOUNT


def test_list_tables_reads_through_pages_of_other_tables() -> None:
    handler = Recorder(list_tables)
    answer = connection(handler).run(call("ListTables", {"Limit": 1}))
    assert answer == {"TableNames": ["A"], "LastEvaluatedTableName": "A"}
    assert [params.get("ExclusiveStartTableName") for _, params in handler.calls] == [
        None,
        "a1",
        "a2",
        "devX",  # sorts before dev_A ('X' < '_')
    ]


# -- a prefixed connection running the library's flows ------------------------------------


def dynamo(operation: str, params: Params) -> Params:
    """Answers as DynamoDB would give them for the prefixed Score table."""
    if operation == "GetItem":
        return {"Item": STORED, "ConsumedCapacity": {"TableName": params["TableName"]}}
    if operation in ("Query", "Scan"):
        return {"Items": [STORED], "Count": 1, "ScannedCount": 1}
    if operation == "BatchGetItem":
        return {"Responses": {table: [STORED] for table in params["RequestItems"]}}
    if operation == "TransactGetItems":
        return {"Responses": [{} for _ in params["TransactItems"]]}
    if operation == "DescribeTable":
        return {"Table": {**description(params["TableName"]), "KeySchema": []}}
    if operation == "DescribeTimeToLive":
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {}


def test_item_calls_send_prefixed_names_and_read_the_models_own() -> None:
    handler = Recorder(dynamo)
    conn = connection(handler)
    item = Score.get(player="ann", game=1, connection=conn)
    assert item is not None
    assert item.points == 7
    Score(player="bob", game=2).save(connection=conn)
    assert [found.points for found in Score.query().where(Score.player.eq("ann")).using(conn)] == [
        7
    ]
    assert [found.points for found in Score.scan().using(conn)] == [7]
    assert handler.tables() == [f"dev_{TABLE}"] * 4
    assert [operation for operation, _ in handler.calls] == ["GetItem", "PutItem", "Query", "Scan"]


def test_batches_and_transactions_send_prefixed_names() -> None:
    handler = Recorder(dynamo)
    conn = connection(handler)
    Score.batch_write([Score(player="ann", game=n) for n in range(3)], connection=conn)
    found = Score.batch_get({"player": "ann", "game": 1}, connection=conn)
    assert [item.points for item in found] == [7]
    with dynamodb.transaction(connection=conn) as tx:
        tx.put(Score(player="cy", game=1))
        tx.delete(Score(player="ann", game=1))
    read = dynamodb.transact_get([(Score, {"player": "ann", "game": 1})], connection=conn)
    assert read == [None]
    assert [operation for operation, _ in handler.calls] == [
        "BatchWriteItem",
        "BatchGetItem",
        "TransactWriteItems",
        "TransactGetItems",
    ]
    assert set(handler.tables()) == {f"dev_{TABLE}"}


def test_unprocessed_items_come_back_to_the_flow_unprefixed_and_are_resent_prefixed() -> None:
    answers = iter(
        [
            {"UnprocessedItems": {f"dev_{TABLE}": [{"PutRequest": {"Item": STORED}}]}},
            {},
        ]
    )
    handler = Recorder(lambda operation, params: next(answers))
    Score.batch_write([Score(player="ann", game=1)], connection=connection(handler), retry=None)
    assert [list(params["RequestItems"]) for _, params in handler.calls] == [
        [f"dev_{TABLE}"],
        [f"dev_{TABLE}"],  # the retry: the flow saw the model's name, the prefix was added again
    ]
    assert handler.calls[1][1]["RequestItems"][f"dev_{TABLE}"] == [{"PutRequest": {"Item": STORED}}]


def test_unprocessed_keys_are_read_again_under_the_prefix() -> None:
    answers = iter(
        [
            {"Responses": {}, "UnprocessedKeys": {f"dev_{TABLE}": {"Keys": [KEY]}}},
            {"Responses": {f"dev_{TABLE}": [STORED]}},
        ]
    )
    handler = Recorder(lambda operation, params: next(answers))
    found = Score.batch_get({"player": "ann", "game": 1}, connection=connection(handler))
    assert [item.points for item in found] == [7]
    assert [list(params["RequestItems"]) for _, params in handler.calls] == [
        [f"dev_{TABLE}"],
        [f"dev_{TABLE}"],
    ]


def missing(operation: str, params: Params) -> Params:
    raise ResourceNotFound("Requested resource not found", operation=operation)


def test_a_missing_table_is_still_named_with_its_model() -> None:
    conn = connection(Recorder(missing))
    with pytest.raises(TableNotFound) as caught:
        Score.get(player="ann", game=1, connection=conn)
    assert caught.value.tables == {TABLE: ["Score"]}
    assert "create_table(Score)" in str(caught.value)
    with pytest.raises(TableNotFound) as batch:
        Score.batch_get({"player": "ann", "game": 1}, connection=conn)
    assert batch.value.tables == {TABLE: ["Score"]}
    with pytest.raises(TableNotFound) as transaction, dynamodb.transaction(connection=conn) as tx:
        tx.put(Score(player="cy", game=1))
    assert transaction.value.tables == {TABLE: ["Score"]}


def test_table_shows_and_uses_the_prefixed_name() -> None:
    handler = Recorder(dynamo)
    table = Table(Score, connection=connection(handler))
    assert table.name == f"dev_{TABLE}"
    assert repr(table) == f"<Table dev_{TABLE} of Score>"
    assert Table(Score, connection=connection(handler, "")).name == TABLE
    info = table.info()
    assert info["TableName"] == TABLE  # the model's name, as the flow reads it
    assert info["TableArn"].endswith(f"table/dev_{TABLE}")
    table.delete(wait=False)
    assert [(operation, params["TableName"]) for operation, params in handler.calls] == [
        ("DescribeTable", f"dev_{TABLE}"),
        ("DescribeTimeToLive", f"dev_{TABLE}"),
        ("DeleteTable", f"dev_{TABLE}"),
    ]


async def test_the_async_driver_prefixes_the_same_way() -> None:
    handler = Recorder(dynamo)
    conn = connection(handler)
    item = await Score.aget(player="ann", game=1, connection=conn)
    assert item is not None
    assert item.points == 7
    found = await Score.abatch_get({"player": "ann", "game": 1}, connection=conn)
    assert [entry.points for entry in found] == [7]
    assert await conn.arun(call("ListTables", {})) == {"TableNames": []}
    assert handler.tables() == [f"dev_{TABLE}"] * 2


def test_run_many_prefixes_each_flow() -> None:
    handler = Recorder(dynamo)
    conn = connection(handler)
    flows = [call("GetItem", {"TableName": f"T{n}", "Key": KEY}) for n in range(4)]
    answers = conn.run_many(flows, concurrency=4)
    assert [answer["ConsumedCapacity"]["TableName"] for answer in answers] == [  # type: ignore[index]
        "T0",
        "T1",
        "T2",
        "T3",
    ]
    assert sorted(handler.tables()) == ["dev_T0", "dev_T1", "dev_T2", "dev_T3"]


async def test_arun_many_prefixes_each_flow() -> None:
    handler = Recorder(dynamo)
    conn = connection(handler)
    flows = [call("GetItem", {"TableName": f"T{n}", "Key": KEY}) for n in range(3)]
    answers = await conn.arun_many(flows, concurrency=3)
    assert [answer["ConsumedCapacity"]["TableName"] for answer in answers] == ["T0", "T1", "T2"]  # type: ignore[index]
    assert sorted(handler.tables()) == ["dev_T0", "dev_T1", "dev_T2"]


def test_raw_send_is_not_prefixed() -> None:
    handler = Recorder(dynamo)
    conn = connection(handler)
    conn.send("GetItem", {"TableName": "raw", "Key": KEY})
    assert handler.tables() == ["raw"]


def test_sleeps_and_errors_pass_through_to_the_flow() -> None:
    seen: list[object] = []

    def flow() -> Flow[str]:
        yield from sleep(0.0)
        try:
            yield from call("GetItem", {"TableName": "A"})
        except ResourceNotFound as error:
            seen.append(error)
            return "handled"
        return "not reached"

    wrapped = with_table_prefix(flow(), P)
    assert wrapped.send(None) == Sleep(0.0)
    request = wrapped.send(None)
    assert request == Request("GetItem", {"TableName": "dev_A"})
    error = ResourceNotFound("gone", operation="GetItem")
    with pytest.raises(StopIteration) as stop:
        wrapped.throw(error)
    assert stop.value.value == "handled"
    assert seen == [error]  # the very error DynamoDB raised


def test_the_requests_idempotence_is_kept() -> None:
    wrapped = with_table_prefix(call("UpdateItem", {"TableName": "A"}, idempotent=True), P)
    assert wrapped.send(None) == Request("UpdateItem", {"TableName": "dev_A"}, True)
