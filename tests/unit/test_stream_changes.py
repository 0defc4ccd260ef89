"""Typed changes without a server: Lambda events, entity lookup, options, stream specs."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    BinaryField,
    CharField,
    IntegerField,
    InvalidArgument,
    InvalidValue,
    Model,
    ModelDefinitionError,
    SetField,
    UnknownField,
)
from dynamodb.models.streams import _class_for_item
from dynamodb.streams import (
    Change,
    batch_item_failures,
    handle_lambda_event,
    parse_lambda_event,
)


class Ticket(Model):
    __table_name__ = "unit_stream_tickets"
    __stream__ = "NEW_AND_OLD_IMAGES"

    ticket_id = IntegerField(hash_key=True)
    title = CharField()
    labels = SetField(of=str)
    blob = BinaryField()


class Order(Model):
    __table_name__ = "unit_stream_shop"
    __stream__ = "NEW_IMAGE"

    pk = CharField(hash_key=True)
    entity = CharField(name="_type", default="Order")
    total = IntegerField()


class Customer(Model):
    __table_name__ = "unit_stream_shop"
    __stream__ = "NEW_IMAGE"

    pk = CharField(hash_key=True)
    entity = CharField(name="_type", default="Customer")
    name = CharField()


class Renamed(Model):
    __table_name__ = "unit_stream_renamed"
    __entity_attribute__ = "kind"
    __entity__ = "renamed-thing"

    pk = CharField(hash_key=True)
    kind = CharField(default="renamed-thing")


ARN = (
    "arn:aws:dynamodb:eu-west-1:123456789012:table/unit_stream_tickets"
    "/stream/2024-03-01T10:00:00.000"
)
BLOB = base64.b64encode(b"\x89PNG").decode()


def lambda_record(name: str, sequence: str, **body: Any) -> dict[str, Any]:
    return {
        "eventID": f"id-{sequence}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "eventSourceARN": ARN,
        "dynamodb": {
            "ApproximateCreationDateTime": 1709287200,
            "Keys": {"ticket_id": {"N": "7"}},
            "SequenceNumber": sequence,
            "SizeBytes": 60,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            **body,
        },
    }


CANNED_EVENT = {
    "Records": [
        lambda_record(
            "INSERT",
            "100",
            NewImage={"ticket_id": {"N": "7"}, "title": {"S": "printer"}, "blob": {"B": BLOB}},
        ),
        lambda_record(
            "MODIFY",
            "200",
            OldImage={"ticket_id": {"N": "7"}, "title": {"S": "printer"}, "blob": {"B": BLOB}},
            NewImage={
                "ticket_id": {"N": "7"},
                "title": {"S": "printer"},
                "blob": {"B": BLOB},
                "labels": {"SS": ["hw", "urgent"]},
            },
        ),
        {
            **lambda_record(
                "REMOVE",
                "300",
                OldImage={
                    "ticket_id": {"N": "7"},
                    "title": {"S": "printer"},
                    "labels": {"SS": ["urgent", "hw"]},
                },
            ),
            "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        },
    ]
}


def test_a_canned_lambda_event_parses_to_typed_changes() -> None:
    changes = parse_lambda_event(CANNED_EVENT, Ticket)
    at = datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)
    before = Ticket(ticket_id=7, title="printer", blob=b"\x89PNG")
    after = Ticket(ticket_id=7, title="printer", blob=b"\x89PNG", labels={"hw", "urgent"})
    assert changes == [
        Change(
            "insert",
            Ticket,
            {"ticket_id": 7},
            None,
            before,
            frozenset({"ticket_id", "title", "blob"}),
            "100",
            at,
        ),
        Change("modify", Ticket, {"ticket_id": 7}, before, after, frozenset({"labels"}), "200", at),
        Change(
            "remove",
            Ticket,
            {"ticket_id": 7},
            Ticket(ticket_id=7, title="printer", labels={"hw", "urgent"}),
            None,
            frozenset({"ticket_id", "title", "labels"}),
            "300",
            at,
            by_ttl=True,
        ),
    ]
    assert isinstance(changes[1].new, Ticket)
    assert changes[1].new.labels == {"hw", "urgent"}
    assert [change.by_ttl for change in changes] == [False, False, True]


def test_a_lambda_change_cannot_checkpoint_itself() -> None:
    change = parse_lambda_event(CANNED_EVENT, Ticket)[0]
    with pytest.raises(InvalidArgument, match="batch_item_failures"):
        change.checkpoint()


def test_batch_item_failures_name_the_failed_sequence_numbers() -> None:
    changes = parse_lambda_event(CANNED_EVENT, Ticket)
    assert batch_item_failures([changes[1], "300"]) == {
        "batchItemFailures": [{"itemIdentifier": "200"}, {"itemIdentifier": "300"}]
    }
    assert batch_item_failures([]) == {"batchItemFailures": []}


def test_handle_lambda_event_stops_at_the_first_failure(caplog: pytest.LogCaptureFixture) -> None:
    handled: list[str] = []

    def handler(change: Change[Any]) -> None:
        if change.kind == "modify":
            raise RuntimeError("search index down")
        handled.append(change.sequence_number)

    with caplog.at_level(logging.ERROR, logger="dynamodb.streams"):
        answer = handle_lambda_event(CANNED_EVENT, Ticket, handler)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert handled == ["100"]  # the removal after it waits for Lambda's retry
    assert "search index down" in caplog.text
    assert handle_lambda_event(CANNED_EVENT, Ticket, lambda change: None) == {
        "batchItemFailures": []
    }


def test_a_lambda_event_of_a_shared_table_gives_each_item_its_model() -> None:
    def record(entity: str, key: str, sequence: str) -> dict[str, Any]:
        image = {"pk": {"S": key}, "_type": {"S": entity}}
        return lambda_record("INSERT", sequence, Keys={"pk": {"S": key}}, NewImage=image)

    event = {"Records": [record("Order", "o1", "1"), record("Customer", "c1", "2")]}
    both = parse_lambda_event(event, [Order, Customer])
    assert [(type(change.new), change.keys) for change in both] == [
        (Order, {"pk": "o1"}),
        (Customer, {"pk": "c1"}),
    ]
    assert [change.keys for change in parse_lambda_event(event, Customer)] == [{"pk": "c1"}]


def test_what_is_not_a_dynamodb_streams_event_is_refused() -> None:
    with pytest.raises(InvalidValue, match="no Records list"):
        parse_lambda_event({"body": "{}"}, Ticket)
    with pytest.raises(InvalidValue, match="aws:sqs"):
        parse_lambda_event({"Records": [{"eventSource": "aws:sqs"}]}, Ticket)


def test_the_class_of_an_item_is_chosen_by_its_entity_attribute() -> None:
    order = {"pk": {"S": "1"}, "_type": {"S": "Order"}}
    customer = {"pk": {"S": "2"}, "_type": {"S": "Customer"}}
    assert _class_for_item([Order, Customer], order) is Order
    assert _class_for_item([Order, Customer], customer) is Customer
    assert _class_for_item([Order], customer) is None
    assert _class_for_item([Order, Customer], {"pk": {"S": "3"}}) is None  # cannot tell
    assert _class_for_item([Order], {"pk": {"S": "3"}}) is Order  # the only one given
    # A model sharing no table may store an attribute "_type" of its own.
    assert _class_for_item([Ticket], {"ticket_id": {"N": "1"}, "_type": {"S": "bug"}}) is Ticket
    renamed = {"pk": {"S": "4"}, "kind": {"S": "renamed-thing"}}
    assert _class_for_item([Renamed], renamed) is Renamed
    # Alone on its table, a model reads every item of it (the table is not shared).
    assert _class_for_item([Renamed], {"pk": {"S": "4"}, "kind": {"S": "other"}}) is Renamed


# -- options, checked before anything is sent ------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"start": "beginning"}, InvalidValue, "start"),
        ({"lease_seconds": 0}, InvalidValue, "lease_seconds"),
        ({"batch_size": 0}, InvalidValue, "batch_size"),
        ({"stop_after": 0}, InvalidValue, "stop_after"),
        ({"stop_after": "10s"}, InvalidValue, "stop_after"),
        ({"stop_after": True}, InvalidValue, "stop_after"),
        ({"worker": ""}, InvalidValue, "worker"),
        ({"checkpoints": "stream_checkpoints"}, InvalidArgument, "TableCheckpoints"),
        ({"auto_checkpoint": "yes"}, InvalidValue, "auto_checkpoint"),
        ({"checkpoint": None}, InvalidArgument, "unknown options \\['checkpoint'\\]"),
    ],
)
def test_bad_stream_options_are_refused_naming_the_model(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as raised:
        Ticket.stream(**options)
    assert "Ticket" in str(raised.value)


def test_stop_after_reads_ints_as_changes_and_floats_or_timedeltas_as_idle_seconds() -> None:
    assert Ticket.stream(stop_after=5)._count == 5
    assert Ticket.stream(stop_after=2.5)._idle == 2.5
    assert Ticket.stream(stop_after=timedelta(minutes=1))._idle == 60.0


def test_where_checks_kinds_and_field_names() -> None:
    with pytest.raises(InvalidValue, match="'upsert'"):
        Ticket.stream().where(kind="upsert")
    with pytest.raises(UnknownField, match=r"'tittle'.*'title'"):
        Ticket.stream().where(changed={"tittle"})
    narrowed = Ticket.stream().where(kind={"modify"}, changed={Ticket.title, "labels"})
    assert narrowed._filters[0].changed == frozenset({"title", "labels"})


def test_read_takes_models_of_one_table() -> None:
    assert dynamodb.streams.read([Order, Customer]).models == (Order, Customer)
    with pytest.raises(InvalidArgument, match="one table"):
        dynamodb.streams.read([Order, Ticket])
    with pytest.raises(InvalidArgument, match="takes a model"):
        dynamodb.streams.read("Order")
    table_models = dynamodb.streams.read(dynamodb.Table(Customer)).models
    assert table_models[0] is Customer
    assert Order in table_models


# -- the table's stream specification ------------------------------------------------------------


def test_stream_views_are_checked_when_the_model_is_defined() -> None:
    with pytest.raises(ModelDefinitionError, match="__stream__ must be one of"):

        class Wrong(Model):
            __table_name__ = "unit_stream_wrong"
            __stream__ = "BOTH_IMAGES"
            key = CharField(hash_key=True)


def test_create_table_sets_the_stream_specification() -> None:
    request = Ticket._meta.require_table().create_table_request()
    assert request["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }


def described(stream: dict[str, Any] | None) -> dict[str, Any]:
    description = {
        "TableName": "unit_stream_tickets",
        "KeySchema": [{"AttributeName": "ticket_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "ticket_id", "AttributeType": "N"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
    }
    if stream is not None:
        description["StreamSpecification"] = stream
    return description


def test_update_turns_the_stream_on_changes_its_view_or_leaves_it_alone() -> None:
    schema = Ticket._meta.require_table()
    wanted = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert schema.update_table_requests(described(None)) == [
        {"TableName": "unit_stream_tickets", "StreamSpecification": wanted}
    ]
    assert schema.update_table_requests(described(wanted)) == []
    keys_only = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert schema.update_table_requests(described(keys_only)) == [
        {"TableName": "unit_stream_tickets", "StreamSpecification": {"StreamEnabled": False}},
        {"TableName": "unit_stream_tickets", "StreamSpecification": wanted},
    ]

    class Unstreamed(Model):
        __table_name__ = "unit_stream_tickets"
        ticket_id = IntegerField(hash_key=True)

    assert Unstreamed._meta.require_table().update_table_requests(described(wanted)) == []

    class StreamOff(Model):
        __table_name__ = "unit_stream_tickets"
        __stream__ = False
        ticket_id = IntegerField(hash_key=True)

    assert StreamOff._meta.require_table().update_table_requests(described(wanted)) == [
        {"TableName": "unit_stream_tickets", "StreamSpecification": {"StreamEnabled": False}}
    ]
