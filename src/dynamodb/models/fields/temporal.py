"""Datetimes, dates and time deltas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dynamodb.core.codec import AttributeValue
from dynamodb.core.compat import TypeVar
from dynamodb.models.fields.base import Decoder, Encoder, Field, _RangedField, _type_error

# What each field reads as (see scalars.py).
_DateTime = TypeVar("_DateTime", covariant=True, bound="dt.datetime | None", default=dt.datetime)
_Date = TypeVar("_Date", covariant=True, bound="dt.date | None", default=dt.date)
_Delta = TypeVar("_Delta", covariant=True, bound="dt.timedelta | None", default=dt.timedelta)
_Expiry = TypeVar("_Expiry", covariant=True, bound="dt.datetime | None", default=dt.datetime)


def _parse_datetime(text: str) -> dt.datetime:
    """ISO 8601 text to a datetime (naive if the text has no offset)."""
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        from dateutil import parser

        try:
            return parser.isoparse(text)
        except (ValueError, OverflowError):
            raise ValueError(f"{text!r} is not an ISO 8601 datetime") from None


def _encode_utc_datetime(value: dt.datetime) -> AttributeValue:
    """The fast encoder: assigned values were converted to UTC already."""
    return {"S": value.isoformat(timespec="microseconds")}


class DateTimeField(_RangedField[dt.datetime, _DateTime]):
    """A datetime stored as an ISO 8601 string in UTC, so strings sort by time.

    Naive datetimes are taken as UTC; reads give timezone-aware datetimes.
    The stored form always has microseconds: ``2024-05-01T12:00:00.000000+00:00``.
    """

    key_type = "S"
    type_label = "a datetime"

    def __init__(
        self,
        name: str | None = None,
        *,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **options: Any,
    ) -> None:
        """``auto_now=True``: set to the current time on every write; ``auto_now_add=True``:
        set once, when the item is created (Django's names)."""
        super().__init__(name, **options)
        self.auto_now = bool(auto_now)
        self.auto_now_add = bool(auto_now_add)

    def convert(self, value: Any) -> dt.datetime:
        if not isinstance(value, dt.datetime):
            raise _type_error(self, value)
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)

    def check(self, value: dt.datetime) -> None:
        self._check_range(value)

    def to_wire(self, value: dt.datetime) -> AttributeValue:
        return {"S": value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")}

    def decode(self, attribute: AttributeValue) -> dt.datetime:
        parsed = _parse_datetime(attribute["S"])
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=dt.timezone.utc)
        if parsed.tzinfo is dt.timezone.utc:
            return parsed
        return parsed.astimezone(dt.timezone.utc)

    def to_son(self, value: dt.datetime) -> Any:
        return value.isoformat()

    def from_son(self, data: Any) -> dt.datetime:
        """ISO 8601 text (what ``to_son`` writes; naive means UTC) to a UTC datetime."""
        return self.convert(_parse_datetime(data) if isinstance(data, str) else data)

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        return _encode_utc_datetime, self.decode

    def _inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"S": {value}.isoformat(timespec="microseconds")}}', None


class DateField(_RangedField[dt.date, _Date]):
    """A date stored as ``YYYY-MM-DD``. A datetime is refused (it would lose its time)."""

    key_type = "S"
    type_label = "a date"

    def convert(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise _type_error(self, value)
        return value

    def check(self, value: dt.date) -> None:
        self._check_range(value)

    def to_wire(self, value: dt.date) -> AttributeValue:
        return {"S": value.isoformat()}

    def decode(self, attribute: AttributeValue) -> dt.date:
        return dt.date.fromisoformat(attribute["S"])

    def from_son(self, data: Any) -> dt.date:
        """``YYYY-MM-DD`` (what ``to_son`` writes) to a date."""
        return self.convert(dt.date.fromisoformat(data) if isinstance(data, str) else data)


_MICROSECONDS = Decimal(1_000_000)


class TimeDeltaField(_RangedField[dt.timedelta, _Delta]):
    """A timedelta stored as a number of seconds, microseconds kept exactly."""

    key_type = "N"
    type_label = "a timedelta"

    def convert(self, value: Any) -> dt.timedelta:
        if not isinstance(value, dt.timedelta):
            raise _type_error(self, value)
        return value

    def check(self, value: dt.timedelta) -> None:
        self._check_range(value)

    def to_wire(self, value: dt.timedelta) -> AttributeValue:
        micro = value // dt.timedelta(microseconds=1)
        return {"N": str(Decimal(micro) / _MICROSECONDS)}

    def decode(self, attribute: AttributeValue) -> dt.timedelta:
        micro = Decimal(attribute["N"]) * _MICROSECONDS
        return dt.timedelta(microseconds=int(micro))

    def to_son(self, value: dt.timedelta) -> Any:
        return value.total_seconds()

    def from_son(self, data: Any) -> dt.timedelta:
        """A number of seconds (what ``to_son`` writes) to a timedelta, to the microsecond."""
        if isinstance(data, (int, float, Decimal)) and not isinstance(data, bool):
            seconds = Decimal(repr(data)) if isinstance(data, float) else Decimal(data)
            return dt.timedelta(microseconds=int((seconds * _MICROSECONDS).to_integral_value()))
        return self.convert(data)


class TTLField(Field[dt.datetime, _Expiry]):
    """When an item expires, for DynamoDB's Time to Live: an aware datetime, stored as epoch
    seconds (``N``), the form TTL reads.

    A ``timedelta`` means "from now" (``item.expires = timedelta(days=7)``); a naive datetime
    is taken as UTC. At most one per table; ``create_table`` and ``Table.update()`` turn TTL on
    for it. Reads hide expired items until DynamoDB deletes them (up to days later):
    ``include_expired=True`` on ``get`` and ``batch_get``, ``.include_expired()`` on queries
    and scans, show them.
    """

    key_type = None
    type_label = "a datetime or a timedelta"

    if TYPE_CHECKING:  # what assignments and the typed constructor take (no run-time cost)

        def __set__(self, obj: object, value: dt.datetime | dt.timedelta | None) -> None: ...

    def convert(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.timedelta):
            value = dt.datetime.now(dt.timezone.utc) + value
        if not isinstance(value, dt.datetime):
            raise _type_error(self, value)
        when: dt.datetime = value
        if when.tzinfo is None or when.utcoffset() is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        return when.astimezone(dt.timezone.utc).replace(microsecond=0)

    def to_wire(self, value: dt.datetime) -> AttributeValue:
        return {"N": str(int(value.timestamp()))}

    def decode(self, attribute: AttributeValue) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(Decimal(attribute["N"])), dt.timezone.utc)

    def to_son(self, value: dt.datetime) -> Any:
        return value.isoformat()

    def from_son(self, data: Any) -> dt.datetime:
        """ISO 8601 text (what ``to_son`` writes) to the expiry time."""
        return self.convert(_parse_datetime(data) if isinstance(data, str) else data)
