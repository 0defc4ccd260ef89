"""Paths into fields and nested values, and the update actions built on them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, overload

from dynamodb.core.codec import AttributeValue, EncodeError, encode_value
from dynamodb.core.errors import FieldValidationError, InvalidArgument, InvalidValue
from dynamodb.core.expressions import ConditionBuilder, Path, parse_path
from dynamodb.core.updates import UpdateAction

if TYPE_CHECKING:
    from dynamodb.models.fields.base import Field


class UpdateBuilder(ConditionBuilder):
    """Mixin for fields and nested paths: the update actions they build.

    ``Test.score.add(1)``, ``Test.doc["a"].set(2)``, ``Test.ids.list_append([3])``,
    ``Test.tags.delete({"x"})``, ``Test.title.remove()``; pass them to
    ``item.update(...)``. Values are checked by the field before anything is sent.
    The conditions (``eq``, ``gt`` ...) come from :class:`ConditionBuilder`, which
    also declares ``path``, ``encode_operand`` and ``encode_member``.
    """

    __slots__ = ()

    def encode_update(self, value: Any) -> AttributeValue:
        """Encode a value SET at this path: every check of the field applies."""
        raise NotImplementedError

    def __getitem__(self, key: str | int) -> NestedAttribute:
        raise NotImplementedError

    def _root_field(self) -> Field[Any]:
        """The model field this path starts at."""
        raise NotImplementedError

    def _at(self, path: str | None) -> UpdateBuilder:
        if path is None:
            return self
        steps = parse_path(path)
        if steps.elements[0] != self.path.elements[0] or len(steps.elements) < 2:
            raise InvalidValue(f"path {path!r} must start with {self.path} and go inside it")
        target: UpdateBuilder = self
        for step in steps.elements[len(self.path.elements) :]:
            target = target[step]
        return target

    def set(
        self, value: Any, *, path: str | None = None, if_not_exists: bool = False
    ) -> UpdateAction:
        """SET the value (``if_not_exists=True``: only where the attribute is missing)."""
        target = self._at(path)
        at_top = len(target.path.elements) == 1
        if at_top and (value is None or (isinstance(value, (set, frozenset)) and not value)):
            # A missing attribute is how DynamoDB stores None and the empty set.
            return UpdateAction(target.path, "remove", None, target._root_field())
        encoded = target.encode_update(value)
        kind = "set_if_not_exists" if if_not_exists else "set"
        return UpdateAction(target.path, kind, encoded, target._root_field())

    @overload
    def remove(self, *, indexes: None = None) -> UpdateAction: ...

    @overload
    def remove(self, *, indexes: Iterable[int]) -> tuple[UpdateAction, ...]: ...

    def remove(
        self, *, indexes: Iterable[int] | None = None
    ) -> UpdateAction | tuple[UpdateAction, ...]:
        """REMOVE the attribute, or (``indexes=[...]``) those list elements."""
        if indexes is None:
            return UpdateAction(self.path, "remove", None, self._root_field())
        return tuple(
            UpdateAction(self[index].path, "remove", None, self._root_field())
            for index in sorted(set(indexes))
        )

    def add(self, value: Any) -> UpdateAction:
        """Atomically add a number (or, at the top level, members to a set).

        The amount is checked for its type only: ``minimum``/``maximum`` and the
        validator are about stored values, not about the change.
        """
        encoded = self.encode_operand(value)
        top_level = len(self.path.elements) == 1
        if "N" in encoded:
            kind = "add" if top_level else "increment"
            return UpdateAction(self.path, kind, encoded, self._root_field())
        if top_level and encoded.keys() & {"SS", "NS", "BS"}:
            return UpdateAction(self.path, "add", encoded, self._root_field())
        raise InvalidArgument(
            f"{self.path}: add() takes a number (or a non-empty set, at the top level)"
        )

    def delete(self, values: Any) -> UpdateAction:
        """DELETE members from a set attribute."""
        encoded = self.encode_operand(values)
        if len(self.path.elements) != 1 or not encoded.keys() & {"SS", "NS", "BS"}:
            raise InvalidArgument(f"{self.path}: delete() removes members of a top-level set")
        return UpdateAction(self.path, "delete", encoded, self._root_field())

    def list_append(self, values: Iterable[Any]) -> UpdateAction:
        """Append values to a list (an absent list counts as empty)."""
        return UpdateAction(self.path, "append", {"L": self._members(values)}, self._root_field())

    def list_prepend(self, values: Iterable[Any]) -> UpdateAction:
        """Put values at the front of a list."""
        return UpdateAction(self.path, "prepend", {"L": self._members(values)}, self._root_field())

    def _members(self, values: Iterable[Any]) -> list[AttributeValue]:
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise InvalidArgument(f"{self.path}: give a list of values, not {values!r}")
        return [self.encode_member(value) for value in values]


class NestedAttribute(UpdateBuilder):
    """A path inside a list, map or nested model: ``Test.doc["a"]``, ``Test.ids[0]``.

    Build conditions (``Test.doc["a"].gt(1)``) and updates (``Test.doc["a"].set(2)``)
    on it like on a field. Values are encoded by the element's field when the
    container is typed (``of=``), else as untyped nested values.
    """

    __slots__ = ("_element", "_path", "_root")

    def __init__(self, path: Path, element: Field[Any] | None, root: Field[Any]) -> None:
        self._path = path
        self._element = element
        self._root = root

    @property
    def path(self) -> Path:
        return self._path

    def _root_field(self) -> Field[Any]:
        return self._root

    def _untyped(self, value: Any) -> AttributeValue:
        try:
            return encode_value(value)
        except EncodeError as error:
            raise self._root.invalid(value, f"at {self._path}: {error}") from None

    def _by_element(self, encode: Callable[[Any], AttributeValue], value: Any) -> AttributeValue:
        try:
            return encode(value)
        except FieldValidationError as error:  # name the model's field, not the element's
            raise self._root.invalid(value, f"at {self._path}: {error.reason}") from None

    def encode_operand(self, value: Any) -> AttributeValue:
        if self._element is not None:
            return self._by_element(self._element.encode_operand, value)
        return self._untyped(value)

    def encode_update(self, value: Any) -> AttributeValue:
        if self._element is not None:
            return self._by_element(self._element.encode_update, value)
        return self._untyped(value)

    def encode_member(self, value: Any) -> AttributeValue:
        if self._element is not None:
            return self._element.encode_member(value)
        return self._untyped(value)

    def __getitem__(self, key: str | int) -> NestedAttribute:
        if self._element is not None:
            return self._element[key]._rebase(self._path, self._root)
        return NestedAttribute(_extend(self._path, key), None, self._root)

    def _rebase(self, base: Path, root: Field[Any]) -> NestedAttribute:
        return NestedAttribute(Path(base.elements + self._path.elements[1:]), self._element, root)

    def __repr__(self) -> str:
        return f"<NestedAttribute {self._path}>"


def _extend(path: Path, key: str | int) -> Path:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise InvalidArgument(
            f"{path}: a path step is a map key (str) or a list index (int), not {key!r}"
        )
    if isinstance(key, int) and key < 0:
        raise InvalidValue(f"{path}: list indexes in DynamoDB paths are >= 0, not {key}")
    return Path((*path.elements, key))
