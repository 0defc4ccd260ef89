"""Measuring: CPU time per call, wall time per run, medians; and the machine."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """How much work each section does (``--quick`` shrinks everything)."""

    quick: bool
    repeats: int  # CPU sections: runs per figure (the median is reported)
    e2e_repeats: int  # end-to-end runs per figure
    marshal_items: int
    cpu_seconds: float  # CPU time aimed at per run of one client operation
    e2e_single: int  # puts and gets
    e2e_batch: int  # batch write, query, scan
    memory_items: int
    e2e_warm_single: int  # DynamoDB Local's warm-up before the timed runs
    e2e_warm_batch: int
    async_in_flight: int = 100

    @classmethod
    def make(cls, quick: bool, repeats: int | None, e2e_repeats: int | None) -> Settings:
        if quick:
            return cls(
                quick=True,
                repeats=repeats or 3,
                e2e_repeats=e2e_repeats or 1,
                marshal_items=2_000,
                cpu_seconds=0.03,
                e2e_single=200,
                e2e_batch=1_000,
                memory_items=5_000,
                e2e_warm_single=100,
                e2e_warm_batch=1_000,
            )
        return cls(
            quick=False,
            repeats=repeats or 5,
            e2e_repeats=e2e_repeats or 3,
            marshal_items=20_000,
            cpu_seconds=0.3,
            e2e_single=2_000,
            e2e_batch=20_000,
            memory_items=100_000,
            e2e_warm_single=1_000,
            e2e_warm_batch=5_000,
        )


@dataclass
class Measure:
    """Samples of one figure; ``value`` is their median."""

    samples: list[float] = field(default_factory=list)

    @property
    def value(self) -> float:
        return statistics.median(self.samples)

    def scaled(self, factor: float) -> Measure:
        """The same samples in another unit (seconds -> microseconds: ``scaled(1e6)``)."""
        return Measure([sample * factor for sample in self.samples])


def cpu_per_call(
    calls: dict[str, Callable[[], object]], runs: int, target_seconds: float, per: int = 1
) -> dict[str, Measure]:
    """Process CPU seconds per call (divided by ``per``) of each of ``calls``.

    A warm-up call sizes each loop so that one run takes about ``target_seconds``;
    the runs of the different calls alternate, so a passing load on a shared
    machine hits all of them alike. The median of ``runs`` runs is the figure.
    """
    loops: dict[str, int] = {}
    for name, call in calls.items():
        call()
        started = time.process_time()
        call()
        one = max(time.process_time() - started, 1e-6)
        loops[name] = max(1, round(target_seconds / one))
    measures = {name: Measure() for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            gc.collect()
            started = time.process_time()
            for _ in range(loops[name]):
                call()
            elapsed = time.process_time() - started
            measures[name].samples.append(elapsed / loops[name] / per)
    return measures


def cpu_per_item(work: Callable[[], object], items: int, runs: int) -> Measure:
    """Process CPU seconds per item of ``work`` (which handles ``items`` items), median of runs."""
    measure = Measure()
    for _ in range(runs):
        gc.collect()
        started = time.process_time()
        work()
        measure.samples.append((time.process_time() - started) / items)
    return measure


def wall(work: Callable[[], T]) -> tuple[float, T]:
    """Wall-clock seconds of one call, and its result."""
    gc.collect()
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "executable": sys.executable,
        "commit": None if commit is None else commit + ("+dirty" if dirty else ""),
        "versions": {
            name: _version(name)
            for name in (
                "dynamodb-py",
                "pynamodb",
                "boto3",
                "botocore",
                "aiobotocore",
                "dyntastic",
                "pydantic",
            )
        },
    }
