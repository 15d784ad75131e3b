"""The one concurrency idiom of windvane (fetchers and tools): run independent calls together, try sources in order.

`gather(a, b, ...)` starts every call at once and returns their results as a typed tuple, so a call costs the
slowest of its requests, not their sum. No call's error cancels the others or arrives wrapped in an
ExceptionGroup: once all have finished, the error of the first failing call *in argument order* is raised, as the
same calls made one after another would have raised it. Cancellation still propagates at once.

`first_answer(options, call)` tries options in order (venues, hosts, vendors) and returns the first that gave a
value; `call` decides what counts as an answer and records why an option did not give one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar, overload

import anyio

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")
F = TypeVar("F")
T = TypeVar("T")
O = TypeVar("O")  # noqa: E741 - an option


async def _run_all(calls: Sequence[Callable[[], Awaitable[Any]]], limit: int | None = None) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    errors: list[Exception | None] = [None] * len(calls)
    limiter = anyio.CapacityLimiter(limit) if limit is not None else None

    async def one(i: int) -> None:
        try:
            if limiter is None:
                results[i] = await calls[i]()
            else:
                async with limiter:
                    results[i] = await calls[i]()
        except Exception as exc:  # kept for the caller; cancellation (a BaseException) still propagates
            errors[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(len(calls)):
            tg.start_soon(one, i)
    for error in errors:
        if error is not None:
            raise error
    return results


@overload
async def gather(a: Callable[[], Awaitable[A]], b: Callable[[], Awaitable[B]], /) -> tuple[A, B]: ...


@overload
async def gather(
    a: Callable[[], Awaitable[A]], b: Callable[[], Awaitable[B]], c: Callable[[], Awaitable[C]], /
) -> tuple[A, B, C]: ...


@overload
async def gather(
    a: Callable[[], Awaitable[A]],
    b: Callable[[], Awaitable[B]],
    c: Callable[[], Awaitable[C]],
    d: Callable[[], Awaitable[D]],
    /,
) -> tuple[A, B, C, D]: ...


@overload
async def gather(
    a: Callable[[], Awaitable[A]],
    b: Callable[[], Awaitable[B]],
    c: Callable[[], Awaitable[C]],
    d: Callable[[], Awaitable[D]],
    e: Callable[[], Awaitable[E]],
    /,
) -> tuple[A, B, C, D, E]: ...


@overload
async def gather(
    a: Callable[[], Awaitable[A]],
    b: Callable[[], Awaitable[B]],
    c: Callable[[], Awaitable[C]],
    d: Callable[[], Awaitable[D]],
    e: Callable[[], Awaitable[E]],
    f: Callable[[], Awaitable[F]],
    /,
) -> tuple[A, B, C, D, E, F]: ...


async def gather(*calls: Callable[[], Awaitable[Any]]) -> tuple[Any, ...]:
    return tuple(await _run_all(calls))


async def gather_all(calls: Iterable[Callable[[], Awaitable[T]]], *, limit: int | None = None) -> list[T]:
    """Like `gather`, for any number of calls returning the same type; results in the order of `calls`.

    `limit` caps how many run at once (a public API with unpublished limits)."""
    results: list[T] = await _run_all(list(calls), limit)
    return results


async def first_answer(options: Iterable[O], call: Callable[[O], Awaitable[T | None]]) -> tuple[O, T] | None:
    """The first option, in order, whose call returned a value (not None), with that value; None if none did."""
    for option in options:
        got = await call(option)
        if got is not None:
            return option, got
    return None
