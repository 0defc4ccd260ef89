"""The seed style (``score = IntegerField()``, no annotation), under both checkers.

Reads, class attributes, item calls and their results are typed as in the annotated
style; the constructor, ``create`` and ``get`` take ``**values: Any``, so their names
and values are checked at run time only.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from dynamodb import CharField, Cursor, IntegerField, ListField, MapModel, Model, Query


class Part(MapModel):
    label = CharField()


class Game(Model):
    __table_name__ = "typing_games"
    name = CharField(hash_key=True)
    score = IntegerField(range_key=True)
    parts = ListField(of=Part)
    note: CharField[str | None] = CharField()  # an annotation only: still the seed style


def reads(game: Game) -> None:
    assert_type(game.name, str)
    assert_type(game.score, int)
    assert_type(game.parts, list[Any])
    assert_type(Game.score, IntegerField)
    assert_type(game.note, str | None)
    game.note.upper()  # type: ignore[union-attr]  # pyright: ignore[reportOptionalMemberAccess]


def constructor_is_unchecked() -> None:
    assert_type(Game(name="a", score=1), Game)
    Game(nme="a", score="1")  # no error from a checker: refused at run time (UnknownField)


def assignment(game: Game) -> None:
    game.score = 2
    game.score = "2"  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]


def results() -> None:
    assert_type(Game.create(name="a", score=1), Game)
    assert_type(Game.create(name="a", score=1, overwrite=False), Game)
    assert_type(Game.get(name="a", score=1), Game | None)
    assert_type(Game.batch_get({"name": "a", "score": 1}), list[Game])
    query = Game.query().where(Game.name == "a", Game.score > 1)
    assert_type(query, Query[Game])
    assert_type(query.all(), list[Game])
    page, cursor = query.get_items()
    assert_type(page, list[Game])
    assert_type(cursor, Cursor | None)
    game = Game(name="a", score=1)
    assert_type(game.save(), Game)
    assert_type(game.update(Game.score.add(1)), Game)
    assert_type(game.condition(Game.score.gt(0)).save(), Game)
    assert_type(Game.batch_write([game]), list[Game])
    Game.query().where(
        Game.nope == "a"  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownArgumentType]
    )


async def async_results() -> None:
    assert_type(await Game.acreate(name="a", score=1), Game)
    assert_type(await Game.aget(name="a", score=1), Game | None)
    assert_type(await Game.abatch_get({"name": "a", "score": 1}), list[Game])
    assert_type(await Game.query().where(Game.name == "a").aall(), list[Game])
    page, cursor = await Game.query().where(Game.name == "a").aget_items()
    assert_type(page, list[Game])
    assert_type(cursor, Cursor | None)
    game = Game(name="a", score=1)
    assert_type(await game.asave(), Game)
    assert_type(await game.aupdate(Game.score.add(1)), Game)
    assert_type(await game.condition(Game.score.gt(0)).asave(), Game)
    assert_type(await Game.abatch_write([game]), list[Game])
