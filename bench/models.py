"""The benchmark's one model, defined for every library, and its test data.

Seventeen attributes (issue 8): a string hash key, a number range key, a float,
a bool, a UTC datetime, a list of 10 numbers, a map of 5 entries, a string set
of 3, five more strings, and four more (two ints, a string, a bool).

Each library gets the same model in its own terms; ``sample_values`` makes the
plain Python data they are all built from, and the hand-written converter
(``floor_to_wire`` / ``floor_from_wire``) is the floor: the least code that turns
exactly this model's dict into DynamoDB's AttributeValues and back.
"""

from __future__ import annotations

import datetime as dt
import random
import types
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from dynamodb import (
    BooleanField,
    CharField,
    DateTimeField,
    DictField,
    FloatField,
    IntegerField,
    ListField,
    Model,
    SetField,
)

Wire = dict[str, dict[str, Any]]
Values = dict[str, Any]

ATTRIBUTES = (
    "pk",
    "sk",
    "score",
    "active",
    "created",
    "numbers",
    "attrs",
    "tags",
    "name",
    "email",
    "city",
    "country",
    "description",
    "views",
    "level",
    "status",
    "verified",
)
assert len(ATTRIBUTES) == 17

_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
_CITIES = ("Paris", "Lyon", "Berlin", "Madrid", "Lisbon", "Oslo", "Rome", "Vienna")
_COUNTRIES = ("FR", "DE", "ES", "PT", "NO", "IT", "AT")
_STATUSES = ("new", "active", "suspended", "closed")
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india")


# -- data ---------------------------------------------------------------------------


def sample_values(index: int, pk: str | None = None, seed: int = 8) -> Values:
    """The plain Python values of item ``index`` (deterministic)."""
    rnd = random.Random(seed * 1_000_003 + index)
    return {
        "pk": pk if pk is not None else f"user#{index:07d}",
        "sk": index,
        "score": round(rnd.uniform(0, 1000), 4),
        "active": rnd.random() < 0.5,
        "created": _EPOCH + dt.timedelta(seconds=index * 37, microseconds=rnd.randrange(1, 10**6)),
        "numbers": [rnd.randrange(0, 10**6) for _ in range(10)],
        "attrs": {
            "color": rnd.choice(_WORDS),
            "size": rnd.randrange(1, 100),
            "shape": rnd.choice(_WORDS),
            "weight": rnd.randrange(1, 10_000),
            "origin": rnd.choice(_COUNTRIES),
        },
        "tags": {f"tag-{rnd.choice(_WORDS)}-{n}" for n in range(3)},
        "name": f"{rnd.choice(_WORDS).title()} {rnd.choice(_WORDS).title()}",
        "email": f"user{index}@example.com",
        "city": rnd.choice(_CITIES),
        "country": rnd.choice(_COUNTRIES),
        "description": " ".join(rnd.choice(_WORDS) for _ in range(16)),
        "views": rnd.randrange(0, 10**7),
        "level": rnd.randrange(0, 100),
        "status": rnd.choice(_STATUSES),
        "verified": rnd.random() < 0.5,
    }


def many_values(count: int, pk: str | None = None, start: int = 0) -> Iterator[Values]:
    """``count`` items' values; all under one hash key when ``pk`` is given."""
    for index in range(start, start + count):
        yield sample_values(index, pk)


def boto3_values(values: Values) -> Values:
    """What a boto3 (TypeSerializer) user holds: Decimal for floats, ISO text for datetimes."""
    plain = dict(values)
    plain["score"] = Decimal(repr(values["score"]))
    plain["created"] = _datetime_text(values["created"])
    return plain


# -- the floor: a hand-written converter for exactly this model ---------------------


def _datetime_text(value: dt.datetime) -> str:
    # "2024-01-01T00:00:00.000001+0000": ISO 8601, microseconds, the UTC offset
    # as PynamoDB writes it (so every library reads the same bytes).
    return value.isoformat(timespec="microseconds")[:26] + "+0000"


def floor_to_wire(values: Values) -> Wire:
    """This model's values -> AttributeValues, with nothing generic in the way."""
    attrs = values["attrs"]
    return {
        "pk": {"S": values["pk"]},
        "sk": {"N": str(values["sk"])},
        "score": {"N": repr(values["score"])},
        "active": {"BOOL": values["active"]},
        "created": {"S": _datetime_text(values["created"])},
        "numbers": {"L": [{"N": str(n)} for n in values["numbers"]]},
        "attrs": {
            "M": {
                "color": {"S": attrs["color"]},
                "size": {"N": str(attrs["size"])},
                "shape": {"S": attrs["shape"]},
                "weight": {"N": str(attrs["weight"])},
                "origin": {"S": attrs["origin"]},
            }
        },
        "tags": {"SS": list(values["tags"])},
        "name": {"S": values["name"]},
        "email": {"S": values["email"]},
        "city": {"S": values["city"]},
        "country": {"S": values["country"]},
        "description": {"S": values["description"]},
        "views": {"N": str(values["views"])},
        "level": {"N": str(values["level"])},
        "status": {"S": values["status"]},
        "verified": {"BOOL": values["verified"]},
    }


_fromisoformat = dt.datetime.fromisoformat


def floor_from_wire(wire: Wire) -> Values:
    """AttributeValues -> this model's values (the inverse of :func:`floor_to_wire`)."""
    attrs = wire["attrs"]["M"]
    return {
        "pk": wire["pk"]["S"],
        "sk": int(wire["sk"]["N"]),
        "score": float(wire["score"]["N"]),
        "active": wire["active"]["BOOL"],
        "created": _fromisoformat(wire["created"]["S"]),
        "numbers": [int(n["N"]) for n in wire["numbers"]["L"]],
        "attrs": {
            "color": attrs["color"]["S"],
            "size": int(attrs["size"]["N"]),
            "shape": attrs["shape"]["S"],
            "weight": int(attrs["weight"]["N"]),
            "origin": attrs["origin"]["S"],
        },
        "tags": set(wire["tags"]["SS"]),
        "name": wire["name"]["S"],
        "email": wire["email"]["S"],
        "city": wire["city"]["S"],
        "country": wire["country"]["S"],
        "description": wire["description"]["S"],
        "views": int(wire["views"]["N"]),
        "level": int(wire["level"]["N"]),
        "status": wire["status"]["S"],
        "verified": wire["verified"]["BOOL"],
    }


def wire_key(values: Values) -> Wire:
    return {"pk": {"S": values["pk"]}, "sk": {"N": str(values["sk"])}}


# -- dynamodb-py ----------------------------------------------------------------------


class _OursFields(Model):
    __abstract__ = True

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    score = FloatField()
    active = BooleanField()
    created = DateTimeField()
    numbers = ListField(of=IntegerField())
    attrs = DictField()
    tags = SetField(of=str)
    name = CharField()
    email = CharField()
    city = CharField()
    country = CharField()
    description = CharField()
    views = IntegerField()
    level = IntegerField()
    status = CharField()
    verified = BooleanField()


def ours_model(table: str) -> Any:
    """The dynamodb-py model on ``table`` (typed ``Any``: its fields are class attributes)."""

    def body(namespace: dict[str, Any]) -> None:
        namespace["__table_name__"] = table

    name = "Bench_" + "".join(char if char.isalnum() else "_" for char in table)
    return types.new_class(name, (_OursFields,), {}, body)


# -- PynamoDB -------------------------------------------------------------------------


def pynamodb_model(table: str, host: str, region: str = "us-east-1") -> Any:
    """The PynamoDB model on ``table`` at ``host``."""
    from pynamodb.attributes import (
        BooleanAttribute,
        ListAttribute,
        MapAttribute,
        NumberAttribute,
        UnicodeAttribute,
        UnicodeSetAttribute,
        UTCDateTimeAttribute,
    )
    from pynamodb.models import Model as PynamoModel

    table_host, table_region = host, region

    class PynamoItem(PynamoModel):
        class Meta:
            table_name = table
            host = table_host
            region = table_region
            aws_access_key_id = "bench"
            aws_secret_access_key = "bench"

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        score = NumberAttribute()
        active = BooleanAttribute()
        created = UTCDateTimeAttribute()
        numbers = ListAttribute(of=NumberAttribute)
        attrs = MapAttribute()
        tags = UnicodeSetAttribute()
        name = UnicodeAttribute()
        email = UnicodeAttribute()
        city = UnicodeAttribute()
        country = UnicodeAttribute()
        description = UnicodeAttribute()
        views = NumberAttribute()
        level = NumberAttribute()
        status = UnicodeAttribute()
        verified = BooleanAttribute()

    return PynamoItem


# -- dyntastic (optional) --------------------------------------------------------------


def dyntastic_model(table: str) -> Any | None:
    """The dyntastic model on ``table``, or None when dyntastic is not installed.

    boto3's TypeSerializer refuses floats, so a dyntastic user stores the float
    as a Decimal.
    """
    try:
        from dyntastic import Dyntastic
    except ImportError:
        return None

    namespace: dict[str, Any] = {
        "__table_name__": table,
        "__hash_key__": "pk",
        "__range_key__": "sk",
        "__annotations__": {
            "pk": str,
            "sk": int,
            "score": Decimal,
            "active": bool,
            "created": dt.datetime,
            "numbers": list[int],
            "attrs": dict[str, str | int],
            "tags": set[str],
            "name": str,
            "email": str,
            "city": str,
            "country": str,
            "description": str,
            "views": int,
            "level": int,
            "status": str,
            "verified": bool,
        },
    }
    return type("DyntasticItem", (Dyntastic,), namespace)


def dyntastic_values(values: Values) -> Values:
    plain = dict(values)
    plain["score"] = Decimal(repr(values["score"]))
    return plain


# -- pydynox --------------------------------------------------------------------------


def pydynox_model(table: str, endpoint: str, region: str = "us-east-1") -> Any:
    """The pydynox model on ``table`` at ``endpoint`` (its own client, Rust core)."""
    from pydynox import DynamoDBClient, ModelConfig
    from pydynox import Model as PydynoxModel
    from pydynox.attributes import (
        BooleanAttribute,
        DatetimeAttribute,
        ListAttribute,
        MapAttribute,
        NumberAttribute,
        StringAttribute,
        StringSetAttribute,
    )

    client = DynamoDBClient(
        region=region, access_key="bench", secret_key="bench", endpoint_url=endpoint
    )

    class PydynoxItem(PydynoxModel):
        model_config = ModelConfig(table=table, client=client)

        pk = StringAttribute(partition_key=True)
        sk = NumberAttribute(sort_key=True)
        score = NumberAttribute()
        active = BooleanAttribute()
        created = DatetimeAttribute()
        numbers = ListAttribute()
        attrs = MapAttribute()
        tags = StringSetAttribute()
        name = StringAttribute()
        email = StringAttribute()
        city = StringAttribute()
        country = StringAttribute()
        description = StringAttribute()
        views = NumberAttribute()
        level = NumberAttribute()
        status = StringAttribute()
        verified = BooleanAttribute()

    return PydynoxItem
