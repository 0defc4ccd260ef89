"""One AttributeValue as bytes, and back: what encrypted and compressed fields transform.

A wrapping field (``EncryptedField``, ``CompressedField``) lets its inner field encode
the value, then turns that AttributeValue into bytes to encrypt or compress. Strings
and binary values, the common cases, cost one tag byte (``S`` + UTF-8, ``B`` + the
bytes); anything else is ``J`` + the AttributeValue as compact JSON, with binary
values as base64.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from dynamodb.core.codec import AttributeValue

__all__ = ["pack_attribute", "unpack_attribute"]


def pack_attribute(attribute: AttributeValue) -> bytes:
    """``attribute`` as bytes (see the module's docstring)."""
    if len(attribute) == 1:
        if "S" in attribute:
            return b"S" + str(attribute["S"]).encode("utf-8")
        if "B" in attribute:
            return b"B" + bytes(attribute["B"])
    text = json.dumps(_jsonable(attribute), separators=(",", ":"), ensure_ascii=False)
    return b"J" + text.encode("utf-8")


def unpack_attribute(data: bytes) -> AttributeValue:
    """The AttributeValue :func:`pack_attribute` wrote; ValueError for anything else."""
    tag, body = data[:1], data[1:]
    if tag == b"S":
        return {"S": body.decode("utf-8")}
    if tag == b"B":
        return {"B": bytes(body)}
    if tag == b"J":
        value = json.loads(body.decode("utf-8"))
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError("not a packed AttributeValue")
        return _from_jsonable(value)
    raise ValueError(f"unknown packed form {tag!r}")


def _jsonable(attribute: AttributeValue) -> dict[str, Any]:
    ((tag, value),) = attribute.items()
    if tag == "B":
        return {"B": base64.b64encode(bytes(value)).decode("ascii")}
    if tag == "BS":
        return {"BS": [base64.b64encode(bytes(member)).decode("ascii") for member in value]}
    if tag == "M":
        return {"M": {name: _jsonable(member) for name, member in value.items()}}
    if tag == "L":
        return {"L": [_jsonable(member) for member in value]}
    return {tag: list(value) if tag in ("SS", "NS") else value}


def _from_jsonable(value: dict[str, Any]) -> AttributeValue:
    ((tag, body),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(body)}
    if tag == "BS":
        return {"BS": [base64.b64decode(member) for member in body]}
    if tag == "M":
        return {"M": {name: _from_jsonable(member) for name, member in body.items()}}
    if tag == "L":
        return {"L": [_from_jsonable(member) for member in body]}
    if tag not in ("S", "N", "BOOL", "NULL", "SS", "NS"):
        raise ValueError(f"unknown AttributeValue type {tag!r}")
    return {tag: body}
