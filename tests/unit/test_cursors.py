"""Cursors without a server: what a cursor is bound to, and encrypted cursors.

- ``query_scope``: the digest of table, index, key condition and filter (values
  included) that every cursor is checked against; what changes it, what does not.
- With ``set_cursor_secret``: AES-GCM cursors that reveal nothing of the key in any
  decoding, refuse any changed character, and belong to their secret; without a
  secret, the signed form still round trips. Either form works in another process
  with the same secret (nothing is kept per process).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import string
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from dynamodb import (
    BinaryField,
    CharField,
    Cursor,
    DynamoDBError,
    IntegerField,
    InvalidCursor,
    MissingDependency,
    Model,
    set_cursor_secret,
)
from dynamodb.core.cursor import decode_cursor, query_scope


class Ticket(Model):
    __table_name__ = "test_cursor_tickets"
    __secondary_indexes__ = {  # noqa: RUF012
        "by_status": {"hash_key": "project_key", "range_key": "status", "projections": "ALL"},
    }

    project_key = CharField(hash_key=True)
    issue_id = CharField(range_key=True)
    status = CharField()
    votes = IntegerField(indexed=True)
    blob = BinaryField()


class OtherTable(Ticket):
    __table_name__ = "test_cursor_other"


KEY = {"project_key": {"S": "acme#web"}, "issue_id": {"S": "i-0042"}}
SECRET = "a long random secret for the tests"


@pytest.fixture(autouse=True)
def default_secret() -> Iterator[None]:
    set_cursor_secret(None)
    yield
    set_cursor_secret(None)


def scope(query: Any) -> str:
    return query_scope(query.explain())


def web() -> Any:
    return Ticket.query().where(Ticket.project_key.eq("acme#web"))


# -- what a cursor is bound to ------------------------------------------------------------


def test_the_same_query_built_again_has_the_same_scope() -> None:
    assert scope(web()) == scope(web())
    assert scope(web().where(Ticket.votes.gt(1))) == scope(web().where(Ticket.votes.gt(1)))
    assert scope(Ticket.scan(segments=3).segment(1)) == scope(Ticket.scan(segments=3).segment(1))


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(
            lambda: Ticket.query().where(Ticket.project_key.eq("acme#bulk")), id="key value"
        ),
        pytest.param(
            lambda: web().where(Ticket.issue_id.begins_with("i-")), id="range key condition"
        ),
        pytest.param(lambda: web().where(Ticket.status.eq("open")), id="index"),
        pytest.param(lambda: web().use_index(None).where(Ticket.status.eq("x")), id="filter"),
        pytest.param(
            lambda: OtherTable.query().where(OtherTable.project_key.eq("acme#web")), id="table"
        ),
        pytest.param(lambda: Ticket.scan(), id="a scan"),
    ],
)
def test_another_query_has_another_scope(other: Any) -> None:
    assert scope(other()) != scope(web())


def test_filter_values_and_names_count() -> None:
    base = web().use_index(None)
    scopes = {
        scope(base.where(Ticket.status.eq("open"))),
        scope(base.where(Ticket.status.eq("closed"))),
        scope(base.where(Ticket.status.ne("open"))),
        scope(base.where(Ticket.blob.eq(b"\x00"))),
        scope(base.where(Ticket.blob.eq(b"\x01"))),
        scope(base),
    }
    assert len(scopes) == 6


def test_segments_count() -> None:
    scopes = {
        scope(Ticket.scan()),
        scope(Ticket.scan(segments=2).segment(0)),
        scope(Ticket.scan(segments=2).segment(1)),
        scope(Ticket.scan(segments=3).segment(1)),
    }
    assert len(scopes) == 4


def test_what_only_shapes_a_page_does_not_count() -> None:
    """A cursor may continue with another page size or projection, or read backwards."""
    same = {
        scope(web()),
        scope(web().limit(3).page_size(7)),
        scope(web().consistent()),
        scope(Ticket.query(Ticket.status).where(Ticket.project_key.eq("acme#web"))),
        scope(web().order_by(Ticket.issue_id, asc=False)),
    }
    assert len(same) == 1


def test_placeholder_numbering_does_not_count() -> None:
    request = web().where(Ticket.votes.gt(1)).use_index(None).explain()
    renumbered = {
        **request,
        "KeyConditionExpression": request["KeyConditionExpression"]
        .replace("#n0", "#k")
        .replace(":v0", ":key"),
        "ExpressionAttributeNames": {
            ("#k" if name == "#n0" else name): value
            for name, value in request["ExpressionAttributeNames"].items()
        },
        "ExpressionAttributeValues": {
            (":key" if name == ":v0" else name): value
            for name, value in request["ExpressionAttributeValues"].items()
        },
    }
    assert renumbered["KeyConditionExpression"] != request["KeyConditionExpression"]
    assert query_scope(renumbered) == query_scope(request)


def test_a_cursor_of_another_query_is_refused_by_the_builder() -> None:
    cursor = Cursor.from_key(KEY, scope(web()))
    assert web().start_key(cursor).explain()["ExclusiveStartKey"] == KEY
    bulk = Ticket.query().where(Ticket.project_key.eq("acme#bulk"))
    with pytest.raises(InvalidCursor, match="key condition or filter"):
        bulk.start_key(cursor).explain()
    with pytest.raises(InvalidCursor):
        web().where(Ticket.votes.gt(0)).use_index(None).start_key(cursor).explain()
    # the same query, descending and with another page size, continues from it
    again = web().order_by(Ticket.issue_id, asc=False).page_size(5).start_key(cursor)
    assert again.explain()["ExclusiveStartKey"] == KEY


# -- the two forms ------------------------------------------------------------------------


def decodings(part: str) -> list[bytes]:
    """Every way a reader might base64-decode a cursor part."""
    found = [part.encode()]
    padded = part + "=" * (-len(part) % 4)
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        for text in (part, padded):
            with contextlib.suppress(binascii.Error, ValueError):
                found.append(decode(text))
    return found


def test_without_a_secret_cursors_are_signed_and_round_trip() -> None:
    where = scope(web())
    cursor = Cursor.from_key(KEY, where)
    assert cursor.startswith("c1.")
    assert cursor.to_key(where) == KEY
    # signed only: the key can be read back (the README says so)
    assert any(b"acme#web" in data for data in decodings(cursor.split(".")[1]))


def test_with_a_secret_cursors_are_encrypted() -> None:
    set_cursor_secret(SECRET)
    where = scope(web())
    cursor = Cursor.from_key(KEY, where)
    assert cursor.startswith("e1.")
    assert cursor.isascii()
    assert cursor.to_key(where) == KEY
    for part in cursor.split("."):
        for data in decodings(part):
            assert b"acme" not in data
            assert b"i-0042" not in data
            assert b"project_key" not in data
    # a fresh nonce each time: the same position gives unrelated cursors
    assert Cursor.from_key(KEY, where) != cursor


def test_binary_and_number_keys_round_trip_encrypted() -> None:
    set_cursor_secret(b"\x00\xff binary secret")
    key: dict[str, Any] = {"bucket": {"B": b"\x00\xffbin"}, "seq": {"N": "-12.5"}}
    cursor = Cursor.from_key(key, "somewhere")
    assert decode_cursor(cursor, "somewhere") == key


def _changed(text: str, position: int) -> list[str]:
    """``text`` with the character at ``position`` replaced, in a few ways."""
    alphabet = string.ascii_letters + string.digits + "-_="
    char = text[position]
    others = [c for c in alphabet if c != char][:: len(alphabet) // 4]
    return [text[:position] + other + text[position + 1 :] for other in others]


def test_changing_any_character_of_an_encrypted_cursor_is_refused() -> None:
    set_cursor_secret(SECRET)
    where = scope(web())
    cursor = Cursor.from_key(KEY, where)
    for position in range(len(cursor)):
        for bad in _changed(cursor, position):
            with pytest.raises(InvalidCursor):
                decode_cursor(bad, where)
    for bad in (cursor[:-1], cursor + "A", cursor[:-4], "e1." + cursor[3:][::-1], "e1..", ""):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad, where)


def test_an_encrypted_cursor_belongs_to_its_secret_and_its_query() -> None:
    set_cursor_secret(SECRET)
    where = scope(web())
    cursor = Cursor.from_key(KEY, where)
    with pytest.raises(InvalidCursor, match="key condition or filter"):
        decode_cursor(cursor, scope(Ticket.query().where(Ticket.project_key.eq("acme#bulk"))))
    set_cursor_secret("another secret")
    with pytest.raises(InvalidCursor, match="another cursor secret"):
        decode_cursor(cursor, where)
    set_cursor_secret(None)
    with pytest.raises(InvalidCursor, match="set_cursor_secret"):
        decode_cursor(cursor, where)
    signed = Cursor.from_key(KEY, where)
    set_cursor_secret(SECRET)
    with pytest.raises(InvalidCursor, match="signed only"):
        decode_cursor(signed, where)
    set_cursor_secret(SECRET.encode())  # the same secret as bytes
    assert decode_cursor(cursor, where) == KEY


def test_a_signed_cursor_cannot_be_forged_into_an_encrypted_one() -> None:
    where = scope(web())
    signed = Cursor.from_key(KEY, where)
    set_cursor_secret(SECRET)
    _, payload, mac = signed.split(".")
    with pytest.raises(InvalidCursor):
        decode_cursor(f"e1.{payload}.{mac}", where)


_OTHER_PROCESS = """
import sys
from dynamodb import Cursor, set_cursor_secret
if sys.argv[1]:
    set_cursor_secret(sys.argv[1])
print(Cursor.from_key({"project_key": {"S": "acme#web"}, "issue_id": {"S": "i-0042"}}, sys.argv[2]))
"""


@pytest.mark.parametrize("secret", ["", SECRET], ids=["signed", "encrypted"])
def test_a_cursor_from_another_process_is_read_with_the_same_secret(secret: str) -> None:
    where = scope(web())
    made = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, secret, where],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    if secret:
        set_cursor_secret(secret)
    assert decode_cursor(made, where) == KEY


def test_set_cursor_secret_refuses_what_is_no_secret() -> None:
    with pytest.raises(InvalidCursor, match="non-empty"):
        set_cursor_secret("")
    with pytest.raises(InvalidCursor, match="bytes or a str"):
        set_cursor_secret(12)  # type: ignore[arg-type]


def test_set_cursor_secret_without_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    where = scope(web())
    before = Cursor.from_key(KEY, where)
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers.aead", None)
    with pytest.raises(MissingDependency, match=r"pip install 'dynamodb-py\[crypto\]'") as raised:
        set_cursor_secret(SECRET)
    assert isinstance(raised.value, (DynamoDBError, ImportError))
    # nothing changed: cursors are still the signed ones
    assert Cursor.from_key(KEY, where).startswith("c1.")
    assert decode_cursor(before, where) == KEY
