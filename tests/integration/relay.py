"""A loopback relay to DynamoDB Local that changes how answers travel, not what they say.

:class:`Relay` forwards every request to DynamoDB Local and answers with what
DynamoDB answered, but it can

- send the answer body **chunked** (``chunk=7``: chunks of 7 bytes),
- **close** each connection after answering, without saying so (``close_after``:
  what a server's idle timeout does to a kept-alive connection),
- speak **TLS** with a certificate of its own (``tls=``: an ``ssl.SSLContext``),
- act as a **forward proxy** (it then gets requests in absolute form,
  ``POST http://host:port/``, and counts them in ``proxied``).

It records the access key id of each request's ``Authorization`` header
(``access_keys``) and counts requests and connections.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.integration.helpers import HOST, LoopbackHTTPServer, LoopbackService

__all__ = ["Relay", "TestCertificates", "make_certificates"]


class _Server(LoopbackHTTPServer):
    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        super().__init__(_Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        self.relay.count("connections")
        if self.relay.tls is not None:
            sock = self.relay.tls.wrap_socket(sock, server_side=True)
        return sock, address


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 5.0

    def log_message(self, format: str, *args: Any) -> None:
        """No request log on stderr."""

    def do_POST(self) -> None:
        relay = self.server.relay
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        relay.count("requests")
        if self.path.startswith("http://"):
            relay.count("proxied")
        with relay.lock:
            relay.proxy_authorizations.append(self.headers.get("Proxy-Authorization"))
        authorization = self.headers.get("Authorization", "")
        key = authorization.partition("Credential=")[2].partition("/")[0]
        with relay.lock:
            relay.access_keys.append(key)
        status, headers, answer = relay.forward(self.headers, body)
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding", "date"}:
                self.send_header(name, value)
        if relay.chunk:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(answer), relay.chunk):
                piece = answer[start : start + relay.chunk]
                self.wfile.write(f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        if relay.close_after:
            self.wfile.flush()
            self.close_connection = True  # closed without a "Connection: close" header


class Relay(LoopbackService):
    """Forwards to DynamoDB Local; chunks, closes, speaks TLS or proxies as told."""

    thread_name = "relay"

    def __init__(
        self,
        upstream: str,
        *,
        chunk: int = 0,
        close_after: bool = False,
        tls: ssl.SSLContext | None = None,
        lifetime: float = 60.0,
    ) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname in (HOST, "localhost")
        assert parts.port is not None
        self.upstream = (parts.hostname, parts.port)
        self.chunk = chunk
        self.close_after = close_after
        self.tls = tls
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {"requests": 0, "connections": 0, "proxied": 0}
        self.access_keys: list[str] = []
        self.proxy_authorizations: list[str | None] = []
        super().__init__(lifetime)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return super().endpoint.replace("http://", f"{scheme}://", 1)

    def forward(self, headers: Any, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, port = self.upstream
        upstream = http.client.HTTPConnection(host, port, timeout=10.0)
        try:
            sent = {
                name: value
                for name, value in headers.items()
                if name.lower() not in ("host", "content-length", "connection")
            }
            sent["Host"] = headers.get("Host", f"{host}:{port}")
            upstream.request("POST", "/", body=body, headers=sent)
            response = upstream.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            upstream.close()

    def _make_server(self) -> LoopbackHTTPServer:
        return _Server(self)


class TestCertificates:
    """A test CA and a server certificate it signed (files under ``folder``)."""

    __test__ = False  # not a test class, for pytest

    def __init__(self, folder: Path, ca: Path, certificate: Path, key: Path) -> None:
        self.folder = folder
        self.ca = ca
        self.certificate = certificate
        self.key = key

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, self.key)
        return context


def make_certificates(folder: Path, names: tuple[str, ...] = (HOST,)) -> TestCertificates:
    """A CA and a certificate for ``names`` (IP addresses or host names), signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dynamodb-py test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alternatives: list[x509.GeneralName] = []
    for name in names:
        with contextlib.suppress(ValueError):
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
            continue
        alternatives.append(x509.DNSName(name))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = TestCertificates(folder, folder / "ca.pem", folder / "server.pem", folder / "key.pem")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@contextlib.contextmanager
def relaying(upstream: str, **options: Any) -> Iterator[Relay]:
    """``with relaying(endpoint, chunk=7) as relay:`` a running relay, stopped afterwards."""
    with Relay(upstream, **options) as relay:
        yield relay
