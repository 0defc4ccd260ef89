"""The log canary: a value no log line of the test suite may hold.

``tests/conftest.py`` puts a handler on the ``"dynamodb"`` logger at DEBUG for the
whole session and fails the session if a formatted record (its message, its
fields, its traceback) holds :data:`CANARY`. ``tests/integration/test_log_canary.py``
runs a workload whose keys, items, conditions and errors carry it.
"""

from __future__ import annotations

import logging

__all__ = ["CANARY", "LeakCatcher"]

CANARY = "zq-canary-7d41f0"
"""Found in the canary workload's values, and nowhere else."""


class LeakCatcher(logging.Handler):
    """Notes every record whose formatted text holds :data:`CANARY`."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += 1
        text = self.format(record) + repr(getattr(record, "dynamodb", ""))
        if CANARY in text:
            self.leaks.append(f"{record.name} {record.levelname}: {text[:500]}")
