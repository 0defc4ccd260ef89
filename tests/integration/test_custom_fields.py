"""A user's own field types against DynamoDB Local: stored and read through their methods.

``Lower`` (a CharField that stores strings lower-cased) and ``Cents`` (an
IntegerField holding Decimal dollars, stored as whole cents) subclass library
fields that have a faster encoder and decoder of their own. What DynamoDB
holds is read with botocore's client and with a second model over the same
table that declares the plain base fields.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from dynamodb import CharField, Connection, IntegerField, Model
from dynamodb.core.codec import AttributeValue
from tests.support.custom_fields import Cents, Lower

TABLE = "test_custom_fields_orders"


class Order(Model):
    __table_name__ = TABLE

    order_id = CharField(hash_key=True)
    email = Lower()
    total = Cents()


class PlainOrder(Model):
    """The same table, read with the base fields: what is really stored (the same
    entity, so the table is not shared)."""

    __table_name__ = TABLE
    __entity__ = "Order"

    order_id = CharField(hash_key=True)
    email = CharField()
    total = IntegerField()


def test_custom_fields_are_stored_and_read_through_their_own_methods(
    connection: Connection, tables: Callable[..., None]
) -> None:
    tables(Order)

    def stored() -> dict[str, AttributeValue]:
        answer = connection.client.get_item(
            TableName=TABLE, Key={"order_id": {"S": "o-1"}}, ConsistentRead=True
        )
        item: dict[str, AttributeValue] = answer["Item"]
        return item

    Order.create(order_id="o-1", email="Ann@Example.COM", total=Decimal("12.34"))  # PutItem
    assert stored() == {
        "order_id": {"S": "o-1"},
        "email": {"S": "ann@example.com"},
        "total": {"N": "1234"},
    }
    plain = PlainOrder.get(consistent=True, order_id="o-1")
    assert plain is not None
    assert (plain.email, plain.total) == ("ann@example.com", 1234)

    order = Order.get(consistent=True, order_id="o-1")
    assert order is not None
    assert order.email == "ann@example.com"
    total: object = order.total
    assert total == Decimal("12.34")
    assert isinstance(total, Decimal)

    order.total = Decimal("0.99")  # type: ignore[assignment]  # Cents holds Decimals
    order.save()  # an UpdateItem of what changed
    assert stored()["total"] == {"N": "99"}
    # Conditions compare with the stored form too.
    found = Order.scan().where(Order.email.eq("ANN@example.com"), Order.total.eq(Decimal("0.99")))
    assert [item.order_id for item in found] == ["o-1"]
