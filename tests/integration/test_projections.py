"""Projected reads against DynamoDB Local: nested paths, partial items, versions.

- Nested paths as projections (the AWS tutorial's Query02 projects ``#yr, title,
  info.genres, info.actors[0]``) in query, scan, get and batch_get; the instance
  holds exactly what was read.
- Saving a partial item never deletes what was not read: a dirty save sends only
  its changes, inside the paths read; ``save(full=True)`` (and any other way of
  putting it whole) is refused before any request.
- A projection of a model with a VersionField reads the version too, so the
  partial item can be saved, updated and deleted, and version conflicts are still
  caught (issue: "expected version None, found 1" forever).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dynamodb import (
    CharField,
    Connection,
    DictField,
    IntegerField,
    Model,
    PartialItemError,
    ProjectionError,
    Transaction,
    VersionConflict,
    VersionField,
)
from tests.integration.helpers import RecordingConnection

Tables = Callable[..., None]


class Movie(Model):
    """The tutorial's Movies table: year and title as the key, the rest in ``info``."""

    __table_name__ = "test_projection_movies"

    year = IntegerField(hash_key=True)
    title = CharField(range_key=True)
    info = DictField()
    studio = CharField(required=True)
    note = CharField()


RUSH_INFO: dict[str, Any] = {
    "genres": ["Action", "Biography", "Drama", "Sport"],
    "actors": ["Daniel Bruhl", "Chris Hemsworth", "Olivia Wilde"],
    "plot": "A re-creation of the merciless 1970s rivalry.",
    "rating": 83,
    "directors": ["Ron Howard"],
}
MOVIES: list[dict[str, Any]] = [
    {"year": 2013, "title": "Rush", "info": RUSH_INFO, "studio": "Universal", "note": "n1"},
    {
        "year": 2013,
        "title": "Prisoners",
        "info": {
            "genres": ["Crime", "Drama"],
            "actors": ["Hugh Jackman", "Jake Gyllenhaal"],
            "plot": "A father takes matters into his own hands.",
            "rating": 82,
        },
        "studio": "Alcon",
        "note": "n2",
    },
    {
        "year": 2013,
        "title": "Zero Dark",
        "info": {"plot": "no genres, no actors"},
        "studio": "Sony",
    },
    {
        "year": 1992,
        "title": "A River Runs Through It",
        "info": {"genres": ["Drama"], "actors": ["Brad Pitt", "Craig Sheffer"], "rating": 7},
        "studio": "Columbia",
    },
]


def expected_partial(movie: dict[str, Any]) -> dict[str, Any] | None:
    """What Query02's projection reads of a movie: genres and the first actor (None:
    nothing of ``info``, which DynamoDB then leaves out)."""
    info = movie["info"]
    out: dict[str, Any] = {}
    if "genres" in info:
        out["genres"] = info["genres"]
    if "actors" in info:
        out["actors"] = info["actors"][:1]
    return out or None


TUTORIAL_PATHS = (Movie.title, Movie.info["genres"], Movie.info["actors"][0])


def stored(year: int, title: str) -> Movie:
    item = Movie.get(year=year, title=title, consistent=True)
    assert item is not None
    return item


@pytest.fixture
def movies(tables: Tables) -> list[dict[str, Any]]:
    tables(Movie)
    Movie.batch_write(MOVIES)
    return MOVIES


def resolved(params: dict[str, Any], part: str) -> str:
    """An expression with its #name placeholders written out."""
    text = str(params[part])
    names = params.get("ExpressionAttributeNames", {})
    for placeholder in sorted(names, key=len, reverse=True):
        text = text.replace(placeholder, names[placeholder])
    return text


# -- reading nested paths -----------------------------------------------------------------


def test_query_with_the_tutorials_nested_projection(
    movies: list[dict[str, Any]], recording: RecordingConnection
) -> None:
    query = Movie.query(*TUTORIAL_PATHS).where(Movie.year.eq(2013), Movie.title.between("A", "S"))
    items = query.using(recording).all()
    [(operation, params)] = recording.sent
    assert operation == "Query"
    assert resolved(params, "ProjectionExpression") == "year, title, info.genres, info.actors[0]"
    assert [item.title for item in items] == ["Prisoners", "Rush"]
    for item in items:
        movie = next(m for m in movies if m["title"] == item.title)
        assert item.info == expected_partial(movie)
        assert item.studio is None
        assert item.note is None
    rush = items[1]
    assert rush.info == {"genres": RUSH_INFO["genres"], "actors": ["Daniel Bruhl"]}


def test_scan_get_and_batch_get_with_nested_projections(movies: list[dict[str, Any]]) -> None:
    scanned = Movie.scan(*TUTORIAL_PATHS).where(Movie.year.eq(1992)).all()
    assert [(item.title, item.info) for item in scanned] == [
        ("A River Runs Through It", {"genres": ["Drama"], "actors": ["Brad Pitt"]})
    ]
    got = Movie.get(year=2013, title="Rush", projections=[Movie.info["actors"][1], "note"])
    assert got is not None
    assert (got.year, got.title, got.note) == (2013, "Rush", "n1")
    assert got.studio is None
    assert got.info == {"actors": ["Chris Hemsworth"]}
    by_name = Movie.get(year=2013, title="Rush", projections=["info.plot", "info.rating"])
    assert by_name is not None
    assert by_name.info == {"plot": RUSH_INFO["plot"], "rating": 83}
    keys = [{"year": m["year"], "title": m["title"]} for m in movies]
    batch = Movie.batch_get(*keys, projections=TUTORIAL_PATHS)
    assert {(item.year, item.title): item.info for item in batch} == {
        (m["year"], m["title"]): expected_partial(m) for m in movies
    }
    assert all(item.studio is None for item in batch)
    # a path and a path inside it are one path (DynamoDB refuses overlapping paths)
    whole = Movie.get(year=2013, title="Rush", projections=[Movie.info["genres"], Movie.info])
    assert whole is not None
    assert whole.info == RUSH_INFO


async def test_async_get_and_batch_get_with_nested_projections(
    movies: list[dict[str, Any]], aconnection: Connection
) -> None:
    got = await Movie.aget(year=2013, title="Prisoners", projections=[Movie.info["genres"][1]])
    assert got is not None
    assert got.info == {"genres": ["Drama"]}
    found = await Movie.abatch_get(
        {"year": 2013, "title": "Rush"}, projections=[Movie.info["actors"][2]]
    )
    assert [item.info for item in found] == [{"actors": ["Olivia Wilde"]}]
    items = [item async for item in Movie.query(Movie.info["rating"]).where(Movie.year.eq(2013))]
    assert [item.info for item in items] == [
        {"rating": 82},
        {"rating": 83},
        None,  # Zero Dark has no rating: nothing of info was read
    ]


def test_projections_name_fields_and_paths_of_the_model(movies: list[dict[str, Any]]) -> None:
    class Other(Model):
        __table_name__ = "test_projection_other"
        key = CharField(hash_key=True)
        info = DictField()

    with pytest.raises(ProjectionError, match=r"Movie\.query"):
        Movie.query(Other.info["genres"])
    with pytest.raises(ProjectionError, match=r"Movie\.get"):
        Movie.get(year=2013, title="Rush", projections=["nope.genres"])
    with pytest.raises(ProjectionError, match=r"Movie\.batch_get"):
        Movie.batch_get({"year": 2013, "title": "Rush"}, projections=[Other.key])
    with pytest.raises(TypeError, match="projections"):
        Movie.get(year=2013, title="Rush", projections="title")


# -- saving partial items -----------------------------------------------------------------


def read_rush(recording: Connection | None = None) -> Movie:
    query = Movie.query(*TUTORIAL_PATHS).where(Movie.year.eq(2013), Movie.title.eq("Rush"))
    item = query.using(recording).first()
    assert item is not None
    return item


def test_dirty_save_of_a_partial_item_keeps_what_was_not_read(
    movies: list[dict[str, Any]], recording: RecordingConnection
) -> None:
    rush = read_rush()
    rush.info["genres"].append("History")
    rush.info["actors"][0] = "Daniel Brühl"
    rush.info["budget"] = 38_000_000  # a key that was not read: set on its own
    rush.note = "changed"  # a top-level attribute that was not read
    rush.save(connection=recording)
    [(operation, params)] = recording.sent
    assert operation == "UpdateItem"
    assert resolved(params, "UpdateExpression").startswith("SET ")
    assert sorted(resolved(params, "UpdateExpression")[4:].split(", ")) == [
        "info.actors[0] = :v1",
        "info.budget = :v2",
        "info.genres = :v0",
        "note = :v3",
    ]
    after = stored(2013, "Rush")
    assert after.info == {
        **RUSH_INFO,
        "genres": [*RUSH_INFO["genres"], "History"],
        "actors": ["Daniel Brühl", *RUSH_INFO["actors"][1:]],
        "budget": 38_000_000,
    }
    assert (after.studio, after.note) == ("Universal", "changed")
    # the save answered with the whole item: the instance is whole now
    assert rush == after
    rush.studio = "Universal Pictures"
    rush.save(full=True)
    assert stored(2013, "Rush").studio == "Universal Pictures"


def test_removing_a_key_that_was_read_removes_only_that_path(
    movies: list[dict[str, Any]],
) -> None:
    rush = read_rush()
    del rush.info["genres"]
    rush.save()
    assert stored(2013, "Rush").info == {
        key: value for key, value in RUSH_INFO.items() if key != "genres"
    }
    unchanged = read_rush()
    unchanged.save()  # nothing changed: nothing to send, nothing lost
    assert stored(2013, "Rush").info["plot"] == RUSH_INFO["plot"]


def test_top_level_projection_saves_without_the_required_fields_it_did_not_read(
    movies: list[dict[str, Any]], recording: RecordingConnection
) -> None:
    item = Movie.query(Movie.note).where(Movie.year.eq(2013), Movie.title.eq("Prisoners")).first()
    assert item is not None
    assert item.studio is None  # required, but not read
    item.note = None  # read, and now gone: removed
    item.save(connection=recording)
    [(_, params)] = recording.sent
    assert resolved(params, "UpdateExpression") == "REMOVE note"
    after = stored(2013, "Prisoners")
    assert (after.studio, after.note, after.info) == ("Alcon", None, MOVIES[1]["info"])
    again = Movie.query(Movie.studio).where(Movie.year.eq(2013)).first()
    assert again is not None
    again.studio = None  # a required field that was read cannot be cleared
    with pytest.raises(ValueError, match="studio"):
        again.save()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: setattr(m, "info", None), "is now None"),
        (lambda m: m.info["actors"].append("Natalie Dormer"), "list lengths"),
        (lambda m: m.info.__setitem__("actors", {"lead": "x"}), "read as a list"),
        (lambda m: setattr(m, "info", {"genres": ["x"]}), "is now None"),
    ],
    ids=["info cleared", "list grew", "list became a map", "actors dropped"],
)
def test_changes_outside_the_paths_read_are_refused_before_sending(
    movies: list[dict[str, Any]],
    recording: RecordingConnection,
    change: Callable[[Movie], None],
    reason: str,
) -> None:
    rush = read_rush()
    change(rush)
    with pytest.raises(PartialItemError, match=reason) as raised:
        rush.save(connection=recording)
    assert "Movie {'year': 2013, 'title': 'Rush'}" in str(raised.value)
    assert recording.sent == []
    assert stored(2013, "Rush").info == RUSH_INFO


def test_partial_items_are_never_put_whole(
    movies: list[dict[str, Any]], recording: RecordingConnection
) -> None:
    rush = read_rush()
    with pytest.raises(PartialItemError, match=r"info\.genres, info\.actors\[0\]") as raised:
        rush.save(full=True, connection=recording)
    assert "save() without full=True sends only the changes" in str(raised.value)
    with pytest.raises(PartialItemError):
        Movie.batch_write([rush], connection=recording)
    with pytest.raises(PartialItemError):
        rush.condition(Movie.note.exists()).save(full=True, connection=recording)
    with pytest.raises(PartialItemError):
        Transaction(connection=recording).put(rush)
    moved = read_rush()
    moved.title = "Rush (2013)"  # a new key would be a put of the partial item
    with pytest.raises(PartialItemError):
        moved.save(connection=recording)
    assert recording.sent == []
    assert stored(2013, "Rush").info == RUSH_INFO
    assert Movie.get(year=2013, title="Rush (2013)") is None


# -- projections and the version field ----------------------------------------------------


class Issue(Model):
    """The issue's multi-tenant tracker: issues with a version field."""

    __table_name__ = "test_projection_issues"
    __secondary_indexes__ = {  # noqa: RUF012
        "by_assignee": {"hash_key": "assignee", "projections": ["title"]},
        "by_status": {"hash_key": "status", "projections": ["title", "version"]},
    }

    project_key = CharField(hash_key=True)
    issue_id = CharField(range_key=True)
    title = CharField(required=True)
    status = CharField()
    assignee = CharField()
    votes = IntegerField()
    version = VersionField()


@pytest.fixture
def issues(tables: Tables) -> None:
    tables(Issue)
    for number in range(3):
        Issue(
            project_key="acme#partial",
            issue_id=f"i{number}",
            title=f"issue {number}",
            status="open",
            assignee="ann",
        ).save()


def projected_first() -> Issue:
    item = Issue.query(Issue.title).where(Issue.project_key.eq("acme#partial")).first()
    assert item is not None
    return item


def stored_issue(issue_id: str) -> Issue | None:
    return Issue.get(project_key="acme#partial", issue_id=issue_id, consistent=True)


@pytest.mark.usefixtures("issues")
def test_the_issues_projected_delete_now_works(recording: RecordingConnection) -> None:
    query = Issue.query(Issue.title).where(Issue.project_key.eq("acme#partial"))
    item = query.using(recording).first()
    assert item is not None
    assert (item.title, item.version) == ("issue 0", 1)
    assert item.status is None
    assert "version" in resolved(recording.sent[0][1], "ProjectionExpression").split(", ")
    item.delete()
    assert stored_issue("i0") is None


@pytest.mark.usefixtures("issues")
def test_projected_items_save_and_update_with_their_version() -> None:
    item = projected_first()
    item.title = "renamed"
    item.save()
    assert item.version == 2
    after = stored_issue("i0")
    assert after is not None
    assert (after.title, after.status, after.assignee, after.version) == (
        "renamed",
        "open",
        "ann",
        2,
    )
    again = projected_first()
    again.update(Issue.votes.add(3))
    after = stored_issue("i0")
    assert after is not None
    assert (after.votes, after.version, after.title) == (3, 3, "renamed")


@pytest.mark.usefixtures("issues")
def test_a_concurrent_change_still_raises_version_conflict() -> None:
    stale = projected_first()
    other = stored_issue("i0")
    assert other is not None
    other.status = "closed"
    other.save()  # version 2 now
    with pytest.raises(VersionConflict, match="expected version 1, found 2"):
        stale.delete()
    stale.title = "lost update"
    with pytest.raises(VersionConflict):
        stale.save()
    with pytest.raises(VersionConflict):
        stale.update(Issue.votes.add(1))
    fresh = projected_first()  # reading again (with the same projection) is enough
    fresh.delete()
    assert stored_issue("i0") is None


@pytest.mark.usefixtures("issues")
def test_get_scan_and_batch_get_projections_read_the_version() -> None:
    got = Issue.get(project_key="acme#partial", issue_id="i1", projections=[Issue.status])
    assert got is not None
    assert (got.status, got.version) == ("open", 1)
    assert got.title is None
    got.delete()
    [scanned] = Issue.scan(Issue.title).where(Issue.issue_id.eq("i2")).all()
    assert scanned.version == 1
    [batch] = Issue.batch_get(
        {"project_key": "acme#partial", "issue_id": "i0"}, projections=["title"]
    )
    assert batch.version == 1
    scanned.title = "scanned"
    scanned.save()
    batch.delete()
    assert stored_issue("i0") is None
    after = stored_issue("i2")
    assert after is not None
    assert (after.title, after.version, after.assignee) == ("scanned", 2, "ann")


@pytest.mark.usefixtures("issues")
def test_global_index_reads_without_the_version_cannot_write(
    recording: RecordingConnection,
) -> None:
    keys_only = Issue.query(Issue.title).where(Issue.assignee.eq("ann")).first()
    assert keys_only is not None
    assert keys_only.version is None  # by_assignee does not project it
    with pytest.raises(PartialItemError, match="without its version field version"):
        keys_only.delete(connection=recording)
    keys_only.title = "x"
    with pytest.raises(PartialItemError, match="requery_for_all_projections"):
        keys_only.save(connection=recording)
    assert recording.sent == []
    with_version = Issue.query(Issue.title).where(Issue.status.eq("open")).first()
    assert with_version is not None
    assert with_version.version == 1  # by_status projects it: read along
    with_version.delete()
    assert len(Issue.query().where(Issue.project_key.eq("acme#partial")).all()) == 2
