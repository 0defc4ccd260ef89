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

from dynamodb.core.cursor import Cursor, set_cursor_secret
from dynamodb.core.errors import (
    AccessDenied,
    AssociationNotLoaded,
    BatchIncomplete,
    ConditionalCheckFailed,
    DecodeError,
    DynamoDBError,
    FieldValidationError,
    IdempotentParameterMismatch,
    InternalServerError,
    InvalidCursor,
    ItemAlreadyExists,
    ItemCollectionSizeLimitExceeded,
    LimitExceeded,
    ModelDefinitionError,
    NoIndexForQuery,
    OutcomeUnknown,
    ProvisionedThroughputExceeded,
    QueryError,
    RequestLimitExceeded,
    ResourceInUse,
    ResourceNotFound,
    SchemaMismatch,
    ServiceError,
    ThrottlingError,
    TransactionCanceled,
    TransactionConflict,
    TransportError,
    UpdateConflict,
    ValidationError,
    VersionConflict,
    WaitTimeout,
)
from dynamodb.core.expressions import Condition
from dynamodb.core.operations import WaitPolicy
from dynamodb.core.retries import RetryPolicy
from dynamodb.core.updates import UpdateAction
from dynamodb.models.associations import belongs_to, has_and_belongs_to_many, has_many, has_one
from dynamodb.models.fields import (
    BinaryField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    DictField,
    EnumField,
    Field,
    FloatField,
    IntegerField,
    JSONField,
    ListField,
    MapField,
    NestedAttribute,
    SetField,
    TimeDeltaField,
    UUIDField,
    VersionField,
)
from dynamodb.models.model import Conditional, MapModel, Model
from dynamodb.models.query import Query, Scan
from dynamodb.models.table import Table, acreate_table, adelete_table, create_table, delete_table
from dynamodb.models.transaction import (
    Transaction,
    atransact_get,
    atransaction,
    transact_get,
    transaction,
)
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
    "AccessDenied",
    "AssociationNotLoaded",
    "BatchIncomplete",
    "BinaryField",
    "BooleanField",
    "CharField",
    "Condition",
    "Conditional",
    "ConditionalCheckFailed",
    "Connection",
    "Cursor",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "DecodeError",
    "DictField",
    "DynamoDBError",
    "EnumField",
    "Field",
    "FieldValidationError",
    "FloatField",
    "IdempotentParameterMismatch",
    "IntegerField",
    "InternalServerError",
    "InvalidCursor",
    "ItemAlreadyExists",
    "ItemCollectionSizeLimitExceeded",
    "JSONField",
    "LimitExceeded",
    "ListField",
    "MapField",
    "MapModel",
    "MockTransport",
    "Model",
    "ModelDefinitionError",
    "NestedAttribute",
    "NoIndexForQuery",
    "OutcomeUnknown",
    "ProvisionedThroughputExceeded",
    "Query",
    "QueryError",
    "RequestLimitExceeded",
    "ResourceInUse",
    "ResourceNotFound",
    "RetryPolicy",
    "Scan",
    "SchemaMismatch",
    "ServiceError",
    "SetField",
    "Table",
    "ThrottlingError",
    "TimeDeltaField",
    "Transaction",
    "TransactionCanceled",
    "TransactionConflict",
    "Transport",
    "TransportError",
    "UUIDField",
    "UpdateAction",
    "UpdateConflict",
    "ValidationError",
    "VersionConflict",
    "VersionField",
    "WaitPolicy",
    "WaitTimeout",
    "__version__",
    "aclose",
    "acreate_table",
    "adelete_table",
    "atransact_get",
    "atransaction",
    "belongs_to",
    "create_table",
    "delete_table",
    "get_connection",
    "has_and_belongs_to_many",
    "has_many",
    "has_one",
    "set_connection",
    "set_cursor_secret",
    "transact_get",
    "transaction",
    "use_connection",
]
