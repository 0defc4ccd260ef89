"""A fast response parser for DynamoDB's data-plane operations.

botocore's generic JSON parser walks every AttributeValue of a response
against the service model, which is most of a client's CPU on a Query page.
DynamoDB's JSON is already what this library decodes, so for successful
answers to item operations :class:`FastParserFactory` hands out a parser that
only runs ``json.loads`` (turning base64 ``B``/``BS`` values into bytes, as
botocore would). Errors and control-plane answers (DescribeTable's datetimes,
say) still go through botocore's own parser, so errors stay typed exactly as
before. The factory is registered on the connection's own botocore session, so
nothing else in the process is affected, and moto's ``mock_aws`` (which
answers below the parser) keeps working.

Every answer's ``x-amz-crc32`` is checked first (:func:`check_crc32`), on both
transports: a body that does not match it was damaged on the way, and is a lost
answer (``TransportError(sent=True)``), resent only if the request is idempotent.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import re
import zlib
from collections.abc import Iterator
from typing import Any

from dynamodb.core.errors import TransportError
from dynamodb.core.operations import ITEM_OPERATIONS

__all__ = ["FAST_OUTPUTS", "FastParserFactory", "check_crc32", "gc_paused", "parse_success"]

FAST_OUTPUTS = frozenset(f"{operation}Output" for operation in (*ITEM_OPERATIONS, "GetRecords"))
"""Output shapes of the operations parsed fast (DynamoDB Streams' GetRecords too: its records
hold items, and its times stay epoch seconds)."""


def _binary(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) == 1:
        if "B" in value and isinstance(value["B"], str):
            return {"B": base64.b64decode(value["B"])}
        if "BS" in value and value["BS"] and isinstance(value["BS"][0], str):
            return {"BS": [base64.b64decode(member) for member in value["BS"]]}
    return value


# A binary value's tag: "B" or "BS" as a key ("BOOL" must not match).
_BINARY_TAG = re.compile(rb'"BS?"\s*:')


_PAUSE_GC_ABOVE = 64 * 1024


def _loads(body: bytes, hook: Any) -> Any:
    """``json.loads``, with the cyclic GC paused for large bodies.

    A Query page is tens of thousands of small dicts made at once; each of them
    counts towards the collector's thresholds, so parsing one page can trigger
    several full collections of the whole heap, which cost more than the
    parsing. None of these objects can be part of a cycle, so pausing the
    collector while they are made loses nothing; it runs again afterwards as
    usual. (A program that disabled the collector itself keeps it disabled.)
    """
    if len(body) < _PAUSE_GC_ABOVE:
        return json.loads(body, object_hook=hook)
    with gc_paused():
        return json.loads(body, object_hook=hook)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many acyclic objects are made."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_crc32(response: dict[str, Any]) -> None:
    """Raise a lost-answer TransportError if the body does not match its ``x-amz-crc32``."""
    expected = response["headers"].get("x-amz-crc32")
    if expected is None:
        return
    text = str(expected)
    if text.isdigit() and zlib.crc32(response["body"]) != int(text):
        raise TransportError(
            "the answer's x-amz-crc32 does not match its body: it was damaged on the way",
            sent=True,
        )


def parse_success(response: dict[str, Any]) -> dict[str, Any]:
    """The parsed body of a successful answer, with ResponseMetadata as botocore adds it."""
    body = response["body"]
    parsed: dict[str, Any] = (
        _loads(body, _binary if _BINARY_TAG.search(body) else None) if body else {}
    )
    headers = response["headers"]
    parsed["ResponseMetadata"] = {
        "RequestId": headers.get("x-amzn-requestid", ""),
        "HTTPStatusCode": response["status_code"],
        "HTTPHeaders": headers,
    }
    return parsed


def _fast(response: dict[str, Any], shape: Any) -> bool:
    return (
        response["status_code"] < 300
        and shape is not None
        and getattr(shape, "name", None) in FAST_OUTPUTS
    )


class _FastParser:
    def __init__(self, fallback: Any) -> None:
        self._fallback = fallback

    def parse(self, response: dict[str, Any], shape: Any) -> Any:
        check_crc32(response)
        if _fast(response, shape):
            return parse_success(response)
        return self._fallback.parse(response, shape)


class _AsyncFastParser:
    def __init__(self, fallback: Any) -> None:
        self._fallback = fallback

    async def parse(self, response: dict[str, Any], shape: Any) -> Any:
        check_crc32(response)
        if _fast(response, shape):
            return parse_success(response)
        return await self._fallback.parse(response, shape)


class FastParserFactory:
    """Wraps a botocore (or aiobotocore) parser factory; JSON parsers get the fast path."""

    def __init__(self, fallback: Any, is_async: bool = False) -> None:
        self._fallback = fallback
        self._is_async = is_async

    def set_parser_defaults(self, **kwargs: Any) -> None:
        self._fallback.set_parser_defaults(**kwargs)

    def create_parser(self, protocol_name: str) -> Any:
        parser = self._fallback.create_parser(protocol_name)
        if protocol_name != "json":
            return parser
        return _AsyncFastParser(parser) if self._is_async else _FastParser(parser)
