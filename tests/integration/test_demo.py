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
    assert "diagnosis: binary, with its key id\n    -> ('2026-01', '46 bytes', False)" in text
    assert "the same ciphertext in another item\n    -> DecryptionError: authentication" in text
    assert "then reencrypt(Patient): items rewritten\n    -> 1" in text
    # The dynamix README's connection line, as written: the section runs through it.
    host, port = dynamodb_endpoint.removeprefix("http://").split(":")
    assert (
        f"dynamodb.set_connection(is_local_endpoint=('{host}', '{port}'), "
        "aws_access_key_id='*', aws_secret_access_key='*', region_name='ap-south-1')\n"
        f"    -> <Connection {dynamodb_endpoint}>, access key id sent: 'local'" in text
    )
    assert "not used here" not in text
    # The README's updates in one commit_changes(), equal to one commit per call.
    assert "forum_thread.remove_by_index_from_listfield(ForumThread.user_reviews, 1)\n" in text
    assert "updated_at - now: 1000\n" in text
    assert "key_value_data: {'c': 100}\n" in text
    assert "user_reviews, tags: (['100', '101'], ['gravity', 'physics', 'white_hole'])" in text
    assert "one commit per call, one after another (on a copy): True" in text
    assert (
        "-> UpdateConflict, before any request: ForumThread: append(user_reviews) and "
        "set(user_reviews[1]) cannot go into one update" in text
    )
    assert (
        "-> ConcurrentModification: ForumThread {'forum_id': 'science', 'thread_id': "
        "'physics_1'}: user_reviews changed since the item was read" in text
    )
    assert "(nothing of ours was written): ['100', '101', \"another writer's\"]" in text
    assert "a transaction moves 30 from alice to bob\n    -> (70, 30)" in text
    assert "VersionConflict: Account {'id': 'alice'}: expected version 2, found 3" in text
    assert text.rstrip().endswith("Done: 59 steps.")
