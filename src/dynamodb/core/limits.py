"""DynamoDB's documented limits, and how DynamoDB measures items against them.

Pure functions over AttributeValues: the model layer
(:mod:`dynamodb.models.limit_checks`) calls them before sending anything, so an
item DynamoDB would refuse never leaves the process.

**Item size** (Developer Guide, "DynamoDB item sizes and formats",
CapacityUnitCalculations.html): "The total size of an item is the sum of the
lengths of its attribute names and values, plus any applicable overhead":

- attribute names and strings count their UTF-8 bytes;
- a binary value counts its raw bytes (not its base64 text);
- a number is "approximately (1 byte per two significant digits) + (1 byte)";
  leading and trailing zeros are trimmed;
- null and Boolean values are 1 byte;
- "An attribute of type List or Map requires 3 bytes of overhead, regardless of
  its contents", an empty one is those 3 bytes, and "Each List or Map element
  also requires 1 byte of overhead" (a map element also counts its key's UTF-8
  bytes, as an attribute name does);
- a set is the sum of its members (no overhead).

The number rule is exact here: the digits are grouped in pairs aligned on the
decimal point (base 100: ``123.45`` is ``01 23 . 45``, three pairs), pairs of
zeros at either end are dropped, and the size is one byte per pair plus one,
plus one more for a negative number; zero is 1 byte. This is what DynamoDB Local
3.3 counts for every number we measured (``0`` 1, ``1`` 2, ``12`` 2, ``120`` 3,
``1.2`` 3, ``0.12`` 2, ``-1`` 3, 38 digits 20 or 21), and what the
documentation's "1 byte per two significant digits" approximates.

**The other limits** (Developer Guide, "Constraints in Amazon DynamoDB"):
items up to 400 KB; nested attributes up to 32 levels deep; partition (hash)
key values up to 2,048 bytes and sort (range) key values up to 1,024 bytes, for
the table and every index; any expression string up to 4 KB; a transaction of
up to 100 actions whose items total at most 4 MB. DynamoDB counts
``1 KB = 1024 bytes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import UpdateConflict
from dynamodb.core.updates import UpdateAction, apply_action

__all__ = [
    "CONTAINER_OVERHEAD",
    "ELEMENT_OVERHEAD",
    "EXPRESSION_PARAMETERS",
    "MAX_EXPRESSION_BYTES",
    "MAX_HASH_KEY_BYTES",
    "MAX_ITEM_BYTES",
    "MAX_NESTING_LEVELS",
    "MAX_RANGE_KEY_BYTES",
    "MAX_TRANSACTION_ACTIONS",
    "MAX_TRANSACTION_BYTES",
    "attribute_size",
    "item_size",
    "key_size",
    "largest_attributes",
    "measure",
    "measure_item",
    "nesting_levels",
    "number_size",
    "oversized_expressions",
    "size_after_update",
    "text_size",
    "transaction_action_size",
    "update_nesting_levels",
    "value_size",
]

MAX_ITEM_BYTES = 400 * 1024
"""The largest item DynamoDB stores: 400 KB (409,600 bytes), names and values included."""
MAX_NESTING_LEVELS = 32
"""How deep attributes nest: a top-level attribute is level 1, a value in a map
or list attribute level 2, and so on (31 maps around a string reach level 32)."""
MAX_HASH_KEY_BYTES = 2048
"""The longest partition (hash) key value, of the table or an index."""
MAX_RANGE_KEY_BYTES = 1024
"""The longest sort (range) key value, of the table or an index."""
MAX_EXPRESSION_BYTES = 4 * 1024
"""The longest expression string (each of :data:`EXPRESSION_PARAMETERS`)."""
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
"""The largest transaction (TransactWriteItems), measured by :func:`transaction_action_size`."""
MAX_TRANSACTION_ACTIONS = 100
"""The most actions in one transaction."""
EXPRESSION_PARAMETERS = (
    "ConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
    "KeyConditionExpression",
    "FilterExpression",
)
"""The request parameters that hold expression strings."""
CONTAINER_OVERHEAD = 3
"""Bytes every list or map costs, even empty."""
ELEMENT_OVERHEAD = 1
"""Bytes every element of a list or map costs, besides its value (and a map key's name)."""


def text_size(text: str) -> int:
    """The UTF-8 length of a string (an attribute name, a map key, an ``S`` value)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _binary_size(raw: Any) -> int:
    if isinstance(raw, str):  # botocore sends a str given for B as its UTF-8 bytes
        return text_size(raw)
    return raw.nbytes if isinstance(raw, memoryview) else len(raw)


def number_size(text: str) -> int:
    """Bytes of a number: one per pair of digits (aligned on the point), plus 1; negatives +1.

    ``number_size("123.45") == 4`` (``01 23 . 45``), ``number_size("0") == 1``.
    """
    if text.isdigit() and text[0] != "0" != text[-1] and text.isascii():
        return 2 + (len(text) - 1) // 2  # a positive integer without zeros at either end
    negative = text[:1] == "-"
    whole, point, fraction = (text[1:] if negative else text).partition(".")
    if (
        (whole.isdigit() or (point and not whole))
        and (fraction.isdigit() or not fraction)
        and text.isascii()
    ):
        # Written without an exponent (the usual case): count from the text.
        whole = whole.lstrip("0")
        fraction = fraction.rstrip("0")
        if whole:
            high = len(whole) - 1  # the power of ten of the first digit
        elif fraction:
            high = len(fraction.lstrip("0")) - len(fraction) - 1
        else:
            return 1  # zero
        low = -len(fraction) if fraction else len(whole) - len(whole.rstrip("0"))
        return 2 + high // 2 - low // 2 + negative
    number = Decimal(text)
    sign, places, exponent = number.as_tuple()
    assert isinstance(exponent, int), "DynamoDB numbers are finite"
    written = "".join(map(str, places))
    kept = written.strip("0")  # (a Decimal's digits have no leading zeros but zero's)
    if not kept:
        return 1
    low = exponent + len(written) - len(written.rstrip("0"))  # the power of ten of the last
    high = low + len(kept) - 1
    return 2 + high // 2 - low // 2 + sign


def measure(value: AttributeValue) -> tuple[int, int]:
    """``(bytes, levels)`` of one AttributeValue: its size by DynamoDB's rules (its
    name not included) and how many levels it reaches (see :func:`nesting_levels`).

    One pass over the value; strings and numbers inside containers, the usual
    members, are measured inline.
    """
    if "S" in value:
        text = value["S"]
        return (len(text) if text.isascii() else text_size(text)), 1
    if "N" in value:
        return number_size(value["N"]), 1
    members: Iterable[AttributeValue]
    if "M" in value:
        mapped = value["M"]
        size = CONTAINER_OVERHEAD + ELEMENT_OVERHEAD * len(mapped)
        for key in mapped:
            size += len(key) if key.isascii() else text_size(key)
        members = mapped.values()
    elif "L" in value:
        members = value["L"]
        size = CONTAINER_OVERHEAD + ELEMENT_OVERHEAD * len(value["L"])
    else:
        return _scalar_size(value), 1
    deepest = 1
    for member in members:
        if "S" in member:
            text = member["S"]
            size += len(text) if text.isascii() else text_size(text)
        elif "N" in member:
            size += number_size(member["N"])
        else:
            inner, levels = measure(member)
            size += inner
            if levels > deepest:
                deepest = levels
    return size, deepest + 1


def _scalar_size(value: AttributeValue) -> int:
    for tag, raw in value.items():
        if tag == "B":
            return _binary_size(raw)
        if tag == "SS":
            return sum(map(text_size, raw))
        if tag == "NS":
            return sum(map(number_size, raw))
        if tag == "BS":
            return sum(map(_binary_size, raw))
        if tag in ("BOOL", "NULL"):
            return 1
        raise ValueError(f"unknown AttributeValue type {tag!r}")
    raise ValueError("an AttributeValue needs a type tag")


def value_size(value: AttributeValue) -> int:
    """Bytes of one AttributeValue by DynamoDB's rules (its name not included)."""
    return measure(value)[0]


def attribute_size(name: str, value: AttributeValue) -> int:
    """Bytes of one top-level attribute: its name's UTF-8 length plus its value's size."""
    return text_size(name) + measure(value)[0]


def measure_item(item: Mapping[str, AttributeValue]) -> tuple[int, int]:
    """``(bytes, levels)`` of an item: :func:`item_size`, and the deepest attribute's levels."""
    total = 0
    deepest = 1
    for name, value in item.items():
        total += len(name) if name.isascii() else text_size(name)
        if "S" in value:
            text = value["S"]
            total += len(text) if text.isascii() else text_size(text)
        else:
            size, levels = measure(value)
            total += size
            if levels > deepest:
                deepest = levels
    return total, deepest


def item_size(item: Mapping[str, AttributeValue]) -> int:
    """The size DynamoDB gives an item (what the 400 KB limit is about), in bytes.

    ``item_size({"id": {"S": "a"}, "n": {"N": "123.45"}}) == 2 + 1 + 1 + 4``.
    """
    return measure_item(item)[0]


def largest_attributes(item: Mapping[str, AttributeValue], count: int = 3) -> list[tuple[str, int]]:
    """The ``count`` largest attributes as ``(name, bytes)``, largest first."""
    sizes = [(name, attribute_size(name, value)) for name, value in item.items()]
    sizes.sort(key=lambda entry: entry[1], reverse=True)
    return sizes[:count]


def nesting_levels(value: AttributeValue) -> int:
    """How many levels a top-level attribute holding ``value`` reaches.

    A scalar or a set is 1 level; a map or list is one level more than its
    deepest member, and the members of an empty one are a level too (an empty
    map is 2). DynamoDB refuses more than :data:`MAX_NESTING_LEVELS`.
    """
    return measure(value)[1]


def update_nesting_levels(action: UpdateAction) -> int:
    """The level an update action's value reaches once in place (its path counts)."""
    if action.value is None:
        return 0
    return len(action.path.elements) - 1 + nesting_levels(action.value)


def key_size(value: AttributeValue) -> int:
    """Bytes of a key value, as the key length limits count them (UTF-8 or raw bytes)."""
    return value_size(value)


def oversized_expressions(request: Mapping[str, Any]) -> list[tuple[str, int]]:
    """``(parameter, bytes)`` for each expression string of ``request`` over 4 KB."""
    found: list[tuple[str, int]] = []
    for parameter in EXPRESSION_PARAMETERS:
        text = request.get(parameter)
        if isinstance(text, str) and len(text) * 4 > MAX_EXPRESSION_BYTES:
            size = text_size(text)
            if size > MAX_EXPRESSION_BYTES:
                found.append((parameter, size))
    return found


def transaction_action_size(params: Mapping[str, Any]) -> int:
    """What one TransactWriteItems action adds to the transaction's 4 MB.

    The documentation speaks of "the aggregate size of the items"; DynamoDB
    Local 3.3 counts, per action, the item (a Put) or the key (the others),
    every expression string, the names in ExpressionAttributeNames and the
    values in ExpressionAttributeValues, and refuses a transaction whose total
    is one byte over 4 MB. This function counts the same.
    """
    item = params.get("Item", params.get("Key")) or {}
    total = item_size(item)
    total += sum(text_size(params[name]) for name in EXPRESSION_PARAMETERS if name in params)
    total += sum(map(text_size, (params.get("ExpressionAttributeNames") or {}).values()))
    total += sum(map(value_size, (params.get("ExpressionAttributeValues") or {}).values()))
    return total


# -- the size of an item after an update -------------------------------------------------


def size_after_update(
    base: Mapping[str, AttributeValue], actions: Iterable[UpdateAction], *, complete: bool
) -> int:
    """The item's size once ``actions`` are applied to ``base`` (DynamoDB's item), in bytes.

    ``complete``: ``base`` is the whole stored item (it was read whole): the result
    is exact, each attribute worked out by DynamoDB's rules (``apply_action``).
    Otherwise (an item built from its key, or read with a projection) only what
    ``base`` holds is known to be stored, and the result is a lower bound: an
    attribute replaced by a top-level SET is that value, one REMOVEd is gone, and
    one changed otherwise counts only what the actions certainly leave in it (a
    SET's value, appended elements, added set members). Either way, more than
    400 KB means DynamoDB would refuse the update (unless the item changed since
    it was read).
    """
    result: dict[str, AttributeValue] = dict(base)
    floor = 0  # bytes certainly in attributes whose value is not worked out
    grouped: dict[str, list[UpdateAction]] = {}
    for action in actions:
        grouped.setdefault(action.path.attribute, []).append(action)
    for name, group in grouped.items():
        try:
            value = _worked_out(result.get(name), group, complete)
        except UpdateConflict:  # DynamoDB would refuse it: not a size matter
            value = _UNKNOWN
        if value is _UNKNOWN:
            result.pop(name, None)
            floor += text_size(name) + sum(map(_least_left, group))
        elif value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return item_size(result) + floor


_UNKNOWN: Any = object()
"""An attribute value that cannot be worked out from what is known."""


def _worked_out(value: AttributeValue | None, group: list[UpdateAction], complete: bool) -> Any:
    if complete:
        for action in group:
            value = apply_action(value, action)
        return value
    (action, *more) = group
    if not more and len(action.path.elements) == 1 and action.kind in ("set", "remove"):
        return action.value
    return _UNKNOWN


def _least_left(action: UpdateAction) -> int:
    """Bytes an action certainly leaves in its attribute, whatever the attribute held."""
    value = action.value
    if value is None or action.kind not in ("set", "append", "prepend", "add"):
        return 0
    if action.kind in ("append", "prepend"):
        return value_size(value) - CONTAINER_OVERHEAD  # the elements, without a list's overhead
    if action.kind == "add" and "N" in value:
        return 0
    return value_size(value)
