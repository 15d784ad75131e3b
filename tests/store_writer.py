"""A child process for the store's multi-process tests: writes batches to a store file and reports each commit.

    python -m tests.store_writer DB WRITER_ID BATCHES ROWS_PER_BATCH [--wait]

DB is a SQLite file, or a postgresql:// URL for the PostgreSQL store.

After each committed batch it prints `committed <n>` and flushes, so the parent knows exactly what must survive.
BATCHES=0 writes until killed. It prints `ready` once the store is open; with --wait it then waits for a line on
stdin, so several writers start writing at the same moment.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from itertools import count

import anyio
import anyio.to_thread

from store.base import Observation, SeriesKey, Store
from store.sqlite import SqliteStore

BASE = datetime(2020, 1, 1, tzinfo=UTC)


def key(writer: int) -> SeriesKey:
    return SeriesKey("test", "value", "BTC", f"writer{writer}")


async def main(path: str, writer: int, batches: int, rows: int, wait: bool) -> None:
    store: Store
    if path.startswith("postgresql://"):
        from store.postgres import PostgresStore

        store = PostgresStore(path)
    else:
        store = SqliteStore(path)
    await store.summary()  # open and migrate before the start signal
    print("ready", flush=True)
    if wait:
        await anyio.to_thread.run_sync(sys.stdin.readline)
    fetched = datetime.now(UTC)
    for batch in count():
        if batches and batch >= batches:
            break
        obs = [
            Observation(key(writer), BASE + timedelta(minutes=batch * rows + i), float(batch * rows + i), fetched)
            for i in range(rows)
        ]
        await store.upsert(obs)
        print(f"committed {batch}", flush=True)
    await store.close()


if __name__ == "__main__":
    db, writer_id, n_batches, per_batch = sys.argv[1], *map(int, sys.argv[2:5])
    anyio.run(main, db, writer_id, n_batches, per_batch, "--wait" in sys.argv[5:])
