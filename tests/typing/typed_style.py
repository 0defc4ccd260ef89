"""The annotated style: ``class ...(Model, Typed)`` with fields annotated by their type."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any, ClassVar

from typing_extensions import assert_type

from dynamodb import (
    BooleanField,
    CharField,
    CompressedField,
    Condition,
    Connection,
    Cursor,
    DateTimeField,
    DecimalField,
    DictField,
    EncryptedField,
    EnumField,
    IntegerField,
    ListField,
    MapField,
    MapModel,
    Model,
    Query,
    SetField,
    TTLField,
    Typed,
    UpdateAction,
    UUIDField,
)
from dynamodb.encryption import StaticKeys


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(MapModel, Typed):
    street: CharField = CharField(required=True)
    city: CharField = CharField()


class Stamped(Model, Typed):
    __abstract__ = True
    created: DateTimeField = DateTimeField()


class Player(Stamped):
    __table_name__ = "typing_players"
    notes: ClassVar[str] = "a class-level setting: ClassVar keeps it out of the constructor"

    name: CharField = CharField(hash_key=True)
    score: IntegerField = IntegerField(range_key=True)
    id: UUIDField = UUIDField(default=uuid.uuid4)
    active: BooleanField = BooleanField(default=True)
    balance: DecimalField = DecimalField()
    color: EnumField[Color] = EnumField(Color)
    tags: SetField = SetField(of=str)
    history: ListField = ListField(of=IntegerField())
    extra: DictField = DictField()
    home: MapField[Address] = MapField(Address)
    expires: TTLField = TTLField()
    # Fields that may be unset, read as such: the read type is the second parameter.
    nickname: CharField[str | None] = CharField()
    rank: IntegerField[int | None] = IntegerField()
    shade: EnumField[Color, Color | None] = EnumField(Color)
    office: MapField[Address, Address | None] = MapField(Address)


def reads(player: Player) -> None:
    assert_type(player.name, str)
    assert_type(player.score, int)
    assert_type(player.id, uuid.UUID)
    assert_type(player.balance, Decimal)
    assert_type(player.created, dt.datetime)
    assert_type(player.color, Color)
    assert_type(player.home, Address)
    assert_type(player.home.street, str)
    assert_type(player.expires, dt.datetime)
    assert_type(player.tags, set[Any])
    assert_type(player.nickname, str | None)
    assert_type(player.rank, int | None)
    assert_type(player.shade, Color | None)
    assert_type(player.office, Address | None)
    assert_type(Player.nickname, CharField[str | None])
    if player.office is not None:  # no "unnecessary comparison" under pyright's strict mode
        assert_type(player.office.street, str)
    player.rank.bit_length()  # type: ignore[union-attr]  # pyright: ignore[reportOptionalMemberAccess]
    player.nickname.upper()  # type: ignore[union-attr]  # pyright: ignore[reportOptionalMemberAccess]
    assert_type(Player.score, IntegerField)
    assert_type(Player.home, MapField[Address])


def constructor() -> None:
    assert_type(Player(name="a", score=1), Player)
    Player()  # every field is optional, as at run time (required ones are checked on writes)
    Player(name="a", score=1, created=dt.datetime.now(dt.timezone.utc), color=Color.RED)
    Player(name="a", score=None)  # None leaves a field unset
    Player(home=Address(street="1 Main St"))
    Player(nickname="a", rank=1, shade=Color.RED, office=Address(street="x"))
    Player(rank="1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # other types the fields always take, as at run time:
    Player(balance=1.5, tags=["a", "b"], history=(1, 2), expires=dt.timedelta(days=7))
    Player(balance=Decimal("1.5"), tags=frozenset({"a"}), extra={"a": [1]})
    Address(street="x", city="y")
    Player(name="a", score="1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Player(name="a", scor=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Player(nam="a")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Player(color="red")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Player(home=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Player(tags="a")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Player(expires=3600)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Player("a")  # type: ignore[call-arg, arg-type]  # pyright: ignore[reportCallIssue]
    Address(street=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Address(town="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Player(notes="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


class Misdeclared(Model, Typed):
    __table_name__ = "typing_misdeclared"
    id: CharField = CharField(hash_key=True)
    count: IntegerField[str] = IntegerField()  # type: ignore[type-var, assignment]  # pyright: ignore[reportInvalidTypeArguments, reportAssignmentType]


def read_types_are_covariant(player: Player) -> None:
    wide: CharField[str | None] = Player.name  # a field that reads str reads str | None too
    narrow: CharField[str] = Player.nickname  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    del wide, narrow


def assignment(player: Player) -> None:
    player.score = 2
    player.score = None
    player.score = "2"  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]


def item_calls(connection: Connection) -> None:
    assert_type(Player.create(name="a", score=1), Player)
    assert_type(Player.create(name="a", score=1, overwrite=False), Player)
    assert_type(Player.create(name="a", connection=connection), Player)
    Player.create(name="a", score="1")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    Player.create(nme="a")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    assert_type(Player.get(name="a", score=1), Player | None)
    assert_type(Player.get(name="a", score=1, consistent=True), Player | None)
    assert_type(Player.get(name="a", projections=[Player.score]), Player | None)
    assert_type(Player.get(name="a", connection=connection), Player | None)
    Player.get(name="a", score="1")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    Player.get(nme="a")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    item = Player(name="a", score=1)
    assert_type(item.save(), Player)
    assert_type(item.update(Player.score.add(1)), Player)
    assert_type(item.condition(Player.score.gt(0)).save(), Player)
    assert_type(Player.batch_get({"name": "a", "score": 1}), list[Player])
    assert_type(Player.batch_write([item]), list[Player])
    assert_type(Player.add(name="a", score=1, balance=1), Player)


def queries() -> None:
    assert_type(Player.query(), Query[Player])
    query = Player.query(Player.score, Player.home["city"]).where(
        Player.name == "a", Player.score.between(1, 5)
    )
    assert_type(query.all(), list[Player])
    assert_type(query.first(), Player | None)
    page, cursor = query.limit(10).get_items()
    assert_type(page, list[Player])
    assert_type(cursor, Cursor | None)
    for player in Player.scan().where(Player.tags.contains("x")):
        assert_type(player, Player)
    condition: Condition = Player.created.exists() & Player.color.eq(Color.RED)
    action: UpdateAction = Player.history.list_append([1])
    optional: Condition = Player.nickname.begins_with("a") | Player.office["city"].not_exists()
    cleared: UpdateAction = Player.rank.remove()
    assert_type(Player.query(Player.nickname, Player.office["street"]).all(), list[Player])
    # operands are not checked against the field's type: refused at run time (FieldValidationError)
    unchecked: Condition = Player.score == "x"
    unset: UpdateAction = Player.score.set("x")
    del condition, action, optional, cleared, unchecked, unset


async def async_twins() -> None:
    assert_type(await Player.acreate(name="a", score=1), Player)
    assert_type(await Player.acreate(name="a", overwrite=False), Player)
    await Player.acreate(name="a", score="1")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    assert_type(await Player.aget(name="a", score=1), Player | None)
    assert_type(await Player.aget(name="a", consistent=True), Player | None)
    await Player.aget(name=1)  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    assert_type(await Player.abatch_get({"name": "a", "score": 1}), list[Player])
    assert_type(await Player.query().where(Player.name == "a").aall(), list[Player])
    async for player in Player.query().where(Player.name == "a"):
        assert_type(player, Player)
    page, cursor = await Player.query().where(Player.name == "a").limit(10).aget_items()
    assert_type(page, list[Player])
    assert_type(cursor, Cursor | None)
    item = Player(name="a", score=1)
    assert_type(await item.asave(), Player)
    assert_type(await item.aupdate(Player.score.add(1)), Player)
    assert_type(await item.condition(Player.score.gt(0)).asave(), Player)
    assert_type(await Player.abatch_write([item]), list[Player])
    assert_type(await Player.abatch_write([{"name": "a", "score": 1}]), list[Player])


class Patient(Model, Typed):
    """Wrapping fields take and read their inner field's type."""

    __table_name__ = "typing_patients"
    patient_id: CharField = CharField(hash_key=True)
    diagnosis: EncryptedField[str] = EncryptedField(CharField(), keys=StaticKeys({"k": b"0" * 32}))
    history: CompressedField[str] = CompressedField(CharField(), algorithm="gzip")
    allergy: EncryptedField[str, str | None] = EncryptedField(
        CharField(), keys=StaticKeys({"k": b"0" * 32})
    )
    summary: CompressedField[str, str | None] = CompressedField(CharField())
    visits: EncryptedField[int, int | None] = EncryptedField(
        CompressedField(IntegerField()), keys=StaticKeys({"k": b"0" * 32})
    )


KEYS = StaticKeys({"k": b"0" * 32})


def wrapped_fields() -> None:
    patient = Patient(patient_id="p1", diagnosis="asthma", history="seen")
    assert_type(patient.diagnosis, str)
    assert_type(patient.history, str)
    assert_type(Patient.diagnosis.exists(), Condition)
    Patient(patient_id="p1", diagnosis=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Patient(patient_id="p1", history=b"x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert_type(patient.allergy, str | None)
    assert_type(patient.summary, str | None)
    assert_type(patient.visits, int | None)
    patient.allergy.upper()  # type: ignore[union-attr]  # pyright: ignore[reportOptionalMemberAccess]
    patient.allergy = "pollen"
    patient.allergy = None
    Patient(patient_id="p1", allergy=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Patient(patient_id="p1", visits="3")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    _: EncryptedField[int] = EncryptedField(CharField(), keys=KEYS)  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
