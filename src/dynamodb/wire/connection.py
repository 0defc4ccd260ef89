"""Where requests go: configuration, the botocore/aiobotocore clients, the drivers.

A :class:`Connection` holds the endpoint, region, credentials, timeouts and retry
policy. It creates its botocore client (sync) on first use, and one aiobotocore
client (async) per event loop. :meth:`Connection.run` and :meth:`Connection.arun`
drive a :mod:`dynamodb.flow` generator: they are the only places that send.

``set_connection()`` replaces the default connection; a model (``__connection__``)
or a single call (``connection=``) can name another.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.config import Config

from dynamodb.core.errors import DynamoDBError, TransportError, error_from_response
from dynamodb.core.flow import Flow, Request
from dynamodb.wire.parser import FastParserFactory

if TYPE_CHECKING:
    from types import TracebackType

    from dynamodb.core.compat import Self

__all__ = [
    "LOCAL_ENDPOINT",
    "Connection",
    "aclose",
    "get_connection",
    "set_connection",
    "use_connection",
]

T = TypeVar("T")

LOCAL_ENDPOINT = "http://127.0.0.1:8000"
"""What ``set_connection(is_local_endpoint=True)`` connects to."""

_LOCAL_DEFAULT_REGION = "us-east-1"
_LOCAL_DEFAULT_KEY = "local"


def _snake(operation: str) -> str:
    out = []
    for index, char in enumerate(operation):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


class Connection:
    """Settings for talking to one DynamoDB endpoint, and the clients that do it.

    ``connect_timeout`` and ``read_timeout`` are seconds. ``max_attempts`` counts
    every attempt of one request, the first included (1 means no retry);
    ``retry_mode`` is botocore's (``"standard"``, ``"adaptive"`` or ``"legacy"``).
    ``fast_parser`` parses item operations' answers with ``json.loads`` instead
    of botocore's generic parser (see :mod:`dynamodb.fastpath`).
    Anything left as None comes from the standard AWS environment variables and
    config files, as with boto3.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        profile_name: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_attempts: int = 5,
        retry_mode: str = "standard",
        max_pool_connections: int = 50,
        fast_parser: bool = True,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(
                f"max_attempts counts the first attempt, so it is >= 1: {max_attempts}"
            )
        self.endpoint_url = endpoint_url
        self.region_name = region_name
        self.aws_access_key_id = aws_access_key_id
        self.aws_secret_access_key = aws_secret_access_key
        self.aws_session_token = aws_session_token
        self.profile_name = profile_name
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max_attempts
        self.retry_mode = retry_mode
        self.max_pool_connections = max_pool_connections
        self.fast_parser = fast_parser
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._async_clients: dict[asyncio.AbstractEventLoop, tuple[Any, Any]] = {}
        self._async_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def __repr__(self) -> str:
        where = self.endpoint_url or f"region {self.region_name or '(from environment)'}"
        return f"<Connection {where}>"

    # -- client construction ----------------------------------------------------

    def _config(self) -> Config:
        return Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"total_max_attempts": self.max_attempts, "mode": self.retry_mode},
            max_pool_connections=self.max_pool_connections,
            # Our fields check values before a request is built, and DynamoDB
            # answers anything malformed with a typed ValidationException.
            parameter_validation=False,
        )

    def _client_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {"config": self._config()}
        for name in (
            "endpoint_url",
            "region_name",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
        ):
            value = getattr(self, name)
            if value is not None:
                arguments[name] = value
        return arguments

    @property
    def client(self) -> Any:
        """The botocore DynamoDB client (created on first use, thread-safe)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import botocore.session

                    session = botocore.session.Session(profile=self.profile_name)
                    if self.fast_parser:
                        fallback = session.get_component("response_parser_factory")
                        session.register_component(
                            "response_parser_factory", FastParserFactory(fallback)
                        )
                    client = session.create_client("dynamodb", **self._client_arguments())
                    _cache_user_agent(client)
                    self._client = client
        return self._client

    async def _async_client(self) -> Any:
        loop = asyncio.get_running_loop()
        entry = self._async_clients.get(loop)
        if entry is None:
            # Making a client can wait (credential_process, SSO, IMDS ...): tasks that
            # start meanwhile wait for it instead of each making (and leaking) one.
            async with self._async_locks.setdefault(loop, asyncio.Lock()):
                entry = self._async_clients.get(loop)
                if entry is None:
                    entry = await self._new_async_client()
                    self._async_clients[loop] = entry
        return entry[1]

    async def _new_async_client(self) -> tuple[Any, Any]:
        try:
            from aiobotocore.session import AioSession
        except ImportError:  # pragma: no cover - depends on the install
            raise DynamoDBError(
                "the async API needs aiobotocore: pip install 'dynamodb-py[async]'"
            ) from None
        session = AioSession(profile=self.profile_name)
        if self.fast_parser:
            fallback = session.get_component("response_parser_factory")
            session.register_component(
                "response_parser_factory", FastParserFactory(fallback, is_async=True)
            )
        context = session.create_client("dynamodb", **self._client_arguments())
        client = await context.__aenter__()
        _cache_user_agent(client)
        return context, client

    # -- sending ---------------------------------------------------------------

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request synchronously; DynamoDB errors come back typed."""
        method = getattr(self.client, _snake(operation))
        try:
            response: dict[str, Any] = method(**params)
        except Exception as error:
            raise _translate(error, operation) from error
        return response

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request on the running event loop."""
        client = await self._async_client()
        method = getattr(client, _snake(operation))
        try:
            response: dict[str, Any] = await method(**params)
        except Exception as error:
            raise _translate(error, operation) from error
        return response

    def run(self, flow: Flow[T]) -> T:
        """Drive a flow to its end, blocking."""
        try:
            step = next(flow)
            while True:
                if isinstance(step, Request):
                    try:
                        reply = self.send(step.operation, step.params)
                    except DynamoDBError as error:
                        step = flow.throw(error)
                        continue
                else:
                    time.sleep(step.seconds)
                    reply = None
                step = flow.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result

    async def arun(self, flow: Flow[T]) -> T:
        """Drive a flow to its end on the running event loop."""
        try:
            step = next(flow)
            while True:
                if isinstance(step, Request):
                    try:
                        reply = await self.asend(step.operation, step.params)
                    except DynamoDBError as error:
                        step = flow.throw(error)
                        continue
                else:
                    await asyncio.sleep(step.seconds)
                    reply = None
                step = flow.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result

    def run_many(self, flows: Sequence[Flow[T]], concurrency: int) -> list[T | Exception]:
        """Drive several flows with up to ``concurrency`` in flight (threads).

        Results come in the order of ``flows``; a flow that raised gives its
        exception in its place, so callers see every outcome.
        """
        if concurrency <= 1 or len(flows) <= 1:
            return [_outcome(self.run, flow) for flow in flows]
        with ThreadPoolExecutor(max_workers=min(concurrency, len(flows))) as pool:
            futures = [pool.submit(_outcome, self.run, flow) for flow in flows]
            return [future.result() for future in futures]

    async def arun_many(self, flows: Sequence[Flow[T]], concurrency: int) -> list[T | Exception]:
        """Async twin of :meth:`run_many` (tasks, at most ``concurrency`` at once)."""
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(flow: Flow[T]) -> T | Exception:
            async with gate:
                try:
                    return await self.arun(flow)
                except Exception as error:
                    return error

        return list(await asyncio.gather(*(one(flow) for flow in flows)))

    # -- closing -----------------------------------------------------------------

    def close(self) -> None:
        """Close the sync client (a new one is made if the connection is used again)."""
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the async client of the running event loop."""
        loop = asyncio.get_running_loop()
        entry = self._async_clients.pop(loop, None)
        self._async_locks.pop(loop, None)
        if entry is not None:
            await entry[0].__aexit__(None, None, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


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


def _outcome(run: Callable[[Flow[T]], T], flow: Flow[T]) -> T | Exception:
    try:
        return run(flow)
    except Exception as error:
        return error


def _translate(error: Exception, operation: str) -> Exception:
    """A typed dynamodb-py error for what botocore or aiohttp raised."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    if isinstance(error, ClientError):
        response: dict[str, Any] = dict(error.response)
        details = response.get("Error", {})
        code = str(details.get("Code", "Unknown"))
        message = str(details.get("Message", "")) or str(error)
        return error_from_response(code, message, response, operation)
    # botocore's ConnectionError (connection refused, connect timeout) is no OSError.
    transport = (HTTPClientError, BotocoreConnectionError, OSError, asyncio.TimeoutError)
    if isinstance(error, transport):
        return TransportError(f"{operation}: {error}")
    return error


_default: Connection | None = None
_default_lock = threading.Lock()


def set_connection(
    is_local_endpoint: bool | tuple[str, int | str] = False,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    **options: Any,
) -> Connection:
    """Set (and return) the default connection.

    ``is_local_endpoint=True`` means DynamoDB Local on ``http://127.0.0.1:8000``;
    a ``(host, port)`` tuple means ``http://host:port``. For a local endpoint,
    missing credentials and region get placeholders (DynamoDB Local accepts any).
    Other keyword arguments go to :class:`Connection` (timeouts, retries ...).
    """
    global _default
    if is_local_endpoint:
        if endpoint_url is not None:
            raise ValueError("give is_local_endpoint or endpoint_url, not both")
        if isinstance(is_local_endpoint, tuple):
            host, port = is_local_endpoint
            endpoint_url = f"http://{host}:{port}"
        else:
            endpoint_url = LOCAL_ENDPOINT
        region_name = region_name or _LOCAL_DEFAULT_REGION
        aws_access_key_id = aws_access_key_id or _LOCAL_DEFAULT_KEY
        aws_secret_access_key = aws_secret_access_key or _LOCAL_DEFAULT_KEY
    connection = Connection(
        endpoint_url=endpoint_url,
        region_name=region_name,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        **options,
    )
    with _default_lock:
        _default = connection
    return connection


def get_connection() -> Connection:
    """The default connection (from the AWS environment until ``set_connection``)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Connection()
    return _default


@contextlib.contextmanager
def use_connection(connection: Connection) -> Iterator[Connection]:
    """Make ``connection`` the default inside a ``with`` block, then restore the previous one."""
    global _default
    with _default_lock:
        previous, _default = _default, connection
    try:
        yield connection
    finally:
        with _default_lock:
            _default = previous


async def aclose() -> None:
    """Close the default connection's async client for the running event loop."""
    if _default is not None:
        await _default.aclose()
