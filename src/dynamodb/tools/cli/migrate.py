"""``migrate`` (run pending migrations) and ``migrate status``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from dynamodb.core.leases import TableCheckpoints
from dynamodb.models.migrations import (
    MIGRATIONS_TABLE,
    Counts,
    Migration,
    MigrationRunner,
    load_migrations,
    migration_status,
)
from dynamodb.tools.cli.common import (
    Settings,
    console,
    pass_settings,
    rate_limit_of,
    rate_limit_options,
)

__all__ = ["register"]

_PATH = click.option(
    "--path",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("migrations"),
    show_default=True,
    help="The folder of migration files (0001_name.py ...).",
)
_TABLE = click.option(
    "--table",
    default=MIGRATIONS_TABLE,
    show_default=True,
    help="The table of checkpoints and leases (created when missing).",
)


def _load(path: Path) -> list[Migration]:
    if not path.is_dir():  # checked here, not by --path: `migrate status --help` needs none
        raise click.BadParameter(f"no migrations folder {str(path)!r}", param_hint="'--path'")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return load_migrations(path)


def _counts(counts: Counts) -> str:
    return (
        f"{counts.scanned} read, {counts.upgraded} upgraded, {counts.unchanged} unchanged, "
        f"{counts.already} already done, {counts.conflicts} conflicts"
    )


def register(cli: click.Group) -> None:
    """Add the ``migrate`` group to the root group."""

    @cli.group("migrate", invoke_without_command=True)
    @_PATH
    @_TABLE
    @click.option("--dry-run", is_flag=True, help="Count what would change; write nothing.")
    @click.option(
        "--concurrency",
        type=click.IntRange(1, 256),
        default=1,
        show_default=True,
        help="Segments this worker works on at once (threads).",
    )
    @click.option(
        "--lease-seconds",
        type=click.FloatRange(1),
        default=30.0,
        show_default=True,
        help="How long a segment stays this worker's without a heartbeat.",
    )
    @click.option(
        "--page-size",
        type=click.IntRange(1, 1000),
        default=100,
        show_default=True,
        help="Items per scan page (a checkpoint after each).",
    )
    @click.option("--worker", help="This worker's name (default: host:pid:random).")
    @click.option("--no-progress", is_flag=True, help="No progress output.")
    @rate_limit_options
    @click.pass_context
    def migrate(
        ctx: click.Context,
        path: Path,
        table: str,
        dry_run: bool,
        concurrency: int,
        lease_seconds: float,
        page_size: int,
        worker: str | None,
        no_progress: bool,
        read_units: float | None,
        write_units: float | None,
    ) -> None:
        """Run the pending data migrations of a folder, in order.

        Each migration is a parallel scan plus conditional writes, checkpointed per
        segment in the migrations table: a killed run resumes where it stopped, and
        several workers (processes, machines) on one table split the segments through
        leases. Start as many as you like; each returns when every migration is done.

        \b
        Examples:
          dynamodb-py migrate --path migrations
          dynamodb-py migrate --path migrations --dry-run
          dynamodb-py migrate --path migrations --concurrency 8
          dynamodb-py migrate --path migrations --write-units-per-second 100
          dynamodb-py migrate status --path migrations
        """
        if ctx.invoked_subcommand is not None:
            return
        settings = ctx.find_object(Settings)
        assert settings is not None
        migrations = _load(path)
        connection = settings.connection()
        store = TableCheckpoints(table)
        out = console(err=True)
        states = {
            status.id: status.state
            for status in migration_status(migrations, connection, store=store)
        }
        pending = [m for m in migrations if states.get(m.id) != "applied"]
        if not pending:
            console().print(f"no pending migrations ({len(migrations)} applied)")
            return
        for migration in pending:
            out.print(
                f"{'dry run of' if dry_run else 'running'} {migration.id}"
                f"{': ' + migration.description if migration.description else ''}"
            )
            seen = Counts()

            def on_progress(page: Counts, seen: Counts = seen, name: str = migration.id) -> None:
                seen.add(page)
                if not no_progress:
                    out.print(f"  {name}: {_counts(seen)}")

            runner = MigrationRunner(
                migration,
                store=store,
                worker=worker,
                lease_seconds=lease_seconds,
                page_size=page_size,
                concurrency=concurrency,
                dry_run=dry_run,
                on_progress=on_progress,
                rate_limit=rate_limit_of(read_units, write_units),
            )
            result = runner.run(connection)
            verb = "would upgrade" if dry_run else "upgraded"
            console().print(
                f"{migration.id}: {verb} {result.counts.upgraded} of {result.counts.scanned} "
                f"items read by this worker ({_counts(result.counts)})"
            )

    @migrate.command("status")
    @_PATH
    @_TABLE
    @click.option("--json", "as_json", is_flag=True, help="The status as JSON.")
    @pass_settings
    def status(settings: Settings, path: Path, table: str, as_json: bool) -> None:
        """List applied, running and pending migrations with their counts.

        \b
        Example:
          dynamodb-py migrate status --path migrations
        """
        migrations = _load(path)
        found = migration_status(migrations, settings.connection(), store=TableCheckpoints(table))
        if as_json:
            rows = [
                {
                    "id": s.id,
                    "state": s.state,
                    "segments": s.segments,
                    "done": s.done,
                    "upgraded": s.counts.upgraded,
                    "scanned": s.counts.scanned,
                    "owners": list(s.owners),
                }
                for s in found
            ]
            click.echo(json.dumps(rows))
            return
        from rich.table import Table

        shown = Table("migration", "state", "segments", "upgraded", "read", "description")
        for s in found:
            shown.add_row(
                s.id,
                s.state,
                f"{s.done}/{s.segments}" if s.segments else "",
                str(s.counts.upgraded),
                str(s.counts.scanned),
                s.description,
            )
        console().print(shown)
