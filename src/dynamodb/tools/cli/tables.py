"""``tables`` and ``describe MODEL_OR_TABLE``."""

from __future__ import annotations

import json
from typing import Any

import click

from dynamodb.core import operations
from dynamodb.core.errors import ResourceNotFound
from dynamodb.core.flow import Flow, call
from dynamodb.tools.cli.common import Settings, console, fail, pass_settings

__all__ = ["register"]


def _list_tables() -> Flow[list[str]]:
    names: list[str] = []
    request: dict[str, Any] = {}
    while True:
        response = yield from call("ListTables", request)
        names.extend(response.get("TableNames", []))
        last = response.get("LastEvaluatedTableName")
        if not last:
            return names
        request = {"ExclusiveStartTableName": last}


def _describe(table: str) -> Flow[dict[str, Any]]:
    description = yield from operations.describe_table(table)
    ttl = yield from operations.describe_ttl(table)
    return {**description, "TimeToLive": ttl}


def _keys(key_schema: list[dict[str, str]]) -> str:
    return ", ".join(f"{key['AttributeName']} ({key['KeyType'].lower()})" for key in key_schema)


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return str(size)  # pragma: no cover


def summary(description: dict[str, Any]) -> list[tuple[str, str]]:
    """``describe``'s rows: keys, indexes, billing, TTL, stream, item count and size."""
    types = {d["AttributeName"]: d["AttributeType"] for d in description["AttributeDefinitions"]}
    rows = [
        ("table", description["TableName"]),
        ("status", description.get("TableStatus", "?")),
        (
            "keys",
            ", ".join(
                f"{key['AttributeName']} ({key['KeyType'].lower()}, {types[key['AttributeName']]})"
                for key in description["KeySchema"]
            ),
        ),
    ]
    mode = (description.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if mode == "PROVISIONED":
        throughput = description.get("ProvisionedThroughput", {})
        mode += (
            f" ({throughput.get('ReadCapacityUnits')} read,"
            f" {throughput.get('WriteCapacityUnits')} write)"
        )
    rows.append(("billing", mode))
    for kind, key in (
        ("local index", "LocalSecondaryIndexes"),
        ("global index", "GlobalSecondaryIndexes"),
    ):
        for index in description.get(key, []):
            projection = index["Projection"]
            shown = projection["ProjectionType"]
            if projection.get("NonKeyAttributes"):
                shown += f" ({', '.join(projection['NonKeyAttributes'])})"
            status = f", {index['IndexStatus']}" if "IndexStatus" in index else ""
            rows.append(
                (kind, f"{index['IndexName']}: {_keys(index['KeySchema'])}, {shown}{status}")
            )
    ttl = description.get("TimeToLive") or {}
    status = ttl.get("TimeToLiveStatus", "DISABLED")
    rows.append(
        ("ttl", f"{status} ({ttl['AttributeName']})" if ttl.get("AttributeName") else status)
    )
    stream = description.get("StreamSpecification") or {}
    rows.append(
        ("stream", stream.get("StreamViewType", "?") if stream.get("StreamEnabled") else "off")
    )
    rows.append(("items", str(description.get("ItemCount", 0))))
    rows.append(("size", _size(int(description.get("TableSizeBytes", 0)))))
    return rows


def register(cli: click.Group) -> None:
    """Add the commands to the root group."""

    @cli.command("tables")
    @click.option("--json", "as_json", is_flag=True, help="One JSON list of names.")
    @pass_settings
    def tables(settings: Settings, as_json: bool) -> None:
        """List the tables (with --models: which models each holds).

        \b
        Example:
          dynamodb-py --endpoint-url http://localhost:8000 tables
        """
        names = settings.connection().run(_list_tables())
        models = settings.load_models(required=False) if settings.models else []
        owners: dict[str, list[str]] = {}
        for model in models:
            owners.setdefault(model._meta.table_name, []).append(model.__name__)
        if as_json:
            click.echo(json.dumps(names))
            return
        from rich.table import Table

        table = Table("table", "models")
        for name in names:
            table.add_row(name, ", ".join(owners.get(name, [])))
        for name in sorted(owners.keys() - set(names)):
            table.add_row(name, ", ".join(owners[name]) + " (missing)")
        console().print(table)

    @cli.command("describe")
    @click.argument("model_or_table")
    @click.option("--json", "as_json", is_flag=True, help="DescribeTable's answer as JSON.")
    @pass_settings
    def describe(settings: Settings, model_or_table: str, as_json: bool) -> None:
        """Describe a table: keys, indexes, billing, TTL, stream, item count and size.

        \b
        Examples:
          dynamodb-py --models app.models describe Order
          dynamodb-py describe orders --json
        """
        target = settings.target(model_or_table)
        try:
            description = settings.connection().run(_describe(target.table))
        except ResourceNotFound:
            raise fail(f"table {target.table} does not exist") from None
        if as_json:
            click.echo(json.dumps(description, default=str, indent=2))
            return
        from rich.table import Table

        table = Table(show_header=False)
        for name, value in summary(description):
            table.add_row(name, value)
        if target.model is not None:
            table.add_row("model", target.model.__name__)
        console().print(table)
