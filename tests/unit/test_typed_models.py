"""The annotated style at run time, and the pydantic forms of models (no server).

What the type checkers say about these models is checked by ``make typecheck``
(mypy and pyright over tests/typing); here the same modules run, and the pydantic
models are compared with what the fields declare.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from dynamodb import (
    BinaryField,
    CharField,
    Connection,
    DecimalField,
    DictField,
    EnumField,
    FieldValidationError,
    IntegerField,
    InvalidArgument,
    ListField,
    MapField,
    MapModel,
    MissingDependency,
    MockTransport,
    Model,
    SetField,
    TimeDeltaField,
    TTLField,
    Typed,
    UnknownField,
    UUIDField,
    VersionField,
)
from tests.support.readme_example import python_blocks
from tests.typing import seed_style, typed_style


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(MapModel, Typed):
    street: CharField = CharField(required=True, max_length=40)
    city: CharField = CharField()


class Player(Model, Typed):
    __table_name__ = "unit_typed_players"

    name: CharField = CharField(hash_key=True, min_length=2)
    score: IntegerField = IntegerField(range_key=True, name="sc", minimum=0, maximum=100)
    id: UUIDField = UUIDField(default=uuid.uuid4)
    level: IntegerField = IntegerField(default=1, doc="the player's level")
    nickname: CharField = CharField(required=True)
    balance: DecimalField = DecimalField()
    color: EnumField[Color] = EnumField(Color)
    tags: SetField = SetField(of=str)
    history: ListField = ListField(of=IntegerField(minimum=0))
    addresses: ListField = ListField(of=Address)
    extra: DictField = DictField(of=IntegerField())
    home: MapField[Address] = MapField(Address)
    blob: BinaryField = BinaryField()
    wait: TimeDeltaField = TimeDeltaField()
    expires: TTLField = TTLField()
    version: VersionField = VersionField()


def full_player() -> Player:
    return Player(
        name="ada",
        score=7,
        nickname="a",
        balance=Decimal("1.25"),
        color=Color.BLUE,
        tags={"x", "y"},
        history=[1, 2],
        addresses=[Address(street="1 Main St")],
        extra={"a": 1},
        home=Address(street="2 Side St", city="Springfield"),
        blob=b"\x00\xff",
        wait=dt.timedelta(seconds=1.5),
        expires=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
    )


# -- the annotated style at run time ------------------------------------------------------


def test_typed_is_a_dataclass_transform_that_declares_no_field_specifiers() -> None:
    transform = Typed.__dataclass_transform__  # type: ignore[attr-defined]
    assert transform["kw_only_default"] is True
    assert transform["field_specifiers"] == ()


def test_a_typed_model_has_the_fields_and_checks_of_its_seed_twin() -> None:
    class Seed(Model):
        __table_name__ = "unit_typed_seed"
        name = CharField(hash_key=True)
        score = IntegerField(range_key=True)

    class Annotated(Model, Typed):
        __table_name__ = "unit_typed_annotated"
        name: CharField = CharField(hash_key=True)
        score: IntegerField = IntegerField(range_key=True)

    assert list(Annotated._meta.fields) == list(Seed._meta.fields) == ["name", "score"]
    assert Annotated(name="a", score=1).to_dict() == Seed(name="a", score=1).to_dict()
    with pytest.raises(UnknownField, match="unknown fields"):
        Annotated(nme="a")  # type: ignore[call-arg]
    with pytest.raises(FieldValidationError, match=r"Annotated\.score"):
        Annotated(score="1")  # type: ignore[arg-type]
    assert Annotated() == Annotated(name=None, score=None)  # every field is optional


def test_the_typing_modules_define_working_models() -> None:
    player = typed_style.Player(name="a", score=1, tags=["x"], history=(1, 2))
    assert player.tags == {"x"}
    assert player.history == [1, 2]
    assert isinstance(player.id, uuid.UUID)
    assert typed_style.Player.notes.startswith("a class-level setting")
    assert "notes" not in typed_style.Player._meta.fields
    assert next(iter(typed_style.Player._meta.fields)) == "created"  # from the abstract base
    assert seed_style.Game(name="a", score=1).score == 1


def test_create_and_get_keep_their_run_time_signatures() -> None:
    import inspect

    assert list(inspect.signature(Player.create).parameters) == [
        "overwrite",
        "connection",
        "values",
    ]
    assert "include_expired" in inspect.signature(Player.get).parameters


# -- pydantic -----------------------------------------------------------------------------


def test_pydantic_types_required_fields_and_defaults() -> None:
    model = Player.pydantic()
    fields = model.model_fields
    assert model.__name__ == "Player"
    assert [name for name, info in fields.items() if info.is_required()] == [
        "name",
        "score",
        "nickname",
    ]
    assert fields["level"].default == 1
    assert fields["level"].description == "the player's level"
    assert fields["balance"].default is None
    assert fields["tags"].default_factory is not None  # a SetField defaults to set()
    annotations = {name: info.annotation for name, info in fields.items()}
    assert annotations["name"] is str
    assert annotations["score"] is int
    assert annotations["id"] is uuid.UUID
    assert annotations["balance"] == Decimal | None
    assert annotations["color"] == Color | None
    assert annotations["tags"] == set[str]
    address: Any = Address.pydantic()
    assert annotations["addresses"] == list[address] | None
    assert annotations["home"] == address | None
    assert annotations["blob"] == bytes | None
    assert annotations["wait"] == dt.timedelta | None
    assert annotations["expires"] == dt.datetime | None
    assert annotations["version"] == int | None


def test_pydantic_models_are_cached_per_class_and_naming() -> None:
    assert Player.pydantic() is Player.pydantic()
    assert Player.pydantic(by_alias=True) is not Player.pydantic()
    assert Player.pydantic(by_alias=True).__name__ == "PlayerStored"


def test_constraints_are_the_fields() -> None:
    model = Player.pydantic()
    with pytest.raises(pydantic.ValidationError) as raised:
        model(name="a", score=101, nickname="n", history=[-1], home={"street": "x" * 41})
    problems = {
        (".".join(map(str, error["loc"])), error["type"]) for error in raised.value.errors()
    }
    assert problems == {
        ("name", "string_too_short"),
        ("score", "less_than_equal"),
        ("history.0", "greater_than_equal"),
        ("home.street", "string_too_long"),
    }
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        model(name="ab", score=1, nickname="n", nope=1)


def test_by_alias_uses_the_stored_names() -> None:
    stored = Player.pydantic(by_alias=True)
    obj = stored.model_validate({"name": "ada", "sc": 3, "nickname": "a"})
    assert obj.model_dump(include={"name", "score"}) == {"name": "ada", "sc": 3}
    assert json.loads(obj.model_dump_json(include={"score"})) == {"sc": 3}
    by_name = stored.model_validate({"name": "ada", "score": 3, "nickname": "a"})
    assert by_name.model_dump(exclude={"id"}) == obj.model_dump(exclude={"id"})
    assert "sc" in Player.json_schema(by_alias=True)["properties"]
    assert "score" in Player.json_schema()["properties"]


def test_to_pydantic_and_from_pydantic_round_trip() -> None:
    player = full_player()
    obj = player.to_pydantic()
    assert isinstance(obj, Player.pydantic())
    assert Player.from_pydantic(obj) == player
    again = Player.pydantic().model_validate_json(obj.model_dump_json())
    assert Player.from_pydantic(again) == player
    stored = player.to_pydantic(by_alias=True)
    assert Player.from_pydantic(stored) == player


def test_json_is_what_a_web_client_reads() -> None:
    data = json.loads(full_player().to_pydantic().model_dump_json())
    assert data["blob"] == "AP8="  # base64, as to_son() writes bytes
    assert data["wait"] == 1.5  # seconds, as to_son() writes a timedelta
    assert data["balance"] == "1.25"
    assert data["color"] == "blue"
    assert data["home"] == {"street": "2 Side St", "city": "Springfield"}
    assert sorted(data["tags"]) == ["x", "y"]


def test_from_pydantic_takes_what_the_object_was_given() -> None:
    class Body(pydantic.BaseModel):
        name: str
        score: int
        nickname: str

    player = Player.from_pydantic(Body(name="ada", score=1, nickname="a"))
    assert player.level == 1  # the model's default
    assert isinstance(player.id, uuid.UUID)

    class Stray(pydantic.BaseModel):
        name: str
        colour: str

    with pytest.raises(UnknownField, match=r"from_pydantic\(\) got unknown fields \['colour'\]"):
        Player.from_pydantic(Stray(name="ada", colour="red"))
    with pytest.raises(InvalidArgument, match="takes a pydantic model instance, not dict"):
        Player.from_pydantic({"name": "ada"})  # type: ignore[arg-type]


def test_from_pydantic_checks_values_as_the_constructor_does() -> None:
    class Refusing(Model):
        __table_name__ = "unit_typed_refusing"
        id = CharField(hash_key=True, validator=lambda text: text.islower())

    with pytest.raises(FieldValidationError, match="refused by validator"):
        Refusing.from_pydantic(Refusing.pydantic()(id="ABC"))


def test_an_unset_required_field_fails_to_pydantic() -> None:
    with pytest.raises(pydantic.ValidationError, match="nickname"):
        Player(name="ada", score=1).to_pydantic()


def test_templated_fields_are_optional_and_computed() -> None:
    class Line(Model):
        __table_name__ = "unit_typed_lines"
        pk = CharField(hash_key=True, template="ORDER#{order_id}")
        order_id = CharField(required=True)

    line = Line(order_id="o1")
    obj = line.to_pydantic()
    assert obj.model_dump() == {"pk": "ORDER#o1", "order_id": "o1"}
    assert not Line.pydantic().model_fields["pk"].is_required()
    assert Line.from_pydantic(obj) == line


def test_models_are_pydantic_field_types() -> None:
    class Roster(pydantic.BaseModel):
        players: list[Player]
        captain: Player | None = None

    player = full_player()
    roster = Roster(players=[player])
    assert roster.players[0] is player
    data = roster.model_dump(mode="json")
    assert data["players"][0]["name"] == "ada"
    back = Roster.model_validate_json(roster.model_dump_json())
    assert back.players == [player]
    assert isinstance(back.players[0], Player)
    with pytest.raises(pydantic.ValidationError) as raised:
        Roster.model_validate({"players": [{"name": "ada", "score": -1, "nickname": "a"}]})
    assert [error["loc"] for error in raised.value.errors()] == [("players", 0, "score")]
    schema = Roster.model_json_schema()
    assert schema["properties"]["players"]["items"] == {"$ref": "#/$defs/Player"}


def test_without_pydantic_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    class Fresh(Model):
        __table_name__ = "unit_typed_fresh"
        id = CharField(hash_key=True)

    monkeypatch.setitem(sys.modules, "pydantic", None)
    with pytest.raises(MissingDependency, match=r"pip install 'dynamodb-py\[pydantic\]'"):
        Fresh.pydantic()


def test_import_dynamodb_imports_neither_pydantic_nor_fastapi() -> None:
    probe = "import sys, dynamodb; print(sorted({'pydantic', 'fastapi'} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_the_readme_fastapi_example_is_tests_typing_notes_app() -> None:
    from pathlib import Path

    blocks = [block for block in python_blocks("### Pydantic and FastAPI") if "FastAPI()" in block]
    source = Path(__file__).parents[1] / "typing" / "notes_app.py"
    assert blocks == [source.read_text(encoding="utf-8")]


def test_pydantic_forms_of_untyped_containers_take_any_value() -> None:
    class Loose(Model):
        __table_name__ = "unit_typed_loose"
        id = CharField(hash_key=True)
        doc = DictField()
        items = ListField()
        bag = SetField()

    annotations: dict[str, Any] = {
        name: info.annotation for name, info in Loose.pydantic().model_fields.items()
    }
    assert annotations == {
        "id": str,
        "doc": dict[str, Any] | None,
        "items": list[Any] | None,
        "bag": set[Any],
    }


def test_every_misuse_in_tests_typing_must_fail_in_both_checkers() -> None:
    from pathlib import Path

    root = Path(__file__).parents[2]
    settings = (root / "pyproject.toml").read_text(encoding="utf-8")
    pyright = settings[settings.index("[tool.pyright]") :]
    for line in (
        'typeCheckingMode = "strict"',
        "enableTypeIgnoreComments = false",
        'reportUnnecessaryTypeIgnoreComment = "error"',
    ):
        assert f"\n{line}\n" in pyright
    misuses = 0
    for path in sorted((root / "tests" / "typing").glob("[!_]*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            marks = ("# type: ignore[" in line, "# pyright: ignore[" in line)
            assert marks[0] == marks[1], f"{path.name}:{number} names one checker: {line}"
            misuses += marks[0]
    assert misuses >= 25


def test_the_readme_typed_models_example_runs() -> None:
    definitions, calls = python_blocks("### Typed models")[:2]
    namespace: dict[str, Any] = {"__name__": "readme_typed_models"}
    exec(definitions, namespace)
    fine = calls.splitlines()[0]
    player = eval(fine.split("#")[0], namespace)
    assert player.home.street == "1 Main St"
    assert player.nickname is None
    with pytest.raises(FieldValidationError):
        eval(calls.splitlines()[1].split("#")[0], namespace)
    with pytest.raises(UnknownField):
        eval(calls.splitlines()[2].split("#")[0], namespace)


def test_defaults_holding_nested_models_become_their_pydantic_models() -> None:
    class Kit(Model):
        __table_name__ = "unit_typed_kits"
        id = CharField(hash_key=True)
        main = MapField(Address, default=Address(street="1 Main St"))
        spare = ListField(of=Address, default=lambda: [Address(street="2 Side St")])

    made = Kit.pydantic()(id="k")
    assert made.model_dump() == {
        "id": "k",
        "main": {"street": "1 Main St", "city": None},
        "spare": [{"street": "2 Side St", "city": None}],
    }
    main = Kit.json_schema()["properties"]["main"]
    assert main["default"] == {"street": "1 Main St", "city": None}
    assert Kit.from_pydantic(made) == Kit(id="k")


def test_operands_the_checkers_pass_are_refused_at_run_time_before_sending() -> None:
    # tests/typing/typed_style.py shows both checkers accept these: operands of
    # conditions and update actions are not checked against the field's type.
    sent: list[str] = []

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        sent.append(operation)
        return {"Items": [], "Count": 0, "ScannedCount": 0}

    connection = Connection(transport=MockTransport(answer))
    item = Player(name="ada", score=1, nickname="a")
    attempts: list[Callable[[], object]] = [
        lambda: Player.score == "x",
        lambda: Player.score.set("x"),
        lambda: (
            Player.query().where(Player.name == "ada", Player.score > "x").using(connection).all()
        ),
        lambda: item.update(Player.score.add("x"), connection=connection),
        lambda: item.save(condition=Player.score.lt("x"), connection=connection),
    ]
    for attempt in attempts:
        with pytest.raises(FieldValidationError, match=r"Player\.score: 'x' is not valid"):
            attempt()
    assert sent == []
