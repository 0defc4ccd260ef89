"""``python -m dynamodb`` / ``dynamodb-py``: the command line.

``demo`` runs without the command line's extra (the walkthrough needs only the
library); every other command needs Click and rich (``pip install
'dynamodb-py[cli]'``), and says so in one line (exit status 2) when they are
missing. The commands are in :mod:`dynamodb.tools.cli.app`, one module per
group; the work they do is in the library (schema plans, templates, export and
import, migrations), usable from Python.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["INSTALL_HINT", "USAGE", "main"]

USAGE = "usage: python -m dynamodb [demo | COMMAND ...]  (dynamodb-py --help lists the commands)"

INSTALL_HINT = (
    "dynamodb-py: the command line needs its extra: pip install 'dynamodb-py[cli]' "
    "(only `demo` runs without it)"
)


def _has_cli_extra() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("click", "rich"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit status (0 done, 1 failed, 2 bad usage)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["demo"]:
        from dynamodb.tools.demo import main as demo

        demo()
        return 0
    if not _has_cli_extra():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    from dynamodb.tools.cli.app import run

    return run(args)
