"""SQLite implementation of the history store: one file, WAL mode, versioned migrations.

Every blocking call runs in a worker thread (anyio.to_thread), never on the event loop. Each write is one
transaction, so a process killed mid-write leaves the last committed state intact (WAL guarantees it).
Several processes (a server and a collector) may share the file: WAL lets readers run beside one writer, and
busy_timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import anyio.to_thread

from store.base import Observation, SeriesKey, SeriesSummary

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
)


def _ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("store timestamps must be timezone-aware (UTC)")
    return int(dt.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class SqliteStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    # -- connection and schema (run in a worker thread) ------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._migrate(conn)
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
            conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        with self._lock:
            return int(self._connection().execute("PRAGMA user_version").fetchone()[0])

    # -- sync bodies ---------------------------------------------------------------------------------------------

    def _upsert_sync(self, observations: Sequence[Observation]) -> int:
        rows = [
            (
                o.key.source,
                o.key.metric,
                o.key.asset,
                o.key.venue,
                _ms(o.ts),
                float(o.value),
                _ms(o.fetched_at),
            )
            for o in observations
        ]
        if not rows:
            return 0
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO observations (source, metric, asset, venue, ts, value, fetched_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (source, metric, asset, venue, ts) DO UPDATE SET "
                    "value = excluded.value, fetched_at = excluded.fetched_at",
                    rows,
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
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
            args.append(_ms(start))
        if end is not None:
            sql += " AND ts <= ?"
            args.append(_ms(end))
        if known_at is not None:
            sql += " AND fetched_at <= ?"
            args.append(_ms(known_at))
        sql += " ORDER BY ts DESC" if descending else " ORDER BY ts ASC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            cursor = self._connection().execute(sql, args)
            return [Observation(key, _dt(ts), value, _dt(fetched)) for ts, value, fetched in cursor.fetchall()]

    def _summary_sync(self, source: str | None) -> list[SeriesSummary]:
        sql = "SELECT source, metric, asset, venue, MIN(ts), MAX(ts), COUNT(*) FROM observations"
        args: list[object] = []
        if source:
            sql += " WHERE source = ?"
            args.append(source)
        sql += " GROUP BY source, metric, asset, venue ORDER BY source, metric, asset, venue"
        with self._lock:
            rows = self._connection().execute(sql, args).fetchall()
        return [SeriesSummary(SeriesKey(s, m, a, v), _dt(lo), _dt(hi), n) for s, m, a, v, lo, hi, n in rows]

    # -- async interface -----------------------------------------------------------------------------------------

    async def upsert(self, observations: Sequence[Observation]) -> int:
        return await anyio.to_thread.run_sync(self._upsert_sync, list(observations))

    async def read(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Observation]:
        return await anyio.to_thread.run_sync(self._read_sync, key, start, end, known_at, None)

    async def latest(
        self, key: SeriesKey, at_or_before: datetime, *, known_at: datetime | None = None
    ) -> Observation | None:
        rows = await anyio.to_thread.run_sync(self._read_sync, key, None, at_or_before, known_at, 1, True)
        return rows[0] if rows else None

    async def summary(self, source: str | None = None) -> list[SeriesSummary]:
        return await anyio.to_thread.run_sync(self._summary_sync, source)

    async def close(self) -> None:
        def _close() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await anyio.to_thread.run_sync(_close)
