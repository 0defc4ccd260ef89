"""``python -m bench --profile``: where our CPU goes in sections 1 and 2.

cProfile over our side only (marshalling both ways; each canned operation over
the direct transport, against the canned server of section 2),
printing the top functions by own time.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable

from .canned import OPERATIONS, build, canned_bodies
from .models import floor_to_wire, many_values, ours_model
from .server import canned_server
from .timing import Settings

TOP = 12


def _profile(title: str, work: Callable[[], object], loops: int) -> None:
    work()  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(loops):
        work()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(TOP)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    print(f"\n=== {title} ({loops} runs) ===")
    print("\n".join(lines[2:]))


def main(settings: Settings) -> None:
    count = min(settings.marshal_items, 5_000)
    values = list(many_values(count))
    wires = [floor_to_wire(v) for v in values]
    model = ours_model("bench_profile")
    items = [model(**v) for v in values]

    def to_wire() -> None:
        for item in items:
            item._to_wire_map()

    def from_wire() -> None:
        for raw in wires:
            model._from_wire(raw)

    _profile(f"section 1, ours: model -> wire, {count:,} items", to_wire, 1)
    _profile(f"section 1, ours: wire -> model, {count:,} items", from_wire, 1)
    bodies, _ = canned_bodies()
    with canned_server(bodies) as endpoint:
        calls = build(endpoint)
        for operation in OPERATIONS:
            loops = 5 if operation in ("query", "scan") else 300
            _profile(f"section 2, ours: {operation}", calls[operation], loops)
