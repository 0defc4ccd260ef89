"""Suite-wide fixtures: AWS test credentials and the DynamoDB Local server.

Nothing here makes a connection; ``tests/integration/conftest.py`` builds them
from the ``dynamodb_endpoint`` fixture, which stands in for the library's own
pytest plugin fixture of that name (``dynamodb.testing.plugin``): here it is
always DynamoDB Local, the suite's reference.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynamodb.testing.support import is_loopback
from tests.support.dynamodb_local import DynamoDBLocal

_INTEGRATION_DIR = Path(__file__).resolve().parent / "integration"

_TEST_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under ``tests/integration/`` with ``integration``."""
    for item in items:
        if item.path.resolve().is_relative_to(_INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def aws_test_credentials() -> Iterator[None]:
    """Give botocore dummy credentials and a region when none are configured.

    DynamoDB Local accepts any credentials, but botocore refuses to sign a
    request without some. Variables already set are left alone; everything is
    restored at the end of the session.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _TEST_AWS_ENVIRONMENT.items():
            if not os.environ.get(name):
                patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def dynamodb_endpoint(aws_test_credentials: None) -> Iterator[str]:
    """URL of a DynamoDB Local server for the whole session.

    ``$DYNAMODB_ENDPOINT`` (a loopback URL such as ``http://127.0.0.1:8000``) is
    used as is when set; otherwise a server is started here and stopped at the
    end of the session, whether or not the tests passed.
    """
    configured = os.environ.get("DYNAMODB_ENDPOINT")
    if configured:
        if not is_loopback(configured):
            pytest.fail(
                f"DYNAMODB_ENDPOINT={configured!r} is not a loopback address; the test "
                f"suite only talks to DynamoDB Local on 127.0.0.1/localhost",
                pytrace=False,
            )
        yield configured
        return

    server = DynamoDBLocal()
    try:
        yield server.start()
    finally:
        server.stop()
