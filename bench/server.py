"""A canned-answer DynamoDB endpoint in its own process, over real loopback sockets.

Every request is answered by operation (``X-Amz-Target``) with fixed bytes,
with the headers DynamoDB sends (``Content-Length``, ``x-amz-crc32``,
``x-amzn-RequestId``), on kept-alive HTTP/1.1 connections. It runs in another
process (asyncio, one protocol object per connection), so what the clients
spend on HTTP, signing and parsing is all measured in the client's process,
and nothing of the server is.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_DEFAULT = b"{}"


class _Canned(asyncio.Protocol):
    def __init__(self, answers: dict[bytes, bytes]) -> None:
        self.answers = answers
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end])
            length = 0
            target = b""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"x-amz-target":
                    target = value.strip().rpartition(b".")[2]
            if len(buffer) < end + 4 + length:
                return
            del buffer[: end + 4 + length]
            assert self.transport is not None
            self.transport.write(self.answers.get(target) or self.answers[b""])


def _answer(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"x-amz-crc32: {zlib.crc32(body) & 0xFFFFFFFF}\r\n"
        "x-amzn-RequestId: BENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCHBENCH\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def _serve(bodies: dict[str, bytes], ports: Any) -> None:
    answers = {operation.encode(): _answer(body) for operation, body in bodies.items()}
    answers[b""] = _answer(_DEFAULT)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Canned(answers), "127.0.0.1", 0, backlog=1024, reuse_address=True
        )
        ports.put(server.sockets[0].getsockname()[1])
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


@contextmanager
def canned_server(bodies: dict[str, bytes]) -> Iterator[str]:
    """``with canned_server({"GetItem": b"{...}"}) as endpoint:`` an ``http://`` URL."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(target=_serve, args=(bodies, ports), daemon=True)
    process.start()
    try:
        port = ports.get(timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(5)
