"""A model's table: keys, capacity, indexes, and the CreateTable/UpdateTable payloads.

Built once per model class when the class is defined, so mistakes in a model
(no hash key, an index on an unknown field ...) raise at definition time. The
capacity is the exception: ``ReadCapacityUnits`` and ``WriteCapacityUnits`` are
read from the model class each time a payload is built, so ``Test.ReadCapacityUnits
= 50`` reaches the next ``Table(Test).update()`` (a bad value is refused when it is
assigned, by the model's metaclass: :func:`check_capacity`).

Global indexes are declared as dynamix does (``__secondary_indexes__ = {name:
dict(hash_key=..., range_key=..., projections=[...])}``) or as the original
dynamodb-py does (``__global_indexes__ = [(name, (hash_key, range_key),
[projected fields])]``); both spellings make the same indexes.

Index projections follow the dynamix rule: an index projects the keys only
(``KEYS_ONLY``) unless ``projections=[...]`` lists attributes (``INCLUDE``);
``projections="ALL"`` projects everything. Keys-only indexes are the cheapest to
write and store; ``get_items(requery_for_all_projections=True)`` fetches the rest.

``__stream__ = "NEW_AND_OLD_IMAGES"`` (or ``"KEYS_ONLY"``, ``"NEW_IMAGE"``,
``"OLD_IMAGE"``; True means ``"NEW_AND_OLD_IMAGES"``) turns the table's stream
on; ``__stream__ = False`` turns it off at the next update; absent (None), an
update leaves the stream as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dynamodb.core.errors import ModelDefinitionError, SchemaMismatch
from dynamodb.models.fields import Field, TTLField

__all__ = ["CAPACITY_SETTINGS", "IndexSpec", "TableSchema", "check_capacity"]

_MAX_LOCAL_INDEXES = 5
_MAX_GLOBAL_INDEXES = 20
_GLOBAL_INDEX_OPTIONS = {"hash_key", "range_key", "read_capacity", "write_capacity", "projections"}
_STREAM_VIEWS = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")

CAPACITY_SETTINGS = ("ReadCapacityUnits", "WriteCapacityUnits")
"""The class attributes that set a table's provisioned capacity."""


def check_capacity(model_name: str, setting: str, value: Any) -> None:
    """ModelDefinitionError unless ``value`` can be ``setting`` (a positive int, or None)."""
    problem = _capacity_problem(setting, value)
    if problem is not None:
        raise ModelDefinitionError(f"model {model_name}: {problem}")


def _capacity_problem(setting: str, value: Any) -> str | None:
    if value is None or (not isinstance(value, bool) and isinstance(value, int) and value >= 1):
        return None
    return f"{setting} must be a positive int (or None: on-demand), not {value!r}"


def _key_schema(hash_key: Field[Any], range_key: Field[Any] | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key.name, "KeyType": "HASH"}]
    if range_key is not None:
        schema.append({"AttributeName": range_key.name, "KeyType": "RANGE"})
    return schema


@dataclass(frozen=True)
class IndexSpec:
    """One secondary index."""

    name: str
    is_global: bool
    hash_key: Field[Any]
    range_key: Field[Any] | None
    projection_type: str  # KEYS_ONLY | INCLUDE | ALL
    projected: tuple[str, ...] = ()
    read_capacity: int | None = None
    """As declared; None: the table's (global indexes of a provisioned table)."""
    write_capacity: int | None = None

    def key_schema(self) -> list[dict[str, str]]:
        """The KeySchema: hash key, then range key."""
        return _key_schema(self.hash_key, self.range_key)

    def projection(self) -> dict[str, Any]:
        projection: dict[str, Any] = {"ProjectionType": self.projection_type}
        if self.projection_type == "INCLUDE":
            projection["NonKeyAttributes"] = list(self.projected)
        return projection

    def definition(self, throughput: dict[str, int] | None = None) -> dict[str, Any]:
        """The entry of CreateTable's LocalSecondaryIndexes/GlobalSecondaryIndexes.

        ``throughput`` is a global index's ProvisionedThroughput (None: on-demand).
        """
        definition: dict[str, Any] = {
            "IndexName": self.name,
            "KeySchema": self.key_schema(),
            "Projection": self.projection(),
        }
        if self.is_global and throughput is not None:
            definition["ProvisionedThroughput"] = throughput
        return definition


@dataclass
class TableSchema:
    """Everything DynamoDB needs to know about a model's table."""

    model_name: str
    table_name: str
    hash_key: Field[Any]
    range_key: Field[Any] | None
    read_capacity: int | None
    write_capacity: int | None
    indexes: dict[str, IndexSpec] = field(default_factory=dict)
    ttl_attribute: str | None = None
    """The attribute DynamoDB's Time to Live reads (a TTLField), if any."""
    model: Any = field(default=None, repr=False, compare=False)
    """The model class, whose ReadCapacityUnits/WriteCapacityUnits payloads read (None:
    the capacity given here stays)."""
    stream: str | bool | None = None
    """The stream's view type (``"NEW_AND_OLD_IMAGES"`` ...); False: no stream; None:
    whatever the table has."""

    @property
    def on_demand(self) -> bool:
        return self.read_capacity is None

    @property
    def key_fields(self) -> tuple[Field[Any], ...]:
        if self.range_key is None:
            return (self.hash_key,)
        return (self.hash_key, self.range_key)

    # -- building from a model class ------------------------------------------

    @classmethod
    def build(
        cls,
        model_name: str,
        namespace: Mapping[str, Any],
        fields: Mapping[str, Field[Any]],
        model: Any = None,
    ) -> TableSchema:
        """Check a model's definition and return its schema (ModelDefinitionError if wrong).

        ``model`` is the model class: payloads take its capacity as it is then.
        """

        def fail(message: str) -> ModelDefinitionError:
            return ModelDefinitionError(f"model {model_name}: {message}")

        hash_keys = [f for f in fields.values() if f.hash_key]
        range_keys = [f for f in fields.values() if f.range_key]
        if len(hash_keys) != 1:
            named = ", ".join(f.attr for f in hash_keys) or "none"
            raise fail(f"needs exactly one field with hash_key=True (found: {named})")
        if len(range_keys) > 1:
            named = ", ".join(f.attr for f in range_keys)
            raise fail(f"has more than one field with range_key=True: {named}")
        hash_key = hash_keys[0]
        range_key = range_keys[0] if range_keys else None
        for key in (hash_key, range_key):
            if key is not None and key.hash_key and key.range_key:
                raise fail(f"field {key.attr} cannot be both hash_key and range_key")
            if key is not None and key.key_type is None:
                raise fail(
                    f"field {key.attr} ({type(key).__name__}) cannot be a key: keys are "
                    "strings, numbers or bytes"
                )
        table_name = namespace.get("__table_name__") or model_name
        if not isinstance(table_name, str) or not 3 <= len(table_name) <= 255:
            raise fail(f"__table_name__ must be a string of 3 to 255 characters: {table_name!r}")
        read, write = cls._capacity(fail, namespace)
        ttl = [f for f in fields.values() if isinstance(f, TTLField)]
        schema = cls(
            model_name,
            table_name,
            hash_key,
            range_key,
            read,
            write,
            ttl_attribute=ttl[0].name if ttl else None,
            model=model,
        )
        schema._add_local_indexes(fail, fields)
        declared = namespace.get("__secondary_indexes__") or {}
        if not isinstance(declared, Mapping):
            raise fail("__secondary_indexes__ must be a dict of {index name: dict(...)}")
        legacy = schema._legacy_global_indexes(fail, namespace.get("__global_indexes__"), fields)
        both = sorted(set(declared) & set(legacy))
        if both:
            raise fail(
                f"index {both[0]!r} is declared in both __secondary_indexes__ and "
                "__global_indexes__; declare each index once"
            )
        schema._add_global_indexes(fail, {**declared, **legacy}, fields)
        schema.stream = _stream_setting(fail, namespace.get("__stream__"))
        return schema

    @staticmethod
    def _capacity(fail: Any, namespace: Mapping[str, Any]) -> tuple[int | None, int | None]:
        read = namespace.get("ReadCapacityUnits")
        write = namespace.get("WriteCapacityUnits")
        for setting, value in (("ReadCapacityUnits", read), ("WriteCapacityUnits", write)):
            problem = _capacity_problem(setting, value)
            if problem is not None:
                raise fail(problem)
        if (read is None) != (write is None):
            raise fail(
                "give both ReadCapacityUnits and WriteCapacityUnits, or neither (on-demand); "
                f"ReadCapacityUnits is {read!r} and WriteCapacityUnits {write!r}"
            )
        return read, write

    def refresh_capacity(self) -> None:
        """Take the capacity from the model class as it is now (ModelDefinitionError if
        it does not make sense: one of the two missing, an index with its own capacity
        on an on-demand table)."""
        if self.model is None:
            return

        def fail(message: str) -> ModelDefinitionError:
            return ModelDefinitionError(f"model {self.model_name}: {message}")

        settings = {name: getattr(self.model, name, None) for name in CAPACITY_SETTINGS}
        read, write = self._capacity(fail, settings)
        if read is None:
            for spec in self.indexes.values():
                if spec.read_capacity is not None or spec.write_capacity is not None:
                    raise fail(
                        f"index {spec.name!r}: the table is on-demand (no ReadCapacityUnits), "
                        "so the index takes no read_capacity/write_capacity"
                    )
        self.read_capacity, self.write_capacity = read, write

    def _projection(
        self,
        fail: Any,
        owner: str,
        projections: Any,
        fields: Mapping[str, Field[Any]],
        keys: Iterable[Field[Any] | None] = (),
    ) -> tuple[str, tuple[str, ...]]:
        """(ProjectionType, NonKeyAttributes); fields among ``keys`` are left out of
        the list, since every index projects its keys and the table's."""
        if projections is None or projections == [] or projections == ():
            return "KEYS_ONLY", ()
        if projections == "ALL":
            return "ALL", ()
        if isinstance(projections, str) or not isinstance(projections, Iterable):
            raise fail(f"{owner}: projections must be a list of field names or 'ALL'")
        skipped = {key.name for key in keys if key is not None}
        names: list[str] = []
        for entry in projections:
            found = _find_field(fields, entry)
            if found is None:
                raise fail(f"{owner}: projections names an unknown field {entry!r}")
            if found.name not in names and found.name not in skipped:
                names.append(found.name)
        return ("INCLUDE", tuple(names)) if names else ("KEYS_ONLY", ())

    def _add_local_indexes(self, fail: Any, fields: Mapping[str, Field[Any]]) -> None:
        for candidate in fields.values():
            if not candidate.indexed:
                continue
            owner = f"field {candidate.attr}"
            if candidate.is_key:
                raise fail(f"{owner} is a table key; indexed=True is for other fields")
            if self.range_key is None:
                raise fail(
                    f"{owner} has indexed=True, but local secondary indexes need a table "
                    "with a range key; use a global index in __secondary_indexes__"
                )
            if candidate.key_type is None:
                raise fail(f"{owner} ({type(candidate).__name__}) cannot be an index key")
            kind, projected = self._projection(fail, owner, candidate.projections, fields)
            spec = IndexSpec(
                candidate.local_index_name(), False, self.hash_key, candidate, kind, projected
            )
            self._add_index(fail, spec)
        if sum(not spec.is_global for spec in self.indexes.values()) > _MAX_LOCAL_INDEXES:
            raise fail(f"DynamoDB allows at most {_MAX_LOCAL_INDEXES} local secondary indexes")

    def _legacy_global_indexes(
        self, fail: Any, declared: Any, fields: Mapping[str, Field[Any]]
    ) -> dict[str, dict[str, Any]]:
        """The original dynamodb-py's ``__global_indexes__``, as ``__secondary_indexes__`` options.

        Each entry is ``(name, keys)`` or ``(name, keys, projected)``: ``keys`` is
        ``(hash_key, range_key)``, ``(hash_key,)`` or a bare hash key name;
        ``projected`` lists fields (keys among them are projected anyway), or is
        ``"ALL"`` or ``"KEYS_ONLY"``; without it the index projects the keys only.
        """
        if declared is None:
            return {}
        spelling = "__global_indexes__ = [(name, (hash_key, range_key), [fields]), ...]"
        if isinstance(declared, (str, bytes, Mapping)) or not isinstance(declared, Iterable):
            raise fail(f"__global_indexes__ must be a list: {spelling}, not {declared!r}")
        options: dict[str, dict[str, Any]] = {}
        for entry in declared:
            if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3):
                raise fail(f"__global_indexes__ entry {entry!r} is not (name, keys, fields)")
            name, keys, projected = (*entry, None) if len(entry) == 2 else entry
            if not isinstance(name, str) or not name:
                raise fail(f"__global_indexes__ entry {entry!r}: the index name is not a string")
            owner = f"index {name!r}"
            if name in options:
                raise fail(f"two indexes are named {name!r}")
            if isinstance(keys, (str, Field)):
                keys = (keys,)
            if not isinstance(keys, (tuple, list)) or len(keys) not in (1, 2):
                raise fail(
                    f"{owner}: keys must be (hash_key, range_key), (hash_key,) or a hash key "
                    f"name, not {keys!r}"
                )
            found = [_find_field(fields, key) for key in keys]
            for key, field_found in zip(keys, found, strict=True):
                if field_found is None:
                    raise fail(f"{owner}: key {key!r} is not a field")
            options[name] = {
                "hash_key": found[0],
                "range_key": found[1] if len(found) > 1 else None,
                "projections": None if projected == "KEYS_ONLY" else projected,
            }
        return options

    def _add_global_indexes(
        self, fail: Any, declared: Mapping[str, Any], fields: Mapping[str, Field[Any]]
    ) -> None:
        for name, options in declared.items():
            owner = f"index {name!r}"
            if not isinstance(options, Mapping):
                raise fail(f"{owner}: give dict(hash_key=..., range_key=..., ...)")
            unknown = set(options) - _GLOBAL_INDEX_OPTIONS
            if unknown:
                raise fail(f"{owner}: unknown options {sorted(unknown)}")
            hash_key = _find_field(fields, options.get("hash_key"))
            if hash_key is None:
                raise fail(f"{owner}: hash_key {options.get('hash_key')!r} is not a field")
            range_name = options.get("range_key")
            range_key = _find_field(fields, range_name) if range_name is not None else None
            if range_name is not None and range_key is None:
                raise fail(f"{owner}: range_key {range_name!r} is not a field")
            for key in (hash_key, range_key):
                if key is not None and key.key_type is None:
                    raise fail(f"{owner}: field {key.attr} cannot be an index key")
            read = options.get("read_capacity")
            write = options.get("write_capacity")
            if self.on_demand and (read is not None or write is not None):
                raise fail(
                    f"{owner}: the table is on-demand (no ReadCapacityUnits), so the index "
                    "takes no read_capacity/write_capacity"
                )
            kind, projected = self._projection(
                fail,
                owner,
                options.get("projections"),
                fields,
                (hash_key, range_key, *self.key_fields),
            )
            spec = IndexSpec(str(name), True, hash_key, range_key, kind, projected, read, write)
            self._add_index(fail, spec)
        if sum(spec.is_global for spec in self.indexes.values()) > _MAX_GLOBAL_INDEXES:
            raise fail(f"DynamoDB allows at most {_MAX_GLOBAL_INDEXES} global secondary indexes")

    def _add_index(self, fail: Any, spec: IndexSpec) -> None:
        if spec.name in self.indexes:
            raise fail(f"two indexes are named {spec.name!r}")
        self.indexes[spec.name] = spec
        for key in (spec.hash_key, spec.range_key):
            if key is not None:
                key.index_key = True

    # -- payloads ---------------------------------------------------------------

    def attribute_definitions(self) -> list[dict[str, str]]:
        """AttributeDefinitions: every attribute used as a table or index key."""
        seen: dict[str, str] = {}
        keys: list[Field[Any]] = list(self.key_fields)
        for spec in self.indexes.values():
            keys.append(spec.hash_key)
            if spec.range_key is not None:
                keys.append(spec.range_key)
        for key in keys:
            assert key.key_type is not None
            seen.setdefault(key.name, key.key_type)
        return [{"AttributeName": name, "AttributeType": kind} for name, kind in seen.items()]

    def key_schema(self) -> list[dict[str, str]]:
        """The KeySchema: hash key, then range key."""
        return _key_schema(self.hash_key, self.range_key)

    def throughput(self) -> dict[str, int]:
        assert self.read_capacity is not None
        assert self.write_capacity is not None
        return {"ReadCapacityUnits": self.read_capacity, "WriteCapacityUnits": self.write_capacity}

    def create_table_request(self) -> dict[str, Any]:
        """The CreateTable request for this table."""
        self.refresh_capacity()
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeySchema": self.key_schema(),
            "AttributeDefinitions": self.attribute_definitions(),
        }
        if self.on_demand:
            request["BillingMode"] = "PAY_PER_REQUEST"
        else:
            request["BillingMode"] = "PROVISIONED"
            request["ProvisionedThroughput"] = self.throughput()
        local = [spec.definition() for spec in self.indexes.values() if not spec.is_global]
        global_ = [
            spec.definition(self._index_throughput(spec))
            for spec in self.indexes.values()
            if spec.is_global
        ]
        if local:
            request["LocalSecondaryIndexes"] = local
        if global_:
            request["GlobalSecondaryIndexes"] = global_
        if isinstance(self.stream, str):
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream}
        return request

    def update_table_requests(self, description: Mapping[str, Any]) -> list[dict[str, Any]]:
        """UpdateTable requests that make the described table match this schema.

        DynamoDB takes one index creation or deletion per UpdateTable call, so this
        returns a list to send one at a time, waiting for ACTIVE in between.
        Differences that UpdateTable cannot make (keys, local indexes) raise
        SchemaMismatch.
        """
        self.refresh_capacity()
        self._check_fixed_parts(description)
        requests: list[dict[str, Any]] = []
        existing = {
            index["IndexName"]: index for index in description.get("GlobalSecondaryIndexes", [])
        }
        wanted = {name: spec for name, spec in self.indexes.items() if spec.is_global}
        # Deletions go first: switching to PROVISIONED must give every remaining index
        # its throughput in the same UpdateTable call.
        for name in existing.keys() - wanted.keys():
            requests.append(self._index_update({"Delete": {"IndexName": name}}))
        billing = self._billing_update(description)
        to_provisioned = billing.get("BillingMode") == "PROVISIONED"
        kept_updates: list[dict[str, Any]] = []
        for name, spec in wanted.items():
            if name not in existing:
                continue
            update = self._index_throughput_update(spec, existing[name])
            if update is not None:
                kept_updates.append(update)
        if to_provisioned and kept_updates:
            billing["GlobalSecondaryIndexUpdates"] = kept_updates
            kept_updates = []
        if billing:
            requests.append({"TableName": self.table_name, **billing})
        requests.extend(self._index_update(update) for update in kept_updates)
        for name, spec in wanted.items():
            if name not in existing:
                definition = spec.definition(self._index_throughput(spec))
                requests.append(self._index_update({"Create": definition}, create=True))
        requests.extend(self._stream_updates(description))
        return requests

    def _stream_updates(self, description: Mapping[str, Any]) -> list[dict[str, Any]]:
        """UpdateTable requests for the stream: on, off, or another view (off, then on).

        A stream's view cannot change in place: the old stream is disabled (its
        records stay readable for 24 hours) and a new one, with a new ARN, begins.
        """
        if self.stream is None:
            return []
        current = description.get("StreamSpecification") or {}
        view = current.get("StreamViewType") if current.get("StreamEnabled") else None
        wanted = self.stream if isinstance(self.stream, str) else None
        if view == wanted:
            return []
        requests = []
        if view is not None:
            requests.append(
                {"TableName": self.table_name, "StreamSpecification": {"StreamEnabled": False}}
            )
        if wanted is not None:
            requests.append(
                {
                    "TableName": self.table_name,
                    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": wanted},
                }
            )
        return requests

    def _check_fixed_parts(self, description: Mapping[str, Any]) -> None:
        if description.get("KeySchema") != self.key_schema():
            raise SchemaMismatch(
                f"table {self.table_name}: its key schema {description.get('KeySchema')} "
                f"differs from model {self.model_name}'s {self.key_schema()}; keys cannot "
                "change in place (recreate it: create_table(Model, force=True))"
            )
        types = {
            definition["AttributeName"]: definition["AttributeType"]
            for definition in description.get("AttributeDefinitions", [])
        }
        for key in self.key_fields:
            if key.name in types and types[key.name] != key.key_type:
                raise SchemaMismatch(
                    f"table {self.table_name}: its key schema stores {key.name!r} as "
                    f"{types[key.name]}, model {self.model_name} as {key.key_type}; keys cannot "
                    "change in place (recreate it: create_table(Model, force=True))"
                )
        existing = {
            index["IndexName"]: (index["KeySchema"], index["Projection"].get("ProjectionType"))
            for index in description.get("LocalSecondaryIndexes", [])
        }
        wanted = {
            spec.name: (spec.key_schema(), spec.projection_type)
            for spec in self.indexes.values()
            if not spec.is_global
        }
        if existing != wanted:
            raise SchemaMismatch(
                f"table {self.table_name}: local secondary indexes {sorted(existing)} differ "
                f"from model {self.model_name}'s {sorted(wanted)}; local indexes cannot change "
                "in place (recreate it: create_table(Model, force=True))"
            )

    def _billing_update(self, description: Mapping[str, Any]) -> dict[str, Any]:
        summary = description.get("BillingModeSummary") or {}
        current_mode = summary.get("BillingMode", "PROVISIONED")
        if self.on_demand:
            return {} if current_mode == "PAY_PER_REQUEST" else {"BillingMode": "PAY_PER_REQUEST"}
        current = description.get("ProvisionedThroughput") or {}
        same = (
            current_mode == "PROVISIONED"
            and current.get("ReadCapacityUnits") == self.read_capacity
            and current.get("WriteCapacityUnits") == self.write_capacity
        )
        if same:
            return {}
        update: dict[str, Any] = {"ProvisionedThroughput": self.throughput()}
        if current_mode != "PROVISIONED":
            update["BillingMode"] = "PROVISIONED"
        return update

    def _index_update(self, update: dict[str, Any], create: bool = False) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "GlobalSecondaryIndexUpdates": [update],
        }
        if create:
            request["AttributeDefinitions"] = self.attribute_definitions()
        return request

    def _index_throughput(self, spec: IndexSpec) -> dict[str, int] | None:
        """A global index's ProvisionedThroughput: its own, else the table's (None: on-demand)."""
        if self.on_demand:
            return None
        read = spec.read_capacity if spec.read_capacity is not None else self.read_capacity
        write = spec.write_capacity if spec.write_capacity is not None else self.write_capacity
        assert read is not None
        assert write is not None
        return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}

    def _index_throughput_update(
        self, spec: IndexSpec, existing: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        throughput = self._index_throughput(spec)
        if throughput is None:
            return None
        current = existing.get("ProvisionedThroughput") or {}
        if all(current.get(name) == value for name, value in throughput.items()):
            return None
        return {"Update": {"IndexName": spec.name, "ProvisionedThroughput": throughput}}


def _stream_setting(fail: Any, value: Any) -> str | bool | None:
    """``__stream__``: a view type, False (no stream) or None (leave it as it is)."""
    if value is None or value is False:
        return value
    if value is True:
        return "NEW_AND_OLD_IMAGES"
    if isinstance(value, str) and value.upper() in _STREAM_VIEWS:
        return value.upper()
    raise fail(
        f"__stream__ must be one of {', '.join(repr(view) for view in _STREAM_VIEWS)} "
        f"(or False: no stream), not {value!r}"
    )


def _find_field(fields: Mapping[str, Field[Any]], reference: Any) -> Field[Any] | None:
    """A field named by Python name, DynamoDB name, or given as the field itself."""
    if isinstance(reference, Field):
        return reference if reference in fields.values() else None
    if not isinstance(reference, str):
        return None
    if reference in fields:
        return fields[reference]
    for candidate in fields.values():
        if candidate.name == reference:
            return candidate
    return None
