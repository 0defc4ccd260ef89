"""Two models sharing one table with a stream, for the stream tests and their worker process.

Each item names its model in ``_type``, the entity attribute of a shared table, which
stream readers read to give each change as its model.
"""

from __future__ import annotations

from dynamodb import CharField, DateTimeField, IntegerField, ListField, Model

__all__ = ["SHOP_TABLE", "Customer", "Order"]

SHOP_TABLE = "test_streams_shop"


class Order(Model):
    __table_name__ = SHOP_TABLE
    __stream__ = "NEW_AND_OLD_IMAGES"

    pk = CharField(hash_key=True)
    sk = CharField(range_key=True)
    status = CharField(default="new")
    total = IntegerField(default=0)
    lines = ListField(of=CharField(), default=[])


class Customer(Model):
    __table_name__ = SHOP_TABLE
    __stream__ = "NEW_AND_OLD_IMAGES"

    pk = CharField(hash_key=True)
    sk = CharField(range_key=True)
    name = CharField()
    visits = IntegerField(default=0)
    seen = DateTimeField()
