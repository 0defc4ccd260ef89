"""The models' tables as infrastructure templates: CloudFormation and Terraform.

Built from the same payloads as ``create_table`` (:meth:`TableSchema.create_table_request`),
so a template describes exactly the table the library would create: keys,
attribute definitions, local and global indexes with their projections, billing
and capacity, Time to Live and the stream.

- :func:`cloudformation` returns a template (a dict): one ``AWS::DynamoDB::Table``
  resource per table; :func:`render_cloudformation` writes it as JSON or YAML.
- :func:`terraform` returns Terraform's JSON syntax (``*.tf.json``) of one
  ``aws_dynamodb_table`` resource per table; :func:`render_terraform` writes it
  as JSON or as HCL (``*.tf``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from dynamodb.core.errors import InvalidValue
from dynamodb.models.schema import TableSchema
from dynamodb.models.schema_plan import table_schemas

__all__ = [
    "cloudformation",
    "render_cloudformation",
    "render_terraform",
    "terraform",
    "to_yaml",
]


def _logical_id(table: str, taken: set[str]) -> str:
    """An alphanumeric resource name from a table name (``order-items`` -> ``OrderItems``)."""
    words = re.split(r"[^A-Za-z0-9]+", table)
    name = "".join(word[:1].upper() + word[1:] for word in words if word) or "Table"
    return _unique("T" + name if name[0].isdigit() else name, taken, "")


def _unique(name: str, taken: set[str], separator: str) -> str:
    """``name``, or ``name2``, ``name3`` ... (with ``separator`` before the number): one not
    in ``taken``, which it is added to."""
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}{separator}{number}", number + 1
    taken.add(candidate)
    return candidate


def _cloudformation_table(schema: TableSchema) -> dict[str, Any]:
    request = schema.create_table_request()
    properties: dict[str, Any] = {
        key: request[key]
        for key in (
            "TableName",
            "BillingMode",
            "KeySchema",
            "AttributeDefinitions",
            "ProvisionedThroughput",
            "LocalSecondaryIndexes",
            "GlobalSecondaryIndexes",
        )
        if key in request
    }
    stream = request.get("StreamSpecification")
    if stream is not None:
        properties["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
    if schema.ttl_attribute is not None:
        properties["TimeToLiveSpecification"] = {
            "AttributeName": schema.ttl_attribute,
            "Enabled": True,
        }
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def cloudformation(models: Iterable[type[Any]], description: str | None = None) -> dict[str, Any]:
    """A CloudFormation template with one ``AWS::DynamoDB::Table`` per table of ``models``.

    Each resource's ``Outputs`` give the table's name and, with a stream, its ARN.
    """
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    taken: set[str] = set()
    for schema, _names in table_schemas(models):
        name = _logical_id(schema.table_name, taken)
        resources[name] = _cloudformation_table(schema)
        outputs[f"{name}Name"] = {"Value": {"Ref": name}}
        if isinstance(schema.stream, str):
            outputs[f"{name}StreamArn"] = {"Value": {"Fn::GetAtt": [name, "StreamArn"]}}
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09"}
    template["Description"] = description or "DynamoDB tables of the models (dynamodb-py)"
    template["Resources"] = resources
    if outputs:
        template["Outputs"] = outputs
    return template


def _terraform_table(schema: TableSchema) -> dict[str, Any]:
    request = schema.create_table_request()
    resource: dict[str, Any] = {
        "name": schema.table_name,
        "billing_mode": request["BillingMode"],
        "hash_key": schema.hash_key.name,
    }
    if schema.range_key is not None:
        resource["range_key"] = schema.range_key.name
    if not schema.on_demand:
        resource["read_capacity"] = schema.read_capacity
        resource["write_capacity"] = schema.write_capacity
    resource["attribute"] = [
        {"name": entry["AttributeName"], "type": entry["AttributeType"]}
        for entry in request["AttributeDefinitions"]
    ]
    for key, block in (
        ("LocalSecondaryIndexes", "local_secondary_index"),
        ("GlobalSecondaryIndexes", "global_secondary_index"),
    ):
        entries = []
        for index in request.get(key, []):
            keys = {entry["KeyType"]: entry["AttributeName"] for entry in index["KeySchema"]}
            entry: dict[str, Any] = {"name": index["IndexName"]}
            if block == "global_secondary_index":
                entry["hash_key"] = keys["HASH"]
            if "RANGE" in keys:
                entry["range_key"] = keys["RANGE"]
            entry["projection_type"] = index["Projection"]["ProjectionType"]
            if "NonKeyAttributes" in index["Projection"]:
                entry["non_key_attributes"] = list(index["Projection"]["NonKeyAttributes"])
            throughput = index.get("ProvisionedThroughput")
            if throughput is not None:
                entry["read_capacity"] = throughput["ReadCapacityUnits"]
                entry["write_capacity"] = throughput["WriteCapacityUnits"]
            entries.append(entry)
        if entries:
            resource[block] = entries
    if schema.ttl_attribute is not None:
        resource["ttl"] = [{"attribute_name": schema.ttl_attribute, "enabled": True}]
    stream = request.get("StreamSpecification")
    if stream is not None:
        resource["stream_enabled"] = True
        resource["stream_view_type"] = stream["StreamViewType"]
    return resource


def terraform(models: Iterable[type[Any]]) -> dict[str, Any]:
    """Terraform's JSON syntax: ``{"resource": {"aws_dynamodb_table": {name: {...}}}}``.

    Nested blocks (``attribute``, indexes, ``ttl``) are lists of objects, as
    Terraform's JSON syntax writes repeated blocks.
    """
    tables: dict[str, Any] = {}
    taken: set[str] = set()
    for schema, _names in table_schemas(models):
        name = re.sub(r"[^A-Za-z0-9_]+", "_", schema.table_name).strip("_").lower() or "table"
        name = _unique("t_" + name if name[0].isdigit() else name, taken, "_")
        tables[name] = _terraform_table(schema)
    return {"resource": {"aws_dynamodb_table": tables}}


# -- rendering ------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a YAML (and HCL) double-quoted scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML of dicts, lists and scalars (strings double-quoted)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        for key, member in value.items():
            if isinstance(member, (dict, list)) and member:
                lines.append(f"{pad}{_scalar(key)}:\n{to_yaml(member, indent + 1)}")
            else:
                shown = "{}" if member == {} else "[]" if member == [] else _scalar(member)
                lines.append(f"{pad}{_scalar(key)}: {shown}\n")
        return "".join(lines)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        for member in value:
            if isinstance(member, (dict, list)) and member:
                inner = to_yaml(member, indent + 1)
                lines.append(f"{pad}- {inner.lstrip()}")
            else:
                lines.append(f"{pad}- {_scalar(member)}\n")
        return "".join(lines)
    return pad + _scalar(value) + "\n"


def render_cloudformation(template: dict[str, Any], format: str = "json") -> str:
    """The template as ``"json"`` or ``"yaml"`` text."""
    if format == "json":
        return json.dumps(template, indent=2) + "\n"
    if format == "yaml":
        return to_yaml(template)
    raise InvalidValue(f"CloudFormation templates are 'json' or 'yaml', not {format!r}")


def _hcl_body(values: dict[str, Any], indent: int) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    for key, value in values.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for block in value:
                lines.append(f"{pad}{key} {{")
                lines.extend(_hcl_body(block, indent + 1))
                lines.append(f"{pad}}}")
        elif isinstance(value, list):
            lines.append(f"{pad}{key} = [{', '.join(_scalar(v) for v in value)}]")
        else:
            lines.append(f"{pad}{key} = {_scalar(value)}")
    return lines


def render_terraform(config: dict[str, Any], format: str = "hcl") -> str:
    """Terraform's JSON (``"json"``, for ``*.tf.json``) or HCL (``"hcl"``, for ``*.tf``)."""
    if format == "json":
        return json.dumps(config, indent=2) + "\n"
    if format != "hcl":
        raise InvalidValue(f"Terraform configurations are 'hcl' or 'json', not {format!r}")
    blocks: list[str] = []
    for kind, resources in config.get("resource", {}).items():
        for name, values in resources.items():
            body = "\n".join(_hcl_body(values, 1))
            blocks.append(f'resource "{kind}" "{name}" {{\n{body}\n}}\n')
    return "\n".join(blocks)
