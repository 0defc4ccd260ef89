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

from .connection import Connection, aclose, get_connection, set_connection, use_connection
from .exceptions import (
    ConditionalCheckFailed,
    DecodeError,
    DynamoDBError,
    FieldValidationError,
    InternalServerError,
    ItemAlreadyExists,
    ItemCollectionSizeLimitExceeded,
    LimitExceeded,
    ModelDefinitionError,
    ProvisionedThroughputExceeded,
    RequestLimitExceeded,
    ResourceInUse,
    ResourceNotFound,
    SchemaMismatch,
    ServiceError,
    ThrottlingError,
    TransactionCanceled,
    TransactionConflict,
    TransportError,
    ValidationError,
    WaitTimeout,
)
from .expressions import Condition
from .fields import (
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
    SetField,
    TimeDeltaField,
    UUIDField,
)
from .model import MapModel, Model
from .operations import WaitPolicy
from .table import Table, acreate_table, adelete_table, create_table, delete_table

__version__ = "0.1.0"

__all__ = [
    "BinaryField",
    "BooleanField",
    "CharField",
    "Condition",
    "ConditionalCheckFailed",
    "Connection",
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
    "IntegerField",
    "InternalServerError",
    "ItemAlreadyExists",
    "ItemCollectionSizeLimitExceeded",
    "JSONField",
    "LimitExceeded",
    "ListField",
    "MapField",
    "MapModel",
    "Model",
    "ModelDefinitionError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "ResourceInUse",
    "ResourceNotFound",
    "SchemaMismatch",
    "ServiceError",
    "SetField",
    "Table",
    "ThrottlingError",
    "TimeDeltaField",
    "TransactionCanceled",
    "TransactionConflict",
    "TransportError",
    "UUIDField",
    "ValidationError",
    "WaitPolicy",
    "WaitTimeout",
    "__version__",
    "aclose",
    "acreate_table",
    "adelete_table",
    "create_table",
    "delete_table",
    "get_connection",
    "set_connection",
    "use_connection",
]
