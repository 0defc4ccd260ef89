"""``query MODEL`` and ``scan MODEL``: through the planner, as a table or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import click

from dynamodb.core.errors import NoIndexForQuery
from dynamodb.core.expressions import Condition
from dynamodb.models.fields import BooleanField, DecimalField, FloatField, IntegerField
from dynamodb.models.model import Model
from dynamodb.models.where import parse_condition
from dynamodb.tools.cli.common import Settings, console, pass_settings

__all__ = ["eq_condition", "register"]


def eq_condition(model: type[Model], text: str) -> Condition:
    """``field=value`` as ``Model.field == value`` (the value read as the field's type)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.UsageError(f"--eq takes field=value, not {text!r}")
    meta = model._meta
    field = meta.fields.get(name) or meta.fields_by_name.get(name)
    if field is None:
        known = ", ".join(meta.fields)
        raise click.UsageError(f"--eq {text!r}: {model.__name__} has no field {name!r} ({known})")
    typed: Any = value
    try:
        if isinstance(field, IntegerField):
            typed = int(value)
        elif isinstance(field, (FloatField, DecimalField)):
            typed = field.read_son(value)
        elif isinstance(field, BooleanField):
            typed = {"true": True, "false": False}[value.lower()]
        else:
            typed = field.read_son(value)
    except (ValueError, KeyError, TypeError) as error:
        raise click.UsageError(f"--eq {text!r}: not a value of {name}: {error}") from None
    return field.eq(typed)


def _conditions(model: type[Model], eqs: Iterable[str], where: str | None) -> list[Condition]:
    conditions = [eq_condition(model, text) for text in eqs]
    if where:
        try:
            conditions.append(parse_condition(model, where))
        except ValueError as error:  # WhereSyntaxError, UnknownField ... are bad usage
            raise click.UsageError(str(error)) from None
        except TypeError as error:
            raise click.UsageError(str(error)) from None
    return conditions


def _print(items: Iterable[Model], model: type[Model], output: str) -> int:
    count = 0
    if output == "json":
        for item in items:
            click.echo(json.dumps(item.to_son(), default=str))
            count += 1
        return count
    from rich.table import Table

    columns = list(model._meta.fields)
    table = Table(*columns)
    for item in items:
        son = item.to_son()
        table.add_row(
            *[
                ""
                if son.get(c) is None
                else json.dumps(son[c], default=str)
                if isinstance(son[c], (dict, list))
                else str(son[c])
                for c in columns
            ]
        )
        count += 1
    console().print(table)
    return count


_OUTPUT = click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table, or one JSON object (to_son()) per line.",
)
_WHERE = click.option("--where", help="A condition: 'status = \"open\" and total > 10'.")
_LIMIT = click.option("--limit", type=click.IntRange(1), help="At most this many items.")


def register(cli: click.Group) -> None:
    """Add ``query`` and ``scan`` to the root group."""

    @cli.command("query")
    @click.argument("model_name", metavar="MODEL")
    @click.option(
        "--eq",
        "eqs",
        multiple=True,
        metavar="FIELD=VALUE",
        help="An equality (repeatable); the hash key of the table or an index.",
    )
    @_WHERE
    @_LIMIT
    @click.option("--index", help="The index to read (default: the planner chooses).")
    @click.option("--desc", is_flag=True, help="Descending range key order.")
    @click.option("--explain", is_flag=True, help="Print the request instead of sending it.")
    @_OUTPUT
    @pass_settings
    def query(
        settings: Settings,
        model_name: str,
        eqs: tuple[str, ...],
        where: str | None,
        limit: int | None,
        index: str | None,
        desc: bool,
        explain: bool,
        output: str,
    ) -> None:
        """Query a model's table or index; the planner picks the index from the conditions.

        \b
        Examples:
          dynamodb-py --models app.models query Order --eq customer=c1
          dynamodb-py --models app.models query Order --eq customer=c1 \\
              --where 'status = "open" and total > 10' --limit 20 --output json
        """
        model = settings.model(model_name)
        built = model.query().where(*_conditions(model, eqs, where)).using(settings.connection())
        if index is not None or desc:
            built = built.use_index(index, asc=not desc)
        if limit is not None:
            built = built.limit(limit)
        try:
            if explain:
                click.echo(json.dumps(built.explain(), default=str, indent=2))
                return
            _print(built, model, output)
        except NoIndexForQuery as error:  # the conditions name no key: bad usage
            raise click.UsageError(str(error)) from error

    @cli.command("scan")
    @click.argument("model_name", metavar="MODEL")
    @_WHERE
    @_LIMIT
    @click.option(
        "--segments",
        type=click.IntRange(1, 1000),
        default=1,
        show_default=True,
        help="Parallel scan segments.",
    )
    @_OUTPUT
    @pass_settings
    def scan(
        settings: Settings,
        model_name: str,
        where: str | None,
        limit: int | None,
        segments: int,
        output: str,
    ) -> None:
        """Scan a model's table, with a filter.

        \b
        Examples:
          dynamodb-py --models app.models scan Order --where 'total > 100' --limit 10
          dynamodb-py --models app.models scan Order --segments 4 --output json
        """
        model = settings.model(model_name)
        built = model.scan(segments=segments).using(settings.connection())
        conditions = _conditions(model, (), where)
        if conditions:
            built = built.where(*conditions)
        if limit is not None:
            built = built.limit(limit)
        _print(built, model, output)
