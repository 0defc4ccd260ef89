"""Migration files: ``migrations/0001_backfill_status.py`` and what they hold.

A migration file names the model whose items it changes and how::

    \"\"\"Orders get a status.\"\"\"
    from app.models import Order

    model = Order
    where = Order.status.not_exists()      # optional: a Condition, or text such as
                                           # 'not_exists(status)'
    segments = 8                           # optional: parallel scan segments

    def upgrade(item: Order) -> Order | None:
        item.status = "open"
        return item                        # None: leave the item as it is

Files are taken in the order of their names (``0001_...``, ``0002_...``); a
file's name without ``.py`` is the migration's id. Files whose names start
with ``_`` are skipped.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynamodb.core.errors import MigrationError
from dynamodb.core.expressions import Condition

__all__ = ["Migration", "load_migrations"]


@dataclass(frozen=True)
class Migration:
    """One data migration: an id, a model, an upgrade, and optionally a filter.

    ``upgrade(item)`` returns the item to write (the same instance changed, or a
    new one of the model) or None to leave it as it is. ``segments`` is the
    number of scan segments workers split (leases are per segment).
    """

    id: str
    model: type[Any]
    upgrade: Callable[[Any], Any]
    where: Condition | str | None = None
    segments: int = 16
    description: str = ""

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str) or "|" in self.id:
            raise MigrationError(f"a migration id is non-empty text without '|', not {self.id!r}")
        meta = getattr(self.model, "_meta", None)
        if meta is None or meta.schema is None:
            raise MigrationError(
                f"migration {self.id}: model must be a model class with a table, not {self.model!r}"
            )
        if not callable(self.upgrade):
            raise MigrationError(f"migration {self.id}: upgrade must be a function")
        if self.where is not None and not isinstance(self.where, (Condition, str)):
            raise MigrationError(
                f"migration {self.id}: where must be a condition or text, not {self.where!r}"
            )
        segments = self.segments
        if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
            raise MigrationError(
                f"migration {self.id}: segments must be a positive int, not {segments!r}"
            )

    def condition(self) -> Condition | None:
        """``where`` as a Condition (text is parsed against the model's fields)."""
        if isinstance(self.where, str):
            from dynamodb.models.where import parse_condition

            return parse_condition(self.model, self.where)
        return self.where


def _load_file(path: Path) -> Migration:
    name = f"dynamodb_migration_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise MigrationError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise MigrationError(f"{path}: {type(error).__name__}: {error}") from error
    for required in ("model", "upgrade"):
        if not hasattr(module, required):
            raise MigrationError(f"{path}: a migration file defines {required!r}")
    return Migration(
        id=path.stem,
        model=module.model,
        upgrade=module.upgrade,
        where=getattr(module, "where", None),
        segments=getattr(module, "segments", 16),
        description=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else "",
    )


def load_migrations(folder: str | Path) -> list[Migration]:
    """The migrations of ``folder``'s ``*.py`` files, in the order of their names."""
    root = Path(folder)
    if not root.is_dir():
        raise MigrationError(f"no migrations folder {str(root)!r}")
    files = sorted(path for path in root.glob("*.py") if not path.name.startswith("_"))
    return [_load_file(path) for path in files]
