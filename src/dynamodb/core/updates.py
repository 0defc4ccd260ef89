"""Update actions (SET, REMOVE, ADD, DELETE) and the plans that merge them.

An :class:`UpdateAction` is an immutable value built from a field
(``Test.score.add(1)``, ``Test.doc["a"].set(2)``). An :class:`UpdatePlan`
collects actions for one UpdateItem, in one of two ways:

- :meth:`UpdatePlan.add` takes actions that apply together (``item.update(...)``):
  actions on the same path merge where the result is well defined (two SETs: the
  last wins; two ADDs: summed or united; two appends: concatenated), and anything
  else raises :class:`UpdateConflict` before anything is sent, as do actions on
  overlapping paths (``doc`` and ``doc.a``), which DynamoDB refuses.
- :meth:`UpdatePlan.then` takes actions that apply one after another (the
  pending-update API): it merges them only where one UpdateExpression gives
  exactly what the sequence would. After a SET or REMOVE of a path its value is
  known, so later actions at or inside it are computed into it (a SET then an ADD
  is one SET of the sum); a SET or REMOVE replaces what came before it at or
  inside its path. A second action inside one list is never merged, because
  indexes shift after a removal and a SET past the end appends.

:func:`plan_sequence` resolves a whole sequence for an item: attribute by
attribute, exactly where :meth:`UpdatePlan.then` can; otherwise, when the item was
read, it computes the attribute's final value from what was read
(:func:`apply_action` follows DynamoDB's rules for each action) and guards the
SET with the condition that the attribute still holds what was read.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dynamodb.core.codec import AttributeValue, Item
from dynamodb.core.errors import UpdateConflict
from dynamodb.core.expressions import (
    AttributeNotExists,
    Comparison,
    Condition,
    Path,
    PathElement,
    Placeholders,
)

__all__ = [
    "SequencePlan",
    "UpdateAction",
    "UpdateConflict",
    "UpdatePlan",
    "apply_action",
    "plan_sequence",
]


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
_KNOWN = ("set", "remove")
"""After these the value at the path is known (REMOVE: absent)."""
_SET_TAGS = ("SS", "NS", "BS")


def _merge(old: UpdateAction, new: UpdateAction) -> UpdateAction:
    if old.kind in _ASSIGNMENTS and new.kind in _ASSIGNMENTS and old.kind != new.kind:
        return new  # set then remove (or the other way): the last assignment wins
    if old.kind in ("set", "set_if_not_exists") and new.kind in ("set", "set_if_not_exists"):
        return new
    if old.kind == new.kind == "remove":
        return old
    merged = _merge_same_kind(old, new)
    if merged is None:
        raise _conflict(old, new)
    return merged


def _merge_same_kind(old: UpdateAction, new: UpdateAction) -> UpdateAction | None:
    """Two actions of one kind on one path as one (None: they do not combine)."""
    if old.kind != new.kind or old.value is None or new.value is None:
        return None
    if new.kind in ("add", "increment") and "N" in old.value and "N" in new.value:
        total = _sum(old.value["N"], new.value["N"])
        return UpdateAction(old.path, old.kind, {"N": total}, old.source)
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
    return None


def _conflict(old: UpdateAction, new: UpdateAction, reason: str = "") -> UpdateConflict:
    return UpdateConflict(
        f"{old.describe()} and {new.describe()} cannot go into one update"
        f"{reason}; commit the first before making the second"
    )


_NUMBERS = decimal.Context(
    prec=38, traps=[decimal.Inexact, decimal.Overflow, decimal.InvalidOperation]
)
"""DynamoDB's arithmetic: 38 significant digits, and an error rather than rounding."""


def _sum(first: str, second: str) -> str:
    try:
        return str(_NUMBERS.add(Decimal(first), Decimal(second)))
    except decimal.DecimalException:
        raise UpdateConflict(
            f"{first} + {second} does not fit DynamoDB's 38 significant digits"
        ) from None


def _united(tag: str, members: list[Any]) -> list[Any]:
    """Set members without repeats, in order; numbers compare by value (``1`` is ``1.0``)."""
    unique: dict[Any, Any] = {}
    for member in members:
        unique.setdefault(Decimal(member) if tag == "NS" else member, member)
    return list(unique.values())


def _without(tag: str, members: list[Any], removed: list[Any]) -> list[Any]:
    """Set members minus ``removed`` (numbers by value)."""
    if tag == "NS":
        gone = {Decimal(member) for member in removed}
        return [member for member in members if Decimal(member) not in gone]
    return [member for member in members if member not in removed]


def _overlaps(first: Path, second: Path) -> bool:
    shorter, longer = sorted((first.elements, second.elements), key=len)
    return longer[: len(shorter)] == shorter


def _within(outer: Path, inner: Path) -> bool:
    """Whether ``inner`` is ``outer`` or a path inside it."""
    return inner.elements[: len(outer.elements)] == outer.elements


def _list_of(path: Path) -> tuple[PathElement, ...] | None:
    """The path of the first list ``path`` indexes into (None: it indexes no list)."""
    for position, element in enumerate(path.elements):
        if isinstance(element, int):
            return path.elements[:position]
    return None


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

    def then(self, action: UpdateAction) -> None:
        """Add an action that applies after every planned one, as if committed after them.

        Merges only where one UpdateExpression gives exactly what the sequence would,
        and otherwise raises UpdateConflict, leaving the plan as it was:

        - after a SET or REMOVE of this path or of one around it (outside any list),
          the value there is known: the action is computed into it (``SET n = 1`` then
          ``ADD n 2`` is ``SET n = 3``; ``SET doc = {...}`` then ``REMOVE doc.a`` is one
          SET of the map without ``a``);
        - a SET or REMOVE (outside any list) replaces what was planned at or inside
          its path;
        - two ADDs of numbers are summed, of set members united; two DELETEs of set
          members united; two appends concatenated; two prepends put the later in front;
        - a second action inside one list (an element, or the list and an element)
          conflicts: indexes shift after a removal, and a SET past the end appends.
        """
        path = action.path
        for planned_path, planned in self._actions.items():
            if (
                planned.kind in _KNOWN
                and _within(planned_path, path)
                and _list_of(planned_path) is None
            ):
                self._actions[planned_path] = _composed(planned, action)
                return
        shared = _list_of(path)
        if shared is not None:
            for planned_path, planned in self._actions.items():
                if planned_path.elements[: len(shared)] == shared:
                    raise _conflict(
                        planned,
                        action,
                        f" exactly (in the list {Path(shared)}, a removal shifts the indexes "
                        "and a SET past the end appends)",
                    )
        elif action.kind in _KNOWN:
            for planned_path, planned in self._actions.items():
                if _within(planned_path, path) and planned_path != path:
                    raise _conflict(planned, action, " (overlapping paths)")
            for inside in [planned for planned in self._actions if _within(path, planned)]:
                if inside != path:
                    del self._actions[inside]
            self._actions[path] = action
            return
        existing = self._actions.get(path)
        if existing is not None:
            merged = _merge_same_kind(existing, action)
            if merged is None and existing.kind == action.kind == "set_if_not_exists":
                merged = existing  # the first one set it; the second finds it there
            if merged is None:
                raise _conflict(existing, action)
            self._actions[path] = merged
            return
        self.add(action)

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


def _composed(known: UpdateAction, action: UpdateAction) -> UpdateAction:
    """``action`` computed into the SET or REMOVE ``known`` of its path or one around it."""
    steps = action.path.elements[len(known.path.elements) :]
    try:
        value = _apply(known.value if known.kind == "set" else None, steps, action)
    except _Refused as refused:
        raise _conflict(known, action, f": {refused}") from None
    kind = "remove" if value is None else "set"
    return UpdateAction(known.path, kind, value, known.source)


class _Refused(Exception):
    """DynamoDB would refuse this action on this value (the reason is the message)."""


def apply_action(value: AttributeValue | None, action: UpdateAction) -> AttributeValue | None:
    """A top-level attribute's value after ``action``, by DynamoDB's rules (None: absent).

    ``value`` is the attribute's value before (None: absent). A SET inside a list past
    its end appends; a REMOVE of a missing map key or list element changes nothing; an
    ADD or an append to a missing attribute starts from nothing; a DELETE of every
    member of a set removes the attribute. Raises UpdateConflict for what DynamoDB
    refuses (a path inside a missing map or list, an ADD to a string ...).
    """
    try:
        return _apply(value, action.path.elements[1:], action)
    except _Refused as refused:
        raise UpdateConflict(f"{action.describe()}: {refused}") from None


def _apply(
    node: AttributeValue | None, steps: Sequence[PathElement], action: UpdateAction
) -> AttributeValue | None:
    if not steps:
        return _apply_here(node, action)
    step, rest = steps[0], steps[1:]
    if isinstance(step, str):
        if node is None or "M" not in node:
            raise _Refused(f"there is no map to hold the key {step!r}")
        members = dict(node["M"])
        changed = _apply(members.get(step), rest, action)
        if changed is None:
            members.pop(step, None)
        else:
            members[step] = changed
        return {"M": members}
    if node is None or "L" not in node:
        raise _Refused(f"there is no list to hold the element [{step}]")
    elements = list(node["L"])
    if step < len(elements):
        changed = _apply(elements[step], rest, action)
        if changed is None:
            del elements[step]
        else:
            elements[step] = changed
    elif rest:
        raise _Refused(f"the list has no element [{step}]")
    else:
        added = _apply_here(None, action)  # past the end: a SET appends, a REMOVE does nothing
        if added is not None:
            elements.append(added)
    return {"L": elements}


def _apply_here(node: AttributeValue | None, action: UpdateAction) -> AttributeValue | None:
    kind, value = action.kind, action.value
    if kind == "remove":
        return None
    assert value is not None
    if kind == "set":
        return value
    if kind == "set_if_not_exists":
        return value if node is None else node
    if node is None:
        return None if kind == "delete" else value
    if kind in ("add", "increment") and "N" in value:
        if "N" not in node:
            raise _Refused("the value there is not a number")
        return {"N": _sum(node["N"], value["N"])}
    if kind in ("add", "delete"):
        ((tag, members),) = value.items()
        if tag not in node:
            raise _Refused(f"the value there is not a set of the same type ({tag})")
        if kind == "add":
            return {tag: _united(tag, [*node[tag], *members])}
        left = _without(tag, node[tag], members)
        return {tag: left} if left else None
    if kind in ("append", "prepend"):
        if "L" not in node:
            raise _Refused("the value there is not a list")
        pair = (node["L"], value["L"]) if kind == "append" else (value["L"], node["L"])
        return {"L": [*pair[0], *pair[1]]}
    raise ValueError(f"unknown update action {kind!r}")


@dataclass(frozen=True)
class SequencePlan:
    """A sequence of actions resolved for one UpdateItem.

    ``plan`` holds the actions to send. ``read`` maps each attribute computed from
    what was read to the value read (None: it was absent): the update is only right
    while the attribute still holds that value, which :meth:`guards` says.
    """

    plan: UpdatePlan
    read: Mapping[str, AttributeValue | None]

    def guards(self) -> list[Condition]:
        """The conditions that each computed attribute still holds what was read."""
        return [
            AttributeNotExists(Path((name,)))
            if value is None
            else Comparison(Path((name,)), "eq", value)
            for name, value in self.read.items()
        ]


def plan_sequence(
    actions: Iterable[UpdateAction],
    read: Item | None,
    known: Callable[[str], bool] | None = None,
) -> SequencePlan:
    """Resolve actions that apply one after another into one UpdateItem.

    Attribute by attribute, the actions merge with :meth:`UpdatePlan.then` where one
    UpdateExpression gives exactly what the sequence would. Where it cannot, and the
    item was ``read`` (its AttributeValues when last read or written), the
    attribute's final value is computed from what was read (:func:`apply_action`)
    and SET (or REMOVEd), guarded by :meth:`SequencePlan.guards`. Without ``read``
    (an item built from its key alone), or for an attribute that ``known`` says
    ``read`` does not hold as stored (an item read with a projection without it),
    UpdateConflict is raised.
    """
    groups: dict[str, list[UpdateAction]] = {}
    for action in actions:
        groups.setdefault(action.path.attribute, []).append(action)
    plan = UpdatePlan()
    computed: dict[str, AttributeValue | None] = {}
    for name, group in groups.items():
        attribute = UpdatePlan()
        try:
            for action in group:
                attribute.then(action)
        except UpdateConflict as conflict:
            if read is None or (known is not None and not known(name)):
                what = "the item" if read is None else f"{name} too (the item was read without it)"
                raise UpdateConflict(
                    f"{conflict}, or read {what} first, so that the commit computes "
                    f"{name} from what was read"
                ) from None
            before = read.get(name)
            value = before
            for action in group:
                value = apply_action(value, action)
            kind = "remove" if value is None else "set"
            attribute = UpdatePlan([UpdateAction(Path((name,)), kind, value, group[0].source)])
            computed[name] = before
        for action in attribute:
            plan.add(action)
    return SequencePlan(plan, computed)


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
