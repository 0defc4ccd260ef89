"""Section 5: cold start, what a fresh process (a Lambda's first invocation) pays.

Each figure is measured inside a new interpreter, from just before the library is
imported: importing it alone, and importing it, defining the bench model and doing
one get against the canned server of section 2 (endpoint and keys given, as a
Lambda's environment gives them). Ours on both transports, and pydynox. The
libraries take turns, so a passing load hits them alike.
"""

from __future__ import annotations

import subprocess
import sys

from .canned import canned_bodies
from .report import Report, Row
from .server import canned_server
from .timing import REPO, Measure, Settings

_IMPORT = {
    "ours": "import dynamodb",
    "pydynox": "import pydynox",
}

_FIRST_GET = {
    "ours": """
import dynamodb
class Item(dynamodb.Model):
    __table_name__ = "bench_canned"
    pk = dynamodb.CharField(hash_key=True)
    sk = dynamodb.IntegerField(range_key=True)
    name = dynamodb.CharField()
connection = dynamodb.Connection(endpoint_url=ENDPOINT, region_name="us-east-1",
    aws_access_key_id="bench", aws_secret_access_key="bench", transport=TRANSPORT)
assert Item.get(pk="bench#q", sk=0, connection=connection) is not None
""",
    "pydynox": """
import pydynox
from pydynox.attributes import NumberAttribute, StringAttribute
client = pydynox.DynamoDBClient(region="us-east-1", access_key="bench", secret_key="bench",
    endpoint_url=ENDPOINT)
class Item(pydynox.Model):
    model_config = pydynox.ModelConfig(table="bench_canned", client=client)
    pk = StringAttribute(partition_key=True)
    sk = NumberAttribute(sort_key=True)
    name = StringAttribute()
assert Item.sync_get(pk="bench#q", sk=0) is not None
""",
}

_TIMED = """
import time as _time
_started = _time.perf_counter()
{body}
print("ELAPSED", _time.perf_counter() - _started)
"""


def _available(module: str) -> bool:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return done.returncode == 0


def _once(body: str, **names: str) -> float:
    preamble = "".join(f"{name} = {value!r}\n" for name, value in names.items())
    code = preamble + _TIMED.format(body=body)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("ELAPSED "):
            return float(line.split()[1]) * 1000
    raise RuntimeError(f"no timing in the output: {done.stdout!r} {done.stderr!r}")


def run(settings: Settings, report: Report) -> None:
    runs = max(5, settings.repeats + 2)
    libraries = ["ours"] + (["pydynox"] if _available("pydynox") else [])
    if "pydynox" not in libraries:
        report.note("pydynox is not installed: section 5 compares nothing")
    imports: dict[str, Measure] = {library: Measure() for library in libraries}
    firsts: dict[str, Measure] = {name: Measure() for name in [*libraries, "ours botocore"]}
    bodies, _ = canned_bodies()
    with canned_server(bodies) as endpoint:
        for _ in range(runs):
            for library in libraries:
                imports[library].samples.append(_once(_IMPORT[library]))
            for name in firsts:
                library = "ours" if name.startswith("ours") else name
                transport = "botocore" if name == "ours botocore" else "direct"
                firsts[name].samples.append(
                    _once(_FIRST_GET[library], ENDPOINT=endpoint, TRANSPORT=transport)
                )
    ratios = [("ours/pydynox", "ours", "pydynox")]
    report.add(Row(section=5, name="import alone", unit="ms", values=imports, ratios=ratios))
    report.add(
        Row(
            section=5,
            name="import, a model, the first get",
            unit="ms",
            values=firsts,
            ratios=[*ratios, ("ours/botocore", "ours", "ours botocore")],
            note="endpoint and keys given; against the canned server of section 2",
        )
    )
