"""``python -m dynamodb demo``: the walkthrough of both seed documents."""

from __future__ import annotations

import sys

from dynamodb.tools.cli import USAGE, main

__all__ = ["USAGE", "main"]

if __name__ == "__main__":
    sys.exit(main())
