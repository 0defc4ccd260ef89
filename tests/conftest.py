"""Suite-wide fixtures: AWS test credentials and the DynamoDB Local server.

Nothing here makes a connection; ``tests/integration/conftest.py`` builds them
from the ``dynamodb_endpoint`` fixture, which stands in for the library's own
pytest plugin fixture of that name (``dynamodb.testing.plugin``): here it is
always DynamoDB Local, the suite's reference.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynamodb.testing.support import is_loopback
from tests.support.dynamodb_local import DynamoDBLocal
from tests.support.log_canary import LeakCatcher

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


@pytest.fixture(scope="session", autouse=True)
def no_values_in_logs() -> Iterator[LeakCatcher]:
    """Log every request of the session at DEBUG, and fail if a value got into a line.

    The ``"dynamodb"`` logger is set to DEBUG for the whole run, so every request
    builds its log line; a handler looks for the canary value
    (``tests/support/log_canary.py``) in each formatted record. The canary workload
    (``tests/integration/test_log_canary.py``) puts it in keys, items, conditions and
    errors; no other value of the suite is allowed either, but only the canary is known.
    """
    logger = logging.getLogger("dynamodb")
    catcher, level = LeakCatcher(), logger.level
    logger.addHandler(catcher)
    logger.setLevel(logging.DEBUG)
    try:
        yield catcher
    finally:
        logger.removeHandler(catcher)
        logger.setLevel(level)
    assert not catcher.leaks, "values reached the logs:\n" + "\n".join(catcher.leaks[:10])


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
