"""What observability costs per call: ``python -m bench.observability``.

Every run of a flow goes through the connection's edge (capacity counting, the
request log check, spans, rate limits: ``dynamodb.wire.telemetry``). This times one
``Connection.run`` of a GetItem and one ``Model.get`` against a canned answer (no
network, so the edge is all there is to see), in thread CPU time, with the edge as
shipped, with it taken out, inside a ``capacity()`` block, under a rate limit, and
traced by an OpenTelemetry SDK provider when the SDK is installed.
"""

from __future__ import annotations

import contextlib
import time
import timeit
from collections.abc import Callable, Iterator
from typing import Any

import dynamodb
from dynamodb import CharField, Connection, IntegerField, Model
from dynamodb.core.flow import call
from dynamodb.models import options
from dynamodb.wire import telemetry

ANSWER = {
    "Item": {"player": {"S": "ann"}, "game": {"N": "1"}},
    "ConsumedCapacity": {"TableName": "bench_observability", "CapacityUnits": 0.5},
}
KEY = {"player": {"S": "ann"}, "game": {"N": "1"}}


class Score(Model):
    __table_name__ = "bench_observability"

    player = CharField(hash_key=True)
    game = IntegerField(range_key=True)


class Canned:
    """A transport that answers every request with :data:`ANSWER` at once."""

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return ANSWER

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return ANSWER

    def close(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def per_call(function: Callable[[], Any], number: int = 10_000, repeat: int = 9) -> float:
    """Microseconds of thread CPU time per call (the best of ``repeat`` runs)."""
    timer = timeit.Timer(function, timer=time.thread_time)
    return min(timer.repeat(number=number, repeat=repeat)) / number * 1e6


@contextlib.contextmanager
def without_edge() -> Iterator[None]:
    """The edge taken out: no watch per run, no span per item call."""
    for_run, traced = telemetry.RequestWatch.for_run, options.ModelOptions.traced
    telemetry.RequestWatch.for_run = classmethod(lambda cls, connection: None)  # type: ignore[assignment,method-assign]
    options.ModelOptions.traced = lambda self, connection=None: contextlib.nullcontext()  # type: ignore[method-assign]
    try:
        yield
    finally:
        telemetry.RequestWatch.for_run = for_run  # type: ignore[method-assign]
        options.ModelOptions.traced = traced  # type: ignore[method-assign]


def measure(label: str, connection: Connection, block: Any = None) -> None:
    def raw() -> None:
        connection.run(call("GetItem", {"TableName": "bench_observability", "Key": KEY}))

    def get() -> None:
        Score.get(player="ann", game=1, connection=connection)

    with block if block is not None else contextlib.nullcontext():
        print(f"{label:44} {per_call(raw):7.2f} us {per_call(get):8.2f} us")


def main() -> None:
    print(f"{'per call, thread CPU time':44} {'run(GetItem)':>10} {'Model.get':>11}")
    plain = Connection(transport=Canned())
    measure("edge taken out", plain, without_edge())
    measure("as shipped (TOTAL, counted)", plain)
    measure(
        "return_consumed_capacity='NONE'",
        Connection(transport=Canned(), return_consumed_capacity="NONE"),
    )
    measure("inside dynamodb.capacity()", plain, dynamodb.capacity())
    limited = Connection(transport=Canned(), rate_limit=dynamodb.RateLimit(1e12, 1e12))
    measure("a connection's RateLimit", limited)
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        print("(no opentelemetry-sdk: traced figures skipped)")
        return
    import opentelemetry.trace  # noqa: F401 - imported, no provider yet

    measure("opentelemetry imported, no provider", plain)
    trace.set_tracer_provider(TracerProvider())
    measure("traced (SDK provider, no exporter)", plain)


if __name__ == "__main__":
    main()
