"""The demo walkthrough runs against DynamoDB Local and shows what the seeds promise."""

from __future__ import annotations

import pytest

from dynamodb import Connection, demo


def test_demo_walks_both_seeds_on_dynamodb_local(
    connection: Connection, monkeypatch: pytest.MonkeyPatch, dynamodb_endpoint: str
) -> None:
    monkeypatch.setenv("DYNAMODB_ENDPOINT", dynamodb_endpoint)
    lines: list[str] = []
    demo.main(lines.append)
    text = "\n".join(lines)
    assert f"Using DynamoDB at {dynamodb_endpoint}" in text
    assert "test ACTIVE, keys: name (HASH), score (RANGE)" in text
    assert "item1.name, item1.ids, item1.doc: ('gs1', [], {})" in text
    assert "Test.score: 'a lot' is not valid: expected an int, got str" in text
    assert (
        "ItemAlreadyExists: ForumThread {'forum_id': 'science', 'thread_id': 'physics_1'}" in text
    )
    assert "updated_at_index [KEYS_ONLY]" in text
    assert "expiry_timestamp_index [INCLUDE]" in text
    assert "user_threads_index [INCLUDE]" in text
    assert (
        "await ForumThread.aget(...) (the async twin)\n    -> ForumThread(forum_id='science'"
        in text
    )
    assert text.rstrip().endswith("steps.")
