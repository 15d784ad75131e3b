"""What only the PostgreSQL store has: migrations in a shared database, many replicas at once, a server that is gone.

The interface's semantics are tested on both backends in tests/test_store.py; these are the engine's own cases.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from store.base import Observation, SeriesKey, StoreError
from store.postgres import MIGRATIONS, PostgresStore, describe_url

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
KEY = SeriesKey("exchange", "balance_btc", "BTC", "binance")
T0 = datetime(2025, 11, 20, tzinfo=UTC)
DAY = timedelta(days=1)


async def test_an_old_schema_is_migrated_and_keeps_its_rows(postgres_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(postgres_url)
    try:  # a database left at version 1 by an earlier release
        await conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
        await conn.execute(MIGRATIONS[0])
        await conn.execute("INSERT INTO schema_migrations VALUES (1, 0)")
        await conn.execute("INSERT INTO observations VALUES ('exchange','balance_btc','BTC','binance',1000,5.0,1000)")
    finally:
        await conn.close()
    store = PostgresStore(postgres_url)
    assert await store.schema_version() == len(MIGRATIONS)
    assert [r.value for r in await store.read(KEY)] == [5.0]
    await store.add_coverage(KEY, T0, T0 + DAY)  # the table migration 2 added works
    assert await store.read_vintages(KEY) == []  # migration 3's table: the old row gets no invented vintage
    await store.close()
    again = PostgresStore(postgres_url)  # reopening a current database runs nothing
    assert await again.schema_version() == len(MIGRATIONS)
    await again.close()


async def test_replicas_opening_a_new_database_together_migrate_it_once(postgres_url: str) -> None:
    stores = [PostgresStore(postgres_url, pool_max=2) for _ in range(6)]
    versions: list[int] = []

    async def open_one(store: PostgresStore) -> None:
        versions.append(await store.schema_version())

    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(open_one, store)
    assert versions == [len(MIGRATIONS)] * 6
    for store in stores:
        await store.close()


async def test_concurrent_coverage_merges_from_two_replicas_leave_one_span(postgres_url: str) -> None:
    a, b = PostgresStore(postgres_url), PostgresStore(postgres_url)
    async with anyio.create_task_group() as tg:  # adjacent days from two processes' worth of handles, interleaved
        for day in range(20):
            tg.start_soon((a if day % 2 else b).add_coverage, KEY, T0 + day * DAY, T0 + (day + 1) * DAY)
    assert await a.coverage(KEY, T0 - DAY, T0 + 30 * DAY) == [(T0, T0 + 20 * DAY)]
    await a.close()
    await b.close()


async def test_a_server_that_is_gone_raises_store_error_without_the_password(postgres_url: str) -> None:
    from tests.services import free_port

    url = f"postgresql://windvane:s3cret-pw@127.0.0.1:{free_port()}/history"
    store = PostgresStore(url)
    with pytest.raises(StoreError) as caught:
        await store.read(KEY)
    assert f"{describe_url(url)}" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
    assert "windvane@" not in str(caught.value)
    await store.close()


@pytest.mark.slow
def test_concurrent_writer_processes_lose_nothing(postgres_url: str) -> None:
    writers, batches, rows = 4, 40, 20
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.store_writer", postgres_url, str(w), str(batches), str(rows)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert out.count("committed") == batches
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    async def check() -> None:
        store = PostgresStore(postgres_url)
        for w in range(writers):
            values = [r.value for r in await store.read(SeriesKey("test", "value", "BTC", f"writer{w}"))]
            assert values == [float(i) for i in range(batches * rows)]
        await store.close()

    anyio.run(check)


def test_observations_round_trip_through_both_backends_identically(postgres_url: str, tmp_path: Path) -> None:
    from store.sqlite import SqliteStore

    when = datetime(2025, 11, 20, 13, 5, 7, 123456, tzinfo=UTC)  # microseconds: both keep milliseconds only
    rows = [Observation(KEY, when + i * DAY, 1.0 / (i + 3), when) for i in range(5)]

    async def both() -> tuple[list[Observation], list[Observation]]:
        pg, lite = PostgresStore(postgres_url), SqliteStore(tmp_path / "db.sqlite3")
        await pg.upsert(rows)
        await lite.upsert(rows)
        out = (await pg.read(KEY), await lite.read(KEY))
        await pg.close()
        await lite.close()
        return out

    from_pg, from_sqlite = anyio.run(both)
    assert from_pg == from_sqlite
    assert from_pg[0].ts == when.replace(microsecond=123000)
