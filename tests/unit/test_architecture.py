"""The shape of the package: layers, no import cycles, and the import paths users rely on.

``lint-imports`` (run by ``make lint``) checks that layers import only downwards;
these tests add what its layers contract does not: no cycle between any two
modules (function-level imports included, ``TYPE_CHECKING`` blocks excluded),
and the stable import paths of the seed documents and the original dynamodb-py.
"""

from __future__ import annotations

import importlib

import grimp
import pytest

import dynamodb

LAYERS = ("core", "wire", "models", "testing", "tools")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("dynamodb", exclude_type_checking_imports=True)


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return len(LAYERS)  # the package root and its re-exporting import paths


def test_no_module_imports_a_higher_layer(graph: grimp.ImportGraph) -> None:
    upward = sorted(
        f"{importer} -> {imported}"
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.startswith("dynamodb")
        and _layer(imported) > _layer(importer)
        and _layer(importer) < len(LAYERS) - 1  # tools may use the public package
    )
    assert upward == []


def test_there_is_no_import_cycle(graph: grimp.ImportGraph) -> None:
    cycles = sorted(
        f"{importer} <-> {imported}"
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.chain_exists(importer=imported, imported=importer)
    )
    assert cycles == []


def test_the_core_never_imports_botocore(graph: grimp.ImportGraph) -> None:
    core = [module for module in graph.modules if module.startswith("dynamodb.core")]
    reached = {
        imported.split(".")[0]
        for module in core
        for imported in graph.find_modules_directly_imported_by(module)
    }
    assert not reached & {"botocore", "boto3", "aiobotocore"}


STABLE_PATHS = {
    "dynamodb.adapter": ["Table", "create_table"],
    "dynamodb.model": ["Model", "MapModel", "ModelMeta", "Conditional"],
    "dynamodb.table": ["Table", "create_table", "delete_table", "acreate_table", "adelete_table"],
    "dynamodb.fields": [
        "Attribute",
        "BinaryField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "DictField",
        "EnumField",
        "Field",
        "FloatField",
        "IntegerField",
        "JSONField",
        "ListField",
        "MapField",
        "NestedAttribute",
        "SetField",
        "TimeDeltaField",
        "UUIDField",
        "VersionField",
    ],
    "dynamodb.exceptions": [
        "ConditionalCheckFailed",
        "DecodeError",
        "DynamoDBError",
        "FieldValidationError",
        "ItemAlreadyExists",
        "ModelDefinitionError",
        "ResourceNotFound",
        "ValidationError",
        "VersionConflict",
    ],
}


@pytest.mark.parametrize("path", sorted(STABLE_PATHS))
def test_the_stable_import_paths_keep_their_names(path: str) -> None:
    module = importlib.import_module(path)
    missing = [name for name in STABLE_PATHS[path] if not hasattr(module, name)]
    assert missing == []
    for name in STABLE_PATHS[path]:
        public = getattr(dynamodb, name, None)
        if public is not None:
            assert getattr(module, name) is public, f"{path}.{name} is not dynamodb.{name}"


def test_attribute_is_the_original_name_of_the_field_base_class() -> None:
    from dynamodb.fields import Attribute, CharField

    assert Attribute is dynamodb.Field
    assert issubclass(CharField, Attribute)


def test_every_public_name_is_importable_from_the_package() -> None:
    missing = [name for name in dynamodb.__all__ if not hasattr(dynamodb, name)]
    assert missing == []


def test_the_exceptions_path_lists_every_error_class() -> None:
    import dynamodb.exceptions as exceptions

    errors = {
        name
        for name in dynamodb.__all__
        if isinstance(getattr(dynamodb, name), type)
        and issubclass(getattr(dynamodb, name), dynamodb.DynamoDBError)
    }
    assert errors <= set(exceptions.__all__)
