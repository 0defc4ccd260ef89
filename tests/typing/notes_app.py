"""notes.py: a FastAPI app over a typed model, with pages and opaque cursors.

Run it with ``NOTES_CURSOR_SECRET=<long random text> uvicorn notes:app``.
"""

import os
from typing import Annotated

from fastapi import Body, FastAPI, HTTPException, Query
from pydantic import BaseModel

import dynamodb
from dynamodb import CharField, IntegerField, InvalidCursor, Model, Typed

# The cursors leave the server: encrypted, clients can neither read nor forge them.
dynamodb.set_cursor_secret(os.environ["NOTES_CURSOR_SECRET"])


class Note(Model, Typed):
    __table_name__ = "notes"

    board: CharField = CharField(hash_key=True, max_length=40)
    note_id: CharField = CharField(range_key=True, default=dynamodb.ulid)
    text: CharField = CharField(required=True, max_length=280)
    votes: IntegerField = IntegerField(default=0, minimum=0)


class NotePage(BaseModel):
    items: list[Note]  # a model is a pydantic field type: validated, serialised as Note.pydantic()
    cursor: str | None  # the next page's cursor; None on the last page


app = FastAPI()


@app.post("/notes", status_code=201)
async def add_note(note: Annotated[Note, Body()]) -> Note:
    return await note.asave()


@app.get("/boards/{board}/notes/{note_id}")
async def get_note(board: str, note_id: str) -> Note:
    note = await Note.aget(board=board, note_id=note_id)
    if note is None:
        raise HTTPException(404, f"no note {note_id} on {board}")
    return note


@app.get("/boards/{board}/notes")
async def list_notes(
    board: str, cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> NotePage:
    try:
        query = Note.query().where(Note.board == board).limit(limit).start_key(cursor)
        items, next_cursor = await query.aget_items()
    except InvalidCursor:
        raise HTTPException(400, "this cursor is not one of this board's pages") from None
    return NotePage(items=items, cursor=next_cursor)
