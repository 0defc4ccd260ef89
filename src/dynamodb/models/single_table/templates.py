"""Key templates bound to a model: parts checked, values rendered, keys built from parts.

``pk = CharField(hash_key=True, template="USER#{user_id}")`` makes ``pk`` a
computed attribute: the metaclass binds each template to the model's part fields
(:func:`bind_templates`), every write renders it from the parts
(:func:`fill_templates`), updates that change a part also set (or remove) the
attributes built from it (:func:`template_actions`), and reads by key accept the
parts instead of the key (:func:`key_from_parts`). A part's text is its stored
form (ISO UTC for datetimes, which sorts) or, with a format spec
(``"{n:08d}"``), the Python value formatted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import InvalidArgument, ModelDefinitionError, UnknownField
from dynamodb.core.templates import BoundTemplate
from dynamodb.core.updates import UpdateAction, UpdatePlan
from dynamodb.models.fields import Field

__all__ = [
    "bind_templates",
    "fill_templates",
    "key_from_parts",
    "key_part_names",
    "template_actions",
]


def bind_templates(model: str, fields: Mapping[str, Field[Any]]) -> tuple[Field[Any], ...]:
    """Bind every templated field of a model to its parts; the templated fields.

    ModelDefinitionError for a template naming no field of the model, a part that is
    itself templated, or a part whose values have no text form (binary, sets ...).
    """
    dependents: dict[str, list[Field[Any]]] = {}
    templated: list[Field[Any]] = []
    for field in fields.values():
        field.dependents = ()
        field.bound_template = None
        field.part_fields = {}
        template = field.template
        if template is None:
            continue
        owner = f"model {model}: field {field.attr} (template {template.source!r})"
        if field.key_type != "S":
            raise ModelDefinitionError(f"{owner}: a templated field must be a CharField")
        parts: dict[str, Field[Any]] = {}
        for part_spec in template.parts:
            part = fields.get(part_spec.name)
            if part is None:
                raise ModelDefinitionError(
                    f"{owner}: {{{part_spec.name}}} is not a field of {model} "
                    f"(its fields: {sorted(fields)})"
                )
            if part is field or part.template is not None:
                raise ModelDefinitionError(
                    f"{owner}: {{{part_spec.name}}} is templated itself; "
                    "a part must be a plain field"
                )
            if part.key_type not in ("S", "N"):
                raise ModelDefinitionError(
                    f"{owner}: {{{part_spec.name}}} ({type(part).__name__}) cannot be a part: "
                    "parts are strings, numbers, dates and times"
                )
            parts[part_spec.name] = part
            dependents.setdefault(part.attr, []).append(field)
        field.part_fields = parts
        field.bound_template = BoundTemplate(
            template,
            {part.name: name for name, part in parts.items()},
            _texts(template.parts, parts),
        )
        templated.append(field)
    for attr, fields_built in dependents.items():
        fields[attr].dependents = tuple(fields_built)
    return tuple(templated)


def _texts(specs: Iterable[Any], parts: Mapping[str, Field[Any]]) -> Any:
    formats = {spec.name: spec.spec for spec in specs}

    def text(name: str, stored: AttributeValue) -> str:
        spec = formats[name]
        if spec:
            return format(parts[name].from_wire(stored), spec)
        scalar = stored.get("S", stored.get("N"))
        if not isinstance(scalar, str):
            raise ValueError(f"{name} has no text form: {stored!r}")
        return scalar

    return text


def fill_templates(templated: Iterable[Field[Any]], data: dict[str, Any], model: str) -> None:
    """Render every templated field into ``data`` from its parts; one with a part that is
    None keeps what it holds (a partial item's key, read but not its parts)."""
    for field in templated:
        rendered = field.render(data, model)
        if rendered is not None:
            data[field.attr] = rendered


def key_part_names(key_fields: Iterable[Field[Any]]) -> set[str]:
    """Every name a key may be given by: the key fields' Python and stored names, and
    the Python and stored names of their templates' parts."""
    names: set[str] = set()
    for field in key_fields:
        names.update((field.attr, field.name))
        for part in field.part_fields.values():
            names.update((part.attr, part.name))
    return names


def key_from_parts(
    model: str, key_fields: Iterable[Field[Any]], values: Mapping[str, Any]
) -> dict[str, Any]:
    """``{python name: value}`` of the key fields, from the key itself or its parts.

    A templated key field given directly is taken as it is (reading by a raw key);
    otherwise it is rendered from its parts, which are cleaned as their fields clean
    them. UnknownField names what is missing.
    """
    key: dict[str, Any] = {}
    for field in key_fields:
        direct = values.get(field.attr, values.get(field.name))
        if direct is not None or field.template is None:
            key[field.attr] = direct
            continue
        parts: dict[str, Any] = {}
        missing: list[str] = []
        for name, part in field.part_fields.items():
            value = values.get(part.attr, values.get(part.name))
            if value is None:
                missing.append(name)
            else:
                parts[name] = part.clean(value, model)
        if missing:
            assert field.template is not None
            raise UnknownField(
                f"{model} key needs {', '.join(missing)} (its {field.attr} is "
                f"{field.template.source!r}), or {field.attr} itself"
            )
        key[field.attr] = field.render(parts, model)
    return key


def template_actions(
    model: str,
    templated: Iterable[Field[Any]],
    data: Mapping[str, Any],
    plan: UpdatePlan,
    decode: Mapping[str, Field[Any]],
    read: bool,
) -> list[UpdateAction]:
    """The SET or REMOVE of every templated attribute an update changes through its parts.

    A part set to a value (or removed) gives the new attribute from the item's other
    parts as the instance holds them; a part changed otherwise (ADD, list appends,
    nested paths) cannot be rendered before DynamoDB applies it: InvalidArgument.
    ``decode`` maps stored names to fields. ``read``: the item was read, so a part it
    holds as None is absent (otherwise unknown, and an update needing it is refused).
    """
    changed = plan.attributes()
    actions: list[UpdateAction] = []
    for field in templated:
        bound = field.bound_template
        assert bound is not None
        touched = [attribute for attribute in bound.attributes if attribute in changed]
        if not touched or field.name in changed:
            continue
        values = dict(data)
        for action in plan:
            attribute = action.path.attribute
            if attribute not in touched:
                continue
            part = decode[attribute]
            if len(action.path.elements) != 1 or action.kind not in ("set", "remove"):
                raise InvalidArgument(
                    f"{model}: {action.describe()} changes {part.attr}, a part of "
                    f"{field.attr} ({bound.template.source!r}), in a way that is only known "
                    f"after the update; set {part.attr} to a value instead"
                )
            values[part.attr] = (
                None if action.kind == "remove" else part.from_wire(action.value or {})
            )
        unknown = [
            name
            for name, part in field.part_fields.items()
            if part.name not in touched and values.get(part.attr) is None
        ]
        if unknown and not read:
            raise InvalidArgument(
                f"{model}: this update changes {', '.join(decode[a].attr for a in touched)}, "
                f"a part of {field.attr} ({bound.template.source!r}), which also needs "
                f"{', '.join(unknown)}: give them too, or read the item first"
            )
        rendered = field.render(values, model)
        if rendered is None:
            actions.append(UpdateAction(field.path, "remove"))
        else:
            encoded = field.to_wire(rendered)
            actions.append(UpdateAction(field.path, "set", encoded))
    return actions
