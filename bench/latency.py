"""Section 3, last row: gets through a simulated network, sync against async.

Against DynamoDB Local on this machine the server's CPU caps gets near 1,000/s
however many are in flight, so the async column of the gets row shows the
server's limit, not the client's. Real DynamoDB answers from across a network:
this row puts a loopback proxy that holds every answer for ``DELAY`` seconds in
front of the same DynamoDB Local, and compares our sync gets (one at a time)
with our async gets (100 in flight) through it.
"""

from __future__ import annotations

import asyncio
import http.client
import multiprocessing
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .models import many_values, ours_model
from .report import Report, Row
from .timing import Measure, Settings, wall

DELAY = 0.010
TABLE = "bench_latency"


class _DelayingProxy(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # 100 clients connect at once

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.local = threading.local()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _DelayingProxy

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle and delayed
        # ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        upstream = getattr(self.server.local, "connection", None)
        if upstream is None:
            upstream = http.client.HTTPConnection(*self.server.target, timeout=30)
            self.server.local.connection = upstream
        upstream.request("POST", self.path, body, dict(self.headers))
        answer = upstream.getresponse()
        payload = answer.read()
        time.sleep(DELAY)  # the network
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def _serve(target: str, ports: Any) -> None:
    """The proxy's own process (so its work does not share our GIL)."""
    proxy = _DelayingProxy(target)
    ports.put(proxy.server_address[1])
    proxy.serve_forever()


def run(settings: Settings, report: Report, endpoint: str) -> None:
    import dynamodb

    count = max(100, settings.e2e_single // 4)
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    proxy = context.Process(target=_serve, args=(endpoint, ports), daemon=True)
    proxy.start()
    port = ports.get(timeout=60)
    connection = dynamodb.Connection(
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        max_pool_connections=settings.async_in_flight,
    )
    model = ours_model(TABLE)
    loop = asyncio.new_event_loop()
    try:
        direct = dynamodb.Connection(
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        dynamodb.create_table(model, force=True, connection=direct)
        items = model.batch_write([model(**v) for v in many_values(count)], connection=direct)
        keys = [{"pk": item.pk, "sk": item.sk} for item in items]

        def sync_gets() -> int:
            return sum(model.get(connection=connection, **key) is not None for key in keys)

        async def async_gets() -> int:
            gate = asyncio.Semaphore(settings.async_in_flight)

            async def one(key: dict[str, Any]) -> bool:
                async with gate:
                    return await model.aget(connection=connection, **key) is not None

            return sum(await asyncio.gather(*(one(key) for key in keys)))

        sync_gets()  # warm: clients, connections
        loop.run_until_complete(async_gets())
        measures = {"ours": Measure(), "ours async": Measure()}
        for _ in range(settings.e2e_repeats):
            seconds, handled = wall(sync_gets)
            measures["ours"].samples.append(handled / seconds)
            seconds, handled = wall(lambda: loop.run_until_complete(async_gets()))
            measures["ours async"].samples.append(handled / seconds)
        report.add(
            Row(
                section=3,
                name=f"get x {count:,} via {DELAY * 1000:.0f} ms network",
                unit="items/s",
                values=measures,
                ratios=[("async/sync", "ours async", "ours")],
                note="through a loopback proxy that holds each answer 10 ms",
            )
        )
        dynamodb.delete_table(model, connection=direct)
        direct.close()
    finally:
        loop.run_until_complete(connection.aclose())
        loop.close()
        connection.close()
        proxy.terminate()
        proxy.join(10)
