"""The canary workload: every kind of call, with a distinctive value in its keys, items,
conditions and errors, logged at DEBUG; the value must never reach a log line.

The session-wide handler of ``tests/conftest.py`` checks every record of the whole
run for the canary; this test also checks its own records, and that they were made
(a check of empty logs could not fail).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    IntegerField,
    Model,
    TransactionCanceled,
)
from dynamodb.testing import faults
from tests.support.log_canary import CANARY, LeakCatcher

Tables = Callable[..., None]


class Secret(Model):
    __table_name__ = "test_log_canary_secrets"
    __secondary_indexes__ = {"by_note": {"hash_key": "note", "projections": "ALL"}}  # noqa: RUF012

    owner = CharField(hash_key=True)
    n = IntegerField(range_key=True)
    note = CharField(default="")


async def test_no_value_of_any_call_reaches_the_logs(
    tables: Tables, caplog: pytest.LogCaptureFixture, no_values_in_logs: LeakCatcher
) -> None:
    tables(Secret)
    seen = no_values_in_logs.seen
    owner = f"{CANARY}-owner"
    with caplog.at_level(logging.DEBUG, logger="dynamodb"):
        Secret(owner=owner, n=1, note=f"{CANARY}-note").save()
        item = Secret.get(owner=owner, n=1)
        assert item is not None
        item.update(Secret.note.set(f"{CANARY}-updated"))
        with pytest.raises(ConditionalCheckFailed):
            Secret(owner=owner, n=1, note=CANARY).save(condition=Secret.note.eq(f"{CANARY}-x"))
        assert Secret.query().where(Secret.owner.eq(owner)).all()
        assert Secret.query().where(Secret.note.eq(f"{CANARY}-updated")).use_index("by_note").all()
        assert list(Secret.scan().where(Secret.note.begins_with(CANARY)))
        Secret.batch_write([Secret(owner=owner, n=n, note=CANARY) for n in range(2, 40)])
        Secret.batch_get(*[{"owner": owner, "n": n} for n in range(1, 40)])
        with pytest.raises(TransactionCanceled), dynamodb.transaction() as tx:
            tx.save(Secret(owner=owner, n=1, note=CANARY), condition=Secret.note.eq(CANARY))
        with faults(throttle=0.5, seed=3) as injected:  # retries, logged at INFO
            Secret.batch_delete(keys=[{"owner": owner, "n": n} for n in range(2, 40)])
            await Secret.aget(owner=owner, n=1)
        assert injected.injected["throttle"] > 0
    requests = [record for record in caplog.records if hasattr(record, "dynamodb")]
    assert len(requests) > 12
    assert any(record.levelno == logging.INFO for record in caplog.records)
    assert no_values_in_logs.seen - seen >= len(requests)  # the session handler saw them
    assert CANARY not in caplog.text
    assert no_values_in_logs.leaks == []


def test_the_catcher_would_see_a_value_that_leaked() -> None:
    catcher = LeakCatcher()
    logger = logging.getLogger("tests.log_canary")
    logger.addHandler(catcher)
    try:
        logger.warning("no value here")
        logger.warning("put %s", {"owner": {"S": CANARY}})
    finally:
        logger.removeHandler(catcher)
    assert catcher.seen == 2
    assert len(catcher.leaks) == 1
