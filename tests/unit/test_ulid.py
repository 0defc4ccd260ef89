"""``dynamodb.ulid()`` against the ULID spec (https://github.com/ulid/spec), without a server.

The oracle here is the spec's layout written out independently of the module:
48 bits of milliseconds, 80 random bits, 26 digits of Crockford's base32.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

import pytest

import dynamodb
from dynamodb import CharField, InvalidValue, Model
from dynamodb.core import ulid as ulid_module
from dynamodb.core.ulid import ulid_from, ulid_time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def decoded(text: str) -> tuple[int, int]:
    """(milliseconds, random part) of a ULID, read digit by digit as the spec lays it out."""
    value = 0
    for char in text:
        value = value * 32 + CROCKFORD.index(char)
    return value >> 80, value & ((1 << 80) - 1)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock:
    """A stand-in for the ULID module's clock (``time.time_ns``), set to whole milliseconds."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms * 1_000_000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The ULID module's clock, frozen (a fresh monotonic state, restored afterwards)."""
    fixed = Clock(1_700_000_000_000)
    monkeypatch.setattr(ulid_module, "_clock", fixed)
    monkeypatch.setattr(ulid_module._last, "time", -1)
    monkeypatch.setattr(ulid_module._last, "random", 0)
    return fixed


# -- shape ---------------------------------------------------------------------------------


def test_a_ulid_is_26_uppercase_crockford_characters() -> None:
    for _ in range(1000):
        value = dynamodb.ulid()
        assert isinstance(value, str)
        assert len(value) == 26
        assert set(value) <= set(CROCKFORD)
        assert value == value.upper()
        assert value[0] in "01234567"  # 128 bits in 130: the first digit holds 3 bits


def test_dynamodb_ulid_is_the_core_function() -> None:
    assert dynamodb.ulid is ulid_module.ulid
    assert "ulid" in dynamodb.__all__


# -- known vectors -------------------------------------------------------------------------


def test_the_spec_timestamp_vector() -> None:
    # The spec's reference implementation encodes 1469918176385 as 01ARYZ6S41.
    assert ulid_from(1469918176385)[:10] == "01ARYZ6S41"
    assert ulid_from(1469918176385, 0) == "01ARYZ6S41" + "0" * 16


@pytest.mark.parametrize(
    ("timestamp", "randomness", "expected"),
    [
        (0, 0, "0" * 26),
        (0, 1, "0" * 25 + "1"),
        (0, 31, "0" * 25 + "Z"),
        (0, 32, "0" * 24 + "10"),
        (1, 0, "0" * 9 + "1" + "0" * 16),
        (0, (1 << 80) - 1, "0" * 10 + "Z" * 16),
        ((1 << 48) - 1, 0, "7" + "Z" * 9 + "0" * 16),
        ((1 << 48) - 1, (1 << 80) - 1, "7" + "Z" * 25),  # the spec's largest ULID
    ],
)
def test_vectors_at_the_edges_of_the_layout(timestamp: int, randomness: int, expected: str) -> None:
    assert ulid_from(timestamp, randomness) == expected
    assert decoded(expected) == (timestamp, randomness)


def test_the_spec_example_decodes_to_its_time() -> None:
    example = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # the spec's README example
    milliseconds, _ = decoded(example)
    assert milliseconds == 1469922850259
    assert ulid_time(example) == dt.datetime(
        2016, 7, 30, 23, 54, 10, 259000, tzinfo=dt.timezone.utc
    )
    assert ulid_time(example.lower()) == ulid_time(example)  # decoding ignores case


def test_random_parts_round_trip() -> None:
    for randomness in (0, 1, 12345678901234567890, (1 << 80) - 1, 1 << 79):
        assert decoded(ulid_from(1469918176385, randomness)) == (1469918176385, randomness)


# -- time ----------------------------------------------------------------------------------


def test_the_timestamp_is_the_creation_time() -> None:
    before = now_ms()
    value = dynamodb.ulid()
    after = now_ms()
    milliseconds, _ = decoded(value)
    assert before <= milliseconds <= after
    created = ulid_time(value)
    assert created.tzinfo is dt.timezone.utc
    assert int(created.timestamp() * 1000) == milliseconds


def test_order_follows_time_across_milliseconds() -> None:
    made = []
    for _ in range(5):
        made.append(dynamodb.ulid())
        time.sleep(0.003)
    assert made == sorted(made)
    stamps = [decoded(value)[0] for value in made]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_a_later_millisecond_sorts_after_any_random_part() -> None:
    assert ulid_from(1469918176385, (1 << 80) - 1) < ulid_from(1469918176386, 0)
    assert ulid_from(1469918176385, 5) < ulid_from(1469918176385, 6)


def test_a_new_millisecond_draws_a_new_random_part(clock: Clock) -> None:
    first = dynamodb.ulid()
    clock.ms += 1
    second = dynamodb.ulid()
    assert decoded(second)[0] == decoded(first)[0] + 1
    assert second > first


# -- monotonic within a millisecond ----------------------------------------------------------


def test_in_one_millisecond_the_random_part_counts_up(clock: Clock) -> None:
    made = [dynamodb.ulid() for _ in range(100)]
    stamps = {decoded(value)[0] for value in made}
    assert stamps == {clock.ms}
    randoms = [decoded(value)[1] for value in made]
    assert randoms == list(range(randoms[0], randoms[0] + 100))
    assert made == sorted(made)


def test_a_clock_going_back_keeps_the_order(clock: Clock) -> None:
    first = dynamodb.ulid()
    clock.ms -= 1000
    second = dynamodb.ulid()
    assert second > first
    assert decoded(second) == (decoded(first)[0], decoded(first)[1] + 1)


def test_a_full_random_part_moves_to_the_next_millisecond(clock: Clock) -> None:
    first = dynamodb.ulid()
    ulid_module._last.random = (1 << 80) - 1  # as if 2**80 were made in this millisecond
    second = dynamodb.ulid()
    assert decoded(second)[0] == decoded(first)[0] + 1
    assert second > ulid_from(clock.ms, (1 << 80) - 1)


# -- uniqueness ------------------------------------------------------------------------------


def test_many_ulids_are_all_different() -> None:
    made = [dynamodb.ulid() for _ in range(100_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)  # one process: strictly increasing


def test_threads_get_different_increasing_ulids() -> None:
    results: list[list[str]] = [[] for _ in range(4)]

    def make(into: list[str]) -> None:
        into.extend(dynamodb.ulid() for _ in range(5000))

    threads = [threading.Thread(target=make, args=(into,)) for into in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for made in results for value in made]
    assert len(set(every)) == 20_000
    for made in results:
        assert made == sorted(made)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_does_not_continue_the_parents_sequence(clock: Clock) -> None:
    dynamodb.ulid()  # the parent's state: this millisecond, some random part
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: same frozen clock, same memory
        try:
            os.write(write, dynamodb.ulid().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = dynamodb.ulid()
    assert len(child) == 26
    assert decoded(child)[0] == decoded(parent)[0] == clock.ms
    assert child != parent  # without the reset at fork both would be the last one plus one


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "randomness"),
    [(-1, 0), (1 << 48, 0), (0, -1), (0, 1 << 80), (True, 0), (0, False), (1.5, 0), ("1", 0)],
)
def test_ulid_from_refuses_values_outside_the_layout(timestamp: object, randomness: object) -> None:
    with pytest.raises(InvalidValue, match="ULID"):
        ulid_from(timestamp, randomness)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("01ARZ3NDEKTSV4RRFFQ69G5FA", "26 characters"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAVX", "26 characters"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAU", "'U'"),  # U, I, L, O are not in the alphabet
        ("01ARZ3NDEKTSV4RRFFQ69G5FAI", "'I'"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FA#", "'#'"),
        ("80000000000000000000000000", "above 7ZZZ"),  # more than 128 bits
        ("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "year 9999"),  # valid, but past datetime's range
    ],
)
def test_ulid_time_refuses_what_is_not_a_ulid(text: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        ulid_time(text)


def test_ulid_time_refuses_a_non_string() -> None:
    with pytest.raises(InvalidValue, match="a str"):
        ulid_time(12345)  # type: ignore[arg-type]


# -- as a key default and inside a key template ---------------------------------------------


class UlidOrder(Model):
    __table_name__ = "unit_ulid_orders"
    id = CharField(hash_key=True, default=dynamodb.ulid)


class UlidLine(Model):
    __table_name__ = "unit_ulid_app"
    pk = CharField(hash_key=True, template="ORDER#{order_id}")
    sk = CharField(range_key=True, template="LINE#{line_id}")
    order_id = CharField(required=True)
    line_id = CharField(default=dynamodb.ulid)


def test_each_new_item_gets_its_own_ulid_key() -> None:
    first, second = UlidOrder(), UlidOrder()
    assert len(first.id) == len(second.id) == 26
    assert first.id < second.id
    assert UlidOrder(id="given").id == "given"


def test_a_ulid_default_renders_inside_a_key_template() -> None:
    line = UlidLine(order_id="o1")
    assert line.sk == f"LINE#{line.line_id}"
    assert line.pk == "ORDER#o1"
    assert len(line.line_id) == 26
    assert UlidLine(order_id="o1").sk > line.sk  # later lines sort after
