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
    # The dynamix README's connection line is shown (moto serves no port, so it is not used).
    assert (
        "dynamodb.set_connection(is_local_endpoint=('127.0.0.1', '8000'), "
        "aws_access_key_id='*', aws_secret_access_key='*', region_name='ap-south-1')\n"
        "    -> <Connection http://127.0.0.1:8000>, access key id sent: 'local'" in text
    )
    assert "not used here: moto serves this demo in-process" in text
    # The README's updates, queued on a read thread, in one commit_changes().
    assert "updated_at - now: 1000\n" in text
    assert "key_value_data: {'c': 100}\n" in text
    assert "user_reviews, tags: (['100', '101'], ['gravity', 'physics', 'white_hole'])" in text
    assert "one commit per call, one after another (on a copy): True" in text
    assert "-> UpdateConflict, before any request: ForumThread: append(user_reviews)" in text
    assert "-> ConcurrentModification: ForumThread {'forum_id': 'science'" in text
    assert dynamodb.get_connection() is before
