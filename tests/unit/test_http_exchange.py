"""The direct transport's HTTP/1.1 exchange against a scripted loopback server.

The server reads each request whole and answers with the exact bytes a test
gives (or closes, or waits), so the reader is checked on what real servers and
proxies send: interim ``100 Continue`` answers, chunked bodies with extensions
and trailers, bodies that run until the connection closes, ``Connection: close``,
HTTP/1.0, malformed answers, dropped connections and timeouts. Every case runs on
the sync pool and on the asyncio pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dynamodb import TransportError
from dynamodb.wire.aexchange import AsyncPool
from dynamodb.wire.exchange import Pool, Response

Script = list[bytes | None]
"""One entry per request: the raw answer, or None to close without answering."""


class ScriptedServer:
    """Answers the n-th request with ``script[n]``; counts connections and requests."""

    def __init__(self, script: Script, close_after: bool = False, hold: float = 0.0) -> None:
        self.script = list(script)
        self.close_after = close_after
        self.hold = hold
        self.connections = 0
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read_request(self, sock: socket.socket, buffer: bytes) -> bytes | None:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += sock.recv(65536)
        return rest[length:]

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        buffer = b""
        with contextlib.suppress(OSError), sock:
            while not self._stop.is_set():
                left = self._read_request(sock, buffer)
                if left is None:
                    return
                buffer = left
                self.requests += 1
                answer = self.script.pop(0) if self.script else None
                if self.hold:
                    self._stop.wait(self.hold)
                if answer is None:
                    return
                sock.sendall(answer)
                if self.close_after:
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    started: list[ScriptedServer] = []

    def start(script: Script, **options: Any) -> ScriptedServer:
        server = ScriptedServer(script, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def ok(body: bytes, *headers: str) -> bytes:
    extra = "".join(f"{header}\r\n" for header in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


class Client:
    """The sync or the async pool behind one interface: ``post`` runs to the answer."""

    def __init__(self, kind: str, url: str, read_timeout: float = 2.0) -> None:
        self.kind = kind
        settings: dict[str, Any] = {
            "connect_timeout": 1.0,
            "read_timeout": read_timeout,
            "max_connections": 4,
        }
        self.sync = Pool(url, **settings)
        self.loop = asyncio.new_event_loop()
        self.pool = AsyncPool(url, **settings)

    def post(self, body: bytes = b"{}") -> Response:
        headers = {"Host": "test", "X-Amz-Target": "DynamoDB_20120810.GetItem"}
        if self.kind == "sync":
            return self.sync.post(headers, body)
        return self.loop.run_until_complete(self.pool.post(headers, body))

    @property
    def opened(self) -> int:
        return self.sync.opened if self.kind == "sync" else self.pool.opened

    def close(self) -> None:
        self.sync.close()
        self.pool.close()
        self.loop.run_until_complete(asyncio.sleep(0))  # the transports finish closing
        self.loop.close()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def client(kind: str) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(url: str, **options: Any) -> Client:
        one = Client(kind, url, **options)
        made.append(one)
        return one

    yield make
    for one in made:
        one.close()


def test_content_length_answers_on_one_kept_alive_connection(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client]
) -> None:
    server = serve([ok(b'{"a": 1}', "x-amz-crc32: 1", "X-Twice: a", "x-twice: b")] * 3)
    http = client(server.url)
    answers = [http.post() for _ in range(3)]
    assert [answer.body for answer in answers] == [b'{"a": 1}'] * 3
    assert answers[0].status == 200
    assert answers[0].headers["x-amz-crc32"] == "1"
    assert answers[0].headers["x-twice"] == "a, b"  # repeated headers are joined
    assert server.connections == http.opened == 1


def test_interim_answers_are_skipped(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client]
) -> None:
    server = serve([b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"{}")])
    assert client(server.url).post().body == b"{}"


def test_chunked_bodies_with_extensions_and_trailers(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client]
) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4;name=value\r\n{"a"\r\n3\r\n: 1\r\nA\r\n, "b": [1]\r\n1\r\n}\r\n'
        b"0\r\nX-Trailer: 1\r\n\r\n"
    )
    server = serve([chunked, chunked])
    http = client(server.url)
    assert http.post().body == b'{"a": 1, "b": [1]}'
    assert http.post().body == b'{"a": 1, "b": [1]}'
    assert server.connections == 1


def test_a_body_that_runs_until_the_connection_closes(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client]
) -> None:
    server = serve(
        [b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 300_000, ok(b"{}")],
        close_after=True,
    )
    http = client(server.url)
    assert http.post().body == b"x" * 300_000
    assert http.post().body == b"{}"
    assert server.connections == 2  # not reused


@pytest.mark.parametrize(
    "answer",
    [
        ok(b"{}", "Connection: close"),
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    ],
)
def test_answers_that_end_the_connection_are_not_reused(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client], answer: bytes
) -> None:
    server = serve([answer, ok(b"{}")], close_after=True)
    http = client(server.url)
    assert http.post().body == b"{}"
    assert http.post().body == b"{}"
    assert http.opened == 2


def test_a_large_body_arrives_whole(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client]
) -> None:
    body = bytes(range(256)) * 20_000  # 5 MB, many reads
    server = serve([ok(body)])
    assert client(server.url).post(b"y" * 3_000_000).body == body


@pytest.mark.parametrize(
    "answer",
    [b"SMTP ready\r\n\r\n", b"HTTP/1.1 abc\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"],
)
def test_a_malformed_answer_is_a_lost_answer(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client], answer: bytes
) -> None:
    server = serve([answer])
    with pytest.raises(TransportError, match="malformed") as caught:
        client(server.url).post()
    assert caught.value.sent is True


def test_a_connection_closed_instead_of_answering_is_a_lost_answer(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client]
) -> None:
    server = serve([None])
    with pytest.raises(TransportError, match="closed") as caught:
        client(server.url).post()
    assert caught.value.sent is True
    assert server.requests == 1


def test_no_answer_in_time_is_a_read_timeout(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client]
) -> None:
    server = serve([ok(b"{}")], hold=1.0)
    with pytest.raises(TransportError, match="read timeout") as caught:
        client(server.url, read_timeout=0.2).post()
    assert caught.value.sent is True
    assert caught.value.timeout is True


def test_a_refused_connection_was_not_sent(client: Callable[..., Client]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError, match="cannot connect") as caught:
        client(f"http://127.0.0.1:{port}").post()
    assert caught.value.sent is False


def test_a_connection_the_server_closed_while_idle_is_replaced(
    serve: Callable[..., ScriptedServer], client: Callable[..., Client]
) -> None:
    server = serve([ok(b"1"), ok(b"2")], close_after=True)  # closes after each answer
    http = client(server.url)
    assert http.post().body == b"1"
    if http.kind == "async":
        http.loop.run_until_complete(asyncio.sleep(0.05))  # the close is seen on the loop
    else:
        threading.Event().wait(0.05)
    assert http.post().body == b"2"
    assert server.requests == 2
    assert http.opened == 2


def test_urls_that_are_not_http_are_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        Pool("ftp://example.com", connect_timeout=1, read_timeout=1, max_connections=1)
