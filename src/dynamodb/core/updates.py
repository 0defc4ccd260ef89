"""Update actions (SET, REMOVE, ADD, DELETE) and the plan that merges them.

An :class:`UpdateAction` is an immutable value built from a field
(``Test.score.add(1)``, ``Test.doc["a"].set(2)``). An :class:`UpdatePlan`
collects actions for one UpdateItem: actions on the same path merge where the
result is well defined (two SETs: the last wins; two ADDs: summed or united;
two appends: concatenated) and otherwise raise :class:`UpdateConflict` before
anything is sent, as do actions on overlapping paths (``doc`` and ``doc.a``),
which DynamoDB refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import UpdateConflict
from dynamodb.core.expressions import Path, Placeholders

__all__ = ["UpdateAction", "UpdateConflict", "UpdatePlan"]


@dataclass(frozen=True, slots=True)
class UpdateAction:
    """One change to one path. ``kind`` is one of: set, set_if_not_exists, append,
    prepend, increment (SET p = if_not_exists(p, 0) + v, for nested numbers), add,
    remove, delete."""

    path: Path
    kind: str
    value: AttributeValue | None = None
    source: Any = field(default=None, compare=False, repr=False)
    """The field the action was built from (to check it belongs to the model updated)."""

    def describe(self) -> str:
        return f"{self.kind}({self.path})"


_ASSIGNMENTS = ("set", "set_if_not_exists", "remove")


def _merge(old: UpdateAction, new: UpdateAction) -> UpdateAction:
    if old.kind in _ASSIGNMENTS and new.kind in _ASSIGNMENTS and old.kind != new.kind:
        return new  # set then remove (or the other way): the last assignment wins
    if old.kind in ("set", "set_if_not_exists") and new.kind in ("set", "set_if_not_exists"):
        return new
    if old.kind == new.kind == "remove":
        return old
    if old.kind == new.kind and old.value is not None and new.value is not None:
        if new.kind in ("add", "increment") and "N" in old.value and "N" in new.value:
            total = Decimal(old.value["N"]) + Decimal(new.value["N"])
            return UpdateAction(old.path, old.kind, {"N": str(total)}, old.source)
        if new.kind in ("add", "delete"):
            ((tag, members),) = old.value.items()
            if tag in new.value:
                united = _united(tag, [*members, *new.value[tag]])
                return UpdateAction(old.path, old.kind, {tag: united}, old.source)
        if new.kind == "append":
            merged = [*old.value["L"], *new.value["L"]]
            return UpdateAction(old.path, "append", {"L": merged}, old.source)
        if new.kind == "prepend":
            merged = [*new.value["L"], *old.value["L"]]
            return UpdateAction(old.path, "prepend", {"L": merged}, old.source)
    raise UpdateConflict(
        f"{old.describe()} and {new.describe()} cannot go into one update; "
        "commit the first before making the second"
    )


def _united(tag: str, members: list[Any]) -> list[Any]:
    """Set members without repeats, in order; numbers compare by value (``1`` is ``1.0``)."""
    unique: dict[Any, Any] = {}
    for member in members:
        unique.setdefault(Decimal(member) if tag == "NS" else member, member)
    return list(unique.values())


def _overlaps(first: Path, second: Path) -> bool:
    shorter, longer = sorted((first.elements, second.elements), key=len)
    return longer[: len(shorter)] == shorter


class UpdatePlan:
    """The actions of one UpdateItem, merged; renders the UpdateExpression."""

    __slots__ = ("_actions",)

    def __init__(self, actions: Iterable[UpdateAction] = ()) -> None:
        self._actions: dict[Path, UpdateAction] = {}
        for action in actions:
            self.add(action)

    def add(self, action: UpdateAction) -> None:
        """Add an action, merging it with one on the same path (or raising UpdateConflict)."""
        existing = self._actions.get(action.path)
        if existing is not None:
            self._actions[action.path] = _merge(existing, action)
            return
        for path, other in self._actions.items():
            if _overlaps(path, action.path):
                raise UpdateConflict(
                    f"{other.describe()} and {action.describe()} touch overlapping paths, "
                    "which DynamoDB refuses in one update"
                )
        self._actions[action.path] = action

    def get(self, path: Path) -> UpdateAction | None:
        """The action queued for exactly this path, if any."""
        return self._actions.get(path)

    def replace(self, action: UpdateAction) -> None:
        """Put ``action`` in place of the one on the same path (no merging)."""
        self._actions[action.path] = action

    def __bool__(self) -> bool:
        return bool(self._actions)

    def __len__(self) -> int:
        return len(self._actions)

    def __iter__(self) -> Any:
        return iter(self._actions.values())

    def attributes(self) -> set[str]:
        """The top-level attributes this plan changes."""
        return {path.attribute for path in self._actions}

    def render(self, placeholders: Placeholders) -> str:
        """The UpdateExpression (``SET ... REMOVE ... ADD ... DELETE ...``)."""
        clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        for action in self._actions.values():
            clause, text = _render(action, placeholders)
            clauses[clause].append(text)
        return " ".join(f"{name} {', '.join(parts)}" for name, parts in clauses.items() if parts)


def _render(action: UpdateAction, placeholders: Placeholders) -> tuple[str, str]:
    path = placeholders.path(action.path)
    kind = action.kind
    if kind == "remove":
        return "REMOVE", path
    assert action.value is not None
    value = placeholders.value(action.value)
    if kind == "set":
        return "SET", f"{path} = {value}"
    if kind == "set_if_not_exists":
        return "SET", f"{path} = if_not_exists({path}, {value})"
    if kind == "increment":
        zero = placeholders.value({"N": "0"})
        return "SET", f"{path} = if_not_exists({path}, {zero}) + {value}"
    if kind in ("append", "prepend"):
        empty = placeholders.value({"L": []})
        current = f"if_not_exists({path}, {empty})"
        pair = f"{current}, {value}" if kind == "append" else f"{value}, {current}"
        return "SET", f"{path} = list_append({pair})"
    if kind == "add":
        return "ADD", f"{path} {value}"
    if kind == "delete":
        return "DELETE", f"{path} {value}"
    raise ValueError(f"unknown update action {kind!r}")
