"""Condition text on a model: ``parse_condition(Order, 'status = "open" and total > 10')``.

The parser is :mod:`dynamodb.core.where` (safe: a tokenizer and a recursive
descent, never ``eval``); names are the model's fields, by Python name or stored
name, and paths go inside them (``info.rating``, ``tags[0]``). Values are
encoded by the fields, as ``Order.total.gt(10)`` encodes them.
"""

from __future__ import annotations

from typing import Any

from dynamodb.core.errors import UnknownField
from dynamodb.core.expressions import Condition
from dynamodb.core.where import Operand, parse_where

__all__ = ["parse_condition"]


def parse_condition(model: type[Any], text: str) -> Condition:
    """The condition ``text`` describes on ``model``'s fields.

    UnknownField names a field the model does not have; WhereSyntaxError shows
    where the text stops making sense.
    """
    meta = model._meta
    by_stored = {field.name: field for field in meta.fields.values()}

    def resolve(name: str) -> Operand:
        field = meta.fields.get(name) or by_stored.get(name)
        if field is None:
            problem = f"{model.__name__}: the condition {text!r} names an unknown field {name!r}"
            raise UnknownField(meta.unknown_fields(problem, [name]))
        return field  # type: ignore[no-any-return]

    return parse_where(text, resolve)
