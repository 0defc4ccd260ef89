"""One request as a test sees it: :class:`Call`, what :func:`dynamodb.testing.record` lists.

A call holds the request as it was sent (DynamoDB's JSON), and, once it has
ended, the answer or the error. Its properties read the request and the answer
the way a test asks about them: the operation, the table and index, the key
condition and filter written out with their names and values, and how many
items it carried or returned.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from dynamodb.core.codec import decode_value
from dynamodb.core.flow import table_names

__all__ = ["Call"]

_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")

_CARRY_ONE = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
"""Writes of one item: each carries one."""


class Call:
    """One request sent to DynamoDB, and (once ended) its answer or error.

    ``operation`` is the API name (``"Query"``) and ``params`` the request as
    sent (a copy). ``response`` is the answer, or None; ``error`` the typed error
    it ended with, or None. ``faults`` names what a :func:`~dynamodb.testing.faults`
    block injected into it (``("latency", "throttle")``), empty for none.
    """

    __slots__ = ("error", "faults", "operation", "params", "response")

    def __init__(self, operation: str, params: Mapping[str, Any]) -> None:
        self.operation = operation
        self.params: dict[str, Any] = copy.deepcopy(dict(params))
        self.response: dict[str, Any] | None = None
        self.error: Exception | None = None
        self.faults: tuple[str, ...] = ()

    def __repr__(self) -> str:
        where = f" {self.table}" if self.table else ""
        index = f" index={self.index}" if self.index else ""
        faults = f" faults={list(self.faults)}" if self.faults else ""
        outcome = f" error={type(self.error).__name__}" if self.error is not None else ""
        return f"<Call {self.operation}{where}{index} items={self.items}{faults}{outcome}>"

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table the request names, in order (several for a batch or transaction)."""
        return table_names(self.params)

    @property
    def table(self) -> str | None:
        """The table the request is for (the first, when it names several); None for none."""
        tables = self.tables
        return tables[0] if tables else None

    @property
    def index(self) -> str | None:
        """The index a Query or Scan reads (``IndexName``), None for the table itself."""
        name = self.params.get("IndexName")
        return str(name) if name is not None else None

    @property
    def key_condition(self) -> str | None:
        """A Query's key condition, names and values written in: ``"id = 'a' AND n > 3"``."""
        return self._written("KeyConditionExpression")

    @property
    def filter(self) -> str | None:
        """A Query's or Scan's filter, names and values written in (None without one)."""
        return self._written("FilterExpression")

    @property
    def condition(self) -> str | None:
        """A write's condition (``ConditionExpression``), names and values written in."""
        return self._written("ConditionExpression")

    @property
    def answered(self) -> bool:
        """Whether the request ended with an answer (not an error)."""
        return self.response is not None

    @property
    def items(self) -> int:
        """How many items the request carried (writes) or returned (reads).

        A PutItem, UpdateItem or DeleteItem carries one; a BatchWriteItem its
        puts and deletes; a TransactWriteItems its actions. A GetItem returns
        one or none; a Query or Scan its page's items (``Count``); a
        BatchGetItem or TransactGetItems the items found. Reads that got no
        answer returned none; anything else counts none.
        """
        operation, params = self.operation, self.params
        if operation in _CARRY_ONE:
            return 1
        if operation == "BatchWriteItem":
            return sum(len(entries) for entries in params.get("RequestItems", {}).values())
        if operation == "TransactWriteItems":
            return len(params.get("TransactItems", ()))
        response = self.response or {}
        if operation == "GetItem":
            return 1 if "Item" in response else 0
        if operation == "BatchGetItem":
            return sum(len(found) for found in response.get("Responses", {}).values())
        if operation == "TransactGetItems":
            return sum(1 for entry in response.get("Responses", ()) if "Item" in entry)
        if "Count" in response:
            return int(response["Count"])
        return len(response.get("Items", ()))

    @property
    def unprocessed(self) -> int:
        """How many entries a batch's answer left unprocessed (to send again)."""
        response = self.response or {}
        if self.operation == "BatchWriteItem":
            left = response.get("UnprocessedItems", {})
            return sum(len(entries) for entries in left.values())
        if self.operation == "BatchGetItem":
            keys = response.get("UnprocessedKeys", {})
            return sum(len(entry.get("Keys", ())) for entry in keys.values())
        return 0

    def _written(self, name: str) -> str | None:
        """The expression ``name`` with its ``#name`` and ``:value`` placeholders written in."""
        expression = self.params.get(name)
        if expression is None:
            return None
        names: Mapping[str, str] = self.params.get("ExpressionAttributeNames", {})
        values: Mapping[str, Any] = self.params.get("ExpressionAttributeValues", {})

        def written(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in names:
                return names[token]
            if token in values:
                try:
                    return repr(decode_value(values[token]))
                except (ValueError, KeyError, TypeError):  # one DynamoDB would refuse: as sent
                    return repr(values[token])
            return token

        return _PLACEHOLDER.sub(written, str(expression))
