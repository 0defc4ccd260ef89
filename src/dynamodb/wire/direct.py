"""The default transport: DynamoDB's JSON API spoken directly, without botocore's client.

:class:`DirectTransport` does, for each call, what botocore's client pipeline
does, and only that: the request's params (already DynamoDB's JSON, built by the
codec) are serialized with :mod:`json`, signed with SigV4
(:mod:`dynamodb.wire.sigv4`, the derived key kept per day), and ``POST``-ed over a
kept-alive connection (:mod:`dynamodb.wire.exchange`); the answer's
``x-amz-crc32`` is checked, item operations' answers are parsed with
``json.loads`` (:mod:`dynamodb.wire.parser`) and errors are raised typed.

- Region, endpoint and credentials come from :class:`~dynamodb.wire.endpoints.AwsSettings`:
  botocore's configuration, endpoint rules and credential chain, imported only
  when the connection needs them.
- When the environment names a proxy for the endpoint (``HTTPS_PROXY``,
  ``HTTP_PROXY``, ``ALL_PROXY``, minus ``NO_PROXY``), requests go through urllib3
  (sync) or aiohttp (async), which speak to proxies.
- Control-plane answers (``DescribeTable``'s dates, say) go through botocore's own
  parser, so they are exactly what the botocore transport gives.
- While moto's ``mock_aws`` is active (it answers inside botocore), every call goes
  through the :class:`~dynamodb.wire.aws.BotocoreTransport` the connection gives,
  so tests written with moto keep working unchanged.

A call is sent once: what is resent, and when, is decided above, by
:func:`dynamodb.core.retries.retrying`, the same for every transport. A damaged
answer (its CRC32 does not match) is a lost answer: ``TransportError(sent=True)``.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from dynamodb.core.errors import TransportError, error_from_response
from dynamodb.core.services import DYNAMODB, Service, service_of
from dynamodb.wire.endpoints import AwsSettings
from dynamodb.wire.exchange import Pool, Response, tls_context
from dynamodb.wire.parser import FAST_OUTPUTS, check_crc32, parse_success
from dynamodb.wire.sigv4 import Credentials, Signer
from dynamodb.wire.transport import Transport

if TYPE_CHECKING:  # (protocols cost a cold start to define, and only annotate here)
    import asyncio

    from dynamodb.wire.aexchange import AsyncPool
    from dynamodb.wire.loops import PerLoop

    class _Sender(Protocol):
        def post(self, headers: dict[str, str], body: bytes) -> Response: ...

        def close(self) -> None: ...

    class _AsyncSender(Protocol):
        async def post(self, headers: dict[str, str], body: bytes) -> Response: ...

        async def aclose(self) -> None: ...


__all__ = ["DirectTransport", "moto_active"]

_USER_AGENT = "dynamodb-py/0.1.0 (direct)"
_FAST = frozenset(name.removesuffix("Output") for name in FAST_OUTPUTS)


def moto_active() -> bool:
    """Whether moto's ``mock_aws`` is active (its stubber answers botocore's requests)."""
    models = sys.modules.get("moto.core.models")
    if models is None:
        return False
    stubber = getattr(models, "botocore_stubber", None)
    return bool(getattr(stubber, "enabled", False))


def _encode_bytes(value: object) -> str:
    """``json.dumps``'s ``default``: binary values go as base64 text, as botocore sends them."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"a {type(value).__name__} cannot be sent to DynamoDB: {value!r}")


def encode_body(params: dict[str, Any]) -> bytes:
    """A request's params as the JSON body DynamoDB reads."""
    # No cycle check: the params are trees the codec built.
    return json.dumps(
        params, separators=(",", ":"), default=_encode_bytes, check_circular=False
    ).encode()


class _Route:
    """What every request of a connection shares, once its endpoint is known."""

    __slots__ = ("proxy", "region", "sender", "signer", "url")

    def __init__(self, url: str, region: str, proxy: str | None, sender: _Sender) -> None:
        self.url = url
        self.region = region
        self.proxy = proxy
        self.signer = Signer(url, region)
        self.sender = sender


class DirectTransport:
    """Sends DynamoDB requests itself: json, SigV4, kept-alive HTTP/1.1 (sync and asyncio).

    ``settings`` says where requests go and who signs them; the other settings are
    :class:`~dynamodb.Connection`'s. ``fallback`` makes the botocore transport used
    while moto's ``mock_aws`` is active (made on first need). Thread-safe: one
    transport serves every thread and event loop.
    """

    def __init__(
        self,
        settings: AwsSettings,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_pool_connections: int = 50,
        fast_parser: bool = True,
        verify: bool | str | None = None,
        fallback: Callable[[], Transport] | None = None,
    ) -> None:
        self.settings = settings
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_pool_connections = max_pool_connections
        self.fast_parser = fast_parser
        self.verify = verify
        self._fallback_factory = fallback
        self._fallback: Transport | None = None
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}  # by service name, made on first use
        self._async_senders: PerLoop[_AsyncSenders] | None = None  # made on first async use

    def __repr__(self) -> str:
        where = self.settings.endpoint_url or (
            f"region {self.settings.region_name or '(from environment)'}"
        )
        return f"<DirectTransport {where}>"

    # -- what every request shares ------------------------------------------------------

    @property
    def _route(self) -> _Route | None:
        """DynamoDB's route, once resolved (None before the first call)."""
        return self._routes.get(DYNAMODB.name)

    def route(self, service: Service = DYNAMODB) -> _Route:
        """The endpoint, region, signer and sync sender of ``service`` (resolved on first use)."""
        route = self._routes.get(service.name)
        if route is None:
            with self._lock:
                route = self._routes.get(service.name)
                if route is None:
                    url, region = self.settings.endpoint(service)
                    proxy = _proxy_for(url)
                    route = _Route(url, region, proxy, self._new_sender(url, proxy))
                    self._routes[service.name] = route
        return route

    def _tls(self, url: str) -> Any:
        return tls_context(self.verify) if url.startswith("https:") else None

    def _new_sender(self, url: str, proxy: str | None) -> _Sender:
        if proxy is not None:
            from dynamodb.wire.proxied import Urllib3Sender

            return Urllib3Sender(
                url,
                proxy,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                max_connections=self.max_pool_connections,
                tls=self._tls(url),
            )
        return Pool(
            url,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_connections=self.max_pool_connections,
            tls=self._tls(url),
        )

    def _new_async_sender(self, service: Service) -> _AsyncSender:
        route = self.route(service)
        sender: _AsyncSender
        if route.proxy is not None:
            from dynamodb.wire.proxied import AiohttpSender

            sender = AiohttpSender(
                route.url,
                route.proxy,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                max_connections=self.max_pool_connections,
                tls=self._tls(route.url),
            )
        else:
            from dynamodb.wire.aexchange import AsyncPool

            sender = _AsyncPoolSender(
                AsyncPool(
                    route.url,
                    connect_timeout=self.connect_timeout,
                    read_timeout=self.read_timeout,
                    max_connections=self.max_pool_connections,
                    tls=self._tls(route.url),
                )
            )
        return sender

    @property
    def _async_clients(self) -> dict[asyncio.AbstractEventLoop, Any]:
        """Each event loop's connection pool (to look at, in tests)."""
        if self._async_senders is None:
            return {}
        return {
            loop: senders.by_service[DYNAMODB.name]
            for loop, senders in self._async_senders.items()
            if DYNAMODB.name in senders.by_service
        }

    def _loop_senders(self) -> PerLoop[_AsyncSenders]:
        senders = self._async_senders
        if senders is None:
            with self._lock:
                senders = self._async_senders
                if senders is None:
                    from dynamodb.wire.loops import PerLoop

                    senders = self._async_senders = PerLoop(
                        lambda: _AsyncSenders(self._new_async_sender)
                    )
        return senders

    def fallback(self) -> Transport:
        """The botocore transport that serves calls while moto's ``mock_aws`` is active."""
        if self._fallback is None:
            with self._lock:
                if self._fallback is None:
                    if self._fallback_factory is None:
                        raise TransportError(
                            "moto's mock_aws is active, and this transport has no botocore "
                            "transport to send through",
                            sent=False,
                        )
                    self._fallback = self._fallback_factory()
        return self._fallback

    # -- sending -------------------------------------------------------------------------

    def _signed(
        self, route: _Route, target: str, body: bytes, credentials: Credentials
    ) -> dict[str, str]:
        headers = route.signer.headers(credentials, target, body)
        headers["User-Agent"] = _USER_AGENT
        return headers

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request, blocking; the parsed answer, or the typed error."""
        if moto_active():
            return self.fallback().send(operation, params)
        service = service_of(operation)
        route = self._routes.get(service.name) or self.route(service)
        body = encode_body(params)
        target = f"{service.target_prefix}.{operation}"
        headers = self._signed(route, target, body, self.settings.credentials())
        try:
            response = route.sender.post(headers, body)
        except TransportError as error:
            raise _named(error, operation) from error.__cause__
        return self._answer(operation, response)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request on the running event loop."""
        if moto_active():
            return await self.fallback().asend(operation, params)
        loop = _running_loop()
        service = service_of(operation)
        route = self._routes.get(service.name)
        if route is None:  # resolving it may read files or ask botocore: not on the loop
            route = await loop.run_in_executor(None, self.route, service)
        sender = (self._async_senders or self._loop_senders()).get(loop).sender(service)
        body = encode_body(params)
        credentials = self.settings.ready_credentials()
        if credentials is None:  # to be found or refreshed (a provider may take a while)
            credentials = await loop.run_in_executor(None, self.settings.credentials)
        headers = self._signed(route, f"{service.target_prefix}.{operation}", body, credentials)
        try:
            response = await sender.post(headers, body)
        except TransportError as error:
            raise _named(error, operation) from error.__cause__
        return self._answer(operation, response)

    def _answer(self, operation: str, response: Response) -> dict[str, Any]:
        status, headers, body = response
        raw = {"status_code": status, "headers": headers, "body": body}
        try:
            check_crc32(raw)
        except TransportError as error:
            raise _named(error, operation) from None
        if status >= 300:
            raise _error(operation, raw)
        if self.fast_parser and operation in _FAST:
            return parse_success(raw)
        return _botocore_parse(service_of(operation), operation, raw)

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the kept-alive connections (every event loop's on its own loop)."""
        for route in list(self._routes.values()):
            route.sender.close()
        if self._async_senders is not None:
            self._async_senders.close()
        if self._fallback is not None:
            self._fallback.close()

    async def aclose(self) -> None:
        """Close the running event loop's connections."""
        if self._async_senders is not None:
            await self._async_senders.aclose()
        if self._fallback is not None:
            await self._fallback.aclose()


class _AsyncPoolSender:
    """An :class:`AsyncPool` as an async sender."""

    __slots__ = ("pool",)

    def __init__(self, pool: AsyncPool) -> None:
        self.pool = pool

    def __repr__(self) -> str:
        return repr(self.pool)

    async def post(self, headers: dict[str, str], body: bytes) -> Response:
        return await self.pool.post(headers, body)

    async def aclose(self) -> None:
        self.pool.close()


class _AsyncSenders:
    """One event loop's senders, one per service, as :class:`PerLoop` keeps them."""

    __slots__ = ("_make", "by_service")

    def __init__(self, make: Callable[[Service], _AsyncSender]) -> None:
        self._make = make
        self.by_service: dict[str, _AsyncSender] = {}

    def sender(self, service: Service) -> _AsyncSender:
        found = self.by_service.get(service.name)
        if found is None:
            found = self.by_service[service.name] = self._make(service)
        return found

    async def aclose(self) -> None:
        senders, self.by_service = list(self.by_service.values()), {}
        for sender in senders:
            await sender.aclose()


def _running_loop() -> asyncio.AbstractEventLoop:
    global _get_running_loop
    if _get_running_loop is None:
        from asyncio import get_running_loop

        _get_running_loop = get_running_loop
    return _get_running_loop()


_get_running_loop: Callable[[], asyncio.AbstractEventLoop] | None = None  # asyncio's, once used


def _named(error: TransportError, operation: str) -> TransportError:
    """``error``, its message starting with the operation (as the botocore transport's do)."""
    return TransportError(f"{operation}: {error}", sent=error.sent, timeout=error.timeout)


def _proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (None: connect directly)."""
    if not any(name.lower() in _PROXY_VARIABLES for name in os.environ):
        return None
    import urllib.request
    from urllib.parse import urlsplit

    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if bypass(parts.netloc, proxies):
        return None
    found = proxies.get(parts.scheme) or proxies.get("all")
    return found or None


_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def _error(operation: str, raw: dict[str, Any]) -> Exception:
    """The typed error of an error answer (DynamoDB's JSON error, or any HTTP error)."""
    status = raw["status_code"]
    try:
        parsed = parse_success(raw)
    except ValueError:  # not JSON: a proxy's or load balancer's page, say
        parsed = {
            "ResponseMetadata": {
                "RequestId": raw["headers"].get("x-amzn-requestid", ""),
                "HTTPStatusCode": status,
                "HTTPHeaders": raw["headers"],
            }
        }
    kind = str(parsed.pop("__type", "") or raw["headers"].get("x-amzn-errortype", ""))
    code = kind.rpartition("#")[2].partition(":")[0] or str(status)
    message = str(parsed.pop("message", "") or parsed.pop("Message", "") or "")
    response = {"Error": {"Code": code, "Message": message}, **parsed}
    return error_from_response(code, message, response, operation)


_service_models: dict[str, Any] = {}  # botocore's service models, by service name
_service_lock = threading.Lock()


def _botocore_parse(service: Service, operation: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A control-plane answer parsed by botocore's own parser (dates as datetimes ...)."""
    model = _service_models.get(service.name)
    if model is None:
        with _service_lock:
            model = _service_models.get(service.name)
            if model is None:
                import botocore.loaders
                from botocore.model import ServiceModel

                loader = botocore.loaders.create_loader()
                model = _service_models[service.name] = ServiceModel(
                    loader.load_service_model(service.name, "service-2"), service.name
                )
    from botocore.parsers import create_parser

    shape = model.operation_model(operation).output_shape
    parsed: dict[str, Any] = create_parser("json").parse(raw, shape)
    return parsed
