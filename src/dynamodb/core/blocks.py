"""``with`` and ``async with`` for objects that act when a block ends."""

from __future__ import annotations

from types import TracebackType

from dynamodb.core.compat import Self

__all__ = ["WithBlock"]


class WithBlock:
    """``with x:`` and ``async with x:`` around two hooks.

    Subclasses define :meth:`_end` and :meth:`_aend`; ``ok`` is True when the
    block ended without an exception. Entering returns the object itself.
    """

    __slots__ = ()

    def _end(self, ok: bool) -> None:
        raise NotImplementedError

    async def _aend(self, ok: bool) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._end(kind is None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._aend(kind is None)
