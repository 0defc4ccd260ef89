"""The command line through Click's test runner (and one real ``python -m dynamodb``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import dynamodb.tools.cli as cli_package
from dynamodb import Connection
from dynamodb.tools.cli import INSTALL_HINT, main
from dynamodb.tools.cli.app import cli

ROOT = Path(__file__).resolve().parents[2]
Invoke = Callable[..., Result]


@pytest.fixture
def invoke(dynamodb_endpoint: str, connection: Connection) -> Iterator[Invoke]:
    """``invoke(*args)``: the command line on DynamoDB Local, with a table prefix of its own."""
    prefix = f"cli{os.getpid()}_"
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(
            cli,
            [
                "--endpoint-url", dynamodb_endpoint, "--region", "us-east-1",
                "--table-prefix", prefix, "--models", "tests.support.cli_models", *args,
            ],
        )  # fmt: skip

    yield run
    cleanup = Connection(endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    for name in cleanup.client.list_tables()["TableNames"]:
        if name.startswith(prefix):
            cleanup.client.delete_table(TableName=name)
    cleanup.close()


def test_every_command_has_help_with_examples() -> None:
    runner = CliRunner()
    commands = [
        ["tables"], ["describe"], ["schema"], ["schema", "plan"], ["schema", "apply"], ["export"],
        ["import"], ["query"], ["scan"], ["infra"], ["migrate"], ["migrate", "status"], ["demo"],
    ]  # fmt: skip
    for command in commands:
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Example" in result.output, command


def test_schema_plan_apply_and_describe(invoke: Invoke) -> None:
    result = invoke("schema", "plan", "--check")
    assert result.exit_code == 1
    assert "create table: keys customer (HASH), number (RANGE)" in result.stdout
    result = invoke("schema", "apply", "--yes")
    assert result.exit_code == 0, result.output
    assert "applied 1 change" in result.stdout
    result = invoke("schema", "plan", "--json", "--check")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tables"][0]["changes"] == []
    result = invoke("describe", "CliOrder")
    assert result.exit_code == 0
    assert "customer (hash, S), number (range, N)" in result.stdout
    assert "by_status: status (hash), total (range), ALL" in result.stdout
    result = invoke("tables", "--json")
    assert result.exit_code == 0
    assert "cli_orders" in json.loads(result.stdout)


def test_export_import_query_and_scan(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("schema", "apply", "--yes").exit_code == 0
    lines = [
        json.dumps(
            {
                "Item": {
                    "customer": {"S": f"c{n % 2}"},
                    "number": {"N": str(n)},
                    "status": {"S": "open" if n % 3 else "closed"},
                    "total": {"N": str(n * 10)},
                }
            }
        )
        for n in range(12)
    ]
    source = tmp_path / "orders.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = invoke("import", str(source), "CliOrder", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "imported 12 items into cli_orders, skipped 0" in result.stderr
    result = invoke("import", str(source), "CliOrder", "--no-progress")
    assert "imported 0 items into cli_orders, skipped 12 already stored" in result.stderr

    result = invoke(
        "query", "CliOrder", "--eq", "customer=c1", "--where", 'status = "open" and total > 20',
        "--output", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["number"] for row in rows] == [5, 7, 11]
    result = invoke("query", "CliOrder", "--eq", "status=closed", "--output", "json")
    assert sorted(json.loads(line)["number"] for line in result.stdout.splitlines()) == [0, 3, 6, 9]
    result = invoke("scan", "CliOrder", "--where", "total >= 100", "--output", "json")
    assert sorted(json.loads(line)["total"] for line in result.stdout.splitlines()) == [100, 110]
    result = invoke("scan", "CliOrder", "--limit", "2")
    assert result.exit_code == 0
    assert "customer" in result.stdout

    out = tmp_path / "export.jsonl"
    result = invoke("export", "CliOrder", "--out", str(out), "--segments", "3", "--no-progress")
    assert result.exit_code == 0, result.output
    exported = {
        json.dumps(json.loads(line), sort_keys=True) for line in out.read_text().splitlines()
    }
    assert exported == {json.dumps(json.loads(line), sort_keys=True) for line in lines}
    result = invoke("export", "CliOrder", "--format", "csv", "--no-progress")
    assert result.stdout.splitlines()[0] == "customer,number,status,total"


def test_infra_templates(invoke: Invoke) -> None:
    result = invoke("infra", "--format", "cloudformation")
    assert result.exit_code == 0
    template = json.loads(result.stdout)
    assert template["Resources"]["CliOrders"]["Type"] == "AWS::DynamoDB::Table"
    result = invoke("infra", "--format", "terraform")
    assert result.stdout.startswith('resource "aws_dynamodb_table" "cli_orders" {')
    result = invoke("infra", "--format", "terraform", "--syntax", "yaml")
    assert result.exit_code == 2
    assert "Terraform configurations are hcl or json" in result.stderr


def test_migrate_and_status(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("schema", "apply", "--yes").exit_code == 0
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_status.py").write_text(
        '"""Orders get a status."""\n'
        "from tests.support.cli_models import CliOrder\n"
        "model = CliOrder\n"
        "def upgrade(item):\n    item.status = 'new'\n    return item\n"
    )
    source = tmp_path / "orders.jsonl"
    source.write_text(
        "".join(
            json.dumps({"Item": {"customer": {"S": "c"}, "number": {"N": str(n)}}}) + "\n"
            for n in range(5)
        )
    )
    assert invoke("import", str(source), "CliOrder", "--no-progress").exit_code == 0
    result = invoke("migrate", "status", "--path", str(folder), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["state"] == "pending"
    result = invoke("migrate", "--path", str(folder), "--dry-run", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "0001_status: would upgrade 5 of 5 items" in result.stdout
    result = invoke("migrate", "--path", str(folder), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "0001_status: upgraded 5 of 5 items" in result.stdout
    result = invoke("migrate", "--path", str(folder))
    assert "no pending migrations (1 applied)" in result.stdout
    result = invoke("migrate", "status", "--path", str(folder))
    assert "applied" in result.stdout
    assert "Orders get a status." in result.stdout


def test_migrate_export_and_import_take_a_rate_limit(invoke: Invoke, tmp_path: Path) -> None:
    import time

    assert invoke("schema", "apply", "--yes").exit_code == 0
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_note.py").write_text(
        "from tests.support.cli_models import CliOrder\n"
        "model = CliOrder\n"
        "def upgrade(item):\n    item.status = 'slow'\n    return item\n"
    )
    source = tmp_path / "orders.jsonl"
    source.write_text(
        "".join(
            json.dumps({"Item": {"customer": {"S": "c"}, "number": {"N": str(n)}}}) + "\n"
            for n in range(6)
        )
    )
    result = invoke("import", str(source), "CliOrder", "--write-units-per-second", "0")
    assert result.exit_code == 2
    assert "--write-units-per-second" in result.stderr
    args = ("import", str(source), "CliOrder", "--no-progress", "--write-units-per-second", "50")
    assert invoke(*args).exit_code == 0
    started = time.monotonic()
    result = invoke(
        "migrate", "--path", str(folder), "--no-progress", "--write-units-per-second", "20"
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert "0001_note: upgraded 6 of 6 items" in result.stdout
    # The upgrades, the leases and the checkpoints (about 50 units) at 20 units a second.
    assert elapsed > 1.0, elapsed  # unlimited, it takes about 0.3 s
    out = tmp_path / "out.jsonl"
    exported = invoke(
        "export", "CliOrder", "--out", str(out), "--no-progress", "--read-units-per-second", "100"
    )
    assert exported.exit_code == 0, exported.output
    assert len(out.read_text().splitlines()) == 6


def test_exit_statuses_and_one_line_errors(invoke: Invoke) -> None:
    result = invoke("describe", "no_such_table")
    assert result.exit_code == 1
    assert result.stderr == "Error: table no_such_table does not exist\n"
    assert "Traceback" not in result.output
    result = invoke("--debug", "describe", "no_such_table")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.endswith("Error: table no_such_table does not exist\n")
    result = invoke("query", "Nope")
    assert result.exit_code == 2
    assert "no model named 'Nope' (models: CliOrder)" in result.stderr
    result = invoke("query", "CliOrder", "--where", "total >")
    assert result.exit_code == 2
    assert "cannot parse 'total >'" in result.stderr
    result = invoke("tables", "--bogus")
    assert result.exit_code == 2


def test_an_unexpected_error_is_one_line_unless_debug(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynamodb.tools.cli import tables

    def broken() -> object:
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setattr(tables, "_list_tables", broken)
    result = invoke("tables")
    assert result.exit_code == 1
    assert result.stderr == "Error: RuntimeError: first line\n"
    result = invoke("--debug", "tables")
    assert "Traceback (most recent call last)" in result.stderr


def test_without_the_extra_one_line_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_package, "_has_cli_extra", lambda: False)
    assert main(["tables"]) == 2
    assert capsys.readouterr().err == INSTALL_HINT + "\n"


def test_a_real_process(dynamodb_endpoint: str) -> None:
    environment = {**os.environ, "DYNAMODB_ENDPOINT": dynamodb_endpoint, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "dynamodb", "--models", "tests.support.cli_models", "infra"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "AWS::DynamoDB::Table" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "dynamodb", "--bogus"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("Error: No such option")


def test_the_root_options_are_accepted_after_the_command(dynamodb_endpoint: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["infra", "--models", "tests.support.cli_models", "--format", "terraform"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('resource "aws_dynamodb_table" "cli_orders" {')
    result = runner.invoke(
        cli,
        [
            "--models", "tests.support.cli_models", "describe", "CliOrder",
            "--endpoint-url", dynamodb_endpoint, "--region", "us-east-1",
            "--table-prefix", "no_such_prefix_", "--debug",
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr  # --debug after the command
    assert result.stderr.endswith("Error: table cli_orders does not exist\n")
    result = runner.invoke(cli, ["migrate", "status", "--help"])
    assert "--models MODULE" in result.stdout


def test_bad_usage_exits_2(invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke("migrate", "--path", str(tmp_path / "nonexistent"))
    assert result.exit_code == 2
    assert f"Error: Invalid value for '--path': no migrations folder '{tmp_path}/nonexistent'" in (
        result.stderr
    )
    result = invoke("migrate", "status", "--path", str(tmp_path / "nonexistent"))
    assert result.exit_code == 2

    result = invoke("query", "CliOrder", "--where", "total > 1")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Error: no key of CliOrder fits this query (it has conditions on total):" in (
        result.stderr
    )
    assert "the table needs an eq() condition on customer" in result.stderr

    runner = CliRunner()
    result = runner.invoke(cli, ["--models", "no.such.module", "tables"])
    assert result.exit_code == 2
    assert "cannot import --models no.such.module: ModuleNotFoundError: " in result.stderr
    package = tmp_path / "badmodels"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text("X = 1\n")
    (package / "broken.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = runner.invoke(
        cli, ["--models", "badmodels", "--endpoint-url", "http://127.0.0.1:9", "tables"]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(
        "\nError: cannot import --models badmodels (in badmodels.broken): ModuleNotFoundError: "
        "No module named 'no_such_dependency_xyz'\n"
    )


def test_gzipped_files_import_and_export_by_their_suffix(invoke: Invoke, tmp_path: Path) -> None:
    import gzip

    assert invoke("schema", "apply", "--yes").exit_code == 0
    lines = [
        json.dumps({"Item": {"customer": {"S": "c"}, "number": {"N": str(n)}}}) for n in range(3)
    ]
    source = tmp_path / "0123-abcd.json.gz"  # as DynamoDB's export to S3 names its files
    with gzip.open(source, "wt") as out:
        out.write("\n".join(lines) + "\n")
    result = invoke("import", str(source), "CliOrder", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "imported 3 items into cli_orders, skipped 0 already stored (read 3)" in result.stderr
    exported = tmp_path / "again.jsonl.gz"
    result = invoke("export", "CliOrder", "--out", str(exported), "--no-progress")
    assert result.exit_code == 0, result.output
    with gzip.open(exported, "rt") as back:
        assert sorted(map(json.loads, back.read().splitlines()), key=str) == sorted(
            map(json.loads, lines), key=str
        )
    csv_file = tmp_path / "orders.csv.gz"
    result = invoke(
        "export", "CliOrder", "--format", "csv", "--out", str(csv_file), "--no-progress"
    )
    assert result.exit_code == 0, result.output
    result = invoke("import", str(csv_file), "CliOrder", "--no-progress")
    assert "imported 0 items into cli_orders, skipped 3 already stored (read 3)" in result.stderr
