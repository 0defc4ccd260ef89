"""Every error dynamodb-py raises, rooted at :class:`DynamoDBError`.

DynamoDB's own error codes each have a class (``ConditionalCheckFailed`` for
``ConditionalCheckFailedException`` ...) so callers can ``except`` exactly what
they handle; :func:`error_from_response` picks the class. Errors we detect before
sending anything (a bad value, a bad model definition) have their own classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AccessDenied",
    "AssociationNotLoaded",
    "BatchIncomplete",
    "ConcurrentModification",
    "ConditionalCheckFailed",
    "DecodeError",
    "DecryptionError",
    "DuplicateItem",
    "DynamoDBError",
    "EmptyUpdate",
    "EncryptionError",
    "ExpiredIterator",
    "ExpressionTooLong",
    "FieldValidationError",
    "IdempotentParameterMismatch",
    "InternalServerError",
    "InvalidArgument",
    "InvalidCursor",
    "InvalidValue",
    "ItemAlreadyExists",
    "ItemCollectionSizeLimitExceeded",
    "ItemNotFound",
    "ItemTooLarge",
    "KeyTooLong",
    "KeyUpdateError",
    "LeaseLost",
    "LimitExceeded",
    "LimitViolation",
    "MigrationError",
    "MissingDependency",
    "ModelDefinitionError",
    "NestingTooDeep",
    "NewerSchemaVersion",
    "NoIndexForQuery",
    "NotACondition",
    "OutcomeUnknown",
    "PartialItemError",
    "ProjectionError",
    "ProvisionedThroughputExceeded",
    "QueryError",
    "RequestLimitExceeded",
    "ResourceInUse",
    "ResourceNotFound",
    "SchemaMismatch",
    "ServiceError",
    "StreamNotEnabled",
    "TableNotFound",
    "ThrottlingError",
    "TransactionCanceled",
    "TransactionCommitted",
    "TransactionConflict",
    "TransactionPayloadTooLarge",
    "TransactionTooLarge",
    "TransferError",
    "TransportError",
    "TrimmedDataAccess",
    "UniqueViolation",
    "UnknownAssociation",
    "UnknownAttribute",
    "UnknownField",
    "UpdateConflict",
    "UpgradeError",
    "ValidationError",
    "VersionConflict",
    "WaitTimeout",
    "WhereSyntaxError",
    "error_from_response",
]


class DynamoDBError(Exception):
    """The root of every error raised by dynamodb-py."""


class ModelDefinitionError(DynamoDBError, TypeError):
    """A model class is defined wrongly (raised when the class statement runs)."""


class FieldValidationError(DynamoDBError, ValueError):
    """A value does not fit its field; raised before any request is sent."""

    def __init__(self, model: str, field: str, value: Any, reason: str) -> None:
        self.model = model
        self.field = field
        self.value = value
        self.reason = reason
        shown = repr(value)
        if len(shown) > 200:
            shown = shown[:197] + "..."
        super().__init__(f"{model}.{field}: {shown} is not valid: {reason}")


class DecodeError(DynamoDBError, ValueError):
    """An attribute read from DynamoDB does not fit its field (e.g. a string in an IntegerField)."""

    def __init__(self, model: str, field: str, attribute: Any, reason: str) -> None:
        self.model = model
        self.field = field
        self.attribute = attribute
        super().__init__(f"{model}.{field}: cannot read stored value {attribute!r}: {reason}")


class UpgradeError(DynamoDBError, ValueError):
    """A lazy upgrade (``upgrade_to_N(raw)``) failed on a stored item, or returned a non-dict."""


class NewerSchemaVersion(DynamoDBError, ValueError):
    """A save of an item stored with a newer ``_schema_version`` than its model's
    ``__schema_version__`` (a rolling deploy): it would write the item back in the older
    shape, so it is refused before anything is sent."""

    def __init__(self, model: str, key: dict[str, Any], stored: int, current: int) -> None:
        self.model = model
        self.key = key
        self.stored = stored
        self.current = current
        super().__init__(
            f"{model} {key} is stored with _schema_version {stored}, newer than the model's "
            f"__schema_version__ {current}: saving it here would write it back in the older "
            "shape; save it where the newer model runs"
        )


class AssociationNotLoaded(DynamoDBError, RuntimeError):
    """An association was read lazily inside a running event loop, where loading would block.

    Load it first with ``await item.aload("name")``, or read the items with
    ``query().prefetch("name")``; then the attribute reads the cache.
    """


class SchemaMismatch(DynamoDBError):
    """The table in DynamoDB cannot be changed to match the model in place."""


class WaitTimeout(DynamoDBError, TimeoutError):
    """A table did not reach the awaited state in time."""


class TransportError(DynamoDBError, ConnectionError):
    """The request did not get an answer: connection refused, reset or timed out.

    ``sent`` is False when the request is known not to have reached DynamoDB
    (the connection could not be made), True when it may have been applied.
    ``timeout`` is True when a timeout (connect or read) ended the wait.
    """

    def __init__(self, message: str, *, sent: bool = True, timeout: bool = False) -> None:
        super().__init__(message)
        self.sent = sent
        self.timeout = timeout


class OutcomeUnknown(DynamoDBError):
    """A write that is not safe to resend got no answer: it may or may not be applied.

    Raised, instead of resending, when DynamoDB answered HTTP 5xx or the
    connection dropped after an ADD, a ``list_append``, a counter, a version bump
    or another conditional write was sent. ``operation``, ``table`` and ``key``
    (plain values) name the write and ``cause`` is the error seen. Read the item
    with ``consistent=True`` to see whether it was applied; or make such calls
    with ``idempotent=True``, which DynamoDB applies at most once, so they are
    resent safely.
    """

    def __init__(
        self,
        *,
        operation: str,
        table: str | None,
        key: dict[str, Any] | None,
        cause: BaseException,
    ) -> None:
        self.operation = operation
        self.table = table
        self.key = key
        self.cause = cause
        where = f" on table {table!r}" if table else ""
        item = f" for key {key}" if key else ""
        super().__init__(
            f"{operation}{where}{item} may or may not have been applied ({cause}); it was "
            "not resent, since applying it twice would change the result. Read the item "
            "with consistent=True to check, or pass idempotent=True to make the call safe "
            "to resend"
        )


_BY_CODE: dict[str, type[ServiceError]] = {}
"""DynamoDB error codes to the classes that stand for them (filled as they are defined)."""


class ServiceError(DynamoDBError):
    """An error answered by DynamoDB; ``code`` and ``message`` are DynamoDB's own.

    A subclass names the error code it stands for (``class ValidationError(ServiceError,
    code="ValidationException")``); :func:`error_from_response` picks it by that code.
    """

    code: str = ""

    def __init_subclass__(cls, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
            _BY_CODE[code] = cls

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        response: dict[str, Any] | None = None,
        operation: str | None = None,
    ) -> None:
        self.message = message
        if code is not None:
            self.code = code
        self.response: dict[str, Any] = response or {}
        self.operation = operation
        where = f" ({operation})" if operation else ""
        super().__init__(f"{self.code}{where}: {message}")


class ConditionalCheckFailed(ServiceError, code="ConditionalCheckFailedException"):
    """A write's condition was false.

    ``item`` holds the item's current attributes (raw AttributeValues) when
    DynamoDB returned them (``ReturnValuesOnConditionCheckFailure=ALL_OLD``).
    """

    @property
    def item(self) -> dict[str, Any] | None:
        found = self.response.get("Item")
        return found if isinstance(found, dict) else None


class ItemAlreadyExists(ConditionalCheckFailed):
    """``create(..., overwrite=False)`` found an item with the same key.

    From ``batch_write(..., overwrite=False)``, ``keys`` lists every key that
    existed (those items were not written; the others were).
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.keys: list[dict[str, Any]] = []


class UniqueViolation(ConditionalCheckFailed):
    """A value of a ``unique=True`` field is taken by another item: nothing was written.

    ``model`` and ``field`` name the model and field (Python names), ``value`` is
    the value asked for.
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.model: str = ""
        self.field: str = ""
        self.value: Any = None


class VersionConflict(ConditionalCheckFailed):
    """Optimistic locking: the stored item's version is not the one this item was read at.

    Someone else saved it in between (or deleted it). Read it again and retry.
    ``expected`` is the version this write assumed; ``found`` the stored one
    (None if the item is gone or has no version).
    """

    expected: int | None = None
    found: int | None = None


class ConcurrentModification(ConditionalCheckFailed):
    """A commit computed from what was read found the item changed since; nothing was written.

    ``commit_changes()`` computes an attribute's new value from the item as read when
    the queued calls cannot go into one UpdateExpression (an append and a replace by
    index in one list, say), and writes it only if the attribute still holds what was
    read. ``attributes`` names those that no longer did (the item may be gone). Read
    the item again and queue the changes again.
    """

    attributes: tuple[str, ...] = ()


class ItemNotFound(ConditionalCheckFailed):
    """``update(..., must_exist=True)`` found no item with the key, so nothing was written.

    Without ``must_exist`` the update would have created an item holding only the
    key and the updated attributes.
    """


class ValidationError(ServiceError, code="ValidationException"):
    """DynamoDB rejected the request as malformed (``ValidationException``)."""


class ResourceNotFound(ServiceError, code="ResourceNotFoundException"):
    """The table or index does not exist (or is not ACTIVE yet)."""


class TableNotFound(ResourceNotFound):
    """A model's table does not exist (or is not ACTIVE yet); ``create_table(Model)`` makes it.

    Raised by item calls (reads, writes, queries, batches, transactions) in place
    of DynamoDB's bare ResourceNotFound. ``tables`` maps each table the request
    used to the models stored in it; ``code`` and ``message`` stay DynamoDB's own.
    """

    tables: dict[str, list[str]]

    @classmethod
    def of(cls, error: ResourceNotFound, tables: dict[str, list[str]]) -> TableNotFound:
        """``error`` (DynamoDB's ResourceNotFound), naming ``tables`` and their models."""
        found = cls(
            error.message, code=error.code, response=error.response, operation=error.operation
        )
        found.tables = tables

        def named(table: str, models: list[str]) -> str:
            return f"{table!r} (model {', '.join(models)})" if models else repr(table)

        listed = ", ".join(named(table, models) for table, models in tables.items())
        first = next((models[0] for models in tables.values() if models), "Model")
        if len(tables) == 1:
            explained = f"the table {listed} does not exist, or is not active yet: "
            explained += f"create_table({first}) creates it"
        else:
            explained = f"one of the tables {listed} does not exist, or is not active yet: "
            explained += f"create_table({first}) and the like create them"
        found.args = (f"{found.args[0]}; {explained}",)
        return found


class ResourceInUse(ServiceError, code="ResourceInUseException"):
    """The table exists already, or is being created, updated or deleted."""


class ThrottlingError(ServiceError, code="ThrottlingException"):
    """DynamoDB asked us to slow down (``ThrottlingException``)."""


class ProvisionedThroughputExceeded(ThrottlingError, code="ProvisionedThroughputExceededException"):
    """The table's or an index's provisioned capacity was exceeded."""


class RequestLimitExceeded(ThrottlingError, code="RequestLimitExceeded"):
    """The account's request rate limit was exceeded."""


class LimitExceeded(ServiceError, code="LimitExceededException"):
    """Too many control-plane operations at once (``LimitExceededException``)."""


class ItemCollectionSizeLimitExceeded(
    ServiceError, code="ItemCollectionSizeLimitExceededException"
):
    """An item collection of a table with local indexes passed 10 GB."""


class TransactionConflict(ServiceError, code="TransactionConflictException"):
    """Another transaction touched the same item (``TransactionConflictException``)."""


class TransactionCanceled(ServiceError, code="TransactionCanceledException"):
    """A transaction was cancelled.

    ``reasons`` is DynamoDB's CancellationReasons, one entry per action in
    order; ``failures`` describes each failed action (which item, what code,
    why), as the message does.
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.failures: list[str] = []

    @property
    def reasons(self) -> list[dict[str, Any]]:
        found = self.response.get("CancellationReasons")
        return list(found) if isinstance(found, list) else []


class AccessDenied(ServiceError, code="AccessDeniedException"):
    """The credentials were refused, expired, or lack permission for the call."""


class IdempotentParameterMismatch(ServiceError, code="IdempotentParameterMismatchException"):
    """A ClientRequestToken was reused for a different transaction."""


class InternalServerError(ServiceError, code="InternalServerError"):
    """DynamoDB failed on its side (HTTP 500)."""


class ExpiredIterator(ServiceError, code="ExpiredIteratorException"):
    """A stream's shard iterator is older than 15 minutes; stream readers get a new one."""


class TrimmedDataAccess(ServiceError, code="TrimmedDataAccessException"):
    """A stream position is older than the stream keeps records (24 hours)."""


# -- errors raised before anything is sent, or by multi-step operations --


class StreamNotEnabled(DynamoDBError):
    """A table has no stream to read: give its model ``__stream__`` and run ``Table.update()``."""


class LeaseLost(DynamoDBError):
    """Another stream reader holds the shard now: this reader's checkpoint was not written.

    The records since the last checkpoint are delivered again, to the new holder.
    """


class BatchIncomplete(DynamoDBError):
    """A batch ran out of retries.

    ``unprocessed`` holds exactly the wire keys (reads) or write requests
    (writes) that were left; the model layer adds ``keys``, the same as
    ``{python name: value}`` dicts. ``done`` counts what did succeed; for
    ``batch_get``, ``items`` holds the items that were read, in the order asked.
    """

    def __init__(self, message: str, unprocessed: list[dict[str, Any]], done: int = 0) -> None:
        self.unprocessed = unprocessed
        self.done = done
        self.keys: list[dict[str, Any]] = []
        self.items: list[Any] = []
        self.partial: list[Any] = []  # what the failing chunk did get (responses, then items)
        super().__init__(message)


class InvalidCursor(DynamoDBError, ValueError):
    """A cursor is malformed, tampered with, or from another query or cursor secret
    (also: an unusable cursor secret)."""


class MissingDependency(DynamoDBError, ImportError):
    """A feature needs an optional package that is not installed (the message says which)."""


class ProjectionError(DynamoDBError, TypeError):
    """A projection names something that is not a field of the model or a path into one."""


class PartialItemError(DynamoDBError, ValueError):
    """An item read with a projection cannot be written this way (raised before sending).

    A partial item holds only what was read: putting it whole would drop the rest,
    and a change that cannot be placed inside the parts read is refused.
    """


class QueryError(DynamoDBError, ValueError):
    """A query or scan cannot be sent as built (raised before any request)."""


class NoIndexForQuery(QueryError):
    """No table key or index key fits the query's conditions."""


class UpdateConflict(DynamoDBError, ValueError):
    """Two update actions cannot go into one request (raised before sending)."""


# -- calls the library refuses before sending anything --


class InvalidArgument(DynamoDBError, TypeError):
    """A call got an argument of the wrong kind (or used a library object wrongly)."""


class NotACondition(InvalidArgument):
    """Something that takes a condition (``condition=``, ``where()`` ...) got something else.

    Conditions are built from the model's fields: ``Issue.status == "open"``,
    ``Issue.votes.gt(3)``, combined with ``&``, ``|`` and ``~``.
    """


class UnknownField(InvalidArgument):
    """A name given as a field (``Issue(titel=...)``, ``update(titel=...)``, a key part,
    a ``from_son`` key) is not a field of the model; the message lists its fields."""


class UnknownAttribute(UnknownField, AttributeError):
    """An unknown public attribute was assigned on a model instance (``issue.titel = ...``).

    Only fields, associations and what the class defines can be set; names
    starting with ``_`` are free.
    """


class InvalidValue(DynamoDBError, ValueError):
    """An argument is of the right kind but a value the call cannot take."""


class WhereSyntaxError(InvalidValue):
    """Condition text (``--where``, a migration's ``where``) that does not parse; says where."""


class MigrationError(DynamoDBError):
    """A migration file or run that cannot go on: a bad file, a changed plan, an upgrade
    that returned something other than an item of its model or None."""


class TransferError(DynamoDBError, ValueError):
    """An export or import that cannot go on: a line of an import file that is not an item
    (its number is in the message), an unknown format."""


class UnknownAssociation(InvalidValue, AttributeError):
    """An association name (``load("x")``, ``prefetch("x")``) is not one of the model's."""


class EmptyUpdate(InvalidValue):
    """An update (``update()``, ``add()``, ``tx.update()``) was given nothing to change."""


class KeyUpdateError(InvalidValue):
    """An update action changes a key attribute; an item's key cannot change in place."""


class TransactionTooLarge(InvalidValue):
    """A transaction (or ``transact_get``) is larger than DynamoDB takes (100 actions at most)."""


class DuplicateItem(InvalidValue):
    """One item (by key) is given twice where DynamoDB takes each once: two actions of a
    transaction, or two items of ``batch_write(..., overwrite=False)``."""


class TransactionCommitted(DynamoDBError, RuntimeError):
    """A transaction that was committed already was committed again."""


# -- DynamoDB's limits, checked before sending (see dynamodb.core.limits) --


class LimitViolation(FieldValidationError):
    """An item, key or expression is over one of DynamoDB's documented limits; nothing was sent.

    Raised before any request, so nothing is half-written: a batch or transaction
    with one bad item sends nothing, and the error lists every bad item.
    ``limit`` names the limit (``"item size"``, ``"nesting"``, ``"hash key"``,
    ``"range key"``, ``"expression"``, ``"transaction size"``), ``size`` is what
    was measured (bytes; levels for nesting) and ``maximum`` the limit. ``model``
    and ``field`` name where (for an item too large, its largest attribute);
    ``key`` is the item's key as plain values (None without an item), ``keys``
    every bad item's key, and ``violations`` one error per finding (``[self]`` for
    one). The subclasses name the limit, for ``except``.
    """

    limit: str
    size: int
    maximum: int

    def __init__(
        self,
        message: str,
        *,
        model: str,
        field: str,
        value: Any,
        limit: str,
        size: int,
        maximum: int,
        key: dict[str, Any] | None = None,
        violations: Sequence[LimitViolation] = (),
    ) -> None:
        self.model = model
        self.field = field
        self.value = value
        self.reason = message
        self.limit = limit
        self.size = size
        self.maximum = maximum
        self.key = key
        self.violations: list[LimitViolation] = list(violations) or [self]
        self.keys: list[dict[str, Any]] = []
        for found in self.violations:
            if found.key is not None and found.key not in self.keys:
                self.keys.append(found.key)
        DynamoDBError.__init__(self, message)


class ItemTooLarge(LimitViolation):
    """An item is over DynamoDB's 400 KB (409,600 bytes), or an update would make it so."""


class NestingTooDeep(LimitViolation):
    """A value nests deeper than DynamoDB's 32 levels (a top-level attribute is level 1)."""


class KeyTooLong(LimitViolation):
    """A hash key value is over 2,048 bytes or a range key value over 1,024 bytes (UTF-8 for
    strings, raw bytes for binary), for the table's key or an index's."""


class ExpressionTooLong(LimitViolation):
    """An expression string (a condition, an update, a projection ...) is over 4 KB."""


class TransactionPayloadTooLarge(TransactionTooLarge, LimitViolation):
    """A transaction's items (with its expressions and values) are over DynamoDB's 4 MB."""


_BY_CODE["InternalFailure"] = InternalServerError
for _code in (
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
):
    _BY_CODE[_code] = AccessDenied
_BY_CODE["ServiceUnavailable"] = InternalServerError


def error_from_response(
    code: str, message: str, response: dict[str, Any] | None = None, operation: str | None = None
) -> ServiceError:
    """Return the typed exception for a DynamoDB error code (``ServiceError`` if unknown)."""
    cls = _BY_CODE.get(code, ServiceError)
    return cls(message, code=code, response=response, operation=operation)


class DecryptionError(DynamoDBError, ValueError):
    """An encrypted attribute read from DynamoDB could not be decrypted.

    Raised for every failure (a changed byte, a value copied from another item or
    attribute, a key id the provider does not hold, a refusal by KMS); a wrong or
    empty value is never returned. ``model``, ``key`` (the item's primary key as
    stored) and ``field`` say which value; ``reason`` says why.
    """

    def __init__(self, model: str, key: Any, field: str, reason: str) -> None:
        self.model = model
        self.key = key
        self.field = field
        self.reason = reason
        super().__init__(f"{model} {key}: cannot decrypt {field}: {reason}")


class EncryptionError(DynamoDBError, RuntimeError):
    """A value of an encrypted field could not be encrypted (e.g. KMS refused a data key);
    nothing was sent."""

    def __init__(self, model: str, field: str, reason: str) -> None:
        self.model = model
        self.field = field
        self.reason = reason
        super().__init__(f"{model}.{field}: cannot encrypt: {reason}")
