"""The README's FastAPI example (tests/typing/notes_app.py) against DynamoDB Local.

Pages of a board's notes come with opaque, encrypted cursors that chain without a
repeat or a gap; a cursor that was edited, or belongs to another board, is answered 400
before anything is read; bodies are validated by the model's pydantic form (422).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dynamodb import set_cursor_secret

Tables = Callable[..., None]


@pytest.fixture
def notes(tables: Tables, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("NOTES_CURSOR_SECRET", "the notes app's secret: long and random in use")
    module = importlib.import_module("tests.typing.notes_app")
    module = importlib.reload(module)  # runs set_cursor_secret again for this test
    tables(module.Note)
    yield module
    set_cursor_secret(None)


@pytest.fixture
def client(notes: ModuleType) -> Iterator[TestClient]:
    with TestClient(notes.app) as client:
        yield client


def add(client: TestClient, board: str, text: str) -> dict[str, Any]:
    answer = client.post("/notes", json={"board": board, "text": text})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_pages_chain_through_cursors(client: TestClient) -> None:
    added = [add(client, "ideas", f"note {number}") for number in range(23)]
    add(client, "other", "not on this board")
    seen: list[str] = []
    cursors: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 10}
        if cursor is not None:
            params["cursor"] = cursor
        answer = client.get("/boards/ideas/notes", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen.extend(item["note_id"] for item in page["items"])
        cursor = page["cursor"]
        if cursor is None:
            break
        cursors.append(cursor)
    assert [len(seen[start : start + 10]) for start in (0, 10, 20)] == [10, 10, 3]
    assert seen == sorted(note["note_id"] for note in added)  # ULIDs: in the order added
    assert len(cursors) == 2
    set_cursor_secret(None)  # another secret (none): the app's cursors are refused
    answer = client.get("/boards/ideas/notes", params={"cursor": cursors[0]})
    assert answer.status_code == 400


def test_items_are_the_models_json(client: TestClient) -> None:
    made = add(client, "ideas", "hello")
    assert made == {"board": "ideas", "note_id": made["note_id"], "text": "hello", "votes": 0}
    answer = client.get(f"/boards/ideas/notes/{made['note_id']}")
    assert answer.json() == made
    assert client.get("/boards/ideas/notes/nope").status_code == 404


def test_a_cursor_of_another_board_or_edited_is_refused(client: TestClient) -> None:
    for number in range(3):
        add(client, "ideas", f"note {number}")
        add(client, "other", f"note {number}")
    cursor = client.get("/boards/ideas/notes", params={"limit": 1}).json()["cursor"]
    assert cursor is not None
    other = client.get("/boards/other/notes", params={"limit": 1, "cursor": cursor})
    assert other.status_code == 400
    assert other.json() == {"detail": "this cursor is not one of this board's pages"}
    edited = cursor[:-3] + ("AAA" if cursor[-3:] != "AAA" else "BBB")
    assert client.get("/boards/ideas/notes", params={"cursor": edited}).status_code == 400


def test_bodies_are_validated_by_the_model(client: TestClient) -> None:
    too_long = client.post("/notes", json={"board": "ideas", "text": "x" * 281})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["type"] == "string_too_long"
    unknown = client.post("/notes", json={"board": "ideas", "text": "x", "color": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["type"] == "extra_forbidden"
    assert client.post("/notes", json={"text": "no board"}).status_code == 422
    assert client.get("/boards/ideas/notes", params={"limit": 0}).status_code == 422


def test_the_openapi_schema_describes_notes(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    note = schemas["Note"]
    assert note["required"] == ["board", "text"]
    assert note["properties"]["text"]["maxLength"] == 280
    assert schemas["NotePage"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Note"
    }
