"""``schema plan`` and ``schema apply``."""

from __future__ import annotations

import json

import click

from dynamodb.models.schema_plan import Change, SchemaPlan, apply_plan, plan_schema_flow
from dynamodb.tools.cli.common import Settings, console, fail, pass_settings

__all__ = ["register", "show_plan"]


def show_plan(plan: SchemaPlan) -> None:
    """Print the plan: one line per change, then what cannot change in place."""
    out = console()
    for table in plan.tables:
        models = ", ".join(table.models)
        if table.up_to_date:
            out.print(f"[green]=[/green] {table.table} ({models}): up to date")
            continue
        out.print(f"[bold]{table.table}[/bold] ({models}):")
        for change in table.changes:
            out.print(f"  [yellow]~[/yellow] {change.description}")
        for blocker in table.blocked:
            out.print(f"  [red]![/red] {blocker.description}")
            out.print(f"      cannot change in place: {blocker.remedy}")
    changes, blocked = len(plan.changes), len(plan.blocked)
    out.print(f"{changes} change{'s' * (changes != 1)}, {blocked} blocked")


def register(cli: click.Group) -> None:
    """Add the ``schema`` group to the root group."""

    @cli.group("schema")
    def schema() -> None:
        """Compare the models with their tables, and make the tables match.

        \b
        Examples:
          dynamodb-py --models app.models schema plan
          dynamodb-py --models app.models schema apply --yes
        """

    @schema.command("plan")
    @click.option("--json", "as_json", is_flag=True, help="The plan as JSON.")
    @click.option(
        "--check", is_flag=True, help="Exit with status 1 when anything differs (for CI)."
    )
    @pass_settings
    def plan(settings: Settings, as_json: bool, check: bool) -> None:
        """What creating or updating each model's table would change.

        Lists missing tables, global indexes to add, remove or rebuild, billing and
        capacity, Time to Live and streams, and what cannot change in place (keys,
        local indexes) with what to do instead. Sends no change.

        \b
        Examples:
          dynamodb-py --models app.models schema plan
          dynamodb-py --models app.models schema plan --json --check
        """
        models = settings.load_models()
        found = settings.connection().run(plan_schema_flow(models))
        if as_json:
            click.echo(json.dumps(found.to_dict(), indent=2))
        else:
            show_plan(found)
        if check and not found.empty:
            raise click.exceptions.Exit(1)

    @schema.command("apply")
    @click.option("--yes", "-y", is_flag=True, help="Apply without asking (for scripts).")
    @pass_settings
    def apply(settings: Settings, yes: bool) -> None:
        """Apply the plan: one change at a time, waiting for ACTIVE in between.

        Tables whose keys or local indexes differ keep those differences (the exit
        status is then 1); their other changes are applied.

        \b
        Examples:
          dynamodb-py --models app.models schema apply
          dynamodb-py --models app.models schema apply --yes
        """
        models = settings.load_models()
        connection = settings.connection()
        found = connection.run(plan_schema_flow(models))
        show_plan(found)
        if found.changes:
            if not yes:
                click.confirm("Apply these changes?", abort=True)
            out = console(err=True)
            count = len(found.changes)
            done = [0]

            def on_change(change: Change) -> None:
                done[0] += 1
                out.print(f"[{done[0]}/{count}] {change}")

            connection.run(apply_plan(found, on_change=on_change))
            console().print(f"applied {count} change{'s' * (count != 1)}")
        if found.blocked:
            raise fail(
                f"{len(found.blocked)} difference(s) cannot change in place: "
                + "; ".join(str(blocker) for blocker in found.blocked)
            )
