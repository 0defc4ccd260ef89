"""The ``"dynamodb"`` logger: one DEBUG line per request, INFO per retry, WARNING when a
batch gives up; never a value unless the connection says ``log_values=True``."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dynamodb import (
    BatchIncomplete,
    CharField,
    ConditionalCheckFailed,
    Connection,
    MockTransport,
    Model,
    RetryPolicy,
    ThrottlingError,
)
from dynamodb.wire.telemetry import REQUEST_FIELDS, request_fields

SECRET = "value-that-must-stay-out-of-logs"


class Note(Model):
    __table_name__ = "unit_request_logs"

    key = CharField(hash_key=True)
    text = CharField(default="")


def _answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    capacity = {"TableName": "unit_request_logs", "CapacityUnits": 1.0}
    metadata = {"RequestId": "REQ123", "HTTPStatusCode": 200}
    return {"ConsumedCapacity": capacity, "ResponseMetadata": metadata}


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno == level]


def test_one_debug_line_per_request_with_a_fixed_set_of_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connection = Connection(transport=MockTransport(_answer), table_prefix="dev_")
    with caplog.at_level(logging.DEBUG, logger="dynamodb"):
        Note(key=SECRET, text=SECRET).save(connection=connection)
    (record,) = _lines(caplog, logging.DEBUG)
    assert record.name == "dynamodb"
    fields = record.dynamodb  # type: ignore[attr-defined]
    assert tuple(fields) == REQUEST_FIELDS
    assert fields["operation"] == "PutItem"
    assert fields["table"] == "dev_unit_request_logs"  # as DynamoDB knows it
    assert (fields["attempts"], fields["status"], fields["write_units"]) == (1, 200, 1.0)
    assert fields["request_id"] == "REQ123"
    message = record.getMessage()
    assert message.startswith("PutItem dev_unit_request_logs index=- ")
    assert "attempts=1 status=200 units=0 read/1 write request_id=REQ123" in message
    assert SECRET not in message
    assert SECRET not in repr(record.__dict__)


def test_the_line_is_built_from_exactly_those_fields() -> None:
    with pytest.raises(ValueError, match="a request log line has the fields"):
        request_fields(operation="GetItem", params={"Key": SECRET})


def test_no_line_is_built_when_debug_is_off(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Any] = []

    def counted(**fields: Any) -> dict[str, Any]:
        built.append(fields)
        return fields

    monkeypatch.setattr("dynamodb.wire.telemetry.request_fields", counted)
    connection = Connection(transport=MockTransport(_answer))
    with caplog.at_level(logging.INFO, logger="dynamodb"):
        Note(key="a").save(connection=connection)
    assert built == []
    with caplog.at_level(logging.DEBUG, logger="dynamodb"):
        Note(key="a").save(connection=connection)
    assert len(built) == 1


def test_log_values_adds_the_requests_parameters(caplog: pytest.LogCaptureFixture) -> None:
    connection = Connection(transport=MockTransport(_answer), log_values=True)
    with caplog.at_level(logging.DEBUG, logger="dynamodb"):
        Note(key="shown-on-purpose").save(connection=connection)
    (record,) = _lines(caplog, logging.DEBUG)
    assert '"key": {"S": "shown-on-purpose"}' in record.getMessage()


def test_a_retry_is_an_info_line_and_the_failure_ends_the_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[Any] = [
        ThrottlingError("Rate exceeded", operation="GetItem"),
        ConditionalCheckFailed(
            "The conditional request failed",
            operation="PutItem",
            response={"Item": {"key": {"S": SECRET}}, "ResponseMetadata": {"RequestId": "R9"}},
        ),
    ]

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        raise answers.pop(0)

    connection = Connection(transport=MockTransport(answer), max_attempts=3)
    with caplog.at_level(logging.DEBUG, logger="dynamodb"), pytest.raises(ConditionalCheckFailed):
        Note(key=SECRET).save(condition=Note.text.not_exists(), connection=connection)
    (retry,) = _lines(caplog, logging.INFO)
    assert retry.getMessage().startswith(
        "PutItem unit_request_logs: ThrottlingException, attempt 1 of 3: retry 2 in "
    )
    (done,) = _lines(caplog, logging.DEBUG)
    fields = done.dynamodb  # type: ignore[attr-defined]
    assert (fields["attempts"], fields["status"], fields["request_id"]) == (
        2,
        "ConditionalCheckFailedException",
        "R9",
    )
    assert SECRET not in caplog.text


def test_a_batch_that_gives_up_warns(caplog: pytest.LogCaptureFixture) -> None:
    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"UnprocessedItems": params["RequestItems"]}

    connection = Connection(transport=MockTransport(answer))
    with caplog.at_level(logging.WARNING, logger="dynamodb"), pytest.raises(BatchIncomplete):
        Note.batch_write(
            [Note(key=SECRET)],
            connection=connection,
            retry=RetryPolicy(max_attempts=2, base=0.0, cap=0.0),
        )
    (warning,) = _lines(caplog, logging.WARNING)
    assert warning.name == "dynamodb.batch"
    assert warning.getMessage() == (
        "BatchWriteItem gives up: 1 requests left unprocessed after 2 attempts"
    )
    assert SECRET not in caplog.text


def test_a_request_abandoned_in_flight_ends_its_line(caplog: pytest.LogCaptureFixture) -> None:
    from dynamodb.core.flow import call
    from dynamodb.core.retries import retrying
    from dynamodb.wire.telemetry import RequestWatch

    connection = Connection(transport=MockTransport(_answer))
    with caplog.at_level(logging.DEBUG, logger="dynamodb"):
        watch = RequestWatch.for_run(connection)
        edged = retrying(call("GetItem", {"TableName": "T"}), connection.retry_policy, None, watch)
        next(edged)  # the request is in flight ...
        edged.close()  # ... when its flow is closed (a cancelled task, a dropped iterator)
    (record,) = _lines(caplog, logging.DEBUG)
    assert record.dynamodb["status"] == "abandoned"  # type: ignore[attr-defined]
