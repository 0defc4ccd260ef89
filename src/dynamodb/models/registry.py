"""Table models by name, so associations can name their target as a string.

Entries are weak and keyed by (module, class name): redefining a model in the
same module (a notebook cell run twice, a test module reloaded) replaces the
old entry, and a class that is gone drops out. A name is resolved in the
owner's module first, then across modules, where it must be unique (or
written ``"package.module.Class"``).
"""

from __future__ import annotations

import weakref
from typing import Any

from dynamodb.core.errors import ModelDefinitionError

__all__ = ["generation", "models_of_table", "register", "resolve"]

_MODELS: dict[tuple[str, str], weakref.ref[type[Any]]] = {}
_GENERATION = [0]


def register(model: type[Any]) -> None:
    """Record a table model (the latest definition of a name in a module wins)."""
    _MODELS[(model.__module__, model.__qualname__)] = weakref.ref(model, _forget)
    _GENERATION[0] += 1


def _forget(_: object) -> None:
    _GENERATION[0] += 1


def generation() -> int:
    """A number that changes whenever a model is registered or collected (for caches)."""
    return _GENERATION[0]


def _live(module: str | None, name: str) -> list[type[Any]]:
    return [
        model
        for model in _live_models()
        if model.__name__ == name and (module is None or model.__module__ == module)
    ]


def models_of_table(table: str) -> list[type[Any]]:
    """The live table models stored in ``table`` (for messages naming a table)."""
    found = []
    for model in _live_models():
        schema = model._meta.schema
        if schema is not None and schema.table_name == table:
            found.append(model)
    return found


def _live_models() -> list[type[Any]]:
    models = []
    for entry, ref in list(_MODELS.items()):
        model = ref()
        if model is None:
            del _MODELS[entry]
        else:
            models.append(model)
    return models


def resolve(reference: type[Any] | str, owner: type[Any] | None, label: str) -> type[Any]:
    """The model class ``reference`` names, as seen from ``owner``'s association ``label``."""
    if isinstance(reference, type):
        return reference
    where = f"{owner.__name__}.{label}" if owner is not None else label
    module, _, name = reference.rpartition(".")
    if module:
        found = _live(module, name)
    else:
        found = _live(owner.__module__, name) if owner is not None else []
        if not found:
            found = _live(None, name)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ModelDefinitionError(f"{where}: no model named {reference!r} is defined")
    modules = sorted({f"{model.__module__}.{model.__name__}" for model in found})
    raise ModelDefinitionError(
        f"{where}: several models are named {reference!r} ({', '.join(modules)}); "
        "pass the class, or its dotted path"
    )
