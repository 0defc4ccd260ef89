"""Typos on instances: ``issue.titel = "x"`` raises instead of vanishing.

Assigning a public name that the class does not know (not a field, an
association, a property or any other class attribute) raises UnknownAttribute,
an AttributeError (and a TypeError, like the constructor's UnknownField) that
names the model's fields. Names starting with ``_`` stay free for the
instance's own state.
"""

from __future__ import annotations

from typing import Any

import pytest

from dynamodb import (
    CharField,
    DynamoDBError,
    IntegerField,
    Model,
    UnknownAttribute,
    UnknownField,
    belongs_to,
)


class AttrUser(Model):
    __table_name__ = "unit_attr_users"

    name = CharField(hash_key=True)


class AttrIssue(Model):
    __table_name__ = "unit_attr_issues"

    project_key = CharField(hash_key=True)
    issue_id = CharField(range_key=True)
    title = CharField()
    votes = IntegerField(default=0)
    reporter = belongs_to(AttrUser)

    page_size = 20  # a plain class attribute

    @property
    def headline(self) -> str:
        return f"{self.issue_id}: {self.title}"

    @headline.setter
    def headline(self, value: str) -> None:
        self.issue_id, _, self.title = value.partition(": ")


def issue() -> AttrIssue:
    return AttrIssue(project_key="acme#web", issue_id="i-1", title="first")


def test_a_typo_raises_an_attribute_error_naming_the_fields() -> None:
    item = issue()

    with pytest.raises(UnknownAttribute) as caught:
        item.titel = "x"

    error = caught.value
    assert isinstance(error, AttributeError)
    assert isinstance(error, UnknownField)
    assert isinstance(error, TypeError)
    assert isinstance(error, DynamoDBError)
    assert str(error).startswith(
        "AttrIssue has no field 'titel' to set (it would never be saved) (did you mean "
        "'title'?); AttrIssue's fields are ['issue_id', 'project_key', 'reporter_id', "
        "'title', 'votes']"
    )
    assert "a name starting with '_'" in str(error)
    assert error.name == "titel"
    assert error.obj is item
    assert item.title == "first"
    assert "titel" not in vars(item)


def test_setattr_refuses_the_same_way() -> None:
    item = issue()
    with pytest.raises(AttributeError, match="has no field 'colour'"):
        setattr(item, "colour", "red")  # noqa: B010


def test_fields_are_assigned_and_checked_as_before() -> None:
    item = issue()
    item.title = "second"
    item.votes = 3
    assert (item.title, item.votes) == ("second", 3)
    with pytest.raises(ValueError, match=r"AttrIssue\.votes: 'many' is not valid"):
        item.votes = "many"  # type: ignore[assignment]


def test_private_names_stay_free() -> None:
    item = issue()
    item._data = dict(item._data)
    item._original = None
    item._pending = None
    item._association_cache = {}
    setattr(item, "_my_note", "kept")  # noqa: B010 (a name the class does not declare)
    assert vars(item)["_my_note"] == "kept"


def test_properties_class_attributes_and_associations_are_assignable() -> None:
    item = issue()
    item.headline = "i-2: renamed"
    assert (item.issue_id, item.title) == ("i-2", "renamed")

    item.page_size = 50  # shadows the class attribute on this instance
    assert item.page_size == 50
    assert AttrIssue.page_size == 20

    user = AttrUser(name="ann")
    item.reporter = user
    assert item.reporter is user
    assert item.to_dict()["reporter_id"] == "ann"  # the foreign key the association added
    item.reporter = None
    assert item.to_dict()["reporter_id"] is None


def test_items_read_from_the_wire_and_subclasses_behave_the_same() -> None:
    class Bug(AttrIssue):
        __table_name__ = "unit_attr_bugs"
        severity = IntegerField()

    read = Bug._from_wire(
        {"project_key": {"S": "p"}, "issue_id": {"S": "b"}, "severity": {"N": "2"}}
    )
    read.severity = 3
    read.title = "found"
    with pytest.raises(UnknownAttribute, match=r"Bug has no field 'severty'.*'severity'"):
        read.severty = 1
    assert read.to_dict()["severity"] == 3


def test_an_unknown_name_in_a_subclass_init_is_refused_too() -> None:
    class Noted(Model):
        __table_name__ = "unit_attr_noted"
        pk = CharField(hash_key=True)

        def __init__(self, **values: Any) -> None:
            super().__init__(**values)
            self._note = "private: fine"
            self.note = "public: refused"

    with pytest.raises(UnknownAttribute, match="Noted has no field 'note'"):
        Noted(pk="a")
