"""Cursors against DynamoDB Local: bound to their query, encrypted under a secret.

The issue's reproduction: a cursor of project ``web`` given to the same query for
project ``bulk`` reached DynamoDB ("The provided starting key does not match the
range key predicate"). It must raise InvalidCursor with no request sent. With a
cursor secret, the same paging works with encrypted cursors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from dynamodb import (
    CharField,
    Connection,
    Cursor,
    IntegerField,
    InvalidCursor,
    Model,
    Query,
    set_cursor_secret,
)
from tests.integration.helpers import RecordingConnection

Tables = Callable[..., None]


class TenantIssue(Model):
    __table_name__ = "test_cursor_binding_issues"

    project_key = CharField(hash_key=True)
    issue_id = CharField(range_key=True)
    votes = IntegerField()


PROJECTS = ("acme#web", "acme#bulk")


@pytest.fixture
def issues(tables: Tables) -> None:
    tables(TenantIssue)
    TenantIssue.batch_write(
        {"project_key": project, "issue_id": f"i{number:02d}", "votes": number}
        for project in PROJECTS
        for number in range(10)
    )


@pytest.fixture
def secret() -> Iterator[None]:
    set_cursor_secret("integration secret: long and random in real use")
    yield
    set_cursor_secret(None)


def project(name: str) -> Query[TenantIssue]:
    return TenantIssue.query().where(TenantIssue.project_key.eq(name)).limit(3)


def ids(items: list[TenantIssue]) -> list[str]:
    return [item.issue_id for item in items]


def first_cursor() -> Cursor:
    _, cursor = project("acme#web").get_items()
    assert cursor is not None
    return cursor


def refused_without_sending(query: Query[TenantIssue], recording: RecordingConnection) -> None:
    query = query.using(recording)
    for read in (query.get_items, query.first, query.all, query.count):
        with pytest.raises(InvalidCursor, match="another table, index, key condition or filter"):
            read()
    assert recording.sent == []


@pytest.mark.usefixtures("issues")
def test_the_issues_cursor_of_another_project_is_refused_before_sending(
    recording: RecordingConnection,
) -> None:
    cursor = first_cursor()
    refused_without_sending(project("acme#bulk").start_key(cursor), recording)
    # and a cursor with another filter, or one passed through JSON to another query
    filtered = project("acme#web").where(TenantIssue.votes.gt(1)).start_key(cursor)
    refused_without_sending(filtered, recording)
    text = json.loads(json.dumps({"next": cursor}))["next"]
    refused_without_sending(project("acme#bulk").start_key_str(text), recording)


@pytest.mark.usefixtures("issues")
def test_the_same_query_continues_from_its_cursor() -> None:
    cursor = first_cursor()
    items, _ = project("acme#web").start_key(cursor).get_items()
    assert ids(items) == ["i03", "i04", "i05"]
    # another page size, or backwards from the same position, is still this query
    more = project("acme#web").limit(None).page_size(2).start_key(cursor).all()
    assert ids(more) == [f"i{n:02d}" for n in range(3, 10)]
    before = project("acme#web").order_by(TenantIssue.issue_id, asc=False).start_key(cursor)
    assert ids(before.all()) == ["i01", "i00"]


@pytest.mark.usefixtures("issues", "secret")
def test_encrypted_cursors_page_through_and_stay_bound(recording: RecordingConnection) -> None:
    seen: list[str] = []
    cursor: Cursor | None = None
    while True:
        items, cursor = project("acme#web").start_key(cursor).get_items()
        seen.extend(ids(items))
        if cursor is None:
            break
        assert cursor.startswith("e1.")
        assert "acme" not in cursor
    assert seen == [f"i{n:02d}" for n in range(10)]
    encrypted = first_cursor()
    refused_without_sending(project("acme#bulk").start_key(encrypted), recording)
    set_cursor_secret("another secret")
    refused_without_sending(project("acme#web").start_key(encrypted), recording)


@pytest.mark.usefixtures("issues")
async def test_async_readers_refuse_another_querys_cursor(
    recording: RecordingConnection, aconnection: Connection
) -> None:
    cursor = first_cursor()
    query = project("acme#bulk").start_key(cursor).using(recording)
    with pytest.raises(InvalidCursor):
        await query.aget_items()
    with pytest.raises(InvalidCursor):
        await query.aall()
    assert recording.sent == []
    items, _ = await project("acme#web").start_key(cursor).aget_items()
    assert ids(items) == ["i03", "i04", "i05"]
    await recording.aclose()
