"""Infrastructure templates: CloudFormation and Terraform from the models' schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml  # type: ignore[import-untyped]

from dynamodb import CharField, IntegerField, Model, TTLField
from dynamodb.models.infra import (
    cloudformation,
    render_cloudformation,
    render_terraform,
    terraform,
)


class InfraOrder(Model):
    __table_name__ = "unit-infra-orders"
    ReadCapacityUnits = 4
    WriteCapacityUnits = 2
    __secondary_indexes__: ClassVar[dict[str, dict[str, Any]]] = {
        "by_status": {"hash_key": "status", "range_key": "total", "projections": ["note"]},
    }
    __stream__ = "NEW_AND_OLD_IMAGES"

    customer = CharField(hash_key=True)
    number = IntegerField(range_key=True)
    status = CharField()
    total = IntegerField()
    note = CharField()
    placed = CharField(indexed=True, projections="ALL")
    expires = TTLField()


class InfraEvent(Model):
    __table_name__ = "unit_infra_events"

    id = CharField(hash_key=True)


MODELS = [InfraOrder, InfraEvent]


def test_cloudformation_has_one_table_resource_per_table() -> None:
    template = cloudformation(MODELS)
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    orders = template["Resources"]["UnitInfraOrders"]
    assert orders["Type"] == "AWS::DynamoDB::Table"
    request = InfraOrder._meta.require_table().create_table_request()
    properties = orders["Properties"]
    for key in (
        "TableName",
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
        "ProvisionedThroughput",
        "LocalSecondaryIndexes",
        "GlobalSecondaryIndexes",
    ):
        assert properties[key] == request[key]
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    events = template["Resources"]["UnitInfraEvents"]["Properties"]
    assert events["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in events
    assert template["Outputs"]["UnitInfraOrdersStreamArn"] == {
        "Value": {"Fn::GetAtt": ["UnitInfraOrders", "StreamArn"]}
    }


def test_cloudformation_yaml_reads_back_as_the_json() -> None:
    template = cloudformation(MODELS)
    assert yaml.safe_load(render_cloudformation(template, "yaml")) == template
    assert json.loads(render_cloudformation(template, "json")) == template


@pytest.mark.parametrize("syntax", ["json", "yaml"])
def test_cfn_lint_finds_no_error(syntax: str, tmp_path: Path) -> None:
    """cfn-lint checks the template against CloudFormation's resource specification."""
    lint = pytest.importorskip("cfnlint.api")
    text = render_cloudformation(cloudformation(MODELS), syntax)
    matches = lint.lint(text, config=lint.ManualArgs(regions=["us-east-1"]))
    assert [str(match) for match in matches] == []


def test_terraform_json_and_hcl_say_the_same() -> None:
    hcl2 = pytest.importorskip("hcl2")
    config = terraform(MODELS)
    orders = config["resource"]["aws_dynamodb_table"]["unit_infra_orders"]
    assert orders["name"] == "unit-infra-orders"
    assert orders["billing_mode"] == "PROVISIONED"
    assert (orders["hash_key"], orders["range_key"]) == ("customer", "number")
    assert (orders["read_capacity"], orders["write_capacity"]) == (4, 2)
    assert {a["name"]: a["type"] for a in orders["attribute"]} == {
        "customer": "S",
        "number": "N",
        "placed": "S",
        "status": "S",
        "total": "N",
    }
    assert orders["global_secondary_index"] == [
        {
            "name": "by_status",
            "hash_key": "status",
            "range_key": "total",
            "projection_type": "INCLUDE",
            "non_key_attributes": ["note"],
            "read_capacity": 4,
            "write_capacity": 2,
        }
    ]
    assert orders["local_secondary_index"] == [
        {"name": "placed_index", "range_key": "placed", "projection_type": "ALL"}
    ]
    assert orders["ttl"] == [{"attribute_name": "expires", "enabled": True}]
    assert (orders["stream_enabled"], orders["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    parsed = _plain(hcl2.loads(render_terraform(config, "hcl")))
    tables = config["resource"]["aws_dynamodb_table"]
    assert parsed == {
        "resource": [{"aws_dynamodb_table": {name: body}} for name, body in tables.items()]
    }
    assert json.loads(render_terraform(config, "json")) == config


def _plain(value: Any) -> Any:
    """python-hcl2's output without its quotes and block wrappers, to compare with the JSON."""
    if isinstance(value, dict):
        return {
            key.strip('"'): _plain(member)
            for key, member in value.items()
            if not key.startswith("__")
        }
    if isinstance(value, list):
        return [_plain(member) for member in value]
    if isinstance(value, str):
        return value.strip('"')
    return value


def test_unknown_syntaxes_are_refused() -> None:
    from dynamodb import InvalidValue

    with pytest.raises(InvalidValue, match="'json' or 'yaml'"):
        render_cloudformation({}, "hcl")
    with pytest.raises(InvalidValue, match="'hcl' or 'json'"):
        render_terraform({}, "yaml")
