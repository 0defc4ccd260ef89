"""``python -m dynamodb`` / ``dynamodb-py``: the command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = "usage: python -m dynamodb demo"


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["demo"]:
        print(USAGE, file=sys.stderr)
        return 2
    from dynamodb.tools.demo import main as demo

    demo()
    return 0
