"""The annotated style: ``Typed``, the marker that gives a model a checked constructor.

``class Test(Model, Typed)`` with fields declared as ``score: IntegerField =
IntegerField(range_key=True)`` is a PEP 681 ``dataclass_transform`` class for type
checkers: mypy and pyright synthesise ``__init__`` from the annotated fields, one
keyword parameter per field, typed by the field's ``__set__`` (``int | None`` for an
``IntegerField``). Nothing changes at run time: ``Typed`` is an empty class, and the
model's metaclass reads the fields as it reads seed-style ``score = IntegerField()``.

Why a marker and not ``Model`` itself: a transform counts only annotated attributes
as fields, so on ``Model`` it would make pyright reject every seed-style model's
``Test(name=...)`` (its synthesised ``__init__`` would take no fields). The marker
keeps the two styles apart: seed-style models keep ``Model.__init__(**values: Any)``.

No field specifiers are declared, on purpose: a field object on the right-hand side
is then the parameter's default for the checkers, so every field is an optional
keyword argument, as it is at run time (``Test()`` is a valid, empty item; a missing
required field is refused when the item is written).
"""

from __future__ import annotations

from dynamodb.core.compat import dataclass_transform

__all__ = ["Typed"]


@dataclass_transform(kw_only_default=True, eq_default=False)
class Typed:
    """Mix into a model for a constructor that type checkers check: ``class Test(Model, Typed)``.

    Declare each field with its field type as annotation, ``name: CharField =
    CharField(hash_key=True)``; then ``Test(name="a", score=1)``, ``Test.create(...)``
    and ``Test.get(...)`` are checked by mypy and pyright (names and value types).
    Works with :class:`~dynamodb.MapModel` and with abstract bases (declare their fields
    annotated too). Any other annotated attribute of such a model would count as a
    constructor parameter: annotate class-level settings with ``ClassVar``.
    """

    __slots__ = ()
