"""Batches through a faulty network: a loopback proxy in front of DynamoDB Local.

The proxy (:mod:`tests.integration.faults`) forwards each request to DynamoDB
Local, except that for a seeded-random share of them it throttles, answers HTTP
500, drops the connection before (``drop``) or after (``lost``) forwarding, or
trims a batch; and it can refuse some keys for good (``never``). The client is
a real :class:`~dynamodb.Connection` with ``max_attempts=1``, so no single
request is resent: every fault reaches the batches' own retry logic
(``retry=RetryPolicy(...)``). What is in the table afterwards is checked
through the direct (session) connection.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from dynamodb import (
    BatchIncomplete,
    CharField,
    DictField,
    FloatField,
    IntegerField,
    InternalServerError,
    Model,
    ProvisionedThroughputExceeded,
    RetryPolicy,
    TransportError,
)
from tests.integration.faults import Faults, ProxyFor, Wire

Tables = Callable[..., None]


class Reading(Model):
    __table_name__ = "test_fault_injection_reading"

    sensor = CharField(hash_key=True)
    seq = IntegerField(range_key=True)
    value = FloatField()
    extra = DictField()


def reading(n: int) -> dict[str, Any]:
    return {"sensor": f"s{n % 16:02d}", "seq": n, "value": n / 4, "extra": {"n": n}}


def key_of(values: dict[str, Any]) -> tuple[str, int]:
    return (values["sensor"], values["seq"])


def wire_seq(entry: Wire) -> int:
    """The ``seq`` of a put request's item, a delete request's key, or a key."""
    if "PutRequest" in entry:
        entry = entry["PutRequest"]["Item"]
    elif "DeleteRequest" in entry:
        entry = entry["DeleteRequest"]["Key"]
    return int(entry["seq"]["N"])


PATIENT = RetryPolicy(max_attempts=30, base=0.001, cap=0.02)

EVERY_FAULT = Faults(throttle=0.08, server_error=0.06, drop=0.05, lost=0.05, trim=0.25, seed=11)


def missing_directly(keys: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """The keys not in the table, read through the direct connection."""
    found = Reading.batch_get(*keys, consistent=True, keep_missing=True)
    return {key_of(key) for key, item in zip(keys, found, strict=True) if item is None}


# -- the proxy itself ---------------------------------------------------------------------


def test_the_proxy_passes_requests_and_injects_typed_faults(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Reading)
    proxy, through = proxy_for(Faults())
    Reading.create(connection=through, **reading(1))
    stored = Reading.get(sensor="s01", seq=1, connection=through)
    assert stored is not None
    assert stored.value == 0.25
    assert proxy.counts["PutItem"] == proxy.counts["GetItem"] == 1

    throttling, throttled = proxy_for(Faults(throttle=1.0))
    with pytest.raises(ProvisionedThroughputExceeded, match="injected throttling"):
        Reading.get(sensor="s01", seq=1, connection=throttled)
    assert throttling.counts["throttle"] == 1  # max_attempts=1: botocore did not retry

    dropping, dropped = proxy_for(Faults(drop=1.0))
    with pytest.raises(TransportError):
        Reading.get(sensor="s01", seq=1, connection=dropped)
    assert dropping.counts["drop"] == 1


async def test_the_proxy_faults_reach_async_calls_typed(
    tables: Tables, aproxy_for: ProxyFor
) -> None:
    tables(Reading)
    Reading.create(**reading(2))
    _, throttled = aproxy_for(Faults(throttle=1.0))
    with pytest.raises(ProvisionedThroughputExceeded):
        await Reading.aget(sensor="s02", seq=2, connection=throttled)
    _, failing = aproxy_for(Faults(server_error=1.0))
    with pytest.raises(InternalServerError):
        await Reading.aget(sensor="s02", seq=2, connection=failing)
    for fault in (Faults(drop=1.0), Faults(lost=1.0)):
        _, dropped = aproxy_for(fault)
        with pytest.raises(TransportError):
            await Reading.aget(sensor="s02", seq=2, connection=dropped)


# -- everything arrives in the end ---------------------------------------------------------


def test_ten_thousand_items_through_every_fault(tables: Tables, proxy_for: ProxyFor) -> None:
    tables(Reading)
    proxy, through = proxy_for(EVERY_FAULT)
    values = [reading(n) for n in range(10_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]

    written = Reading.batch_write(values, concurrency=16, retry=PATIENT, connection=through)
    assert len(written) == 10_000

    random.Random(3).shuffle(keys)
    found = Reading.batch_get(*keys, concurrency=16, retry=PATIENT, connection=through)
    assert [key_of(item.to_dict()) for item in found] == [key_of(key) for key in keys]
    expected = {key_of(item.to_dict()): item for item in written}
    assert all(item == expected[key_of(item.to_dict())] for item in found)

    # every kind of fault did happen, and the library got past all of them
    for fault in ("throttle", "server_error", "drop", "lost", "trimmed"):
        assert proxy.counts[fault] > 0, fault
    assert proxy.counts["BatchWriteItem"] > 400
    assert proxy.counts["BatchGetItem"] > 100

    # checked through the direct connection
    assert Reading.item_count(exact=True) == 10_000
    direct = Reading.batch_get(*keys, consistent=True)
    assert direct == found


async def test_async_batches_through_every_fault(tables: Tables, aproxy_for: ProxyFor) -> None:
    tables(Reading)
    proxy, through = aproxy_for(EVERY_FAULT)
    values = [reading(n) for n in range(2_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]

    written = await Reading.abatch_write(values, concurrency=16, retry=PATIENT, connection=through)
    found = await Reading.abatch_get(*keys, concurrency=16, retry=PATIENT, connection=through)
    assert found == written
    assert missing_directly(keys) == set()

    deleted = await Reading.abatch_delete(
        keys=keys[:1_500], concurrency=16, retry=PATIENT, connection=through
    )
    assert deleted == 1_500
    assert missing_directly(keys) == {key_of(key) for key in keys[:1_500]}
    for fault in ("throttle", "server_error", "drop", "lost", "trimmed"):
        assert proxy.counts[fault] > 0, fault


def test_batch_delete_through_every_fault(tables: Tables, proxy_for: ProxyFor) -> None:
    tables(Reading)
    values = [reading(n) for n in range(1_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]
    Reading.batch_write(values)
    _proxy, through = proxy_for(EVERY_FAULT)

    assert Reading.batch_delete(keys=keys[::2], retry=PATIENT, connection=through) == 500

    assert missing_directly(keys) == {key_of(key) for key in keys[::2]}


# -- out of budget: exactly what is missing --------------------------------------------------


def test_keys_never_processed_are_exactly_those_reported(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Reading)
    refused = {seq for seq in range(1_000) if seq % 37 == 5}
    proxy, through = proxy_for(Faults(never=lambda entry: wire_seq(entry) in refused))
    values = [reading(n) for n in range(1_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]
    budget = RetryPolicy(max_attempts=2, base=0.001, cap=0.002)

    with pytest.raises(BatchIncomplete) as raised:
        Reading.batch_write(values, retry=budget, connection=through)
    error = raised.value
    expected = {key_of(reading(seq)) for seq in refused}
    assert len(error.keys) == len(refused) == 27
    assert {key_of(key) for key in error.keys} == expected
    assert error.done == 1_000 - 27
    assert len(error.unprocessed) == 27
    assert {wire_seq(entry) for entry in error.unprocessed} == refused
    assert missing_directly(keys) == expected
    assert proxy.counts["held"] == 2 * 27  # each refused item was sent twice

    # reading them back through the same proxy: the refused keys are not read
    present = [key for key in keys if key["seq"] not in refused]
    Reading.batch_write([reading(seq) for seq in refused])  # now they exist (direct)
    with pytest.raises(BatchIncomplete) as raised_read:
        Reading.batch_get(*keys, retry=budget, connection=through)
    assert {key_of(key) for key in raised_read.value.keys} == expected
    assert raised_read.value.done == len(present)
    # what was read is carried by the error, in the order asked
    assert [key_of(item.to_dict()) for item in raised_read.value.items] == [
        key_of(key) for key in present
    ]
    assert Reading.batch_get(*present, retry=budget, connection=through) == Reading.batch_get(
        *present
    )

    # deleting everything: the refused keys stay, and are exactly those reported
    with pytest.raises(BatchIncomplete) as raised_delete:
        Reading.batch_delete(keys=keys, retry=budget, connection=through)
    assert {key_of(key) for key in raised_delete.value.keys} == expected
    assert raised_delete.value.done == len(present)
    assert missing_directly(keys) == {key_of(key) for key in present}


@pytest.mark.parametrize("attempts", [1, 2])
def test_random_faults_with_a_tiny_budget_report_exactly_the_missing_keys(
    tables: Tables, proxy_for: ProxyFor, attempts: int
) -> None:
    tables(Reading)
    # no "lost" fault here: a lost answer means written but reported as left
    faults = Faults(throttle=0.15, server_error=0.1, drop=0.1, trim=0.3, seed=attempts)
    _proxy, through = proxy_for(faults)
    values = [reading(n) for n in range(2_000)]
    keys = [{"sensor": sensor, "seq": seq} for sensor, seq in map(key_of, values)]
    budget = RetryPolicy(max_attempts=attempts, base=0.001, cap=0.002)

    with pytest.raises(BatchIncomplete) as raised:
        Reading.batch_write(values, concurrency=8, retry=budget, connection=through)
    error = raised.value
    left = [key_of(key) for key in error.keys]
    assert len(left) == len(set(left)) > 0
    assert set(left) == missing_directly(keys)
    assert error.done == 2_000 - len(left)

    # reads: what is reported not read is exactly what the result lacks
    with pytest.raises(BatchIncomplete) as raised_read:
        Reading.batch_get(*keys, concurrency=8, retry=budget, connection=through)
    not_read = {key_of(key) for key in raised_read.value.keys}
    assert 0 < len(not_read) == len(raised_read.value.keys)
    assert raised_read.value.done == 2_000 - len(not_read)

    # a patient retry through the same faults completes the job
    Reading.batch_write(values, concurrency=8, retry=PATIENT, connection=through)
    assert missing_directly(keys) == set()


def test_conditional_batch_puts_retry_throttling_and_report_what_is_unconfirmed(
    tables: Tables, proxy_for: ProxyFor
) -> None:
    tables(Reading)
    _, throttled = proxy_for(Faults(throttle=0.3, seed=7))
    values = [reading(n) for n in range(100)]
    budget = RetryPolicy(max_attempts=10, base=0.001, cap=0.01)
    written = Reading.batch_write(values, overwrite=False, retry=budget, connection=throttled)
    assert len(written) == 100
    assert missing_directly([{"sensor": s, "seq": n} for s, n in map(key_of, values)]) == set()

    _, dropping = proxy_for(Faults(drop=0.3, seed=3))
    more = [reading(n) for n in range(100, 200)]
    with pytest.raises(BatchIncomplete) as raised:
        Reading.batch_write(more, overwrite=False, retry=budget, connection=dropping)
    unconfirmed = {key_of(key) for key in raised.value.keys}
    assert unconfirmed  # dropped calls were not retried: their fate is unknown to the client
    keys = [{"sensor": s, "seq": n} for s, n in map(key_of, more)]
    assert missing_directly(keys) <= unconfirmed  # whatever is missing was reported
    assert raised.value.done == 100 - len(unconfirmed)
