"""PostgreSQL implementation of the history store, for a fleet that shares one history (WINDVANE_DATABASE_URL).

The same `Store` / `CoverageStore` interface and semantics as store/sqlite.py: rows keyed by (series, ts) with
upsert-by-replace, vintages (each distinct value with the time first seen) written in the upsert's transaction,
`known_at` reads on `fetched_at`, coverage spans merged when they touch, timestamps kept as unix milliseconds (so
both backends round a value identically), non-finite values and naive times refused.
asyncpg (imported only here, only when configured) with a small connection pool opened lazily on first use.
Migrations are numbered and append-only, applied under an advisory lock so replicas starting together run them
once. Each write is one transaction; a coverage merge takes a per-series advisory lock so two writers cannot
interleave their merges. Errors become `StoreError` naming the host and database, never the password.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio

from store.base import Observation, SeriesKey, SeriesSummary, StoreError, Vintage
from store.rows import from_ms, observation_rows, to_ms, vintage_rows

T = TypeVar("T")
# pg_advisory_xact_lock keys: one for migrations, and a namespace for per-series coverage merges.
_MIGRATION_LOCK = 7_357_001
_COVERAGE_LOCK_SPACE = 7_357

# Append-only: a released migration is never edited, a new one is added at the end.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE observations (
        source TEXT NOT NULL,
        metric TEXT NOT NULL,
        asset TEXT NOT NULL,
        venue TEXT NOT NULL DEFAULT '',
        ts BIGINT NOT NULL,          -- unix ms, UTC
        value DOUBLE PRECISION NOT NULL,
        fetched_at BIGINT NOT NULL,  -- unix ms, UTC
        PRIMARY KEY (source, metric, asset, venue, ts)
    )
    """,
    """
    CREATE TABLE coverage (
        source TEXT NOT NULL,
        metric TEXT NOT NULL,
        asset TEXT NOT NULL,
        venue TEXT NOT NULL DEFAULT '',
        start_ts BIGINT NOT NULL,    -- unix ms, inclusive
        end_ts BIGINT NOT NULL,      -- unix ms, exclusive
        recorded_at BIGINT NOT NULL, -- unix ms
        PRIMARY KEY (source, metric, asset, venue, start_ts)
    )
    """,
    # 3: each distinct value of a revisable series' (series, ts) with the time first seen; older rows get none
    """
    CREATE TABLE vintages (
        source TEXT NOT NULL,
        metric TEXT NOT NULL,
        asset TEXT NOT NULL,
        venue TEXT NOT NULL DEFAULT '',
        ts BIGINT NOT NULL,          -- unix ms, UTC
        known_at BIGINT NOT NULL,    -- unix ms, UTC: first fetch that returned this value
        value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (source, metric, asset, venue, ts, known_at)
    )
    """,
)

# The same statements as store/sqlite.py: stored only when it differs from the value in force at its known_at.
_ADD_VINTAGE = (
    "INSERT INTO vintages (source, metric, asset, venue, ts, known_at, value) "
    "SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, $7::double precision "
    "WHERE $7 IS DISTINCT FROM (SELECT value FROM vintages "
    "WHERE source=$1 AND metric=$2 AND asset=$3 AND venue=$4 AND ts=$5 AND known_at <= $6 "
    "ORDER BY known_at DESC LIMIT 1) "
    "ON CONFLICT (source, metric, asset, venue, ts, known_at) DO UPDATE SET value = excluded.value"
)
# A write older than a stored vintage (replayed captures, two writers) makes a next vintage repeating it redundant.
_DROP_REPEAT = (
    "DELETE FROM vintages WHERE source=$1 AND metric=$2 AND asset=$3 AND venue=$4 AND ts=$5 "
    "AND value = $7 AND known_at = "
    "(SELECT MIN(known_at) FROM vintages "
    "WHERE source=$1 AND metric=$2 AND asset=$3 AND venue=$4 AND ts=$5 AND known_at > $6)"
)

CONNECT_TIMEOUT_S = 10.0
POOL_MAX = 10


def describe_url(url: str) -> str:
    """host:port/database of a PostgreSQL URL: what a message may say about it (never the user or password)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{host}{port}{parts.path or '/'}"


_UPSERT_OBSERVATION = (
    "INSERT INTO observations (source, metric, asset, venue, ts, value, fetched_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (source, metric, asset, venue, ts) DO UPDATE SET "
    "value = excluded.value, fetched_at = excluded.fetched_at"
)


async def _merge_coverage(conn: Any, key: SeriesKey, lo: int, hi: int) -> None:
    """Record [lo, hi) for `key`, merged with every span it touches (inside the caller's transaction); the series
    lock keeps two writers from interleaving their merges."""
    where = "source=$1 AND metric=$2 AND asset=$3 AND venue=$4 AND start_ts <= $5 AND end_ts >= $6"
    ident = (key.source, key.metric, key.asset, key.venue)
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _COVERAGE_LOCK_SPACE, key.label())
    touching = await conn.fetch(f"SELECT start_ts, end_ts FROM coverage WHERE {where}", *ident, hi, lo)  # noqa: S608
    new_lo = min([lo, *(r["start_ts"] for r in touching)])
    new_hi = max([hi, *(r["end_ts"] for r in touching)])
    await conn.execute(f"DELETE FROM coverage WHERE {where}", *ident, hi, lo)  # noqa: S608
    await conn.execute(
        "INSERT INTO coverage (source, metric, asset, venue, start_ts, end_ts, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        *ident,
        new_lo,
        new_hi,
        to_ms(datetime.now(UTC)),
    )


class PostgresStore:
    def __init__(self, url: str, *, pool_max: int = POOL_MAX) -> None:
        self.url = url
        self.where = describe_url(url)
        self._pool_max = pool_max
        self._pool: Any = None
        self._opening = anyio.Lock()

    # -- connection and schema -----------------------------------------------------------------------------------

    async def _connected(self) -> Any:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                import asyncpg

                pool = await asyncpg.create_pool(
                    self.url, min_size=1, max_size=self._pool_max, timeout=CONNECT_TIMEOUT_S
                )
                try:
                    async with pool.acquire() as conn:
                        await self._migrate(conn)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
        return self._pool

    @staticmethod
    async def _migrate(conn: Any) -> None:
        async with conn.transaction():
            # replicas starting together: the first applies the migrations, the others wait for it, then see them
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
            )
            version = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            for number, statement in enumerate(MIGRATIONS[version:], start=version + 1):
                await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    number,
                    to_ms(datetime.now(UTC)),
                )

    async def _run(self, body: Callable[[Any], Awaitable[T]]) -> T:
        """`body(connection)` inside one transaction; driver and network failures become StoreError."""
        import asyncpg

        try:
            pool = await self._connected()
            async with pool.acquire() as conn, conn.transaction():
                return await body(conn)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise StoreError(f"history store {self.where}: {type(exc).__name__}: {exc}") from exc

    async def schema_version(self) -> int:
        return int(await self._run(lambda conn: conn.fetchval("SELECT MAX(version) FROM schema_migrations")))

    # -- interface -----------------------------------------------------------------------------------------------

    async def upsert(self, observations: Sequence[Observation], *, vintages: Sequence[Vintage] = ()) -> int:
        rows = observation_rows(observations)
        seen = vintage_rows(vintages)
        if not rows and not seen:
            return 0

        async def write(conn: Any) -> None:
            if rows:
                await conn.executemany(_UPSERT_OBSERVATION, rows)
            if seen:
                await conn.executemany(_ADD_VINTAGE, seen)
                await conn.executemany(_DROP_REPEAT, seen)

        await self._run(write)
        return len(rows)

    async def read(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Observation]:
        return await self._select(key, start, end, known_at, None)

    async def latest(
        self, key: SeriesKey, at_or_before: datetime, *, known_at: datetime | None = None
    ) -> Observation | None:
        rows = await self._select(key, None, at_or_before, known_at, 1, descending=True)
        return rows[0] if rows else None

    async def _select(
        self,
        key: SeriesKey,
        start: datetime | None,
        end: datetime | None,
        known_at: datetime | None,
        limit: int | None,
        descending: bool = False,
    ) -> list[Observation]:
        sql = "SELECT ts, value, fetched_at FROM observations WHERE source=$1 AND metric=$2 AND asset=$3 AND venue=$4"
        args: list[object] = [key.source, key.metric, key.asset, key.venue]
        for clause, bound in (("ts >=", start), ("ts <=", end), ("fetched_at <=", known_at)):
            if bound is not None:
                args.append(to_ms(bound))
                sql += f" AND {clause} ${len(args)}"
        sql += " ORDER BY ts DESC" if descending else " ORDER BY ts ASC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = await self._run(lambda conn: conn.fetch(sql, *args))
        return [Observation(key, from_ms(r["ts"]), r["value"], from_ms(r["fetched_at"])) for r in rows]

    async def read_vintages(
        self,
        key: SeriesKey,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        known_at: datetime | None = None,
    ) -> list[Vintage]:
        # DISTINCT ON keeps the first row of each ts: with known_at DESC, the vintage in force at known_at
        head = "SELECT DISTINCT ON (ts)" if known_at is not None else "SELECT"
        sql = f"{head} ts, known_at, value FROM vintages WHERE source=$1 AND metric=$2 AND asset=$3 AND venue=$4"
        args: list[object] = [key.source, key.metric, key.asset, key.venue]
        for clause, bound in (("ts >=", start), ("ts <=", end), ("known_at <=", known_at)):
            if bound is not None:
                args.append(to_ms(bound))
                sql += f" AND {clause} ${len(args)}"
        sql += " ORDER BY ts, known_at DESC" if known_at is not None else " ORDER BY ts, known_at"
        rows = await self._run(lambda conn: conn.fetch(sql, *args))
        return [Vintage(key, from_ms(r["ts"]), r["value"], from_ms(r["known_at"])) for r in rows]

    async def summary(self, source: str | None = None) -> list[SeriesSummary]:
        sql = "SELECT source, metric, asset, venue, MIN(ts) AS lo, MAX(ts) AS hi, COUNT(*) AS n FROM observations"
        args: list[object] = []
        if source:
            sql += " WHERE source = $1"
            args.append(source)
        sql += " GROUP BY source, metric, asset, venue ORDER BY source, metric, asset, venue"
        rows = await self._run(lambda conn: conn.fetch(sql, *args))
        keys = [SeriesKey(r["source"], r["metric"], r["asset"], r["venue"]) for r in rows]
        return [SeriesSummary(k, from_ms(r["lo"]), from_ms(r["hi"]), r["n"]) for k, r in zip(keys, rows, strict=True)]

    async def coverage(self, key: SeriesKey, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        sql = (
            "SELECT start_ts, end_ts FROM coverage WHERE source=$1 AND metric=$2 AND asset=$3 AND venue=$4 "
            "AND start_ts < $5 AND end_ts > $6 ORDER BY start_ts"
        )
        args = (key.source, key.metric, key.asset, key.venue, to_ms(end), to_ms(start))
        rows = await self._run(lambda conn: conn.fetch(sql, *args))
        return [(from_ms(r["start_ts"]), from_ms(r["end_ts"])) for r in rows]

    async def add_coverage(self, key: SeriesKey, start: datetime, end: datetime) -> None:
        lo, hi = to_ms(start), to_ms(end)
        if hi <= lo:
            return
        await self._run(lambda conn: _merge_coverage(conn, key, lo, hi))

    async def check_writable(self) -> None:
        """Raises StoreError unless this role can write the history now (a read-only replica or role cannot)."""

        async def probe(conn: Any) -> None:
            read_only = await conn.fetchval("SHOW transaction_read_only")
            may_insert = await conn.fetchval("SELECT has_table_privilege('observations', 'INSERT')")
            if read_only == "on" or not may_insert:
                raise StoreError(f"history store {self.where}: the database is read-only for this role")

        await self._run(probe)

    async def upsert_covered(
        self, observations: Sequence[Observation], coverage: Sequence[tuple[SeriesKey, datetime, datetime]]
    ) -> int:
        rows = observation_rows(observations)
        spans = [(key, to_ms(start), to_ms(end)) for key, start, end in coverage if to_ms(end) > to_ms(start)]
        if not rows and not spans:
            return 0

        async def write(conn: Any) -> None:
            if rows:
                await conn.executemany(_UPSERT_OBSERVATION, rows)
            for key, lo, hi in spans:
                await _merge_coverage(conn, key, lo, hi)

        await self._run(write)
        return len(rows)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
