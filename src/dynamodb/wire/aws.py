"""The botocore transport: a botocore client (sync) and aiobotocore clients (async).

:class:`BotocoreTransport` creates its botocore client on first use, and one
aiobotocore client per event loop, also on first use. botocore signs and times
out each call, and resends nothing (:mod:`dynamodb.core.retries` decides what
is resent); the answers of item operations are parsed by
:mod:`dynamodb.wire.parser`; botocore's and aiohttp's exceptions become
dynamodb-py's typed errors. The clients come from the transport's own botocore
sessions, so moto's ``mock_aws`` (which answers below the parser)
works with it.

The four operations of the DynamoDB Streams API go to a second client, for the
``dynamodbstreams`` service (:func:`dynamodb.core.services.service_of` says
which operation goes where), made from the same session and settings on first
use: on AWS it reaches the streams endpoint of the region, and with an
``endpoint_url`` (DynamoDB Local) the same URL as the DynamoDB client.

An aiobotocore client belongs to the event loop it was made on: closing it
means awaiting its ``__aexit__`` on that loop. So each loop's client is closed
by :meth:`BotocoreTransport.aclose` on that loop, or when the loop shuts down
(``asyncio.run`` and ``asyncio.Runner`` close the loop's async generators
first, and a small one closes the client), or, by
:meth:`BotocoreTransport.close`, on its loop soon after. The client of a loop
that was closed without shutting down can only be dropped.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from collections.abc import AsyncGenerator
from typing import Any, NoReturn

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from dynamodb.core.errors import MissingDependency, TransportError, error_from_response
from dynamodb.core.services import DYNAMODB, Service, service_of
from dynamodb.wire.loops import close_on
from dynamodb.wire.parser import FastParserFactory

__all__ = ["BotocoreTransport"]


class BotocoreTransport:
    """Sends requests with botocore (sync) and aiobotocore (async, one client per loop).

    ``client_arguments`` go to botocore's ``create_client("dynamodb", ...)``
    (``endpoint_url``, ``region_name``, credentials, ``config``);
    ``profile_name`` picks the profile of the sessions. ``fast_parser`` parses
    item operations' answers with ``json.loads`` (:mod:`dynamodb.wire.parser`).
    Thread-safe: one transport serves every thread and event loop.
    """

    def __init__(
        self, *, profile_name: str | None = None, fast_parser: bool = True, **client_arguments: Any
    ) -> None:
        self.profile_name = profile_name
        self.fast_parser = fast_parser
        self.client_arguments = client_arguments
        self._session: Any = None  # the botocore session of the sync clients
        self._clients: dict[str, Any] = {}  # sync clients by service name
        self._lock = threading.Lock()  # guards the sync clients and the _async_clients dict
        # One entry per event loop that used this transport. (Weak keys would not let
        # entries go: the client's aiohttp session, the lock and the loop's async
        # generator hooks all refer to the loop. Entries go when the loop shuts down,
        # or when a later loop finds theirs closed.)
        self._async_clients: dict[asyncio.AbstractEventLoop, _LoopClient] = {}

    def __repr__(self) -> str:
        where = self.client_arguments.get("endpoint_url") or self.client_arguments.get(
            "region_name", "(region from environment)"
        )
        return f"<BotocoreTransport {where}>"

    # -- clients -----------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The botocore DynamoDB client (created on first use, thread-safe)."""
        return self.client_for(DYNAMODB)

    def client_for(self, service: Service) -> Any:
        """The botocore client of ``service`` (created on first use, thread-safe)."""
        client = self._clients.get(service.name)
        if client is None:
            with self._lock:
                client = self._clients.get(service.name)
                if client is None:
                    if self._session is None:
                        import botocore.session

                        self._session = self._prepared(
                            botocore.session.Session(profile=self.profile_name), is_async=False
                        )
                    client = self._session.create_client(service.name, **self.client_arguments)
                    _cache_user_agent(client)
                    self._clients[service.name] = client
        return client

    async def _async_client(self, service: Service) -> Any:
        loop = asyncio.get_running_loop()
        entry = self._async_clients.get(loop) or self._entry(loop)
        client = entry.clients.get(service.name)
        if client is None:
            # Making a client can wait (credential_process, SSO, IMDS ...): tasks that
            # start meanwhile wait for it instead of each making (and leaking) one.
            async with entry.lock:
                client = entry.clients.get(service.name)
                if client is None:
                    client = await self._open(entry, service)
        return client

    def _entry(self, loop: asyncio.AbstractEventLoop) -> _LoopClient:
        with self._lock:
            for other in [other for other in self._async_clients if other.is_closed()]:
                # A loop closed without shutting down: its client cannot be closed any
                # more (that needs its loop), so dropping it is the best that can be done.
                del self._async_clients[other]
            return self._async_clients.setdefault(loop, _LoopClient())

    async def _open(self, entry: _LoopClient, service: Service) -> Any:
        try:
            from aiobotocore.session import AioSession
        except ImportError:  # pragma: no cover - depends on the install
            raise MissingDependency(
                "the async API needs aiobotocore: pip install 'dynamodb-py[async]'"
            ) from None
        if entry.session is None:
            entry.session = self._prepared(AioSession(profile=self.profile_name), is_async=True)
        context = entry.session.create_client(service.name, **self.client_arguments)
        client = await context.__aenter__()
        _cache_user_agent(client)
        entry.contexts.append(context)
        entry.clients[service.name] = client
        if entry.guard is None:
            guard = _close_at_shutdown(weakref.ref(self), weakref.ref(entry))
            await guard.__anext__()  # registers it with the loop's async generator hooks
            entry.guard = guard
        return client

    def _prepared(self, session: Any, is_async: bool) -> Any:
        """``session``, with the fast parser registered if wanted (once per session).

        An aiobotocore session's ``create_client`` gives an async context manager
        giving the client.
        """
        if self.fast_parser:
            fallback = session.get_component("response_parser_factory")
            session.register_component(
                "response_parser_factory", FastParserFactory(fallback, is_async=is_async)
            )
        return session

    async def _release(self, loop: asyncio.AbstractEventLoop, entry: _LoopClient) -> None:
        with self._lock:
            if self._async_clients.get(loop) is entry:
                del self._async_clients[loop]
        await entry.aclose()

    # -- sending ---------------------------------------------------------------------

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request with the botocore client; errors come back typed."""
        method = getattr(self.client_for(service_of(operation)), _snake(operation))
        try:
            response: dict[str, Any] = method(**params)
        except Exception as error:
            _raise_typed(error, operation)
        return response

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request with the running event loop's aiobotocore client."""
        method = getattr(await self._async_client(service_of(operation)), _snake(operation))
        try:
            response: dict[str, Any] = await method(**params)
        except Exception as error:
            _raise_typed(error, operation)
        return response

    # -- closing -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync client, and drop every async client (closed on their loops).

        An async client can only be closed on its own event loop: it is closed there
        soon (at once when ``close()`` is called on that loop's thread), or dropped if
        its loop is closed already. A new client is made if the transport is used again.
        """
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
            entries = list(self._async_clients.items())
            self._async_clients.clear()
        for client in clients:
            client.close()
        for loop, entry in entries:
            _close_on(loop, entry)

    async def aclose(self) -> None:
        """Close the async client of the running event loop (a new one is made on use)."""
        loop = asyncio.get_running_loop()
        entry = self._async_clients.get(loop)
        if entry is not None:
            await self._release(loop, entry)


class _LoopClient:
    """One event loop's aiobotocore clients (one per service); made on first use, under ``lock``."""

    __slots__ = ("__weakref__", "clients", "contexts", "guard", "lock", "session")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.session: Any = None  # the AioSession the clients come from
        self.contexts: list[Any] = []  # what create_client returned: async context managers
        self.clients: dict[str, Any] = {}  # by service name
        self.guard: AsyncGenerator[None, None] | None = None

    @property
    def client(self) -> Any:
        """The DynamoDB client (None until made)."""
        return self.clients.get(DYNAMODB.name)

    async def aclose(self) -> None:
        contexts, self.contexts, self.clients = self.contexts, [], {}
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)


async def _close_at_shutdown(
    transport: weakref.ref[BotocoreTransport], entry: weakref.ref[_LoopClient]
) -> AsyncGenerator[None, None]:
    """Closes a loop's client when the loop shuts down, while it can still run it.

    Started once, an async generator is known to its loop, and ``asyncio.run`` (or
    ``asyncio.Runner``, or ``loop.shutdown_asyncgens()``) closes it before closing
    the loop: its ``finally`` then closes the client. It holds weak references
    only, so a transport or client nobody uses any more is not kept alive by it.
    """
    try:
        yield
    finally:
        owner, current = transport(), entry()
        if owner is not None and current is not None:
            await owner._release(asyncio.get_running_loop(), current)


def _close_on(loop: asyncio.AbstractEventLoop, entry: _LoopClient) -> None:
    """Close ``entry``'s client on its own loop, as soon as that loop runs.

    If the loop is closed, nothing can close its client any more: aiohttp may warn
    "Unclosed client session" when it is collected. Dropping it is all that can be done.
    """
    if entry.contexts:
        close_on(loop, entry)


@functools.cache
def _snake(operation: str) -> str:
    """botocore's method name of an API operation: ``"PutItem"`` -> ``"put_item"``."""
    return "".join(
        f"_{char.lower()}" if char.isupper() and index else char.lower()
        for index, char in enumerate(operation)
    )


def _cache_user_agent(client: Any) -> None:
    """Build the User-Agent header once per set of feature ids, not twice per request.

    botocore rebuilds the whole string on every request (from the SDK version,
    the OS, the config and the features the request used), which costs a fifth
    of a small request's client time. The string only changes with the feature
    ids, so it is cached by them. If botocore's internals differ from what this
    expects, nothing is changed.
    """
    creator = getattr(client, "_user_agent_creator", None)
    build = getattr(creator, "to_string", None)
    if build is None:
        return
    try:
        from botocore.context import get_context
    except ImportError:  # pragma: no cover - older botocore
        return
    cache: dict[tuple[str, ...], str] = {}

    def to_string() -> str:
        context = get_context()
        features = getattr(context, "features", None) or ()
        key = tuple(sorted(features))
        value = cache.get(key)
        if value is None:
            value = cache[key] = build()
        return value

    setattr(creator, "to_string", to_string)  # noqa: B010 (an instance attribute on purpose)


def _raise_typed(error: Exception, operation: str) -> NoReturn:
    """Raise what botocore or aiohttp raised as a typed error (else as it is)."""
    translated = _translate(error, operation)
    if translated is error:
        raise error
    raise translated from error


def _translate(error: Exception, operation: str) -> Exception:
    """A typed dynamodb-py error for what botocore or aiohttp raised (else ``error``)."""
    if isinstance(error, ClientError):
        response: dict[str, Any] = dict(error.response)
        details = response.get("Error", {})
        code = str(details.get("Code", "Unknown"))
        message = str(details.get("Message", "")) or str(error)
        return error_from_response(code, message, response, operation)
    # botocore's ConnectionError (connection refused, connect timeout) is no OSError.
    if isinstance(error, (HTTPClientError, BotocoreConnectionError, OSError, asyncio.TimeoutError)):
        # Only a connection that was never made proves the request did not arrive.
        sent = not isinstance(error, (EndpointConnectionError, ConnectTimeoutError))
        timeout = isinstance(error, (ReadTimeoutError, ConnectTimeoutError, asyncio.TimeoutError))
        return TransportError(f"{operation}: {error}", sent=sent, timeout=timeout)
    return error
