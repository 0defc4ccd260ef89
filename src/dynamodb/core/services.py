"""Which AWS service answers an operation: DynamoDB, or DynamoDB Streams.

Flows name operations only (``Request("GetRecords", ...)``). Most go to
DynamoDB; the four of the Streams API go to the separate DynamoDB Streams
service: its own endpoint on AWS (``streams.dynamodb.<region>.amazonaws.com``),
its own ``X-Amz-Target`` prefix, and the same SigV4 signing name. DynamoDB
Local answers both on one endpoint. Every transport routes by
:func:`service_of`, so the rule lives here once.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DYNAMODB", "DYNAMODB_STREAMS", "STREAMS_OPERATIONS", "Service", "service_of"]


@dataclass(frozen=True, slots=True)
class Service:
    """How to reach one AWS service (the names of its botocore model)."""

    name: str
    """botocore's service name: ``session.create_client(name)``."""
    target_prefix: str
    """The ``X-Amz-Target`` header is ``f"{target_prefix}.{operation}"``."""
    endpoint_prefix: str
    """The host's first labels on AWS: ``f"{endpoint_prefix}.{region}.amazonaws.com"``."""
    signing_name: str
    """The service name in SigV4's credential scope."""
    json_version: str = "1.0"
    """The body's content type is ``f"application/x-amz-json-{json_version}"``."""


DYNAMODB = Service("dynamodb", "DynamoDB_20120810", "dynamodb", "dynamodb")
DYNAMODB_STREAMS = Service(
    "dynamodbstreams", "DynamoDBStreams_20120810", "streams.dynamodb", "dynamodb"
)

STREAMS_OPERATIONS = frozenset({"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"})
"""The operations of the DynamoDB Streams API."""


def service_of(operation: str) -> Service:
    """The service that answers ``operation``: DynamoDB Streams for its four, else DynamoDB."""
    return DYNAMODB_STREAMS if operation in STREAMS_OPERATIONS else DYNAMODB
