"""The command line's extra stays optional: nothing imports Click or rich until a command runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import dynamodb
from dynamodb.models.infra import cloudformation


@pytest.mark.parametrize(
    "code",
    [
        "import dynamodb",
        "import dynamodb.__main__",
        "import dynamodb.migrations, dynamodb.infra, dynamodb.transfer",
    ],
)
def test_no_click_or_rich_until_a_command_runs(code: str) -> None:
    probe = (
        f"{code}\nimport sys, json\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'click', 'rich'})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_engine_is_public_from_python() -> None:
    assert dynamodb.plan_schema.__doc__
    assert dynamodb.parse_condition.__module__ == "dynamodb.models.where"
    assert cloudformation([])["Resources"] == {}
