"""Key templates: attributes built from other attributes (``"ORDER#{created_at}#{order_id}"``).

Single-table design stores several kinds of items in one table under overloaded
keys. A template is literal text with ``{part}`` placeholders, each naming
another attribute of the item, optionally with a Python format spec
(``"{n:08d}"``, so numbers sort). This module is pure: it parses templates,
renders them from part values given as text, and turns conditions on parts into
conditions on the templated attribute (what a query's key condition needs).
Which text a part value becomes (a field's stored form, or ``format(value, spec)``)
is the model layer's business; here parts are already text.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import ModelDefinitionError

__all__ = ["HIGHEST", "BoundTemplate", "KeyTemplate", "PartText", "TemplatePart"]

HIGHEST = "\U0010ffff"
"""The highest code point: appended to a prefix, it bounds every string that starts with it
(DynamoDB compares strings by their UTF-8 bytes, in which this sorts last)."""


@dataclass(frozen=True, slots=True)
class TemplatePart:
    """One placeholder: the part's name, its format spec ('' for none), and the literal
    text before it."""

    literal: str
    name: str
    spec: str


@dataclass(frozen=True, slots=True)
class KeyTemplate:
    """A parsed template: placeholders in order, and the literal text after the last one."""

    source: str
    parts: tuple[TemplatePart, ...]
    tail: str

    @classmethod
    def parse(cls, source: str, owner: str) -> KeyTemplate:
        """Parse ``source``; ModelDefinitionError (naming ``owner``) if it is not a template."""
        if not isinstance(source, str) or not source:
            raise ModelDefinitionError(f"{owner}: template must be a non-empty str, not {source!r}")
        parts: list[TemplatePart] = []
        pending = ""
        try:
            parsed = list(string.Formatter().parse(source))
        except ValueError as error:
            raise ModelDefinitionError(f"{owner}: template {source!r}: {error}") from None
        for literal, name, spec, conversion in parsed:
            pending += literal
            if name is None:
                continue
            if not name.isidentifier():
                raise ModelDefinitionError(
                    f"{owner}: template {source!r}: {{{name}}} must name a field "
                    "(no indexes, attributes or empty braces)"
                )
            if conversion is not None:
                raise ModelDefinitionError(
                    f"{owner}: template {source!r}: {{{name}!{conversion}}}: conversions are "
                    "not allowed (use a format spec such as {n:08d})"
                )
            if "{" in (spec or ""):
                raise ModelDefinitionError(
                    f"{owner}: template {source!r}: nested fields in a format spec are not allowed"
                )
            parts.append(TemplatePart(pending, name, spec or ""))
            pending = ""
        names = [part.name for part in parts]
        if len(set(names)) != len(names):
            raise ModelDefinitionError(f"{owner}: template {source!r} names a part twice")
        return cls(source, tuple(parts), pending)

    @property
    def names(self) -> tuple[str, ...]:
        """The parts' names, in order."""
        return tuple(part.name for part in self.parts)

    @property
    def prefix(self) -> str:
        """The literal text before the first part (all of it for a constant template)."""
        return self.parts[0].literal if self.parts else self.tail

    def render(self, texts: Mapping[str, str]) -> str:
        """The attribute's value from every part's text (KeyError if one is missing)."""
        return "".join(part.literal + texts[part.name] for part in self.parts) + self.tail

    def bound_prefix(self, texts: Mapping[str, str]) -> tuple[str, int]:
        """The longest known start of the value, given the parts in ``texts``, and how
        many leading parts it covers: ``ORDER#{a}#{b}`` with ``a`` known gives
        ``("ORDER#<a>#", 1)``; with nothing known, ``("ORDER#", 0)``."""
        out = ""
        for number, part in enumerate(self.parts):
            out += part.literal
            if part.name not in texts:
                return out, number
            out += texts[part.name]
        return out + self.tail, len(self.parts)


PartText = Callable[[str, AttributeValue], str]
"""``text(part name, stored value of the part) -> the part's text in the template``."""


@dataclass(frozen=True, slots=True)
class BoundTemplate:
    """A template whose parts are attributes of one model.

    ``attributes`` maps each part's stored (DynamoDB) attribute name to the part's
    name; ``text`` gives a part's text from its stored value (the model layer
    supplies it: a field's stored form, or its format spec applied to the value).
    The planner reads conditions on part attributes through this.
    """

    template: KeyTemplate
    attributes: Mapping[str, str]
    text: PartText

    def part_of(self, attribute: str) -> str | None:
        """The part stored as ``attribute``, or None."""
        return self.attributes.get(attribute)
