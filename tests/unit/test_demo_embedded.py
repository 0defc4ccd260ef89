"""The demo's embedded default: moto's threaded server in the process, every step, no Java."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import dynamodb
from dynamodb.tools import demo


def test_make_demo_runs_every_step_async_included_with_no_java_on_path(tmp_path: Path) -> None:
    empty = tmp_path / "bin"  # PATH holds only an empty folder: no java, no npm
    empty.mkdir()
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DYNAMODB_ENDPOINT", "JAVA_HOME")
    }
    environment["PATH"] = str(empty)
    result = subprocess.run(
        [sys.executable, "-m", "dynamodb", "demo"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("Using moto's threaded server at http://127.0.0.1:")
    assert "async twins skipped" not in text
    assert (
        "await ForumThread.aget(...) (the async twin)\n    -> ForumThread(forum_id='science'"
        in text
    )
    assert "Test.item_count(exact=True)\n    -> 4" in text
    assert "item6.delete(); Test.get(name='gs6', score=100)" in text
    # The dynamix README's connection line runs against the server's own port.
    port = text.split("http://127.0.0.1:", 1)[1].split(",", 1)[0]
    assert (
        f"dynamodb.set_connection(is_local_endpoint=('127.0.0.1', '{port}'), "
        "aws_access_key_id='*', aws_secret_access_key='*', region_name='ap-south-1')\n"
        f"    -> <Connection http://127.0.0.1:{port}>, access key id sent: 'local'" in text
    )
    assert "not used here" not in text
    # The README's updates, queued on a read thread, in one commit_changes().
    assert "updated_at - now: 1000\n" in text
    assert "key_value_data: {'c': 100}\n" in text
    assert "user_reviews, tags: (['100', '101'], ['gravity', 'physics', 'white_hole'])" in text
    assert "one commit per call, one after another (on a copy): True" in text
    assert "-> UpdateConflict, before any request: ForumThread: append(user_reviews)" in text
    assert "-> ConcurrentModification: ForumThread {'forum_id': 'science'" in text
    assert "a transaction moves 30 from alice to bob\n    -> (70, 30)" in text
    assert text.rstrip().endswith("Done: 59 steps.")


def test_the_embedded_backend_is_the_default_inside_and_stops_after() -> None:
    before = dynamodb.get_connection()
    lines: list[str] = []
    with demo._backend(lines.append, None) as server:
        assert dynamodb.get_connection() is server
        assert server.endpoint_url is not None
        assert dynamodb.Table(demo.Account, connection=server).name == "demo_account"
        assert "TableNames" in server.send("ListTables", {})
    assert lines == [
        f"Using moto's threaded server at {server.endpoint_url}, in this process "
        "(set DYNAMODB_ENDPOINT to use another server)."
    ]
    assert dynamodb.get_connection() is before
    probe = dynamodb.Connection(
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        connect_timeout=1.0,
    )
    with probe, pytest.raises(dynamodb.TransportError):  # the server is gone
        probe.send("ListTables", {})
