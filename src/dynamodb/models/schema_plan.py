"""What creating or updating the models' tables would change: the schema plan.

``plan_schema([Order, Customer])`` compares each model's wanted table
(:class:`~dynamodb.models.schema.TableSchema`, merged across the models that
share a table) with what DynamoDB describes (DescribeTable and
DescribeTimeToLive), and returns a :class:`SchemaPlan`: for each table the
changes that UpdateTable, CreateTable and UpdateTimeToLive can make (a missing
table, global indexes to add, remove or rebuild, billing and capacity, TTL, the
stream), each with the requests that make it, and what cannot change in place
(keys, local indexes), with what to do instead. :func:`apply_plan` sends the
requests one change at a time, waiting for the table and its indexes to be
ACTIVE in between (DynamoDB takes one index creation or deletion per call).

Comparing is pure (:func:`plan_table` takes the descriptions); only reading the
descriptions and applying talk to DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dynamodb.core import operations
from dynamodb.core.errors import ResourceNotFound
from dynamodb.core.flow import Flow, call
from dynamodb.core.operations import WaitPolicy
from dynamodb.models.schema import IndexSpec, TableSchema
from dynamodb.wire import tracing

__all__ = [
    "Blocker",
    "Change",
    "SchemaPlan",
    "TablePlan",
    "aapply_schema",
    "aplan_schema",
    "apply_plan",
    "apply_schema",
    "plan_schema",
    "plan_schema_flow",
    "plan_table",
    "table_schemas",
]

Step = tuple[str, dict[str, Any]]
"""One request of a change: ``(operation, params)``."""


@dataclass(frozen=True)
class Change:
    """One difference that DynamoDB can make in place, and the requests that make it.

    ``kind`` is one of ``create-table``, ``add-index``, ``remove-index``,
    ``rebuild-index``, ``billing``, ``capacity``, ``index-capacity``, ``ttl``,
    ``stream``.
    """

    table: str
    kind: str
    description: str
    requests: tuple[Step, ...] = ()

    def __str__(self) -> str:
        return f"{self.table}: {self.description}"


@dataclass(frozen=True)
class Blocker:
    """A difference that cannot change in place (``keys``, ``local-indexes``) and the remedy."""

    table: str
    kind: str
    description: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.table}: {self.description}; {self.remedy}"


@dataclass
class TablePlan:
    """One table's plan: its models, whether it exists, its changes and blockers."""

    table: str
    models: tuple[str, ...]
    exists: bool
    changes: list[Change] = field(default_factory=list)
    blocked: list[Blocker] = field(default_factory=list)
    schema: TableSchema | None = field(default=None, repr=False, compare=False)

    @property
    def up_to_date(self) -> bool:
        """Nothing to change and nothing blocked."""
        return not self.changes and not self.blocked


@dataclass
class SchemaPlan:
    """The plan of every table: ``changes`` and ``blocked`` across them, in table order."""

    tables: list[TablePlan]

    @property
    def changes(self) -> list[Change]:
        """Every change, table by table, in the order they are applied."""
        return [change for table in self.tables for change in table.changes]

    @property
    def blocked(self) -> list[Blocker]:
        """Every difference that cannot change in place."""
        return [blocker for table in self.tables for blocker in table.blocked]

    @property
    def empty(self) -> bool:
        """Whether every table matches its models."""
        return all(table.up_to_date for table in self.tables)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (for ``schema plan --json``)."""
        return {
            "tables": [
                {
                    "table": table.table,
                    "models": list(table.models),
                    "exists": table.exists,
                    "changes": [
                        {"kind": change.kind, "description": change.description}
                        for change in table.changes
                    ],
                    "blocked": [
                        {
                            "kind": blocker.kind,
                            "description": blocker.description,
                            "remedy": blocker.remedy,
                        }
                        for blocker in table.blocked
                    ],
                }
                for table in self.tables
            ]
        }


def table_schemas(models: Iterable[type[Any]]) -> list[tuple[TableSchema, tuple[str, ...]]]:
    """One schema per table of ``models`` (merged across the models sharing it), with the
    names of its models; abstract and map models are left out."""
    from dynamodb.models.single_table.entities import shared_schema

    found: dict[str, tuple[TableSchema, list[str]]] = {}
    for model in models:
        meta = model._meta
        if meta.schema is None:
            continue
        name = meta.schema.table_name
        if name not in found:
            found[name] = (shared_schema(model), [])
        found[name][1].append(model.__name__)
    return [(schema, tuple(names)) for schema, names in found.values()]


# -- comparing ------------------------------------------------------------------------


def _keys_text(key_schema: Sequence[Mapping[str, str]]) -> str:
    return ", ".join(f"{key['AttributeName']} ({key['KeyType']})" for key in key_schema)


def _projection_of(projection: Mapping[str, Any]) -> tuple[str, frozenset[str]]:
    kind = str(projection.get("ProjectionType", "ALL"))
    return kind, frozenset(projection.get("NonKeyAttributes", ()))


def _index_text(spec: IndexSpec) -> str:
    text = f"{spec.name} on {_keys_text(spec.key_schema())}, {spec.projection_type}"
    if spec.projected:
        text += f" ({', '.join(spec.projected)})"
    return text


def _throughput_text(throughput: Mapping[str, Any]) -> str:
    read = throughput.get("ReadCapacityUnits")
    write = throughput.get("WriteCapacityUnits")
    return f"{read} read / {write} write units"


def _fixed_parts(schema: TableSchema, description: Mapping[str, Any]) -> list[Blocker]:
    """Keys and local indexes that differ: they cannot change in place."""
    table = schema.table_name
    recreate = (
        "recreate the table (export, create_table(Model, force=True), import) or move the "
        "items to a new table with a migration"
    )
    blocked: list[Blocker] = []
    types = {
        definition["AttributeName"]: definition["AttributeType"]
        for definition in description.get("AttributeDefinitions", [])
    }
    stored = description.get("KeySchema") or []
    wanted_types = {key.name: key.key_type for key in schema.key_fields}
    if stored != schema.key_schema() or any(
        name in types and types[name] != kind for name, kind in wanted_types.items()
    ):
        have = ", ".join(
            f"{key['AttributeName']} ({key['KeyType']}, {types.get(key['AttributeName'], '?')})"
            for key in stored
        )
        want = ", ".join(
            f"{key['AttributeName']} ({key['KeyType']}, {wanted_types[key['AttributeName']]})"
            for key in schema.key_schema()
        )
        blocked.append(Blocker(table, "keys", f"keys are {have}, the models want {want}", recreate))
    existing = {index["IndexName"]: index for index in description.get("LocalSecondaryIndexes", [])}
    wanted = {spec.name: spec for spec in schema.indexes.values() if not spec.is_global}
    for name in sorted(existing.keys() - wanted.keys()):
        blocked.append(
            Blocker(table, "local-indexes", f"local index {name} is not in the models", recreate)
        )
    for name in sorted(wanted.keys() - existing.keys()):
        blocked.append(
            Blocker(
                table,
                "local-indexes",
                f"local index {_index_text(wanted[name])} is missing",
                recreate + "; or declare it as a global index, which can be added in place",
            )
        )
    for name in sorted(wanted.keys() & existing.keys()):
        spec, index = wanted[name], existing[name]
        if index.get("KeySchema") != spec.key_schema() or _projection_of(
            index.get("Projection", {})
        ) != (spec.projection_type, frozenset(spec.projected)):
            blocked.append(
                Blocker(
                    table,
                    "local-indexes",
                    f"local index {name} differs: the models want {_index_text(spec)}",
                    recreate,
                )
            )
    return blocked


def _describe_update(schema: TableSchema, request: dict[str, Any]) -> Change:
    """What one of ``update_table_requests``'s requests does, as a Change."""
    table = schema.table_name
    step: Step = ("UpdateTable", request)
    updates = request.get("GlobalSecondaryIndexUpdates") or []
    if "BillingMode" in request or "ProvisionedThroughput" in request:
        mode = request.get("BillingMode")
        if mode == "PAY_PER_REQUEST":
            return Change(table, "billing", "billing becomes on-demand (PAY_PER_REQUEST)", (step,))
        throughput = _throughput_text(request.get("ProvisionedThroughput", {}))
        if mode == "PROVISIONED":
            text = f"billing becomes provisioned, {throughput}"
            return Change(table, "billing", text, (step,))
        return Change(table, "capacity", f"capacity becomes {throughput}", (step,))
    if "StreamSpecification" in request:
        spec = request["StreamSpecification"]
        if spec.get("StreamEnabled"):
            return Change(table, "stream", f"stream on ({spec['StreamViewType']})", (step,))
        return Change(table, "stream", "stream off", (step,))
    update = updates[0]
    if "Delete" in update:
        name = update["Delete"]["IndexName"]
        return Change(table, "remove-index", f"remove global index {name}", (step,))
    if "Create" in update:
        spec = schema.indexes[update["Create"]["IndexName"]]
        return Change(table, "add-index", f"add global index {_index_text(spec)}", (step,))
    name = update["Update"]["IndexName"]
    throughput = _throughput_text(update["Update"]["ProvisionedThroughput"])
    return Change(table, "index-capacity", f"global index {name}: {throughput}", (step,))


def _rebuilds(schema: TableSchema, description: Mapping[str, Any]) -> list[Change]:
    """Global indexes of the same name whose keys or projection differ: delete, then create."""
    changes: list[Change] = []
    existing = {
        index["IndexName"]: index for index in description.get("GlobalSecondaryIndexes", [])
    }
    for name, spec in schema.indexes.items():
        index = existing.get(name)
        if not spec.is_global or index is None:
            continue
        same = index.get("KeySchema") == spec.key_schema() and _projection_of(
            index.get("Projection", {})
        ) == (spec.projection_type, frozenset(spec.projected))
        if same:
            continue
        definition = spec.definition(schema._index_throughput(spec))
        delete = {
            "TableName": schema.table_name,
            "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": name}}],
        }
        create = {
            "TableName": schema.table_name,
            "AttributeDefinitions": schema.attribute_definitions(),
            "GlobalSecondaryIndexUpdates": [{"Create": definition}],
        }
        was = f"{_keys_text(index.get('KeySchema', []))}, {_projection_of(index['Projection'])[0]}"
        changes.append(
            Change(
                schema.table_name,
                "rebuild-index",
                f"rebuild global index {name} (it has {was}; the models want "
                f"{_index_text(spec)}): removed, then added (queries on it fail in between)",
                (("UpdateTable", delete), ("UpdateTable", create)),
            )
        )
    return changes


def _ttl_changes(schema: TableSchema, ttl: Mapping[str, Any]) -> list[Change]:
    table = schema.table_name
    status = ttl.get("TimeToLiveStatus", "DISABLED")
    current = ttl.get("AttributeName") if status in ("ENABLED", "ENABLING") else None
    wanted = schema.ttl_attribute
    if current == wanted:
        return []

    def spec(enabled: bool, attribute: str) -> Step:
        specification = {"Enabled": enabled, "AttributeName": attribute}
        return ("UpdateTimeToLive", {"TableName": table, "TimeToLiveSpecification": specification})

    if wanted is None:
        assert current is not None
        return [
            Change(table, "ttl", f"Time to Live off (was on {current})", (spec(False, current),))
        ]
    if current is None:
        return [Change(table, "ttl", f"Time to Live on {wanted}", (spec(True, wanted),))]
    return [
        Change(
            table,
            "ttl",
            f"Time to Live moves from {current} to {wanted} (off, then on: AWS allows one "
            "change an hour, so the second step may have to wait)",
            (spec(False, current), spec(True, wanted)),
        )
    ]


def plan_table(
    schema: TableSchema,
    description: Mapping[str, Any] | None,
    ttl: Mapping[str, Any] | None = None,
    models: tuple[str, ...] = (),
) -> TablePlan:
    """The plan of one table, from DescribeTable's ``Table`` (None: missing) and
    DescribeTimeToLive's ``TimeToLiveDescription``. Pure."""
    schema.refresh_capacity()
    table = schema.table_name
    models = models or (schema.model_name,)
    if description is None:
        parts = [f"keys {_keys_text(schema.key_schema())}"]
        parts += [
            f"{'global' if spec.is_global else 'local'} index {_index_text(spec)}"
            for spec in schema.indexes.values()
        ]
        parts.append(
            "on-demand"
            if schema.on_demand
            else f"provisioned, {_throughput_text(schema.throughput())}"
        )
        if isinstance(schema.stream, str):
            parts.append(f"stream {schema.stream}")
        if schema.ttl_attribute is not None:
            parts.append(f"Time to Live on {schema.ttl_attribute}")
        steps: list[Step] = [("CreateTable", schema.create_table_request())]
        if schema.ttl_attribute is not None:
            specification = {"Enabled": True, "AttributeName": schema.ttl_attribute}
            steps.append(
                ("UpdateTimeToLive", {"TableName": table, "TimeToLiveSpecification": specification})
            )
        change = Change(table, "create-table", "create table: " + "; ".join(parts), tuple(steps))
        return TablePlan(table, models, False, [change], [], schema)
    blocked = _fixed_parts(schema, description)
    changes: list[Change] = []
    if not blocked:
        rebuilds = _rebuilds(schema, description)
        changes = [_describe_update(schema, r) for r in schema.update_table_requests(description)]
        # Rebuilds go after the other index changes: a deletion then a creation of one name.
        changes += rebuilds
    changes += _ttl_changes(schema, ttl or {})
    return TablePlan(table, models, True, changes, blocked, schema)


# -- flows ----------------------------------------------------------------------------


def plan_schema_flow(models: Iterable[type[Any]]) -> Flow[SchemaPlan]:
    """Describe each table of ``models`` and plan it."""
    plans: list[TablePlan] = []
    for schema, names in table_schemas(models):
        try:
            description: dict[str, Any] | None = yield from operations.describe_table(
                schema.table_name
            )
        except ResourceNotFound:
            description = None
        ttl = None
        if description is not None:
            ttl = yield from operations.describe_ttl(schema.table_name)
        plans.append(plan_table(schema, description, ttl, names))
    return SchemaPlan(plans)


def apply_plan(
    plan: SchemaPlan,
    policy: WaitPolicy | None = None,
    on_change: Callable[[Change], None] | None = None,
) -> Flow[list[Change]]:
    """Apply every change of ``plan`` (blocked tables keep their other changes), one
    request at a time, waiting for ACTIVE after each; the changes applied.

    ``on_change(change)`` is called before each change (progress).
    """
    applied: list[Change] = []
    for table in plan.tables:
        for change in table.changes:
            if on_change is not None:
                on_change(change)
            for operation, params in change.requests:
                if operation == "UpdateTable":  # the previous step may still be updating
                    yield from operations.wait_until_active(table.table, policy)
                yield from call(operation, params)
            yield from operations.wait_until_active(table.table, policy)
            applied.append(change)
    return applied


def _connection_of(models: Sequence[type[Any]], connection: Any) -> Any:
    if connection is not None:
        return connection
    from dynamodb.wire.connection import get_connection

    return models[0]._meta.connection() if models else get_connection()


def plan_schema(*models: type[Any], connection: Any = None) -> SchemaPlan:
    """What creating or updating the tables of ``models`` would change (sends no change).

    ``dynamodb.plan_schema(Order, Customer).changes`` lists the changes in the
    order :func:`apply_schema` makes them; ``.blocked`` what cannot change in place.
    """
    with tracing.call_span("plan_schema"):
        return _connection_of(models, connection).run(plan_schema_flow(models))  # type: ignore[no-any-return]


async def aplan_schema(*models: type[Any], connection: Any = None) -> SchemaPlan:
    """Async twin of :func:`plan_schema`."""
    with tracing.call_span("plan_schema"):
        return await _connection_of(models, connection).arun(plan_schema_flow(models))  # type: ignore[no-any-return]


def apply_schema(
    plan: SchemaPlan,
    *,
    connection: Any = None,
    wait: WaitPolicy | None = None,
    on_change: Callable[[Change], None] | None = None,
) -> list[Change]:
    """Apply a plan of :func:`plan_schema`, one change at a time; the changes applied."""
    driver, flow = _applying(plan, connection, wait, on_change)
    with tracing.call_span("apply_schema"):
        return driver.run(flow)  # type: ignore[no-any-return]


async def aapply_schema(
    plan: SchemaPlan,
    *,
    connection: Any = None,
    wait: WaitPolicy | None = None,
    on_change: Callable[[Change], None] | None = None,
) -> list[Change]:
    """Async twin of :func:`apply_schema`."""
    driver, flow = _applying(plan, connection, wait, on_change)
    with tracing.call_span("apply_schema"):
        return await driver.arun(flow)  # type: ignore[no-any-return]


def _applying(
    plan: SchemaPlan,
    connection: Any,
    wait: WaitPolicy | None,
    on_change: Callable[[Change], None] | None,
) -> tuple[Any, Flow[list[Change]]]:
    """The connection (the given one, else the first model's) and the flow that applies."""
    models = [t.schema.model for t in plan.tables if t.schema is not None and t.schema.model]
    return _connection_of(models, connection), apply_plan(plan, wait, on_change)
