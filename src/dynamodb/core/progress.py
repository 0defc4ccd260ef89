"""Progress reporting for long batches: a callback, or a progress bar.

``progress=`` on batch calls takes a callable ``progress(done, total)`` (called
after every chunk, from worker threads in sync code: keep it quick), or
``True`` for a bar: tqdm when it is installed, else rich, else one line on
stderr that rewrites itself.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from dynamodb.core.errors import InvalidArgument

__all__ = ["Progress", "ProgressCallback", "make_progress"]

ProgressCallback = Callable[[int, int], object]


class Progress:
    """Counts finished items and tells a callback; thread-safe."""

    def __init__(
        self, total: int, callback: ProgressCallback | None, close: Callable[[], None]
    ) -> None:
        self.total = total
        self.done = 0
        self._callback = callback
        self._close = close
        self._lock = threading.Lock()

    def advance(self, count: int) -> None:
        """``count`` more items are done (the callback runs under a lock, in order)."""
        with self._lock:
            self.done += count
            if self._callback is not None:
                self._callback(self.done, self.total)

    def close(self) -> None:
        """Finish the bar (if any)."""
        self._close()


def _nothing() -> None:
    return None


def _tqdm_bar(total: int, label: str) -> Progress | None:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    bar: Any = tqdm(total=total, desc=label, unit="item")
    last = [0]

    def update(done: int, _total: int) -> None:
        bar.update(done - last[0])
        last[0] = done

    return Progress(total, update, bar.close)


def _rich_bar(total: int, label: str) -> Progress | None:
    try:
        from rich.progress import Progress as RichProgress
    except ImportError:
        return None
    bar: Any = RichProgress()
    task = bar.add_task(label, total=total)
    bar.start()
    return Progress(total, lambda done, _total: bar.update(task, completed=done), bar.stop)


def _text_bar(total: int, label: str) -> Progress:
    def show(done: int, total_: int) -> None:
        sys.stderr.write(f"\r{label}: {done}/{total_}")
        sys.stderr.flush()

    def finish() -> None:
        sys.stderr.write("\n")

    return Progress(total, show, finish)


def make_progress(progress: bool | ProgressCallback | None, total: int, label: str) -> Progress:
    """The reporter for a ``progress=`` argument."""
    if progress is None or progress is False:
        return Progress(total, None, _nothing)
    if progress is True:
        return _tqdm_bar(total, label) or _rich_bar(total, label) or _text_bar(total, label)
    if not callable(progress):
        raise InvalidArgument(
            f"progress= takes True, False or a callable(done, total), not {progress!r}"
        )
    return Progress(total, progress, _nothing)
