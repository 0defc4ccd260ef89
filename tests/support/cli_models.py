"""Models for the command line's tests (``--models tests.support.cli_models``)."""

from __future__ import annotations

from typing import Any, ClassVar

from dynamodb import CharField, IntegerField, Model


class CliOrder(Model):
    __table_name__ = "cli_orders"
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "by_status": {"hash_key": "status", "range_key": "total", "projections": "ALL"},
    }

    customer = CharField(hash_key=True)
    number = IntegerField(range_key=True)
    status = CharField()
    total = IntegerField()
