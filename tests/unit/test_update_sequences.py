"""Update actions that apply one after another (the pending-update API), without a server.

``UpdatePlan.then`` merges a sequence only where one UpdateExpression gives exactly
what the calls give one after another; ``apply_action`` follows DynamoDB's rules for
one action on a value; ``plan_sequence`` computes from what was read what cannot go
into one expression, and guards it. The last tests check the request a commit sends.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import dynamodb
import dynamodb.exceptions
from dynamodb import (
    CharField,
    ConcurrentModification,
    ConditionalCheckFailed,
    Connection,
    DictField,
    IntegerField,
    ListField,
    MockTransport,
    Model,
    SetField,
    UpdateAction,
    UpdateConflict,
)
from dynamodb.core.codec import AttributeValue, Item
from dynamodb.core.expressions import AttributeNotExists, Comparison, Path, Placeholders
from dynamodb.core.updates import UpdatePlan, apply_action, plan_sequence


class Doc(Model):
    __table_name__ = "unit_update_sequences_doc"

    name = CharField(hash_key=True)
    score = IntegerField()
    title = CharField()
    ids = ListField()
    doc = DictField()
    tags = SetField(of=str)
    codes = SetField(of=int)


def sequence(*actions: UpdateAction) -> UpdatePlan:
    plan = UpdatePlan()
    for action in actions:
        plan.then(action)
    return plan


def S(text: str) -> AttributeValue:
    return {"S": text}


def N(number: int) -> AttributeValue:
    return {"N": str(number)}


def L(*members: str) -> AttributeValue:
    return {"L": [S(member) for member in members]}


def at(name: str, *more: str | int) -> Path:
    return Path((name, *more))


# -- UpdatePlan.then: exact merges ----------------------------------------------------------


def test_a_set_then_an_add_of_a_number_is_one_set_of_the_sum() -> None:
    plan = sequence(Doc.score.set(5), Doc.score.add(1000))
    assert list(plan) == [UpdateAction(at("score"), "set", N(1005))]
    placeholders = Placeholders()
    assert plan.render(placeholders) == "SET #n0 = :v0"
    assert placeholders.values == {":v0": N(1005)}


@pytest.mark.parametrize(
    ("actions", "merged"),
    [
        pytest.param(
            (Doc.score.add(2), Doc.score.add(-7)),
            UpdateAction(at("score"), "add", N(-5)),
            id="add+add",
        ),
        pytest.param(
            (Doc.ids.list_append(["a"]), Doc.ids.list_append(["b", "c"])),
            UpdateAction(at("ids"), "append", L("a", "b", "c")),
            id="append+append",
        ),
        pytest.param(
            (Doc.ids.list_prepend(["a"]), Doc.ids.list_prepend(["b"])),
            UpdateAction(at("ids"), "prepend", L("b", "a")),
            id="prepend+prepend",
        ),
        pytest.param(
            (Doc.tags.delete({"a"}), Doc.tags.delete({"a"})),
            UpdateAction(at("tags"), "delete", {"SS": ["a"]}),
            id="delete+delete",
        ),
        pytest.param(
            (Doc.score.set(1, if_not_exists=True), Doc.score.set(2, if_not_exists=True)),
            UpdateAction(at("score"), "set_if_not_exists", N(1)),
            id="the first set_if_not_exists sets it",
        ),
        pytest.param(
            (Doc.score.set(1), Doc.score.set(2, if_not_exists=True)),
            UpdateAction(at("score"), "set", N(1)),
            id="set, then set_if_not_exists finds it",
        ),
        pytest.param(
            (Doc.score.add(1), Doc.score.set(7)),
            UpdateAction(at("score"), "set", N(7)),
            id="add, then a set replaces it",
        ),
        pytest.param(
            (Doc.title.remove(), Doc.title.set("t")),
            UpdateAction(at("title"), "set", S("t")),
            id="remove+set",
        ),
    ],
)
def test_one_path_twice_merges_where_exact(
    actions: tuple[UpdateAction, ...], merged: UpdateAction
) -> None:
    assert list(sequence(*actions)) == [merged]


@pytest.mark.parametrize(
    ("actions", "merged"),
    [
        pytest.param(
            (Doc.ids.set(["a"]), Doc.ids.list_append(["b"])),
            UpdateAction(at("ids"), "set", L("a", "b")),
            id="set a list, append",
        ),
        pytest.param(
            (Doc.ids.set(["a", "b"]), Doc.ids[5].set("c"), Doc.ids[0].remove()),
            UpdateAction(at("ids"), "set", L("b", "c")),
            id="set a list, set past its end (appends), remove by index",
        ),
        pytest.param(
            (Doc.doc.set({"a": 1, "b": 2}), Doc.doc["a"].remove(), Doc.doc["c"].set("x")),
            UpdateAction(at("doc"), "set", {"M": {"b": N(2), "c": S("x")}}),
            id="set a map, remove a key, set a key",
        ),
        pytest.param(
            (Doc.doc.set({"n": 1}), Doc.doc["n"].add(4)),
            UpdateAction(at("doc"), "set", {"M": {"n": N(5)}}),
            id="set a map, add to a number in it",
        ),
        pytest.param(
            (Doc.score.remove(), Doc.score.add(3)),
            UpdateAction(at("score"), "set", N(3)),
            id="remove, add",
        ),
        pytest.param(
            (Doc.ids.remove(), Doc.ids.list_append(["a"])),
            UpdateAction(at("ids"), "set", L("a")),
            id="remove, append",
        ),
        pytest.param(
            (Doc.tags.remove(), Doc.tags.delete({"a"})),
            UpdateAction(at("tags"), "remove"),
            id="remove, delete members",
        ),
        pytest.param(
            (Doc.tags.set({"a", "b"}), Doc.tags.add({"c"}), Doc.tags.delete({"a", "b", "c"})),
            UpdateAction(at("tags"), "remove"),
            id="set members, add, delete every one: the set is gone",
        ),
    ],
)
def test_after_a_set_or_remove_the_value_is_known_and_later_actions_are_computed_into_it(
    actions: tuple[UpdateAction, ...], merged: UpdateAction
) -> None:
    assert list(sequence(*actions)) == [merged]


def test_a_set_or_remove_replaces_what_was_planned_inside_its_path() -> None:
    plan = sequence(
        Doc.doc["a"].set(1),
        Doc.doc["b"]["c"].remove(),
        Doc.ids[1].set("x"),
        Doc.title.set("t"),
        Doc.doc.set({"z": 0}),
        Doc.ids.remove(),
    )
    assert list(plan) == [
        UpdateAction(at("title"), "set", S("t")),
        UpdateAction(at("doc"), "set", {"M": {"z": N(0)}}),
        UpdateAction(at("ids"), "remove"),
    ]


def test_actions_on_different_keys_of_a_map_stay_apart() -> None:
    plan = sequence(Doc.doc["c"].set(100), Doc.doc["b"].set(5), Doc.doc["a"].remove())
    plan.then(Doc.doc["b"].remove())
    assert [(str(action.path), action.kind) for action in plan] == [
        ("doc.c", "set"),
        ("doc.b", "remove"),
        ("doc.a", "remove"),
    ]


# -- UpdatePlan.then: what cannot go into one expression -----------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(Doc.tags.add({"a"}), Doc.tags.delete({"b"}), id="add+delete members"),
        pytest.param(Doc.tags.delete({"a"}), Doc.tags.add({"b"}), id="delete+add members"),
        pytest.param(Doc.ids.list_append(["a"]), Doc.ids[1].set("b"), id="append+index"),
        pytest.param(Doc.ids[1].set("b"), Doc.ids.list_append(["a"]), id="index+append"),
        pytest.param(Doc.ids.list_append(["a"]), Doc.ids.list_prepend(["b"]), id="append+prepend"),
        pytest.param(Doc.ids[0].remove(), Doc.ids[0].remove(), id="remove one index twice"),
        pytest.param(Doc.ids[0].remove(), Doc.ids[2].set("x"), id="remove+another index"),
        pytest.param(Doc.ids[3].set("x"), Doc.ids[3].set("y"), id="set one index twice"),
        pytest.param(
            Doc.score.add(1), Doc.score.set(2, if_not_exists=True), id="add+if_not_exists"
        ),
    ],
)
def test_sequences_one_expression_cannot_give_exactly_conflict(
    first: UpdateAction, second: UpdateAction
) -> None:
    plan = sequence(first)
    with pytest.raises(UpdateConflict) as raised:
        plan.then(second)
    assert first.describe() in str(raised.value)
    assert second.describe() in str(raised.value)
    assert list(plan) == [first]  # the plan is left as it was


def test_a_list_conflict_says_why() -> None:
    with pytest.raises(UpdateConflict, match=re.escape("a removal shifts the indexes")):
        sequence(Doc.ids[0].remove(), Doc.ids[1].remove())


def test_an_action_that_dynamodb_refuses_on_the_known_value_conflicts() -> None:
    with pytest.raises(UpdateConflict, match="there is no map to hold the key 'a'"):
        sequence(Doc.doc.remove(), Doc.doc["a"].set(1))
    with pytest.raises(UpdateConflict, match="not a number"):
        sequence(Doc.doc.set({"n": "x"}), Doc.doc["n"].add(1))


# -- apply_action: DynamoDB's rules for one action ----------------------------------------------


@pytest.mark.parametrize(
    ("before", "action", "after"),
    [
        pytest.param(L("a", "b"), Doc.ids[5].set("c"), L("a", "b", "c"), id="set past the end"),
        pytest.param(L("a", "b"), Doc.ids[5].remove(), L("a", "b"), id="remove past the end"),
        pytest.param(L("a", "b"), Doc.ids[0].remove(), L("b"), id="remove shifts"),
        pytest.param(None, Doc.ids.list_append(["a"]), L("a"), id="append to nothing"),
        pytest.param(L("a"), Doc.ids.list_prepend(["b"]), L("b", "a"), id="prepend"),
        pytest.param(None, Doc.score.add(3), N(3), id="add to nothing"),
        pytest.param(N(3), Doc.score.set(9, if_not_exists=True), N(3), id="if_not_exists"),
        pytest.param(
            {"M": {"a": N(1)}}, Doc.doc["z"].remove(), {"M": {"a": N(1)}}, id="remove a missing key"
        ),
        pytest.param(
            {"NS": ["1", "2.0"]}, Doc.codes.delete({2}), {"NS": ["1"]}, id="numbers by value"
        ),
        pytest.param({"SS": ["a"]}, Doc.tags.delete({"a"}), None, id="delete every member"),
        pytest.param(None, Doc.tags.delete({"a"}), None, id="delete from nothing"),
        pytest.param({"SS": ["a"]}, Doc.tags.add({"a", "b"}), {"SS": ["a", "b"]}, id="add members"),
    ],
)
def test_apply_action_follows_dynamodb(
    before: AttributeValue | None, action: UpdateAction, after: AttributeValue | None
) -> None:
    assert apply_action(before, action) == after


@pytest.mark.parametrize(
    ("before", "action", "reason"),
    [
        pytest.param(None, Doc.ids[0].remove(), "no list to hold the element [0]", id="no list"),
        pytest.param(None, Doc.doc["a"].remove(), "no map to hold the key 'a'", id="no map"),
        pytest.param(S("x"), Doc.score.add(1), "not a number", id="add to a string"),
        pytest.param({"SS": ["a"]}, Doc.codes.add({1}), "not a set of the same type", id="NS+SS"),
        pytest.param(S("x"), Doc.ids.list_append(["a"]), "not a list", id="append to a string"),
        pytest.param(
            {"N": "1" + "0" * 38}, Doc.score.add(1), "38 significant digits", id="39 digits"
        ),
    ],
)
def test_apply_action_refuses_what_dynamodb_refuses(
    before: AttributeValue | None, action: UpdateAction, reason: str
) -> None:
    with pytest.raises(UpdateConflict, match=re.escape(reason)):
        apply_action(before, action)


def test_apply_action_does_not_change_the_value_it_is_given() -> None:
    before = {"M": {"l": L("a", "b"), "k": N(1)}}
    snapshot = repr(before)
    apply_action(before, Doc.doc["l"][0].remove())
    apply_action(before, Doc.doc["k"].remove())
    assert repr(before) == snapshot


# -- plan_sequence: computed from what was read, and guarded ------------------------------------

README_LIST = (
    Doc.ids.list_append(["100"]),
    Doc.ids.list_append(["100", "101"]),
    Doc.ids[1].set("1000"),
    Doc.ids[1].remove(),
)


def test_without_a_read_an_inexact_sequence_raises_and_says_what_would_work() -> None:
    with pytest.raises(UpdateConflict) as raised:
        plan_sequence(README_LIST, None)
    message = str(raised.value)
    assert "append(ids) and set(ids[1])" in message
    assert "commit the first before making the second" in message
    assert "or read the item first, so that the commit computes ids from what was read" in message


def test_with_a_read_the_attribute_is_computed_and_guarded_by_what_was_read() -> None:
    read: Item = {"name": S("d"), "ids": L("a"), "tags": {"SS": ["x"]}}
    resolved = plan_sequence(
        [
            *README_LIST,
            Doc.score.add(1),  # exact: stays an atomic ADD, unguarded
            Doc.tags.add({"y", "z"}),
            Doc.tags.delete({"x", "y"}),
            Doc.title.set("t"),
        ],
        read,
    )
    assert list(resolved.plan) == [
        UpdateAction(at("ids"), "set", L("a", "100", "101")),
        UpdateAction(at("score"), "add", N(1)),
        UpdateAction(at("tags"), "set", {"SS": ["z"]}),
        UpdateAction(at("title"), "set", S("t")),
    ]
    assert resolved.read == {"ids": L("a"), "tags": {"SS": ["x"]}}
    assert resolved.guards() == [
        Comparison(at("ids"), "eq", L("a")),
        Comparison(at("tags"), "eq", {"SS": ["x"]}),
    ]


def test_an_attribute_absent_when_read_is_guarded_by_attribute_not_exists() -> None:
    resolved = plan_sequence([Doc.ids.list_append(["a", "b"]), Doc.ids[0].remove()], {})
    assert list(resolved.plan) == [UpdateAction(at("ids"), "set", L("b"))]
    assert resolved.guards() == [AttributeNotExists(at("ids"))]


def test_a_computed_result_that_is_gone_is_a_guarded_remove() -> None:
    resolved = plan_sequence(
        [Doc.tags.add({"b"}), Doc.tags.delete({"a", "b"})], {"tags": {"SS": ["a"]}}
    )
    assert list(resolved.plan) == [UpdateAction(at("tags"), "remove")]
    assert resolved.guards() == [Comparison(at("tags"), "eq", {"SS": ["a"]})]


def test_exact_sequences_are_not_computed_even_when_read() -> None:
    resolved = plan_sequence([Doc.score.set(1), Doc.score.add(1)], {"score": N(40)})
    assert list(resolved.plan) == [UpdateAction(at("score"), "set", N(2))]
    assert resolved.guards() == []


def test_a_computation_dynamodb_would_refuse_raises() -> None:
    with pytest.raises(UpdateConflict, match="no list to hold the element"):
        plan_sequence([Doc.ids[0].remove(), Doc.ids.list_append(["a"])], {})


# -- commit_changes: the request, and a failed guard --------------------------------------------


class Recorder:
    """A MockTransport handler: answers GetItem with ``stored``, records each request."""

    def __init__(self, stored: Item, fail: Item | None = None) -> None:
        self.stored = stored
        self.fail = fail
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.requests.append((operation, params))
        if operation == "GetItem":
            return {"Item": self.stored}
        if self.fail is not None:
            raise ConditionalCheckFailed(
                "The conditional request failed", response={"Item": self.fail}
            )
        return {"Attributes": self.stored}


def connected(recorder: Recorder) -> Connection:
    return dynamodb.Connection(transport=MockTransport(recorder))


STORED: Item = {"name": S("d"), "ids": L("a", "b"), "tags": {"SS": ["x"]}, "score": N(1)}


def read_doc(recorder: Recorder) -> Doc:
    found = Doc.get(name="d", connection=connected(recorder))
    assert found is not None
    return found


def test_the_commit_sends_one_update_with_the_guard() -> None:
    recorder = Recorder(STORED)
    item = read_doc(recorder)
    item.set_field(Doc.score, 5)
    item.add_to_field(Doc.score, 1000)
    item.append_to_listfield(Doc.ids, ["c"])
    item.replace_by_index_in_listfield(Doc.ids, 1, "B")
    item.commit_changes(connection=connected(recorder))

    (operation, params) = recorder.requests[-1]
    assert operation == "UpdateItem"
    names = {value: key for key, value in params["ExpressionAttributeNames"].items()}
    values = params["ExpressionAttributeValues"]
    expression = params["UpdateExpression"]
    score, ids = names["score"], names["ids"]
    assert re.fullmatch(rf"SET {score} = (:v\d+), {ids} = (:v\d+)", expression)
    set_score, set_ids = re.findall(r":v\d+", expression)
    assert values[set_score] == N(1005)
    assert values[set_ids] == L("a", "B", "c")
    guard = re.fullmatch(rf"{ids} = (:v\d+)", params["ConditionExpression"])
    assert guard is not None
    assert values[guard.group(1)] == L("a", "b")
    assert item.pending_changes == []


def test_a_failed_guard_raises_concurrent_modification_and_keeps_the_changes() -> None:
    changed = {**STORED, "ids": L("a", "b", "theirs")}
    recorder = Recorder(STORED, fail=changed)
    item = read_doc(recorder)
    item.append_to_listfield(Doc.ids, ["c"])
    item.remove_by_index_from_listfield(Doc.ids, 0)
    queued = item.pending_changes
    with pytest.raises(ConcurrentModification) as raised:
        item.commit_changes(connection=connected(recorder))
    assert raised.value.attributes == ("ids",)
    assert "Doc {'name': 'd'}: ids changed since the item was read" in str(raised.value)
    assert item.pending_changes == queued


def test_a_failed_modify_condition_is_not_called_a_concurrent_modification() -> None:
    recorder = Recorder(STORED, fail=STORED)  # the guarded list is as read
    item = read_doc(recorder)
    item.append_to_listfield(Doc.ids, ["c"])
    item.remove_by_index_from_listfield(Doc.ids, 0)
    item.set_modify_conditions(Doc.score.eq(2))
    with pytest.raises(ConditionalCheckFailed) as raised:
        item.commit_changes(connection=connected(recorder))
    assert type(raised.value) is ConditionalCheckFailed


def test_a_key_only_item_raises_when_queued_and_sends_nothing() -> None:
    recorder = Recorder(STORED)
    item = Doc(name="d")
    item.append_to_listfield(Doc.ids, ["c"])
    with pytest.raises(UpdateConflict, match=re.escape("Doc: append(ids) and set(ids[1])")):
        item.replace_by_index_in_listfield(Doc.ids, 1, "B")
    item.commit_changes(connection=connected(recorder))
    ((operation, params),) = recorder.requests
    assert operation == "UpdateItem"
    assert "ConditionExpression" not in params
    assert "list_append" in params["UpdateExpression"]


def test_concurrent_modification_is_public() -> None:
    assert issubclass(ConcurrentModification, ConditionalCheckFailed)
    assert "ConcurrentModification" in dynamodb.__all__
    assert dynamodb.exceptions.ConcurrentModification is ConcurrentModification


def test_an_attribute_a_projection_did_not_read_whole_is_never_computed() -> None:
    partial = Doc._from_wire(dict(STORED), partial=True)  # read with a projection
    partial.append_to_listfield(Doc.ids, ["c"])
    with pytest.raises(UpdateConflict, match=re.escape("or read ids too (the item was read")):
        partial.remove_by_index_from_listfield(Doc.ids, 0)
    # nor is a map it did not read taken as missing: its keys are set one by one
    partial.update_to_dict_field(Doc.doc, {"a": 1})
    assert [str(action.path) for action in partial.pending_changes] == ["ids", "doc.a"]
