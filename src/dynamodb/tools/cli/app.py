"""The root command: connection options, ``--models``, ``--debug``, exit statuses."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from dynamodb.tools.cli import infra, migrate, reading, schema, tables, transfer
from dynamodb.tools.cli.common import Settings, one_line

__all__ = ["cli", "run"]


class _App(click.Group):
    """Turns an error raised by a command into one line and exit status 1 (2: bad usage);
    ``--debug`` adds the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.ClickException as error:
            settings = ctx.find_object(Settings)
            cause = error.__cause__ or error.__context__
            if settings is not None and settings.debug and cause is not None:
                click.echo("".join(traceback.format_exception(cause)), err=True, nl=False)
            raise
        except Exception as error:
            settings = ctx.find_object(Settings)
            if settings is not None and settings.debug:
                click.echo(traceback.format_exc(), err=True, nl=False)
            raise click.ClickException(one_line(error)) from error
        finally:
            settings = ctx.find_object(Settings)
            if settings is not None:
                settings.close()


EXAMPLES = """
\b
Examples:
  dynamodb-py --models app.models tables
  dynamodb-py --models app.models schema plan
  dynamodb-py --models app.models schema apply --yes
  dynamodb-py --models app.models export Order --format ddb-json --out orders.jsonl
  dynamodb-py --models app.models import orders.jsonl Order
  dynamodb-py --models app.models query Order --eq customer=c1 --where 'total > 10'
  dynamodb-py --models app.models infra --format cloudformation > tables.json
  dynamodb-py --models app.models migrate --path migrations
"""


@click.group(cls=_App, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--models",
    "models",
    multiple=True,
    metavar="MODULE",
    help="A module or package holding the models (imported; repeatable).",
)
@click.option(
    "--endpoint-url",
    envvar="DYNAMODB_ENDPOINT",
    help="DynamoDB's endpoint (default: $DYNAMODB_ENDPOINT, else AWS's for the region).",
)
@click.option(
    "--region",
    help="The AWS region (default: your AWS configuration's; us-east-1 with an endpoint URL).",
)
@click.option("--profile", help="The AWS profile of the credentials.")
@click.option("--table-prefix", default="", help="Prefix added to every table name.")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="dynamodb-py", message="dynamodb-py %(version)s")
@click.pass_context
def cli(
    ctx: click.Context,
    models: tuple[str, ...],
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    table_prefix: str,
    debug: bool,
) -> None:
    """dynamodb-py: tables, schema plans, export and import, queries, infrastructure
    templates and data migrations for the models of an application."""
    ctx.obj = Settings(models, endpoint_url, region, profile, table_prefix, debug)


@cli.command()
def demo() -> None:
    """Run the walkthrough of the library's features (on moto's in-process server).

    \b
    Example:
      dynamodb-py demo
    """
    from dynamodb.tools.demo import main as run_demo

    run_demo()


for module in (tables, schema, transfer, reading, infra, migrate):
    module.register(cli)


def _set_root_option(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A root option given after the command: it sets the root's setting too."""
    settings = ctx.find_object(Settings)
    if settings is None or value in (None, (), False) or param.name is None:
        return
    if param.name == "models":
        settings.models = (*settings.models, *value)
    else:
        setattr(settings, param.name, value)


def _root_options() -> list[click.Parameter]:
    """The root group's options (but --version), for its commands: ``infra --models m``."""
    copies: list[click.Parameter] = []
    for option in cli.params:
        if not isinstance(option, click.Option) or option.name in (None, "version", "help"):
            continue
        copies.append(
            click.Option(
                option.opts,
                option.name,
                multiple=option.multiple,
                is_flag=option.is_flag,
                metavar=option.metavar,
                default=() if option.multiple else False if option.is_flag else None,
                expose_value=False,
                callback=_set_root_option,
                help=f"{option.help} (also before the command)",
            )
        )
    return copies


def _accept_root_options(group: click.Group) -> None:
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _accept_root_options(command)
        if command.callback is not None:
            command.params.extend(_root_options())


_accept_root_options(cli)


def run(args: Sequence[str]) -> int:
    """Run the command line with ``args``; the exit status."""
    try:
        cli.main(list(args), prog_name="dynamodb-py", standalone_mode=False)
    except click.exceptions.Exit as stop:
        return int(stop.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as error:
        error.show(file=sys.stderr)
        return error.exit_code
    return 0
