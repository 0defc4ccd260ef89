"""The original import path of tables: ``from dynamodb.table import Table``."""

from __future__ import annotations

from dynamodb.models.table import Table, acreate_table, adelete_table, create_table, delete_table

__all__ = ["Table", "acreate_table", "adelete_table", "create_table", "delete_table"]
