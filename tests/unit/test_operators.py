"""PynamoDB's operators: ``Issue.status == "open"``, ``Issue.votes > 3`` build conditions.

``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` on fields, nested paths and ``size()``
build the same conditions as ``eq`` ... ``gte``; fields stay hashable by identity;
every call that takes a condition refuses anything else (a bool above all) with
NotACondition before any request is sent.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Condition,
    Connection,
    DictField,
    DynamoDBError,
    IntegerField,
    InvalidArgument,
    ListField,
    Model,
    NotACondition,
    SetField,
)
from tests.support.recorder import Recorder


class OpIssue(Model):
    __table_name__ = "unit_operator_issues"

    project_key = CharField(hash_key=True)
    issue_id = CharField(range_key=True)
    title = CharField()
    status = CharField()
    votes = IntegerField()
    info = DictField()
    ids = ListField(of=IntegerField())
    tags = SetField(of=str)


OPERATORS: list[tuple[Callable[[Any, Any], Any], str]] = [
    (operator.eq, "eq"),
    (operator.ne, "ne"),
    (operator.lt, "lt"),
    (operator.le, "lte"),
    (operator.gt, "gt"),
    (operator.ge, "gte"),
]


@pytest.mark.parametrize(("python", "method"), OPERATORS)
def test_each_operator_builds_the_condition_of_its_method(
    python: Callable[[Any, Any], Any], method: str
) -> None:
    on_field = python(OpIssue.votes, 3)
    on_path = python(OpIssue.info["a"], 1)
    on_element = python(OpIssue.ids[0], 2)
    on_size = python(OpIssue.tags.size(), 2)

    assert isinstance(on_field, Condition)
    assert on_field == getattr(OpIssue.votes, method)(3)
    assert on_path == getattr(OpIssue.info["a"], method)(1)
    assert on_element == getattr(OpIssue.ids[0], method)(2)
    assert on_size == getattr(OpIssue.tags.size(), method)(2)


def test_the_value_may_stand_on_the_left() -> None:
    assert (3 < OpIssue.votes) == OpIssue.votes.gt(3)  # noqa: SIM300
    assert (3 >= OpIssue.votes) == OpIssue.votes.lte(3)  # noqa: SIM300
    # Type checkers read a str on the left as str.__eq__ (a bool): put the field first.
    equal: object = "open" == OpIssue.status  # noqa: SIM300
    unequal: object = "open" != OpIssue.status  # noqa: SIM300
    assert equal == OpIssue.status.eq("open")
    assert unequal == OpIssue.status.ne("open")


def test_operators_are_checked_by_the_field_like_the_methods() -> None:
    with pytest.raises(dynamodb.FieldValidationError, match=r"OpIssue\.votes: 'many'"):
        OpIssue.votes > "many"  # noqa: B015


def test_operator_conditions_combine_and_render_in_a_query() -> None:
    query = OpIssue.query().where(
        (OpIssue.project_key == "acme#web")
        & (OpIssue.issue_id >= "i-100")
        & ((OpIssue.status == "open") | ~(OpIssue.votes <= 3))
    )

    request = query.explain()

    assert request["KeyConditionExpression"] == "(#n0 = :v0) AND (#n1 >= :v1)"
    assert request["FilterExpression"] == "(#n2 = :v2) OR (NOT (#n3 <= :v3))"
    assert request["ExpressionAttributeNames"] == {
        "#n0": "project_key",
        "#n1": "issue_id",
        "#n2": "status",
        "#n3": "votes",
    }
    assert request["ExpressionAttributeValues"] == {
        ":v0": {"S": "acme#web"},
        ":v1": {"S": "i-100"},
        ":v2": {"S": "open"},
        ":v3": {"N": "3"},
    }


def test_a_condition_built_by_an_operator_has_no_truth_value() -> None:
    with pytest.raises(InvalidArgument, match="a condition has no truth value"):
        bool(OpIssue.status == "open")
    assert issubclass(InvalidArgument, TypeError)


# -- fields stay hashable, and compare by identity with each other ----------------------


def test_fields_hash_by_identity_and_work_as_keys_and_members() -> None:
    status, votes = OpIssue.status, OpIssue.votes
    by_field = {status: "s", votes: "v"}

    assert hash(status) == object.__hash__(status)
    assert by_field[status] == "s"
    assert by_field[votes] == "v"
    assert {status, votes, status} == {status, votes}
    assert status in [votes, status]
    assert status not in (votes, OpIssue.title)
    assert [votes, status].index(status) == 1


def test_two_fields_compare_by_identity() -> None:
    path = OpIssue.info["a"]

    assert (OpIssue.status == OpIssue.status) is True
    assert (OpIssue.status == OpIssue.votes) is False
    assert (OpIssue.status != OpIssue.votes) is True
    assert (path == path) is True
    assert (path == OpIssue.info["a"]) is False  # another path object
    assert hash(path) == object.__hash__(path)
    with pytest.raises(TypeError, match="'<' not supported"):
        OpIssue.votes < OpIssue.status  # noqa: B015


# -- everything that takes a condition refuses anything else, before sending ----------


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _stored() -> OpIssue:
    """An item as if read (it has an original), without a request."""
    item = OpIssue._from_wire(
        {"project_key": {"S": "acme#web"}, "issue_id": {"S": "i-1"}, "title": {"S": "t"}}
    )
    assert item._original is not None
    return item


CALLS: dict[str, Callable[[OpIssue, Connection, Any], Any]] = {
    "OpIssue.save(condition=...)": lambda item, c, v: item.save(condition=v, connection=c),
    "OpIssue.delete(condition=...)": lambda item, c, v: item.delete(condition=v, connection=c),
    "OpIssue.condition()": lambda item, c, v: item.condition(v).save(connection=c),
    "OpIssue.set_modify_conditions()": lambda item, c, v: item.set_modify_conditions(v),
    "OpIssue.query().where()": lambda item, c, v: OpIssue.query().where(v).using(c).all(),
    "OpIssue.scan().where()": lambda item, c, v: OpIssue.scan().where(v).using(c).all(),
    "tx.put(condition=...)": lambda item, c, v: dynamodb.transaction().put(item, condition=v),
    "tx.save(condition=...)": lambda item, c, v: dynamodb.transaction().save(item, condition=v),
    "tx.update(condition=...)": lambda item, c, v: dynamodb.transaction().update(
        item, OpIssue.votes.add(1), condition=v
    ),
    "tx.delete(condition=...)": lambda item, c, v: dynamodb.transaction().delete(item, condition=v),
    "tx.check(model, key, condition)": lambda item, c, v: dynamodb.transaction().check(
        OpIssue, {"project_key": "acme#web", "issue_id": "i-1"}, v
    ),
}


@pytest.mark.parametrize("where", sorted(CALLS))
def test_a_bool_is_refused_where_a_condition_is_taken_naming_the_call(
    where: str, recorder: Recorder
) -> None:
    item = _stored()
    item.title = "changed"  # so that a save has something to send

    with pytest.raises(NotACondition) as caught:
        # a bool: item.status is a value, not the field
        CALLS[where](item, recorder.connection, item.status == "open")

    error = caught.value
    assert isinstance(error, TypeError)
    assert isinstance(error, DynamoDBError)
    message = str(error)
    assert message.startswith(f"{where} takes conditions such as OpIssue.field == value")
    assert "not False (bool)" in message
    assert "compare the model's field instead (OpIssue.field == value)" in message
    assert recorder.calls == []


@pytest.mark.parametrize("where", sorted(CALLS))
def test_other_values_are_refused_too_naming_what_came(where: str, recorder: Recorder) -> None:
    with pytest.raises(NotACondition, match=r"not 'status = open' \(str\)$"):
        CALLS[where](_stored(), recorder.connection, "status = open")
    assert recorder.calls == []


def test_conditions_from_operators_go_out_with_the_write(recorder: Recorder) -> None:
    item = _stored()
    item.title = "changed"
    condition = (OpIssue.status == "open") & (OpIssue.votes > 3)

    item.save(condition=condition, connection=recorder.connection)

    ((operation, params),) = recorder.calls
    assert operation == "UpdateItem"
    assert params["UpdateExpression"] == "SET #n0 = :v0"
    expected = "(attribute_exists(#n1)) AND (#n2 = :v1) AND (#n3 > :v2)"
    assert params["ConditionExpression"] == expected
    assert params["ExpressionAttributeNames"] == {
        "#n0": "title",
        "#n1": "project_key",
        "#n2": "status",
        "#n3": "votes",
    }
    assert params["ExpressionAttributeValues"] == {
        ":v0": {"S": "changed"},
        ":v1": {"S": "open"},
        ":v2": {"N": "3"},
    }
