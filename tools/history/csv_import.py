"""Loading common public CSV exports into the history store, so an archive can be backtested at once.

Farside-style ETF flow tables: `date,<TICKER>...,Total`, one row per US trading day, US$ millions, negative =
outflow, an empty cell = no figure. Stored as
    SeriesKey("farside", "net_flow_usd", <ASSET>, <TICKER>)   value in US$ (not millions)
    SeriesKey("farside", "net_flow_usd", <ASSET>, "TOTAL")    the Total column
with ts = the trading date at 00:00 UTC. An empty cell is not stored (never as 0). A row whose every fund cell is
empty is a market holiday: its Total (Farside prints 0.0) is not stored either, since no trading is not a flow; a
"not_reported_day" marker records that the day was listed (see tools/history/etf_store.py).

OHLC candles: either `timestamp,open,high,low,close,volume` (ISO times, Coinbase-style exports) or Binance kline
columns `open_time,open,high,low,close,volume,close_time,...` (unix ms). Stored under the candle series of
`tools.history.candle_store`, with coverage for every run of consecutive bars so read-through never refetches them.
The last row of a candle export is usually the bar that was still forming when the file was written, so it is
dropped unless `keep_last` is set.

An imported row is recorded as known at the end of the period it describes (bar close; end of the trading day),
since an archive stands for what was published then. A malformed row stops the import with its line number before
anything is written; the rows of a file are then written in one transaction.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import anyio.to_thread

from schemas.market import INTERVAL_SECONDS, Candle
from store.base import CoverageStore, Observation, SeriesKey, Store
from tools.history import candle_store, etf_store

ETF_SOURCE = "farside"
ETF_METRIC = "net_flow_usd"
ETF_TOTAL = "TOTAL"
USD_PER_MILLION = 1_000_000.0
_TIME_COLUMNS = ("timestamp", "open_time", "time", "date")


class ImportFormatError(ValueError):
    """The file is not in a supported layout; the message names the file, line and what was expected."""


@dataclass(frozen=True)
class ImportResult:
    rows_read: int  # data rows in the file
    observations: int  # store rows written
    skipped_empty: int  # empty cells (no figure) or dropped rows
    first: datetime | None
    last: datetime | None


def etf_flow_key(asset: str, ticker: str) -> SeriesKey:
    return SeriesKey(ETF_SOURCE, ETF_METRIC, asset.upper(), ticker.upper())


def _number(path: Path, line: int, column: str, raw: str) -> float:
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        raise ImportFormatError(f"{path.name} line {line}: {column}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ImportFormatError(f"{path.name} line {line}: {column}={raw!r} is not a finite number")
    return value


def read_etf_flows(path: Path, asset: str) -> tuple[list[Observation], ImportResult]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        if len(header) < 3 or header[0].lower() != "date" or header[-1].lower() != "total":
            raise ImportFormatError(f"{path.name}: expected a header 'date,<TICKER>...,Total', got {header[:4]}...")
        tickers = header[1:-1]
        out: list[Observation] = []
        rows = skipped = 0
        first = last = None
        for line, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            rows += 1
            if len(row) != len(header):
                raise ImportFormatError(f"{path.name} line {line}: {len(row)} cells, the header has {len(header)}")
            try:
                day = date.fromisoformat(row[0].strip())
            except ValueError:
                raise ImportFormatError(f"{path.name} line {line}: date {row[0]!r} is not YYYY-MM-DD") from None
            ts = datetime.combine(day, time(), UTC)
            known = ts + timedelta(days=1)
            cells = [c.strip() for c in row[1:]]
            funds = cells[:-1]
            if not any(funds):
                # A holiday row: nothing traded, so no flow is stored; the marker lets a read list the row as the
                # page did (tools/history/etf_store.py).
                skipped += len(cells)
                out.append(etf_store.not_reported_marker(ETF_SOURCE, asset, day, known))
                continue
            for ticker, cell in zip([*tickers, ETF_TOTAL], cells, strict=True):
                if cell in ("", "-"):
                    skipped += 1
                    continue
                # Rounded to the dollar as the Farside fetcher does, so an imported day equals a fetched one.
                value = round(_number(path, line, ticker, cell) * USD_PER_MILLION, 0)
                out.append(Observation(etf_flow_key(asset, ticker), ts, value, known))
            first = ts if first is None else min(first, ts)
            last = ts if last is None else max(last, ts)
    return out, ImportResult(rows, len(out), skipped, first, last)


def _parse_time(path: Path, line: int, raw: str) -> datetime:
    raw = raw.strip()
    if raw.lstrip("-").isdigit():
        number = int(raw)
        seconds = number / 1000 if abs(number) > 10**11 else number  # unix ms (Binance) or seconds
        return datetime.fromtimestamp(seconds, UTC)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ImportFormatError(f"{path.name} line {line}: time {raw!r} is neither unix time nor ISO 8601") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def read_candles(path: Path, interval: str, *, keep_last: bool = False) -> tuple[list[Candle], ImportResult]:
    step = INTERVAL_SECONDS[interval]
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        time_col = next((c for c in _TIME_COLUMNS if c in header), None)
        needed = ["open", "high", "low", "close", "volume"]
        if time_col is None or any(c not in header for c in needed):
            raise ImportFormatError(
                f"{path.name}: expected columns timestamp|open_time,open,high,low,close,volume; got {header[:8]}"
            )
        at = {c: header.index(c) for c in [time_col, *needed]}
        candles: dict[datetime, Candle] = {}
        rows = 0
        for line, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            rows += 1
            if len(row) < len(header):
                raise ImportFormatError(f"{path.name} line {line}: {len(row)} cells, the header has {len(header)}")
            ts = _parse_time(path, line, row[at[time_col]])
            if int(ts.timestamp()) % step or ts.microsecond:
                raise ImportFormatError(f"{path.name} line {line}: {ts.isoformat()} is not a {interval} bar open")
            o, h, low, c, v = (_number(path, line, col, row[at[col]]) for col in needed)
            candles[ts] = Candle(ts, o, h, low, c, v, closed=True)
    ordered = [candles[t] for t in sorted(candles)]
    dropped = 0
    if ordered and not keep_last:
        ordered, dropped = ordered[:-1], 1
    first = ordered[0].open_time if ordered else None
    last = ordered[-1].open_time if ordered else None
    return ordered, ImportResult(rows, len(ordered) * len(candle_store.FIELDS), dropped, first, last)


async def import_etf_flows(store: Store, path: Path, asset: str) -> ImportResult:
    rows, result = await anyio.to_thread.run_sync(read_etf_flows, path, asset)
    await store.upsert(rows)
    return result


async def import_candles(
    store: Store, path: Path, source: str, pair: str, interval: str, *, keep_last: bool = False
) -> ImportResult:
    candles, result = await anyio.to_thread.run_sync(lambda: read_candles(path, interval, keep_last=keep_last))
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    obs = [
        o
        for c in candles
        for o in candle_store.observations(source, pair, interval, [c], c.open_time + step)  # known at bar close
    ]
    await store.upsert(obs)
    if isinstance(store, CoverageStore):
        key = candle_store.coverage_key(source, pair, interval)
        for first, last in candle_store.bar_runs([c.open_time for c in candles], step):
            await store.add_coverage(key, first, last + step)
    return result
