"""Which connection a call uses: ``use_connection`` blocks are per thread and per task.

No request is sent here: ``get_connection()`` is what every call without
``connection=`` (and without a model ``__connection__``) resolves to, so the
tests look at it from several threads and tasks at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

import dynamodb
from dynamodb import Connection
from dynamodb.core.flow import Flow
from dynamodb.wire import connection as connection_module


def _connection(name: str) -> Connection:
    # Nothing is sent: a Connection makes no client until it is used.
    return Connection(endpoint_url=f"http://127.0.0.1:1/{name}", region_name="us-east-1")


@pytest.fixture
def process_default() -> Iterator[Connection]:
    """A fresh process-wide default, with the previous one put back afterwards."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection_module, "_default", None)
        yield dynamodb.set_connection(endpoint_url="http://127.0.0.1:1/default")


def _in_threads(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def run(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []


def test_a_block_in_one_thread_does_not_leak_into_another(process_default: Connection) -> None:
    first, second = _connection("first"), _connection("second")
    inside = threading.Barrier(3, timeout=5)  # both blocks entered, and the observer ready
    seen: dict[str, Connection] = {}

    def worker(name: str, mine: Connection) -> Callable[[], None]:
        def body() -> None:
            with dynamodb.use_connection(mine):
                inside.wait()  # the other thread is inside its block now
                seen[name] = dynamodb.get_connection()
                inside.wait()  # and stays there until every thread has looked
            seen[f"{name} after"] = dynamodb.get_connection()

        return body

    def observer() -> None:
        inside.wait()
        seen["observer"] = dynamodb.get_connection()
        inside.wait()

    _in_threads(worker("first", first), worker("second", second), observer)

    assert seen["first"] is first
    assert seen["second"] is second
    assert seen["observer"] is process_default  # a thread with no block
    assert seen["first after"] is seen["second after"] is process_default
    assert dynamodb.get_connection() is process_default


async def test_concurrent_tasks_each_see_their_own_block(process_default: Connection) -> None:
    first, second = _connection("first"), _connection("second")
    entered = 0
    all_inside = asyncio.Event()

    async def task(mine: Connection) -> tuple[Connection, Connection]:
        nonlocal entered
        with dynamodb.use_connection(mine):
            entered += 1
            if entered == 2:
                all_inside.set()
            await all_inside.wait()  # both tasks are inside their blocks now
            during = dynamodb.get_connection()
            await asyncio.sleep(0)
        return during, dynamodb.get_connection()

    (first_during, first_after), (second_during, second_after), outside = await asyncio.gather(
        task(first), task(second), _current_after(all_inside)
    )

    assert first_during is first
    assert second_during is second
    assert outside is process_default  # the test's own task has no block
    assert first_after is second_after is process_default


async def _current_after(event: asyncio.Event) -> Connection:
    await event.wait()
    return dynamodb.get_connection()


async def test_tasks_started_inside_a_block_inherit_it(process_default: Connection) -> None:
    mine = _connection("mine")
    with dynamodb.use_connection(mine):
        inherited = await asyncio.create_task(_current_after(_set_event()))
    assert inherited is mine


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


def test_nested_blocks_restore_the_outer_one_also_on_errors(process_default: Connection) -> None:
    outer, inner = _connection("outer"), _connection("inner")
    seen: list[Connection] = []

    def fail_inside(connection: Connection) -> None:
        with dynamodb.use_connection(connection) as entered:
            seen.append(entered)
            seen.append(dynamodb.get_connection())
            raise KeyError("boom")

    with dynamodb.use_connection(outer):
        with pytest.raises(KeyError):
            fail_inside(inner)
        assert dynamodb.get_connection() is outer
    assert dynamodb.get_connection() is process_default

    with pytest.raises(KeyError):
        fail_inside(outer)
    assert dynamodb.get_connection() is process_default
    assert seen == [inner, inner, outer, outer]


def test_set_connection_sets_the_default_of_every_thread(process_default: Connection) -> None:
    seen: list[Connection] = []
    made: list[Connection] = []

    _in_threads(lambda: made.append(dynamodb.set_connection(endpoint_url="http://127.0.0.1:2")))
    _in_threads(lambda: seen.append(dynamodb.get_connection()))

    assert made[0] is not process_default
    assert seen == [made[0]]
    assert dynamodb.get_connection() is made[0]


def test_set_connection_inside_a_block_lasts_until_the_block_ends(
    process_default: Connection,
) -> None:
    seen: list[Connection] = []
    with dynamodb.use_connection(_connection("block")):
        replaced = dynamodb.set_connection(endpoint_url="http://127.0.0.1:2")
        assert dynamodb.get_connection() is replaced
        _in_threads(lambda: seen.append(dynamodb.get_connection()))
    assert seen == [process_default]  # other threads never saw it
    assert dynamodb.get_connection() is process_default


def test_the_process_default_is_made_lazily_once() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection_module, "_default", None)
        seen: list[Connection] = []
        _in_threads(*[lambda: seen.append(dynamodb.get_connection())] * 8)
        assert len({id(connection) for connection in seen}) == 1
        assert dynamodb.get_connection() is seen[0]


def _current_connection_flow() -> Flow[Connection]:
    return dynamodb.get_connection()
    yield  # a flow that sends nothing


def test_run_many_threads_see_the_callers_block(process_default: Connection) -> None:
    mine = _connection("mine")
    with dynamodb.use_connection(mine):
        outcomes = mine.run_many([_current_connection_flow() for _ in range(4)], concurrency=4)
    assert outcomes == [mine] * 4
