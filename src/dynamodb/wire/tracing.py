"""OpenTelemetry spans, when the application traces (the ``[otel]`` extra).

Nothing here imports OpenTelemetry. :func:`tracer` looks for ``opentelemetry.trace``
among the imported modules (an application that configures tracing has imported
it) and asks it for the global tracer provider; with none configured (the API's
proxy or no-op provider) there is no tracer, and every function below is a few
attribute reads. So the cost per request stays near zero without a tracer.

Spans follow OpenTelemetry's semantic conventions for DynamoDB (``db.system.name``
``aws.dynamodb``, ``db.operation.name``, ``aws.dynamodb.table_names`` ...):

- one ``CLIENT`` span per request, named ``"{operation} {table}"`` (just the
  operation when it names several tables), covering every attempt: retries are
  events on it and the count is ``dynamodb.retries`` (the retry layer is below
  the span, as in AWS's SDK instrumentations); made in :mod:`dynamodb.wire.telemetry`.
- one ``INTERNAL`` span per library call (``"Test.save"``, ``"Test.query"``,
  ``"Test.batch_write"``, ``"transaction.commit"`` ...), the parent of its
  requests' spans: :func:`call_span` (a ``with`` block, current in the
  OpenTelemetry context, so batch threads and async tasks, which copy the
  context, carry it) and :func:`start_span` / :func:`within` for a query's pages,
  which are read between the caller's own steps.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["DB_SYSTEM", "call_span", "end_span", "start_span", "tracer", "within"]

DB_SYSTEM = "aws.dynamodb"
"""``db.system.name`` of every span."""

_cached: tuple[Any, Any] = (None, None)  # (the provider, its tracer or None)
_from_environment: bool | None = None  # whether the environment names a provider (read once)
_UNKNOWN = object()
_NULL = contextlib.nullcontext()


def tracer() -> Any:
    """The tracer to make spans with, or None when the application does not trace."""
    global _cached, _from_environment
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    # The API's global, read first: ``get_tracer_provider()`` looks in os.environ
    # (a microsecond) at every call while no provider is set.
    if getattr(trace, "_TRACER_PROVIDER", _UNKNOWN) is None:
        if _from_environment is None:
            _from_environment = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
        if not _from_environment:
            return None
    provider = trace.get_tracer_provider()
    cached_provider, cached = _cached
    if provider is cached_provider:
        return cached
    found: Any = None
    if not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        found = provider.get_tracer("dynamodb")
    _cached = (provider, found)
    return found


def _call_attributes(table: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {"db.system.name": DB_SYSTEM}
    if table:
        attributes["db.collection.name"] = table
        attributes["aws.dynamodb.table_names"] = (table,)
    return attributes


@contextlib.contextmanager
def _current(found: Any, name: str, table: str | None) -> Iterator[Any]:
    from opentelemetry import trace

    with found.start_as_current_span(
        name, kind=trace.SpanKind.INTERNAL, attributes=_call_attributes(table)
    ) as span:
        yield span


def call_span(name: str, table: str | None = None) -> contextlib.AbstractContextManager[Any]:
    """A ``with`` block around one library call: its span is current inside it (and
    records what the call raises); a no-op block without a tracer."""
    found = tracer()
    if found is None:
        return _NULL
    return _current(found, name, table)


def start_span(name: str, table: str | None = None) -> Any:
    """A library call's span, started but not current (None without a tracer): for
    calls read in steps, such as iterating over a query. End it with :func:`end_span`."""
    found = tracer()
    if found is None:
        return None
    from opentelemetry import trace

    return found.start_span(name, kind=trace.SpanKind.INTERNAL, attributes=_call_attributes(table))


def within(span: Any) -> contextlib.AbstractContextManager[Any]:
    """Make ``span`` current inside the block (a no-op block for None)."""
    if span is None:
        return _NULL
    from opentelemetry import trace

    return trace.use_span(span, end_on_exit=False)


def end_span(span: Any, error: BaseException | None = None) -> None:
    """End a span of :func:`start_span` (None: nothing), recording ``error`` if any."""
    if span is None:
        return
    if error is not None:
        from opentelemetry import trace

        span.record_exception(error)
        span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
    span.end()
