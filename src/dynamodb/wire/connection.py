"""Where requests go: connections, the drivers that run flows, the default connection.

A :class:`Connection` holds the endpoint, region, credentials, timeouts and retry
policy, and the :class:`~dynamodb.wire.transport.Transport` that sends its requests:
the direct transport (:mod:`dynamodb.wire.direct`) unless told otherwise, or
botocore and aiobotocore (:mod:`dynamodb.wire.aws`).
:meth:`Connection.run` and :meth:`Connection.arun` drive a :mod:`dynamodb.core.flow`
generator: they are the only places that send or sleep.

The connection a call uses is the call's (``connection=``), else its model's
(``__connection__``), else :func:`get_connection`: the innermost
:func:`use_connection` block of the running thread or asyncio task, else the
process-wide default of :func:`set_connection`.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from dynamodb.core.blocks import WithBlock
from dynamodb.core.capacity import Capacity
from dynamodb.core.errors import DynamoDBError, InvalidArgument, InvalidValue
from dynamodb.core.flow import Flow, Invoke, Request, Sleep, Step
from dynamodb.core.prefix import check_prefix, with_table_prefix
from dynamodb.core.ratelimit import RateLimit
from dynamodb.core.retries import RetryPolicy, RetryState, retrying
from dynamodb.wire.intercept import effective
from dynamodb.wire.telemetry import CAPACITY_MODES, RequestWatch
from dynamodb.wire.transport import Transport

if TYPE_CHECKING:
    import asyncio

    from dynamodb.wire.aws import BotocoreTransport

__all__ = [
    "LOCAL_ENDPOINT",
    "Connection",
    "aclose",
    "get_connection",
    "replace_default_connection",
    "set_connection",
    "use_connection",
]

T = TypeVar("T")

TRANSPORTS = ("direct", "botocore")
"""The transports a connection can be given by name."""

LOCAL_ENDPOINT = "http://127.0.0.1:8000"
"""What ``set_connection(is_local_endpoint=True)`` connects to."""

_LOCAL_DEFAULT_REGION = "us-east-1"
_LOCAL_DEFAULT_KEY = "local"
"""The access key id a local endpoint gets when none is given, or one DynamoDB Local refuses."""

_logger = logging.getLogger("dynamodb.connection")
_replaced_keys: set[str] = set()  # the refused key ids already reported (each said once)
_replaced_lock = threading.Lock()


class Connection(WithBlock):
    """Settings for talking to one DynamoDB endpoint, and the transport that does it.

    ``connect_timeout`` and ``read_timeout`` are seconds. ``max_attempts`` counts
    every attempt of one request, the first included (1 means no retry); which
    failures are retried depends on what the request does
    (:mod:`dynamodb.core.retries`), whatever the transport. ``retry_mode`` is AWS's:
    ``"standard"`` (the default; ``"legacy"`` retries the same way here) backs off
    with full jitter and spends a retry quota that successes refill;
    ``"adaptive"`` adds client-side rate limiting once DynamoDB throttles.
    ``max_pool_connections`` is how many connections are kept alive (and, on an
    event loop, how many are open at once). ``verify`` checks TLS certificates
    against what botocore trusts (None: ``AWS_CA_BUNDLE`` if set, else certifi's or
    botocore's bundle), a CA bundle (a path), or not at all (False). ``fast_parser``
    parses item operations' answers with ``json.loads`` (see :mod:`dynamodb.wire.parser`).
    Anything left as None comes from the standard AWS environment variables and config
    files, as with boto3.

    ``transport`` picks what sends the requests: ``"direct"`` (the default: json,
    SigV4 and HTTP/1.1 done here, :mod:`dynamodb.wire.direct`), ``"botocore"``
    (botocore's and aiobotocore's clients, :mod:`dynamodb.wire.aws`), or a
    :class:`~dynamodb.wire.transport.Transport` object such as a
    :class:`~dynamodb.MockTransport` for tests (the settings above are then only
    kept for reference; the transport's own matter). When no transport is given,
    the ``DYNAMODB_TRANSPORT`` environment variable may name one. While moto's
    ``mock_aws`` is active, the direct transport sends through botocore, which
    moto answers.

    ``table_prefix`` (``"dev_"``) is put before every table name this connection's
    calls send, and taken off the names they read (:mod:`dynamodb.core.prefix`):
    model ``Test`` lives in table ``dev_Test``, and connections with different
    prefixes share an account without seeing each other's tables. It is letters,
    digits, ``_``, ``-`` and ``.``, as table names are. :meth:`send`, :meth:`asend`
    and :attr:`client` are raw: they take and give the names as DynamoDB has them.

    Every request that can report its cost asks for it: ``return_consumed_capacity``
    is ``"TOTAL"`` (the default), ``"INDEXES"`` (each index's part too) or ``"NONE"``;
    :attr:`capacity` keeps the running totals (see :func:`dynamodb.capacity`).
    ``rate_limit`` (a :class:`~dynamodb.RateLimit`) holds every call made through this
    connection to a budget of capacity units per second. ``log_values=True`` adds each
    request's parameters (its keys and values) to its DEBUG line on the ``"dynamodb"``
    logger, which otherwise never shows values.
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
        verify: bool | str | None = None,
        transport: Transport | str | None = None,
        table_prefix: str = "",
        rate_limit: RateLimit | None = None,
        return_consumed_capacity: str = "TOTAL",
        log_values: bool = False,
    ) -> None:
        self._table_prefix = check_prefix(table_prefix)
        if return_consumed_capacity not in CAPACITY_MODES:
            raise InvalidValue(
                f"return_consumed_capacity is one of {', '.join(map(repr, CAPACITY_MODES))}, "
                f"not {return_consumed_capacity!r}"
            )
        if rate_limit is not None and not isinstance(rate_limit, RateLimit):
            raise InvalidValue(f"rate_limit is a dynamodb.RateLimit or None, not {rate_limit!r}")
        self.rate_limit = rate_limit
        self.return_consumed_capacity = return_consumed_capacity
        self.log_values = log_values
        self.capacity = Capacity()
        """The capacity every call made through this connection consumed (running totals)."""
        self._plain_watch: RequestWatch | None = None  # the watch of runs with nothing in effect
        if max_attempts < 1:
            raise InvalidValue(
                f"max_attempts counts the first attempt, so it is >= 1: {max_attempts}"
            )
        if retry_mode not in ("standard", "legacy", "adaptive"):
            raise InvalidValue(
                f"retry_mode is 'standard', 'legacy' or 'adaptive', not {retry_mode!r}"
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
        self.verify = verify
        self._retry_state = RetryState(adaptive=retry_mode == "adaptive")
        self._policy: RetryPolicy | None = None  # made from max_attempts when first asked
        if transport is None:
            transport = os.environ.get("DYNAMODB_TRANSPORT") or "direct"
        if isinstance(transport, str):
            transport = self._named_transport(transport)
        self._transport: Transport = transport

    def _named_transport(self, name: str) -> Transport:
        if name == "botocore":
            return self._botocore_transport()
        if name == "direct":
            from dynamodb.wire.direct import DirectTransport
            from dynamodb.wire.endpoints import SETTINGS, AwsSettings

            return DirectTransport(
                AwsSettings(**{setting: getattr(self, setting) for setting in SETTINGS}),
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                max_pool_connections=self.max_pool_connections,
                fast_parser=self.fast_parser,
                verify=self.verify,
                fallback=self._botocore_transport,
            )
        raise InvalidValue(
            f"transport is one of {', '.join(map(repr, TRANSPORTS))} or a Transport object, "
            f"not {name!r}"
        )

    def _botocore_transport(self) -> BotocoreTransport:
        """A botocore transport with this connection's settings."""
        from dynamodb.wire.aws import BotocoreTransport

        return BotocoreTransport(
            profile_name=self.profile_name, fast_parser=self.fast_parser, **self._client_arguments()
        )

    def __repr__(self) -> str:
        prefixed = f" prefix {self._table_prefix!r}" if self._table_prefix else ""
        name = type(self._transport).__name__
        if name not in ("BotocoreTransport", "DirectTransport"):
            return f"<Connection via {self._transport!r}{prefixed}>"
        where = self.endpoint_url or f"region {self.region_name or '(from environment)'}"
        return f"<Connection {where}{prefixed}>"

    def _client_arguments(self) -> dict[str, Any]:
        from botocore.config import Config

        config = Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            # botocore resends nothing: every request is retried by what it does
            # (dynamodb.core.retries), the same on every transport, adaptive mode's
            # rate limiter included.
            retries={"total_max_attempts": 1, "mode": self.retry_mode},
            max_pool_connections=self.max_pool_connections,
            # Our fields check values before a request is built, and DynamoDB
            # answers anything malformed with a typed ValidationException.
            parameter_validation=False,
        )
        arguments: dict[str, Any] = {"config": config}
        for name in (
            "endpoint_url",
            "region_name",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "verify",
        ):
            value = getattr(self, name)
            if value is not None:
                arguments[name] = value
        return arguments

    @property
    def transport(self) -> Transport:
        """What sends this connection's requests."""
        return self._transport

    @property
    def table_prefix(self) -> str:
        """What this connection puts before every table name it sends (``""``: nothing)."""
        return self._table_prefix

    @property
    def client(self) -> Any:
        """A botocore DynamoDB client with this connection's settings (made on first use).

        The botocore transport's own client; with the direct transport, the client of
        the botocore transport it keeps for moto. A connection through any other
        transport has none. It is raw: it does not add the connection's :attr:`table_prefix`.
        """
        from dynamodb.wire.aws import BotocoreTransport
        from dynamodb.wire.direct import DirectTransport

        transport = self._transport
        if isinstance(transport, DirectTransport):
            transport = transport.fallback()
        if not isinstance(transport, BotocoreTransport):
            raise AttributeError(f"{self!r} sends through no botocore client")
        return transport.client

    @property
    def _async_clients(self) -> dict[asyncio.AbstractEventLoop, Any]:
        """The transport's per-event-loop clients or pools (to look at, in tests)."""
        found = getattr(self._transport, "_async_clients", None)
        return dict(found) if found else {}

    # -- sending ---------------------------------------------------------------

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request synchronously; DynamoDB errors come back typed.

        Raw: table names go and come back as given, without :attr:`table_prefix`. It
        goes through the transport, as the running context's
        :func:`~dynamodb.wire.intercept.wrapping_transports` blocks wrap it.
        """
        return effective(self._transport).send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request on the running event loop (raw, as :meth:`send`; through the
        wrapped transport too)."""
        return await effective(self._transport).asend(operation, params)

    @property
    def retry_policy(self) -> RetryPolicy:
        """How each request is retried: ``max_attempts`` sends, full-jitter backoff."""
        policy = self._policy
        if policy is None or policy.max_attempts != self.max_attempts:
            policy = self._policy = RetryPolicy(max_attempts=self.max_attempts, base=0.05, cap=20.0)
        return policy

    def _edge(self, flow: Flow[T]) -> Flow[T]:
        """``flow`` as the transport gets it: each request watched (capacity, logs,
        spans, rate limits) and retried, then given the table prefix."""
        watch = RequestWatch.for_run(self)
        return with_table_prefix(
            retrying(flow, self.retry_policy, self._retry_state, watch), self._table_prefix
        )

    def run(self, flow: Flow[T]) -> T:
        """Drive a flow to its end, blocking (each request retried by what it does).

        The flow's table names get :attr:`table_prefix` as they are sent, and lose it
        in the answers; the flow sees only its own names.
        """
        flow = self._edge(flow)
        step = _resume(flow, None)
        while not isinstance(step, _Finished):
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                step = _resume(flow, None)
            elif isinstance(step, Invoke):
                step = _resume(flow, _invoked(step))
            else:
                step = _resume(flow, _answer(self.send, step))
        return step.value

    async def arun(self, flow: Flow[T]) -> T:
        """Drive a flow to its end on the running event loop (async twin of :meth:`run`)."""
        import asyncio

        flow = self._edge(flow)
        step = _resume(flow, None)
        while not isinstance(step, _Finished):
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                step = _resume(flow, None)
            elif isinstance(step, Invoke):
                step = _resume(flow, await _ainvoked(step))
            else:
                step = _resume(flow, await _aanswer(self.asend, step))
        return step.value

    def run_many(self, flows: Sequence[Flow[T]], concurrency: int) -> list[T | Exception]:
        """Drive several flows with up to ``concurrency`` in flight (threads).

        Results come in the order of ``flows``; a flow that raised gives its
        exception in its place, so callers see every outcome. Each flow runs in
        a copy of the caller's context (as a task of :meth:`arun_many` does), so
        it sees the caller's :func:`use_connection` block.
        """
        if concurrency <= 1 or len(flows) <= 1:
            return [_outcome(self.run, flow) for flow in flows]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(concurrency, len(flows))) as pool:
            futures = [
                pool.submit(_outcome_in, contextvars.copy_context(), self.run, flow)
                for flow in flows
            ]
            return [future.result() for future in futures]

    async def arun_many(self, flows: Sequence[Flow[T]], concurrency: int) -> list[T | Exception]:
        """Async twin of :meth:`run_many` (tasks, at most ``concurrency`` at once)."""
        import asyncio

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
        """Close the transport's clients (new ones are made if the connection is used again).

        The async ones too: each is closed on its own event loop, or dropped if
        that loop is closed already (see :mod:`dynamodb.wire.loops`).
        """
        self._transport.close()

    async def aclose(self) -> None:
        """Close the async client of the running event loop."""
        await self._transport.aclose()

    def _end(self, ok: bool) -> None:
        self.close()  # ``with Connection(...) as connection:`` closes it at the end

    async def _aend(self, ok: bool) -> None:
        await self.aclose()  # ``async with``: closes the async client of the running loop


Answer = dict[str, Any] | DynamoDBError
"""What a request got: DynamoDB's answer, or the typed error."""


@dataclass(frozen=True, slots=True)
class _Finished(Generic[T]):
    """A flow's return value, once it has returned."""

    value: T


class _Raised:
    """What an :class:`Invoke` step raised, to throw into its flow."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def _invoked(step: Invoke) -> Any:
    """Call a flow's user code in the sync driver (an async function is refused)."""
    if inspect.iscoroutinefunction(step.function):
        return _Raised(_async_in_sync(step))
    try:
        result = step.function(*step.args)
    except Exception as error:
        return _Raised(error)
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()  # never awaited: no "coroutine was never awaited" warning
        return _Raised(_async_in_sync(step))
    return result


async def _ainvoked(step: Invoke) -> Any:
    """Call a flow's user code in the async driver, awaiting what it returns if awaitable."""
    try:
        result = step.function(*step.args)
        if inspect.isawaitable(result):
            result = await result
    except Exception as error:
        return _Raised(error)
    return result


def _async_in_sync(step: Invoke) -> InvalidArgument:
    name = step.label or getattr(step.function, "__qualname__", repr(step.function))
    return InvalidArgument(
        f"{name} is an async function: a sync call cannot await it; use the async call "
        "(the a-prefixed twin) or make it a plain def"
    )


def _resume(flow: Flow[T], outcome: Any) -> Step | _Finished[T]:
    """Give a step's outcome to the flow: the answer (None after a sleep) is sent in,
    a typed error (or what user code raised) thrown in. Returns the flow's next step,
    or its end."""
    try:
        if isinstance(outcome, _Raised):
            return flow.throw(outcome.error)
        if isinstance(outcome, DynamoDBError):
            return flow.throw(outcome)
        return flow.send(outcome)
    except StopIteration as stop:
        return _Finished(stop.value)


def _answer(send: Callable[[str, dict[str, Any]], dict[str, Any]], request: Request) -> Answer:
    try:
        return send(request.operation, request.params)
    except DynamoDBError as error:
        return error


async def _aanswer(
    send: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]], request: Request
) -> Answer:
    try:
        return await send(request.operation, request.params)
    except DynamoDBError as error:
        return error


def _outcome(run: Callable[[Flow[T]], T], flow: Flow[T]) -> T | Exception:
    try:
        return run(flow)
    except Exception as error:
        return error


def _outcome_in(
    context: contextvars.Context, run: Callable[[Flow[T]], T], flow: Flow[T]
) -> T | Exception:
    return context.run(_outcome, run, flow)


_default: Connection | None = None  # the process-wide default
_default_lock = threading.Lock()
_scoped: ContextVar[Connection | None] = ContextVar("dynamodb_connection", default=None)
"""The connection of the innermost ``use_connection`` block in this thread or task."""


def set_connection(
    is_local_endpoint: bool | tuple[str, int | str] = False,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    **options: Any,
) -> Connection:
    """Make (and return) a connection, and make it the default.

    ``is_local_endpoint=True`` means DynamoDB Local on ``http://127.0.0.1:8000``;
    a ``(host, port)`` tuple means ``http://host:port``. For a local endpoint the
    credentials are placeholders: missing ones and a missing region get defaults,
    and an access key id that DynamoDB Local refuses (since 2.0 it takes only
    letters and digits, so not the dynamix README's ``"*"``) is replaced by
    ``"local"``, which is said once per key id through the ``dynamodb.connection``
    logger (INFO). Keys given for any other endpoint are used as given.
    Other keyword arguments go to :class:`Connection` (timeouts, retries,
    ``table_prefix="dev_"`` ...).

    Outside any :func:`use_connection` block it is the process-wide default, which
    every thread and task without a block of its own uses. Inside a block it
    replaces that block's connection until the block ends, for the thread or
    task running the block only (as the block would have).
    """
    global _default
    if is_local_endpoint:
        if endpoint_url is not None:
            raise InvalidValue("give is_local_endpoint or endpoint_url, not both")
        if isinstance(is_local_endpoint, tuple):
            host, port = is_local_endpoint
            endpoint_url = f"http://{host}:{port}"
        else:
            endpoint_url = LOCAL_ENDPOINT
        region_name = region_name or _LOCAL_DEFAULT_REGION
        aws_access_key_id = _local_key_id(aws_access_key_id, endpoint_url)
        aws_secret_access_key = aws_secret_access_key or _LOCAL_DEFAULT_KEY
    connection = Connection(
        endpoint_url=endpoint_url,
        region_name=region_name,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        **options,
    )
    if _scoped.get() is not None:
        _scoped.set(connection)  # the block's token still restores what came before it
    else:
        with _default_lock:
            _default = connection
    return connection


def _local_key_id(given: str | None, endpoint_url: str) -> str:
    """The access key id to send to DynamoDB Local: ``given`` if it takes it, else a placeholder.

    DynamoDB Local 2.0 and later answer every request signed with a key id that is
    not letters and digits (``"*"``, ``"my-key"``) with UnrecognizedClientException.
    """
    if not given:
        return _LOCAL_DEFAULT_KEY
    if given.isascii() and given.isalnum():
        return given
    with _replaced_lock:
        first_time = given not in _replaced_keys
        _replaced_keys.add(given)
    if first_time:
        _logger.info(
            "DynamoDB Local accepts only letters and digits in an access key id; "
            "using the placeholder %r instead of %r for %s",
            _LOCAL_DEFAULT_KEY,
            given,
            endpoint_url,
        )
    return _LOCAL_DEFAULT_KEY


def get_connection() -> Connection:
    """The connection calls use when neither they nor their model name one.

    That is the connection of the innermost :func:`use_connection` block running
    in this thread or asyncio task, else the process-wide default: the last
    :func:`set_connection`'s, or one made from the AWS environment on first use.
    """
    scoped = _scoped.get()
    if scoped is not None:
        return scoped
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Connection()
    return _default


def replace_default_connection(connection: Connection | None) -> Connection | None:
    """Make ``connection`` the process-wide default; returns the default it replaces.

    Unlike :func:`set_connection` it takes a connection already made, and it
    always sets the process-wide default, which every thread and task without a
    :func:`use_connection` block of its own uses. None means "none yet" (the
    next :func:`get_connection` makes one from the AWS environment), so giving
    back what it returned restores the state before.
    """
    global _default
    with _default_lock:
        previous, _default = _default, connection
    return previous


@contextlib.contextmanager
def use_connection(connection: Connection) -> Iterator[Connection]:
    """Make ``connection`` the default inside a ``with`` block, for this thread or task only.

    Other threads, and asyncio tasks running meanwhile, keep theirs; tasks and
    :meth:`Connection.run_many` threads started inside the block inherit it
    (they copy the context). Blocks nest; leaving one, also by an exception,
    restores what was in effect before it.
    """
    token = _scoped.set(connection)
    try:
        yield connection
    finally:
        _scoped.reset(token)


async def aclose() -> None:
    """Close the async client, for the running event loop, of the connection in effect.

    That is :func:`get_connection`'s connection; none is made if there is none yet.
    """
    connection = _scoped.get() or _default
    if connection is not None:
        await connection.aclose()
