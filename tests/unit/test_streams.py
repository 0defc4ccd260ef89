"""Stream reading, pure: records, shard order, lease plans, sessions over a scripted stream.

DynamoDB Local serves one shard per stream, so what depends on several shards
(parents before children, shards appearing, leases split between workers) is
checked here, with the session's flows answered by a ScriptedStream and a fake
clock; the integration tests read DynamoDB Local's streams for the rest.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

import pytest

from dynamodb import InvalidValue, LeaseLost
from dynamodb.core.flow import Flow
from dynamodb.core.leases import (
    LATEST,
    SHARD_END,
    TRIM_HORIZON,
    Lease,
    Leases,
    MemoryCheckpoints,
    TableCheckpoints,
)
from dynamodb.core.services import DYNAMODB, DYNAMODB_STREAMS, service_of
from dynamodb.core.streams import (
    Batch,
    Shard,
    StreamSession,
    order_shards,
    parse_record,
    plan_leases,
)
from tests.support.scripted_stream import FakeClock, ScriptedStream, drive


def session(
    stream: ScriptedStream,
    clock: FakeClock,
    store: MemoryCheckpoints | None = None,
    worker: str = "w1",
    **options: Any,
) -> StreamSession:
    return StreamSession(
        stream.arn,
        "group|" + stream.arn,
        store if store is not None else MemoryCheckpoints(),
        worker,
        clock=clock,
        **options,
    )


def read_all(reader: StreamSession, stream: ScriptedStream, clock: FakeClock) -> list[Batch]:
    """Every batch until the session ends (idle_limit), each acknowledged."""
    batches = []
    while (batch := drive(reader.next_batch(), stream, clock)) is not None:
        batches.append(batch)
        assert drive(reader.acknowledge(batch), stream, clock)
    return batches


def keys_of(batches: list[Batch]) -> list[str]:
    return [record.keys["pk"]["S"] for batch in batches for record in batch.records]


# -- routing -------------------------------------------------------------------------------


def test_streams_operations_go_to_the_streams_service() -> None:
    for operation in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"):
        assert service_of(operation) is DYNAMODB_STREAMS
    for operation in ("GetItem", "Query", "DescribeTable", "UpdateTable"):
        assert service_of(operation) is DYNAMODB
    assert DYNAMODB_STREAMS.target_prefix == "DynamoDBStreams_20120810"
    assert DYNAMODB.target_prefix == "DynamoDB_20120810"
    assert DYNAMODB_STREAMS.signing_name == "dynamodb"


# -- records ---------------------------------------------------------------------------------


def raw_record(**body: Any) -> dict[str, Any]:
    return {
        "eventID": "1",
        "eventName": "MODIFY",
        "dynamodb": {"Keys": {"pk": {"S": "a"}}, "SequenceNumber": "42", **body},
    }


def test_a_record_is_read_with_its_time_as_aware_utc() -> None:
    from_botocore = parse_record(
        raw_record(ApproximateCreationDateTime=datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc))
    )
    from_json = parse_record(raw_record(ApproximateCreationDateTime=1714564800))
    assert (
        from_botocore.created == from_json.created == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    )
    assert from_json.created.tzinfo is timezone.utc
    assert from_json.event_name == "MODIFY"
    assert from_json.sequence_number == "42"
    assert from_json.keys == {"pk": {"S": "a"}}
    assert not from_json.by_ttl


def test_a_deletion_by_ttl_is_told_by_its_user_identity() -> None:
    record = raw_record(OldImage={"pk": {"S": "a"}})
    record["eventName"] = "REMOVE"
    assert not parse_record(record).by_ttl
    record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert parse_record(record).by_ttl


def test_dynamodb_locals_name_for_ttl_deletions_is_a_ttl_removal() -> None:
    record = raw_record(OldImage={"pk": {"S": "a"}})
    record["eventName"] = "UNKNOWN_TO_SDK_VERSION"
    parsed = parse_record(record)
    assert (parsed.event_name, parsed.by_ttl) == ("REMOVE", True)


def test_binary_values_of_lambda_events_are_decoded_from_base64_nested_too() -> None:
    blob = base64.b64encode(b"\x00\x01").decode()
    image = {
        "pk": {"S": "a"},
        "b": {"B": blob},
        "bs": {"BS": [blob]},
        "m": {"M": {"inner": {"B": blob}}},
        "l": {"L": [{"B": blob}, {"N": "1"}]},
    }
    parsed = parse_record(raw_record(NewImage=image), base64_binary=True)
    assert parsed.new_image == {
        "pk": {"S": "a"},
        "b": {"B": b"\x00\x01"},
        "bs": {"BS": [b"\x00\x01"]},
        "m": {"M": {"inner": {"B": b"\x00\x01"}}},
        "l": {"L": [{"B": b"\x00\x01"}, {"N": "1"}]},
    }


def test_what_is_not_a_stream_record_is_refused_clearly() -> None:
    with pytest.raises(InvalidValue, match="not a DynamoDB stream record"):
        parse_record({"eventName": "INSERT"})
    record = raw_record()
    record["eventName"] = "UPSERT"
    with pytest.raises(InvalidValue, match="unknown eventName 'UPSERT'"):
        parse_record(record)


# -- shards ----------------------------------------------------------------------------------


def test_parents_come_before_their_children() -> None:
    shards = [
        Shard("c2", parent="c1"),
        Shard("c1", parent="root"),
        Shard("other"),
        Shard("root", closed=True),
        Shard("orphan", parent="trimmed-long-ago"),
    ]
    ordered = [shard.shard_id for shard in order_shards(shards)]
    assert ordered.index("root") < ordered.index("c1") < ordered.index("c2")
    assert set(ordered) == {"c2", "c1", "other", "root", "orphan"}


def lease_table(*rows: Lease, workers: dict[str, float] | None = None) -> Leases:
    return Leases({row.shard: row for row in rows}, workers or {})


def test_two_workers_split_the_readable_shards() -> None:
    shards = [Shard(f"s{i}") for i in range(4)]
    rows = lease_table(
        *(Lease(f"s{i}", TRIM_HORIZON) for i in range(4)), workers={"a": 200, "b": 200}
    )
    first = plan_leases(shards, rows, "a", held=(), now=100)
    assert first.take == ("s0", "s1")
    taken = lease_table(
        *(
            Lease(f"s{i}", TRIM_HORIZON, owner="a" if i < 2 else None, expires=150)
            for i in range(4)
        ),
        workers={"a": 200, "b": 200},
    )
    second = plan_leases(shards, taken, "b", held=(), now=100)
    assert second.take == ("s2", "s3")
    assert second.release == ()


def test_a_worker_above_its_share_gives_the_extra_leases_up() -> None:
    shards = [Shard(f"s{i}") for i in range(3)]
    rows = lease_table(
        *(Lease(f"s{i}", "7", owner="a", expires=150) for i in range(3)),
        workers={"a": 200, "b": 200},
    )
    plan = plan_leases(shards, rows, "a", held=("s0", "s1", "s2"), now=100)
    assert plan.release == ("s2",)
    assert plan.take == ()


def test_an_expired_lease_is_taken_and_a_dead_worker_is_not_counted() -> None:
    shards = [Shard("s0"), Shard("s1")]
    rows = lease_table(
        Lease("s0", "5", owner="dead", expires=90),
        Lease("s1", "9", owner="live", expires=150),
        workers={"dead": 95, "live": 200},
    )
    plan = plan_leases(shards, rows, "me", held=(), now=100)
    assert plan.take == ("s0",)  # the share of two live workers (me, live) is one


def test_a_child_waits_until_its_parent_is_finished() -> None:
    shards = [Shard("parent", closed=True), Shard("child", parent="parent")]
    reading = lease_table(Lease("parent", "5"), Lease("child", TRIM_HORIZON))
    assert plan_leases(shards, reading, "me", (), 100).readable == ("parent",)
    done = lease_table(Lease("parent", SHARD_END), Lease("child", TRIM_HORIZON))
    assert plan_leases(shards, done, "me", (), 100).readable == ("child",)
    # A parent trimmed from the stream does not hold its child back.
    assert plan_leases(shards[1:], reading, "me", (), 100).readable == ("child",)


# -- a session over a scripted stream -----------------------------------------------------------


def test_every_shard_is_read_a_parent_to_its_end_before_its_children() -> None:
    stream, clock = ScriptedStream(page_size=2), FakeClock()
    stream.add_shard("root")
    for index in range(5):
        stream.put("root", f"r{index}")
    stream.close("root")
    stream.add_shard("left", parent="root")
    stream.add_shard("right", parent="root")
    stream.put("left", "l0")
    stream.put("right", "x0")
    stream.put("left", "l1")
    stream.add_shard("other")
    stream.put("other", "o0")
    reader = session(stream, clock, batch_size=2, idle_limit=5.0)
    batches = read_all(reader, stream, clock)
    keys = keys_of(batches)
    assert sorted(keys) == sorted(["r0", "r1", "r2", "r3", "r4", "l0", "l1", "x0", "o0"])
    last_root = max(index for index, key in enumerate(keys) if key.startswith("r"))
    first_child = min(index for index, key in enumerate(keys) if key[0] in "lx")
    assert last_root < first_child
    assert [key for key in keys if key.startswith("r")] == ["r0", "r1", "r2", "r3", "r4"]
    assert [key for key in keys if key.startswith("l")] == ["l0", "l1"]
    assert all(len(batch.records) <= 2 for batch in batches)
    assert {batch.shard_id for batch in batches if batch.records[0].keys["pk"]["S"] == "o0"} == {
        "other"
    }


def test_shards_that_appear_while_reading_are_picked_up() -> None:
    stream, clock = ScriptedStream(), FakeClock()
    stream.add_shard("first")
    stream.put("first", "a")
    reader = session(stream, clock, lease_seconds=2.0, idle_limit=30.0)
    batch = drive(reader.next_batch(), stream, clock)
    assert batch is not None
    assert keys_of([batch]) == ["a"]
    drive(reader.acknowledge(batch), stream, clock)
    stream.close("first")
    stream.add_shard("second", parent="first")
    stream.put("second", "b")
    later = drive(reader.next_batch(), stream, clock)
    assert later is not None
    assert (later.shard_id, keys_of([later])) == ("second", ["b"])


def test_an_idle_stream_is_polled_with_growing_sleeps_then_the_reader_stops() -> None:
    stream, clock = ScriptedStream(), FakeClock()
    stream.add_shard("only")
    reader = session(stream, clock, idle_limit=10.0, lease_seconds=30.0)
    assert drive(reader.next_batch(), stream, clock) is None
    sleeps = clock.sleeps
    assert sleeps[:5] == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8])
    assert max(sleeps) <= 1.0
    assert sum(sleeps) == pytest.approx(10.0, abs=0.01)
    assert stream.calls.count("GetRecords") == len(sleeps) + 1 <= 20  # a poll after each sleep


def test_a_disabled_stream_ends_the_reader_once_every_shard_is_drained() -> None:
    stream, clock = ScriptedStream(), FakeClock()
    stream.add_shard("only")
    stream.put("only", "a")
    stream.close("only")
    stream.status = "DISABLED"
    reader = session(stream, clock)  # no idle limit: it ends because the stream did
    assert keys_of(read_all(reader, stream, clock)) == ["a"]


def test_an_expired_iterator_is_replaced_and_nothing_is_lost_or_repeated() -> None:
    stream, clock = ScriptedStream(), FakeClock()
    stream.add_shard("only")
    for key in "abc":
        stream.put("only", key)
    reader = session(stream, clock, batch_size=1, idle_limit=3.0)
    first = drive(reader.next_batch(), stream, clock)
    assert first is not None
    drive(reader.acknowledge(first), stream, clock)
    stream.expire_next = 1
    rest = read_all(reader, stream, clock)
    assert keys_of([first, *rest]) == ["a", "b", "c"]


def test_a_throttled_describe_stream_is_tried_again_later() -> None:
    stream, clock = ScriptedStream(), FakeClock()
    stream.add_shard("only")
    stream.put("only", "a")
    stream.throttle_next = 2
    reader = session(stream, clock, lease_seconds=2.0, idle_limit=10.0)
    assert keys_of(read_all(reader, stream, clock)) == ["a"]
    assert stream.calls[:3] == ["DescribeStream"] * 3


def test_start_latest_skips_what_was_there_and_reads_what_comes() -> None:
    stream, clock = ScriptedStream(), FakeClock()
    stream.add_shard("old")
    stream.put("old", "before")
    stream.close("old")
    stream.add_shard("open", parent="old")
    stream.put("open", "also-before")
    reader = session(stream, clock, start="latest", idle_limit=2.0)
    assert drive(reader.next_batch(), stream, clock) is None
    stream.put("open", "after")
    reader.idle_limit = 4.0
    assert keys_of(read_all(reader, stream, clock)) == ["after"]


def test_a_restart_resumes_after_the_last_checkpoint() -> None:
    stream, clock, store = ScriptedStream(), FakeClock(), MemoryCheckpoints()
    stream.add_shard("only")
    for key in "abcde":
        stream.put("only", key)
    first = session(stream, clock, store, batch_size=2, idle_limit=1.0)
    batch = drive(first.next_batch(), stream, clock)
    assert batch is not None
    drive(first.acknowledge(batch), stream, clock)
    unacknowledged = drive(first.next_batch(), stream, clock)
    assert keys_of([unacknowledged] if unacknowledged else []) == ["c", "d"]
    drive(first.release(), stream, clock)  # stops before acknowledging c and d
    second = session(stream, clock, store, worker="w2", batch_size=2, idle_limit=1.0)
    assert keys_of(read_all(second, stream, clock)) == ["c", "d", "e"]


def test_a_partial_acknowledgement_resumes_after_the_record_given() -> None:
    stream, clock, store = ScriptedStream(), FakeClock(), MemoryCheckpoints()
    stream.add_shard("only")
    for key in "abcd":
        stream.put("only", key)
    first = session(stream, clock, store, idle_limit=1.0)
    batch = drive(first.next_batch(), stream, clock)
    assert batch is not None
    drive(first.acknowledge(batch, batch.records[1]), stream, clock)
    drive(first.release(), stream, clock)
    second = session(stream, clock, store, idle_limit=1.0)
    assert keys_of(read_all(second, stream, clock)) == ["c", "d"]


def test_two_workers_split_shards_and_one_takes_over_when_the_other_stops_renewing() -> None:
    stream, clock, store = ScriptedStream(), FakeClock(), MemoryCheckpoints()
    for shard in ("s0", "s1"):
        stream.add_shard(shard)
        stream.put(shard, f"{shard}-a")
    one = session(stream, clock, store, worker="one", lease_seconds=4.0, idle_limit=60.0)
    two = session(stream, clock, store, worker="two", lease_seconds=4.0, idle_limit=60.0)
    drive(one._sync(), stream, clock)  # one looks first, while it is alone: takes both
    assert sorted(one.held) == ["s0", "s1"]
    drive(two._sync(), stream, clock)  # two finds both held
    assert two.held == ()
    clock.advance(2.5)
    drive(one._sync(), stream, clock)  # one now counts two workers: gives one shard up
    drive(two._sync(), stream, clock)
    assert len(one.held) == len(two.held) == 1
    taken = two.held[0]
    batch = drive(two.next_batch(), stream, clock)
    assert batch is not None
    assert batch.shard_id == taken
    drive(two.acknowledge(batch), stream, clock)
    # one stops (no heartbeats, no release): after its leases expire, two takes its shard.
    kept = one.held[0]
    clock.advance(5.0)
    batch = drive(two.next_batch(), stream, clock)
    assert batch is not None
    assert batch.shard_id == kept
    assert sorted(two.held) == ["s0", "s1"]
    # one learns it lost the shard when it checkpoints: the change is not written.
    with pytest.raises(LeaseLost, match=kept):
        drive(one.checkpoint(kept, batch.records[0].sequence_number), stream, clock)


def test_session_settings_are_checked() -> None:
    stream, clock = ScriptedStream(), FakeClock()
    with pytest.raises(InvalidValue, match="start"):
        session(stream, clock, start="beginning")
    with pytest.raises(InvalidValue, match="batch_size"):
        session(stream, clock, batch_size=5000)
    with pytest.raises(InvalidValue, match="lease_seconds"):
        session(stream, clock, lease_seconds=0)


# -- the checkpoint table's requests ---------------------------------------------------------


def test_the_checkpoint_table_is_keyed_by_consumer_and_shard_and_billed_per_request() -> None:
    request = TableCheckpoints("stream_checkpoints").create_table_request()
    assert request["KeySchema"] == [
        {"AttributeName": "consumer", "KeyType": "HASH"},
        {"AttributeName": "shard", "KeyType": "RANGE"},
    ]
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    with pytest.raises(InvalidValue, match="table name"):
        TableCheckpoints("x")


def first_request(flow: Flow[Any]) -> Any:
    return next(flow)


def test_lease_writes_are_conditional_on_the_owner_and_may_be_resent() -> None:
    store = TableCheckpoints("cp_table")
    acquire = first_request(store.acquire("c", "s", "me", 20.0, 10.0))
    assert acquire.operation == "UpdateItem"
    assert "#o = :me" in acquire.params["ConditionExpression"]
    assert "#e < :now" in acquire.params["ConditionExpression"]
    assert acquire.idempotent is True
    save = first_request(store.save("c", "s", "me", "123", 20.0))
    assert save.params["ConditionExpression"] == "#o = :me"
    assert save.params["ExpressionAttributeValues"][":c"] == {"S": "123"}
    end = first_request(store.save("c", "s", "me", SHARD_END, 20.0))
    assert "REMOVE #o" in end.params["UpdateExpression"]


def test_memory_checkpoints_refuse_a_lease_held_by_another_until_it_expires() -> None:
    store, clock = MemoryCheckpoints(), FakeClock()
    stream = ScriptedStream()
    assert drive(store.add("c", Lease("s", LATEST)), stream)
    assert drive(store.acquire("c", "s", "a", 20.0, 10.0), stream) is not None
    assert drive(store.acquire("c", "s", "b", 20.0, 15.0), stream) is None
    assert drive(store.acquire("c", "s", "b", 30.0, 21.0), stream) is not None
    assert not drive(store.save("c", "s", "a", "5", 40.0), stream, clock)
    assert drive(store.save("c", "s", "b", "5", 40.0), stream, clock)
    assert [row.checkpoint for _, row in store] == ["5"]
