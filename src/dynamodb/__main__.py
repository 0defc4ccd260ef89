"""``python -m dynamodb demo``: a walkthrough of the main features, printing each step."""

from __future__ import annotations

import sys

from dynamodb.tools.cli import USAGE, main

__all__ = ["USAGE", "main"]

if __name__ == "__main__":
    sys.exit(main())
