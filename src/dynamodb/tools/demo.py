"""A walkthrough of the dynamodb-py and dynamix READMEs and the main features, step by step.

``python -m dynamodb demo`` runs it on moto's threaded server (the ``local``
extra: a real HTTP endpoint on a free loopback port, inside this process, with
no Java), or on the endpoint in ``$DYNAMODB_ENDPOINT`` (DynamoDB Local, say)
when that is set. Every step runs on either, the async twins included (they
need the ``async`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import dynamodb
from dynamodb import (
    CharField,
    Collection,
    CompressedField,
    ConcurrentModification,
    ConditionalCheckFailed,
    Connection,
    DateTimeField,
    DecryptionError,
    DictField,
    EncryptedField,
    FieldValidationError,
    FloatField,
    IntegerField,
    ItemAlreadyExists,
    ListField,
    MissingDependency,
    Model,
    SetField,
    Table,
    TTLField,
    Typed,
    UniqueViolation,
    UpdateConflict,
    VersionConflict,
    VersionField,
    create_table,
)
from dynamodb.core import operations
from dynamodb.core.flow import call
from dynamodb.encryption import StaticKeys, reencrypt
from dynamodb.testing.servers import MotoServer

__all__ = ["Account", "ForumThread", "Patient", "Test", "main", "run"]


class Test(Model):
    """The model of the dynamodb-py README."""

    __table_name__ = "test"

    ReadCapacityUnits = 100
    WriteCapacityUnits = 120

    name = CharField(name="name", hash_key=True)
    score = IntegerField(name="score", range_key=True)
    order_score = FloatField(name="order_score", default=0.0)
    date = DateTimeField(name="date")
    ids = ListField(name="ids", default=[])
    doc = DictField(name="doc", default={})


def _now_millis() -> int:
    return int(time.time() * 1000)


class Account(Model):
    """A model with optimistic locking, for the tour beyond the two READMEs."""

    __table_name__ = "demo_account"

    id = CharField(hash_key=True)
    balance = IntegerField(default=0, minimum=0)
    version = VersionField()


class ForumThread(Model):
    """The "full featured model" of the dynamix README."""

    __table_name__ = "forum_thread"

    ReadCapacityUnits = 2
    WriteCapacityUnits = 2

    __secondary_indexes__ = {  # noqa: RUF012 (the dynamix README's spelling)
        "user_threads_index": dict(  # noqa: C408
            hash_key="user_id",
            range_key="updated_at",
            read_capacity=2,
            write_capacity=2,
            projections=["title"],
        ),
    }

    forum_id = CharField(name="forum_id", hash_key=True)
    thread_id = CharField(name="thread_id", range_key=True)
    user_id = CharField(name="user_id")
    title = CharField(name="title")
    description = CharField(name="description")
    updated_at = IntegerField(name="updated_at", default=_now_millis, indexed=True)
    expiry_timestamp = IntegerField(
        name="expiry_timestamp", indexed=True, projections=["updated_at"]
    )
    tags = SetField(name="tags")
    user_reviews = ListField(name="user_reviews", default=[])
    key_value_data = DictField(name="key_value_data")


Printer = Callable[[str], None]


class _Walkthrough:
    def __init__(self, out: Printer, run_async: bool) -> None:
        self.out = out
        self.run_async = run_async
        self.count = 0

    def step(self, title: str, result: Any = None) -> None:
        self.count += 1
        self.out(f"\n[{self.count}] {title}")
        if result is not None:
            self.out(f"    -> {result}")

    def show(self, label: str, value: Any) -> None:
        self.out(f"    {label}: {value}")


def _table_summary(description: dict[str, Any]) -> str:
    keys = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in description["KeySchema"])
    indexes = [
        f"{index['IndexName']} [{index['Projection']['ProjectionType']}]"
        for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
        for index in description.get(kind, [])
    ]
    text = f"{description['TableName']} {description['TableStatus']}, keys: {keys}"
    return text + (f", indexes: {', '.join(indexes)}" if indexes else "")


def _seed_dynamodb_py(walk: _Walkthrough) -> None:
    walk.out("\n== The dynamodb-py README, as written ==")
    now = dt.datetime.now(dt.timezone.utc)
    table = Table(Test())
    walk.step("Table(Test()).create()", _table_summary(table.create()))
    walk.step("Table(Test()).info()", _table_summary(table.info()))

    Test(name="gs", score=100, order_score=99.99, date=now).save()
    walk.step("Test(name='gs', ...).save(); Test.get(name='gs', score=100)")
    walk.show("got", Test.get(name="gs", score=100))

    Test.create(name="gs1", score=100, order_score=99.99, date=now)
    Test.create(name="gs4", score=100, order_score=99.99, date=now, ids=[1, 2, 3])
    Test.create(name="gs5", score=100, order_score=99.99, date=now, doc={"a": 1.1})
    item1 = Test.get(name="gs1", score=100)
    assert item1 is not None
    walk.step("Test.create(...) x3, then item1 = Test.get(name='gs1', score=100)")
    walk.show("item1.name, item1.ids, item1.doc", (item1.name, item1.ids, item1.doc))
    item5 = Test.get(name="gs5", score=100)
    assert item5 is not None
    walk.show("gs5's doc (numbers stay exact)", item5.doc)

    Test.create(name="gs6", score=100, order_score=99.99, date=now, ids=[1, 2, 4, 101])
    item6 = Test.get(name="gs6", score=100)
    assert item6 is not None
    item6.delete()
    walk.step("item6.delete(); Test.get(name='gs6', score=100)", Test.get(name="gs6", score=100))

    try:
        Test(name="gs7", score="a lot")
    except FieldValidationError as error:
        walk.step("Test(name='gs7', score='a lot') is refused before any request", error)

    walk.step("Test.item_count(exact=True)", Test.item_count(exact=True))
    walk.step("Test.get(name='gs4', score=100).to_son() -> json.dumps")
    item4 = Test.get(name="gs4", score=100)
    assert item4 is not None
    walk.show("json", json.dumps(item4.to_son()))
    walk.step("Table(Test()).update() (no change: no request)", table.update()["TableStatus"])

    items = [
        {"name": "gs7", "score": 90, "order_score": 90, "date": now},
        {"name": "gs7", "score": 90, "order_score": 90, "date": now},
        {"name": "gs8", "score": 91, "order_score": 91, "date": now, "doc": {"a": 4}},
        {"name": "gs9", "score": 92, "order_score": 92, "date": now, "ids": [9]},
    ]
    written = Test.batch_write(items, overwrite=True)
    walk.step("Test.batch_write(items, overwrite=True) (gs7 twice: the last wins)", len(written))
    item8 = Test.get(name="gs8", score=91)
    assert item8 is not None
    walk.show(
        "item8.name, item8.ids, item8.doc, item8.score",
        (item8.name, item8.ids, item8.doc, item8.score),
    )
    primary_keys = [
        {"name": "gs8", "score": 91},
        {"name": "gs9", "score": 92},
        {"name": "gs9", "score": 99},
    ]
    walk.step("Test.batch_get(*primary_keys) (gs9/99 does not exist: skipped)")
    for got in Test.batch_get(*primary_keys):
        walk.show(
            "name, score, order_score, type(doc)",
            (got.name, got.score, got.order_score, type(got.doc)),
        )
    walk.step("Table(Test()).delete()", table.delete())


def _seed_dynamix(walk: _Walkthrough) -> None:
    walk.out("\n== The dynamix README, as written ==")
    with _dynamix_connection(walk):
        _dynamix_walk(walk)


def _host_and_port(endpoint: str | None) -> tuple[str, str] | None:
    """``("127.0.0.1", "8000")`` for ``http://127.0.0.1:8000``; None for anything else."""
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        return None
    if parts.path.strip("/") or parts.query:
        return None
    return parts.hostname, str(parts.port)


@contextlib.contextmanager
def _dynamix_connection(walk: _Walkthrough) -> Iterator[None]:
    """The README's connection line, as written (the host and port are the server's).

    On a server at ``http://host:port`` (DynamoDB Local, moto's threaded server)
    the section runs through the connection it makes; on anything else it is
    only shown. Either way the connection in effect before is back afterwards.
    """
    current = dynamodb.get_connection()
    served = _host_and_port(current.endpoint_url)
    host, port = served or ("127.0.0.1", "8000")
    with dynamodb.use_connection(current):  # the README's set_connection stays in this block
        seed = dynamodb.set_connection(
            is_local_endpoint=(host, port),
            aws_access_key_id="*",
            aws_secret_access_key="*",
            region_name="ap-south-1",
        )
        walk.step(
            f"dynamodb.set_connection(is_local_endpoint=({host!r}, {port!r}), "
            "aws_access_key_id='*', aws_secret_access_key='*', region_name='ap-south-1')",
            f"{seed!r}, access key id sent: {seed.aws_access_key_id!r} "
            "(DynamoDB Local takes only letters and digits)",
        )
        if served is None:
            walk.show("not used here", "the demo's server is not at http://host:port")
            with dynamodb.use_connection(current):
                yield
            return
        try:
            yield
        finally:
            seed.close()


def _dynamix_walk(walk: _Walkthrough) -> None:
    walk.step("create_table(ForumThread, force=True)")
    walk.show("table", _table_summary(create_table(ForumThread, force=True)))

    thread = ForumThread.create(
        forum_id="science",
        thread_id="physics_1",
        title="gravitational field of a blackhole",
        description="equations and more",
        tags={"physics", "gravity"},
        user_id="me",
        key_value_data={"a": 1, "b": 2},
    )
    walk.step("ForumThread.create(forum_id='science', thread_id='physics_1', ...)", thread)
    try:
        ForumThread.create(forum_id="science", thread_id="physics_1", overwrite=False)
    except ItemAlreadyExists as error:
        walk.step("the same key with overwrite=False", f"ItemAlreadyExists: {error.message}")

    found = ForumThread.get(forum_id="science", thread_id="physics_1")
    walk.step("ForumThread.get(forum_id='science', thread_id='physics_1')", found)
    assert found is not None
    _dynamix_queries(walk)
    found = _dynamix_updates(walk, found)
    walk.step("forum_thread.to_son()", json.dumps(found.to_son(), sort_keys=True))
    walk.step("ForumThread.scan() (every item, page by page)", len(ForumThread.scan().all()))

    async def read_async() -> ForumThread | None:
        try:
            return await ForumThread.aget(forum_id="science", thread_id="physics_1")
        finally:
            await dynamodb.aclose()

    if walk.run_async:
        walk.step("await ForumThread.aget(...) (the async twin)", asyncio.run(read_async()))
    else:
        walk.step(
            "(async twins skipped: aiobotocore is not installed: pip install 'dynamodb-py[async]')"
        )
    walk.step("Table(ForumThread).delete()", Table(ForumThread).delete())


def _dynamix_queries(walk: _Walkthrough) -> None:
    ForumThread.batch_write(
        [
            {
                "forum_id": "science",
                "thread_id": f"physics_{number}",
                "title": "Physics",
                "description": "some description ....",
                "user_id": "some_new_user_id",
                "updated_at": 1_000 + number,
            }
            for number in range(2, 100)
        ]
    )
    walk.step("ForumThread.batch_write([...98 threads...])", ForumThread.item_count(exact=True))

    where = (ForumThread.forum_id.eq("science"), ForumThread.thread_id.begins_with("physics_"))
    threads, cursor = ForumThread.query().limit(10).where(*where).get_items()
    walk.step("threads, cursor = ForumThread.query().where(...).limit(10).get_items()")
    walk.show("first page", [thread.thread_id for thread in threads])
    assert cursor is not None
    walk.show("cursor (an opaque string)", f"{cursor[:40]}...")
    threads, cursor = ForumThread.query().limit(10).start_key(cursor).where(*where).get_items()
    walk.step("the next page: .start_key(cursor)", [thread.thread_id for thread in threads])

    now_ms = 1_000 + 50
    threads, _ = (
        ForumThread.query()
        .use_index(ForumThread.updated_at, asc=False)
        .where(ForumThread.forum_id.eq("science"), ForumThread.updated_at.lte(now_ms))
        .limit(3)
        .get_items(requery_for_all_projections=True)
    )
    walk.step("the local index on updated_at, newest first, with requery_for_all_projections")
    walk.show(
        "threads", [(thread.thread_id, thread.updated_at, thread.title) for thread in threads]
    )

    recent = (
        ForumThread.query()
        .use_index("user_threads_index", asc=True)
        .where(ForumThread.user_id.eq("some_new_user_id"), ForumThread.updated_at.lte(now_ms))
        .limit(3)
    )
    walk.step("the global index user_threads_index (projects title)")
    walk.show(
        "threads", [(thread.thread_id, thread.title, thread.description) for thread in recent]
    )
    chosen = ForumThread.query().where(ForumThread.user_id.eq("me")).explain()
    walk.step("no use_index(): the query picks the index itself", chosen.get("IndexName"))

    keys = [{"forum_id": "science", "thread_id": f"physics_{number}"} for number in range(2, 100)]
    walk.step("ForumThread.batch_get(*keys)", len(ForumThread.batch_get(*keys)))
    walk.step("ForumThread.batch_delete(keys=keys)", ForumThread.batch_delete(keys=keys))


Update = Callable[[ForumThread], None]


def _readme_updates(now: int) -> list[tuple[str, Update]]:
    """The dynamix README's "Updating and commit_changes()" calls, in its order."""
    return [
        (
            "set_field(ForumThread.updated_at, now)",
            lambda t: t.set_field(ForumThread.updated_at, now),
        ),
        (
            "add_to_field(ForumThread.updated_at, 1000)",
            lambda t: t.add_to_field(ForumThread.updated_at, 1000),
        ),
        (
            'update_to_dict_field(ForumThread.key_value_data, {"c": 100, "b": 5})',
            lambda t: t.update_to_dict_field(ForumThread.key_value_data, {"c": 100, "b": 5}),
        ),
        (
            'remove_from_dict_field(ForumThread.key_value_data, ["a", "b"])',
            lambda t: t.remove_from_dict_field(ForumThread.key_value_data, ["a", "b"]),
        ),
        (
            'append_to_listfield(ForumThread.user_reviews, "100")',
            lambda t: t.append_to_listfield(ForumThread.user_reviews, "100"),
        ),
        (
            'append_to_listfield(ForumThread.user_reviews, ["100", "101"])',
            lambda t: t.append_to_listfield(ForumThread.user_reviews, ["100", "101"]),
        ),
        (
            'replace_by_index_in_listfield(ForumThread.user_reviews, 1, "1000")',
            lambda t: t.replace_by_index_in_listfield(ForumThread.user_reviews, 1, "1000"),
        ),
        (
            "remove_by_index_from_listfield(ForumThread.user_reviews, 1)",
            lambda t: t.remove_by_index_from_listfield(ForumThread.user_reviews, 1),
        ),
        (
            'add_to_setfield(ForumThread.tags, {"black_hole", "white_hole"})',
            lambda t: t.add_to_setfield(ForumThread.tags, {"black_hole", "white_hole"}),
        ),
        (
            'delete_from_setfield(ForumThread.tags, {"black_hole"})',
            lambda t: t.delete_from_setfield(ForumThread.tags, {"black_hole"}),
        ),
    ]


def _content(thread: ForumThread) -> dict[str, Any]:
    return {
        attr: getattr(thread, attr)
        for attr in ForumThread._meta.fields
        if attr not in ("forum_id", "thread_id")
    }


def _dynamix_updates(walk: _Walkthrough, thread: ForumThread) -> ForumThread:
    """The README's updates on the thread as read; returns the thread as stored after."""
    now = _now_millis()
    updates = _readme_updates(now)
    copy = ForumThread.create(**{**_content(thread), "forum_id": "science", "thread_id": "copy"})
    for _, queue in updates:
        queue(thread)
    thread.commit_changes()
    walk.step("the README's updates, queued on forum_thread as read, then one commit_changes()")
    for text, _ in updates:
        walk.out(f"    forum_thread.{text}")
    walk.out("    forum_thread.commit_changes()")
    walk.show("updated_at - now", thread.updated_at - now)
    walk.show("key_value_data", thread.key_value_data)
    walk.show("user_reviews, tags", (thread.user_reviews, sorted(thread.tags)))
    for _, queue in updates:
        queue(copy)
        copy.commit_changes()
    walk.show(
        "the same as one commit per call, one after another (on a copy)",
        _content(copy) == _content(thread),
    )
    copy.delete()

    key_only = ForumThread(forum_id="science", thread_id="physics_1")
    try:
        for _, queue in updates:
            queue(key_only)
    except UpdateConflict as error:
        walk.step(
            "the same calls on ForumThread(forum_id=..., thread_id=...) built from its key "
            "alone, never read",
            f"UpdateConflict, before any request: {error}",
        )

    thread.append_to_listfield(ForumThread.user_reviews, "102")
    thread.remove_by_index_from_listfield(ForumThread.user_reviews, 0)
    ForumThread(forum_id="science", thread_id="physics_1").update(
        ForumThread.user_reviews.list_append(["another writer's"])
    )
    try:
        thread.commit_changes()
    except ConcurrentModification as error:
        walk.step(
            "another writer appends to user_reviews between the read and the commit",
            f"ConcurrentModification: {error.message}",
        )
    thread.discard_changes()
    fresh = ForumThread.get(forum_id="science", thread_id="physics_1", consistent=True)
    assert fresh is not None
    walk.show("user_reviews as stored (nothing of ours was written)", fresh.user_reviews)

    fresh.set_field(ForumThread.title, "never written")
    fresh.set_modify_conditions(ForumThread.updated_at.eq(0))
    try:
        fresh.commit_changes()
    except ConditionalCheckFailed as error:
        walk.step("a modify condition that is false", f"ConditionalCheckFailed: {error.message}")
    fresh.discard_changes()
    return fresh


def _beyond_the_seeds(walk: _Walkthrough) -> None:
    walk.out("\n== Beyond the seeds ==")
    create_table(Account, force=True)
    alice = Account.create(id="alice", balance=100)
    bob = Account.create(id="bob", balance=0)
    with dynamodb.transaction() as tx:
        tx.update(alice, Account.balance.add(-30), condition=Account.balance.gte(30))
        tx.update(bob, Account.balance.add(30))
    walk.step("a transaction moves 30 from alice to bob", (alice.balance, bob.balance))
    stale = Account.get(id="alice")
    assert stale is not None
    alice.update(balance=alice.balance + 1)
    stale.balance = 0
    try:
        stale.save()
    except VersionConflict as error:
        walk.step("optimistic locking: saving a stale copy", f"VersionConflict: {error.message}")
    walk.step(
        "Account.add(id='bob', balance=5): an atomic counter, no read",
        Account.add(id="bob", balance=5),
    )
    walk.step("Table(Account).delete()", Table(Account).delete())


def _observability(walk: _Walkthrough) -> None:
    walk.out("\n== Observability: capacity, cost, rate limits ==")
    create_table(Account, force=True)
    with dynamodb.capacity() as cap:
        Account.batch_write([Account(id=f"acct{n}", balance=n) for n in range(30)])
        scan = Account.scan(rate_limit=dynamodb.RateLimit(read_units_per_second=1000))
        found = scan.all()
    walk.step(
        "Account.scan(rate_limit=RateLimit(read_units_per_second=1000)): items, scan.consumed",
        (len(found), scan.consumed.read_units),
    )
    walk.step(
        "with dynamodb.capacity() as cap: read units, write units, cap.cost() in dollars",
        (cap.read_units, cap.write_units, f"{cap.cost():.8f}"),
    )
    Table(Account).delete()


class User(Model):
    """The README's single-table example: users and their orders in one table."""

    __table_name__ = "demo_app"
    pk = CharField(hash_key=True, template="USER#{user_id}")
    sk = CharField(range_key=True, template="PROFILE")
    gsi1pk = CharField(template="EMAIL#{email}")
    gsi1sk = CharField(template="USER")
    __secondary_indexes__ = {  # noqa: RUF012
        "gsi1": {"hash_key": "gsi1pk", "range_key": "gsi1sk", "projections": "ALL"}
    }
    user_id = CharField(required=True)
    email = CharField(required=True, unique=True)
    name = CharField()
    joined = DateTimeField(auto_now_add=True)


class Order(Model):
    __table_name__ = "demo_app"
    pk = CharField(hash_key=True, template="USER#{user_id}")
    sk = CharField(range_key=True, template="ORDER#{created_at}#{order_id}")
    gsi1pk = CharField(template="STATUS#{status}")
    gsi1sk = CharField(template="{created_at}")
    __secondary_indexes__ = {  # noqa: RUF012
        "gsi1": {"hash_key": "gsi1pk", "range_key": "gsi1sk", "projections": "ALL"}
    }
    user_id = CharField(required=True)
    order_id = CharField(required=True)
    created_at = DateTimeField(required=True)
    status = CharField(required=True)
    expires = TTLField()


class Score(Model, Typed):
    """A model in the annotated style: mypy and pyright check its constructor."""

    __table_name__ = "demo_scores"
    player: CharField = CharField(hash_key=True)
    points: IntegerField = IntegerField(default=0, minimum=0)


def _typed(walk: _Walkthrough) -> None:
    walk.out("\n== Typed models and pydantic ==")
    create_table(Score, force=True)
    made = Score.create(player="ann", points=3)
    walk.step("Score.create(player='ann', points=3) on a Typed model", made)
    try:
        shown: Any = made.to_pydantic().model_dump_json()
    except MissingDependency:
        shown = "(pydantic is not installed: pip install 'dynamodb-py[pydantic]')"
    walk.step("made.to_pydantic().model_dump_json()", shown)
    Table(Score).delete()


_DEMO_KEYS = StaticKeys({"2026-01": os.urandom(32)})


class Patient(Model):
    """Encrypted and compressed fields: the diagnosis is sealed to its item."""

    __table_name__ = "demo_patient"
    patient_id = CharField(hash_key=True)
    name = CharField()
    diagnosis = EncryptedField(CharField(), keys=_DEMO_KEYS)
    history = EncryptedField(CompressedField(CharField(), algorithm="gzip"), keys=_DEMO_KEYS)


def _encrypted_fields(walk: _Walkthrough) -> None:
    walk.out("\n== Encrypted and compressed fields ==")
    try:
        import cryptography  # noqa: F401
    except ImportError:
        walk.step("skipped: pip install 'dynamodb-py[encryption]' for this section")
        return
    create_table(Patient, force=True)
    history = "2026-01-05: seen for a check-up, all well.\n" * 500
    Patient(patient_id="p1", name="Ann", diagnosis="asthma", history=history).save()
    raw = dynamodb.get_connection().run(
        call("GetItem", {"TableName": Patient.__table_name__, "Key": {"patient_id": {"S": "p1"}}})
    )["Item"]
    blob = raw["diagnosis"]["B"]
    walk.step(
        "what DynamoDB stores for diagnosis: binary, with its key id",
        (blob[2 : 2 + blob[1]].decode(), f"{len(blob)} bytes", b"asthma" in blob),
    )
    walk.step(
        f"history: {len(history):,} characters, stored compressed then encrypted",
        f"{len(raw['history']['B'])} bytes",
    )
    ann = Patient.get(patient_id="p1")
    walk.step("Patient.get(patient_id='p1').diagnosis", ann.diagnosis if ann else None)
    raw["patient_id"] = {"S": "p2"}  # the ciphertext copied into another item
    dynamodb.get_connection().run(
        call("PutItem", {"TableName": Patient.__table_name__, "Item": raw})
    )
    try:
        Patient.get(patient_id="p2")
    except DecryptionError as error:
        walk.step("the same ciphertext in another item", f"DecryptionError: {error.reason[:40]}...")
    rotated = StaticKeys(
        {"2026-01": _DEMO_KEYS.decryption_key("2026-01", b""), "2026-07": os.urandom(32)},
        current="2026-07",
    )
    Patient.diagnosis.keys = Patient.history.keys = rotated
    Patient.delete_by_key(patient_id="p2")
    walk.step("rotate to key 2026-07, then reencrypt(Patient): items rewritten", reencrypt(Patient))
    Patient.diagnosis.keys = Patient.history.keys = _DEMO_KEYS
    walk.step("Table(Patient).delete()", Table(Patient).delete())


def _spelled(request: dict[str, Any]) -> str:
    """A request's KeyConditionExpression with its names and values written in."""
    text = str(request["KeyConditionExpression"])
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    for placeholder in sorted(names, key=len, reverse=True):
        text = text.replace(placeholder, names[placeholder])
    for placeholder in sorted(values, key=len, reverse=True):
        text = text.replace(placeholder, repr(next(iter(values[placeholder].values()))))
    return text


def _single_table(walk: _Walkthrough) -> None:
    walk.out("\n== Single-table design, unique fields, TTL ==")
    create_table(User, force=True)
    walk.step("Table(User).info()['Entities']", Table(User).info()["Entities"])
    ann = User.create(user_id="u1", email="ann@example.com", name="Ann")
    walk.step("User.create(user_id='u1', ...): pk, sk, gsi1pk", (ann.pk, ann.sk, ann.gsi1pk))
    start = dt.datetime(2026, 1, 5, 10, tzinfo=dt.timezone.utc)
    for day in range(4):
        Order.create(
            user_id="u1",
            order_id=f"o{day}",
            created_at=start + dt.timedelta(days=day),
            status="open" if day % 2 else "shipped",
        )
    newest = Order.query().where(Order.user_id.eq("u1")).order_by(Order.created_at, asc=False)
    walk.step("a user's orders, newest first", [order.order_id for order in newest.all()])
    walk.step("its key condition, built from the parts", _spelled(newest.explain()))
    by_status = Order.query().where(Order.status.eq("open"))
    walk.step(
        "Order.query().where(Order.status.eq('open')) picks its index",
        (by_status.explain().get("IndexName"), [order.order_id for order in by_status.all()]),
    )
    both = Collection(User, Order).query(user_id="u1").all()
    walk.step("Collection(User, Order).query(user_id='u1'): one Query", both)
    try:
        User.create(user_id="u2", email="ann@example.com")
    except UniqueViolation as error:
        walk.step(
            "a second user with Ann's email", f"UniqueViolation: {error.field}={error.value!r}"
        )
    Order.create(
        user_id="u1", order_id="old", created_at=start, status="open", expires=dt.timedelta(0)
    )
    walk.step(
        "an expired order is hidden until DynamoDB deletes it",
        (
            Order.get(user_id="u1", created_at=start, order_id="old"),
            len(Order.query().where(Order.user_id.eq("u1")).include_expired().all()),
        ),
    )
    walk.step("Table(User).delete()", Table(User).delete())


class Note(Model):
    """The model of the schema and migration steps."""

    __table_name__ = "demo_notes"
    id = IntegerField(hash_key=True)
    text = CharField()
    status = CharField()


def _schema_and_migrations(walk: _Walkthrough) -> None:
    from dynamodb.core.leases import TableCheckpoints
    from dynamodb.migrations import Migration, MigrationRunner

    walk.out("\n== Schema plans and data migrations ==")
    plan = dynamodb.plan_schema(Note)
    dynamodb.apply_schema(plan)
    walk.step(
        "dynamodb.plan_schema(Note), applied: what it did, and is anything left?",
        ([c.kind for c in plan.changes], not dynamodb.plan_schema(Note).empty),
    )
    Note.batch_write([Note(id=n, text=f"note {n}") for n in range(6)])

    def upgrade(note: Note) -> Note:
        note.status = "open"
        return note

    store = TableCheckpoints("demo_migrations")
    migration = Migration("0001_status", Note, upgrade, segments=2)
    result = MigrationRunner(migration, store=store).run(dynamodb.get_connection())
    walk.step("a migration: items read, upgraded", (result.counts.scanned, result.counts.upgraded))
    found = Note.scan().where(dynamodb.parse_condition(Note, 'status = "open" and id > 3'))
    walk.step("parse_condition(Note, 'status = \"open\" and id > 3')", sorted(n.id for n in found))
    dynamodb.get_connection().run(operations.delete_table(store.table_name))
    Table(Note).delete()


def run(out: Printer = print, run_async: bool = True) -> None:
    """Run the walkthrough on the current default connection."""
    walk = _Walkthrough(out, run_async)
    _seed_dynamodb_py(walk)
    _seed_dynamix(walk)
    _beyond_the_seeds(walk)
    _observability(walk)
    _single_table(walk)
    _typed(walk)
    _encrypted_fields(walk)
    _schema_and_migrations(walk)
    out(f"\nDone: {walk.count} steps.")


@contextlib.contextmanager
def _backend(out: Printer, endpoint: str | None) -> Iterator[Connection]:
    if endpoint:
        out(f"Using DynamoDB at {endpoint} (DYNAMODB_ENDPOINT).")
        with _connected(endpoint) as server:
            yield server
        return
    moto = MotoServer()
    try:
        served = moto.start()
    except MissingDependency:
        raise SystemExit(
            "The demo runs on moto's threaded server: pip install 'dynamodb-py[local]', "
            "or set DYNAMODB_ENDPOINT=http://127.0.0.1:8000 for DynamoDB Local."
        ) from None
    try:
        out(
            f"Using moto's threaded server at {served}, in this process "
            "(set DYNAMODB_ENDPOINT to use another server)."
        )
        with _connected(served) as server:
            yield server
    finally:
        moto.stop()


@contextlib.contextmanager
def _connected(endpoint: str) -> Iterator[Connection]:
    """A connection to ``endpoint``, the default for the block, closed after it."""
    server = Connection(
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    with server, dynamodb.use_connection(server):
        yield server


def main(out: Printer = print) -> None:
    """Entry point of ``python -m dynamodb demo``."""
    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    with _backend(out, endpoint):
        run(out, run_async=_has_aiobotocore())


def _has_aiobotocore() -> bool:
    try:
        import aiobotocore  # noqa: F401
    except ImportError:
        return False
    return True
