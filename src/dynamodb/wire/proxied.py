"""Sending through a proxy: urllib3 (sync) and aiohttp (async) speak to proxies for us.

The direct transport's own HTTP exchange (:mod:`dynamodb.wire.exchange`)
connects to the endpoint itself. When the environment names a proxy for the
endpoint, requests go through these senders instead: the same signed headers and
body, the same :class:`~dynamodb.wire.exchange.Response`, the same
:class:`~dynamodb.TransportError` rules (``sent=False`` only when no connection
could be made). Imported only when a proxy is in use.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from dynamodb.core.errors import MissingDependency, TransportError
from dynamodb.wire.exchange import Response

__all__ = ["AiohttpSender", "Urllib3Sender"]


class _ProxiedSender:
    """What both senders keep: the endpoint, the proxy, timeouts, pool size, TLS."""

    def __init__(
        self,
        url: str,
        proxy: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        tls: ssl.SSLContext | None,
    ) -> None:
        self.url = url
        self.proxy = proxy
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max(1, max_connections)
        self.tls = tls
        self._start()

    def _start(self) -> None:
        """Make the client that speaks to the proxy."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url} via {self.proxy}>"


class Urllib3Sender(_ProxiedSender):
    """``POST``s through ``proxy`` with a urllib3 ``ProxyManager`` (thread-safe)."""

    def _start(self) -> None:
        import urllib3

        self._urllib3 = urllib3
        proxy, proxy_headers = _without_credentials(self.proxy)
        self._manager = urllib3.ProxyManager(
            proxy,
            proxy_headers=proxy_headers,
            maxsize=self.max_connections,
            timeout=urllib3.Timeout(connect=self.connect_timeout, read=self.read_timeout),
            ssl_context=self.tls,
            retries=False,
        )

    def post(self, headers: dict[str, str], body: bytes) -> Response:
        """``POST`` ``body`` through the proxy; the answer whatever its status."""
        exceptions = self._urllib3.exceptions
        try:
            answer = self._manager.request(
                "POST",
                self.url,
                body=body,
                headers=headers,
                retries=False,
                redirect=False,
                preload_content=True,
                decode_content=True,
            )
        except (
            exceptions.NewConnectionError,
            exceptions.ConnectTimeoutError,
            exceptions.ProxyError,
        ) as error:
            raise TransportError(f"{self.url} via {self.proxy}: {error}", sent=False) from error
        except (exceptions.HTTPError, OSError) as error:
            raise TransportError(f"{self.url} via {self.proxy}: {error}") from error
        found = {name.lower(): value for name, value in answer.headers.items()}
        return Response(answer.status, found, answer.data)

    def close(self) -> None:
        """Close the proxy's kept-alive connections."""
        self._manager.clear()


def _without_credentials(proxy: str) -> tuple[str, dict[str, str]]:
    """The proxy URL without its ``user:password@``, and the header that sends them instead
    (``Proxy-Authorization: Basic ...``, as botocore sends a proxy URL's credentials)."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(proxy)
    if parts.username is None:
        return proxy, {}
    import base64

    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    plain = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    token = base64.b64encode(pair.encode()).decode("ascii")
    return plain, {"Proxy-Authorization": f"Basic {token}"}


class AiohttpSender(_ProxiedSender):
    """``POST``s through ``proxy`` with one aiohttp session (one event loop's)."""

    def _start(self) -> None:
        try:
            import aiohttp
        except ImportError:  # pragma: no cover - depends on the install
            raise MissingDependency(
                "async calls through a proxy need aiohttp: pip install aiohttp"
            ) from None
        self._aiohttp = aiohttp
        self._timeout = aiohttp.ClientTimeout(
            sock_connect=self.connect_timeout, sock_read=self.read_timeout
        )
        self._session: Any = None

    def _open(self) -> Any:
        if self._session is None or self._session.closed:
            aiohttp = self._aiohttp
            verify: ssl.SSLContext | bool = self.tls if self.tls is not None else True
            connector = aiohttp.TCPConnector(limit=self.max_connections, ssl=verify)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, auto_decompress=False
            )
        return self._session

    async def post(self, headers: dict[str, str], body: bytes) -> Response:
        """``POST`` ``body`` through the proxy on the running loop."""
        aiohttp = self._aiohttp
        session = self._open()
        try:
            async with session.post(
                self.url, data=body, headers=headers, proxy=self.proxy, allow_redirects=False
            ) as answer:
                data = await answer.read()
                found = {name.lower(): value for name, value in answer.headers.items()}
                return Response(answer.status, found, data)
        except aiohttp.ClientConnectorError as error:
            raise TransportError(f"{self.url} via {self.proxy}: {error}", sent=False) from error
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            detail = str(error) or type(error).__name__
            raise TransportError(f"{self.url} via {self.proxy}: {detail}") from error

    async def aclose(self) -> None:
        """Close the session (a new one is made if used again)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
