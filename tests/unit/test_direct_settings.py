"""Where the direct transport sends, with which keys, and what ``import dynamodb`` loads.

No server: the endpoint and credentials are resolved for many configurations and
compared with what botocore's own client resolves for the same environment; moto's
``mock_aws`` is answered through botocore; a fresh interpreter shows which modules
``import dynamodb`` and a first call bring in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import NoRegionError, PartialCredentialsError

import dynamodb
from dynamodb import CharField, Connection, IntegerField, Model
from dynamodb.wire.direct import DirectTransport, moto_active
from dynamodb.wire.endpoints import AwsSettings

_CLEARED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCOUNT_ID",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE",
    "DYNAMODB_TRANSPORT",
)


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No AWS settings at all: empty config and credentials files, no variables."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def botocore_url(
    settings: dict[str, Any], profile: str | None = None, service: str = "dynamodb"
) -> str:
    """The URL botocore's client sends a call to, with the same settings."""
    session = botocore.session.Session(profile=profile)
    client = session.create_client(service, **settings)
    seen: list[str] = []

    def capture(request: Any, **_: Any) -> Any:
        seen.append(request.url)
        raise _Stop

    client.meta.events.register("before-send", capture)
    call: Callable[[], object] = (
        (lambda: client.get_item(TableName="t", Key={"k": {"S": "v"}}))
        if service == "dynamodb"
        else client.list_streams
    )
    with pytest.raises(_Stop):
        call()
    client.close()
    return seen[0].rstrip("/")


class _Stop(Exception):
    pass


CASES: list[tuple[dict[str, str], dict[str, Any], str]] = [
    ({}, {"region_name": "eu-west-1"}, "https://dynamodb.eu-west-1.amazonaws.com"),
    ({"AWS_DEFAULT_REGION": "ap-south-1"}, {}, "https://dynamodb.ap-south-1.amazonaws.com"),
    ({}, {"region_name": "cn-north-1"}, "https://dynamodb.cn-north-1.amazonaws.com.cn"),
    (
        {"AWS_USE_FIPS_ENDPOINT": "true"},
        {"region_name": "us-east-1"},
        "https://dynamodb-fips.us-east-1.amazonaws.com",
    ),
    (
        {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
        {"region_name": "eu-west-1"},
        "https://dynamodb.eu-west-1.api.aws",
    ),
    (
        {"AWS_USE_DUALSTACK_ENDPOINT": "true", "AWS_USE_FIPS_ENDPOINT": "true"},
        {"region_name": "us-east-1"},
        "https://dynamodb-fips.us-east-1.api.aws",
    ),
    ({"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4566"}, {}, "http://127.0.0.1:4566"),
    ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4567"}, {}, "http://127.0.0.1:4567"),
    (
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4567",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        },
        {},
        "https://dynamodb.us-west-2.amazonaws.com",
    ),
    (
        {"AWS_ACCOUNT_ID": "123456789012"},
        {"region_name": "eu-west-1"},
        "https://123456789012.ddb.eu-west-1.amazonaws.com",
    ),
    (
        {"AWS_ACCOUNT_ID": "123456789012", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
        {"region_name": "eu-west-1"},
        "https://dynamodb.eu-west-1.amazonaws.com",
    ),
    ({}, {"endpoint_url": "http://127.0.0.1:8000/"}, "http://127.0.0.1:8000"),
]


@pytest.mark.parametrize(("variables", "settings", "expected"), CASES)
def test_the_endpoint_is_the_one_botocore_resolves(
    environment: pytest.MonkeyPatch,
    variables: dict[str, str],
    settings: dict[str, Any],
    expected: str,
) -> None:
    environment.setenv("AWS_ACCESS_KEY_ID", "AKID")
    environment.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    if "region_name" not in settings and "AWS_DEFAULT_REGION" not in variables:
        environment.setenv("AWS_DEFAULT_REGION", "us-west-2")
    for name, value in variables.items():
        environment.setenv(name, value)
    url, region = AwsSettings(**settings).endpoint()
    assert url == expected
    assert url == botocore_url(settings)
    assert region == (settings.get("region_name") or os.environ["AWS_DEFAULT_REGION"])


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "https://streams.dynamodb.eu-west-1.amazonaws.com"),
        (
            {"AWS_USE_FIPS_ENDPOINT": "true"},
            "https://streams.dynamodb-fips.eu-west-1.amazonaws.com",
        ),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4567"}, "http://127.0.0.1:4567"),
    ],
)
def test_the_streams_endpoint_is_the_one_botocore_resolves(
    environment: pytest.MonkeyPatch, variables: dict[str, str], expected: str
) -> None:
    from dynamodb.core.services import DYNAMODB_STREAMS

    environment.setenv("AWS_ACCESS_KEY_ID", "AKID")
    environment.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    for name, value in variables.items():
        environment.setenv(name, value)
    settings = {"region_name": "eu-west-1"}
    url, _ = AwsSettings(**settings).endpoint(DYNAMODB_STREAMS)
    assert url == botocore_url(settings, service="dynamodbstreams")
    assert url == expected


def test_region_and_endpoint_from_a_profile(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "config").write_text(
        "[profile fips]\nregion = us-gov-west-1\nuse_fips_endpoint = true\n"
        "aws_access_key_id = AKID\naws_secret_access_key = secret\n"
    )
    url, region = AwsSettings(profile_name="fips").endpoint()
    assert (url, region) == ("https://dynamodb.us-gov-west-1.amazonaws.com", "us-gov-west-1")
    assert url == botocore_url({}, profile="fips")


def test_no_region_anywhere_is_botocores_error(environment: pytest.MonkeyPatch) -> None:
    with pytest.raises(NoRegionError):
        AwsSettings().endpoint()


# -- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variables",
    [
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"},
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"},
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SECURITY_TOKEN": "old"},
        {
            "AWS_ACCESS_KEY_ID": "AKID",
            "AWS_SECRET_ACCESS_KEY": "s",
            "AWS_SESSION_TOKEN": "new",
            "AWS_SECURITY_TOKEN": "old",
        },
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ACCOUNT_ID": "1234"},
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_PROFILE": "other"},
    ],
)
def test_keys_from_the_environment_are_botocores(
    environment: pytest.MonkeyPatch, tmp_path: Path, variables: dict[str, str]
) -> None:
    (tmp_path / "credentials").write_text(
        "[other]\naws_access_key_id = FROMFILE\naws_secret_access_key = x\n"
    )
    for name, value in variables.items():
        environment.setenv(name, value)
    ours = AwsSettings().credentials()
    theirs = botocore.session.Session().get_credentials().get_frozen_credentials()
    assert (ours.access_key, ours.secret_key, ours.token) == (
        theirs.access_key,
        theirs.secret_key,
        theirs.token,
    )
    assert ours.account_id == getattr(theirs, "account_id", None)


def test_a_profile_given_outranks_the_environment(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As with botocore: a profile named in code wins over keys in the environment."""
    (tmp_path / "credentials").write_text(
        "[other]\naws_access_key_id = FROMFILE\naws_secret_access_key = x\n"
    )
    environment.setenv("AWS_ACCESS_KEY_ID", "FROMENV")
    environment.setenv("AWS_SECRET_ACCESS_KEY", "y")
    assert AwsSettings(profile_name="other").credentials().access_key == "FROMFILE"
    assert botocore.session.Session(profile="other").get_credentials().access_key == "FROMFILE"


def test_keys_given_outrank_everything(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("AWS_ACCESS_KEY_ID", "FROMENV")
    environment.setenv("AWS_SECRET_ACCESS_KEY", "y")
    found = AwsSettings(aws_access_key_id="GIVEN", aws_secret_access_key="z").credentials()
    assert (found.access_key, found.secret_key, found.token) == ("GIVEN", "z", None)


def test_half_a_key_is_refused_when_used(environment: pytest.MonkeyPatch) -> None:
    settings = AwsSettings(aws_access_key_id="AKID")
    with pytest.raises(PartialCredentialsError, match="aws_secret_access_key"):
        settings.credentials()


def test_no_credentials_anywhere_is_botocores_error(environment: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import NoCredentialsError

    with pytest.raises(NoCredentialsError):
        AwsSettings(region_name="us-east-1").credentials()


# -- moto ------------------------------------------------------------------------------------------


class Pet(Model):
    __table_name__ = "unit_direct_pets"

    name = CharField(hash_key=True)
    age = IntegerField()


def test_moto_mock_aws_is_answered_through_botocore(environment: pytest.MonkeyPatch) -> None:
    """A user's moto test with the default (direct) transport works unchanged."""
    from moto import mock_aws

    connection = Connection(region_name="us-east-1")
    assert isinstance(connection.transport, DirectTransport)
    assert not moto_active()
    with mock_aws():
        assert moto_active()
        dynamodb.create_table(Pet, connection=connection)
        Pet(name="rex", age=3).save(connection=connection)
        found = Pet.get(name="rex", connection=connection)
        assert found is not None
        assert found.age == 3
        assert [pet.name for pet in Pet.scan().using(connection)] == ["rex"]
    assert not moto_active()
    # nothing went over the direct transport's own sockets
    assert connection.transport._route is None
    connection.close()


# -- imports ------------------------------------------------------------------------------------


HEAVY = ("botocore", "boto3", "aiobotocore", "aiohttp", "urllib3", "asyncio")


def loaded_after(code: str) -> set[str]:
    """The top-level packages of ``HEAVY`` a fresh interpreter has loaded after ``code``."""
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))"
    )
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}
    environment.pop("DYNAMODB_TRANSPORT", None)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=60,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_import_dynamodb_loads_no_botocore_no_aiohttp_no_asyncio() -> None:
    assert loaded_after("import dynamodb") == set()


def test_a_first_sync_call_with_an_endpoint_and_keys_loads_no_botocore() -> None:
    """Building a request and failing to connect needs neither botocore nor asyncio."""
    code = (
        "import dynamodb\n"
        "class Pet(dynamodb.Model):\n"
        "    __table_name__ = 'pets'\n"
        "    name = dynamodb.CharField(hash_key=True)\n"
        "c = dynamodb.Connection(endpoint_url='http://127.0.0.1:9', region_name='us-east-1',"
        " max_attempts=1, connect_timeout=0.2)\n"
        "try:\n"
        "    Pet.get(name='x', connection=c)\n"
        "except dynamodb.TransportError:\n"
        "    pass\n"
    )
    assert loaded_after(code) == set()


def test_certificates_are_checked_against_what_botocore_trusts(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from botocore.httpsession import get_cert_path

    from dynamodb.wire.exchange import default_ca_bundle

    assert default_ca_bundle() == get_cert_path(True)
