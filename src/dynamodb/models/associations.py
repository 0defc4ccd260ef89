"""Associations between models: belongs_to, has_many, has_one, has_and_belongs_to_many.

Storage (what ``create_table`` makes for each):

- ``belongs_to`` stores the owner's key in one string attribute of the child
  (``foreign_key``, default ``<name>_id``) and adds a global secondary index on
  it (``<foreign_key>_index``, projecting ALL by default) so an owner's
  children are one Query away. The owner's key is written as its value (for a
  hash-only key: ``"u1"``, ``"42"``) or, for a hash+range key, as a compact JSON
  list of both parts (``["forum","t1"]``): composite keys work everywhere.
- ``has_many`` / ``has_one`` store nothing on the owner: they read the inverse
  ``belongs_to`` index of the target.
- ``has_and_belongs_to_many`` stores, on each side, a string set of the other
  side's keys (``<name>_keys``); both sides change in one transaction.

Reading: ``post.user`` loads the owner with one GetItem and caches it;
``user.posts`` is a lazy collection (iterate, ``where``, ``count``, ``first``,
``all`` and their async twins); ``Model.query()...prefetch("posts")`` loads an
association for a whole page of items at once (one BatchGetItem for
``belongs_to`` and many-to-many, one index query per owner for ``has_many``).
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from dynamodb.core.batch import get_chunks, key_identity
from dynamodb.core.codec import AttributeValue, Item
from dynamodb.core.errors import (
    AssociationNotLoaded,
    InvalidArgument,
    InvalidValue,
    ModelDefinitionError,
    UnknownAssociation,
)
from dynamodb.core.expressions import Condition
from dynamodb.core.flow import Flow, call
from dynamodb.core.operations import get_item_request
from dynamodb.core.updates import UpdatePlan
from dynamodb.models import lifecycle
from dynamodb.models.fields import CharField, SetField
from dynamodb.models.persistence import prepare_changes, prepare_update, run_write
from dynamodb.models.registry import resolve
from dynamodb.models.transaction import Transaction

if TYPE_CHECKING:
    from dynamodb.core.compat import Self
    from dynamodb.models.model import Model
    from dynamodb.models.query import Query
    from dynamodb.wire.connection import Connection

__all__ = [
    "Association",
    "BelongsTo",
    "HasMany",
    "HasOne",
    "ManyToMany",
    "belongs_to",
    "has_and_belongs_to_many",
    "has_many",
    "has_one",
    "key_from_token",
    "key_token",
]

T = TypeVar("T", bound="Model")
A = TypeVar("A", bound="Association")

_CACHE = "_association_cache"
_ON_DELETE = (None, "cascade", "nullify")


def _scalar_text(attribute: AttributeValue) -> str:
    ((tag, raw),) = attribute.items()
    if tag == "B":
        return base64.b64encode(raw if isinstance(raw, bytes) else bytes(raw)).decode("ascii")
    if tag == "N":
        number = Decimal(raw)
        if number == number.to_integral_value():
            return str(int(number))
        return format(number.normalize(), "f")
    return str(raw)


def key_token(model: type[Model], key: Item) -> str:
    """The string a child stores to point at the item of ``model`` with wire key ``key``."""
    parts = [_scalar_text(key[field.name]) for field in model._meta.key_fields]
    return parts[0] if len(parts) == 1 else json.dumps(parts, separators=(",", ":"))


def key_from_token(model: type[Model], token: str) -> Item:
    """The wire key of ``model`` that ``token`` (from :func:`key_token`) names."""
    fields = model._meta.key_fields
    parts = [token] if len(fields) == 1 else json.loads(token)
    key: Item = {}
    for field, part in zip(fields, parts, strict=True):
        assert field.key_type is not None
        key[field.name] = {
            field.key_type: base64.b64decode(part) if field.key_type == "B" else part
        }
    return key


def _cache(item: Model) -> dict[str, Any]:
    return cast(dict[str, Any], item.__dict__.setdefault(_CACHE, {}))


class Association:
    """Base of the association descriptors."""

    name: str = ""
    model: type[Model] | None = None

    def __init__(self, target: type[Model] | str, inverse: str | None = None) -> None:
        self._target = target
        self._inverse = inverse

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        self.model = owner

    @property
    def target(self) -> type[Model]:
        """The associated model class (resolved from its name on first use)."""
        return resolve(self._target, self.model, self.name)

    def contribute(self, fields: dict[str, Any], indexes: dict[str, dict[str, Any]]) -> None:
        """Add the fields and indexes this association stores (at class creation)."""

    def load_flow(self, item: Model) -> Flow[Any]:
        """Load this association for one item, cache it there, and return it."""
        yield from self.prefetch_flow([item])
        return self.cached(item)

    def cached(self, item: Model) -> Any:
        """What the last load or prefetch cached on ``item``."""
        return _cache(item).get(self.name)

    def prefetch_flow(self, items: Sequence[Model]) -> Flow[None]:
        """Load this association for all ``items`` and cache it on each."""
        raise NotImplementedError
        yield  # pragma: no cover

    def deleted_flow(self, item: Model) -> Flow[None]:
        """What deleting ``item`` does to the associated items (default: nothing)."""
        return
        yield  # pragma: no cover

    def _connection(self, item: Model) -> Connection:
        return type(item)._meta.connection(None)

    def _load_lazily(self, item: Model) -> Any:
        """Load on attribute access; refused in a running event loop, which it would block."""
        if not _in_event_loop():
            return self._connection(item).run(self.load_flow(item))
        model = type(item).__name__
        raise AssociationNotLoaded(
            f"{model}.{self.name} is not loaded, and loading it here would block the running "
            f"event loop: await item.aload({self.name!r}) first, or read the items with "
            f"{model}.query().prefetch({self.name!r})"
        )

    def _find_inverse(self, kind: type[A], label: str) -> A:
        """The one association of ``kind`` on the target that points back at this model."""
        target = self.target
        candidates = [
            association
            for association in target._meta.associations.values()
            if isinstance(association, kind)
            and (self._inverse is None or association.name == self._inverse)
            and association.target is self.model
        ]
        if len(candidates) != 1:
            owner = self.model.__name__ if self.model else "?"
            named = f" named {self._inverse!r}" if self._inverse else ""
            raise ModelDefinitionError(
                f"{owner}.{self.name}: {target.__name__} needs exactly one {label}{named} "
                f"pointing back at {owner} (found {len(candidates)}); pass inverse='...'"
            )
        return candidates[0]


def _new_field(fields: dict[str, Any], attr: str, make: Any, owner: str) -> Any:
    existing = fields.get(attr)
    if existing is None:
        return make()
    if not isinstance(existing, type(make())):
        raise ModelDefinitionError(
            f"{owner}: the association needs {attr} to be a {type(make()).__name__}"
        )
    return existing


class BelongsTo(Association, Generic[T]):
    """The child side: ``post.user`` (loads and caches the owner), ``post.user = user``."""

    def __init__(
        self,
        target: type[T] | str,
        *,
        foreign_key: str | None = None,
        inverse: str | None = None,
        index_name: str | None = None,
        order_by: str | None = None,
        projection: str | list[str] = "ALL",
    ) -> None:
        super().__init__(target, inverse)
        self._foreign_key = foreign_key
        self._index_name = index_name
        self.order_by = order_by
        self.projection = projection
        self.by_parts = False
        """The foreign key is a part of this model's hash key template: the children
        live in the owner's partition (single-table design), found by their key."""

    @property
    def foreign_key(self) -> str:
        """The Python name (and attribute name) of the field holding the owner's key."""
        return self._foreign_key or f"{self.name}_id"

    @property
    def index_name(self) -> str:
        """The global secondary index on the foreign key."""
        return self._index_name or f"{self.foreign_key}_index"

    def contribute(self, fields: dict[str, Any], indexes: dict[str, dict[str, Any]]) -> None:
        owner = self.model.__name__ if self.model else "?"
        hash_keys = [field for field in fields.values() if field.hash_key]
        template = hash_keys[0].template if len(hash_keys) == 1 else None
        if template is not None and self.foreign_key in template.names:
            self.by_parts = True  # no index: the children are in the owner's partition
            return
        field = _new_field(fields, self.foreign_key, CharField, f"{owner}.{self.name}")
        if self.foreign_key not in fields:
            assert self.model is not None
            setattr(self.model, self.foreign_key, field)
            field.__set_name__(self.model, self.foreign_key)
            fields[self.foreign_key] = field
        options: dict[str, Any] = {"hash_key": self.foreign_key, "projections": self.projection}
        if self.order_by is not None:
            options["range_key"] = self.order_by
        indexes.setdefault(self.index_name, options)

    def cached(self, item: Model) -> Any:
        entry = _cache(item).get(self.name)
        return entry[1] if entry is not None else None

    def token_of(self, item: Model) -> str | None:
        return cast("str | None", item._data.get(self.foreign_key))

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, obj: Model, owner: type[Any] | None = None) -> T | None: ...

    def __get__(self, obj: Model | None, owner: type[Any] | None = None) -> Self | T | None:
        if obj is None:
            return self
        token = self.token_of(obj)
        cached = _cache(obj).get(self.name)
        if cached is not None and cached[0] == token:
            return cast("T | None", cached[1])
        return cast("T | None", self._load_lazily(obj))

    def __set__(self, obj: Model, value: T | None) -> None:
        if value is None:
            obj._data[self.foreign_key] = None
            _cache(obj)[self.name] = (None, None)
            return
        if not isinstance(value, self.target):
            raise InvalidArgument(
                f"{type(obj).__name__}.{self.name} takes a {self.target.__name__}"
            )
        token = self.owner_token(value)
        if self.by_parts:
            type(obj)._meta.fields[self.foreign_key].__set__(obj, token)
        else:
            obj._data[self.foreign_key] = token
        _cache(obj)[self.name] = (token, value)

    def owner_token(self, owner: Model) -> Any:
        """What a child holds in its foreign key to point at ``owner``."""
        if self.by_parts:
            return owner._data.get(self.foreign_key)
        return key_token(self.target, owner._key())

    def owner_key(self, token: Any) -> Item:
        """The owner's wire key from a child's foreign key."""
        if self.by_parts:
            return self.target._key_from_values({self.foreign_key: token})
        return key_from_token(self.target, token)

    def load_flow(self, item: Model) -> Flow[T | None]:
        """GetItem of the owner (cached on ``item``)."""
        token = self.token_of(item)
        owner: T | None = None
        if token is not None:
            target = cast("type[T]", self.target)
            request = get_item_request(target._meta.table_name, self.owner_key(token))
            response = yield from call("GetItem", request)
            found = response.get("Item")
            owner = target._meta.loader()(found, None) if found else None
            if owner is not None and owner.expired:
                owner = None
            yield from lifecycle.after_load((owner,))
        _cache(item)[self.name] = (token, owner)
        return owner

    def prefetch_flow(self, items: Sequence[Model]) -> Flow[None]:
        target = self.target
        key_names = [field.name for field in target._meta.key_fields]
        tokens = {self.token_of(item) for item in items} - {None}
        keys = [self.owner_key(token) for token in tokens if token is not None]
        found: dict[Any, Model] = {}
        load = target._meta.loader()
        for chunk in get_chunks(target._meta.table_name, keys, key_names):
            for raw in (yield from chunk):
                loaded = load(raw, None)
                if loaded is not None:
                    found[key_identity(raw, key_names)] = loaded
        for item in items:
            token = self.token_of(item)
            owner = None
            if token is not None:
                owner = found.get(key_identity(self.owner_key(token), key_names))
            _cache(item)[self.name] = (token, owner)


class _ChildrenSide(Association):
    """What has_many and has_one share: the inverse belongs_to on the target."""

    def __init__(
        self, target: type[Model] | str, *, inverse: str | None = None, on_delete: str | None = None
    ) -> None:
        if on_delete not in _ON_DELETE:
            raise ModelDefinitionError(
                f"on_delete must be None, 'cascade' or 'nullify', not {on_delete!r}"
            )
        super().__init__(target, inverse)
        self.on_delete = on_delete

    def inverse(self) -> BelongsTo[Any]:
        """The target's belongs_to that points back at this model."""
        return self._find_inverse(BelongsTo, "belongs_to")

    def query_for(self, item: Model) -> Query[Any]:
        """The Query reading ``item``'s children through the inverse index."""
        inverse = self.inverse()
        token = inverse.owner_token(item)
        target = self.target
        field = target._meta.fields[inverse.foreign_key]
        if inverse.by_parts:  # in the owner's partition: the planner finds it by key
            return target.query().where(field.eq(token))
        return target.query().use_index(inverse.index_name).where(field.eq(token))

    def children_flow(self, item: Model) -> Flow[list[Any]]:
        pager = self.query_for(item)._pager()
        children: list[Any] = []
        while (page := (yield from pager.page())) is not None:
            children.extend(page)
        return children

    def prefetch_flow(self, items: Sequence[Model]) -> Flow[None]:
        for item in items:
            _cache(item)[self.name] = yield from self.children_flow(item)

    def deleted_flow(self, item: Model) -> Flow[None]:
        if self.on_delete is None:
            return
        inverse = self.inverse()
        if inverse.by_parts and self.on_delete == "nullify":
            raise InvalidArgument(
                f"{type(item).__name__}.{self.name}: on_delete='nullify' cannot remove "
                f"{inverse.foreign_key}, a part of {self.target.__name__}'s key"
            )
        for child in (yield from self.children_flow(item)):
            if self.on_delete == "cascade":
                # The child's own associations follow (its links, its children).
                yield from child._delete_flow(None, False)
            else:
                child._data[inverse.foreign_key] = None
                write = prepare_changes(child)
                if write is not None:
                    yield from run_write(write)
        _cache(item).pop(self.name, None)


class HasMany(_ChildrenSide):
    """The owner side: ``user.posts`` is a lazy collection of the target's items."""

    def __get__(self, obj: Model | None, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        return Children(self, obj)


class HasOne(_ChildrenSide):
    """The owner side of a one-to-one: ``user.profile`` loads (and caches) one item or None."""

    def __get__(self, obj: Model | None, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        cached = _cache(obj).get(self.name)
        if cached is not None:
            return cached[0] if cached else None
        return self._load_lazily(obj)

    def load_flow(self, item: Model) -> Flow[Any]:
        children = yield from self.children_flow(item)
        _cache(item)[self.name] = children
        return children[0] if children else None

    def cached(self, item: Model) -> Any:
        children = _cache(item).get(self.name)
        return children[0] if children else None

    def __set__(self, obj: Model, value: Model | None) -> None:
        raise AttributeError(
            f"{type(obj).__name__}.{self.name} is read-only: set the other side "
            f"({self.target.__name__}.{self.inverse().name} = ...) and save it"
        )


class _Related(Generic[T, A]):
    """The items an association links to one owner, with the owner's cache of them."""

    def __init__(self, association: A, owner: Model) -> None:
        self.association = association
        self.owner = owner

    def __repr__(self) -> str:
        return f"<{self.association.name} of {self.owner!r}>"

    def _cached(self) -> list[T] | None:
        return cast("list[T] | None", _cache(self.owner).get(self.association.name))


class Children(_Related[T, _ChildrenSide]):
    """``user.posts``: the target items pointing at one owner (lazy, query-like)."""

    def query(self) -> Query[T]:
        """The underlying Query (through the inverse belongs_to index)."""
        return self.association.query_for(self.owner)

    def where(self, *conditions: Condition) -> Query[T]:
        """The children matching more conditions."""
        return self.query().where(*conditions)

    def __iter__(self) -> Iterator[T]:
        cached = self._cached()
        return iter(cached) if cached is not None else iter(self.query())

    def __aiter__(self) -> AsyncIterator[T]:
        return self._aiterate()

    async def _aiterate(self) -> AsyncIterator[T]:
        cached = self._cached()
        if cached is not None:
            for item in cached:
                yield item
            return
        async for item in self.query():
            yield item

    def all(self) -> list[T]:
        """Every child (cached after a prefetch)."""
        return list(self)

    async def aall(self) -> list[T]:
        """Async twin of :meth:`all`."""
        return [item async for item in self]

    def count(self) -> int:
        """How many children."""
        cached = self._cached()
        return len(cached) if cached is not None else self.query().count()

    async def acount(self) -> int:
        """Async twin of :meth:`count`."""
        cached = self._cached()
        return len(cached) if cached is not None else await self.query().acount()

    def first(self) -> T | None:
        """The first child, or None."""
        cached = self._cached()
        if cached is not None:
            return cached[0] if cached else None
        return self.query().first()

    async def afirst(self) -> T | None:
        """Async twin of :meth:`first`."""
        cached = self._cached()
        if cached is not None:
            return cached[0] if cached else None
        return await self.query().afirst()

    def _link_flow(self, child: T, linked: bool) -> Flow[T]:
        inverse = self.association.inverse()
        if not isinstance(child, self.association.target):
            raise InvalidArgument(
                f"{self.association.name} holds {self.association.target.__name__} items"
            )
        if inverse.by_parts:
            raise InvalidArgument(
                f"{self.association.name} of {type(self.owner).__name__} are linked by their "
                f"key ({inverse.foreign_key} is a part of it): create them with "
                f"{inverse.foreign_key}=... instead of adding or removing them"
            )
        token = key_token(type(self.owner), self.owner._key())
        previous = child._data.get(inverse.foreign_key)
        previous_cache = _cache(child).get(inverse.name)
        condition = None
        if linked:
            child._data[inverse.foreign_key] = token
            _cache(child)[inverse.name] = (token, self.owner)
        else:
            if previous != token:
                raise InvalidValue(
                    f"{child!r} is not one of {self.owner!r}'s {self.association.name}"
                )
            child._data[inverse.foreign_key] = None
            condition = type(child)._meta.fields[inverse.foreign_key].eq(token)
        try:
            write = prepare_changes(child, condition)
            if write is not None:
                yield from run_write(write)
        except Exception:
            # Not linked (or unlinked) after all: the child stays as it was.
            child._data[inverse.foreign_key] = previous
            _cache(child)[inverse.name] = previous_cache
            raise
        _cache(self.owner).pop(self.association.name, None)
        return child

    def add(self, child: T) -> T:
        """Point ``child`` at this owner and save it."""
        return self.owner._meta.connection(None).run(self._link_flow(child, True))

    async def aadd(self, child: T) -> T:
        """Async twin of :meth:`add`."""
        return await self.owner._meta.connection(None).arun(self._link_flow(child, True))

    def remove(self, child: T) -> T:
        """Unlink ``child`` (its foreign key is removed) and save it."""
        return self.owner._meta.connection(None).run(self._link_flow(child, False))

    async def aremove(self, child: T) -> T:
        """Async twin of :meth:`remove`."""
        return await self.owner._meta.connection(None).arun(self._link_flow(child, False))

    def create(self, **values: Any) -> T:
        """Create a new child of this owner."""
        return self.add(cast("T", self.association.target(**values)))

    async def acreate(self, **values: Any) -> T:
        """Async twin of :meth:`create`."""
        return await self.aadd(cast("T", self.association.target(**values)))


class ManyToMany(Association):
    """Many-to-many: each side keeps a string set of the other side's keys."""

    def __init__(
        self, target: type[Model] | str, *, inverse: str | None = None, attribute: str | None = None
    ) -> None:
        super().__init__(target, inverse)
        self._attribute = attribute

    @property
    def attribute(self) -> str:
        """The Python name (and attribute name) of the key set."""
        return self._attribute or f"{self.name}_keys"

    def contribute(self, fields: dict[str, Any], indexes: dict[str, dict[str, Any]]) -> None:
        owner = self.model.__name__ if self.model else "?"
        field = _new_field(fields, self.attribute, lambda: SetField(of=str), f"{owner}.{self.name}")
        if self.attribute not in fields:
            assert self.model is not None
            setattr(self.model, self.attribute, field)
            field.__set_name__(self.model, self.attribute)
            fields[self.attribute] = field

    def inverse(self) -> ManyToMany:
        """The other side's declaration."""
        return self._find_inverse(ManyToMany, "has_and_belongs_to_many")

    def __get__(self, obj: Model | None, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        return Linked(self, obj)

    def tokens(self, item: Model) -> set[str]:
        return set(item._data.get(self.attribute) or ())

    def items_flow(self, item: Model) -> Flow[list[Any]]:
        target = self.target
        key_names = [field.name for field in target._meta.key_fields]
        keys = [key_from_token(target, token) for token in sorted(self.tokens(item))]
        found: list[Any] = []
        load = target._meta.loader()
        for chunk in get_chunks(target._meta.table_name, keys, key_names):
            loaded = (load(raw, None) for raw in (yield from chunk))
            found.extend(other for other in loaded if other is not None and not other.expired)
        yield from lifecycle.after_load(found)
        return found

    def prefetch_flow(self, items: Sequence[Model]) -> Flow[None]:
        target = self.target
        key_names = [field.name for field in target._meta.key_fields]
        tokens = set().union(*(self.tokens(item) for item in items)) if items else set()
        keys = [key_from_token(target, token) for token in tokens]
        by_token: dict[str, Any] = {}
        load = target._meta.loader()
        for chunk in get_chunks(target._meta.table_name, keys, key_names):
            for raw in (yield from chunk):
                other = load(raw, None)
                if other is not None:
                    by_token[key_token(target, other._key())] = other
        for item in items:
            _cache(item)[self.name] = [
                by_token[token] for token in sorted(self.tokens(item)) if token in by_token
            ]

    def link_flow(self, item: Model, other: Model, linked: bool) -> Flow[None]:
        if not isinstance(other, self.target):
            raise InvalidArgument(f"{self.name} holds {self.target.__name__} items")
        inverse = self.inverse()
        for side in (item, other):
            if side._original is None:
                # Linking updates both items by key; an unsaved one would be
                # created with only its key and the link.
                raise InvalidValue(f"save {side!r} before linking it")
        mine = type(item)._meta.fields[self.attribute]
        theirs = type(other)._meta.fields[inverse.attribute]
        my_token = key_token(type(item), item._key())
        their_token = key_token(type(other), other._key())
        transaction = Transaction()
        if linked:
            transaction.update(item, mine.add({their_token}))
            transaction.update(other, theirs.add({my_token}))
        else:
            transaction.update(item, mine.delete({their_token}))
            transaction.update(other, theirs.delete({my_token}))
        yield from transaction._flow()
        _cache(item).pop(self.name, None)
        _cache(other).pop(inverse.name, None)

    def deleted_flow(self, item: Model) -> Flow[None]:
        inverse = self.inverse()
        theirs = self.target._meta.fields[inverse.attribute]
        my_token = key_token(type(item), item._key())
        for other in (yield from self.items_flow(item)):
            yield from run_write(prepare_update(other, UpdatePlan([theirs.delete({my_token})])))


class Linked(_Related[T, ManyToMany]):
    """``post.tags``: the items linked many-to-many (read with one BatchGetItem)."""

    def all(self) -> list[T]:
        """Every linked item."""
        cached = self._cached()
        if cached is not None:
            return cached
        found = self.owner._meta.connection(None).run(self.association.items_flow(self.owner))
        _cache(self.owner)[self.association.name] = found
        return cast("list[T]", found)

    async def aall(self) -> list[T]:
        """Async twin of :meth:`all`."""
        cached = self._cached()
        if cached is not None:
            return cached
        found = await self.owner._meta.connection(None).arun(
            self.association.items_flow(self.owner)
        )
        _cache(self.owner)[self.association.name] = found
        return cast("list[T]", found)

    def __iter__(self) -> Iterator[T]:
        return iter(self.all())

    def __aiter__(self) -> AsyncIterator[T]:
        return self._aiterate()

    async def _aiterate(self) -> AsyncIterator[T]:
        for item in await self.aall():
            yield item

    def count(self) -> int:
        """How many items are linked (no request: the keys are on this item)."""
        return len(self.association.tokens(self.owner))

    def add(self, other: T) -> None:
        """Link both ways, in one transaction."""
        self.owner._meta.connection(None).run(self.association.link_flow(self.owner, other, True))

    async def aadd(self, other: T) -> None:
        """Async twin of :meth:`add`."""
        await self.owner._meta.connection(None).arun(
            self.association.link_flow(self.owner, other, True)
        )

    def remove(self, other: T) -> None:
        """Unlink both ways, in one transaction."""
        self.owner._meta.connection(None).run(self.association.link_flow(self.owner, other, False))

    async def aremove(self, other: T) -> None:
        """Async twin of :meth:`remove`."""
        flow = self.association.link_flow(self.owner, other, False)
        await self.owner._meta.connection(None).arun(flow)


belongs_to = BelongsTo
"""``post.user = belongs_to(User)``: this model's items point at one ``target`` item.

The link is stored in ``foreign_key`` (default ``<name>_id``) and indexed by a
global index (``index_name``, sorted by ``order_by``, projecting ``projection``),
through which the target's ``has_many`` / ``has_one`` read their children.
"""


def has_many(
    target: type[Model] | str, *, inverse: str | None = None, on_delete: str | None = None
) -> HasMany:
    """Many ``target`` items point at this one (through their belongs_to ``inverse``).

    ``on_delete``: None (leave them), ``"cascade"`` (delete them) or
    ``"nullify"`` (remove their link) when this item is deleted.
    """
    return HasMany(target, inverse=inverse, on_delete=on_delete)


def has_one(
    target: type[Model] | str, *, inverse: str | None = None, on_delete: str | None = None
) -> HasOne:
    """One ``target`` item points at this one (through its belongs_to ``inverse``)."""
    return HasOne(target, inverse=inverse, on_delete=on_delete)


def has_and_belongs_to_many(
    target: type[Model] | str, *, inverse: str | None = None, attribute: str | None = None
) -> ManyToMany:
    """Many-to-many with ``target``; declare it on both models."""
    return ManyToMany(target, inverse=inverse, attribute=attribute)


def prefetch_flow(model: type[Model], names: Iterable[str], items: Sequence[Model]) -> Flow[None]:
    """Load the named associations for a page of items."""
    for name in names:
        association = model._meta.associations.get(name)
        if association is None:
            raise UnknownAssociation(f"{model.__name__} has no association {name!r}")
        yield from association.prefetch_flow(items)


def _in_event_loop() -> bool:
    """Whether this thread runs an event loop (asyncio is not imported to tell: without it
    imported, none can be running)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
