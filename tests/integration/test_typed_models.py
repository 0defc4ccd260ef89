"""A model in the annotated style against DynamoDB Local: the calls whose signatures the
type checkers see through the constructor (create, get and their twins) behave as for any
model, with and without options."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dynamodb import (
    CharField,
    Connection,
    IntegerField,
    ItemAlreadyExists,
    ListField,
    MapModel,
    Model,
    Typed,
    UnknownField,
)

Tables = Callable[..., None]


class Move(MapModel, Typed):
    piece: CharField = CharField(required=True)
    square: CharField = CharField()


class Match(Model, Typed):
    __table_name__ = "test_typed_matches"

    board: CharField = CharField(hash_key=True)
    round: IntegerField = IntegerField(range_key=True)
    moves: ListField = ListField(of=Move, default=[])
    points: IntegerField = IntegerField(default=0)


@pytest.fixture
def matches(tables: Tables) -> None:
    tables(Match)


@pytest.mark.usefixtures("matches")
def test_create_get_query_and_batches(connection: Connection) -> None:
    made = Match.create(board="b", round=1, moves=[Move(piece="pawn", square="e4")])
    assert type(made) is Match
    with pytest.raises(ItemAlreadyExists):
        Match.create(board="b", round=1, overwrite=False)
    Match.create(board="b", round=2, points=3, connection=connection)
    found = Match.get(board="b", round=1)
    assert found == made
    assert found is not None
    assert found.moves == [Move(piece="pawn", square="e4")]
    partial = Match.get(board="b", round=2, consistent=True, projections=[Match.points])
    assert partial is not None
    assert partial.points == 3
    assert Match.get(board="b", round=3) is None
    with pytest.raises(UnknownField, match="key has unknown parts"):
        Match.get(board="b", points=1)
    assert [m.round for m in Match.query().where(Match.board == "b").all()] == [1, 2]
    assert [m.round for m in Match.batch_get({"board": "b", "round": 2}, found)] == [2, 1]


@pytest.mark.usefixtures("matches")
async def test_the_async_twins(aconnection: Connection) -> None:
    made = await Match.acreate(board="a", round=1, points=1)
    with pytest.raises(ItemAlreadyExists):
        await Match.acreate(board="a", round=1, overwrite=False)
    assert await Match.aget(board="a", round=1) == made
    assert await Match.aget(board="a", round=1, consistent=True) == made
    assert await Match.query().where(Match.board == "a").aall() == [made]
    assert await Match.abatch_get({"board": "a", "round": 1}) == [made]
