"""Single-table design (issue 15): five entities in one table, checked against a Python oracle.

One table holds an e-commerce data set generated at random (seeded): users, their
orders, the orders' lines, and a polymorphic product hierarchy (``Book`` and
``Gadget`` under a concrete ``Product``), with two overloaded global indexes:

=========  ===================  =========================  ===============  =============
entity     pk                   sk                         gsi1pk / gsi1sk  gsi2pk/gsi2sk
=========  ===================  =========================  ===============  =============
User       USER#{user_id}       PROFILE                    EMAIL#{email}    -
                                                           USER
Order      USER#{user_id}       ORDER#{created_at}#{id}    STATUS#{status}  ORDER#{id}
                                                           {created_at}     ORDER
OrderLine  ORDER#{order_id}     LINE#{line_no:04d}         -                ORDER#{id}
                                                                            LINE#{no:04d}
Book       PRODUCT#{sku}        PRODUCT                    -                -
Gadget     PRODUCT#{sku}        PRODUCT                    -                -
=========  ===================  =========================  ===============  =============

Every access pattern is compared with a plain-Python evaluation over the generated
rows: the oracle sorts by the key strings it renders itself (``str.format`` and
``isoformat``), never with the library's templates. A few items of an entity no
model claims (``_type = "Alien"``) are written with raw PutItem requests into the
partitions, key ranges and index partitions the typed reads look at: every typed
read and collection must skip them, and pages must stay full around them. The
unique email's guard items (``pk`` starting ``UNIQUE#``) must never come back.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

import pytest

import dynamodb
from dynamodb import (
    CharField,
    Connection,
    Cursor,
    DateTimeField,
    DecimalField,
    IntegerField,
    Model,
    Query,
    Scan,
)
from tests.integration.helpers import RecordingConnection

TABLE = "test_single_table_oracle_app"
Row = dict[str, Any]
M = TypeVar("M", bound=Model)

GSI1 = {"hash_key": "gsi1pk", "range_key": "gsi1sk", "projections": "ALL"}
GSI2 = {"hash_key": "gsi2pk", "range_key": "gsi2sk", "projections": "ALL"}


class User(Model):
    __table_name__ = TABLE
    __secondary_indexes__ = {"gsi1": GSI1}  # noqa: RUF012 - the model setting is a plain dict

    pk = CharField(hash_key=True, template="USER#{user_id}")
    sk = CharField(range_key=True, template="PROFILE")
    gsi1pk = CharField(template="EMAIL#{email}")
    gsi1sk = CharField(template="USER")
    user_id = CharField(required=True)
    email = CharField(required=True, unique=True)
    name = CharField()


class Order(Model):
    __table_name__ = TABLE
    __secondary_indexes__ = {"gsi1": GSI1, "gsi2": GSI2}  # noqa: RUF012

    pk = CharField(hash_key=True, template="USER#{user_id}")
    sk = CharField(range_key=True, template="ORDER#{created_at}#{order_id}")
    gsi1pk = CharField(template="STATUS#{status}")
    gsi1sk = CharField(template="{created_at}")
    gsi2pk = CharField(template="ORDER#{order_id}")
    gsi2sk = CharField(template="ORDER")
    user_id = CharField(required=True)
    order_id = CharField(required=True)
    created_at = DateTimeField(required=True)
    status = CharField(required=True)
    total = DecimalField()


class OrderLine(Model):
    __table_name__ = TABLE
    __secondary_indexes__ = {"gsi2": GSI2}  # noqa: RUF012

    pk = CharField(hash_key=True, template="ORDER#{order_id}")
    sk = CharField(range_key=True, template="LINE#{line_no:04d}")
    gsi2pk = CharField(template="ORDER#{order_id}")
    gsi2sk = CharField(template="LINE#{line_no:04d}")
    order_id = CharField(required=True)
    line_no = IntegerField(required=True)
    sku = CharField(required=True)
    quantity = IntegerField()


class Product(Model):
    __table_name__ = TABLE

    pk = CharField(hash_key=True, template="PRODUCT#{sku}")
    sk = CharField(range_key=True, template="PRODUCT")
    sku = CharField(required=True)
    title = CharField()
    price = DecimalField()


class Book(Product):
    author = CharField()
    pages = IntegerField()


class Gadget(Product):
    brand = CharField()
    watts = IntegerField()


# The fields each entity's rows hold (the oracle's columns; templated keys are not rows' data).
COLUMNS: dict[type[Model], tuple[str, ...]] = {
    User: ("user_id", "email", "name"),
    Order: ("user_id", "order_id", "created_at", "status", "total"),
    OrderLine: ("order_id", "line_no", "sku", "quantity"),
    Product: ("sku", "title", "price"),  # no item is a plain Product: shown if one comes back
    Book: ("sku", "title", "price", "author", "pages"),
    Gadget: ("sku", "title", "price", "brand", "watts"),
}

STATUSES = ("open", "paid", "shipped", "cancelled")
NAMES = ("Ada", "Grace", "Alan", "Barbara", "Edsger", "Donald", "Frances", "Ken", "Radia")
BASE_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SPAN_MICROSECONDS = 90 * 86_400 * 1_000_000


def iso(moment: dt.datetime) -> str:
    """A datetime's stored form: UTC ISO 8601 with microseconds."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


class DataSet:
    """The generated rows of every entity, and the raw items of no entity."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.users: list[Row] = []
        self.orders: list[Row] = []
        self.lines: list[Row] = []
        self.books: list[Row] = []
        self.gadgets: list[Row] = []
        user_count = 30
        order_counts = [13, 9, 0, *(rng.randint(0, 10) for _ in range(user_count - 3))]
        moments = iter(rng.sample(range(SPAN_MICROSECONDS), sum(order_counts)))
        for n, order_count in enumerate(order_counts):
            name = rng.choice(NAMES)
            user_id = f"u{n:03d}"
            self.users.append(
                {"user_id": user_id, "email": f"{name.lower()}.{n}@example.com", "name": name}
            )
            for _ in range(order_count):
                number = len(self.orders)
                self.orders.append(
                    {
                        "user_id": user_id,
                        "order_id": f"o{number:04d}",
                        "created_at": BASE_TIME + dt.timedelta(microseconds=next(moments)),
                        "status": rng.choice(STATUSES),
                        "total": Decimal(rng.randint(100, 99_999)) / 100,
                    }
                )
        # Two orders of u001 at the same instant (the sk's order_id breaks the tie), in
        # different statuses (so no index partition holds two items with one sort key).
        tied = [order for order in self.orders if order["user_id"] == "u001"][:2]
        tied[1]["created_at"] = tied[0]["created_at"]
        tied[0]["status"], tied[1]["status"] = "open", "paid"
        self.tied = [order["order_id"] for order in tied]

        skus = [f"SKU-{n:04d}" for n in rng.sample(range(10_000), 24)]
        for n, sku in enumerate(skus):
            common = {
                "sku": sku,
                "title": f"item {n}",
                "price": Decimal(rng.randint(100, 20_000)) / 100,
            }
            if rng.random() < 0.5:
                self.books.append(
                    {**common, "author": rng.choice(NAMES), "pages": rng.randint(50, 900)}
                )
            else:
                self.gadgets.append(
                    {**common, "brand": rng.choice(NAMES), "watts": rng.randint(1, 2000)}
                )
        for order in self.orders:
            for line_no in sorted(rng.sample(range(1, 200), rng.randint(0, 5))):
                self.lines.append(
                    {
                        "order_id": order["order_id"],
                        "line_no": line_no,
                        "sku": rng.choice(skus),
                        "quantity": rng.randint(1, 9),
                    }
                )

        # Items of an entity no model claims, where typed reads look.
        busy = self.orders_of("u000")
        middle = busy[len(busy) // 2]["created_at"] + dt.timedelta(microseconds=1)
        assert all(order["created_at"] != middle for order in self.orders)
        with_lines = self.order_with_most_lines()
        self.alien_time = middle
        self.aliens: list[dict[str, str]] = [
            {"pk": "USER#u000", "sk": "A#first", "_type": "Alien"},
            {
                "pk": "USER#u000",
                "sk": f"ORDER#{iso(middle)}#alien",
                "gsi1pk": "STATUS#open",
                "gsi1sk": iso(middle),
                "_type": "Alien",
            },
            {"pk": "USER#u000", "sk": "ZZZ#1", "_type": "Alien"},
            {
                "pk": "ALIEN#1",
                "sk": "X",
                "gsi1pk": f"EMAIL#{self.users[0]['email']}",
                "gsi1sk": "ALIEN",  # sorts before "USER"
                "_type": "Alien",
            },
            {
                "pk": "ALIEN#2",
                "sk": "X",
                "gsi2pk": f"ORDER#{with_lines}",
                "gsi2sk": "LINE#0000",
                "_type": "Alien",
            },
            {"pk": f"ORDER#{with_lines}", "sk": "LINE#0000", "_type": "Alien"},
            {"pk": "PRODUCT#SKU-ALIEN", "sk": "PRODUCT", "_type": "Alien"},
        ]

    def orders_of(self, user_id: str) -> list[Row]:
        """A user's orders in key order (by the sk the oracle renders)."""
        return sorted((order for order in self.orders if order["user_id"] == user_id), key=order_sk)

    def lines_of(self, order_id: str) -> list[Row]:
        return sorted((line for line in self.lines if line["order_id"] == order_id), key=line_sk)

    def order_with_most_lines(self) -> str:
        counts: Counter[str] = Counter(line["order_id"] for line in self.lines)
        return max(sorted(counts), key=lambda order_id: counts[order_id])

    def user(self, user_id: str) -> Row:
        return next(user for user in self.users if user["user_id"] == user_id)


def order_sk(order: Row) -> str:
    return f"ORDER#{iso(order['created_at'])}#{order['order_id']}"


def line_sk(line: Row) -> str:
    return f"LINE#{line['line_no']:04d}"


DATA = DataSet(seed=15_2026)


def columns(item: Model) -> Row:
    """An item's data as the oracle has it: the entity's columns, by python name."""
    return {name: getattr(item, name) for name in COLUMNS[type(item)]}


def rows(items: Sequence[Model]) -> list[tuple[str, Row]]:
    """Items as (class name, columns): what the oracle's answers are compared with."""
    return [(type(item).__name__, columns(item)) for item in items]


def expected(entity: type[Model], selected: Sequence[Row]) -> list[tuple[str, Row]]:
    return [(entity.__name__, {name: row[name] for name in COLUMNS[entity]}) for row in selected]


def raw_scan(connection: Connection) -> list[dict[str, Any]]:
    """Every item of the table as DynamoDB holds it (AttributeValues), by plain Scan requests."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": TABLE}
    while True:
        page = connection.send("Scan", params)
        items.extend(page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            return items
        params = {"TableName": TABLE, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def raw_get(connection: Connection, pk: str, sk: str) -> dict[str, Any] | None:
    answer = connection.send(
        "GetItem",
        {"TableName": TABLE, "Key": {"pk": {"S": pk}, "sk": {"S": sk}}, "ConsistentRead": True},
    )
    item: dict[str, Any] | None = answer.get("Item")
    return item


def text(item: Mapping[str, Any], name: str) -> str | None:
    """A raw item's string attribute, or None."""
    value = item.get(name)
    return None if value is None else str(value["S"])


def pages_of(reader: Query[M] | Scan[M], per_page: int) -> list[list[M]]:
    """Read every page of ``limit(per_page)`` with get_items/start_key."""
    pages: list[list[M]] = []
    cursor: Cursor | None = None
    for _ in range(1000):
        items, cursor = reader.limit(per_page).start_key(cursor).get_items()
        assert len(items) <= per_page
        pages.append(items)
        if cursor is None:
            return pages
        assert len(items) == per_page, "a short page only at the end"
    raise AssertionError("the pages never ended")


@pytest.fixture(scope="module")
def app(connection: Connection) -> Iterator[DataSet]:
    """The shared table with DATA written (users created one by one for their unique email)."""
    dynamodb.create_table(User, force=True)
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda row: User.create(**row), DATA.users))
        Order.batch_write(DATA.orders)
        OrderLine.batch_write(DATA.lines)
        Book.batch_write(DATA.books)
        Gadget.batch_write(DATA.gadgets)
        for alien in DATA.aliens:
            item = {name: {"S": value} for name, value in alien.items()}
            connection.send("PutItem", {"TableName": TABLE, "Item": item})
        yield DATA
    finally:
        dynamodb.delete_table(User)


# -- the table and its layout -----------------------------------------------------------------


def test_one_table_holds_the_union_of_keys_and_indexes(
    app: DataSet, connection: Connection
) -> None:
    assert {User.__table_name__, Order.__table_name__, OrderLine.__table_name__} == {TABLE}
    assert Book.__table_name__ == Gadget.__table_name__ == Product.__table_name__ == TABLE
    table = connection.send("DescribeTable", {"TableName": TABLE})["Table"]
    keys = {key["AttributeName"]: key["KeyType"] for key in table["KeySchema"]}
    assert keys == {"pk": "HASH", "sk": "RANGE"}
    indexes = {
        index["IndexName"]: {key["AttributeName"]: key["KeyType"] for key in index["KeySchema"]}
        for index in table.get("GlobalSecondaryIndexes", [])
    }
    assert indexes == {
        "gsi1": {"gsi1pk": "HASH", "gsi1sk": "RANGE"},
        "gsi2": {"gsi2pk": "HASH", "gsi2sk": "RANGE"},
    }


def test_items_are_stored_under_the_rendered_keys(app: DataSet, connection: Connection) -> None:
    stored = {(text(item, "pk"), text(item, "sk")): item for item in raw_scan(connection)}
    layout: list[tuple[str, str, dict[str, str]]] = []
    for user in app.users:
        attributes = {"gsi1pk": f"EMAIL#{user['email']}", "gsi1sk": "USER", "_type": "User"}
        layout.append((f"USER#{user['user_id']}", "PROFILE", attributes))
    for order in app.orders:
        attributes = {
            "gsi1pk": f"STATUS#{order['status']}",
            "gsi1sk": iso(order["created_at"]),
            "gsi2pk": f"ORDER#{order['order_id']}",
            "gsi2sk": "ORDER",
            "_type": "Order",
        }
        layout.append((f"USER#{order['user_id']}", order_sk(order), attributes))
    for line in app.lines:
        attributes = {"gsi2pk": f"ORDER#{line['order_id']}", "gsi2sk": line_sk(line)}
        attributes["_type"] = "OrderLine"
        layout.append((f"ORDER#{line['order_id']}", line_sk(line), attributes))
    for entity, products in (("Book", app.books), ("Gadget", app.gadgets)):
        for product in products:
            layout.append((f"PRODUCT#{product['sku']}", "PRODUCT", {"_type": entity}))
    for pk, sk, attributes in layout:
        item = stored.get((pk, sk))
        assert item is not None, f"no item at ({pk!r}, {sk!r})"
        assert {name: text(item, name) for name in attributes} == attributes
        entity = attributes["_type"]
        if entity not in ("Order", "OrderLine"):
            assert "gsi2pk" not in item  # sparse: only orders and lines are in gsi2
        if entity not in ("User", "Order"):
            assert "gsi1pk" not in item  # sparse: only users and orders are in gsi1
    guards = [key for key in stored if key[0] is not None and key[0].startswith("UNIQUE#")]
    assert len(guards) == len(app.users)
    assert len(stored) == len(layout) + len(app.aliens) + len(guards)


def test_read_items_carry_their_rendered_keys(app: DataSet) -> None:
    order = app.orders_of("u000")[0]
    item = Order.get(user_id="u000", created_at=order["created_at"], order_id=order["order_id"])
    assert item is not None
    assert (item.pk, item.sk) == ("USER#u000", order_sk(order))
    assert (item.gsi1pk, item.gsi1sk) == (f"STATUS#{order['status']}", iso(order["created_at"]))
    assert (item.gsi2pk, item.gsi2sk) == (f"ORDER#{order['order_id']}", "ORDER")
    line = app.lines_of(app.order_with_most_lines())[0]
    read = OrderLine.get(order_id=line["order_id"], line_no=line["line_no"])
    assert read is not None
    assert read.sk == read.gsi2sk == line_sk(line)


def test_setting_a_templated_attribute_raises() -> None:
    user = User(user_id="someone", email="someone@example.com")
    with pytest.raises(dynamodb.DynamoDBError):
        user.pk = "USER#someone-else"
    with pytest.raises(dynamodb.DynamoDBError):
        user.gsi1pk = "EMAIL#other@example.com"


def test_a_templated_attribute_is_refused_as_a_keyword() -> None:
    with pytest.raises(dynamodb.DynamoDBError):
        User(user_id="someone", email="someone@example.com", sk="NOT-PROFILE")


# -- by id, by parts ------------------------------------------------------------------------------


def test_user_by_id(app: DataSet) -> None:
    for user in app.users:
        item = User.get(user_id=user["user_id"])
        assert item is not None
        assert rows([item]) == expected(User, [user])
    assert User.get(user_id="nobody") is None


def test_batch_get_by_parts(app: DataSet) -> None:
    wanted = [app.users[5], app.users[1], app.users[17]]
    users = User.batch_get(*({"user_id": user["user_id"]} for user in wanted))
    assert rows(users) == expected(User, wanted)
    orders = [app.orders[3], app.orders[0], app.orders[-1]]
    keys = [
        {"user_id": o["user_id"], "created_at": o["created_at"], "order_id": o["order_id"]}
        for o in orders
    ]
    assert rows(Order.batch_get(*keys)) == expected(Order, orders)


def test_order_and_line_by_parts(app: DataSet) -> None:
    for order in app.orders[::7]:
        item = Order.get(
            user_id=order["user_id"], created_at=order["created_at"], order_id=order["order_id"]
        )
        assert item is not None
        assert rows([item]) == expected(Order, [order])
    for line in app.lines[::11]:
        read = OrderLine.get(order_id=line["order_id"], line_no=line["line_no"])
        assert read is not None
        assert rows([read]) == expected(OrderLine, [line])


def test_user_by_unique_email_through_gsi1(app: DataSet) -> None:
    for user in app.users:
        query = User.query().where(User.email.eq(user["email"]))
        assert query.explain().get("IndexName") == "gsi1"
        found = query.first()
        assert found is not None, user["email"]
        assert rows([found]) == expected(User, [user])
        assert rows(query.all()) == expected(User, [user])
    assert User.query().where(User.email.eq("nobody@example.com")).first() is None


# -- a user's orders -----------------------------------------------------------------------------


def test_a_users_orders_in_key_order(app: DataSet) -> None:
    for user in app.users:
        query = Order.query().where(Order.user_id.eq(user["user_id"]))
        request = query.explain()
        assert "IndexName" not in request
        assert f"USER#{user['user_id']}" in repr(request)
        assert rows(query.all()) == expected(Order, app.orders_of(user["user_id"]))
        assert query.count() == len(app.orders_of(user["user_id"]))


def test_a_users_orders_newest_first(app: DataSet) -> None:
    for user in app.users:
        query = (
            Order.query()
            .where(Order.user_id.eq(user["user_id"]))
            .order_by(Order.created_at, asc=False)
        )
        assert query.explain().get("ScanIndexForward") is False
        newest_first = list(reversed(app.orders_of(user["user_id"])))
        assert rows(query.all()) == expected(Order, newest_first)


@pytest.mark.parametrize("per_page", [1, 3, 4])
@pytest.mark.parametrize("ascending", [True, False])
def test_a_users_orders_page_by_page(app: DataSet, per_page: int, ascending: bool) -> None:
    """u000's partition holds aliens before, inside and after its ORDER# range."""
    for user_id in ("u000", "u001", "u002", "u007"):
        query = (
            Order.query().where(Order.user_id.eq(user_id)).order_by(Order.created_at, asc=ascending)
        )
        pages = pages_of(query, per_page)
        oracle = app.orders_of(user_id)
        if not ascending:
            oracle.reverse()
        assert [rows(page) for page in pages if page] == [
            expected(Order, oracle[start : start + per_page])
            for start in range(0, len(oracle), per_page)
        ]


def _boundaries(app: DataSet, user_id: str) -> list[dt.datetime]:
    """Instants to cut a user's orders at: each order's own, just after and before, and outside."""
    moments = [BASE_TIME - dt.timedelta(days=1), BASE_TIME + dt.timedelta(days=365), app.alien_time]
    for order in app.orders_of(user_id)[::3]:
        moment: dt.datetime = order["created_at"]
        moments += [moment, moment + dt.timedelta(microseconds=1), moment - dt.timedelta(seconds=1)]
    return moments


RANGES = ("eq", "gte", "gt", "lte", "lt", "between")


def _in_range(operator: str, value: dt.datetime, low: dt.datetime, high: dt.datetime) -> bool:
    if operator == "eq":
        return value == low
    if operator == "gte":
        return value >= low
    if operator == "gt":
        return value > low
    if operator == "lte":
        return value <= low
    if operator == "lt":
        return value < low
    return low <= value <= high


@pytest.mark.parametrize("operator", RANGES)
def test_a_users_orders_in_a_created_at_range(app: DataSet, operator: str) -> None:
    """A range on created_at becomes a condition on sk that stays inside the ORDER# prefix;
    boundaries include orders at the instant itself (and u001's two orders at one instant)."""
    rng = random.Random(operator)
    for user_id in ("u000", "u001", "u002", "u004"):
        moments = _boundaries(app, user_id)
        for number, low in enumerate(moments):
            high = rng.choice(moments)
            if operator == "between" and high < low:
                low, high = high, low
            condition = (
                Order.created_at.between(low, high)
                if operator == "between"
                else getattr(Order.created_at, operator)(low)
            )
            oracle = [
                order
                for order in app.orders_of(user_id)
                if _in_range(operator, order["created_at"], low, high)
            ]
            for ascending in (True, False)[: 1 + number % 2]:
                query = Order.query().where(Order.user_id.eq(user_id), condition)
                if operator != "eq":  # see test_order_by_a_part_that_an_eq_condition_fixes
                    query = query.order_by(Order.created_at, asc=ascending)
                elif not ascending:
                    continue
                assert "IndexName" not in query.explain()
                want = oracle if ascending else oracle[::-1]
                got = rows(query.all())
                assert got == expected(Order, want), (user_id, operator, iso(low), iso(high))


@pytest.mark.parametrize("ascending", [True, False])
def test_order_by_a_part_that_an_eq_condition_fixes(app: DataSet, ascending: bool) -> None:
    """order_by(created_at) is accepted with gte(); with eq() every item has the same
    created_at, so the key order (then by order_id) satisfies it just as well."""
    tied = [o for o in app.orders_of("u001") if o["order_id"] in app.tied]  # in key order
    moment = tied[0]["created_at"]
    assert [o["created_at"] for o in tied] == [moment, moment]
    on_table = Order.query().where(Order.user_id.eq("u001"), Order.created_at.eq(moment))
    newest = on_table.order_by(Order.created_at, asc=ascending)
    assert rows(newest.all()) == expected(Order, tied if ascending else tied[::-1])
    status = tied[0]["status"]
    on_gsi1 = Order.query().where(Order.status.eq(status), Order.created_at.eq(moment))
    newest = on_gsi1.order_by(Order.created_at, asc=ascending)
    assert newest.explain().get("IndexName") == "gsi1"
    assert rows(newest.all()) == expected(Order, [o for o in tied if o["status"] == status])


def test_a_users_orders_in_a_range_page_by_page(app: DataSet) -> None:
    oracle = app.orders_of("u000")
    since = oracle[2]["created_at"]
    query = (
        Order.query()
        .where(Order.user_id.eq("u000"), Order.created_at.gte(since))
        .order_by(Order.created_at, asc=False)
    )
    want = [order for order in oracle if order["created_at"] >= since][::-1]
    got = [item for page in pages_of(query, 3) for item in page]
    assert rows(got) == expected(Order, want)


OFFSETS = (dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8)))


def test_datetime_parts_in_other_time_zones_use_the_stored_form(app: DataSet) -> None:
    """A part is rendered in its stored form (UTC), whatever zone the value is given in;
    a naive datetime is taken as UTC."""
    oracle = app.orders_of("u000")
    for order in oracle[::3]:
        moment: dt.datetime = order["created_at"]
        for zone in OFFSETS:
            local = moment.astimezone(zone)
            item = Order.get(user_id="u000", created_at=local, order_id=order["order_id"])
            assert item is not None
            assert rows([item]) == expected(Order, [order])
            since = Order.query().where(Order.user_id.eq("u000"), Order.created_at.gte(local))
            want = [o for o in oracle if o["created_at"] >= moment]
            assert rows(since.all()) == expected(Order, want), zone
            by_status = Order.query().where(
                Order.status.eq(order["status"]), Order.created_at.gte(local)
            )
            want = [o for o in _by_status(app, order["status"]) if o["created_at"] >= moment]
            assert rows(by_status.all()) == expected(Order, want), zone
        naive = moment.replace(tzinfo=None)
        item = Order.get(user_id="u000", created_at=naive, order_id=order["order_id"])
        assert item is not None
        assert rows([item]) == expected(Order, [order])


def test_conditions_on_other_parts_are_filters(app: DataSet) -> None:
    """Parts that no key of the chosen target can use become filters: same answers."""
    for user in app.users[:12]:
        user_id = user["user_id"]
        orders = app.orders_of(user_id)
        for order in orders[:2]:
            query = Order.query().where(
                Order.user_id.eq(user_id), Order.order_id.eq(order["order_id"])
            )
            assert rows(query.all()) == expected(Order, [order])
        for status in STATUSES:
            query = Order.query().where(Order.user_id.eq(user_id), Order.status.eq(status))
            want = sorted(
                (o for o in orders if o["status"] == status), key=lambda o: iso(o["created_at"])
            )
            assert rows(query.all()) == expected(Order, want), (user_id, status)


# -- orders by status through gsi1 ---------------------------------------------------------------


def _by_status(app: DataSet, status: str) -> list[Row]:
    return sorted(
        (order for order in app.orders if order["status"] == status),
        key=lambda order: iso(order["created_at"]),
    )


@pytest.mark.parametrize("status", STATUSES)
def test_orders_by_status_through_gsi1(app: DataSet, status: str) -> None:
    query = Order.query().where(Order.status.eq(status))
    request = query.explain()
    assert request.get("IndexName") == "gsi1"
    assert "KeyConditionExpression" in request
    oracle = _by_status(app, status)
    assert rows(query.all()) == expected(Order, oracle)
    assert query.count() == len(oracle)
    newest = query.order_by(Order.created_at, asc=False)
    assert newest.explain().get("IndexName") == "gsi1"
    assert rows(newest.all()) == expected(Order, oracle[::-1])
    assert [rows(page) for page in pages_of(newest, 5) if page] == [
        expected(Order, oracle[::-1][start : start + 5]) for start in range(0, len(oracle), 5)
    ]


@pytest.mark.parametrize("operator", RANGES)
@pytest.mark.parametrize("status", STATUSES)
def test_orders_by_status_in_a_range(app: DataSet, status: str, operator: str) -> None:
    """gsi1sk is ``{created_at}`` alone: a template with no literal text before its part."""
    oracle = _by_status(app, status)
    moments = [
        oracle[len(oracle) // 3]["created_at"],
        oracle[-1]["created_at"],
        app.alien_time,
        BASE_TIME,
        BASE_TIME + dt.timedelta(days=365),
    ]
    for low in moments:
        high = low + dt.timedelta(days=20)
        condition = (
            Order.created_at.between(low, high)
            if operator == "between"
            else getattr(Order.created_at, operator)(low)
        )
        query = Order.query().where(Order.status.eq(status), condition)
        assert query.explain().get("IndexName") == "gsi1"
        want = [o for o in oracle if _in_range(operator, o["created_at"], low, high)]
        assert rows(query.all()) == expected(Order, want), (status, operator, iso(low))


# -- by order id through gsi2, lines by a formatted number part -----------------------------------


def test_an_order_by_its_id_through_gsi2(app: DataSet) -> None:
    """gsi2's partition ORDER#id also holds the order's lines: only the order comes back."""
    for order in [*app.orders[::5], *(o for o in app.orders if o["order_id"] == "o0000")]:
        query = Order.query().where(Order.order_id.eq(order["order_id"]))
        assert query.explain().get("IndexName") == "gsi2"
        assert rows(query.all()) == expected(Order, [order])
    assert Order.query().where(Order.order_id.eq("no-such-order")).all() == []


LINE_RANGES = ("eq", "gte", "gt", "lte", "lt", "between")


@pytest.mark.parametrize("operator", LINE_RANGES)
def test_an_orders_lines_in_a_line_no_range(app: DataSet, operator: str) -> None:
    """``LINE#{line_no:04d}``: a range on the number becomes a range on the padded text."""
    orders = sorted({line["order_id"] for line in app.lines})[::20]
    for order_id in [app.order_with_most_lines(), *orders]:
        lines = app.lines_of(order_id)
        numbers = {0, 199}
        for line in lines:
            numbers |= {line["line_no"] - 1, line["line_no"], line["line_no"] + 1}
        for low in sorted(numbers):
            high = low + 37
            if operator == "between":
                condition = OrderLine.line_no.between(low, high)
                want = [line for line in lines if low <= line["line_no"] <= high]
            else:
                condition = getattr(OrderLine.line_no, operator)(low)
                want = [line for line in lines if _compare(operator, line["line_no"], low)]
            query = OrderLine.query().where(OrderLine.order_id.eq(order_id), condition)
            assert rows(query.all()) == expected(OrderLine, want), (order_id, operator, low)


def _compare(operator: str, value: int, bound: int) -> bool:
    return {
        "eq": value == bound,
        "gte": value >= bound,
        "gt": value > bound,
        "lte": value <= bound,
        "lt": value < bound,
    }[operator]


def test_a_query_without_a_keys_parts_names_what_is_missing(app: DataSet) -> None:
    with pytest.raises(dynamodb.NoIndexForQuery) as caught:
        Order.query().where(Order.total.gte(Decimal(1))).all()
    message = str(caught.value)
    for part in ("user_id", "status", "order_id"):
        assert part in message, message


# -- collections -----------------------------------------------------------------------------------


def _partition(app: DataSet, user_id: str) -> list[tuple[str, Row]]:
    """A user's partition as typed items in key order: the orders ("ORDER#..."), then "PROFILE"."""
    return expected(Order, app.orders_of(user_id)) + expected(User, [app.user(user_id)])


def test_a_users_partition_as_one_collection(app: DataSet) -> None:
    for user in app.users:
        user_id = user["user_id"]
        result = dynamodb.Collection(User, Order).query(user_id=user_id).all()
        assert rows(result[User]) == expected(User, [user])
        assert result[User] == [User.get(user_id=user_id)]
        assert rows(result[Order]) == expected(Order, app.orders_of(user_id))
        assert rows(list(result)) == _partition(app, user_id)


@pytest.mark.parametrize("per_page", [1, 2, 3, 5])
def test_a_users_partition_page_by_page(app: DataSet, per_page: int) -> None:
    for user_id in ("u000", "u001", "u002", "u009"):
        collection = dynamodb.Collection(User, Order).query(user_id=user_id)
        seen: list[Model] = []
        cursor: Cursor | None = None
        for _ in range(100):
            page, cursor = collection.limit(per_page).start_key(cursor).get_items()
            items = list(page)
            assert len(items) <= per_page
            assert list(page[User]) == [item for item in items if isinstance(item, User)]
            assert list(page[Order]) == [item for item in items if isinstance(item, Order)]
            seen.extend(items)
            if cursor is None:
                break
            assert len(items) == per_page, "a short page only at the end"
        assert cursor is None
        assert rows(seen) == _partition(app, user_id)


def test_a_collection_page_is_one_query(app: DataSet, recording: RecordingConnection) -> None:
    user_id = "u001"  # no aliens in its partition; fewer items than 1 MB
    with dynamodb.use_connection(recording):
        result = dynamodb.Collection(User, Order).query(user_id=user_id).all()
        assert recording.operations == ["Query"]
        assert "IndexName" not in recording.sent[0][1]
        assert rows(list(result)) == _partition(app, user_id)

        recording.sent.clear()
        page, cursor = dynamodb.Collection(User, Order).query(user_id=user_id).limit(3).get_items()
        assert recording.operations == ["Query"]
        assert cursor is not None
        assert rows(list(page)) == _partition(app, user_id)[:3]

        recording.sent.clear()
        order_id = app.order_with_most_lines()
        lines = dynamodb.Collection(Order, OrderLine).query(order_id=order_id).all()
        assert recording.operations == ["Query"]
        assert recording.sent[0][1].get("IndexName") == "gsi2"
        assert len(lines[OrderLine]) == len(app.lines_of(order_id))


def _order_with_lines(app: DataSet, order_id: str) -> list[tuple[str, Row]]:
    """gsi2's partition ORDER#id in key order: "LINE#0001"... sort before "ORDER"."""
    order = next(order for order in app.orders if order["order_id"] == order_id)
    return expected(OrderLine, app.lines_of(order_id)) + expected(Order, [order])


def test_an_order_with_its_lines_through_gsi2(app: DataSet) -> None:
    no_lines = next(o["order_id"] for o in app.orders if not app.lines_of(o["order_id"]))
    chosen = [app.order_with_most_lines(), no_lines, *(o["order_id"] for o in app.orders[::9])]
    for order_id in chosen:
        order = next(order for order in app.orders if order["order_id"] == order_id)
        result = dynamodb.Collection(Order, OrderLine).query(order_id=order_id).all()
        assert rows(result[Order]) == expected(Order, [order])
        assert rows(result[OrderLine]) == expected(OrderLine, app.lines_of(order_id))
        assert rows(list(result)) == _order_with_lines(app, order_id)


def test_an_order_with_its_lines_page_by_page(app: DataSet) -> None:
    order_id = app.order_with_most_lines()  # gsi2's partition holds an alien too
    collection = dynamodb.Collection(Order, OrderLine).query(order_id=order_id)
    seen: list[Model] = []
    cursor: Cursor | None = None
    for _ in range(100):
        page, cursor = collection.limit(2).start_key(cursor).get_items()
        seen.extend(page)
        if cursor is None:
            break
        assert len(list(page)) == 2
    assert rows(seen) == _order_with_lines(app, order_id)


async def test_collections_async(app: DataSet, aconnection: Connection) -> None:
    for user_id in ("u000", "u001", "u002"):
        collection = dynamodb.Collection(User, Order).query(user_id=user_id)
        result = await collection.aall()
        assert rows(result[User]) == expected(User, [app.user(user_id)])
        assert rows(result[Order]) == expected(Order, app.orders_of(user_id))
        assert rows(list(result)) == _partition(app, user_id)
        streamed = [item async for item in collection]
        assert rows(streamed) == _partition(app, user_id)
    order_id = app.order_with_most_lines()
    lines = await dynamodb.Collection(Order, OrderLine).query(order_id=order_id).aall()
    assert rows(list(lines)) == _order_with_lines(app, order_id)


def _everything(app: DataSet) -> list[tuple[str, Row]]:
    return sorted(
        expected(User, app.users)
        + expected(Order, app.orders)
        + expected(OrderLine, app.lines)
        + expected(Book, app.books)
        + expected(Gadget, app.gadgets),
        key=repr,
    )


@pytest.mark.parametrize("segments", [1, 3])
def test_a_collection_scan_of_the_whole_table(app: DataSet, segments: int) -> None:
    """A (parallel) scan of the table gives every entity as its class; no alien, no guard."""
    models = (User, Order, OrderLine, Book, Gadget)
    result = dynamodb.Collection(*models).scan(segments=segments).all()
    assert sorted(rows(list(result)), key=repr) == _everything(app)
    assert len(result[Order]) == len(app.orders)
    assert len(result[OrderLine]) == len(app.lines)
    products = dynamodb.Collection(Product).scan(segments=segments).all()
    assert _by_key(rows(list(products)), "sku") == _products(app)
    assert _by_key(rows(products[Book]), "sku") == _by_key(expected(Book, app.books), "sku")


# -- polymorphism ---------------------------------------------------------------------------------


def _products(app: DataSet) -> list[tuple[str, Row]]:
    return _by_key(expected(Book, app.books) + expected(Gadget, app.gadgets), "sku")


def test_product_scan_returns_books_and_gadgets_as_their_classes(app: DataSet) -> None:
    items = Product.scan().all()
    assert all(type(item) in (Book, Gadget) for item in items)
    assert _by_key(rows(items), "sku") == _products(app)
    assert _by_key(rows(Product.scan(segments=3).all()), "sku") == _products(app)


def test_product_query_by_sku_returns_the_subclass(app: DataSet) -> None:
    for entity, products in ((Book, app.books), (Gadget, app.gadgets)):
        other = Gadget if entity is Book else Book
        for product in products:
            found = Product.query().where(Product.sku.eq(product["sku"])).all()
            assert rows(found) == expected(entity, [product])
            assert type(found[0]) is entity
            own = entity.query().where(entity.sku.eq(product["sku"])).all()
            assert rows(own) == expected(entity, [product])
            assert other.query().where(other.sku.eq(product["sku"])).all() == []
            assert other.get(sku=product["sku"]) is None
            read = entity.get(sku=product["sku"])
            assert read is not None
            assert rows([read]) == expected(entity, [product])


def test_subclass_scans_return_only_their_entity(app: DataSet) -> None:
    assert _by_key(rows(Book.scan().all()), "sku") == _by_key(expected(Book, app.books), "sku")
    gadgets = _by_key(rows(Gadget.scan().all()), "sku")
    assert gadgets == _by_key(expected(Gadget, app.gadgets), "sku")


def test_polymorphic_reads_with_filters_and_counts(app: DataSet) -> None:
    prices = sorted(row["price"] for row in app.books + app.gadgets)
    middle = prices[len(prices) // 2]
    found = Product.scan().where(Product.price.gte(middle)).all()
    want = [row for row in _products(app) if row[1]["price"] >= middle]
    assert _by_key(rows(found), "sku") == want
    assert Product.scan().count() == len(app.books) + len(app.gadgets)
    assert Book.scan().count() == len(app.books)
    long_books = Book.scan().where(Book.pages.gt(300)).all()
    want_books = [row for row in expected(Book, app.books) if row[1]["pages"] > 300]
    assert _by_key(rows(long_books), "sku") == _by_key(want_books, "sku")
    for product in app.books[:3] + app.gadgets[:3]:
        query = Product.query().where(Product.sku.eq(product["sku"]))
        assert query.count() == 1
        assert Gadget.query().where(Gadget.sku.eq(product["sku"])).count() == (
            1 if product in app.gadgets else 0
        )


# -- unknown entities and guard items -----------------------------------------------------------


def _by_key(items: list[tuple[str, Row]], *names: str) -> list[tuple[str, Row]]:
    def key(row: tuple[str, Row]) -> tuple[tuple[bool, Any], ...]:
        return tuple((row[1][name] is None, row[1][name] or 0) for name in names)

    return sorted(items, key=key)


def test_typed_scans_return_exactly_their_entity(app: DataSet) -> None:
    """No alien, no guard item and no other entity in any model's scan."""
    assert _by_key(rows(User.scan().all()), "user_id") == expected(User, app.users)
    assert _by_key(rows(Order.scan().all()), "order_id") == _by_key(
        expected(Order, app.orders), "order_id"
    )
    lines = _by_key(rows(OrderLine.scan().all()), "order_id", "line_no")
    assert lines == _by_key(expected(OrderLine, app.lines), "order_id", "line_no")
    assert User.scan().count() == len(app.users)
    assert Order.scan().count() == len(app.orders)
    parallel = _by_key(rows(Order.scan(segments=4).all()), "order_id")
    assert parallel == _by_key(expected(Order, app.orders), "order_id")


@pytest.mark.parametrize("per_page", [1, 4, 7])
def test_typed_scans_page_past_other_entities(app: DataSet, per_page: int) -> None:
    users = [item for page in pages_of(User.scan(), per_page) for item in page]
    assert _by_key(rows(users), "user_id") == expected(User, app.users)
    books = [item for page in pages_of(Book.scan(), per_page) for item in page]
    assert _by_key(rows(books), "sku") == _by_key(expected(Book, app.books), "sku")


def test_guard_items_exist_but_never_come_back(app: DataSet, connection: Connection) -> None:
    guards = [
        item for item in raw_scan(connection) if (text(item, "pk") or "").startswith("UNIQUE#")
    ]
    assert len(guards) == len(app.users)
    owners = {f"USER#{user['user_id']}": user["email"] for user in app.users}
    for guard in guards:  # each names its value (in its key) and its owner's key
        [owner] = [pk for pk in owners if f"'{pk}'" in repr(guard)]
        assert owners.pop(owner) in str(text(guard, "pk"))
    assert owners == {}
    scanned: list[Model] = [*User.scan().all(), *Product.scan().all(), *Order.scan().all()]
    assert Counter(type(item) for item in scanned) == {
        User: len(app.users),
        Book: len(app.books),
        Gadget: len(app.gadgets),
        Order: len(app.orders),
    }


def test_unknown_entities_are_skipped_by_typed_reads(app: DataSet) -> None:
    # u000's partition: aliens before, inside and after the ORDER# range.
    assert rows(Order.query().where(Order.user_id.eq("u000")).all()) == expected(
        Order, app.orders_of("u000")
    )
    assert Order.query().where(Order.user_id.eq("u000")).count() == len(app.orders_of("u000"))
    at_alien = Order.query().where(Order.user_id.eq("u000"), Order.created_at.lte(app.alien_time))
    assert rows(at_alien.all()) == expected(
        Order, [o for o in app.orders_of("u000") if o["created_at"] <= app.alien_time]
    )
    # gsi1: an alien in STATUS#open, another in the first user's EMAIL# partition.
    assert rows(Order.query().where(Order.status.eq("open")).all()) == expected(
        Order, _by_status(app, "open")
    )
    first = app.users[0]
    found = User.query().where(User.email.eq(first["email"])).first()
    assert found is not None
    assert rows([found]) == expected(User, [first])
    # collections over both partitions that hold aliens
    assert rows(list(dynamodb.Collection(User, Order).query(user_id="u000").all())) == (
        _partition(app, "u000")
    )
    order_id = app.order_with_most_lines()
    assert rows(list(dynamodb.Collection(Order, OrderLine).query(order_id=order_id).all())) == (
        _order_with_lines(app, order_id)
    )
    assert User.get(user_id="u000") is not None
    assert Product.get(sku="SKU-ALIEN") is None


# -- writes keep the templated attributes right (last: they change the table, then undo) ----------


def test_a_changed_part_recomputes_the_index_keys(app: DataSet, connection: Connection) -> None:
    moment = BASE_TIME + dt.timedelta(days=400)
    parts: dict[str, Any] = {"user_id": "tmp-user", "created_at": moment, "order_id": "tmp-order"}
    sk = f"ORDER#{iso(moment)}#tmp-order"
    try:
        order = Order.create(**parts, status="open", total=Decimal("1.50"))
        stored = raw_get(connection, "USER#tmp-user", sk)
        assert stored is not None
        assert text(stored, "gsi1pk") == "STATUS#open"

        order.status = "shipped"
        order.save()
        stored = raw_get(connection, "USER#tmp-user", sk)
        assert stored is not None
        assert text(stored, "gsi1pk") == "STATUS#shipped"
        assert text(stored, "gsi1sk") == iso(moment)
        shipped = Order.query().where(Order.status.eq("shipped"), Order.created_at.gte(moment))
        assert [item.order_id for item in shipped.all()] == ["tmp-order"]

        order.update(status="paid")
        stored = raw_get(connection, "USER#tmp-user", sk)
        assert stored is not None
        assert text(stored, "gsi1pk") == "STATUS#paid"
        assert shipped.all() == []
    finally:
        Order.delete_by_key(**parts)
    assert Order.get(**parts) is None
    assert raw_get(connection, "USER#tmp-user", sk) is None


def test_delete_by_key_takes_the_parts(app: DataSet, connection: Connection) -> None:
    try:
        OrderLine.create(order_id="tmp-order", line_no=42, sku="SKU-X", quantity=1)
        assert raw_get(connection, "ORDER#tmp-order", "LINE#0042") is not None
    finally:
        OrderLine.delete_by_key(order_id="tmp-order", line_no=42)
    assert raw_get(connection, "ORDER#tmp-order", "LINE#0042") is None
    assert OrderLine.get(order_id="tmp-order", line_no=42) is None
