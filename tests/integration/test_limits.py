"""DynamoDB's limits, checked before anything is sent, against DynamoDB Local.

Every write here goes through a request-counting proxy to DynamoDB Local
(``proxy_for(Faults())``: no faults, only counts). At each limit, the largest
thing DynamoDB Local accepts is written through the library, and one byte (or
level) more is refused by the library with no request at all. The same
oversized request sent raw (``connection.send``, past the library's checks) is
refused by DynamoDB Local too: so the library's measure is DynamoDB's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    BinaryField,
    CharField,
    Connection,
    DictField,
    ExpressionTooLong,
    IntegerField,
    ItemTooLarge,
    KeyTooLong,
    LimitViolation,
    ListField,
    Model,
    NestingTooDeep,
    SetField,
    TransactionPayloadTooLarge,
    TransactionTooLarge,
    ValidationError,
)
from dynamodb.core.codec import Item
from dynamodb.core.expressions import and_all
from dynamodb.core.limits import MAX_ITEM_BYTES, MAX_TRANSACTION_BYTES
from tests.integration.faults import FaultProxy, Faults, ProxyFor

Tables = Callable[..., None]


class LimitsDoc(Model):
    __table_name__ = "limits_docs"
    id = CharField(hash_key=True)
    body = CharField()
    extra = CharField()
    doc = DictField()
    items = ListField()
    tags = SetField()
    blob = BinaryField()
    n = IntegerField()


class LimitsRanged(Model):
    __table_name__ = "limits_ranged"
    owner = CharField(hash_key=True)
    name = CharField(range_key=True)
    label = CharField(indexed=True)  # a local index's range key
    email = CharField()
    __secondary_indexes__ = {"by_email": {"hash_key": "email"}}  # noqa: RUF012


class LimitsBinary(Model):
    __table_name__ = "limits_binary"
    owner = CharField(hash_key=True)
    data = BinaryField(range_key=True)


@pytest.fixture
def counted(tables: Tables, proxy_for: ProxyFor) -> tuple[FaultProxy, Connection]:
    """Fresh tables, and a connection to DynamoDB Local through a counting proxy."""
    tables(LimitsDoc, LimitsRanged, LimitsBinary)
    return proxy_for(Faults())


def sent(proxy: FaultProxy) -> int:
    """How many requests reached the proxy."""
    return sum(count for name, count in proxy.counts.items() if ":" not in name)


def refused_raw(connection: Connection, operation: str, params: dict[str, Any]) -> str:
    """DynamoDB Local's message for a request sent past the library's checks."""
    with pytest.raises(ValidationError) as refused:
        connection.send(operation, params)
    return refused.value.message


def put_raw(item: Item, table: str = "limits_docs") -> dict[str, Any]:
    return {"TableName": table, "Item": item}


# -- item size -----------------------------------------------------------------------------


def _mixed(kind: str) -> dict[str, Any]:
    """Values of every type, each sized by its own rule."""
    if kind == "numbers":
        return {"n": -12345678901234567890, "doc": {"a": 0, "b": 1.5, "c": -0.001, "é": 10**37}}
    if kind == "containers":
        return {"items": [[], {}, [1, "ab", None, True], {"k": {"k": [False]}}], "doc": {}}
    if kind == "sets":
        return {"tags": {"x", "yz", "é€"}, "doc": {"ns": {1, 22, 333}, "bs": {b"\x00", b"ab"}}}
    return {"blob": bytes(range(256)) * 3, "doc": {"ünïcödé": "😀" * 10}}


@pytest.mark.parametrize("kind", ["numbers", "containers", "sets", "binary and unicode"])
def test_an_item_of_exactly_400_kb_is_stored_and_one_byte_more_is_never_sent(
    counted: tuple[FaultProxy, Connection], connection: Connection, kind: str
) -> None:
    proxy, through = counted
    item = LimitsDoc(id="a", body="x", **_mixed(kind))
    padding = MAX_ITEM_BYTES - item.size() + 1
    item.body = "x" * padding
    assert item.size() == MAX_ITEM_BYTES

    item.save(connection=through)  # DynamoDB Local takes exactly 400 KB, as counted here
    stored = LimitsDoc.get(id="a", consistent=True)
    assert stored is not None
    assert stored.size() == MAX_ITEM_BYTES
    before = sent(proxy)

    bigger = LimitsDoc(id="b", body="x" * (padding + 1), **_mixed(kind))
    with pytest.raises(ItemTooLarge) as refused:
        bigger.save(connection=through)
    assert sent(proxy) == before  # nothing left the process
    error = refused.value
    assert isinstance(error, dynamodb.FieldValidationError)
    assert (error.model, error.field, error.key) == ("LimitsDoc", "body", {"id": "b"})
    assert (error.size, error.maximum) == (MAX_ITEM_BYTES + 1, MAX_ITEM_BYTES)
    assert "LimitsDoc {'id': 'b'}: the item is 409,601 bytes" in str(error)
    assert f"largest attributes: body {len('body') + padding + 1:,} bytes" in str(error)
    # DynamoDB Local refuses the very same item: our count is its count.
    assert "size has exceeded" in refused_raw(connection, "PutItem", put_raw(bigger._to_wire_map()))
    assert LimitsDoc.get(id="b", consistent=True) is None


def test_create_and_put_in_a_transaction_are_checked_too(
    counted: tuple[FaultProxy, Connection],
) -> None:
    proxy, through = counted
    with pytest.raises(ItemTooLarge, match=re.escape("LimitsDoc {'id': 'c'}")):
        LimitsDoc.create(id="c", body="x" * MAX_ITEM_BYTES, connection=through)

    def in_a_transaction() -> None:
        with dynamodb.transaction(connection=through) as tx:
            tx.put(LimitsDoc(id="ok"))
            tx.put(LimitsDoc(id="d", body="x" * MAX_ITEM_BYTES))

    with pytest.raises(ItemTooLarge):
        in_a_transaction()
    assert sent(proxy) == 0
    assert LimitsDoc.get(id="ok") is None


# -- growing an item with an update ----------------------------------------------------------


def test_a_dirty_save_that_grows_a_read_item_past_400_kb_is_never_sent(
    counted: tuple[FaultProxy, Connection], connection: Connection
) -> None:
    proxy, through = counted
    LimitsDoc.create(id="g", body="x" * 300_000)
    item = LimitsDoc.get(id="g", connection=through)
    assert item is not None
    room = MAX_ITEM_BYTES - item.size() - len("extra")
    item.extra = "y" * room
    item.save(connection=through)  # UpdateItem: the item is now exactly 400 KB
    assert proxy.counts["UpdateItem"] == 1
    assert LimitsDoc.get(id="g", consistent=True).size() == MAX_ITEM_BYTES  # type: ignore[union-attr]

    item.extra += "y"
    with pytest.raises(ItemTooLarge) as refused:
        item.save(connection=through)
    assert proxy.counts["UpdateItem"] == 1
    assert "this update would make the item 409,601 bytes" in str(refused.value)
    assert refused.value.field == "extra"
    raw = {
        "TableName": "limits_docs",
        "Key": {"id": {"S": "g"}},
        "UpdateExpression": "SET extra = :v",
        "ExpressionAttributeValues": {":v": {"S": item.extra}},
    }
    assert "size to update has exceeded" in refused_raw(connection, "UpdateItem", raw)


def test_updates_without_a_read_are_refused_when_their_values_alone_are_too_large(
    counted: tuple[FaultProxy, Connection],
) -> None:
    proxy, through = counted
    huge = "z" * MAX_ITEM_BYTES
    with pytest.raises(ItemTooLarge, match="would make the item at least 409,6"):
        LimitsDoc(id="u").update(body=huge, connection=through)
    with pytest.raises(ItemTooLarge):
        LimitsDoc(id="u").update(LimitsDoc.items.list_append([huge]), connection=through)
    item = LimitsDoc.get(id="u", connection=through)  # (one GetItem: None)
    assert item is None
    reread = LimitsDoc.create(id="p", body="small")
    reread.set_field(LimitsDoc.extra, huge)
    with pytest.raises(ItemTooLarge):
        reread.commit_changes(connection=through)
    assert sent(proxy) == 1


# -- nesting ------------------------------------------------------------------------------


def _nested(maps: int) -> dict[str, Any]:
    """A dict holding ``maps - 1`` more dicts inside, a string at the bottom."""
    value: Any = "leaf"
    for _ in range(maps):
        value = {"k": value}
    assert isinstance(value, dict)
    return value


def test_32_levels_are_stored_and_33_never_sent(
    counted: tuple[FaultProxy, Connection], connection: Connection
) -> None:
    proxy, through = counted
    # doc (level 1) holds 30 more maps, the string is on level 32.
    LimitsDoc(id="deep", doc=_nested(31)).save(connection=through)
    assert LimitsDoc.get(id="deep").doc == _nested(31)  # type: ignore[union-attr]
    before = sent(proxy)

    too_deep = LimitsDoc(id="deeper", doc=_nested(32))
    with pytest.raises(NestingTooDeep) as refused:
        too_deep.save(connection=through)
    assert sent(proxy) == before
    error = refused.value
    assert (error.field, error.key, error.size, error.maximum) == ("doc", {"id": "deeper"}, 33, 32)
    assert "LimitsDoc {'id': 'deeper'}: doc nests 33 levels deep" in str(error)
    message = refused_raw(connection, "PutItem", put_raw(too_deep._to_wire_map()))
    assert "Nesting Levels have exceeded" in message


def test_an_update_counts_the_levels_of_its_path(
    counted: tuple[FaultProxy, Connection], connection: Connection
) -> None:
    proxy, through = counted
    item = LimitsDoc.create(id="path", doc={"a": {"b": {}}})
    # doc.a.b.c is on level 4: a value 29 levels deep fits there, 30 do not.
    item.update(LimitsDoc.doc["a"]["b"]["c"].set(_nested(28)), connection=through)
    assert proxy.counts["UpdateItem"] == 1
    with pytest.raises(NestingTooDeep, match="nests 33 levels deep"):
        item.update(LimitsDoc.doc["a"]["b"]["c"].set(_nested(29)), connection=through)
    assert proxy.counts["UpdateItem"] == 1


# -- key lengths ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fits", "over"), [("x" * 2048, "x" * 2049), ("é" * 1024, "é" * 1025)])
def test_a_hash_key_of_2048_bytes_is_stored_and_2049_never_sent(
    counted: tuple[FaultProxy, Connection], connection: Connection, fits: str, over: str
) -> None:
    proxy, through = counted
    LimitsDoc.create(id=fits, connection=through)
    assert LimitsDoc.get(id=fits, connection=through) is not None
    assert sent(proxy) == 2

    calls: list[Callable[[], Any]] = [
        lambda: LimitsDoc.create(id=over, connection=through),
        lambda: LimitsDoc.get(id=over, connection=through),
        lambda: LimitsDoc.delete_by_key(id=over, connection=through),
        lambda: LimitsDoc.add(id=over, n=1, connection=through),
        lambda: LimitsDoc.query().where(LimitsDoc.id.eq(over)).using(through).all(),
        lambda: LimitsDoc.batch_get({"id": over}, connection=through),
    ]
    for call in calls:
        with pytest.raises(KeyTooLong) as refused:
            call()
        error = refused.value
        assert (error.model, error.field, error.limit) == ("LimitsDoc", "id", "hash key")
        assert (error.size, error.maximum) == (len(over.encode()), 2048)
        assert "id, the hash key," in str(error)
    assert sent(proxy) == 2
    message = refused_raw(
        connection, "GetItem", {"TableName": "limits_docs", "Key": {"id": {"S": over}}}
    )
    assert "Hash primary key values must be under 2048 bytes" in message


def test_range_keys_of_1024_bytes_are_stored_and_1025_never_sent(
    counted: tuple[FaultProxy, Connection], connection: Connection
) -> None:
    proxy, through = counted
    LimitsRanged.create(owner="o", name="n" * 1024, connection=through)
    LimitsBinary.create(owner="o", data=b"\xff" * 1024, connection=through)
    assert sent(proxy) == 2
    with pytest.raises(KeyTooLong, match="name, the range key, holds 1,025 bytes"):
        LimitsRanged.create(owner="o", name="n" * 1025, connection=through)
    with pytest.raises(KeyTooLong, match="data, the range key, holds 1,025 bytes"):
        LimitsBinary.create(owner="o", data=b"\xff" * 1025, connection=through)
    query = LimitsRanged.query().where(LimitsRanged.owner.eq("o"), LimitsRanged.name.gt("n" * 1025))
    with pytest.raises(KeyTooLong, match="is compared with 1,025 bytes"):
        query.using(through).all()
    assert sent(proxy) == 2
    raw = put_raw({"owner": {"S": "o"}, "data": {"B": b"\xff" * 1025}}, "limits_binary")
    assert "range primary key values must be under 1024 bytes" in refused_raw(
        connection, "PutItem", raw
    )


def test_index_keys_are_held_to_the_key_limits(
    counted: tuple[FaultProxy, Connection], connection: Connection
) -> None:
    proxy, through = counted
    LimitsRanged.create(owner="o", name="a", email="e" * 2048, label="l" * 1024, connection=through)
    assert sent(proxy) == 1
    with pytest.raises(KeyTooLong, match="the hash key of global index 'by_email'"):
        LimitsRanged.create(owner="o", name="b", email="e" * 2049, connection=through)
    with pytest.raises(KeyTooLong, match="the range key of local index"):
        LimitsRanged.create(owner="o", name="c", label="l" * 1025, connection=through)
    with pytest.raises(KeyTooLong, match="email, the hash key of global index 'by_email'"):
        LimitsRanged(owner="o", name="a").update(email="e" * 2049, connection=through)
    assert sent(proxy) == 1
    raw = put_raw({"owner": {"S": "o"}, "name": {"S": "b"}, "email": {"S": "e" * 2049}})
    raw["TableName"] = "limits_ranged"
    assert "Size limit exceeded" in refused_raw(connection, "PutItem", raw)


# -- expressions -----------------------------------------------------------------------------


def test_expressions_over_4_kb_are_never_sent(counted: tuple[FaultProxy, Connection]) -> None:
    proxy, through = counted
    many = and_all([LimitsDoc.n.ne(number) for number in range(300)])  # about 5 KB
    assert many is not None
    with pytest.raises(ExpressionTooLong, match="the ConditionExpression is 5,"):
        LimitsDoc(id="e").save(condition=many, connection=through)
    with pytest.raises(ExpressionTooLong, match="the FilterExpression is"):
        LimitsDoc.scan().where(many).using(through).all()
    with pytest.raises(ExpressionTooLong):
        LimitsDoc(id="e").delete(condition=many, connection=through)
    assert sent(proxy) == 0


# -- batches and transactions ---------------------------------------------------------------


def test_a_batch_with_one_500_kb_item_writes_nothing_and_names_it(
    counted: tuple[FaultProxy, Connection],
) -> None:
    proxy, through = counted
    items = [LimitsDoc(id=f"k{number:02d}", body="b") for number in range(30)]
    items[17].body = "y" * 500_000
    with pytest.raises(ItemTooLarge) as refused:
        LimitsDoc.batch_write(items, connection=through)
    assert sent(proxy) == 0
    error = refused.value
    assert error.keys == [{"id": "k17"}]
    assert "LimitsDoc.batch_write(): 1 of 30 items are over DynamoDB's limits" in str(error)
    assert f"LimitsDoc {{'id': 'k17'}}: the item is {items[17].size():,} bytes" in str(error)
    assert LimitsDoc.scan().count() == 0  # the other 29 were not written either


def test_a_batch_lists_every_bad_item_whatever_is_wrong_with_it(
    counted: tuple[FaultProxy, Connection],
) -> None:
    proxy, through = counted
    items = [LimitsDoc(id=f"k{number:02d}") for number in range(30)]
    items[3].body = "y" * 500_000
    items[9].doc = _nested(40)
    items[20].id = "z" * 3000
    for overwrite in (True, False):
        with pytest.raises(LimitViolation) as refused:
            LimitsDoc.batch_write(items, overwrite=overwrite, connection=through)
        error = refused.value
        assert type(error) is LimitViolation  # of several kinds: the common class
        assert error.keys == [{"id": "k03"}, {"id": "k09"}, {"id": "z" * 3000}]
        assert [type(found) for found in error.violations] == [
            ItemTooLarge,
            NestingTooDeep,
            KeyTooLong,
        ]
    with pytest.raises(KeyTooLong) as too_long:
        LimitsDoc.batch_delete(
            [{"id": "a"}, {"id": "y" * 2049}, {"id": "z" * 2049}], connection=through
        )
    assert too_long.value.keys == [{"id": "y" * 2049}, {"id": "z" * 2049}]
    assert sent(proxy) == 0


def test_a_transaction_of_exactly_4_mb_commits_and_one_byte_more_is_never_sent(
    counted: tuple[FaultProxy, Connection], connection: Connection
) -> None:
    proxy, through = counted
    # 11 items of about 381 KB: 4 MB in all, to the byte.
    items = [LimitsDoc(id=f"t{number:02d}", body="x") for number in range(11)]
    share = MAX_TRANSACTION_BYTES // 11
    for item in items:
        item.body = "x" * (share - item.size() + 1)
    items[-1].body += "x" * (MAX_TRANSACTION_BYTES - sum(item.size() for item in items))
    assert sum(item.size() for item in items) == MAX_TRANSACTION_BYTES
    with dynamodb.transaction(connection=through) as tx:
        for item in items:
            tx.put(item)
    assert proxy.counts["TransactWriteItems"] == 1
    assert LimitsDoc.scan().count() == 11

    for item in items:
        item.id = item.id.replace("t", "u")
    items[-1].body += "x"
    tx = dynamodb.transaction(connection=through)
    for item in items[:-1]:
        tx.put(item)
    with pytest.raises(TransactionPayloadTooLarge) as refused:
        tx.put(items[-1])
    assert isinstance(refused.value, TransactionTooLarge)  # also "too large" by action count
    assert isinstance(refused.value, LimitViolation)
    assert "would make it 4,194,305 bytes, over DynamoDB's limit of 4,194,304 bytes" in str(
        refused.value
    )
    assert len(tx) == 10  # the refused action is not in it
    assert proxy.counts["TransactWriteItems"] == 1
    raw = {"TransactItems": [{"Put": put_raw(item._to_wire_map())} for item in items]}
    assert "Transaction payload size cannot exceed 4MB" in refused_raw(
        connection, "TransactWriteItems", raw
    )


# -- async ---------------------------------------------------------------------------------------


async def test_async_writes_are_checked_before_sending(
    tables: Tables, aproxy_for: ProxyFor
) -> None:
    tables(LimitsDoc)
    proxy, through = aproxy_for(Faults())
    items = [LimitsDoc(id=f"k{number:02d}") for number in range(30)]
    items[5].body = "y" * 500_000
    with pytest.raises(ItemTooLarge) as refused:
        await LimitsDoc.abatch_write(items, connection=through)
    assert refused.value.keys == [{"id": "k05"}]
    with pytest.raises(ItemTooLarge):
        await items[5].asave(connection=through)
    with pytest.raises(KeyTooLong):
        await LimitsDoc.aget(id="x" * 3000, connection=through)
    with pytest.raises(NestingTooDeep):
        await LimitsDoc(id="n", doc=_nested(33)).aupdate(n=1, doc=_nested(33), connection=through)

    async def in_a_transaction() -> None:
        async with dynamodb.atransaction(connection=through) as tx:
            for number in range(11):
                tx.put(LimitsDoc(id=f"t{number:02d}", body="x" * 400_000))

    with pytest.raises(TransactionPayloadTooLarge):
        await in_a_transaction()
    assert sent(proxy) == 0
