"""Run two independent requests at once, and let the caller take each one's result or error in its own order.

A sequential `a = await x(); b = await y()` costs two round trips; `both` costs one. Each outcome is kept (never
raised inside the task group, which would cancel the sibling and wrap the error in an ExceptionGroup), so a caller
can unwrap them in the order the sequential code used and keep exactly the same behaviour: which error surfaces
first, and what it records before raising.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio

A = TypeVar("A")
B = TypeVar("B")


@dataclass
class Outcome(Generic[A]):
    """A finished call: its value, or the exception it raised."""

    value: A | None = None
    error: Exception | None = None

    def unwrap(self) -> A:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # no error means the call returned this value


async def _settle(call: Callable[[], Awaitable[A]], out: Outcome[A]) -> None:
    try:
        out.value = await call()
    except Exception as exc:  # kept for the caller; cancellation (a BaseException) still propagates
        out.error = exc


async def both(first: Callable[[], Awaitable[A]], second: Callable[[], Awaitable[B]]) -> tuple[Outcome[A], Outcome[B]]:
    """Start both calls together and wait for both; neither error cancels the other call."""
    a: Outcome[A] = Outcome()
    b: Outcome[B] = Outcome()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_settle, first, a)
        tg.start_soon(_settle, second, b)
    return a, b
