"""``export`` and ``import``."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import IO, Any

import click

from dynamodb.core import operations
from dynamodb.core.errors import ResourceNotFound
from dynamodb.models.transfer import (
    FORMATS,
    export_items,
    format_of,
    import_items,
    open_file,
    read_lines,
)
from dynamodb.tools.cli.common import (
    Settings,
    console,
    fail,
    pass_settings,
    progress,
    rate_limit_of,
    rate_limit_options,
)

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add ``export`` and ``import`` to the root group."""

    @cli.command("export")
    @click.argument("table_or_model")
    @click.option(
        "--format",
        "format_",
        type=click.Choice(FORMATS),
        default="ddb-json",
        show_default=True,
        help="ddb-json: DynamoDB JSON lines (the S3 export format); json: to_son() lines; csv.",
    )
    @click.option(
        "--segments",
        type=click.IntRange(1, 1000),
        default=4,
        show_default=True,
        help="Parallel scan segments (one thread each).",
    )
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The file to write (default: standard output); *.gz is gzipped.",
    )
    @click.option("--no-progress", is_flag=True, help="No progress bar.")
    @rate_limit_options
    @pass_settings
    def export(
        settings: Settings,
        table_or_model: str,
        format_: str,
        segments: int,
        out: Path | None,
        no_progress: bool,
        read_units: float | None,
        write_units: float | None,
    ) -> None:
        """Export every item of a table (or of a model's entity) to a file.

        \b
        Examples:
          dynamodb-py --models app.models export Order --out orders.jsonl
          dynamodb-py export orders --format ddb-json --segments 8 > orders.jsonl
          dynamodb-py --models app.models export Order --format csv --out orders.csv
          dynamodb-py export orders --read-units-per-second 500 > orders.jsonl
          dynamodb-py export orders --out orders.json.gz
        """
        target = settings.target(table_or_model)
        if format_ != "ddb-json" and target.model is None:
            raise click.UsageError(
                f"--format {format_} needs a model: give --models and the model's name"
            )
        connection = settings.connection()
        try:
            description = connection.run(operations.describe_table(target.table))
        except ResourceNotFound:
            raise fail(f"table {target.table} does not exist") from None
        with contextlib.ExitStack() as stack:
            stream: IO[str] = (
                sys.stdout if out is None else stack.enter_context(open_file(out, "w"))
            )
            bar = stack.enter_context(
                progress(
                    int(description.get("ItemCount", 0)) or None,
                    f"export {target.table}",
                    enabled=not no_progress,
                )
            )
            task = bar.task_ids[0]
            result = export_items(
                connection,
                target.table,
                stream,
                format=format_,
                model=target.model,
                segments=segments,
                on_items=lambda count: bar.advance(task, count),
                rate_limit=rate_limit_of(read_units, write_units),
            )
        console(err=True).print(f"exported {result.items} items from {result.table}")

    @cli.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.argument("table_or_model")
    @click.option(
        "--format",
        "format_",
        type=click.Choice(FORMATS),
        default=None,
        help="The file's format (default: csv for *.csv, else ddb-json; *.gz is gunzipped).",
    )
    @click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=4,
        show_default=True,
        help="Batch chunks in flight.",
    )
    @click.option("--no-progress", is_flag=True, help="No progress bar.")
    @rate_limit_options
    @pass_settings
    def import_(
        settings: Settings,
        file: Path,
        table_or_model: str,
        format_: str | None,
        concurrency: int,
        no_progress: bool,
        read_units: float | None,
        write_units: float | None,
    ) -> None:
        """Import a file's items into a table with batch writes (and the library's retries).

        Items already stored as they are in the file are skipped, so a rerun after a
        crash writes only what is missing and reports what it skipped.

        \b
        Examples:
          dynamodb-py import orders.jsonl orders
          dynamodb-py --models app.models import orders.json Order --format json
          dynamodb-py import orders.jsonl orders --write-units-per-second 200
          dynamodb-py import AWSDynamoDB/01234/data/abcd.json.gz orders   # an S3 export
        """
        target = settings.target(table_or_model)
        chosen = format_ or format_of(file)
        if chosen != "ddb-json" and target.model is None:
            raise click.UsageError(f"--format {chosen} needs a model: give --models and its name")
        with open_file(file) as counting:
            lines = sum(1 for line in counting if line.strip()) - (chosen == "csv")
        connection = settings.connection()
        with (
            open_file(file) as source,
            progress(lines, f"import {target.table}", enabled=not no_progress) as bar,
        ):
            task = bar.task_ids[0]
            items: Any = read_lines(source, chosen, target.model)
            try:
                result = import_items(
                    connection,
                    target.table,
                    items,
                    concurrency=concurrency,
                    on_items=lambda count: bar.advance(task, count),
                    rate_limit=rate_limit_of(read_units, write_units),
                )
            except ResourceNotFound:
                raise fail(f"table {target.table} does not exist") from None
        console(err=True).print(
            f"imported {result.written} items into {result.table}, skipped {result.skipped} "
            f"already stored (read {result.read})"
        )
