"""The one results table, and its JSON twin."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .timing import Measure, Settings

COLUMNS = (
    "ours",
    "ours async",
    "ours botocore",
    "pydynox",
    "PynamoDB",
    "boto3",
    "floor",
    "dyntastic",
)

SECTIONS = {
    1: "1. marshalling, per item (model <-> DynamoDB wire format)",
    2: "2. client CPU per operation, canned answers over loopback (server in another process)",
    3: "3. end to end, DynamoDB Local",
    4: "4. memory while iterating a query (tracemalloc peak)",
    5: "5. cold start: a fresh process (wall clock)",
}


@dataclass
class Row:
    """One benchmark: a figure per library, and ratios between them.

    ``ratios`` are ``(label, numerator column, denominator column)`` of the
    medians; ``fixed_ratios`` are computed elsewhere (across rows).
    """

    section: int
    name: str
    unit: str
    values: dict[str, Measure]
    ratios: list[tuple[str, str, str]] = field(default_factory=list)
    fixed_ratios: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def ratio_values(self) -> dict[str, float]:
        computed: dict[str, float] = {}
        for label, top, bottom in self.ratios:
            if top in self.values and bottom in self.values and self.values[bottom].value:
                computed[label] = self.values[top].value / self.values[bottom].value
        computed.update(self.fixed_ratios)
        return computed


def _figure(value: float) -> str:
    if value >= 10_000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


class Report:
    def __init__(self, settings: Settings, machine: dict[str, Any]) -> None:
        self.settings = settings
        self.machine = machine
        self.started = dt.datetime.now(dt.timezone.utc)
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.errors: dict[int, str] = {}
        self.seconds: dict[int, float] = {}

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def note(self, text: str) -> None:
        self.notes.append(text)

    # -- text ----------------------------------------------------------------------

    def header(self) -> list[str]:
        m = self.machine
        versions = ", ".join(f"{name} {v}" for name, v in m["versions"].items() if v is not None)
        s = self.settings
        mode = "QUICK (smoke check, small sizes)" if s.quick else "full"
        return [
            f"dynamodb-py benchmark, {self.started:%Y-%m-%d %H:%M} UTC, {mode}",
            f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
            f"{m['python']}, {m['platform']}",
            f"commit: {m['commit'] or '?'}; {versions}",
            f"each figure: the median of {s.repeats} runs (end to end: {s.e2e_repeats}); "
            "CPU figures are process CPU time",
            "us: lower is better; items/s: higher is better; a/b = a's figure / b's figure",
        ]

    def render(self) -> str:
        used = [c for c in COLUMNS if any(c in row.values for row in self.rows)]
        names = [row.name for row in self.rows] + ["benchmark"]
        name_width = max(len(n) for n in names) + 2  # rows are indented under their section
        unit_width = max([len(row.unit) for row in self.rows] + [4])
        cells = {
            id(row): [_figure(row.values[c].value) if c in row.values else "-" for c in used]
            for row in self.rows
        }
        widths = [
            max([len(c)] + [len(cells[id(row)][i]) for row in self.rows])
            for i, c in enumerate(used)
        ]
        lines = self.header()
        head = (
            f"{'benchmark':<{name_width}}  {'unit':<{unit_width}}  "
            + "  ".join(f"{c:>{w}}" for c, w in zip(used, widths, strict=True))
            + "  ratios"
        )
        lines += ["", head, "-" * len(head)]
        for section, title in SECTIONS.items():
            rows = [row for row in self.rows if row.section == section]
            if not rows and section not in self.errors:
                continue
            lines.append(f"{title}")
            for row in rows:
                ratios = "  ".join(f"{k} {v:.2f}x" for k, v in row.ratio_values().items())
                values = "  ".join(
                    f"{cell:>{w}}" for cell, w in zip(cells[id(row)], widths, strict=True)
                )
                lines.append(
                    f"  {row.name:<{name_width - 2}}  {row.unit:<{unit_width}}  {values}  {ratios}"
                )
                if row.note:
                    lines.append(f"      note: {row.note}")
            if section in self.errors:
                lines.append(f"  FAILED: {self.errors[section]}")
        if self.notes:
            lines += ["", "notes:"] + [f"- {text}" for text in self.notes]
        timing = ", ".join(f"section {k}: {v:.0f} s" for k, v in sorted(self.seconds.items()))
        if timing:
            lines += ["", f"time taken: {timing}"]
        return "\n".join(lines)

    # -- JSON ----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "generated": self.started.isoformat(timespec="seconds"),
            "settings": asdict(self.settings),
            "machine": self.machine,
            "sections": {str(k): v for k, v in SECTIONS.items()},
            "rows": [
                {
                    "section": row.section,
                    "name": row.name,
                    "unit": row.unit,
                    "values": {c: m.value for c, m in row.values.items()},
                    "samples": {c: m.samples for c, m in row.values.items()},
                    "ratios": row.ratio_values(),
                    **({"note": row.note} if row.note else {}),
                }
                for row in self.rows
            ],
            "notes": self.notes,
            "errors": {str(k): v for k, v in self.errors.items()},
            "seconds": {str(k): round(v, 1) for k, v in self.seconds.items()},
        }

    def write(self, path: Path) -> None:
        """Write the JSON atomically (a ``.tmp`` file renamed into place)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
