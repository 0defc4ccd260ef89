"""The direct transport against DynamoDB Local, through relays that change how answers travel.

Chunked answers, kept-alive connections the server closed while idle, TLS with
certificate checks, HTTP proxies from the environment (urllib3 and aiohttp),
connection reuse across threads and tasks, credentials that expire and are
refreshed, and damaged answers (a wrong ``x-amz-crc32``, on both transports):
each is checked by what a caller sees, against DynamoDB Local.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import ssl
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    Model,
    OutcomeUnknown,
    TransportError,
)
from dynamodb.wire.direct import DirectTransport
from tests.integration.faults import Faults, ProxyFor
from tests.integration.helpers import TRANSPORT
from tests.integration.relay import Relay, TestCertificates, make_certificates

# Every test here names its transport: they run once, in the direct run of the suite.
pytestmark = pytest.mark.skipif(
    TRANSPORT != "direct", reason="names its transports; runs in the direct run of the suite"
)

Tables = Callable[..., None]

CREDENTIALS: dict[str, Any] = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


class Tally(Model):
    __table_name__ = "test_direct_transport_tally"

    id = CharField(hash_key=True)
    n = IntegerField(default=0)


class Row(Model):
    __table_name__ = "test_direct_transport_rows"

    pk = CharField(hash_key=True)
    sk = IntegerField(range_key=True)
    text = CharField()


def direct(endpoint: str, **options: Any) -> Connection:
    return Connection(endpoint_url=endpoint, transport="direct", **{**CREDENTIALS, **options})


def pool_of(connection: Connection) -> Any:
    """The sync connection pool of a direct connection."""
    transport = connection.transport
    assert isinstance(transport, DirectTransport)
    return transport.route().sender


@pytest.fixture
def rows(tables: Tables) -> list[Row]:
    tables(Row)
    stored = [Row(pk="p", sk=n, text="é" * n + "x" * (n % 7)) for n in range(40)]
    Row.batch_write(stored)
    return stored


# -- how answers travel ------------------------------------------------------------------------


def test_chunked_answers_are_read_whole(dynamodb_endpoint: str, rows: list[Row]) -> None:
    with Relay(dynamodb_endpoint, chunk=7) as relay:
        connection = direct(relay.endpoint)
        try:
            found = Row.get(pk="p", sk=9, connection=connection)
            page = list(Row.query().where(Row.pk.eq("p")).using(connection))
        finally:
            connection.close()
    assert found == rows[9]
    assert page == rows
    assert relay.counts["requests"] == 2
    assert relay.counts["connections"] == 1  # a chunked answer keeps the connection


async def test_async_chunked_answers_are_read_whole(
    dynamodb_endpoint: str, rows: list[Row]
) -> None:
    with Relay(dynamodb_endpoint, chunk=7) as relay:
        connection = direct(relay.endpoint)
        try:
            found = await Row.aget(pk="p", sk=9, connection=connection)
            page = [row async for row in Row.query().where(Row.pk.eq("p")).using(connection)]
        finally:
            await connection.aclose()
    assert found == rows[9]
    assert page == rows
    assert relay.counts["connections"] == 1


def test_a_kept_alive_connection_closed_while_idle_is_replaced_before_writing(
    dynamodb_endpoint: str, tables: Tables
) -> None:
    """The relay closes every connection after answering, without saying so: each next
    request finds its pooled connection closed, so it goes on a fresh one. An ADD is
    never resent (max_attempts=1), so none may be lost on a dead connection."""
    tables(Tally)
    with Relay(dynamodb_endpoint, close_after=True) as relay:
        connection = direct(relay.endpoint, max_attempts=1)
        try:
            Tally.create(id="t", connection=connection)
            for _ in range(5):
                time.sleep(0.05)  # the relay's close reaches us while the connection is idle
                Tally.add(id="t", n=1, connection=connection)
            opened = pool_of(connection).opened
        finally:
            connection.close()
    stored = Tally.get(id="t", consistent=True)
    assert stored is not None
    assert stored.n == 5
    assert relay.counts["requests"] == 6
    assert opened == relay.counts["connections"] == 6


async def test_async_a_connection_closed_while_idle_is_replaced(
    dynamodb_endpoint: str, tables: Tables
) -> None:
    tables(Tally)
    with Relay(dynamodb_endpoint, close_after=True) as relay:
        connection = direct(relay.endpoint, max_attempts=1)
        try:
            await Tally.acreate(id="t", connection=connection)
            for _ in range(5):
                await asyncio.sleep(0.05)
                await Tally.aadd(id="t", n=1, connection=connection)
        finally:
            await connection.aclose()
    stored = Tally.get(id="t", consistent=True)
    assert stored is not None
    assert stored.n == 5
    assert relay.counts["connections"] == 6


# -- TLS -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_relay(dynamodb_endpoint: str, certificates: TestCertificates) -> Iterator[Relay]:
    with Relay(dynamodb_endpoint, tls=certificates.server_context()) as relay:
        yield relay


def test_tls_with_the_ca_bundle_given(
    tls_relay: Relay, certificates: TestCertificates, rows: list[Row]
) -> None:
    assert tls_relay.endpoint.startswith("https://127.0.0.1:")
    connection = direct(tls_relay.endpoint, verify=str(certificates.ca))
    try:
        assert Row.get(pk="p", sk=3, connection=connection) == rows[3]
        assert Row.get(pk="p", sk=4, connection=connection) == rows[4]
    finally:
        connection.close()
    assert tls_relay.counts["connections"] == 1


def test_tls_with_the_ca_bundle_from_the_environment(
    tls_relay: Relay,
    certificates: TestCertificates,
    rows: list[Row],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificates.ca))
    connection = direct(tls_relay.endpoint)
    try:
        assert Row.get(pk="p", sk=3, connection=connection) == rows[3]
    finally:
        connection.close()


def test_tls_refuses_a_certificate_it_cannot_check(tls_relay: Relay, rows: list[Row]) -> None:
    """Against the CAs botocore trusts the test CA is unknown: nothing is sent."""
    connection = direct(tls_relay.endpoint, max_attempts=1)
    try:
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED") as caught:
            Row.get(pk="p", sk=3, connection=connection)
    finally:
        connection.close()
    assert caught.value.sent is False
    assert tls_relay.counts["requests"] == 0


def test_tls_checks_the_host_name(dynamodb_endpoint: str, tmp_path: Path, rows: list[Row]) -> None:
    """A certificate of the right CA but for another name is refused."""
    other = make_certificates(tmp_path, names=("dynamodb.example.com",))
    with Relay(dynamodb_endpoint, tls=other.server_context()) as relay:
        connection = direct(relay.endpoint, verify=str(other.ca), max_attempts=1)
        try:
            with pytest.raises(TransportError, match=r"match|mismatch") as caught:
                Row.get(pk="p", sk=3, connection=connection)
        finally:
            connection.close()
    assert caught.value.sent is False
    assert relay.counts["requests"] == 0


def test_tls_without_checks_when_told(tls_relay: Relay, rows: list[Row]) -> None:
    connection = direct(tls_relay.endpoint, verify=False)
    try:
        assert Row.get(pk="p", sk=3, connection=connection) == rows[3]
    finally:
        connection.close()


async def test_async_tls(tls_relay: Relay, certificates: TestCertificates, rows: list[Row]) -> None:
    checked = direct(tls_relay.endpoint, verify=str(certificates.ca))
    unchecked = direct(tls_relay.endpoint, max_attempts=1)
    try:
        assert await Row.aget(pk="p", sk=3, connection=checked) == rows[3]
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED") as caught:
            await Row.aget(pk="p", sk=3, connection=unchecked)
    finally:
        await checked.aclose()
        await unchecked.aclose()
    assert caught.value.sent is False
    assert tls_relay.counts["requests"] == 1


# -- proxies from the environment ----------------------------------------------------------------


@pytest.fixture
def forward_proxy(
    dynamodb_endpoint: str, rows: list[Row], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Relay]:
    """A forward proxy named by HTTP_PROXY (NO_PROXY cleared), set after the session's
    connection made the tables (a connection reads the proxy variables when it first sends)."""
    with Relay(dynamodb_endpoint) as proxy:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.endpoint)
        monkeypatch.delenv("http_proxy", raising=False)
        yield proxy


def test_requests_go_through_the_proxy_the_environment_names(
    forward_proxy: Relay, dynamodb_endpoint: str, rows: list[Row]
) -> None:
    connection = direct(dynamodb_endpoint)
    try:
        assert Row.get(pk="p", sk=5, connection=connection) == rows[5]
        Row(pk="p", sk=99, text="via proxy").save(connection=connection)
        assert type(pool_of(connection)).__name__ == "Urllib3Sender"
    finally:
        connection.close()
    assert Row.get(pk="p", sk=99, consistent=True) is not None
    assert forward_proxy.counts["proxied"] == forward_proxy.counts["requests"] == 2


async def test_async_requests_go_through_the_proxy(
    forward_proxy: Relay, dynamodb_endpoint: str, rows: list[Row]
) -> None:
    connection = direct(dynamodb_endpoint)
    try:
        assert await Row.aget(pk="p", sk=5, connection=connection) == rows[5]
        await Row(pk="p", sk=98, text="via proxy").asave(connection=connection)
    finally:
        await connection.aclose()
    assert Row.get(pk="p", sk=98, consistent=True) is not None
    assert forward_proxy.counts["proxied"] == 2


def test_a_proxy_urls_credentials_go_as_proxy_authorization(
    forward_proxy: Relay,
    dynamodb_endpoint: str,
    rows: list[Row],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "HTTP_PROXY", forward_proxy.endpoint.replace("http://", "http://proxy%20user:s%3Acret@")
    )
    connection = direct(dynamodb_endpoint)
    try:
        assert Row.get(pk="p", sk=5, connection=connection) == rows[5]
    finally:
        connection.close()
    expected = "Basic " + base64.b64encode(b"proxy user:s:cret").decode()
    assert forward_proxy.proxy_authorizations == [expected]


async def test_async_a_proxy_urls_credentials_go_as_proxy_authorization(
    forward_proxy: Relay,
    dynamodb_endpoint: str,
    rows: list[Row],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.endpoint.replace("http://", "http://u:p@"))
    connection = direct(dynamodb_endpoint)
    try:
        assert await Row.aget(pk="p", sk=5, connection=connection) == rows[5]
    finally:
        await connection.aclose()
    assert forward_proxy.proxy_authorizations == ["Basic " + base64.b64encode(b"u:p").decode()]


def test_no_proxy_is_respected(
    forward_proxy: Relay,
    dynamodb_endpoint: str,
    rows: list[Row],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    connection = direct(dynamodb_endpoint)
    try:
        assert Row.get(pk="p", sk=5, connection=connection) == rows[5]
    finally:
        connection.close()
    assert forward_proxy.counts["requests"] == 0


def test_a_proxy_that_cannot_be_reached_means_nothing_was_sent(
    dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch, rows: list[Row]
) -> None:
    from tests.integration.helpers import closed_port

    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    connection = direct(dynamodb_endpoint, max_attempts=1, connect_timeout=0.5)
    try:
        with pytest.raises(TransportError) as caught:
            Row.get(pk="p", sk=5, connection=connection)
    finally:
        connection.close()
    assert caught.value.sent is False


# -- sharing connections -------------------------------------------------------------------------


def test_threads_share_the_kept_alive_connections(dynamodb_endpoint: str, rows: list[Row]) -> None:
    with Relay(dynamodb_endpoint) as relay:
        connection = direct(relay.endpoint)
        try:
            with ThreadPoolExecutor(max_workers=6) as pool:
                found = list(
                    pool.map(
                        lambda n: Row.get(pk="p", sk=n % 40, connection=connection), range(120)
                    )
                )
        finally:
            connection.close()
    assert found == [rows[n % 40] for n in range(120)]
    assert relay.counts["requests"] == 120
    assert relay.counts["connections"] <= 6  # one per thread at most, reused


async def test_gathered_calls_share_at_most_max_pool_connections(
    dynamodb_endpoint: str, rows: list[Row]
) -> None:
    with Relay(dynamodb_endpoint) as relay:
        connection = direct(relay.endpoint, max_pool_connections=3)
        try:
            found = await asyncio.gather(
                *(Row.aget(pk="p", sk=n % 40, connection=connection) for n in range(60))
            )
        finally:
            await connection.aclose()
    assert found == [rows[n % 40] for n in range(60)]
    assert relay.counts["requests"] == 60
    assert relay.counts["connections"] <= 3


# -- credentials ---------------------------------------------------------------------------------


def test_expiring_credentials_are_refreshed(
    dynamodb_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[Row]
) -> None:
    """A credential_process whose keys expire in a minute: botocore refreshes them before
    each request (less than its 10 minutes are left), and each request is signed with
    the keys of the moment."""
    counter = tmp_path / "count"
    counter.write_text("0")
    expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)).isoformat()
    script = tmp_path / "credentials.py"
    script.write_text(
        "import json, pathlib\n"
        f"counter = pathlib.Path({str(counter)!r})\n"
        "n = int(counter.read_text()) + 1\n"
        "counter.write_text(str(n))\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': f'AKIDREFRESH{n}', "
        f"'SecretAccessKey': 'secret', 'Expiration': {expires!r}}}))\n"
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile rotating]\ncredential_process = {sys.executable} {script}\nregion = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with Relay(dynamodb_endpoint) as relay:
        connection = Connection(
            endpoint_url=relay.endpoint, profile_name="rotating", transport="direct"
        )
        try:
            for n in range(3):
                assert Row.get(pk="p", sk=n, connection=connection) == rows[n]
        finally:
            connection.close()
    keys = relay.access_keys
    assert len(keys) == 3
    assert all(key.startswith("AKIDREFRESH") for key in keys)
    assert len(set(keys)) == 3  # each request had fresh keys


# -- damaged answers, on both transports ----------------------------------------------------------


@pytest.fixture(params=["direct", "botocore"])
def transport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_a_damaged_answer_to_a_read_is_resent(
    transport: str, proxy_for: ProxyFor, tables: Tables
) -> None:
    tables(Tally)
    Tally.create(id="t", n=4)
    proxy, connection = proxy_for(
        Faults(bad_crc=1.0, operations=frozenset({"GetItem"}), limit=1),
        max_attempts=3,
        transport=transport,
    )
    found = Tally.get(id="t", connection=connection)
    assert found is not None
    assert found.n == 4
    assert proxy.counts["GetItem"] == 2
    assert proxy.counts["bad_crc"] == 1


def test_a_damaged_answer_to_an_add_is_an_unknown_outcome(
    transport: str, proxy_for: ProxyFor, tables: Tables
) -> None:
    """The ADD was applied, but its answer is damaged: it is not resent blindly."""
    tables(Tally)
    Tally.create(id="t", n=4)
    proxy, connection = proxy_for(
        Faults(bad_crc=1.0, operations=frozenset({"UpdateItem"}), limit=1),
        max_attempts=3,
        transport=transport,
    )
    with pytest.raises(OutcomeUnknown) as caught:
        Tally.add(id="t", n=1, connection=connection)
    assert caught.value.operation == "UpdateItem"
    assert isinstance(caught.value.cause, TransportError)
    assert "x-amz-crc32" in str(caught.value.cause)
    assert proxy.counts["UpdateItem"] == 1
    stored = Tally.get(id="t", consistent=True)
    assert stored is not None
    assert stored.n == 5  # applied once


def test_a_damaged_answer_to_an_idempotent_add_is_resent_and_applied_once(
    transport: str, proxy_for: ProxyFor, tables: Tables
) -> None:
    tables(Tally)
    Tally.create(id="t", n=4)
    proxy, connection = proxy_for(
        Faults(bad_crc=1.0, operations=frozenset({"TransactWriteItems"}), limit=1),
        max_attempts=3,
        transport=transport,
    )
    Tally.add(id="t", n=1, idempotent=True, connection=connection)
    stored = Tally.get(id="t", consistent=True)
    assert stored is not None
    assert stored.n == 5
    assert proxy.counts["TransactWriteItems"] == 2


def test_the_transport_can_be_named(dynamodb_endpoint: str) -> None:
    direct_one = Connection(endpoint_url=dynamodb_endpoint, transport="direct", **CREDENTIALS)
    botocore_one = Connection(endpoint_url=dynamodb_endpoint, transport="botocore", **CREDENTIALS)
    assert type(direct_one.transport).__name__ == "DirectTransport"
    assert type(botocore_one.transport).__name__ == "BotocoreTransport"
    assert repr(direct_one) == repr(botocore_one) == f"<Connection {dynamodb_endpoint}>"
    # both have a botocore client with the connection's settings, for raw calls
    assert direct_one.client.meta.endpoint_url == botocore_one.client.meta.endpoint_url
    direct_one.close()
    botocore_one.close()


def test_an_unknown_transport_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'direct', 'botocore'"):
        Connection(transport="http2")


def test_the_environment_chooses_the_default_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DYNAMODB_TRANSPORT", "botocore")
    assert type(Connection(region_name="us-east-1").transport).__name__ == "BotocoreTransport"
    monkeypatch.setenv("DYNAMODB_TRANSPORT", "direct")
    assert type(Connection(region_name="us-east-1").transport).__name__ == "DirectTransport"
    monkeypatch.delenv("DYNAMODB_TRANSPORT")
    assert type(Connection(region_name="us-east-1").transport).__name__ == "DirectTransport"


def test_control_plane_answers_are_botocores(dynamodb_endpoint: str, tables: Tables) -> None:
    """DescribeTable through the direct transport gives what botocore's parser gives."""
    tables(Tally)
    direct_one = Connection(endpoint_url=dynamodb_endpoint, transport="direct", **CREDENTIALS)
    botocore_one = Connection(endpoint_url=dynamodb_endpoint, transport="botocore", **CREDENTIALS)
    try:
        ours = direct_one.send("DescribeTable", {"TableName": Tally.__table_name__})
        theirs = botocore_one.send("DescribeTable", {"TableName": Tally.__table_name__})
    finally:
        direct_one.close()
        botocore_one.close()
    for answer in (ours, theirs):
        answer.pop("ResponseMetadata")
    assert isinstance(ours["Table"]["CreationDateTime"], dt.datetime)
    assert json.dumps(ours, default=str, sort_keys=True) == json.dumps(
        theirs, default=str, sort_keys=True
    )


def test_tls_context_is_what_was_asked(certificates: TestCertificates) -> None:
    from dynamodb.wire.exchange import tls_context

    assert tls_context(None).verify_mode == ssl.CERT_REQUIRED
    assert tls_context(str(certificates.ca)).check_hostname
    assert tls_context(str(certificates.folder)).verify_mode == ssl.CERT_REQUIRED
    assert tls_context(False).verify_mode == ssl.CERT_NONE
