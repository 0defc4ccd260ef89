"""``infra``: the models' tables as a CloudFormation or Terraform template."""

from __future__ import annotations

from pathlib import Path

import click

from dynamodb.models.infra import cloudformation, render_cloudformation, render_terraform, terraform
from dynamodb.tools.cli.common import Settings, pass_settings

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add the ``infra`` command to the root group."""

    @cli.command("infra")
    @click.option(
        "--format",
        "kind",
        type=click.Choice(["cloudformation", "terraform"]),
        default="cloudformation",
        show_default=True,
        help="The template's tool.",
    )
    @click.option(
        "--syntax",
        type=click.Choice(["json", "yaml", "hcl"]),
        default=None,
        help="CloudFormation: json (default) or yaml; Terraform: hcl (default) or json.",
    )
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
    @pass_settings
    def infra(settings: Settings, kind: str, syntax: str | None, out: Path | None) -> None:
        """The models' tables as an infrastructure template.

        Keys, attribute definitions, local and global indexes with their projections,
        billing and capacity, Time to Live and streams, as create_table makes them.

        \b
        Examples:
          dynamodb-py --models app.models infra --format cloudformation > tables.json
          dynamodb-py --models app.models infra --format cloudformation --syntax yaml
          dynamodb-py --models app.models infra --format terraform --out tables.tf
        """
        models = settings.load_models()
        if kind == "cloudformation":
            if syntax not in (None, "json", "yaml"):
                raise click.UsageError("CloudFormation templates are json or yaml")
            text = render_cloudformation(cloudformation(models), syntax or "json")
        else:
            if syntax not in (None, "hcl", "json"):
                raise click.UsageError("Terraform configurations are hcl or json")
            text = render_terraform(terraform(models), syntax or "hcl")
        if out is None:
            click.echo(text, nl=False)
        else:
            out.write_text(text)
            click.echo(f"wrote {out}", err=True)
