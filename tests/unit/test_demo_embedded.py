"""The demo's embedded default: moto in-process, no server, and the default connection restored."""

from __future__ import annotations

import pytest

import dynamodb
from dynamodb.tools import demo


def test_demo_runs_on_moto_and_restores_the_default_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    before = dynamodb.get_connection()
    lines: list[str] = []
    demo.main(lines.append)
    text = "\n".join(lines)
    assert "Using moto's in-process DynamoDB" in text
    assert "item6.delete(); Test.get(name='gs6', score=100)" in text
    assert "(async twins skipped" in text
    assert "Test.item_count(exact=True)\n    -> 4" in text
    assert dynamodb.get_connection() is before
