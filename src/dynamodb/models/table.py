"""Table management for a model: create, update, delete, describe.

``Table(Test).create()`` (or ``Table(Test())``, as the dynamodb-py README writes it) and
``create_table(Test, force=True)``; every call has an ``a``-prefixed async twin.
"""

from __future__ import annotations

from typing import Any, TypeVar

from dynamodb.core import operations
from dynamodb.core.flow import Flow
from dynamodb.core.operations import WaitPolicy
from dynamodb.models.model import Model
from dynamodb.models.schema import TableSchema
from dynamodb.models.single_table.entities import shared_schema, table_entities
from dynamodb.wire import tracing
from dynamodb.wire.connection import Connection

__all__ = ["Table", "acreate_table", "adelete_table", "create_table", "delete_table"]

T = TypeVar("T")


class Table:
    """The DynamoDB table of a model class (or of an instance's class)."""

    def __init__(
        self,
        model: type[Model] | Model,
        *,
        connection: Connection | None = None,
        wait: WaitPolicy | None = None,
    ) -> None:
        self.model: type[Model] = model if isinstance(model, type) else type(model)
        self.schema: TableSchema = shared_schema(self.model)
        """The table's schema: the model's keys and capacity, and, for a table that several
        models share, every index they declare."""
        self.connection = self.model._meta.connection(connection)
        self.wait = wait

    @property
    def name(self) -> str:
        """The table's name in DynamoDB: its connection's ``table_prefix``, then the model's."""
        return self.connection.table_prefix + self.schema.table_name

    def __repr__(self) -> str:
        return f"<Table {self.name} of {self.model.__name__}>"

    def _run(self, call: str, flow: Flow[T]) -> T:
        with tracing.call_span(f"Table.{call}", self.name):
            return self.connection.run(flow)

    async def _arun(self, call: str, flow: Flow[T]) -> T:
        with tracing.call_span(f"Table.{call}", self.name):
            return await self.connection.arun(flow)

    def _create(self, wait: bool) -> Flow[dict[str, Any]]:
        return operations.create_table(self.schema, wait=wait, policy=self.wait)

    def create(self, *, wait: bool = True) -> dict[str, Any]:
        """CreateTable and wait until it (and its indexes) are ACTIVE; the description.

        Raises ResourceInUse if the table exists (see :func:`create_table` for a
        form that leaves an existing table alone).
        """
        return self._run("create", self._create(wait))

    async def acreate(self, *, wait: bool = True) -> dict[str, Any]:
        """Async twin of :meth:`create`."""
        return await self._arun("create", self._create(wait))

    def _update(self) -> Flow[dict[str, Any]]:
        return operations.update_table(self.schema, policy=self.wait)

    def update(self) -> dict[str, Any]:
        """Change capacity, billing mode and global indexes to match the model; the description.

        Sends nothing when the table matches already. Raises SchemaMismatch for
        what cannot change in place (keys, local indexes).
        """
        return self._run("update", self._update())

    async def aupdate(self) -> dict[str, Any]:
        """Async twin of :meth:`update`."""
        return await self._arun("update", self._update())

    def _delete(self, wait: bool, missing_ok: bool) -> Flow[bool]:
        return operations.delete_table(
            self.schema.table_name, wait=wait, missing_ok=missing_ok, policy=self.wait
        )

    def delete(self, *, wait: bool = True, missing_ok: bool = False) -> bool:
        """DeleteTable and wait until it is gone; False if it was missing and ``missing_ok``."""
        return self._run("delete", self._delete(wait, missing_ok))

    async def adelete(self, *, wait: bool = True, missing_ok: bool = False) -> bool:
        """Async twin of :meth:`delete`."""
        return await self._arun("delete", self._delete(wait, missing_ok))

    def _info(self) -> Flow[dict[str, Any]]:
        description = yield from operations.describe_table(self.schema.table_name)
        ttl = yield from operations.describe_ttl(self.schema.table_name)
        entities = table_entities(self.schema.table_name)
        return {
            **description,
            "TimeToLive": ttl,
            "Entities": sorted(entities.classes) if entities.shared else [],
        }

    def info(self) -> dict[str, Any]:
        """DescribeTable's description of the table (status, keys, indexes, counts), with
        ``"TimeToLive"`` (DescribeTimeToLive's ``TimeToLiveStatus`` and ``AttributeName``) and
        ``"Entities"``: the entities of the models sharing it (empty when one model owns it)."""
        return self._run("info", self._info())

    async def ainfo(self) -> dict[str, Any]:
        """Async twin of :meth:`info`."""
        return await self._arun("info", self._info())


def _ensure(table: Table, force: bool) -> Flow[dict[str, Any]]:
    return operations.ensure_table(table.schema, force=force, policy=table.wait)


def create_table(
    model: type[Model] | Model, force: bool = False, *, connection: Connection | None = None
) -> dict[str, Any]:
    """Create the model's table; ``force=True`` drops and recreates an existing one.

    Without ``force`` an existing table is left as it is (and waited for).
    """
    table = Table(model, connection=connection)
    return table._run("create_table", _ensure(table, force))


async def acreate_table(
    model: type[Model] | Model, force: bool = False, *, connection: Connection | None = None
) -> dict[str, Any]:
    """Async twin of :func:`create_table`."""
    table = Table(model, connection=connection)
    return await table._arun("create_table", _ensure(table, force))


def delete_table(model: type[Model] | Model, *, connection: Connection | None = None) -> bool:
    """Delete the model's table if it exists; True if there was one."""
    return Table(model, connection=connection).delete(missing_ok=True)


async def adelete_table(
    model: type[Model] | Model, *, connection: Connection | None = None
) -> bool:
    """Async twin of :func:`delete_table`."""
    return await Table(model, connection=connection).adelete(missing_ok=True)
