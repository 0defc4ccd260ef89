"""A MockTransport handler that records every request, for tests that check nothing is sent."""

from __future__ import annotations

from typing import Any

from dynamodb import Connection, MockTransport

Params = dict[str, Any]

__all__ = ["Recorder"]


class Recorder:
    """Records ``(operation, params)`` of each request and answers ``{}`` (DynamoDB's
    answer to a write that returns nothing); ``connection`` sends through it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Params]] = []
        self.connection = Connection(transport=MockTransport(self))

    def __call__(self, operation: str, params: Params) -> Params:
        self.calls.append((operation, params))
        return {}
