"""The AWS getting-started tutorial (Movies), with dynamodb-py and with raw boto3.

Both run the tutorial's steps on the same table of 4,610 movies (a data set of
the tutorial's size and shape: :mod:`tests.support.movies`) and must see the
same results: Query01 (the movies of 1985), Query02 (1992, titles A to L, a
projection with nested paths), the scan of the 1950s, and the item operations
(put, get, nested updates, an increment, a failing conditional update and a
failing conditional delete).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key

import dynamodb
from dynamodb import CharField, ConditionalCheckFailed, Connection, DictField, IntegerField, Model
from tests.support.movies import MOVIE_COUNT, movies


class Movies(Model):
    __table_name__ = "test_aws_tutorial_movies"
    ReadCapacityUnits = 10
    WriteCapacityUnits = 10

    year = IntegerField(hash_key=True)
    title = CharField(range_key=True)
    info = DictField()


def plain(value: Any) -> Any:
    """Numbers as Decimal, everywhere: boto3 gives Decimals, the library ints and floats."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: plain(member) for key, member in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(member) for member in value]
    return value


def ours(items: list[Movies]) -> list[dict[str, Any]]:
    rows = [{k: v for k, v in item.to_dict().items() if v is not None} for item in items]
    return sorted((plain(row) for row in rows), key=lambda row: (row["year"], row["title"]))


def theirs(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((plain(row) for row in items), key=lambda row: (row["year"], row["title"]))


@pytest.fixture(scope="module")
def table(connection: Connection, dynamodb_endpoint: str) -> Iterator[Any]:
    """The Movies table, loaded once with the library; boto3's Table on it."""
    dynamodb.create_table(Movies, force=True)
    Movies.batch_write(movies())
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield resource.Table(Movies.__table_name__)
    dynamodb.delete_table(Movies)


def _all_pages(call: Any, **request: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = call(**request)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_the_load_stored_every_movie(table: Any) -> None:
    assert Movies.item_count(exact=True) == MOVIE_COUNT
    assert len(_all_pages(table.scan)) == MOVIE_COUNT


def test_query01_the_movies_of_1985(table: Any) -> None:
    mine = Movies.query().where(Movies.year.eq(1985)).all()
    boto = _all_pages(table.query, KeyConditionExpression=Key("year").eq(1985))
    assert len(mine) > 5
    assert ours(mine) == theirs(boto)


def test_query02_titles_a_to_l_with_nested_projections(table: Any) -> None:
    query = Movies.query(
        Movies.year, Movies.title, Movies.info["genres"], Movies.info["actors"][0]
    ).where(Movies.year.eq(1992), Movies.title.between("A", "L"))
    mine = query.all()
    boto = _all_pages(
        table.query,
        ProjectionExpression="#yr, title, info.genres, info.actors[0]",
        ExpressionAttributeNames={"#yr": "year"},
        KeyConditionExpression=Key("year").eq(1992) & Key("title").between("A", "L"),
    )
    assert len(mine) > 2
    assert ours(mine) == theirs(boto)
    assert all(set(item.info) <= {"genres", "actors"} for item in mine)
    assert all(len(item.info.get("actors", [])) <= 1 for item in mine)


def test_scan_the_1950s(table: Any) -> None:
    mine = (
        Movies.scan(Movies.year, Movies.title, Movies.info["rating"])
        .where(Movies.year.between(1950, 1959))
        .all()
    )
    boto = _all_pages(
        table.scan,
        FilterExpression=Attr("year").between(1950, 1959),
        ProjectionExpression="#yr, title, info.rating",
        ExpressionAttributeNames={"#yr": "year"},
    )
    assert len(mine) > 10
    assert ours(mine) == theirs(boto)


def test_the_item_operations_agree(table: Any) -> None:
    """ItemOps01-06 with the library on one title and with boto3 on another."""
    mine_title, boto_title = "The Big New Movie", "The Big New Movie (boto3)"
    info = {"plot": "Nothing happens at all.", "rating": Decimal(0)}

    # 01: put; 02: get
    Movies.create(year=2015, title=mine_title, info=info)
    table.put_item(Item={"year": 2015, "title": boto_title, "info": info})
    mine = Movies.get(year=2015, title=mine_title)
    assert mine is not None
    assert plain(mine.info) == plain(
        table.get_item(Key={"year": 2015, "title": boto_title})["Item"]["info"]
    )

    # 03: set nested attributes
    actors = ["Larry", "Moe", "Curly"]
    mine.update(
        Movies.info["rating"].set(Decimal("5.5")),
        Movies.info["plot"].set("Everything happens all at once."),
        Movies.info["actors"].set(actors),
    )
    table.update_item(
        Key={"year": 2015, "title": boto_title},
        UpdateExpression="set info.rating=:r, info.plot=:p, info.actors=:a",
        ExpressionAttributeValues={
            ":r": Decimal("5.5"),
            ":p": "Everything happens all at once.",
            ":a": actors,
        },
    )

    # 04: increment the rating
    mine.update(Movies.info["rating"].add(1))
    table.update_item(
        Key={"year": 2015, "title": boto_title},
        UpdateExpression="set info.rating = info.rating + :val",
        ExpressionAttributeValues={":val": Decimal(1)},
    )

    # 05: remove the first actor only if there are more than 3: refused on both sides
    with pytest.raises(ConditionalCheckFailed):
        mine.condition(Movies.info["actors"].size().gt(3)).update(Movies.info["actors"][0].remove())
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.update_item(
            Key={"year": 2015, "title": boto_title},
            UpdateExpression="remove info.actors[0]",
            ConditionExpression="size(info.actors) > :num",
            ExpressionAttributeValues={":num": 3},
        )

    # 06: delete only if the rating is at most 5: refused on both sides (it is 6.5)
    with pytest.raises(ConditionalCheckFailed):
        mine.delete(condition=Movies.info["rating"].lte(5))
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.delete_item(
            Key={"year": 2015, "title": boto_title},
            ConditionExpression="info.rating <= :val",
            ExpressionAttributeValues={":val": 5},
        )

    stored_mine = table.get_item(Key={"year": 2015, "title": mine_title}, ConsistentRead=True)
    stored_boto = table.get_item(Key={"year": 2015, "title": boto_title}, ConsistentRead=True)
    assert plain(stored_mine["Item"]["info"]) == plain(stored_boto["Item"]["info"])
    assert plain(stored_mine["Item"]["info"]) == plain(
        {"plot": "Everything happens all at once.", "rating": Decimal("6.5"), "actors": actors}
    )
    assert plain(mine.info) == plain(stored_mine["Item"]["info"])  # the instance is current
