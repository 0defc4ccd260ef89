"""Every error dynamodb-py raises, rooted at :class:`DynamoDBError`.

DynamoDB's own error codes each have a class (``ConditionalCheckFailed`` for
``ConditionalCheckFailedException`` ...) so callers can ``except`` exactly what
they handle; :func:`error_from_response` picks the class. Errors we detect before
sending anything (a bad value, a bad model definition) have their own classes.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccessDenied",
    "AssociationNotLoaded",
    "BatchIncomplete",
    "ConditionalCheckFailed",
    "DecodeError",
    "DynamoDBError",
    "FieldValidationError",
    "IdempotentParameterMismatch",
    "InternalServerError",
    "InvalidCursor",
    "ItemAlreadyExists",
    "ItemCollectionSizeLimitExceeded",
    "LimitExceeded",
    "ModelDefinitionError",
    "NoIndexForQuery",
    "OutcomeUnknown",
    "ProvisionedThroughputExceeded",
    "QueryError",
    "RequestLimitExceeded",
    "ResourceInUse",
    "ResourceNotFound",
    "SchemaMismatch",
    "ServiceError",
    "ThrottlingError",
    "TransactionCanceled",
    "TransactionConflict",
    "TransportError",
    "UpdateConflict",
    "ValidationError",
    "VersionConflict",
    "WaitTimeout",
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
    """

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


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


class VersionConflict(ConditionalCheckFailed):
    """Optimistic locking: the stored item's version is not the one this item was read at.

    Someone else saved it in between (or deleted it). Read it again and retry.
    ``expected`` is the version this write assumed; ``found`` the stored one
    (None if the item is gone or has no version).
    """

    expected: int | None = None
    found: int | None = None


class ValidationError(ServiceError, code="ValidationException"):
    """DynamoDB rejected the request as malformed (``ValidationException``)."""


class ResourceNotFound(ServiceError, code="ResourceNotFoundException"):
    """The table or index does not exist (or is not ACTIVE yet)."""


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


# -- errors raised before anything is sent, or by multi-step operations --


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
    """A cursor string is malformed, tampered with, or from another table or index."""


class QueryError(DynamoDBError, ValueError):
    """A query or scan cannot be sent as built (raised before any request)."""


class NoIndexForQuery(QueryError):
    """No table key or index key fits the query's conditions."""


class UpdateConflict(DynamoDBError, ValueError):
    """Two update actions cannot go into one request (raised before sending)."""


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
