"""Collections: one Query that reads several entities of a shared table together.

``Collection(User, Order).query(user_id="u1")`` reads the partition
``pk = "USER#u1"`` once and gives each item as its entity's class: a user and
their orders in one request. A collection reads the table, or any index whose
hash key every model of the collection builds from the same template (an order
and its lines through ``gsi2``, when both put ``ORDER#{order_id}`` in ``gsi2pk``).

The builders are the query builders' (:mod:`dynamodb.models.query`): pages,
cursors, limits and the async twins work the same; ``all()`` and ``get_items()``
give a :class:`CollectionResult`, which lists the items by class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from dynamodb.core.cursor import Cursor
from dynamodb.core.errors import InvalidArgument, NoIndexForQuery, QueryError
from dynamodb.core.expressions import Comparison, Condition, Placeholders, and_all
from dynamodb.core.planner import Target, targets_of
from dynamodb.models.limit_checks import check_key_condition
from dynamodb.models.query import Scan, _Reader, _Spec
from dynamodb.models.single_table.entities import entity_condition, entity_of, shared_schema

if TYPE_CHECKING:
    from dynamodb.core.compat import Self
    from dynamodb.models.model import Model

__all__ = ["Collection", "CollectionQuery", "CollectionResult", "CollectionScan"]

M = TypeVar("M", bound="Model")


class CollectionResult:
    """Items of several entities in key order: iterate for all of them, or index by class.

    ``result[Order]`` lists the items that are Orders (subclasses included), in key
    order; ``list(result)`` gives every item; ``len(result)`` counts them.
    """

    __slots__ = ("items", "models")

    def __init__(self, models: Sequence[type[Model]], items: list[Any]) -> None:
        self.models = tuple(models)
        self.items = items

    @overload
    def __getitem__(self, model: type[M]) -> list[M]: ...

    @overload
    def __getitem__(self, model: int) -> Any: ...

    def __getitem__(self, model: Any) -> Any:
        if isinstance(model, int):
            return self.items[model]
        if not any(isinstance(model, type) and issubclass(model, cls) for cls in self.models):
            names = ", ".join(cls.__name__ for cls in self.models)
            raise InvalidArgument(f"this collection reads {names}, not {model!r}")
        return [item for item in self.items if isinstance(item, model)]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __repr__(self) -> str:
        counts = ", ".join(f"{cls.__name__}: {len(self[cls])}" for cls in self.models)
        return f"<CollectionResult {counts}>"


class Collection:
    """Several models of one shared table, read together.

    ``Collection(User, Order).query(user_id="u1")`` is one Query of the partition
    their hash key templates share; ``Collection(User, Order).scan()`` reads the
    whole table (``segments=N`` in parallel) and gives only these entities, each as
    its class.
    """

    __slots__ = ("_classes", "models")

    def __init__(self, *models: type[Model]) -> None:
        if not models:
            raise InvalidArgument("Collection() takes at least one model")
        tables = {model._meta.require_table().table_name for model in models}
        if len(tables) != 1:
            raise InvalidArgument(
                f"a collection reads one table; {', '.join(m.__name__ for m in models)} are "
                f"stored in {sorted(tables)}"
            )
        self.models: tuple[type[Model], ...] = models
        self._classes: dict[str, type[Model]] = {}
        for model in models:
            for entity in model._meta.readable_entities:
                cls = model._meta.loader_class(entity)
                if cls is not None:
                    self._classes.setdefault(entity, cls)

    def __repr__(self) -> str:
        return f"<Collection of {', '.join(model.__name__ for model in self.models)}>"

    def query(self, *, index: str | None = None, **parts: Any) -> CollectionQuery:
        """The Query of the partition named by ``parts`` (the hash key's template parts,
        or the hash key itself): the table's, or the index's (``index="gsi2"``, or the
        first whose hash key every model builds from the same template)."""
        lead = self.models[0]
        target, condition = _partition(self.models, index, parts)
        return CollectionQuery(lead, _Spec(index=target.name), self, target, condition)

    def scan(self, *, segments: int = 1) -> CollectionScan:
        """A scan of the whole table that gives only this collection's entities."""
        scan = CollectionScan(self.models[0], _Spec(index=None), self)
        return scan.segments(segments)

    def _load(
        self, item: Mapping[str, Any], partial: Any = None, include_expired: bool = False
    ) -> Any:
        """The item as its entity's class; None for other entities, and for expired items
        (unless ``include_expired``: a collection mixes TTLs, so they are told apart here)."""
        entity = entity_of(item, self.models[0]._meta.entity_attribute)
        cls = self._classes.get(entity) if entity is not None else None
        if cls is None:
            return None
        loaded = cls._from_wire(item, partial)
        return None if loaded.expired and not include_expired else loaded

    def _filter(self) -> Condition:
        return entity_condition(self.models[0]._meta.entity_attribute, tuple(self._classes))


def _partition(
    models: Sequence[type[Model]], index: str | None, parts: Mapping[str, Any]
) -> tuple[Target, Condition]:
    lead = models[0]
    schema = shared_schema(lead)
    reasons: list[str] = []
    for target in targets_of(schema):
        if index is not None and target.name != index:
            continue
        why_not = _shared_hash(models, target)
        if why_not:
            reasons.append(f"{target.label}: {why_not}")
            continue
        key = _hash_field(lead, target)
        assert key is not None
        rendered = _render(lead, key, parts)
        if rendered is None:
            names = key.template.names if key.template is not None else (key.attr,)
            reasons.append(f"{target.label} needs {', '.join(names)}")
            continue
        return target, Comparison(key.path, "eq", rendered)
    names = ", ".join(model.__name__ for model in models)
    raise NoIndexForQuery(
        f"no key that {names} share fits Collection.query({', '.join(parts)}):\n"
        + "\n".join(f"  - {reason}" for reason in reasons)
    )


def _hash_field(model: type[Model], target: Target) -> Any:
    schema = model._meta.require_table()
    if target.name is None:
        return schema.hash_key
    spec = schema.indexes.get(target.name)
    return spec.hash_key if spec is not None else None


def _shared_hash(models: Sequence[type[Model]], target: Target) -> str | None:
    """Why the models do not share ``target``'s hash key (None: they do)."""
    shapes = set()
    for model in models:
        key = _hash_field(model, target)
        if key is None:
            return f"{model.__name__} does not declare it"
        shapes.add(key.template.source if key.template is not None else None)
    if len(shapes) != 1 or (None in shapes and len(models) > 1):
        return "the models build its hash key from different templates"
    return None


def _render(model: type[Model], key: Any, parts: Mapping[str, Any]) -> dict[str, Any] | None:
    if key.template is None:
        value = parts.get(key.attr, parts.get(key.name))
        return key.to_wire(key.clean(value, model.__name__)) if value is not None else None
    given: dict[str, Any] = {}
    for name, part in key.part_fields.items():
        value = parts.get(name, parts.get(part.name))
        if value is None:
            return None
        given[name] = part.clean(value, model.__name__)
    unknown = set(parts) - {name for p in key.part_fields.values() for name in (p.attr, p.name)}
    if unknown:
        raise InvalidArgument(
            f"Collection.query() got {sorted(unknown)}, which are not parts of "
            f"{key.attr} ({key.template.source!r})"
        )
    return key.to_wire(key.render(given, model.__name__))  # type: ignore[no-any-return]


class _CollectionReader(Generic[M]):
    """What a collection's query and scan add to the builders: their loader and filter."""

    _collection: Collection

    _spec: _Spec

    def _loader(self) -> Any:
        include_expired = self._spec.include_expired

        def load(item: Mapping[str, Any], partial: Any = None) -> Any:
            return self._collection._load(item, partial, include_expired)

        return load

    def _decoded_models(self) -> tuple[type[Any], ...]:
        return tuple(self._collection.models)

    def _entity_filter(self) -> Condition | None:
        return self._collection._filter()

    def _wrap(self, items: list[Any]) -> CollectionResult:
        return CollectionResult(self._collection.models, items)


class CollectionQuery(_CollectionReader[Any], _Reader[Any]):
    """A collection's Query: one partition, every entity of the collection in key order."""

    __slots__ = ("_collection", "_condition", "_fixed")

    def __init__(
        self,
        model: type[Any],
        spec: _Spec,
        collection: Collection,
        target: Target,
        condition: Condition,
    ) -> None:
        super().__init__(model, spec)
        self._collection = collection
        self._fixed = target
        self._condition = condition

    def _with(self, **changes: Any) -> Self:
        return type(self)(
            self._model,
            replace(self._spec, **changes),
            self._collection,
            self._fixed,
            self._condition,
        )

    def use_index(self, index: Any, asc: bool = True) -> Self:
        """Not for collections: give ``index=`` to :meth:`Collection.query`."""
        raise QueryError("a collection's index is chosen by Collection.query(index=...)")

    def reverse(self) -> Self:
        """Read the partition in descending key order."""
        return self._with(ascending=False)

    def _target(self) -> Target:
        return self._fixed

    def _operation(self) -> str:
        return "Query"

    def _conditions(self, placeholders: Placeholders, request: dict[str, Any]) -> bool:
        check_key_condition(self._model, self._fixed, self._condition)
        request["KeyConditionExpression"] = self._condition.render(placeholders)
        if not self._spec.ascending:
            request["ScanIndexForward"] = False
        condition = and_all([*self._spec.conditions, self._collection._filter()])
        assert condition is not None
        request["FilterExpression"] = condition.render(placeholders)
        return True

    def all(self) -> CollectionResult:  # type: ignore[override]
        """Every item of the partition (up to ``limit``), as a :class:`CollectionResult`."""
        return self._wrap(list(self))

    async def aall(self) -> CollectionResult:  # type: ignore[override]
        """Async twin of :meth:`all`."""
        return self._wrap([item async for item in self])

    def get_items(  # type: ignore[override]
        self, requery_for_all_projections: bool = False
    ) -> tuple[CollectionResult, Cursor | None]:
        """One page, as a :class:`CollectionResult`, and the cursor of the next (or None)."""
        items, cursor = super().get_items(requery_for_all_projections)
        return self._wrap(items), cursor

    async def aget_items(  # type: ignore[override]
        self, requery_for_all_projections: bool = False
    ) -> tuple[CollectionResult, Cursor | None]:
        """Async twin of :meth:`get_items`."""
        items, cursor = await super().aget_items(requery_for_all_projections)
        return self._wrap(items), cursor

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._aiterate()


class CollectionScan(_CollectionReader[Any], Scan[Any]):
    """A scan of a shared table that gives only a collection's entities, each as its class."""

    __slots__ = ("_collection",)

    def __init__(self, model: type[Any], spec: _Spec, collection: Collection) -> None:
        super().__init__(model, spec)
        self._collection = collection

    def _with(self, **changes: Any) -> Self:
        return type(self)(self._model, replace(self._spec, **changes), self._collection)

    def all(self) -> CollectionResult:  # type: ignore[override]
        """Every item of the collection's entities (up to ``limit``)."""
        return self._wrap(list(self))

    async def aall(self) -> CollectionResult:  # type: ignore[override]
        """Async twin of :meth:`all`."""
        return self._wrap([item async for item in self])
