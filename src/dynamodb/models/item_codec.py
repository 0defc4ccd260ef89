"""The per-class codec: straight-line encode/decode functions generated for a model.

Reading and writing items is the hot path of every call. Looping over a
model's fields costs more than the work done for each, so, as ``dataclasses``
and ``attrs`` do for ``__init__``, each model class gets two functions written
out field by field when the class is made. They call each field's fast
encoder/decoder (:meth:`dynamodb.fields.Field.fast_codec`), or inline the
expressions of :meth:`~dynamodb.fields.Field.inline_codec`, and nothing else.
The fields choose: a user's field type (a subclass overriding ``to_wire``,
``decode`` ...) offers no expressions, and a pair made of its own methods.

The generated functions take no shortcuts on correctness: anything unusual
makes them raise, and the model then redoes the item field by field with the
careful path, which names the field at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dynamodb.core.codec import AttributeValue, Item
from dynamodb.models.fields import Field, SetField
from dynamodb.models.fields.wrapped import WrappingField

__all__ = ["DecodeItem", "EncodeItem", "compile_codec"]

DecodeItem = Callable[[Mapping[str, AttributeValue], bool], dict[str, Any]]
EncodeItem = Callable[[dict[str, Any], Callable[[Field[Any]], Exception]], Item]


def compile_codec(fields: Mapping[str, Field[Any]]) -> tuple[DecodeItem, EncodeItem]:
    """``decode(item, partial) -> data`` and ``encode(data, missing) -> item`` for ``fields``.

    ``missing(field)`` builds the error raised for a required field that is None.
    """
    namespace: dict[str, Any] = {}
    decode_lines = ["def decode(item, partial):", "    data = {}", "    get = item.get"]
    encode_lines = ["def encode(data, missing):", "    item = {}"]
    for number, (attr, field) in enumerate(fields.items()):
        encoder, decoder = field.fast_codec()
        namespace.update(
            {f"A{number}": attr, f"N{number}": field.name, f"F{number}": field},
            **{f"E{number}": encoder, f"D{number}": decoder},
        )
        inline_encode, inline_decode = field.inline_codec()
        decoded = (inline_decode or f"D{number}({{raw}})").format(raw="raw")
        encoded = (inline_encode or f"E{number}({{value}})").format(value="value")
        is_set = _stores_a_set(field)
        absent = "(None if partial else set())" if is_set else "None"
        decode_lines += [
            f"    raw = get(N{number})",
            f"    data[A{number}] = {absent} if raw is None else {decoded}",
        ]
        encode_lines += [f"    value = data[A{number}]", "    if value is not None:"]
        if is_set:  # an empty set is left out
            encode_lines += [
                f"        encoded = {encoded}",
                "        if encoded is not None:",
                f"            item[N{number}] = encoded",
            ]
        else:
            encode_lines.append(f"        item[N{number}] = {encoded}")
        if field.required:
            encode_lines += ["    else:", f"        raise missing(F{number})"]
    decode_lines.append("    return data")
    encode_lines.append("    return item")
    source = "\n".join([*decode_lines, "", *encode_lines])
    exec(compile(source, "<dynamodb per-class codec>", "exec"), namespace)
    return namespace["decode"], namespace["encode"]


def _stores_a_set(field: Field[Any]) -> bool:
    """Whether the field's values are sets (also inside encrypted or compressed fields)."""
    while isinstance(field, WrappingField):
        field = field.inner
    return isinstance(field, SetField)
