"""Start a real DynamoDB Local, talk to it with boto3, stop it."""

from __future__ import annotations

import os
import socket

import boto3
import pytest

from dynamodb.testing.dynamodb_local import cannot_start
from tests.support.dynamodb_local import DynamoDBLocal, cache_dir, free_port


def _skip_reason() -> str | None:
    return cannot_start(cache_dir())


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_start_list_tables_stop() -> None:
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)

    port = free_port()
    server = DynamoDBLocal(port=port)
    try:
        endpoint = server.start()
        assert endpoint == f"http://127.0.0.1:{port}"
        assert server.running
        pid = server.pid
        assert pid is not None

        client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        try:
            response = client.list_tables()
        finally:
            client.close()
        assert isinstance(response["TableNames"], list)
    finally:
        server.stop()

    assert not server.running
    assert server.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert _port_is_free(port)
    server.stop()  # idempotent


def test_serve_listens_on_8000_by_default_which_is_local_endpoint_true() -> None:
    from tests.support.dynamodb_local import DEFAULT_SERVE_PORT, build_parser

    assert build_parser().parse_args(["serve"]).port == DEFAULT_SERVE_PORT == 8000
    assert build_parser().parse_args(["serve", "--port", "8001"]).port == 8001
    assert build_parser().parse_args(["serve", "--port", "0"]).port == 0  # any free port


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_serve_prints_the_endpoint_and_how_to_connect() -> None:
    import subprocess
    import sys

    if not _port_is_free(8000):
        pytest.skip("port 8000 is taken on this machine")
    with subprocess.Popen(
        [sys.executable, "-m", "tests.support.dynamodb_local", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as serve:
        try:
            assert serve.stdout is not None
            assert serve.stderr is not None
            assert serve.stdout.readline().strip() == "http://127.0.0.1:8000"
            assert "dynamodb.set_connection(is_local_endpoint=True)" in serve.stderr.readline()
        finally:
            serve.terminate()
            serve.wait(timeout=30)
    assert serve.returncode == 0
