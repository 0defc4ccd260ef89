"""Section 1: marshalling per item, both directions, no I/O.

- ours: ``item._to_wire_map()`` / ``Model._from_wire(raw)``
- PynamoDB: ``item.serialize()`` / ``Model.from_raw_data(raw)``
- boto3: ``TypeSerializer``/``TypeDeserializer`` over a plain dict (Decimal for
  the float, ISO text for the datetime: what boto3 accepts)
- floor: the hand-written converter of :mod:`bench.models`
- dyntastic (when installed): ``model_dump`` + dyntastic's ``serialize`` +
  TypeSerializer per attribute (what ``save()`` hands the boto3 resource), and
  TypeDeserializer per attribute + its model loading (what ``get()`` does)

Every reader decodes the very same stored items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from .models import (
    Values,
    Wire,
    boto3_values,
    dyntastic_model,
    dyntastic_values,
    floor_from_wire,
    floor_to_wire,
    many_values,
    ours_model,
    pynamodb_model,
)
from .report import Report, Row
from .timing import Measure, Settings, cpu_per_item

TABLE = "bench_marshal"

Codec = tuple[Callable[[Any], Any], Sequence[Any]]
"""A per-item function and the inputs it runs over."""


def _same(decoded: Values, expected: Values) -> bool:
    """Whether decoded values equal the source ones (numbers compared by value)."""
    return all(_equal(decoded.get(name), value) for name, value in expected.items())


def _equal(left: Any, right: Any) -> bool:
    if isinstance(right, dt.datetime) and isinstance(left, str):
        return False
    if isinstance(right, float) and isinstance(left, Decimal):
        return float(left) == right
    if isinstance(right, dict) and isinstance(left, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in right)
    if isinstance(right, list) and isinstance(left, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    return bool(left == right)


def _ours(values: list[Values], wires: list[Wire]) -> tuple[Codec, Codec, Callable[[Any], Values]]:
    model = ours_model(TABLE)
    items = [model(**v) for v in values]
    return (
        (model._to_wire_map, items),
        (model._from_wire, wires),
        lambda item: item.to_dict(),
    )


def _pynamodb(
    values: list[Values], wires: list[Wire]
) -> tuple[Codec, Codec, Callable[[Any], Values]]:
    model = pynamodb_model(TABLE, "http://127.0.0.1:9")
    items = [model(**v) for v in values]

    def plain(item: Any) -> Values:
        data = item.attribute_values
        return {**data, "attrs": data["attrs"].as_dict()}

    return ((model.serialize, items), (model.from_raw_data, wires), plain)


def _boto3(values: list[Values], wires: list[Wire]) -> tuple[Codec, Codec, Callable[[Any], Values]]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    serialize = TypeSerializer().serialize
    deserialize = TypeDeserializer().deserialize
    plain = [boto3_values(v) for v in values]

    def to_wire(data: Values) -> Wire:
        return {name: serialize(value) for name, value in data.items()}

    def from_wire(wire: Wire) -> Values:
        return {name: deserialize(value) for name, value in wire.items()}

    def readable(data: Values) -> Values:
        return {**data, "created": dt.datetime.fromisoformat(data["created"])}

    return ((to_wire, plain), (from_wire, wires), readable)


def _floor(values: list[Values], wires: list[Wire]) -> tuple[Codec, Codec, Callable[[Any], Values]]:
    return ((floor_to_wire, values), (floor_from_wire, wires), lambda data: data)


def _dyntastic(
    values: list[Values], wires: list[Wire]
) -> tuple[Codec, Codec, Callable[[Any], Values]] | None:
    model = dyntastic_model(TABLE)
    if model is None:
        return None
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from dyntastic import attr, pydantic_compat

    serialize = TypeSerializer().serialize
    deserialize = TypeDeserializer().deserialize
    items = [model(**dyntastic_values(v)) for v in values]
    load = model._dyntastic_load_model
    dump = pydantic_compat.model_dump
    to_data = attr.serialize

    def to_wire(item: Any) -> Wire:
        data = to_data(dump(item, by_alias=True))
        return {name: serialize(value) for name, value in data.items()}

    def from_wire(wire: Wire) -> Any:
        return load({name: deserialize(value) for name, value in wire.items()})

    return ((to_wire, items), (from_wire, wires), lambda item: dump(item))


def _loop(function: Callable[[Any], Any], inputs: Sequence[Any]) -> Callable[[], None]:
    def work() -> None:
        for member in inputs:
            function(member)

    return work


def run(settings: Settings, report: Report) -> None:
    count = settings.marshal_items
    values = list(many_values(count))
    wires = [floor_to_wire(v) for v in values]
    builders = {
        "ours": _ours,
        "PynamoDB": _pynamodb,
        "boto3": _boto3,
        "floor": _floor,
        "dyntastic": _dyntastic,
    }
    to_wire: dict[str, Measure] = {}
    from_wire: dict[str, Measure] = {}
    wrong: list[str] = []
    for library, build in builders.items():
        built = build(values, wires)
        if built is None:
            report.note("dyntastic is not installed: its column is left out")
            continue
        (encode, inputs), (decode, raws), plain = built
        if not _same(plain(decode(raws[0])), values[0]):
            wrong.append(library)
        to_wire[library] = cpu_per_item(_loop(encode, inputs), count, settings.repeats).scaled(1e6)
        from_wire[library] = cpu_per_item(_loop(decode, raws), count, settings.repeats).scaled(1e6)
        del built, inputs, raws
    ratios = [
        ("ours/floor", "ours", "floor"),
        ("PynamoDB/ours", "PynamoDB", "ours"),
        ("boto3/ours", "boto3", "ours"),
        ("dyntastic/ours", "dyntastic", "ours"),
    ]
    report.add(Row(1, f"model -> wire ({count:,} items)", "us/item", to_wire, ratios))
    report.add(Row(1, f"wire -> model ({count:,} items)", "us/item", from_wire, ratios))
    if wrong:
        report.note(f"section 1: decoded values differ from the source for {', '.join(wrong)}")
