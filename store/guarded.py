"""A store whose every failure is a `StoreError` with a one-line reason naming where the history is.

A history location that cannot be used (a read-only folder or file, a directory, a file that is not SQLite, a
database locked too long, a full disk, an unreachable PostgreSQL) shows up as whatever the driver or the OS raises,
sometimes several lines long. Callers catch one thing, `StoreError`, and print or attach its message as it is:
"<location>: <what failed>". Non-finite values and naive times stay `ValueError`: those are the caller's bugs.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from store.base import CoverageStore, Observation, SeriesKey, SeriesSummary, StoreError, Vintage

T = TypeVar("T")
MAX_REASON_CHARS = 300
# A series no writer uses: reading its latest row opens the store (and applies its migrations) and nothing else.
PROBE_KEY = SeriesKey("windvane", "probe", "")


def _is_driver_error(exc: BaseException) -> bool:
    # asyncpg is imported only when PostgreSQL is configured; its errors are recognised by their module.
    return type(exc).__module__.split(".")[0] == "asyncpg"


def one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_REASON_CHARS else line[: MAX_REASON_CHARS - 3] + "..."


def sqlite_hint(path: Path, message: str) -> str:
    """What is wrong with the path itself, which SQLite reports only as "unable to open database file"."""
    if path.is_dir():
        return " (the path is a directory; point WINDVANE_DB_PATH at a file)"
    folder = next((p for p in path.parents if p.exists()), None)
    if folder is not None and not folder.is_dir():
        return f" ({folder} is a file, not a folder)"
    if "unable to open" in message:
        return f" (cannot create or write {path.name} in {path.parent}: read-only or missing folder?)"
    return ""


class GuardedStore:
    """Wraps a store: each failure becomes StoreError("<location>: <one-line reason>") and is kept in `fault`."""

    def __init__(self, inner: CoverageStore, location: str) -> None:
        self.inner = inner
        self.location = location
        self.fault: str | None = None

    def reason(self, exc: BaseException) -> str:
        cause = exc.__cause__ if isinstance(exc, StoreError) and exc.__cause__ is not None else exc
        if isinstance(cause, OSError) and cause.strerror:
            detail = f"{cause.strerror}: {cause.filename}" if cause.filename else cause.strerror
        else:
            detail = str(cause) or type(cause).__name__
            if _is_driver_error(cause):
                detail = f"{type(cause).__name__}: {detail}"
        path = getattr(self.inner, "path", None)
        hint = sqlite_hint(path, detail) if isinstance(path, Path) else ""
        return one_line(f"{self.location}: {detail}{hint}")

    async def _guard(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except (StoreError, sqlite3.Error, OSError, TimeoutError) as exc:
            self.fault = self.reason(exc)
            raise StoreError(self.fault) from exc
        except Exception as exc:
            if not _is_driver_error(exc):
                raise
            self.fault = self.reason(exc)
            raise StoreError(self.fault) from exc

    async def probe(self, *, write: bool = False) -> None:
        """Open the store as a command about to use it would (and, with `write`, check a write would commit):
        raises StoreError when it cannot be used."""
        await self._guard(lambda: self.inner.latest(PROBE_KEY, datetime.now(UTC)))
        check = getattr(self.inner, "check_writable", None) if write else None
        if check is not None:
            await self._guard(check)

    async def upsert(self, observations: Sequence[Observation], *, vintages: Sequence[Vintage] = ()) -> int:
        return await self._guard(lambda: self.inner.upsert(observations, vintages=vintages))

    async def read_vintages(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Vintage]:
        return await self._guard(lambda: self.inner.read_vintages(key, start, end, known_at=known_at))

    async def read(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Observation]:
        return await self._guard(lambda: self.inner.read(key, start, end, known_at=known_at))

    async def latest(
        self, key: SeriesKey, at_or_before: datetime, *, known_at: datetime | None = None
    ) -> Observation | None:
        return await self._guard(lambda: self.inner.latest(key, at_or_before, known_at=known_at))

    async def summary(self, source: str | None = None) -> list[SeriesSummary]:
        return await self._guard(lambda: self.inner.summary(source))

    async def add_coverage(self, key: SeriesKey, start: datetime, end: datetime) -> None:
        await self._guard(lambda: self.inner.add_coverage(key, start, end))

    async def coverage(self, key: SeriesKey, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return await self._guard(lambda: self.inner.coverage(key, start, end))

    async def upsert_covered(
        self, observations: Sequence[Observation], coverage: Sequence[tuple[SeriesKey, datetime, datetime]]
    ) -> int:
        return await self._guard(lambda: self.inner.upsert_covered(observations, coverage))

    async def close(self) -> None:
        # a failed close releases what it can; the failure that matters was reported when the store was used
        with contextlib.suppress(StoreError):
            await self._guard(self.inner.close)

    def __getattr__(self, name: str) -> Any:
        # The backends' own helpers (schema_version, check_writable, ...) pass through, still guarded if async.
        if name.startswith("__") or name == "inner":  # copies and pickling probe these before `inner` exists
            raise AttributeError(name)
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def guarded(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if isinstance(result, Awaitable):
                return self._guard(lambda: result)
            return result

        return guarded
