"""``set_connection(is_local_endpoint=...)``: placeholder keys that DynamoDB Local refuses.

DynamoDB Local (2.0 and later) answers any request signed with an access key id
that is not letters and digits with UnrecognizedClientException. For a local
endpoint the keys are placeholders, so such a key id is replaced (and that is
logged once); for any other endpoint the keys go out as given. Nothing is sent
here: a Connection makes no client until it is used.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

import dynamodb
from dynamodb import Connection
from dynamodb.wire import connection as connection_module


@pytest.fixture(autouse=True)
def default_restored() -> Iterator[None]:
    """set_connection() here changes a use_connection block's connection, not the process's."""
    placeholder = Connection(endpoint_url="http://127.0.0.1:1", region_name="us-east-1")
    with dynamodb.use_connection(placeholder):
        yield


def seed_call(key: str = "*", port: str = "8000") -> Connection:
    """The dynamix README's connection line."""
    return dynamodb.set_connection(
        is_local_endpoint=("127.0.0.1", port),
        aws_access_key_id=key,
        aws_secret_access_key="*",
        region_name="ap-south-1",
    )


def test_the_readme_key_id_is_replaced_for_a_local_endpoint() -> None:
    conn = seed_call()
    assert conn.endpoint_url == "http://127.0.0.1:8000"
    assert conn.region_name == "ap-south-1"
    assert conn.aws_access_key_id == "local"
    assert conn.aws_secret_access_key == "*"  # DynamoDB Local takes any secret
    assert dynamodb.get_connection() is conn


@pytest.mark.parametrize("key", ["*", "my-key", "a_b", "ab cd", "clé"])
def test_a_key_id_dynamodb_local_refuses_is_replaced(key: str) -> None:
    assert seed_call(key).aws_access_key_id == "local"


@pytest.mark.parametrize("key", ["local", "AKIAIOSFODNN7EXAMPLE", "x1"])
def test_a_key_id_of_letters_and_digits_is_kept(key: str) -> None:
    assert seed_call(key).aws_access_key_id == key


def test_the_replacement_is_logged_once_per_key_id(caplog: pytest.LogCaptureFixture) -> None:
    key = f"my-key-{uuid.uuid4().hex}"  # a key id no other test used
    with caplog.at_level(logging.INFO, logger="dynamodb.connection"):
        seed_call(key)
        seed_call(key, port="8001")
    records = [record for record in caplog.records if record.name == "dynamodb.connection"]
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "accepts only letters and digits in an access key id" in message
    assert repr(key) in message
    assert "'local'" in message
    assert "http://127.0.0.1:8000" in message


def test_a_valid_key_id_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="dynamodb.connection"):
        seed_call("local2")
    assert [record for record in caplog.records if record.name == "dynamodb.connection"] == []


@pytest.mark.parametrize(
    "endpoint", [None, "https://dynamodb.ap-south-1.amazonaws.com", "http://127.0.0.1:8000"]
)
def test_keys_for_any_other_endpoint_are_used_as_given(
    endpoint: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="dynamodb.connection"):
        conn = dynamodb.set_connection(
            endpoint_url=endpoint,
            aws_access_key_id="*",
            aws_secret_access_key="*",
            region_name="ap-south-1",
        )
    assert (conn.aws_access_key_id, conn.aws_secret_access_key) == ("*", "*")
    assert conn.endpoint_url == endpoint
    # ... and they reach the botocore client as given.
    arguments = conn._client_arguments()
    assert arguments["aws_access_key_id"] == "*"
    assert [record for record in caplog.records if record.name == "dynamodb.connection"] == []


def test_a_connection_made_directly_keeps_its_keys() -> None:
    conn = Connection(endpoint_url="http://127.0.0.1:8000", aws_access_key_id="*")
    assert conn.aws_access_key_id == "*"


def test_missing_local_keys_get_the_placeholder_silently(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="dynamodb.connection"):
        conn = dynamodb.set_connection(is_local_endpoint=True)
    assert conn.aws_access_key_id == connection_module._LOCAL_DEFAULT_KEY == "local"
    assert [record for record in caplog.records if record.name == "dynamodb.connection"] == []
