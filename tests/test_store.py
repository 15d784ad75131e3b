"""The history store: round trips, point-in-time reads, migrations, coverage, and multi-process safety.

Tests taking `make_store` (tests/services.py) run on every backend, SQLite and PostgreSQL, with the same
assertions: the semantics are the store interface's, not one engine's. The file-level ones are SQLite's own.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.base import CoverageStore, Observation, SeriesKey, StoreError, Vintage
from store.sqlite import MIGRATIONS, SqliteStore

MakeStore = Callable[[], CoverageStore]

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
KEY = SeriesKey("exchange", "balance_btc", "BTC", "binance")
T0 = datetime(2025, 11, 20, tzinfo=UTC)


def obs(day: int, value: float, fetched_day: float, key: SeriesKey = KEY) -> Observation:
    return Observation(key, T0 + timedelta(days=day), value, T0 + timedelta(days=fetched_day))


async def test_round_trip_and_upsert_replaces(make_store: MakeStore) -> None:
    store = make_store()
    assert await store.upsert([obs(0, 1.5, 0.5), obs(1, 2.5, 1.5)]) == 2
    assert await store.upsert([obs(1, 3.5, 2.0)]) == 1
    rows = await store.read(KEY)
    assert [(r.ts, r.value, r.fetched_at) for r in rows] == [
        (T0, 1.5, T0 + timedelta(days=0.5)),
        (T0 + timedelta(days=1), 3.5, T0 + timedelta(days=2)),
    ]
    assert await store.read(SeriesKey("exchange", "balance_btc", "BTC", "okx")) == []
    await store.close()


async def test_millisecond_timestamps_are_exact(make_store: MakeStore) -> None:
    store = make_store()
    when = datetime(2025, 11, 20, 13, 5, 7, 123000, tzinfo=UTC)
    await store.upsert([Observation(KEY, when, 1.0, when)])
    assert (await store.read(KEY))[0].ts == when
    await store.close()


async def test_rejects_non_finite_values_and_naive_times(make_store: MakeStore) -> None:
    store = make_store()
    with pytest.raises(ValueError, match="not a finite number"):
        await store.upsert([obs(0, float("nan"), 0)])
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.upsert([Observation(KEY, datetime(2025, 1, 1), 1.0, T0)])
    assert await store.read(KEY) == []
    await store.close()


async def test_point_in_time_reads_never_see_later_data(make_store: MakeStore) -> None:
    store = make_store()
    # day 0 and day 1 recorded the same day; day 2 recorded on day 2; day 1 revised on day 5
    await store.upsert([obs(0, 10.0, 0.1), obs(2, 30.0, 2.1)])
    await store.upsert([obs(1, 21.0, 5.0)])
    as_of = T0 + timedelta(days=1, hours=12)
    latest = await store.latest(KEY, as_of)
    assert latest is not None
    assert latest.value == 21.0  # the day-1 row is timestamped before as_of (its value was fixed later)
    known = await store.latest(KEY, as_of, known_at=as_of)
    assert known is not None
    assert known.value == 10.0  # what was actually known at as_of: the revision fetched on day 5 is excluded
    assert [r.value for r in await store.read(KEY, end=as_of, known_at=as_of)] == [10.0]
    assert await store.latest(KEY, T0 - timedelta(seconds=1)) is None  # nothing before the first record
    await store.close()


def seen(day: int, value: float, known_day: float, key: SeriesKey = KEY) -> Vintage:
    return Vintage(key, T0 + timedelta(days=day), value, T0 + timedelta(days=known_day))


def history(vintages: list[Vintage]) -> list[tuple[int, float, float]]:
    return [((v.ts - T0).days, v.value, (v.known_at - T0) / timedelta(days=1)) for v in vintages]


async def test_vintages_keep_each_distinct_value_with_the_time_first_seen(make_store: MakeStore) -> None:
    store = make_store()
    # day 0 first fetched on day 1 at 1190.1, unchanged on day 2, revised to 1205.2 on day 3, unchanged on day 4
    for value, known in ((1190.1, 1), (1190.1, 2), (1205.2, 3), (1205.2, 4)):
        assert await store.upsert([obs(0, value, known)], vintages=[seen(0, value, known)]) == 1
    assert [r.value for r in await store.read(KEY)] == [1205.2]  # the observation holds the final value
    assert history(await store.read_vintages(KEY)) == [(0, 1190.1, 1.0), (0, 1205.2, 3.0)]
    at = T0 + timedelta(days=2, hours=12)
    assert history(await store.read_vintages(KEY, known_at=at)) == [(0, 1190.1, 1.0)]
    assert history(await store.read_vintages(KEY, known_at=T0 + timedelta(days=9))) == [(0, 1205.2, 3.0)]
    assert await store.read_vintages(KEY, known_at=T0 + timedelta(hours=12)) == []  # not seen yet
    await store.close()


async def test_vintages_read_per_day_in_a_range(make_store: MakeStore) -> None:
    store = make_store()
    await store.upsert([], vintages=[seen(0, 1.0, 1), seen(1, 2.0, 1), seen(2, 3.0, 3)])
    await store.upsert([], vintages=[seen(1, 2.5, 2), seen(0, 1.0, 2)])
    assert await store.read(KEY) == []  # vintages alone write no observation
    at = T0 + timedelta(days=2, hours=1)
    assert history(await store.read_vintages(KEY, known_at=at)) == [(0, 1.0, 1.0), (1, 2.5, 2.0)]
    ranged = await store.read_vintages(KEY, T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert history(ranged) == [(1, 2.0, 1.0), (1, 2.5, 2.0), (2, 3.0, 3.0)]
    other = SeriesKey("exchange", "balance_btc", "BTC", "okx")
    assert await store.read_vintages(other) == []
    await store.close()


async def test_a_late_write_moves_first_seen_earlier_without_duplicates(make_store: MakeStore) -> None:
    store = make_store()
    # replaying an older capture after a newer one: the value was first seen at the older capture
    await store.upsert([], vintages=[seen(0, 5.0, 3)])
    await store.upsert([], vintages=[seen(0, 5.0, 1)])
    assert history(await store.read_vintages(KEY)) == [(0, 5.0, 1.0)]
    # an older capture with another value sits before it, and the same batch is compared in known_at order
    await store.upsert([], vintages=[seen(0, 4.0, 0.5), seen(0, 4.0, 0.2), seen(0, 6.0, 5)])
    assert history(await store.read_vintages(KEY)) == [(0, 4.0, 0.2), (0, 5.0, 1.0), (0, 6.0, 5.0)]
    await store.close()


async def test_rows_stored_before_vintages_have_none_and_a_failed_write_keeps_nothing(make_store: MakeStore) -> None:
    store = make_store()
    await store.upsert([obs(0, 7.0, 0.5)])  # as every write before vintages existed
    assert await store.read_vintages(KEY) == []
    with pytest.raises(ValueError, match="not a finite number"):
        await store.upsert([obs(1, 8.0, 1)], vintages=[seen(1, 8.0, 1), seen(2, float("inf"), 1)])
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.upsert([], vintages=[Vintage(KEY, T0, 1.0, datetime(2025, 11, 21))])
    assert [r.value for r in await store.read(KEY)] == [7.0]
    assert await store.read_vintages(KEY) == []
    await store.close()


async def test_summary_lists_each_series(make_store: MakeStore) -> None:
    store = make_store()
    other = SeriesKey("farside", "net_flow_usd", "BTC", "IBIT")
    await store.upsert([obs(0, 1.0, 0), obs(3, 1.0, 3), obs(1, 5.0, 1, other)])
    summary = {s.key: s for s in await store.summary()}
    assert summary[KEY].rows == 2
    assert summary[KEY].first_ts == T0
    assert summary[KEY].last_ts == T0 + timedelta(days=3)
    assert summary[other].rows == 1
    assert [s.key for s in await store.summary("farside")] == [other]
    await store.close()


async def test_schema_migrates_an_old_file_and_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version=1;")
    conn.execute("INSERT INTO observations VALUES ('exchange','balance_btc','BTC','binance',1000,5.0,1000)")
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    assert store.schema_version() == len(MIGRATIONS)
    assert [r.value for r in await store.read(KEY)] == [5.0]
    await store.close()
    again = SqliteStore(path)  # reopening a current file runs nothing
    assert again.schema_version() == len(MIGRATIONS)
    assert again.integrity_check() == "ok"
    await again.close()


async def test_a_version_2_file_gains_an_empty_vintages_table(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version=2;")
    conn.execute("INSERT INTO observations VALUES ('exchange','balance_btc','BTC','binance',1000,5.0,1000)")
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    assert store.schema_version() == 3 == len(MIGRATIONS)
    assert await store.read_vintages(KEY) == []  # nothing older is invented
    await store.upsert([obs(0, 6.0, 1)], vintages=[seen(0, 6.0, 1)])
    assert history(await store.read_vintages(KEY)) == [(0, 6.0, 1.0)]
    assert [r.value for r in await store.read(KEY)] == [5.0, 6.0]
    await store.close()


async def test_coverage_merges_touching_spans(make_store: MakeStore) -> None:
    store = make_store()
    assert isinstance(store, CoverageStore)
    day = timedelta(days=1)
    await store.add_coverage(KEY, T0, T0 + 2 * day)
    await store.add_coverage(KEY, T0 + 5 * day, T0 + 6 * day)
    assert await store.coverage(KEY, T0, T0 + 10 * day) == [(T0, T0 + 2 * day), (T0 + 5 * day, T0 + 6 * day)]
    await store.add_coverage(KEY, T0 + 2 * day, T0 + 5 * day)  # touches both ends: one span remains
    assert await store.coverage(KEY, T0 - day, T0 + 10 * day) == [(T0, T0 + 6 * day)]
    assert await store.coverage(KEY, T0 + 7 * day, T0 + 8 * day) == []
    assert await store.coverage(SeriesKey("x", "y", "z"), T0, T0 + day) == []
    await store.close()


async def test_a_file_that_is_not_a_database_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    store = SqliteStore(path)
    with pytest.raises(StoreError, match=r"garbage\.sqlite3"):
        await store.read(KEY)
    await store.close()


def _writer(path: Path, writer: int, batches: int, rows: int, *, wait: bool = False) -> subprocess.Popen[str]:
    extra = ["--wait"] if wait else []
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store_writer", str(path), str(writer), str(batches), str(rows), *extra],
        cwd=ROOT,
        stdin=subprocess.PIPE if wait else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
async def test_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    writers, batches, rows = 4, 150, 20
    procs = [_writer(path, w, batches, rows, wait=True) for w in range(writers)]
    try:
        for proc in procs:  # every writer has opened (and migrated) the file before any writes
            assert proc.stdout is not None
            first = proc.stdout.readline().strip()
            assert first == "ready", proc.communicate()[1]
        for proc in procs:  # the start signal, as close together as the pipes allow
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert out.count("committed") == batches
    finally:
        for proc in procs:  # a failed assertion must not leave writers behind
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    store = SqliteStore(path)
    for w in range(writers):
        values = [r.value for r in await store.read(SeriesKey("test", "value", "BTC", f"writer{w}"))]
        assert values == [float(i) for i in range(batches * rows)]
    assert store.integrity_check() == "ok"
    await store.close()


@pytest.mark.slow
async def test_kill_9_mid_write_keeps_every_committed_batch(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    rows = 200
    proc = _writer(path, 0, 0, rows)  # writes until killed
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline().strip()
    assert first == "ready", proc.stderr.read()
    committed = -1
    for line in proc.stdout:
        committed = int(line.split()[1])
        if committed >= 30:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # lines printed after our last read were committed too: take the child's full output as the floor
    rest = proc.stdout.read()
    proc.stdout.close()
    proc.stderr.close()
    committed = max([committed, *(int(line.split()[1]) for line in rest.splitlines() if line.strip())])
    store = SqliteStore(path)
    assert store.integrity_check() == "ok"
    values = [r.value for r in await store.read(SeriesKey("test", "value", "BTC", "writer0"))]
    # every batch the child reported is there, and batches are whole: no torn transaction
    assert len(values) >= (committed + 1) * rows
    assert len(values) % rows == 0
    assert values == [float(i) for i in range(len(values))]
    await store.close()
