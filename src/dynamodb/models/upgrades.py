"""Lazy upgrades on read: ``__schema_version__`` and ``upgrade_to_N(raw)``.

A model whose stored items change shape faster than a backfill can follow
declares its current version and one function per step::

    class Order(Model):
        __schema_version__ = 3
        id = CharField(hash_key=True)
        full_name = CharField()
        total_cents = IntegerField()

        def upgrade_to_2(raw):             # stored items of version 1 (no version stored)
            raw["full_name"] = raw.pop("name", None)
            return raw

        def upgrade_to_3(raw):
            raw["total_cents"] = int(raw.pop("total", 0) * 100)
            return raw

``raw`` is the stored item as a plain dict by *stored* names (DynamoDB's
attribute names), its values decoded untyped (str, int or Decimal, bool, None,
bytes, lists, dicts, sets): what any older version wrote, with no field's
rules applied. Each function returns the dict of the next version (or changes
``raw`` in place and returns None). Every read path (get, query, scan,
batch_get, collections, stream images) upgrades an item whose stored version
(the ``_schema_version`` number attribute; absent means 1) is older, before the
fields decode it; the item remembers what was stored, so the next ``save()``
writes the upgraded attributes and the version back. Items read with a
projection are not upgraded (a projection may not hold what the steps need).

Models without ``__schema_version__`` keep the generated decoder as it is: no
cost on their read path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dynamodb.core.codec import AttributeValue, Item, decode_value, encode_value
from dynamodb.core.errors import ModelDefinitionError, UpgradeError

__all__ = [
    "SCHEMA_VERSION_ATTRIBUTE",
    "schema_steps",
    "stored_version",
    "upgrade_stored",
    "upgrading_decoder",
]

SCHEMA_VERSION_ATTRIBUTE = "_schema_version"
"""The number attribute that holds the version an item was written with."""

Step = Callable[[dict[str, Any]], Any]


def schema_steps(cls: type[Any]) -> tuple[int, tuple[Step, ...]] | None:
    """``(version, (upgrade_to_2, ..., upgrade_to_N))`` of a model; None without a version.

    ModelDefinitionError for a version that is not a positive int or a missing step.
    """
    version = getattr(cls, "__schema_version__", None)
    if version is None:
        return None
    name = cls.__name__
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelDefinitionError(
            f"model {name}: __schema_version__ must be a positive int, not {version!r}"
        )
    steps: list[Step] = []
    for target in range(2, version + 1):
        step = getattr(cls, f"upgrade_to_{target}", None)
        if not callable(step):
            raise ModelDefinitionError(
                f"model {name}: __schema_version__ is {version}, so it needs "
                f"upgrade_to_{target}(raw) (turning a version {target - 1} item into version "
                f"{target})"
            )
        steps.append(step)
    return version, tuple(steps)


def stored_version(item: Mapping[str, AttributeValue]) -> int:
    """The version an item was written with (1 when it has none)."""
    stored = item.get(SCHEMA_VERSION_ATTRIBUTE)
    if stored is None or "N" not in stored:
        return 1
    return int(stored["N"])


def upgrade_stored(
    model: str, version: int, steps: tuple[Step, ...], item: Mapping[str, AttributeValue]
) -> Item:
    """The stored ``item`` brought to ``version`` by ``steps``, as AttributeValues."""
    start = stored_version(item)
    if start >= version:
        return dict(item)
    raw: dict[str, Any] = {
        name: decode_value(value)
        for name, value in item.items()
        if name != SCHEMA_VERSION_ATTRIBUTE
    }
    for target in range(start + 1, version + 1):
        try:
            result = steps[target - 2](raw)
        except Exception as error:
            raise UpgradeError(
                f"model {model}: upgrade_to_{target} failed on an item of version "
                f"{target - 1}: {type(error).__name__}: {error}"
            ) from error
        if result is not None:
            if not isinstance(result, dict):
                raise UpgradeError(
                    f"model {model}: upgrade_to_{target} returned {type(result).__name__}, "
                    "not a dict (or None, having changed raw in place)"
                )
            raw = result
    upgraded: Item = {}
    for name, value in raw.items():
        if value is None or (isinstance(value, (set, frozenset)) and not value):
            continue  # absent, as DynamoDB stores no empty set and the fields read None
        upgraded[name] = encode_value(value)
    upgraded[SCHEMA_VERSION_ATTRIBUTE] = {"N": str(version)}
    return upgraded


def upgrading_decoder(
    model: str,
    version: int,
    steps: tuple[Step, ...],
    decode: Callable[[Mapping[str, AttributeValue], bool], dict[str, Any]],
    careful: Callable[[Mapping[str, AttributeValue], bool], dict[str, Any]],
) -> Callable[[Mapping[str, AttributeValue], bool], dict[str, Any]]:
    """``decode`` preceded by the upgrade of older whole items (``careful`` when it raises)."""
    current = str(version)

    def decode_upgrading(item: Mapping[str, AttributeValue], partial: bool) -> dict[str, Any]:
        stored = item.get(SCHEMA_VERSION_ATTRIBUTE)
        if partial or (stored is not None and stored.get("N") == current):
            return decode(item, partial)
        upgraded = upgrade_stored(model, version, steps, item)
        try:
            return decode(upgraded, partial)
        except Exception:
            return careful(upgraded, partial)

    return decode_upgrading
