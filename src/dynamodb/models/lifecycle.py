"""Item lifecycle: hooks, signals, automatic timestamps, expiry.

A model may define ``before_save``, ``after_save``, ``before_delete``,
``after_delete`` and ``after_load`` (plain methods, or ``async def`` for async
calls). The write and read flows run them through :func:`dynamodb.core.flow.invoke`,
so the sync driver calls them (and refuses an ``async def`` hook) and the async
driver awaits them: one code path for both. Each hook is followed by the matching
signal of :mod:`dynamodb.signals` (blinker), sent with the model class as sender
and the item as ``item``, when anything listens.

A ``before_`` hook that raises leaves the item as it was (its fields are put back)
and nothing is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import blinker

from dynamodb.core.expressions import AttributeNotExists, Comparison, Condition, Or
from dynamodb.core.flow import Flow, invoke

if TYPE_CHECKING:
    from dynamodb.models.fields import Field
    from dynamodb.models.model import Model
    from dynamodb.models.options import ModelOptions

__all__ = [
    "HOOKS",
    "after_delete",
    "after_load",
    "after_save",
    "before_delete",
    "before_save",
    "defined_hooks",
    "now",
    "post_delete",
    "post_load",
    "post_save",
    "pre_delete",
    "pre_save",
    "stamp",
    "unexpired",
]

HOOKS = ("before_save", "after_save", "before_delete", "after_delete", "after_load")
"""The hook methods a model may define."""

_signals = blinker.Namespace()
pre_save = _signals.signal("pre_save", doc="Sent before an item is written (sender: its class).")
post_save = _signals.signal("post_save", doc="Sent after an item was written.")
pre_delete = _signals.signal("pre_delete", doc="Sent before an item is deleted.")
post_delete = _signals.signal("post_delete", doc="Sent after an item was deleted.")
post_load = _signals.signal("post_load", doc="Sent for each item a read built.")

_SIGNALS = {
    "before_save": pre_save,
    "after_save": post_save,
    "before_delete": pre_delete,
    "after_delete": post_delete,
    "after_load": post_load,
}


def defined_hooks(model: type[Any], base: type[Any] | None) -> frozenset[str]:
    """The hooks ``model`` defines (``base``, the library's Model, defines them empty)."""
    if base is None:
        return frozenset()
    return frozenset(name for name in HOOKS if getattr(model, name) is not getattr(base, name))


def _wanted(name: str, item: Model) -> bool:
    """Whether anything runs for hook ``name`` of ``item``: the model's hook or a receiver."""
    return name in type(item)._meta.hooks or bool(_SIGNALS[name].receivers)


def _run(name: str, item: Model) -> Flow[None]:
    cls = type(item)
    if name in cls._meta.hooks:
        yield from invoke(getattr(item, name), label=f"{cls.__name__}.{name}")
    signal = _SIGNALS[name]
    if signal.receivers:
        signal.send(cls, item=item)


def _guarded(name: str, item: Model) -> Flow[None]:
    """A ``before_`` hook: if it (or a signal receiver) raises, the item is put back."""
    if not _wanted(name, item):
        return  # nothing to run: no copy of the item on every write
    data = dict(item._data)
    try:
        yield from _run(name, item)
    except BaseException:
        item.__dict__["_data"] = data
        raise


def before_save(items: Iterable[Model]) -> Flow[None]:
    """Run ``before_save`` and ``pre_save`` for each item (all before anything is sent)."""
    for item in items:
        yield from _guarded("before_save", item)


def after_save(items: Iterable[Model]) -> Flow[None]:
    """Run ``after_save`` and ``post_save`` for each item written."""
    for item in items:
        yield from _run("after_save", item)


def before_delete(items: Iterable[Model]) -> Flow[None]:
    """Run ``before_delete`` and ``pre_delete`` for each item."""
    for item in items:
        yield from _guarded("before_delete", item)


def after_delete(items: Iterable[Model]) -> Flow[None]:
    """Run ``after_delete`` and ``post_delete`` for each item deleted."""
    for item in items:
        yield from _run("after_delete", item)


def after_load(items: Iterable[Any]) -> Flow[None]:
    """Run ``after_load`` and ``post_load`` for each item a read built."""
    for item in items:
        if item is not None and _wanted("after_load", item):
            yield from _run("after_load", item)


def unexpired(meta: ModelOptions) -> Condition | None:
    """The filter that leaves out items past the model's TTLField time (None: no TTL)."""
    field = meta.ttl_field
    if field is None:
        return None
    when = field.to_wire(field.convert(now()))
    return Or((AttributeNotExists(field.path), Comparison(field.path, "gt", when)))


def now() -> dt.datetime:
    """The time automatic timestamps take: aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def stamp(item: Model, when: dt.datetime, created: bool) -> None:
    """Set ``item``'s automatic timestamps for a write at ``when``: every ``auto_now``
    field, and each ``auto_now_add`` field still empty when the item is ``created``."""
    data = item._data
    for field in type(item)._meta.auto_now:
        data[field.attr] = when
    if created:
        for field in type(item)._meta.auto_now_add:
            if data.get(field.attr) is None:
                data[field.attr] = when


Stamped = tuple["Field[Any]", ...]


def stamp_fields(fields: Iterable[Field[Any]]) -> tuple[Stamped, Stamped]:
    """(auto_now fields, auto_now_add fields) of a model."""
    listed = list(fields)
    return (
        tuple(field for field in listed if getattr(field, "auto_now", False)),
        tuple(field for field in listed if getattr(field, "auto_now_add", False)),
    )
