"""dynamodb-py: a typed object mapper for Amazon DynamoDB, sync and async.

Declare a model, create its table, and work with items::

    from dynamodb import Model, CharField, IntegerField, create_table

    class Test(Model):
        name = CharField(hash_key=True)
        score = IntegerField(range_key=True)

    create_table(Test)
    Test.create(name="gs", score=100)
    item = Test.get(name="gs", score=100)
"""

from __future__ import annotations

from dynamodb import signals  # noqa: F401 - so that dynamodb.signals works after import dynamodb
from dynamodb import streams as streams  # dynamodb.streams.read(...) after `import dynamodb`
from dynamodb.core import errors as _errors
from dynamodb.core.capacity import Capacity, Prices, Units, capacity
from dynamodb.core.cursor import Cursor, set_cursor_secret
from dynamodb.core.errors import *  # noqa: F403 - every error class is public
from dynamodb.core.expressions import Condition
from dynamodb.core.operations import WaitPolicy
from dynamodb.core.ratelimit import RateLimit
from dynamodb.core.retries import RetryPolicy
from dynamodb.core.ulid import ulid
from dynamodb.core.updates import UpdateAction
from dynamodb.models import fields as _fields
from dynamodb.models.associations import belongs_to, has_and_belongs_to_many, has_many, has_one
from dynamodb.models.fields import *  # noqa: F403 - every field type is public
from dynamodb.models.model import Conditional, MapModel, Model
from dynamodb.models.query import Query, Scan
from dynamodb.models.schema_plan import (
    SchemaPlan,
    aapply_schema,
    aplan_schema,
    apply_schema,
    plan_schema,
)
from dynamodb.models.single_table.collection import Collection, CollectionResult
from dynamodb.models.table import Table, acreate_table, adelete_table, create_table, delete_table
from dynamodb.models.transaction import (
    Transaction,
    atransact_get,
    atransaction,
    transact_get,
    transaction,
)
from dynamodb.models.typed import Typed
from dynamodb.models.where import parse_condition
from dynamodb.wire.connection import (
    Connection,
    aclose,
    get_connection,
    set_connection,
    use_connection,
)
from dynamodb.wire.transport import MockTransport, Transport

__version__ = "0.1.0"

__all__ = [
    "Capacity",
    "Collection",
    "CollectionResult",
    "Condition",
    "Conditional",
    "Connection",
    "Cursor",
    "MapModel",
    "MockTransport",
    "Model",
    "Prices",
    "Query",
    "RateLimit",
    "RetryPolicy",
    "Scan",
    "SchemaPlan",
    "Table",
    "Transaction",
    "Transport",
    "Typed",
    "Units",
    "UpdateAction",
    "WaitPolicy",
    "__version__",
    "aapply_schema",
    "aclose",
    "acreate_table",
    "adelete_table",
    "aplan_schema",
    "apply_schema",
    "atransact_get",
    "atransaction",
    "belongs_to",
    "capacity",
    "create_table",
    "delete_table",
    "get_connection",
    "has_and_belongs_to_many",
    "has_many",
    "has_one",
    "parse_condition",
    "plan_schema",
    "set_connection",
    "set_cursor_secret",
    "transact_get",
    "transaction",
    "ulid",
    "use_connection",
]
__all__ += _errors.__all__  # every error class, as dynamodb.exceptions lists them
__all__ += _fields.__all__  # every field type, as dynamodb.fields lists them
