"""The store as tools see it: a failing history store costs what only it provides, never the answer.

`DegradedStore` wraps the opened store. A read that fails answers "nothing stored" and a write that fails writes
nothing, so every tool takes the path it takes on an empty store (fetch the upstream; null with a reason where only
the history could answer). The failure is noted in the current tool call (`noting_faults`), and the call's result
then carries one warning "history store unavailable: <reason>" however many reads and writes failed. After a
failure the store is left alone for RETRY_AFTER_S: a locked or broken file is not retried on every read, and a
burst of calls meeting it waits for one attempt, not one each. A call that gets no answer within CALL_BUDGET_S
(a file locked by another process makes SQLite wait up to its 30 s lock timeout) counts as a failure too, so a
locked store costs a tool call a few seconds of its deadline, never the answer.

Commands that exist to read or write the history (`import`, `backfill`, ...) do not degrade: they check the store
first (`probe`) and report `fault` when something failed while they ran.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import anyio

from store.base import Observation, SeriesKey, SeriesSummary, StoreError, Vintage
from store.guarded import GuardedStore

T = TypeVar("T")
UNAVAILABLE = "history store unavailable"
RETRY_AFTER_S = 30.0
# Well under a tool's 15 s deadline, well over a healthy read (milliseconds; a large ETF read on a loaded machine, 1 s).
CALL_BUDGET_S = 5.0


def warning(reason: str) -> str:
    return f"{UNAVAILABLE}: {reason}"


@dataclass
class CallFaults:
    """The store failure a tool call met, if any (its latest reason)."""

    reason: str | None = None


_current: ContextVar[CallFaults | None] = ContextVar("windvane_store_faults", default=None)


@contextmanager
def noting_faults() -> Iterator[CallFaults]:
    """Within this block, store failures are noted here; a nested block (a sub-tool) shares the outer record."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    mine = CallFaults()
    token = _current.set(mine)
    try:
        yield mine
    finally:
        _current.reset(token)


def with_fault_warning(warnings: list[str], faults: CallFaults) -> list[str]:
    """`warnings` with the one store warning of the call (none when the store did not fail)."""
    if faults.reason is None:
        return warnings
    return [warning(faults.reason), *(w for w in warnings if not w.startswith(UNAVAILABLE))]


class DegradedStore:
    def __init__(self, inner: GuardedStore, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self.fault: str | None = None  # the latest failure, for commands that report it
        self._clock = clock
        self._failed_at: float | None = None
        # Until a call has succeeded (and again after a failure) calls go one at a time: a burst of calls against a
        # locked file costs one wait of the store's lock timeout, not one each (a thread's wait cannot be cut).
        self._proven = False
        self._gate = anyio.Lock()

    def _note(self, reason: str) -> None:
        self.fault = reason
        faults = _current.get()
        if faults is not None:
            faults.reason = reason

    def _resting(self) -> bool:
        return self._failed_at is not None and self._clock() - self._failed_at < RETRY_AFTER_S

    async def _degrade(self, call: Callable[[], Awaitable[T]], empty: T) -> T:
        if self._proven:
            return await self._attempt(call, empty)
        async with self._gate:
            return await self._attempt(call, empty)

    async def _attempt(self, call: Callable[[], Awaitable[T]], empty: T) -> T:
        if self._resting() and self.fault is not None:
            self._note(self.fault)
            return empty
        try:
            with anyio.fail_after(CALL_BUDGET_S):
                result = await call()
        except TimeoutError:
            self._failed_at, self._proven = self._clock(), False
            self._note(f"{self.inner.location}: no answer within {CALL_BUDGET_S:g} s (locked by another process?)")
            return empty
        except StoreError as exc:
            self._failed_at, self._proven = self._clock(), False
            self._note(str(exc))
            return empty
        self._failed_at, self._proven = None, True
        return result

    async def probe(self, *, write: bool = False) -> None:
        """Raises StoreError when the store cannot be opened, or with `write` not written (for commands, which
        must not degrade)."""
        await self.inner.probe(write=write)

    async def upsert(self, observations: Sequence[Observation], *, vintages: Sequence[Vintage] = ()) -> int:
        return await self._degrade(lambda: self.inner.upsert(observations, vintages=vintages), 0)

    async def read_vintages(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Vintage]:
        return await self._degrade(lambda: self.inner.read_vintages(key, start, end, known_at=known_at), [])

    async def read(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Observation]:
        return await self._degrade(lambda: self.inner.read(key, start, end, known_at=known_at), [])

    async def latest(
        self, key: SeriesKey, at_or_before: datetime, *, known_at: datetime | None = None
    ) -> Observation | None:
        return await self._degrade(lambda: self.inner.latest(key, at_or_before, known_at=known_at), None)

    async def summary(self, source: str | None = None) -> list[SeriesSummary]:
        return await self._degrade(lambda: self.inner.summary(source), [])

    async def add_coverage(self, key: SeriesKey, start: datetime, end: datetime) -> None:
        await self._degrade(lambda: self.inner.add_coverage(key, start, end), None)

    async def coverage(self, key: SeriesKey, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return await self._degrade(lambda: self.inner.coverage(key, start, end), [])

    async def upsert_covered(
        self, observations: Sequence[Observation], coverage: Sequence[tuple[SeriesKey, datetime, datetime]]
    ) -> int:
        return await self._degrade(lambda: self.inner.upsert_covered(observations, coverage), 0)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # The backends' own helpers pass through; a command that calls one is not degraded.
        if name.startswith("__") or name == "inner":  # copies and pickling probe these before `inner` exists
            raise AttributeError(name)
        return getattr(self.inner, name)
