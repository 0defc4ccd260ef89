"""A stream with shards made by hand, answering the DynamoDB Streams API.

DynamoDB Local gives each table's stream one shard and rolls it over every four
hours, so shard lineage (parents closing, children appearing, several shards at
once) cannot be seen there. :class:`ScriptedStream` answers DescribeStream,
GetShardIterator and GetRecords the way DynamoDB documents them, for shards a
test builds: a closed shard's last GetRecords has no NextShardIterator, a
DescribeStream answer is paged, an iterator can be made to expire. Nothing else
(tables, items, checkpoint tables) is imitated: :func:`drive` runs a flow
against it with a fake clock, and :class:`StreamsOnly` sends every other request
to a real connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dynamodb import (
    Connection,
    ExpiredIterator,
    LimitExceeded,
    ResourceNotFound,
    ValidationError,
)
from dynamodb.core.flow import Flow, Request, Sleep
from dynamodb.core.services import STREAMS_OPERATIONS

__all__ = ["FakeClock", "ScriptedStream", "StreamsOnly", "drive"]

T = TypeVar("T")

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/scripted/stream/2024-01-01T00:00:00.000"


@dataclass
class _Shard:
    parent: str | None
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


class ScriptedStream:
    """Shards and records put by a test; answers the Streams API for them."""

    def __init__(self, arn: str = ARN, page_size: int = 100) -> None:
        self.arn = arn
        self.page_size = page_size
        self.status = "ENABLED"
        self.shards: dict[str, _Shard] = {}
        self.sequence = 0
        self.expire_next = 0  # GetRecords calls to answer with ExpiredIteratorException
        self.throttle_next = 0  # DescribeStream calls to answer with LimitExceededException
        self.calls: list[str] = []

    def add_shard(self, shard_id: str, parent: str | None = None) -> None:
        self.shards[shard_id] = _Shard(parent)

    def close(self, shard_id: str) -> None:
        self.shards[shard_id].closed = True

    def put(self, shard_id: str, key: str, event: str = "INSERT", value: int = 0) -> str:
        """A record of the item ``{"pk": key}`` (``"n": value``) in ``shard_id``; its number."""
        shard = self.shards[shard_id]
        assert not shard.closed, f"shard {shard_id} is closed"
        self.sequence += 1
        number = f"{self.sequence:021d}"
        image = {"pk": {"S": key}, "n": {"N": str(value)}}
        body: dict[str, Any] = {
            "Keys": {"pk": {"S": key}},
            "SequenceNumber": number,
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": 1_700_000_000 + self.sequence,
        }
        if event != "REMOVE":
            body["NewImage"] = image
        if event != "INSERT":
            body["OldImage"] = {"pk": {"S": key}, "n": {"N": str(value - 1)}}
        shard.records.append({"eventID": f"e{number}", "eventName": event, "dynamodb": body})
        return number

    # -- the API --------------------------------------------------------------------------

    def __call__(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(operation)
        if operation == "DescribeStream":
            return self._describe(params)
        if operation == "GetShardIterator":
            return self._iterator(params)
        if operation == "GetRecords":
            return self._records(params)
        raise AssertionError(f"ScriptedStream does not answer {operation}")

    def _describe(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.throttle_next:
            self.throttle_next -= 1
            raise LimitExceeded("Rate exceeded", operation="DescribeStream")
        ids = list(self.shards)
        after = params.get("ExclusiveStartShardId")
        start = ids.index(after) + 1 if after else 0
        page = ids[start : start + self.page_size]
        shards = []
        for shard_id in page:
            shard = self.shards[shard_id]
            numbers: dict[str, str] = {"StartingSequenceNumber": "0"}
            if shard.closed:
                numbers["EndingSequenceNumber"] = str(self.sequence)
            entry: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": numbers}
            if shard.parent is not None:
                entry["ParentShardId"] = shard.parent
            shards.append(entry)
        description: dict[str, Any] = {
            "StreamArn": self.arn,
            "StreamStatus": self.status,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "Shards": shards,
        }
        if start + self.page_size < len(ids):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def _iterator(self, params: dict[str, Any]) -> dict[str, Any]:
        shard_id = params["ShardId"]
        if shard_id not in self.shards:
            raise ResourceNotFound(f"no shard {shard_id}", operation="GetShardIterator")
        records = self.shards[shard_id].records
        kind = params["ShardIteratorType"]
        numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
        if kind == "TRIM_HORIZON":
            position = 0
        elif kind == "LATEST":
            position = len(records)
        elif params.get("SequenceNumber") in numbers:
            position = numbers.index(params["SequenceNumber"]) + (kind == "AFTER_SEQUENCE_NUMBER")
        else:
            raise ValidationError("Invalid SequenceNumber for the shard")
        return {"ShardIterator": f"{shard_id}|{position}"}

    def _records(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.expire_next:
            self.expire_next -= 1
            raise ExpiredIterator("Iterator expired", operation="GetRecords")
        shard_id, position_text = params["ShardIterator"].split("|")
        shard = self.shards[shard_id]
        position = int(position_text)
        found = shard.records[position : position + int(params.get("Limit", 1000))]
        answer: dict[str, Any] = {"Records": [dict(record) for record in found]}
        end = position + len(found)
        if not (shard.closed and end >= len(shard.records)):
            answer["NextShardIterator"] = f"{shard_id}|{end}"
        return answer


class FakeClock:
    """Time that passes only when a flow sleeps (or a test moves it)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def drive(
    flow: Flow[T],
    answer: Callable[[str, dict[str, Any]], dict[str, Any]],
    clock: FakeClock | None = None,
) -> T:
    """Run ``flow`` to its end: requests answered by ``answer`` (its errors thrown into the
    flow), sleeps moving ``clock`` on."""
    reply: Any = None
    error: Exception | None = None
    while True:
        try:
            step = flow.send(reply) if error is None else flow.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        reply, error = None, None
        if isinstance(step, Sleep):
            if clock is not None:
                clock.sleeps.append(step.seconds)
                clock.advance(step.seconds)
            continue
        assert isinstance(step, Request)
        try:
            reply = answer(step.operation, step.params)
        except Exception as failure:
            error = failure


class StreamsOnly:
    """A transport: the Streams API answered by a ScriptedStream, the rest by ``connection``."""

    def __init__(self, stream: ScriptedStream, connection: Connection) -> None:
        self.stream = stream
        self.connection = connection

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation in STREAMS_OPERATIONS:
            return self.stream(operation, params)
        return self.connection.send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation in STREAMS_OPERATIONS:
            return self.stream(operation, params)
        return await self.connection.asend(operation, params)

    def close(self) -> None:
        """The connection is the test's: it closes it."""

    async def aclose(self) -> None:
        """The connection is the test's: it closes it."""
