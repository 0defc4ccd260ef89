"""The benchmark suite's command line: ``python -m bench [--quick] ...``.

Runs the sections, prints one table, writes the JSON. Times never fail the
run; a section that crashes is reported (and makes the exit code 1), a
missing optional peer (dyntastic) or a missing Java (sections 3 and 4) is
skipped with a note.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

from .report import Report
from .timing import REPO, Settings, machine

RESULTS = Path(__file__).resolve().parent / "results"

# botocore wants credentials and a region even for a local server; never look further.
_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _dynamodb_local_module() -> ModuleType:
    """``tests/support/dynamodb_local.py``, loaded by path (it needs only the library)."""
    path = REPO / "tests" / "support" / "dynamodb_local.py"
    spec = importlib.util.spec_from_file_location("bench_dynamodb_local", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def local_server(endpoint: str | None) -> Iterator[str]:
    """The given endpoint, or a DynamoDB Local started here and stopped afterwards."""
    if endpoint:
        yield endpoint
        return
    server = _dynamodb_local_module().DynamoDBLocal()
    try:
        yield server.start()
    finally:
        server.stop()


def _section(report: Report, number: int, title: str, work: Callable[[], None]) -> None:
    print(f"[bench] section {number}: {title} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        work()
    except Exception as error:
        traceback.print_exc()
        report.errors[number] = f"{type(error).__name__}: {error}"
    finally:
        report.seconds[number] = time.perf_counter() - started


def _sections(text: str) -> set[int]:
    try:
        chosen = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"sections are numbers 1-5, like 1,2: {text!r}") from None
    if not chosen <= {1, 2, 3, 4, 5}:
        raise argparse.ArgumentTypeError(f"sections are numbers 1-5: {text!r}")
    return chosen


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "dynamodb-py against PynamoDB, pydynox, raw boto3, dyntastic and a hand-written floor."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and few runs: a smoke check (< 1 min)"
    )
    parser.add_argument(
        "--sections", type=_sections, default={1, 2, 3, 4, 5}, help="which sections, e.g. 1,2"
    )
    parser.add_argument("--repeats", type=int, help="runs per CPU figure (default 5; quick 3)")
    parser.add_argument(
        "--e2e-repeats", type=int, help="runs per end-to-end figure (default 3; quick 1)"
    )
    parser.add_argument(
        "--endpoint",
        help="use this DynamoDB Local (e.g. http://127.0.0.1:8000) instead of starting one",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON results (default bench/results/latest.json; quick: bench/results/quick.json)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the suite: cProfile our side of sections 1 and 2, print the top functions",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    for name, value in _ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    settings = Settings.make(args.quick, args.repeats, args.e2e_repeats)
    if args.profile:
        from . import profiling

        profiling.main(settings)
        return 0

    from . import canned, coldstart, e2e, marshalling, memory

    report = Report(settings, machine())
    mode = "quick" if settings.quick else "full"
    print(f"[bench] {mode} run; the table comes at the end", file=sys.stderr, flush=True)
    if 1 in args.sections:
        _section(report, 1, "marshalling", lambda: marshalling.run(settings, report))
    if 2 in args.sections:
        _section(
            report,
            2,
            "client CPU, canned answers over sockets",
            lambda: canned.run(settings, report),
        )
    if args.sections & {3, 4}:
        try:
            with local_server(args.endpoint) as endpoint:
                print(f"[bench] DynamoDB Local at {endpoint}", file=sys.stderr, flush=True)
                if 3 in args.sections:
                    _section(report, 3, "end to end", lambda: e2e.run(settings, report, endpoint))
                if 4 in args.sections:
                    _section(report, 4, "memory", lambda: memory.run(settings, report, endpoint))
        except Exception as error:  # no Java, no npm, no network for the first install...
            traceback.print_exc()
            report.note(f"sections 3 and 4 skipped: DynamoDB Local did not start: {error}")

    if 5 in args.sections:
        _section(report, 5, "cold start", lambda: coldstart.run(settings, report))

    output = args.output or RESULTS / ("quick.json" if settings.quick else "latest.json")
    print()
    print(report.render())
    report.write(output)
    print(f"\nresults: {output}")
    return 1 if report.errors else 0
