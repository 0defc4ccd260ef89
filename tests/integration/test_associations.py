"""Associations against DynamoDB Local: belongs_to, has_many, has_one, has_and_belongs_to_many.

Every kind is exercised from both sides, with hash-only and hash+range
(composite) keys on both the owner and the target:

==========  ===============  ====================  ============================
owner       key              association           target (key)
==========  ===============  ====================  ============================
AUser       name             posts (cascade)       APost (blog, num)
AUser       name             notes (nullify)       ANote (nid), ordered by created
AUser       name             profile, has_one      AProfile (pid), custom fk
AForum      (section, num)   threads (leave)       AThread (tid)
AForum      (section, num)   posts (nullify)       APost (blog, num)
AForum      (section, num)   charter, has_one      ACharter (section, edition)
APost       (blog, num)      tags, many-to-many    ATag (label)
==========  ===============  ====================  ============================

Requests are counted with a :class:`CountingConnection`: a real Connection
whose ``send``/``asend`` (our own methods) also note the operation. Nothing is
mocked; every request reaches DynamoDB Local.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    AssociationNotLoaded,
    CharField,
    ConditionalCheckFailed,
    Connection,
    IntegerField,
    Model,
    ModelDefinitionError,
    SetField,
    Table,
    belongs_to,
    has_and_belongs_to_many,
    has_many,
    has_one,
)
from dynamodb.models.associations import BelongsTo

# -- models ------------------------------------------------------------------------------------
# Several refer to each other by name (defined later in the module), others by class.


class AUser(Model):
    __table_name__ = "test_associations_user"

    name = CharField(hash_key=True)
    email = CharField()

    posts = has_many("APost", inverse="user", on_delete="cascade")
    notes = has_many("ANote", on_delete="nullify")
    profile = has_one("AProfile", on_delete="nullify")


class AForum(Model):
    __table_name__ = "test_associations_forum"

    section = CharField(hash_key=True)
    num = IntegerField(range_key=True)
    title = CharField()

    threads = has_many("AThread")
    posts = has_many("APost", inverse="forum", on_delete="nullify")
    charter = has_one("ACharter", on_delete="cascade")


class APost(Model):
    __table_name__ = "test_associations_post"

    blog = CharField(hash_key=True)
    num = IntegerField(range_key=True)
    title = CharField()
    # The link attributes, declared for type checkers (the associations reuse them);
    # ANote and AThread leave theirs to the association.
    user_id = CharField()
    forum_id = CharField()
    tags_keys = SetField(of=str)

    user = belongs_to(AUser)
    forum: BelongsTo[AForum] = belongs_to("AForum")
    tags = has_and_belongs_to_many("ATag")


class ANote(Model):
    __table_name__ = "test_associations_note"

    nid = CharField(hash_key=True)
    text = CharField()
    created = IntegerField(default=0)

    user = belongs_to(AUser, order_by="created")


class AThread(Model):
    __table_name__ = "test_associations_thread"

    tid = CharField(hash_key=True)
    subject = CharField()

    forum = belongs_to(AForum)


class AProfile(Model):
    __table_name__ = "test_associations_profile"

    pid = CharField(hash_key=True)
    bio = CharField()
    user_key = CharField()

    owner = belongs_to(AUser, foreign_key="user_key")


class ACharter(Model):
    __table_name__ = "test_associations_charter"

    section = CharField(hash_key=True)
    edition = IntegerField(range_key=True)
    text = CharField()

    forum = belongs_to(AForum, index_name="charter_forum")


class ATag(Model):
    __table_name__ = "test_associations_tag"

    label = CharField(hash_key=True)
    post_keys = SetField(of=str)

    posts = has_and_belongs_to_many(APost, attribute="post_keys")


MODELS: tuple[type[Model], ...] = (AUser, AForum, APost, ANote, AThread, AProfile, ACharter, ATag)


# -- fixtures ----------------------------------------------------------------------------------


class CountingConnection(Connection):
    """A real Connection that also notes each request it sends (operation, params)."""

    def __init__(self, base: Connection) -> None:
        super().__init__(
            endpoint_url=base.endpoint_url,
            region_name=base.region_name,
            aws_access_key_id=base.aws_access_key_id,
            aws_secret_access_key=base.aws_secret_access_key,
        )
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((operation, params))
        return super().send(operation, params)

    async def asend(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((operation, params))
        return await super().asend(operation, params)

    def take(self) -> list[str]:
        """The operations sent since the last take()."""
        operations = [operation for operation, _ in self.sent]
        self.sent.clear()
        return operations


@pytest.fixture(scope="module")
def association_tables(connection: Connection) -> Iterator[None]:
    """Every table of this module, created once (tests use keys of their own)."""
    for model in MODELS:
        dynamodb.create_table(model, force=True)
    yield
    for model in MODELS:
        dynamodb.delete_table(model)


@pytest.fixture
def uid(association_tables: None) -> str:
    """A prefix for this test's keys, so tests sharing the tables never meet."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def counter(connection: Connection) -> Iterator[CountingConnection]:
    """A counting connection, made the default for the test."""
    counting = CountingConnection(connection)
    with dynamodb.use_connection(counting):
        yield counting
    counting.close()


@pytest.fixture
async def acounter(connection: Connection) -> AsyncIterator[CountingConnection]:
    """The same for async tests (its async client is closed afterwards)."""
    counting = CountingConnection(connection)
    with dynamodb.use_connection(counting):
        yield counting
    await counting.aclose()
    counting.close()


def labels(tags: list[ATag]) -> set[str]:
    return {tag.label for tag in tags}


# -- storage -----------------------------------------------------------------------------------


def test_create_table_makes_a_gsi_on_each_foreign_key(association_tables: None) -> None:
    def indexes(model: type[Model]) -> dict[str, Any]:
        info = Table(model).info()
        return {
            index["IndexName"]: (
                [(key["AttributeName"], key["KeyType"]) for key in index["KeySchema"]],
                index["Projection"]["ProjectionType"],
            )
            for index in info.get("GlobalSecondaryIndexes", [])
        }

    assert indexes(APost) == {
        "user_id_index": ([("user_id", "HASH")], "ALL"),
        "forum_id_index": ([("forum_id", "HASH")], "ALL"),
    }
    assert indexes(ANote) == {"user_id_index": ([("user_id", "HASH"), ("created", "RANGE")], "ALL")}
    assert indexes(AProfile) == {"user_key_index": ([("user_key", "HASH")], "ALL")}
    assert indexes(ACharter) == {"charter_forum": ([("forum_id", "HASH")], "ALL")}
    # has_many / has_one store nothing on the owner; many-to-many stores a set, no index.
    assert indexes(AUser) == {}
    assert indexes(AForum) == {}
    assert indexes(ATag) == {}
    # The link attributes are ordinary fields of the models.
    assert {"user_id", "forum_id", "tags_keys"} <= set(APost._meta.fields)
    assert "post_keys" in ATag._meta.fields


def test_owner_keys_are_stored_as_tokens(uid: str) -> None:
    user = AUser.create(name=f"{uid}-u")
    forum = AForum.create(section=f"{uid}-s", num=3)
    post = APost(blog=f"{uid}-b", num=1)
    post.user = user
    post.forum = forum
    post.save()

    stored = APost.get(blog=f"{uid}-b", num=1)
    assert stored is not None
    assert stored.user_id == f"{uid}-u"  # hash-only key: its text
    assert stored.forum_id == f'["{uid}-s","3"]'  # hash+range key: compact JSON of both parts

    tag = ATag.create(label=f"{uid}-t")
    stored.tags.add(tag)
    assert ATag.get(label=f"{uid}-t") == tag
    assert tag.post_keys == {f'["{uid}-b","1"]'}
    fresh = APost.get(blog=f"{uid}-b", num=1)
    assert fresh is not None
    assert fresh.tags_keys == {f"{uid}-t"}


# -- belongs_to ---------------------------------------------------------------------------------


def test_belongs_to_loads_the_owner_with_one_getitem_and_caches_it(
    uid: str, counter: CountingConnection
) -> None:
    alice = AUser.create(name=f"{uid}-alice", email="a@example.com")
    bob = AUser.create(name=f"{uid}-bob", email="b@example.com")
    post = APost(blog=f"{uid}-b", num=1, title="hello")
    post.user = alice
    post.save()
    fresh = APost.get(blog=f"{uid}-b", num=1)
    assert fresh is not None
    counter.take()

    owner = fresh.user
    assert owner == alice
    assert owner is not None
    assert owner.email == "a@example.com"
    assert counter.take() == ["GetItem"]
    assert fresh.user is owner  # cached
    assert fresh.user is owner
    assert counter.take() == []

    # The cache follows the foreign key: change it and the next read loads the new owner.
    fresh.user_id = bob.name
    assert fresh.user == bob
    assert counter.take() == ["GetItem"]

    # No owner: None without a request.
    orphan = APost.create(blog=f"{uid}-b", num=2, title="alone")
    counter.take()
    assert orphan.user is None
    assert counter.take() == []

    # An owner that does not exist (any more): None, after one GetItem, then cached.
    dangling = APost.create(blog=f"{uid}-b", num=3, user_id=f"{uid}-nobody")
    counter.take()
    assert dangling.user is None
    assert dangling.user is None
    assert counter.take() == ["GetItem"]


def test_belongs_to_composite_owner(uid: str, counter: CountingConnection) -> None:
    forum = AForum.create(section=f"{uid}-s", num=7, title="Seven")
    AForum.create(section=f"{uid}-s", num=8, title="Eight")  # same hash key, other range key
    thread = AThread(tid=f"{uid}-t", subject="hi")
    thread.forum = forum
    thread.save()
    fresh = AThread.get(tid=f"{uid}-t")
    assert fresh is not None
    counter.take()
    assert fresh.forum == forum
    assert fresh.forum is not None
    assert fresh.forum.title == "Seven"
    assert counter.take() == ["GetItem"]


def test_assigning_the_owner_then_save(uid: str, counter: CountingConnection) -> None:
    user = AUser.create(name=f"{uid}-u")
    forum = AForum.create(section=f"{uid}-s", num=1)
    post = APost(blog=f"{uid}-b", num=1, title="t")
    counter.take()

    post.user = user
    post.forum = forum
    assert counter.take() == []  # assigning sends nothing
    assert post.user is user  # and caches the owner
    assert post.user_id == user.name
    post.save()
    assert counter.take() == ["PutItem"]

    stored = APost.get(blog=f"{uid}-b", num=1)
    assert stored is not None
    assert stored.user == user
    assert stored.forum == forum
    assert [p.num for p in user.posts] == [1]
    assert [p.num for p in forum.posts] == [1]

    # Moving the post to another owner is another assignment and save.
    other = AUser.create(name=f"{uid}-other")
    stored.user = other
    stored.forum = None
    assert stored.forum is None
    stored.save()
    assert user.posts.count() == 0
    assert [p.num for p in other.posts] == [1]
    assert forum.posts.count() == 0
    again = APost.get(blog=f"{uid}-b", num=1)
    assert again is not None
    assert again.user == other
    assert again.forum_id is None

    with pytest.raises(TypeError, match=r"APost\.user takes a AUser"):
        stored.user = forum


# -- has_many ------------------------------------------------------------------------------------


def test_has_many_collection_reads_and_writes(uid: str, counter: CountingConnection) -> None:
    user = AUser.create(name=f"{uid}-u")
    other = AUser.create(name=f"{uid}-other")
    blog = f"{uid}-b"
    counter.take()
    assert user.posts.count() == 0
    assert user.posts.first() is None
    assert user.posts.all() == []
    assert counter.take() == ["Query", "Query", "Query"]

    # create(): a new child, linked and stored with one PutItem.
    first = user.posts.create(blog=blog, num=1, title="apple")
    assert counter.take() == ["PutItem"]
    assert first.user is user
    assert APost.get(blog=blog, num=1) == first
    counter.take()

    # add(): an unsaved item is put, a stored one updated (only its foreign key).
    second = user.posts.add(APost(blog=blog, num=2, title="banana"))
    assert counter.take() == ["PutItem"]
    stored = APost.create(blog=blog, num=3, title="avocado")
    counter.take()
    assert user.posts.add(stored) is stored
    assert counter.take() == ["UpdateItem"]
    assert stored.user_id == user.name

    assert user.posts.count() == 3
    assert sorted(p.num for p in user.posts) == [1, 2, 3]
    assert sorted(p.num for p in user.posts.all()) == [1, 2, 3]
    first_found = user.posts.first()
    assert first_found is not None
    assert first_found.user_id == user.name
    assert sorted(p.num for p in user.posts.where(APost.title.begins_with("a"))) == [1, 3]
    assert user.posts.where(APost.title.eq("banana")).first() == second
    assert user.posts.query().count() == 3
    assert other.posts.count() == 0

    # add() of a child of another owner moves it.
    moved = other.posts.add(second)
    assert moved.user_id == other.name
    assert [p.num for p in other.posts] == [2]
    assert sorted(p.num for p in user.posts) == [1, 3]

    # remove(): the foreign key is removed; the child stays.
    counter.take()
    user.posts.remove(first)
    assert counter.take() == ["UpdateItem"]
    assert first.user_id is None
    assert first.user is None
    unlinked = APost.get(blog=blog, num=1)
    assert unlinked is not None
    assert unlinked.user_id is None
    assert unlinked.title == "apple"
    assert [p.num for p in user.posts] == [3]


def test_remove_refuses_a_child_of_another_owner(uid: str, counter: CountingConnection) -> None:
    user = AUser.create(name=f"{uid}-u")
    other = AUser.create(name=f"{uid}-other")
    post = other.posts.create(blog=f"{uid}-b", num=1)
    counter.take()

    with pytest.raises(ValueError, match="is not one of"):
        user.posts.remove(post)
    assert counter.take() == []  # refused before any request
    assert post.user_id == other.name

    # In memory it looks like ours, but in DynamoDB it moved: the conditional write fails.
    stale = APost.get(blog=f"{uid}-b", num=1)
    assert stale is not None
    other.posts.remove(post)
    with pytest.raises(ConditionalCheckFailed):
        other.posts.remove(stale)
    # The failed remove changed nothing, in DynamoDB or in memory.
    assert stale.user_id == other.name
    assert [p.num for p in other.posts] == []


def test_add_rejects_items_of_another_model(uid: str) -> None:
    user = AUser.create(name=f"{uid}-u")
    with pytest.raises(TypeError, match="posts holds APost items"):
        user.posts.add(ANote(nid=f"{uid}-n"))


def test_has_many_of_a_composite_owner(uid: str, counter: CountingConnection) -> None:
    forum = AForum.create(section=f"{uid}-s", num=1, title="one")
    neighbour = AForum.create(section=f"{uid}-s", num=2, title="two")  # same hash key
    for index in range(3):
        forum.threads.create(tid=f"{uid}-t{index}", subject=f"subject {index}")
    neighbour.threads.create(tid=f"{uid}-n", subject="next door")
    forum.posts.create(blog=f"{uid}-b", num=1, title="in forum one")

    counter.take()
    assert forum.threads.count() == 3
    assert counter.take() == ["Query"]
    assert sorted(t.tid for t in forum.threads) == [f"{uid}-t{i}" for i in range(3)]
    assert [t.tid for t in neighbour.threads.all()] == [f"{uid}-n"]
    assert [t.tid for t in forum.threads.where(AThread.subject.eq("subject 1"))] == [f"{uid}-t1"]
    assert [p.title for p in forum.posts] == ["in forum one"]
    assert neighbour.posts.count() == 0

    thread = AThread.get(tid=f"{uid}-t0")
    assert thread is not None
    neighbour.threads.add(thread)
    assert forum.threads.count() == 2
    assert neighbour.threads.count() == 2
    neighbour.threads.remove(thread)
    assert neighbour.threads.count() == 1
    refreshed = AThread.get(tid=f"{uid}-t0")
    assert refreshed is not None
    assert refreshed.to_dict()["forum_id"] is None


def test_has_many_through_an_ordered_index(uid: str) -> None:
    user = AUser.create(name=f"{uid}-u")
    for created in (30, 10, 20):
        user.notes.create(nid=f"{uid}-n{created}", text=f"note {created}", created=created)
    assert [note.created for note in user.notes] == [10, 20, 30]
    first = user.notes.first()
    assert first is not None
    assert first.created == 10
    assert [n.created for n in user.notes.where(ANote.created.gt(10))] == [20, 30]


# -- has_one --------------------------------------------------------------------------------------


def test_has_one_both_key_kinds(uid: str, counter: CountingConnection) -> None:
    user = AUser.create(name=f"{uid}-u")
    forum = AForum.create(section=f"{uid}-s", num=1)
    counter.take()
    assert user.profile is None
    assert counter.take() == ["Query"]
    assert user.profile is None  # cached
    assert counter.take() == []

    profile = AProfile(pid=f"{uid}-p", bio="hello")
    profile.owner = user
    profile.save()
    charter = ACharter(section=f"{uid}-s", edition=1, text="rules")
    charter.forum = forum
    charter.save()

    fresh_user = AUser.get(name=f"{uid}-u")
    fresh_forum = AForum.get(section=f"{uid}-s", num=1)
    assert fresh_user is not None
    assert fresh_forum is not None
    counter.take()
    assert fresh_user.profile == profile
    assert fresh_user.profile is fresh_user.profile
    assert counter.take() == ["Query"]
    assert fresh_forum.charter == charter
    assert counter.take() == ["Query"]

    # The other way round: the belongs_to side.
    fresh_profile = AProfile.get(pid=f"{uid}-p")
    assert fresh_profile is not None
    assert fresh_profile.user_key == user.name
    assert fresh_profile.owner == user

    # load() reloads and caches.
    assert fresh_user.load("profile") == profile
    with pytest.raises(AttributeError, match=r"read-only.*AProfile\.owner"):
        fresh_user.profile = profile


# -- many-to-many ------------------------------------------------------------------------------


def test_many_to_many_both_sides(uid: str, counter: CountingConnection) -> None:
    post = APost.create(blog=f"{uid}-b", num=1, title="p")
    other_post = APost.create(blog=f"{uid}-b", num=2, title="q")
    red = ATag.create(label=f"{uid}-red")
    blue = ATag.create(label=f"{uid}-blue")
    counter.take()

    post.tags.add(red)
    # One transaction changes both sides (then both are read back in one TransactGetItems).
    assert counter.take() == ["TransactWriteItems", "TransactGetItems"]
    post.tags.add(blue)
    blue.posts.add(other_post)  # from the other side
    counter.take()

    # In memory both sides are up to date; count() needs no request.
    assert post.tags.count() == 2
    assert blue.posts.count() == 2
    assert red.posts.count() == 1
    assert counter.take() == []

    assert labels(post.tags.all()) == {red.label, blue.label}
    assert counter.take() == ["BatchGetItem"]
    assert labels(list(post.tags)) == {red.label, blue.label}  # cached
    assert counter.take() == []
    assert sorted(p.num for p in blue.posts) == [1, 2]
    assert [t.label for t in other_post.tags] == [blue.label]

    # Stored on both sides.
    stored_red = ATag.get(label=red.label)
    stored_post = APost.get(blog=f"{uid}-b", num=1)
    assert stored_red is not None
    assert stored_post is not None
    assert [p.num for p in stored_red.posts] == [1]
    assert labels(stored_post.tags.all()) == {red.label, blue.label}

    # Removing from either side unlinks both.
    stored_red.posts.remove(stored_post)
    assert stored_red.posts.count() == 0
    assert stored_post.tags.count() == 1
    again_post = APost.get(blog=f"{uid}-b", num=1)
    again_red = ATag.get(label=red.label)
    assert again_post is not None
    assert again_red is not None
    assert [t.label for t in again_post.tags] == [blue.label]
    assert again_red.posts.all() == []

    with pytest.raises(TypeError, match="tags holds ATag items"):
        post.tags.add(other_post)


async def test_many_to_many_with_200_links(uid: str, acounter: CountingConnection) -> None:
    hub = await APost.acreate(blog=f"{uid}-b", num=0, title="hub")
    tags = await ATag.abatch_write([{"label": f"{uid}-{index:03}"} for index in range(200)])
    for tag in tags[:100]:
        await hub.tags.aadd(tag)
    for tag in tags[100:]:
        await tag.posts.aadd(hub)
    all_labels = {tag.label for tag in tags}

    fresh = await APost.aget(blog=f"{uid}-b", num=0)
    assert fresh is not None
    acounter.take()
    assert fresh.tags.count() == 200
    assert acounter.take() == []
    linked = await fresh.tags.aall()
    assert labels(linked) == all_labels
    assert len(linked) == 200
    batches = [params for operation, params in acounter.sent if operation == "BatchGetItem"]
    assert [op for op, _ in acounter.sent] == ["BatchGetItem", "BatchGetItem"]
    table = ATag._meta.require_table().table_name
    assert sorted(len(p["RequestItems"][table]["Keys"]) for p in batches) == [100, 100]
    acounter.take()
    assert labels([tag async for tag in fresh.tags]) == all_labels  # cached
    assert acounter.take() == []

    # Every tag points back at the hub.
    stored_tags = await ATag.abatch_get(*({"label": label} for label in sorted(all_labels)))
    assert len(stored_tags) == 200
    assert all(tag.post_keys == {f'["{uid}-b","0"]'} for tag in stored_tags)
    assert all(tag.posts.count() == 1 for tag in stored_tags)

    # Remove 20 links, half from each side.
    removed = tags[90:110]
    for tag in removed[:10]:
        await hub.tags.aremove(tag)
    for tag in removed[10:]:
        await tag.posts.aremove(hub)
    kept = all_labels - {tag.label for tag in removed}
    assert hub.tags.count() == 180
    assert all(tag.posts.count() == 0 for tag in removed)

    again = await APost.aget(blog=f"{uid}-b", num=0)
    assert again is not None
    assert again.tags.count() == 180
    assert labels(await again.tags.aall()) == kept
    for tag in await ATag.abatch_get(*({"label": t.label} for t in removed)):
        assert tag.post_keys == set()
        assert await tag.posts.aall() == []

    # Eager loading: one BatchGetItem per 100 keys of the page.
    acounter.take()
    page = await APost.query().where(APost.blog.eq(f"{uid}-b")).prefetch("tags").aall()
    assert acounter.take() == ["Query", "BatchGetItem", "BatchGetItem"]
    assert [p.num for p in page] == [0]
    assert labels(page[0].tags.all()) == kept
    assert acounter.take() == []


# -- deleting owners ---------------------------------------------------------------------------


def test_deleting_a_user_cascades_and_nullifies(uid: str) -> None:
    user = AUser.create(name=f"{uid}-u")
    keep = AUser.create(name=f"{uid}-keep")
    tag = ATag.create(label=f"{uid}-t")
    for num in (1, 2):
        post = user.posts.create(blog=f"{uid}-b", num=num)
        post.tags.add(tag)
    kept_post = keep.posts.create(blog=f"{uid}-b", num=3)
    kept_post.tags.add(tag)
    for index in (1, 2):
        user.notes.create(nid=f"{uid}-n{index}", text="note")
    profile = AProfile(pid=f"{uid}-p")
    profile.owner = user
    profile.save()

    user.delete()

    assert AUser.get(name=user.name) is None
    # posts: cascade (and the deleted posts' many-to-many links are removed too)
    assert APost.get(blog=f"{uid}-b", num=1) is None
    assert APost.get(blog=f"{uid}-b", num=2) is None
    assert APost.get(blog=f"{uid}-b", num=3) == kept_post
    stored_tag = ATag.get(label=tag.label)
    assert stored_tag is not None
    assert stored_tag.post_keys == {f'["{uid}-b","3"]'}
    assert [p.num for p in stored_tag.posts] == [3]
    # notes: nullify
    for index in (1, 2):
        note = ANote.get(nid=f"{uid}-n{index}")
        assert note is not None
        assert note.to_dict()["user_id"] is None
        assert note.text == "note"
    # profile (has_one): nullify
    stored_profile = AProfile.get(pid=f"{uid}-p")
    assert stored_profile is not None
    assert stored_profile.user_key is None
    assert stored_profile.owner is None


def test_deleting_a_composite_owner_cascades_nullifies_or_leaves(uid: str) -> None:
    forum = AForum.create(section=f"{uid}-s", num=1)
    user = AUser.create(name=f"{uid}-u")
    for index in (1, 2):
        forum.threads.create(tid=f"{uid}-t{index}")
    charter = ACharter(section=f"{uid}-s", edition=1, text="rules")
    charter.forum = forum
    charter.save()
    post = forum.posts.create(blog=f"{uid}-b", num=1)
    user.posts.add(post)

    forum.delete()

    assert AForum.get(section=f"{uid}-s", num=1) is None
    # threads: on_delete=None leaves them pointing at the missing forum
    for index in (1, 2):
        thread = AThread.get(tid=f"{uid}-t{index}")
        assert thread is not None
        assert thread.to_dict()["forum_id"] == f'["{uid}-s","1"]'
        assert thread.forum is None
    # charter (has_one): cascade
    assert ACharter.get(section=f"{uid}-s", edition=1) is None
    # posts: nullify; the post's other link is kept
    stored = APost.get(blog=f"{uid}-b", num=1)
    assert stored is not None
    assert stored.forum_id is None
    assert stored.user_id == user.name


def test_deleting_either_side_of_a_many_to_many_unlinks(uid: str) -> None:
    post = APost.create(blog=f"{uid}-b", num=1)
    tags = [ATag.create(label=f"{uid}-{index}") for index in range(3)]
    for tag in tags:
        post.tags.add(tag)
    other = APost.create(blog=f"{uid}-b", num=2)
    other.tags.add(tags[0])

    tags[1].delete()
    stored_post = APost.get(blog=f"{uid}-b", num=1)
    assert stored_post is not None
    assert stored_post.tags_keys == {tags[0].label, tags[2].label}

    post.delete()
    stored_tags = ATag.batch_get({"label": tags[0].label}, {"label": tags[2].label})
    assert [tag.post_keys for tag in stored_tags] == [{f'["{uid}-b","2"]'}, set()]


async def test_async_delete_cascades(uid: str, acounter: CountingConnection) -> None:
    user = await AUser.acreate(name=f"{uid}-u")
    for num in (1, 2, 3):
        await user.posts.acreate(blog=f"{uid}-b", num=num)
    await user.adelete()
    assert await APost.query().where(APost.blog.eq(f"{uid}-b")).acount() == 0


# -- async twins -------------------------------------------------------------------------------


async def test_async_collections(uid: str, acounter: CountingConnection) -> None:
    user = await AUser.acreate(name=f"{uid}-u", email="u@example.com")
    other = await AUser.acreate(name=f"{uid}-other")
    blog = f"{uid}-b"
    created = await user.posts.acreate(blog=blog, num=1, title="one")
    assert created.user_id == user.name
    await user.posts.aadd(APost(blog=blog, num=2, title="two"))
    stray = await other.posts.acreate(blog=blog, num=3, title="three")

    assert await user.posts.acount() == 2
    assert sorted([p.num async for p in user.posts]) == [1, 2]
    assert sorted(p.num for p in await user.posts.aall()) == [1, 2]
    first = await user.posts.afirst()
    assert first is not None
    assert first.user_id == user.name
    assert [p.num for p in await user.posts.where(APost.num.gt(1)).aall()] == [2]

    with pytest.raises(ValueError, match="is not one of"):
        await user.posts.aremove(stray)
    await user.posts.aremove(created)
    assert [p.num async for p in user.posts] == [2]
    assert (await APost.aget(blog=blog, num=1)) is not None

    # aload(): load and cache any association; reading it afterwards sends nothing.
    post = await APost.aget(blog=blog, num=2)
    assert post is not None
    acounter.take()
    owner = await post.aload("user")
    assert owner == user
    assert acounter.take() == ["GetItem"]
    assert post.user is owner
    assert post.user is not None
    assert post.user.email == "u@example.com"
    assert acounter.take() == []

    children = await user.aload("posts")
    assert [p.num for p in children] == [2]
    acounter.take()
    assert user.posts.count() == 1
    assert [p.num async for p in user.posts] == [2]
    assert await user.posts.acount() == 1
    assert acounter.take() == []

    profile = AProfile(pid=f"{uid}-p")
    profile.owner = user
    await profile.asave()
    assert await user.aload("profile") == profile
    acounter.take()
    assert user.profile == profile
    assert acounter.take() == []

    tag = await ATag.acreate(label=f"{uid}-t")
    await post.tags.aadd(tag)
    assert [t.label async for t in post.tags] == [tag.label]
    assert [p.num for p in await tag.posts.aall()] == [2]
    await tag.posts.aremove(post)
    assert await post.tags.aall() == []
    assert post.tags.count() == 0


# -- eager loading -----------------------------------------------------------------------------


def _fifty_posts_of_ten_users(uid: str) -> tuple[list[AUser], str]:
    users = AUser.batch_write([{"name": f"{uid}-u{index}"} for index in range(10)])
    blog = f"{uid}-b"
    APost.batch_write(
        [{"blog": blog, "num": num, "user_id": users[num % 10].name} for num in range(50)]
    )
    return users, blog


def test_prefetch_belongs_to_is_one_batch_get(uid: str, counter: CountingConnection) -> None:
    _, blog = _fifty_posts_of_ten_users(uid)
    counter.take()

    posts = APost.query().where(APost.blog.eq(blog)).prefetch("user").all()
    assert counter.take() == ["Query", "BatchGetItem"]
    assert len(posts) == 50
    for post in posts:
        assert post.user is not None
        assert post.user.name == f"{uid}-u{post.num % 10}"
    assert counter.take() == []

    # Without prefetch: one GetItem per post (each caches its own owner).
    lazy = APost.query().where(APost.blog.eq(blog)).all()
    assert [post.user.name for post in lazy if post.user] == [p.user_id for p in lazy]
    assert counter.take() == ["Query"] + ["GetItem"] * 50
    assert all(post.user is not None for post in lazy)
    assert counter.take() == []

    # Per page: one query and one batch get each.
    paged = APost.query().where(APost.blog.eq(blog)).page_size(20).prefetch("user").all()
    assert counter.take() == ["Query", "BatchGetItem"] * 3
    assert [post.user.name for post in paged if post.user] == [p.user_id for p in paged]
    assert counter.take() == []


async def test_prefetch_belongs_to_async(uid: str, acounter: CountingConnection) -> None:
    users, blog = _fifty_posts_of_ten_users(uid)
    acounter.take()
    posts = await APost.query().where(APost.blog.eq(blog)).prefetch("user").aall()
    assert acounter.take() == ["Query", "BatchGetItem"]
    assert {post.user.name for post in posts if post.user} == {user.name for user in users}
    assert acounter.take() == []


def test_prefetch_has_many_is_one_query_per_owner(uid: str, counter: CountingConnection) -> None:
    _fifty_posts_of_ten_users(uid)
    AUser.create(name=f"{uid}-z-lonely")
    counter.take()

    found = AUser.scan().where(AUser.name.begins_with(uid)).prefetch("posts").all()
    assert len(found) == 11
    assert counter.take() == ["Scan"] + ["Query"] * 11
    for user in found:
        digit = user.name[-1]
        expected = [] if digit == "y" else [n for n in range(50) if n % 10 == int(digit)]
        assert user.posts.count() == len(expected)
        assert sorted(post.num for post in user.posts.all()) == expected
        assert sorted(post.num for post in user.posts) == expected
        # first(): the first of the cached list (the index has no range key: any order)
        assert user.posts.first() == (user.posts.all()[0] if expected else None)
    assert counter.take() == []
    # A filtered read is a new query.
    third = next(user for user in found if user.name == f"{uid}-u3")
    assert sorted(post.num for post in third.posts.where(APost.num.lt(20))) == [3, 13]
    assert counter.take() == ["Query"]


async def test_prefetch_has_many_async(uid: str, acounter: CountingConnection) -> None:
    _fifty_posts_of_ten_users(uid)
    acounter.take()
    found = await AUser.scan().where(AUser.name.begins_with(uid)).prefetch("posts").aall()
    assert acounter.take() == ["Scan"] + ["Query"] * 10
    assert [await user.posts.acount() for user in found] == [5] * 10
    assert [len(await user.posts.aall()) for user in found] == [5] * 10
    assert acounter.take() == []


def test_prefetch_several_associations_of_a_composite_owner(
    uid: str, counter: CountingConnection
) -> None:
    section = f"{uid}-s"
    forums = [AForum.create(section=section, num=num) for num in range(3)]
    for forum in forums[:2]:
        forum.threads.create(tid=f"{uid}-t{forum.num}")
        charter = ACharter(section=section, edition=forum.num, text=f"rules {forum.num}")
        charter.forum = forum
        charter.save()
    counter.take()

    found = AForum.query().where(AForum.section.eq(section)).prefetch("threads", "charter").all()
    assert counter.take() == ["Query"] + ["Query"] * 3 + ["Query"] * 3
    assert [[t.tid for t in forum.threads] for forum in found] == [
        [f"{uid}-t0"],
        [f"{uid}-t1"],
        [],
    ]
    assert [forum.charter.text if forum.charter else None for forum in found] == [
        "rules 0",
        "rules 1",
        None,
    ]
    assert counter.take() == []

    threads = AThread.scan().where(AThread.tid.begins_with(uid)).prefetch("forum").all()
    assert counter.take() == ["Scan", "BatchGetItem"]
    assert sorted((t.forum.num if t.forum else -1) for t in threads) == [0, 1]
    assert counter.take() == []


def test_prefetch_of_an_unknown_association(association_tables: None) -> None:
    with pytest.raises(ValueError, match="APost has no association 'writer'"):
        APost.query().prefetch("writer")
    with pytest.raises(AttributeError, match="APost has no association 'writer'"):
        APost(blog="b", num=1).load("writer")


# -- definitions -------------------------------------------------------------------------------


def test_models_can_refer_to_each_other_by_name(association_tables: None) -> None:
    assert AUser.posts.target is APost
    assert APost.user.target is AUser
    assert AForum.threads.target is AThread
    assert APost.tags.target is ATag
    assert ATag.posts.target is APost


def test_an_unknown_target_name_is_reported_when_used() -> None:
    class AssocOrphan(Model):
        __table_name__ = "test_associations_orphan"

        oid = CharField(hash_key=True)
        parent: BelongsTo[Model] = belongs_to("AssocNoSuchModel")
        children = has_many("AssocNoSuchChild")

    orphan = AssocOrphan(oid="o", parent_id="p")  # defining and building it works
    with pytest.raises(
        ModelDefinitionError, match=r"AssocOrphan\.parent: no model named 'AssocNoSuchModel'"
    ):
        _ = orphan.parent
    with pytest.raises(ModelDefinitionError, match=r"AssocOrphan\.children: no model named"):
        orphan.children.count()


def test_an_ambiguous_inverse_is_reported() -> None:
    class AssocWriter(Model):
        __table_name__ = "test_associations_writer"

        wid = CharField(hash_key=True)
        articles = has_many("AssocArticle")
        edited = has_many("AssocArticle", inverse="editor")

    class AssocArticle(Model):
        __table_name__ = "test_associations_article"

        aid = CharField(hash_key=True)
        author = belongs_to(AssocWriter)
        editor = belongs_to(AssocWriter)

    writer = AssocWriter(wid="w")
    with pytest.raises(
        ModelDefinitionError,
        match=r"AssocWriter\.articles: AssocArticle needs exactly one belongs_to .*"
        r"found 2.*inverse=",
    ):
        writer.articles.count()
    # Naming the inverse settles it (no request needed to see which index is read).
    assert writer.edited.query().explain()["IndexName"] == "editor_id_index"


def test_a_many_to_many_declared_on_one_side_only_is_reported() -> None:
    class AssocLonelyTag(Model):
        __table_name__ = "test_associations_lonely_tag"

        name = CharField(hash_key=True)

    class AssocOneSided(Model):
        __table_name__ = "test_associations_one_sided"

        name = CharField(hash_key=True)
        tags = has_and_belongs_to_many(AssocLonelyTag)

    with pytest.raises(ModelDefinitionError, match="needs exactly one has_and_belongs_to_many"):
        AssocOneSided(name="x").tags.add(AssocLonelyTag(name="t"))


def test_linking_an_unsaved_item_many_to_many_is_refused_before_sending(
    uid: str, counter: CountingConnection
) -> None:
    post = APost.create(blog=f"{uid}-b", num=1, title="p")
    counter.take()
    with pytest.raises(ValueError, match="before linking it"):
        post.tags.add(ATag(label=f"{uid}-unsaved"))
    assert counter.take() == []
    assert ATag.get(label=f"{uid}-unsaved") is None


def test_a_redefined_model_replaces_the_old_one_for_string_targets() -> None:
    """A notebook cell run twice (or a reloaded module) leaves one target, the latest."""

    def define() -> type[Model]:
        class AssocTwin(Model):
            __table_name__ = f"test_associations_twin_{uuid.uuid4().hex[:6]}"

            name = CharField(hash_key=True)

        return AssocTwin

    first = define()
    second = define()

    class AssocPointer(Model):
        __table_name__ = "test_associations_pointer"

        name = CharField(hash_key=True)
        twin: BelongsTo[Model] = belongs_to("AssocTwin")

    assert AssocPointer.twin.target is second
    assert AssocPointer.twin.target is not first


def test_two_models_with_one_name_in_two_modules_are_reported() -> None:
    def define(module: str) -> type[Model]:
        class AssocElsewhere(Model):
            __module__ = module
            __table_name__ = f"test_associations_elsewhere_{uuid.uuid4().hex[:6]}"

            name = CharField(hash_key=True)

        return AssocElsewhere

    define("app.billing")
    crm = define("app.crm")

    class AssocPointer(Model):
        __module__ = "app.other"
        __table_name__ = "test_associations_pointer"

        name = CharField(hash_key=True)
        twin: BelongsTo[Model] = belongs_to("AssocElsewhere")
        dotted: BelongsTo[Model] = belongs_to("app.crm.AssocElsewhere")

    with pytest.raises(
        ModelDefinitionError,
        match=re.escape(
            "several models are named 'AssocElsewhere' "
            "(app.billing.AssocElsewhere, app.crm.AssocElsewhere)"
        ),
    ):
        _ = AssocPointer(name="p", twin_id="x").twin
    assert AssocPointer.dotted.target is crm


def test_bad_on_delete_is_refused_at_definition() -> None:
    with pytest.raises(
        ModelDefinitionError, match="on_delete must be None, 'cascade' or 'nullify'"
    ):
        has_many("APost", on_delete="delete")


# -- lazy loading and the event loop ------------------------------------------------------------


async def test_a_lazy_read_inside_an_event_loop_is_refused_with_the_async_way(
    uid: str, acounter: CountingConnection
) -> None:
    alice = await AUser.acreate(name=f"{uid}-alice")
    post = APost(blog=f"{uid}-b", num=1, title="hello")
    post.user = alice
    await post.asave()
    fresh = await APost.aget(blog=f"{uid}-b", num=1)
    assert fresh is not None
    acounter.take()

    with pytest.raises(
        AssociationNotLoaded,
        match=re.escape(
            "APost.user is not loaded, and loading it here would block the running event "
            "loop: await item.aload('user') first"
        ),
    ):
        _ = fresh.user
    with pytest.raises(AssociationNotLoaded, match=re.escape("AUser.profile is not loaded")):
        _ = alice.profile
    assert acounter.take() == []  # nothing was sent

    assert await fresh.aload("user") == alice
    assert fresh.user == alice  # the cache answers without a request
    assert acounter.take() == ["GetItem"]


def test_a_lazy_read_outside_an_event_loop_still_loads(
    uid: str, counter: CountingConnection
) -> None:
    alice = AUser.create(name=f"{uid}-alice")
    post = APost.create(blog=f"{uid}-b", num=1, user_id=alice.name)
    counter.take()
    assert post.user == alice
    assert counter.take() == ["GetItem"]
