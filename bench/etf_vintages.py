"""What vintages cost: writing a Farside fetch and reading an as_of table, with vintages vs without, in one run.

The table is the real BTC history of ../shared (tests/fakes/data.py; 2024-01-11 onwards, ~12 funds), as the
all-data page gives it on every fetch, dated three days after its last row so that every day is completed.
Measured on a temporary SQLite file, or on PostgreSQL with --database-url (each round writes series of its own):
- write, first fetch: the whole table into an empty store; without = `upsert` of the completed days (what
  `write_completed` did before vintages), with = `write_completed` (the same upsert plus a vintage per figure);
- write, repeat fetch: the same page again into the filled store, by the process that wrote it (the steady state
  of a server or `collect`: figures it already recorded are not sent again);
- write, repeat fetch, new process: the same, by a process that has not written them (every vintage is compared
  with the stored one in the store, and none is added);
- read: `read_table` for an as_of (without) vs `read_table` then `as_known` (with), the path of a past as_of.
Rounds alternate which goes first, so background load hits both alike; medians and their ratio are reported.

    python bench/etf_vintages.py [--rounds 9] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median

import _support as S
import anyio

from schemas.etf_flows import FlowRow, FlowTable
from store.base import Observation, SeriesKey, Store
from tests.fakes.data import etf_flows_csv
from tools.history import etf_store, etf_vintages

ASSET, LAUNCH = "BTC", date(2024, 1, 11)


def table() -> FlowTable:
    tickers, rows = etf_flows_csv(ASSET)
    flows = [
        FlowRow(date.fromisoformat(day), {t: None if v is None else v * 1e6 for t, v in funds.items()}, total * 1e6)
        for day, funds, total in rows
    ]
    return FlowTable(tickers=tuple(tickers), rows=flows, since_launch=True)


def plain_observations(source: str, flows: FlowTable, fetched_at: datetime) -> list[Observation]:
    """The observations `write_completed` writes, without its vintages: the write before this change."""
    out: list[Observation] = []
    for row in flows.rows:
        if not etf_store.completed(row, fetched_at):
            continue
        ts = datetime.combine(row.day, datetime.min.time(), tzinfo=UTC)
        cells = {etf_store.TOTAL_VENUE: row.total_usd, **row.funds}
        out.extend(
            Observation(SeriesKey(source, etf_store.METRIC, ASSET, venue), ts, value, fetched_at)
            for venue, value in cells.items()
            if value is not None
        )
    return out


async def timed(step: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await step()
    return time.perf_counter() - start


async def measure(store: Store, rounds: int) -> dict[str, tuple[float, float]]:
    flows = table()
    until = flows.rows[-1].day
    fetched = datetime.combine(until + timedelta(days=3), datetime.min.time(), tzinfo=UTC)
    at = datetime.combine(until, datetime.max.time(), tzinfo=UTC)
    later = fetched + timedelta(hours=1)
    keys = ("first", "repeat", "repeat_new", "read")
    samples: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in keys}
    for n in range(rounds):
        plain, vint = f"plain{n}", f"vint{n}"  # each round writes into series of its own
        for key, when in (("first", fetched), ("repeat", later), ("repeat_new", later + timedelta(hours=1))):
            without, with_ = samples[key]

            async def with_vintages(key: str = key, when: datetime = when) -> int:
                if key == "repeat_new":
                    etf_store.forget_recorded(store)
                return await etf_store.write_completed(store, vint, ASSET, flows, when)  # noqa: B023

            pair = [
                (without, lambda: store.upsert(plain_observations(plain, flows, when))),  # noqa: B023
                (with_, with_vintages),
            ]
            for out, step in pair if n % 2 == 0 else pair[::-1]:  # each goes first in half the rounds
                out.append(await timed(step))

        async def read_final() -> object:
            return await etf_store.read_table(store, vint, ASSET, LAUNCH, until)  # noqa: B023

        async def read_known() -> object:
            stored = await etf_store.read_table(store, vint, ASSET, LAUNCH, until)  # noqa: B023
            assert stored is not None
            return await etf_vintages.as_known(store, vint, ASSET, stored[0], at)  # noqa: B023

        reads = [(samples["read"][0], read_final), (samples["read"][1], read_known)]
        for out, step in reads if n % 2 == 0 else reads[::-1]:
            out.append(await timed(step))
    await store.close()
    return {k: (median(a), median(b)) for k, (a, b) in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--database-url", default=None, help="measure on this (empty) PostgreSQL database")
    args = parser.parse_args()
    store: Store
    if args.database_url:
        from store.postgres import PostgresStore

        store, backend = PostgresStore(args.database_url), "PostgreSQL"
    else:
        from store.sqlite import SqliteStore

        store, backend = SqliteStore(Path(tempfile.mkdtemp()) / "bench.sqlite3"), "SQLite"
    got = anyio.run(measure, store, args.rounds)
    flows = table()
    print(f"ETF vintages: write and read cost; {S.stamp()}; {S.machine()}")
    print(f"  table: {len(flows.rows)} days x {len(flows.tickers)} funds + total; {backend}; medians of {args.rounds}")
    labels = {
        "first": "write, first fetch",
        "repeat": "write, repeat fetch",
        "repeat_new": "write, repeat fetch, new process",
        "read": "as_of read",
    }
    for key, (without, with_) in got.items():
        print(f"  {labels[key]:32} without {S.ms(without):>12}  with {S.ms(with_):>12}  ratio {with_ / without:5.2f}x")


if __name__ == "__main__":
    main()
