"""The public surface: what ``import dynamodb`` offers, and that it is documented."""

from __future__ import annotations
import __future__

import importlib.metadata
import importlib.resources
import inspect
import types

import pytest

import dynamodb

# The names the API brief promises; the package may export more as it grows.
PROMISED_NAMES = {
    # models and fields
    "Model",
    "MapModel",
    "Field",
    "BinaryField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "DictField",
    "EnumField",
    "FloatField",
    "IntegerField",
    "JSONField",
    "ListField",
    "MapField",
    "SetField",
    "TimeDeltaField",
    "UUIDField",
    "Condition",
    # tables
    "Table",
    "WaitPolicy",
    "create_table",
    "acreate_table",
    "delete_table",
    "adelete_table",
    # connections
    "Connection",
    "set_connection",
    "get_connection",
    "aclose",
    # errors
    "DynamoDBError",
    "FieldValidationError",
    "ModelDefinitionError",
    "DecodeError",
    "SchemaMismatch",
    "WaitTimeout",
    "TransportError",
    "ServiceError",
    "ConditionalCheckFailed",
    "ItemAlreadyExists",
    "ValidationError",
    "ResourceNotFound",
    "ResourceInUse",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "LimitExceeded",
    "ItemCollectionSizeLimitExceeded",
    "TransactionCanceled",
    "TransactionConflict",
    "InternalServerError",
    # metadata
    "__version__",
}


def _public_attributes() -> set[str]:
    """Names ``import dynamodb`` exposes, apart from submodules and ``__future__`` flags."""
    return {
        name
        for name, value in vars(dynamodb).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }


def test_all_lists_exactly_the_public_names() -> None:
    assert _public_attributes() == set(dynamodb.__all__) - {"__version__"}
    assert len(dynamodb.__all__) == len(set(dynamodb.__all__))


def test_all_holds_every_promised_name() -> None:
    assert PROMISED_NAMES - set(dynamodb.__all__) == set()


@pytest.mark.parametrize("name", sorted(dynamodb.__all__))
def test_each_public_name_imports(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from dynamodb import {name}", namespace)
    assert namespace[name] is getattr(dynamodb, name)


def test_star_import_gives_all() -> None:
    namespace: dict[str, object] = {}
    exec("from dynamodb import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(dynamodb.__all__)


def test_the_seed_readme_table_import_works() -> None:
    from dynamodb.adapter import Table

    assert Table is dynamodb.Table


def test_version_matches_the_installed_distribution() -> None:
    assert dynamodb.__version__ == importlib.metadata.version("dynamodb-py")


def test_errors_share_one_root() -> None:
    for name in dynamodb.__all__:
        value = getattr(dynamodb, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, dynamodb.DynamoDBError), name


_DOCUMENTED = sorted(set(dynamodb.__all__) - {"__version__"})


@pytest.mark.parametrize("name", _DOCUMENTED)
def test_every_public_callable_has_a_docstring(name: str) -> None:
    value = getattr(dynamodb, name)
    assert callable(value)
    # A class's own __doc__, not one inherited from its base.
    doc = value.__doc__
    assert isinstance(doc, str)
    assert doc.strip()


@pytest.mark.parametrize("name", ["Model", "MapModel", "Table", "Connection"])
def test_public_methods_of_the_main_classes_have_docstrings(name: str) -> None:
    cls = getattr(dynamodb, name)
    undocumented = [
        attr
        for attr, member in inspect.getmembers(cls)
        if not attr.startswith("_") and callable(member) and not inspect.getdoc(member)
    ]
    assert undocumented == []


def test_the_package_is_typed() -> None:
    assert importlib.resources.files("dynamodb").joinpath("py.typed").is_file()
