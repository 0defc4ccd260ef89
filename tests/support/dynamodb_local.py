"""DynamoDB Local for this repository: :mod:`dynamodb.testing.dynamodb_local`, cached in the clone.

The library's launcher, with the repository's cache folder as the default
(``$DYNAMODB_LOCAL_CACHE``, else ``<repo root>/.cache/dynamodb-local``), which
``make dynamodb-local`` fills. Command line, from the repository root::

    python -m tests.support.dynamodb_local install
    python -m tests.support.dynamodb_local serve [--port N]   # default 8000; 0: a free port
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dynamodb.testing import dynamodb_local as _launcher
from dynamodb.testing.dynamodb_local import (
    DEFAULT_SERVE_PORT,
    DYNAMODB_LOCAL_VERSION,
    DynamoDBLocalError,
    ToolNotFoundError,
    free_port,
)

__all__ = [
    "DEFAULT_SERVE_PORT",
    "DYNAMODB_LOCAL_VERSION",
    "DynamoDBLocal",
    "DynamoDBLocalError",
    "ToolNotFoundError",
    "build_parser",
    "cache_dir",
    "ensure_installed",
    "free_port",
    "main",
]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_PROG = "python -m tests.support.dynamodb_local"


def cache_dir() -> Path:
    """``$DYNAMODB_LOCAL_CACHE`` if set, else ``<repo root>/.cache/dynamodb-local``."""
    configured = os.environ.get("DYNAMODB_LOCAL_CACHE")
    if configured:
        return Path(configured).expanduser().resolve()
    return _REPO_ROOT / ".cache" / "dynamodb-local"


def ensure_installed(cache: Path | None = None) -> Path:
    """:func:`dynamodb.testing.dynamodb_local.ensure_installed`, in the repository's cache."""
    return _launcher.ensure_installed(cache if cache is not None else cache_dir())


class DynamoDBLocal(_launcher.DynamoDBLocal):
    """:class:`dynamodb.testing.dynamodb_local.DynamoDBLocal`, in the repository's cache."""

    def __init__(self, port: int | None = None, cache: Path | None = None) -> None:
        super().__init__(port=port, cache=cache if cache is not None else cache_dir())


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: ``install`` and ``serve [--port N]``."""
    return _launcher.build_parser(_PROG)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the process exit code."""
    return _launcher.main(argv, cache=cache_dir(), prog=_PROG)


if __name__ == "__main__":
    sys.exit(main())
