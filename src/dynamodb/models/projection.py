"""Projections: what a read asks for, what a partial item holds, and how it is saved.

``Movies.query(Movies.title, Movies.info["genres"], Movies.info["actors"][0])``
reads fields and nested paths only. :func:`projection_of` checks what was given
and makes a :class:`Projection`: the document paths to read, without repeats or
overlaps. The key (and the version field, so the item can still be written) is
always read along. An item read that way remembers its projection
(``item._projection``): it holds only what was read, and

- a dirty save sends only the changes. Attributes that were not read are never
  removed, and an attribute read in part (``info.genres``) is changed at the
  paths that were read (:func:`nested_changes`), so the rest of it is kept;
- writing it whole (``save(full=True)``, a put in a batch or transaction) is
  refused with :class:`PartialItemError`, since it would drop what was not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from dynamodb.core.codec import AttributeValue, wire_equal
from dynamodb.core.errors import PartialItemError, ProjectionError
from dynamodb.core.expressions import Path, PathElement, Placeholders, parse_path
from dynamodb.core.updates import UpdateAction, UpdatePlan
from dynamodb.models.fields import Field, NestedAttribute

if TYPE_CHECKING:
    from dynamodb.models.model import Model

__all__ = ["Projection", "ProjectionEntry", "nested_changes", "projection_of"]

ProjectionEntry: TypeAlias = "Field[Any] | NestedAttribute | str"
"""What a projection names: a field, a nested path (``Movies.info["genres"]``), or a
Python or DynamoDB name (``"title"``, ``"info.actors[0]"``)."""

Tree: TypeAlias = dict[PathElement, "Tree | None"]
"""The paths read inside one attribute, as a tree; None marks a value read whole."""


@dataclass(frozen=True)
class Projection:
    """The document paths a read asks for (a ProjectionExpression), or an item holds.

    ``paths`` never repeat or overlap (``info`` and ``info.genres`` is ``info``).
    """

    paths: tuple[Path, ...]

    @classmethod
    def of(cls, paths: Iterable[Path]) -> Projection:
        """The projection of ``paths``: the first of any repeat kept, and no path
        under another (DynamoDB refuses overlapping paths)."""
        given = list(dict.fromkeys(paths))
        kept = [
            path
            for path in given
            if not any(
                other != path and path.elements[: len(other.elements)] == other.elements
                for other in given
            )
        ]
        return cls(tuple(kept))

    @classmethod
    def of_names(cls, names: Iterable[str]) -> Projection:
        """Whole attributes by their DynamoDB names."""
        return cls.of(Path((name,)) for name in names)

    def with_attributes(self, names: Iterable[str]) -> Projection:
        """These whole attributes first (the keys, the version), then this projection."""
        return Projection.of([*(Path((name,)) for name in names), *self.paths])

    def holds_whole(self, name: str) -> bool:
        """Whether attribute ``name`` was read whole: then the item's original value (or
        its absence) is what was stored. False for attributes read in part or not read."""
        return Path((name,)) in self.paths

    def attributes(self) -> frozenset[str]:
        """The top-level attributes read (whole or in part)."""
        return frozenset(path.attribute for path in self.paths)

    def tree(self, name: str) -> Tree | None:
        """The paths read inside attribute ``name``; None when it is read whole (or not)."""
        if self.holds_whole(name):
            return None
        root: Tree = {}
        for path in self.paths:
            if path.attribute != name:
                continue
            node = root
            *inner, last = path.elements[1:]
            for step in inner:
                child = node.setdefault(step, {})
                assert child is not None  # paths never overlap
                node = child
            node[last] = None
        return root or None

    def render(self, placeholders: Placeholders) -> str:
        """The ProjectionExpression, names through ``placeholders``."""
        return placeholders.projection(self.paths)

    def expression_paths(self) -> list[str | Path]:
        """The paths as GetItem and BatchGetItem take them (names for whole attributes)."""
        return [path.attribute if len(path.elements) == 1 else path for path in self.paths]

    def describe(self) -> str:
        """``title, info.genres, info.actors[0]``."""
        return ", ".join(str(path) for path in self.paths)


def projection_of(
    cls: type[Model], entries: Iterable[ProjectionEntry], call: str, *, names: bool = True
) -> Projection:
    """The paths ``entries`` name in ``cls``; ProjectionError (before any request) for
    anything that is not a field of the model, a nested path into one, or (when
    ``names``) a Python or DynamoDB name or path."""
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Iterable):
        raise ProjectionError(
            f"{cls.__name__}.{call}(): projections are a list of fields or paths, not {entries!r}"
        )
    return Projection.of(_path_of(cls, entry, call, names) for entry in entries)


def _path_of(cls: type[Model], entry: Any, call: str, names: bool) -> Path:
    meta = cls._meta
    if isinstance(entry, Field):
        field = meta.own_field(entry)
        if field is not None:
            return field.path
    elif isinstance(entry, NestedAttribute):
        if meta.own_field(entry._root_field()) is not None:
            return entry.path
    elif isinstance(entry, str) and names:
        field = meta.fields.get(entry) or meta.fields_by_name.get(entry)
        if field is not None:
            return field.path
        try:
            path = parse_path(entry)
        except ValueError:
            path = None
        if path is not None and len(path.elements) > 1:
            root = meta.fields.get(path.attribute) or meta.fields_by_name.get(path.attribute)
            if root is not None:
                return Path((root.name, *path.elements[1:]))
    raise ProjectionError(
        f"{cls.__name__}.{call}(): projections name fields of {cls.__name__} or paths into "
        f"them (like {cls.__name__}.field or {cls.__name__}.field['key']), not {entry!r}; "
        f"its fields are {sorted(meta.fields)}"
    )


def read_with(
    cls: type[Model], projection: Projection, extra_keys: Iterable[str] = (), *, version: bool
) -> Projection:
    """``projection`` with what every projected read also reads: the table's key, the
    index's key (``extra_keys``) and, when ``version``, the VersionField."""
    meta = cls._meta
    names = [field.name for field in meta.key_fields]
    names.extend(extra_keys)
    if version and meta.version_field is not None:
        names.append(meta.version_field.name)
    return projection.with_attributes(names)


# -- saving a partial item ------------------------------------------------------------------


def nested_changes(
    cls: type[Model],
    item_key: Mapping[str, Any],
    plan: UpdatePlan,
    field: Field[Any],
    tree: Tree,
    old: AttributeValue | None,
    new: AttributeValue | None,
) -> None:
    """Add to ``plan`` the changes of an attribute read in part (``tree``): SET or REMOVE
    at the paths that were read, SET of map keys the item added; nothing that would
    touch what was not read. PartialItemError for a change that cannot be placed."""
    _diff(_Where(cls, item_key, field), plan, field.path, tree, old, new)


@dataclass(frozen=True)
class _Where:
    cls: type[Model]
    key: Mapping[str, Any]
    field: Field[Any]

    def refuse(self, path: Path, why: str) -> PartialItemError:
        return PartialItemError(
            f"{self.cls.__name__} {dict(self.key)}: {self.field.attr} was read in part, and "
            f"{path} {why}; a partial item saves changes inside the parts read only. Read the "
            f"whole item to change it, or send the change with update() "
            f"(like {self.cls.__name__}.{self.field.attr}[...].set(...))"
        )


def _diff(
    where: _Where,
    plan: UpdatePlan,
    path: Path,
    tree: Tree | None,
    old: AttributeValue | None,
    new: AttributeValue | None,
) -> None:
    if tree is None:  # read whole: SET it, or REMOVE it if it is gone
        if new is None:
            if old is not None:
                plan.add(UpdateAction(path, "remove", None, where.field))
        elif old is None or not wire_equal(new, old):
            plan.add(UpdateAction(path, "set", new, where.field))
        return
    if new is None:
        if old is not None:
            raise where.refuse(path, "is now None")
        return
    if "M" in new:
        _diff_map(where, plan, path, tree, old, new["M"])
    elif "L" in new:
        _diff_list(where, plan, path, tree, old, new["L"])
    else:
        raise where.refuse(path, "is no longer a map or a list")


def _diff_map(
    where: _Where,
    plan: UpdatePlan,
    path: Path,
    tree: Tree,
    old: AttributeValue | None,
    new: Mapping[str, AttributeValue],
) -> None:
    if old is not None and "M" not in old:
        raise where.refuse(path, "was read as a list and is now a map")
    before: Mapping[str, AttributeValue] = old["M"] if old is not None else {}
    for step, below in tree.items():
        if isinstance(step, str):
            _diff(where, plan, Path((*path.elements, step)), below, before.get(step), new.get(step))
    for key, value in new.items():
        if key not in tree:  # a key the item added: it was not read, so nothing is lost
            plan.add(UpdateAction(Path((*path.elements, key)), "set", value, where.field))


def _diff_list(
    where: _Where,
    plan: UpdatePlan,
    path: Path,
    tree: Tree,
    old: AttributeValue | None,
    new: list[AttributeValue],
) -> None:
    if old is not None and "L" not in old:
        raise where.refuse(path, "was read as a map and is now a list")
    before: list[AttributeValue] = old["L"] if old is not None else []
    # DynamoDB returns the elements read, in index order, without gaps: the i-th one
    # held is the i-th smallest index asked for that exists.
    indexes = sorted(step for step in tree if isinstance(step, int))
    if len(new) != len(before):
        raise where.refuse(
            path,
            f"had {len(before)} elements read and now has {len(new)} (list lengths "
            "cannot change in a partial item)",
        )
    for position, value in enumerate(new):
        index = indexes[position]
        _diff(where, plan, Path((*path.elements, index)), tree[index], before[position], value)
