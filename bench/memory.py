"""Section 4: iterating a big query must stream, holding a page or two at a time.

The items go under one hash key; then, with tracemalloc tracing:

- one page: ``query.get_items()`` (one DynamoDB response page, kept) -- the
  peak of reading it is the size of a page;
- the iteration: ``for item in query`` over every item, keeping none -- its
  peak should be a small number of pages, whatever the item count.

One run (memory does not jitter like time does). The traced memory is
Python's own allocations (the response bytes, the parsed JSON, the instances).
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from .models import many_values, ours_model
from .report import Report, Row
from .timing import Measure, Settings

TABLE = "bench_memory"
PK = "mem"
REGION = "us-east-1"
MB = 1024 * 1024
WRITE_CHUNK = 5_000


def _progress(text: str) -> None:
    print(f"[bench]   {text}", file=sys.stderr, flush=True)


def _traced(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """(peak, still held) bytes allocated while ``work`` ran, and its result."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = work()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base, current - base, result


def run(settings: Settings, report: Report, endpoint: str) -> None:
    import dynamodb

    connection = dynamodb.Connection(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    model = ours_model(TABLE)
    count = settings.memory_items
    with dynamodb.use_connection(connection):
        dynamodb.create_table(model, force=True)
        started = time.perf_counter()
        for start in range(0, count, WRITE_CHUNK):
            size = min(WRITE_CHUNK, count - start)
            model.batch_write(many_values(size, pk=PK, start=start))
        _progress(f"wrote {count:,} items in {time.perf_counter() - started:.0f} s")
        query = model.query().where(model.pk.eq(PK))
        query.get_items()  # warm: client, parser, planner

        page_peak, _, (page, _) = _traced(query.get_items)
        page_items = len(page)
        del page

        def iterate() -> int:
            seen = 0
            for _ in query:
                seen += 1
            return seen

        started = time.perf_counter()
        iterate_peak, _, seen = _traced(iterate)
        _progress(f"iterated them, traced, in {time.perf_counter() - started:.0f} s")
        dynamodb.delete_table(model)
    connection.close()

    pages_held = iterate_peak / page_peak if page_peak else float("nan")
    report.add(
        Row(
            section=4,
            name=f"iterate a query of {count:,} items",
            unit="MB",
            values={"ours": Measure([iterate_peak / MB])},
            fixed_ratios={"pages held": pages_held},
            note="" if seen == count else f"iterated {seen:,} items, expected {count:,}",
        )
    )
    report.add(
        Row(
            section=4,
            name=f"one page ({page_items:,} items, get_items)",
            unit="MB",
            values={"ours": Measure([page_peak / MB])},
        )
    )
