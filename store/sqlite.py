"""SQLite implementation of the history store: one file, WAL mode, versioned migrations.

Every blocking call runs in a worker thread (anyio.to_thread), never on the event loop, and a caller that is
cancelled (a tool's budget for the store ran out) stops waiting for it: the thread finishes or fails on its own.
Each write is one transaction, so a process killed mid-write leaves the last committed state intact (WAL guarantees it).
Several processes (a server and a collector) may share the file: WAL lets readers run beside one writer, and
busy_timeout makes a second writer wait instead of failing. `synchronous=NORMAL` in WAL mode keeps every committed
transaction through a process crash (kill -9); only a power loss may drop the last few commits, never corrupt the file.
A connection is opened lazily in the process that uses it, so a forked child never shares its parent's handle.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from store.base import Observation, SeriesKey, SeriesSummary, StoreError, Vintage
from store.rows import from_ms, observation_rows, to_ms, vintage_rows

T = TypeVar("T")

# Append-only: a released migration is never edited, a new one is added at the end.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE observations (
        source TEXT NOT NULL,
        metric TEXT NOT NULL,
        asset TEXT NOT NULL,
        venue TEXT NOT NULL DEFAULT '',
        ts INTEGER NOT NULL,          -- unix ms, UTC
        value REAL NOT NULL,
        fetched_at INTEGER NOT NULL,  -- unix ms, UTC
        PRIMARY KEY (source, metric, asset, venue, ts)
    ) WITHOUT ROWID;
    """,
    # 2: spans of a series known to be complete (read-through skips the upstream; backfill resumes from it)
    """
    CREATE TABLE coverage (
        source TEXT NOT NULL,
        metric TEXT NOT NULL,
        asset TEXT NOT NULL,
        venue TEXT NOT NULL DEFAULT '',
        start_ts INTEGER NOT NULL,    -- unix ms, inclusive
        end_ts INTEGER NOT NULL,      -- unix ms, exclusive
        recorded_at INTEGER NOT NULL, -- unix ms
        PRIMARY KEY (source, metric, asset, venue, start_ts)
    ) WITHOUT ROWID;
    """,
    # 3: each distinct value of a revisable series' (series, ts) with the time first seen; older rows get none
    """
    CREATE TABLE vintages (
        source TEXT NOT NULL,
        metric TEXT NOT NULL,
        asset TEXT NOT NULL,
        venue TEXT NOT NULL DEFAULT '',
        ts INTEGER NOT NULL,          -- unix ms, UTC
        known_at INTEGER NOT NULL,    -- unix ms, UTC: first fetch that returned this value
        value REAL NOT NULL,
        PRIMARY KEY (source, metric, asset, venue, ts, known_at)
    ) WITHOUT ROWID;
    """,
)

# Stored only when it differs from the value in force at its known_at (`IS NOT` also holds when there is none).
_ADD_VINTAGE = (
    "INSERT INTO vintages (source, metric, asset, venue, ts, known_at, value) "
    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 "
    "WHERE ?7 IS NOT (SELECT value FROM vintages "
    "WHERE source=?1 AND metric=?2 AND asset=?3 AND venue=?4 AND ts=?5 AND known_at <= ?6 "
    "ORDER BY known_at DESC LIMIT 1) "
    "ON CONFLICT (source, metric, asset, venue, ts, known_at) DO UPDATE SET value = excluded.value"
)
# A write older than a stored vintage (replayed captures, two writers) makes a next vintage repeating it redundant.
_DROP_REPEAT = (
    "DELETE FROM vintages WHERE source=?1 AND metric=?2 AND asset=?3 AND venue=?4 AND ts=?5 "
    "AND value = ?7 AND known_at = "
    "(SELECT MIN(known_at) FROM vintages "
    "WHERE source=?1 AND metric=?2 AND asset=?3 AND venue=?4 AND ts=?5 AND known_at > ?6)"
)


OPEN_TIMEOUT_S = 30.0


def _retry_locked(step: Callable[[], object]) -> None:
    """Run `step`, retrying while another process holds the lock it needs.

    Switching a new file to WAL (and the first migration) can fail with SQLITE_BUSY at once, without the busy
    handler, when several processes open a fresh file together; waiting briefly and trying again resolves it.
    """
    deadline = time.monotonic() + OPEN_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc) or "busy" in str(exc)
            if not locked or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


_UPSERT_OBSERVATION = (
    "INSERT INTO observations (source, metric, asset, venue, ts, value, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (source, metric, asset, venue, ts) DO UPDATE SET "
    "value = excluded.value, fetched_at = excluded.fetched_at"
)


def _merge_coverage(conn: sqlite3.Connection, key: SeriesKey, lo: int, hi: int) -> None:
    """Record [lo, hi) for `key`, merged with every span it touches (the caller holds the write transaction)."""
    where = "source=? AND metric=? AND asset=? AND venue=?"
    ident = (key.source, key.metric, key.asset, key.venue)
    touching = conn.execute(
        f"SELECT start_ts, end_ts FROM coverage WHERE {where} AND start_ts <= ? AND end_ts >= ?",  # noqa: S608
        (*ident, hi, lo),
    ).fetchall()
    new_lo = min([lo, *(r[0] for r in touching)])
    new_hi = max([hi, *(r[1] for r in touching)])
    conn.execute(f"DELETE FROM coverage WHERE {where} AND start_ts <= ? AND end_ts >= ?", (*ident, hi, lo))  # noqa: S608
    conn.execute(
        "INSERT INTO coverage (source, metric, asset, venue, start_ts, end_ts, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (*ident, new_lo, new_hi, to_ms(datetime.now(UTC))),
    )


async def _off_loop(call: Callable[..., T], *args: object) -> T:
    """`call(*args)` in a worker thread; a cancelled caller stops waiting (the thread is left to finish)."""
    return await anyio.to_thread.run_sync(call, *args, abandon_on_cancel=True)


class SqliteStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()

    # -- connection and schema (run in a worker thread) ------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid():
            # A forked child must not reuse the parent's handle (SQLite forbids it); it opens its own.
            self._conn, self._pid = None, os.getpid()
        if self._conn is None:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=OPEN_TIMEOUT_S, check_same_thread=False, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout={int(OPEN_TIMEOUT_S * 1000)}")
                _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
                conn.execute("PRAGMA synchronous=NORMAL")
                _retry_locked(lambda: self._migrate(conn))
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        # BEGIN IMMEDIATE serialises concurrent first starts of a server and a collector on the same file.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, statement in enumerate(MIGRATIONS[version:], start=version + 1):
                # statements run one by one: executescript() would COMMIT the surrounding transaction
                for part in (p for p in statement.split(";") if p.strip()):
                    conn.execute(part)
                conn.execute(f"PRAGMA user_version={number}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _run(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run `body` on the connection under the lock, turning SQLite failures into StoreError."""
        with self._lock:
            try:
                return body(self._connection())
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(f"history store {self.path}: {exc}") from exc

    def _write(self, body: Callable[[sqlite3.Connection], None]) -> None:
        """`body` inside one IMMEDIATE transaction: it commits whole or not at all."""

        def transaction(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                body(conn)
                conn.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back after some errors (SQLITE_FULL): a second ROLLBACK would fail and
                # hide the error that matters
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        self._run(transaction)

    # Blocking helpers for the CLI and tests; async code uses the interface below.

    def schema_version(self) -> int:
        version: Any = self._run(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0])
        return int(version)

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: 'ok' when sound."""
        return str(self._run(lambda conn: conn.execute("PRAGMA integrity_check").fetchone()[0]))

    # -- sync bodies ---------------------------------------------------------------------------------------------

    def _upsert_sync(self, observations: Sequence[Observation], vintages: Sequence[Vintage]) -> int:
        rows = observation_rows(observations)
        seen = vintage_rows(vintages)
        if not rows and not seen:
            return 0

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(_UPSERT_OBSERVATION, rows)
            conn.executemany(_ADD_VINTAGE, seen)
            conn.executemany(_DROP_REPEAT, seen)

        self._write(write)
        return len(rows)

    def _read_sync(
        self,
        key: SeriesKey,
        start: datetime | None,
        end: datetime | None,
        known_at: datetime | None,
        limit: int | None,
        descending: bool = False,
    ) -> list[Observation]:
        sql = "SELECT ts, value, fetched_at FROM observations WHERE source=? AND metric=? AND asset=? AND venue=?"
        args: list[object] = [key.source, key.metric, key.asset, key.venue]
        if start is not None:
            sql += " AND ts >= ?"
            args.append(to_ms(start))
        if end is not None:
            sql += " AND ts <= ?"
            args.append(to_ms(end))
        if known_at is not None:
            sql += " AND fetched_at <= ?"
            args.append(to_ms(known_at))
        sql += " ORDER BY ts DESC" if descending else " ORDER BY ts ASC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self._run(lambda conn: conn.execute(sql, args).fetchall())
        return [Observation(key, from_ms(ts), value, from_ms(fetched)) for ts, value, fetched in rows]

    def _read_vintages_sync(
        self, key: SeriesKey, start: datetime | None, end: datetime | None, known_at: datetime | None
    ) -> list[Vintage]:
        # SQLite takes a bare column's value from the row that holds MAX(): the vintage in force at known_at
        picked = "MAX(known_at)" if known_at is not None else "known_at"
        sql = f"SELECT ts, {picked}, value FROM vintages WHERE source=? AND metric=? AND asset=? AND venue=?"  # noqa: S608
        args: list[object] = [key.source, key.metric, key.asset, key.venue]
        for clause, bound in (("ts >=", start), ("ts <=", end), ("known_at <=", known_at)):
            if bound is not None:
                sql += f" AND {clause} ?"
                args.append(to_ms(bound))
        sql += " GROUP BY ts ORDER BY ts" if known_at is not None else " ORDER BY ts, known_at"
        rows = self._run(lambda conn: conn.execute(sql, args).fetchall())
        return [Vintage(key, from_ms(ts), value, from_ms(known)) for ts, known, value in rows]

    def _summary_sync(self, source: str | None) -> list[SeriesSummary]:
        sql = "SELECT source, metric, asset, venue, MIN(ts), MAX(ts), COUNT(*) FROM observations"
        args: list[object] = []
        if source:
            sql += " WHERE source = ?"
            args.append(source)
        sql += " GROUP BY source, metric, asset, venue ORDER BY source, metric, asset, venue"
        rows = self._run(lambda conn: conn.execute(sql, args).fetchall())
        return [SeriesSummary(SeriesKey(s, m, a, v), from_ms(lo), from_ms(hi), n) for s, m, a, v, lo, hi, n in rows]

    def _coverage_sync(self, key: SeriesKey, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        sql = (
            "SELECT start_ts, end_ts FROM coverage WHERE source=? AND metric=? AND asset=? AND venue=? "
            "AND start_ts < ? AND end_ts > ? ORDER BY start_ts"
        )
        args = (key.source, key.metric, key.asset, key.venue, to_ms(end), to_ms(start))
        rows = self._run(lambda conn: conn.execute(sql, args).fetchall())
        return [(from_ms(lo), from_ms(hi)) for lo, hi in rows]

    def _add_coverage_sync(self, key: SeriesKey, start: datetime, end: datetime) -> None:
        if to_ms(end) <= to_ms(start):
            return
        self._write(lambda conn: _merge_coverage(conn, key, to_ms(start), to_ms(end)))

    def _upsert_covered_sync(
        self, observations: Sequence[Observation], coverage: Sequence[tuple[SeriesKey, datetime, datetime]]
    ) -> int:
        rows = observation_rows(observations)
        spans = [(key, to_ms(start), to_ms(end)) for key, start, end in coverage if to_ms(end) > to_ms(start)]
        if not rows and not spans:
            return 0

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(_UPSERT_OBSERVATION, rows)
            for key, lo, hi in spans:
                _merge_coverage(conn, key, lo, hi)

        self._write(write)
        return len(rows)

    # -- async interface -----------------------------------------------------------------------------------------

    async def upsert(self, observations: Sequence[Observation], *, vintages: Sequence[Vintage] = ()) -> int:
        return await _off_loop(self._upsert_sync, list(observations), list(vintages))

    async def read_vintages(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Vintage]:
        return await _off_loop(self._read_vintages_sync, key, start, end, known_at)

    async def read(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Observation]:
        return await _off_loop(self._read_sync, key, start, end, known_at, None)

    async def latest(
        self, key: SeriesKey, at_or_before: datetime, *, known_at: datetime | None = None
    ) -> Observation | None:
        rows = await _off_loop(self._read_sync, key, None, at_or_before, known_at, 1, True)
        return rows[0] if rows else None

    async def summary(self, source: str | None = None) -> list[SeriesSummary]:
        return await _off_loop(self._summary_sync, source)

    async def add_coverage(self, key: SeriesKey, start: datetime, end: datetime) -> None:
        await _off_loop(self._add_coverage_sync, key, start, end)

    async def coverage(self, key: SeriesKey, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return await _off_loop(self._coverage_sync, key, start, end)

    async def check_writable(self) -> None:
        """Raises StoreError unless a write could be committed now; the probe row is rolled back.

        A read-only file opens and reads: only a write tells it apart, before a command spends its requests."""

        def probe(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO coverage (source, metric, asset, venue, start_ts, end_ts, recorded_at) "
                    "VALUES ('windvane', 'probe', '', '', 0, 1, 0)"
                )
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

        await _off_loop(self._run, probe)

    async def upsert_covered(
        self, observations: Sequence[Observation], coverage: Sequence[tuple[SeriesKey, datetime, datetime]]
    ) -> int:
        return await _off_loop(self._upsert_covered_sync, list(observations), list(coverage))

    async def close(self) -> None:
        def _close() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await _off_loop(_close)
