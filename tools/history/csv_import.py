"""Loading common public CSV exports into the history store, so an archive can be backtested at once.

Farside-style ETF flow tables: `date,<TICKER>...,Total`, one row per US trading day, US$ millions, negative =
outflow, an empty cell = no figure. Stored as
    SeriesKey("farside", "net_flow_usd", <ASSET>, <TICKER>)   value in US$ (not millions)
    SeriesKey("farside", "net_flow_usd", <ASSET>, "TOTAL")    the Total column
with ts = the trading date at 00:00 UTC. An empty cell is not stored (never as 0). A row whose every fund cell is
empty is a market holiday: its Total (Farside prints 0.0) is not stored either, since no trading is not a flow; a
"not_reported_day" marker records that the day was listed (see tools/history/etf_store.py). Values are rounded to
the dollar as the Farside fetcher does, so an imported day equals a fetched one. The asset comes from the funds in
the header (tools/history/import_detect.py); `--asset` may confirm it, never override it.

OHLC candles: either `timestamp,open,high,low,close,volume` (ISO times, Coinbase-style exports) or Binance kline
columns `open_time,open,high,low,close,volume,close_time,...` (unix ms); the bar size is the spacing of the bars.
Stored under the candle series of `tools.history.candle_store`, with coverage for every run of consecutive bars so
read-through never refetches them. The last row of a candle export is usually the bar that was still forming when
the file was written, so it is dropped unless `keep_last` is set.

An imported row is recorded as known at the end of the period it describes (bar close; end of the trading day),
since an archive stands for what was published then. A malformed row stops the import with its line number before
anything is read from the store; tools/history/import_guard.py compares the plan with what is stored and writes it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from fetchers import farside
from schemas.market import INTERVAL_SECONDS, Candle
from store.base import Observation, SeriesKey
from tools.history import candle_store, etf_store
from tools.history.import_detect import DETECT, bar_interval, candle_layout, check_total, check_units, etf_asset

ETF_SOURCE = farside.SOURCE  # an imported table is stored as the fetcher stores the page
USD_PER_MILLION = 1_000_000.0
# The pair a candle file is stored under when the command names none.
DEFAULT_PAIR = {"coinbase": "BTC-USD", "binance": "BTC-USDT"}


class ImportFormatError(ValueError):
    """The file is not in a supported layout; the message names the file, line and what was expected."""


@dataclass(frozen=True)
class ImportPlan:
    """What an import would write: the file's rows as store rows, with what the file was found to be."""

    what: str  # the file as detected, e.g. "Farside ETF flow table, ETH (detected from its funds ETHA, ...)"
    series: str  # the series written, e.g. "farside/net_flow_usd/ETH/<ETHA|...|TOTAL>"
    observations: list[Observation]
    rows_read: int  # data rows in the file
    skipped: int  # cells or bars of the file not written
    skipped_what: str  # what those are, for the plan
    first: datetime | None
    last: datetime | None
    # Bar-open spans [start, end) the file covers completely (candles only), recorded with its rows.
    coverage: list[tuple[SeriesKey, datetime, datetime]] = field(default_factory=list)


def etf_flow_key(asset: str, ticker: str) -> SeriesKey:
    return SeriesKey(ETF_SOURCE, etf_store.METRIC, asset.upper(), ticker.upper())


def _number(path: Path, line: int, column: str, raw: str) -> float:
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        raise ImportFormatError(f"{path.name} line {line}: {column}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ImportFormatError(f"{path.name} line {line}: {column}={raw!r} is not a finite number")
    return value


def _etf_cells(path: Path, line: int, tickers: list[str], cells: list[str]) -> dict[str, float]:
    """ticker|TOTAL -> US$ millions for the non-empty cells of one trading-day row, checked for units and sums."""
    values: dict[str, float] = {}
    for ticker, cell in zip([*tickers, etf_store.TOTAL_VENUE], cells, strict=True):
        if cell in ("", "-"):
            continue
        values[ticker] = _number(path, line, ticker, cell)
        check_units(path.name, line, ticker, values[ticker])
    check_total(
        path.name, line, [v for t, v in values.items() if t != etf_store.TOTAL_VENUE], values.get(etf_store.TOTAL_VENUE)
    )
    return values


def read_etf_flows(path: Path, asset: str = DETECT) -> ImportPlan:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        if len(header) < 3 or header[0].lower() != "date" or header[-1].lower() != "total":
            raise ImportFormatError(f"{path.name}: expected a header 'date,<TICKER>...,Total', got {header[:4]}...")
        tickers = [t.upper() for t in header[1:-1]]
        asset, how = etf_asset(path.name, tickers, asset.upper() if asset != DETECT else DETECT)
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
            cells = [c.strip() for c in row[1:]]
            known = ts + timedelta(days=1)
            if not any(c not in ("", "-") for c in cells[:-1]):
                # A holiday row: nothing traded, so no flow is stored; the marker lets a read list the row as the
                # page did (tools/history/etf_store.py).
                skipped += len(cells)
                out.append(etf_store.not_reported_marker(ETF_SOURCE, asset, day, known))
                continue
            values = _etf_cells(path, line, tickers, cells)
            skipped += len(cells) - len(values)
            out += [
                Observation(etf_flow_key(asset, t), ts, round(v * USD_PER_MILLION, 0), known) for t, v in values.items()
            ]
            first = ts if first is None else min(first, ts)
            last = ts if last is None else max(last, ts)
    return ImportPlan(
        what=f"Farside ETF flow table, {asset} ({how}), US$ millions",
        series=f"{ETF_SOURCE}/{etf_store.METRIC}/{asset}/<{'|'.join([*tickers, etf_store.TOTAL_VENUE])}>, and "
        f"{etf_store.not_reported_key(ETF_SOURCE, asset).label()} marking holiday rows",
        observations=out,
        rows_read=rows,
        skipped=skipped,
        skipped_what="empty cells (no figure; holiday rows included)",
        first=first,
        last=last,
    )


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


@dataclass(frozen=True)
class CandleFile:
    layout: str
    venue: str
    interval: str
    candles: list[Candle]  # ascending, the forming last bar dropped unless kept
    rows_read: int
    dropped: int


def read_candles(path: Path, venue: str = DETECT, interval: str = DETECT, *, keep_last: bool = False) -> CandleFile:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        needed = ["open", "high", "low", "close", "volume"]
        if any(c not in header for c in needed):
            raise ImportFormatError(
                f"{path.name}: expected columns timestamp|open_time,open,high,low,close,volume; got {header[:8]}"
            )
        layout = candle_layout(path.name, header, venue)
        at = {c: header.index(c) for c in [layout.time_column, *needed]}
        candles: dict[datetime, tuple[int, Candle]] = {}
        rows = 0
        for line, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            rows += 1
            if len(row) < len(header):
                raise ImportFormatError(f"{path.name} line {line}: {len(row)} cells, the header has {len(header)}")
            ts = _parse_time(path, line, row[at[layout.time_column]])
            o, h, low, c, v = (_number(path, line, col, row[at[col]]) for col in needed)
            candles[ts] = (line, Candle(ts, o, h, low, c, v, closed=True))
    interval = bar_interval(path.name, list(candles), interval)
    step = INTERVAL_SECONDS[interval]
    for ts, (line, _) in candles.items():
        if int(ts.timestamp()) % step or ts.microsecond:
            raise ImportFormatError(f"{path.name} line {line}: {ts.isoformat()} is not a {interval} bar open")
    ordered = [candles[t][1] for t in sorted(candles)]
    dropped = 0
    if ordered and not keep_last:
        ordered, dropped = ordered[:-1], 1
    return CandleFile(layout.name, layout.venue or venue, interval, ordered, rows, dropped)


def candle_plan(
    path: Path, venue: str, pair: str | None, interval: str = DETECT, *, keep_last: bool = False
) -> ImportPlan:
    got = read_candles(path, venue, interval, keep_last=keep_last)
    pair = pair or DEFAULT_PAIR[got.venue]
    step = timedelta(seconds=INTERVAL_SECONDS[got.interval])
    obs = [
        o
        for c in got.candles
        for o in candle_store.observations(got.venue, pair, got.interval, [c], c.open_time + step)  # known at close
    ]
    key = candle_store.coverage_key(got.venue, pair, got.interval)
    spans = [(key, a, b + step) for a, b in candle_store.bar_runs([c.open_time for c in got.candles], step)]
    return ImportPlan(
        what=f"{got.interval} candles, {got.layout}, {got.venue} {pair}",
        series=f"{got.venue}/<{'|'.join(candle_store.FIELDS)}>/{pair}/{got.interval}",
        observations=obs,
        rows_read=got.rows_read,
        skipped=got.dropped,
        skipped_what="the last bar (usually still forming; --keep-last keeps it)",
        first=got.candles[0].open_time if got.candles else None,
        last=got.candles[-1].open_time if got.candles else None,
        coverage=spans,
    )
