"""The demo walkthrough runs against DynamoDB Local and shows what the seeds promise."""

from __future__ import annotations

import pytest

from dynamodb import Connection
from dynamodb.tools import demo


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
    assert "Test.batch_write(items, overwrite=True) (gs7 twice: the last wins)\n    -> 3" in text
    assert "name, score, order_score, type(doc): ('gs9', 92, 92.0, <class 'dict'>)" in text
    assert "the next page: .start_key(cursor)\n    -> ['physics_19', 'physics_2'," in text
    assert "threads: [('physics_50', 1050, 'Physics'), ('physics_49', 1049, 'Physics')" in text
    assert "no use_index(): the query picks the index itself\n    -> user_threads_index" in text
    assert "user_reviews, tags: (['1000', '102'], ['gravity', 'physics', 'white_hole'])" in text
    assert "a transaction moves 30 from alice to bob\n    -> (70, 30)" in text
    assert "VersionConflict: Account {'id': 'alice'}: expected version 2, found 3" in text
    assert text.rstrip().endswith("Done: 35 steps.")
