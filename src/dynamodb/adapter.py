"""The dynamodb-py README's import path: ``from dynamodb.adapter import Table``."""

from __future__ import annotations

from dynamodb.models.table import Table, create_table

__all__ = ["Table", "create_table"]
