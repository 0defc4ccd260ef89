"""ULIDs: 26-character identifiers that sort by the time they were made.

A ULID (https://github.com/ulid/spec) is 128 bits: a 48-bit timestamp in
milliseconds since the Unix epoch, then 80 random bits, written in Crockford's
base32 (``0123456789ABCDEFGHJKMNPQRSTVWXYZ``: no I, L, O or U), uppercase. The
first 10 characters are the timestamp and the last 16 the random part, so the
strings sort as the times they hold, and two made in one millisecond by one
process sort in the order they were made (the second is the first plus one in
its random part: the spec's monotonic variant).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

from dynamodb.core.errors import InvalidValue

__all__ = ["ulid", "ulid_from", "ulid_time"]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32 digits, in the order of their values."""

_DIGITS = {char: value for value, char in enumerate(ALPHABET)}
_DIGITS.update({char.lower(): value for char, value in list(_DIGITS.items())})
_PAIRS = tuple(high + low for high in ALPHABET for low in ALPHABET)  # 10 bits -> 2 digits
_SHIFTS = tuple(range(120, -1, -10))  # 13 pairs: 130 bits, the top 2 always 0
_MAX_TIME = (1 << 48) - 1
_MAX_RANDOM = (1 << 80) - 1
_LENGTH = 26
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_clock = time.time_ns  # nanoseconds since the epoch (tests freeze it)


class _Last:
    """The last ULID this process made (guarded by ``lock``), for the monotonic order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.time = -1
        self.random = 0

    def reset(self) -> None:
        """Forget the last ULID (in a forked child, which must not continue the parent's)."""
        self.lock = threading.Lock()
        self.time = -1
        self.random = 0


_last = _Last()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_last.reset)


def ulid() -> str:
    """A new ULID, as a 26-character ``str`` (``"01ARZ3NDEKTSV4RRFFQ69G5FAV"``).

    Its first 10 characters encode the current time in milliseconds, and the
    other 16 are random (80 bits from ``os.urandom``, which :mod:`secrets` uses
    too), so ULIDs sort by the time they were made and are unique without
    coordination. Within one process they are strictly increasing: one made in
    the same millisecond as the one before it (or while the clock has gone back)
    keeps that timestamp and adds one to its random part. A forked child starts
    afresh. :func:`ulid_time` reads the time back. Thread-safe.

    Give it (not its result) as a field's default, so each new item gets its own::

        class Order(Model):
            id = CharField(hash_key=True, default=dynamodb.ulid)

    A ULID is letters and digits only, so it fits inside a key template
    (``template="ORDER#{order_id}"`` with ``order_id = CharField(default=dynamodb.ulid)``),
    where a range key built from it sorts the items by creation time.
    """
    now = _clock() // 1_000_000
    last = _last
    with last.lock:
        if now > last.time:
            stamp, random = now, _random()
        elif last.random < _MAX_RANDOM:
            stamp, random = last.time, last.random + 1
        else:  # 2**80 ULIDs in one millisecond: borrow the next one
            stamp, random = last.time + 1, _random()
        last.time, last.random = stamp, random
    return _encode((stamp << 80) | random)


def _random() -> int:
    """80 bits from the operating system's random source (as :mod:`secrets` uses)."""
    return int.from_bytes(os.urandom(10), "big")


def _encode(value: int) -> str:
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _SHIFTS])


def ulid_from(timestamp_ms: int, randomness: int = 0) -> str:
    """The ULID of ``timestamp_ms`` (milliseconds since the epoch) and ``randomness``.

    ``randomness`` is the 80-bit random part; 0 (the default) gives the smallest
    ULID of that millisecond, a bound for a range of keys (``between``). Raises
    InvalidValue for a timestamp outside 48 bits or a random part outside 80.
    """
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int):
        raise InvalidValue(f"a ULID's timestamp is an int of milliseconds: {timestamp_ms!r}")
    if not 0 <= timestamp_ms <= _MAX_TIME:
        raise InvalidValue(f"a ULID's timestamp is 0 to 2**48 - 1 milliseconds: {timestamp_ms}")
    if isinstance(randomness, bool) or not isinstance(randomness, int):
        raise InvalidValue(f"a ULID's random part is an int: {randomness!r}")
    if not 0 <= randomness <= _MAX_RANDOM:
        raise InvalidValue(f"a ULID's random part is 0 to 2**80 - 1: {randomness}")
    return _encode((timestamp_ms << 80) | randomness)


def _value(text: str) -> int:
    if not isinstance(text, str) or len(text) != _LENGTH:
        raise InvalidValue(f"a ULID is a str of {_LENGTH} characters: {text!r}")
    value = 0
    for char in text:
        digit = _DIGITS.get(char)
        if digit is None:
            raise InvalidValue(
                f"not a ULID: {text!r} holds {char!r}, which is not a base32 digit ({ALPHABET})"
            )
        value = (value << 5) | digit
    if value >> 128:
        raise InvalidValue(f"not a ULID: {text!r} is above 7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
    return value


def ulid_time(value: str) -> dt.datetime:
    """The time a ULID holds, as an aware UTC ``datetime`` (to the millisecond).

    Lowercase is read as uppercase. Raises InvalidValue for a string that is
    not a ULID (a wrong length, a character outside the alphabet), or whose
    time is past what ``datetime`` holds (the year 9999).
    """
    milliseconds = _value(value) >> 80
    try:
        return _EPOCH + dt.timedelta(milliseconds=milliseconds)
    except OverflowError:
        raise InvalidValue(f"the ULID {value!r} holds a time after the year 9999") from None
