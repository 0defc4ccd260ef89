"""What the commands share: settings, the connection, models, errors, output."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import click

from dynamodb.core.errors import DynamoDBError
from dynamodb.core.ratelimit import RateLimit
from dynamodb.models.model import Model
from dynamodb.models.registry import _live_models
from dynamodb.wire.connection import Connection

__all__ = ["Settings", "Target", "fail", "pass_settings", "rate_limit_of", "rate_limit_options"]


_UNITS = click.FloatRange(min=0, min_open=True)

F = Callable[..., Any]


def rate_limit_options(command: F) -> F:
    """``--read-units-per-second`` and ``--write-units-per-second``: a command's
    :class:`~dynamodb.RateLimit` (give them to :func:`rate_limit_of`)."""
    for kind in ("write", "read"):
        command = click.option(
            f"--{kind}-units-per-second",
            f"{kind}_units",
            type=_UNITS,
            default=None,
            help=f"Hold the command to this many {kind} capacity units a second (all threads).",
        )(command)
    return command


def rate_limit_of(read_units: float | None, write_units: float | None) -> RateLimit | None:
    """The rate limit the options name, or None when neither was given."""
    if read_units is None and write_units is None:
        return None
    return RateLimit(read_units_per_second=read_units, write_units_per_second=write_units)


def fail(message: str) -> click.ClickException:
    """An operation that failed (exit status 1), said in one line."""
    return click.ClickException(message)


@dataclass
class Settings:
    """The root options: connection settings, models, debug."""

    models: tuple[str, ...] = ()
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    table_prefix: str = ""
    debug: bool = False
    _connection: Connection | None = field(default=None, repr=False)
    _loaded: list[type[Model]] | None = field(default=None, repr=False)

    def connection(self) -> Connection:
        """The connection, made once from the options (``DYNAMODB_ENDPOINT`` as endpoint)."""
        if self._connection is None:
            if self.models:  # a bad --models is bad usage, said before anything is sent
                self.load_models(required=False)
            options: dict[str, Any] = {"table_prefix": self.table_prefix}
            if self.profile:
                options["profile_name"] = self.profile
            region = self.region
            if region is None and self.endpoint_url and not _configured_region():
                region = "us-east-1"  # a local endpoint needs one, and any will do
            self._connection = Connection(
                endpoint_url=self.endpoint_url, region_name=region, **options
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    def load_models(self, required: bool = True) -> list[type[Model]]:
        """The table models of the ``--models`` modules (and their submodules)."""
        if self._loaded is None:
            if not self.models and required:
                raise click.UsageError("give the models' module with --models (e.g. app.models)")
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            names: list[str] = []
            for module_name in self.models:
                names.extend(_import_tree(module_name))
            self._loaded = [
                model
                for model in _live_models()
                if model.__module__ in names and model._meta.schema is not None
            ]
            self._loaded.sort(key=lambda model: (model.__module__, model.__name__))
            if required and not self._loaded:
                raise click.UsageError(f"no table models found in {', '.join(self.models)}")
        return self._loaded

    def model(self, name: str) -> type[Model]:
        """The model called ``name`` (class name, or module.Class)."""
        found = [
            model
            for model in self.load_models()
            if name in (model.__name__, f"{model.__module__}.{model.__name__}")
        ]
        if len(found) != 1:
            known = ", ".join(model.__name__ for model in self.load_models())
            what = "no" if not found else "more than one"
            raise click.UsageError(f"{what} model named {name!r} (models: {known})")
        return found[0]

    def target(self, name: str) -> Target:
        """A model by name, else a table by name (with its model when one model owns it)."""
        models = self.load_models(required=False) if self.models else []
        for model in models:
            if name in (model.__name__, f"{model.__module__}.{model.__name__}"):
                return Target(model._meta.table_name, model)
        owners = [model for model in models if model._meta.table_name == name]
        return Target(name, owners[0] if len(owners) == 1 else None)


@dataclass(frozen=True)
class Target:
    """A table, and the model whose items it holds (None: a table without a model)."""

    table: str
    model: type[Model] | None


def _configured_region() -> bool:
    return bool(os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"))


def _import_tree(module_name: str) -> Iterator[str]:
    module = _import(module_name, module_name)
    yield module.__name__
    path = getattr(module, "__path__", None)
    if path is not None:
        for info in pkgutil.walk_packages(path, module.__name__ + "."):
            yield _import(info.name, module_name).__name__


def _import(name: str, given: str) -> Any:
    """The module ``name`` (of ``--models given``); an ImportError is bad usage."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        within = "" if name == given else f" (in {name})"
        raise click.UsageError(
            f"cannot import --models {given}{within}: {one_line(error)}"
        ) from error


pass_settings = click.make_pass_decorator(Settings)


def one_line(error: BaseException) -> str:
    """An error as one line: its class and its message's first line."""
    text = str(error).strip().splitlines()
    message = text[0] if text else ""
    kind = type(error).__name__
    if isinstance(error, DynamoDBError):
        return f"{kind}: {message}" if message else kind
    return f"{kind}: {message}" if message else kind


def console(err: bool = False) -> Any:
    """A rich Console on stdout (or stderr) as it is now (so test runners capture it)."""
    from rich.console import Console

    return Console(file=sys.stderr if err else sys.stdout, soft_wrap=True, highlight=False)


def progress(total: int | None, label: str, enabled: bool = True) -> Any:
    """A rich progress bar on stderr (a no-op when ``enabled`` is False)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(err=True),
        disable=not enabled,
        transient=False,
    )
    bar.add_task(label, total=total)
    return bar
