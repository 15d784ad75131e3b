"""A backtest history provider reading daily CSV history laid out like windvane's shared data folder.

`windvane backtest --data-dir DIR` uses it; so do the published README table and the tests. Each figure is computed
only from rows dated at or before the day being scored (every series is a daily UTC or US-trading-day close, complete
by the end of that UTC day), mirroring the definitions the live tools use.
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import fmean

from tools.assess.scoring import Observed, ScoringInputs
from tools.assess.trend import LOOKBACK_DAYS, DailyBar, trend_stats

# Relative paths in the shared data layout (see its README): folder / file, and the value column.
PREMIUM = ("05_coinbase_premium/derived_coinbase_minus_binance_daily_close.csv", "gap_close_pct")
ETF = ("01_us_spot_btc_etf_flows_farside/farside_btc_etf_flows_daily.csv", "Total")
RESERVE = (
    "06_cryptoquant_btc_exchange_flows_liquidations/btc_exchange_reserve_all_exchanges_daily.csv",
    "Exchange Reserve",
)
NETFLOW = (
    "06_cryptoquant_btc_exchange_flows_liquidations/btc_exchange_netflow_total_daily.csv",
    "Exchange Netflow (Total)",
)
OPEN_INTEREST = ("06_cryptoquant_btc_exchange_flows_liquidations/btc_open_interest_daily.csv", "Open Interest")
FUNDING = ("06_cryptoquant_btc_exchange_flows_liquidations/btc_funding_rates_daily.csv", "Funding Rates")
LIQ_LONG = (
    "06_cryptoquant_btc_exchange_flows_liquidations/btc_long_liquidations_usd_daily.csv",
    "Long Liquidations USD",
)
LIQ_SHORT = (
    "06_cryptoquant_btc_exchange_flows_liquidations/btc_short_liquidations_usd_daily.csv",
    "Short Liquidations USD",
)
MARKET_CAP = ("08_crypto_market_cap/derived_total_crypto_market_cap_daily.csv", "total_from_total3_plus_btc_eth_usd")
NASDAQ = ("09_us_equity_indices/fred_nasdaqcom_daily.csv", "NASDAQCOM")
CANDLES = "02_coinbase_btcusd_candles/coinbase_btcusd_1d.csv"

# A daily series whose latest row is older than this is treated as missing, not carried forward.
MAX_AGE_DAYS = 4
BETA_WINDOW = 90


@dataclass
class Series:
    days: list[date]
    values: list[float]
    source: str

    def upto(self, day: date) -> int:
        """Number of rows dated at or before `day`."""
        return bisect_right(self.days, day)

    def at(self, day: date, max_age: int = MAX_AGE_DAYS) -> tuple[date, float] | None:
        n = self.upto(day)
        if n == 0 or (day - self.days[n - 1]).days > max_age:
            return None
        return self.days[n - 1], self.values[n - 1]

    def exactly(self, day: date) -> float | None:
        n = self.upto(day)
        return self.values[n - 1] if n and self.days[n - 1] == day else None


def _day(text: str) -> date:
    return date.fromisoformat(text.strip()[:10])


def _load(
    root: Path, spec: tuple[str, str], keep: Callable[[dict[str, str]], bool] = lambda row: True, scale: float = 1.0
) -> Series:
    path, column = spec
    days: list[date] = []
    values: list[float] = []
    with (root / path).open() as fh:
        reader = csv.DictReader(fh)
        first = reader.fieldnames[0] if reader.fieldnames else "date"
        for row in reader:
            cell = (row.get(column) or "").strip()
            if cell in ("", ".") or not keep(row):
                continue
            days.append(_day(row[first]))
            values.append(float(cell) * scale)
    order = sorted(range(len(days)), key=days.__getitem__)
    return Series([days[i] for i in order], [values[i] for i in order], f"shared data: {path}")


def _farside_trading_day(row: dict[str, str]) -> bool:
    # Farside's early holiday rows have every fund cell empty and Total 0.0: a market holiday, never a zero flow.
    funds = [v for k, v in row.items() if k not in ("date", "Total")]
    return any((v or "").strip() for v in funds)


def empty(source: str) -> Series:
    return Series([], [], source)


class SeriesProvider:
    """Scoring inputs per day from daily series held in memory. Rows dated after the day are never read."""

    def __init__(
        self,
        name: str,
        *,
        bars: list[DailyBar],
        bars_source: str,
        premium: Series,
        etf: Series,
        reserve: Series,
        netflow: Series,
        oi: Series,
        funding: Series,
        liq_long: Series,
        liq_short: Series,
        mcap: Series,
        nasdaq: Series,
    ) -> None:
        self.name = name
        self.premium, self.etf, self.reserve, self.netflow = premium, etf, reserve, netflow
        self.oi, self.funding, self.liq_long, self.liq_short = oi, funding, liq_long, liq_short
        self.mcap, self.nasdaq = mcap, nasdaq
        self.bars = bars
        self.bars_source = bars_source
        self.bar_days = [date.fromisoformat(b.day) for b in self.bars]
        self.closes_by_day = dict(zip(self.bar_days, (b.close for b in self.bars), strict=True))

    def _observed(self, series: Series, at: date, value: float) -> Observed:
        return Observed(value, series.source, datetime.combine(at, datetime.min.time(), UTC))

    async def closes(self, start: date, end: date) -> dict[date, float]:
        return {d: c for d, c in self.closes_by_day.items() if start <= d <= end}

    async def inputs_at(self, day: date) -> ScoringInputs:
        inputs = ScoringInputs()
        self._premium(inputs, day)
        self._etf(inputs, day)
        self._changes(inputs, day)
        self._liquidations(inputs, day)
        self._trend(inputs, day)
        self._macro(inputs, day)
        inputs.reasons.setdefault("cut_odds_change_1d_pp", "no historical cut-odds series in this history")
        return inputs

    def _premium(self, inputs: ScoringInputs, day: date) -> None:
        latest = self.premium.at(day, max_age=1)
        if latest is None:
            inputs.reasons["premium_pct"] = inputs.reasons["premium_streak_days"] = f"no premium row for {day}"
            return
        at, value = latest
        inputs.premium_pct = self._observed(self.premium, at, value)
        n = self.premium.upto(day)
        sign = (value > 0) - (value < 0)
        run = 0
        for v in reversed(self.premium.values[:n]):
            if (v > 0) - (v < 0) != sign:
                break
            run += 1
        inputs.premium_streak_days = self._observed(self.premium, at, float(sign * run))

    def _etf(self, inputs: ScoringInputs, day: date) -> None:
        # The rule of tools/etf/days.py: day D's own row is not published by the end of D, so the latest completed
        # day and the 5-day average end the trading day before; month to date includes D's row, as the tool does.
        n = self.etf.upto(day)
        done = self.etf.upto(day - timedelta(days=1))
        if n == 0 or (day - self.etf.days[n - 1]).days > MAX_AGE_DAYS:
            for name in ("etf_latest_day_usd", "etf_5d_avg_usd", "etf_mtd_usd"):
                inputs.reasons[name] = f"no ETF flow day within {MAX_AGE_DAYS} days before {day}"
            return
        if done == 0:
            inputs.reasons["etf_latest_day_usd"] = f"no completed ETF trading day before {day}"
        else:
            latest = self.etf.days[done - 1]
            inputs.etf_latest_day_usd = self._observed(self.etf, latest, self.etf.values[done - 1])
            if done >= 5:
                inputs.etf_5d_avg_usd = self._observed(self.etf, latest, fmean(self.etf.values[done - 5 : done]))
        if done < 5:
            inputs.reasons["etf_5d_avg_usd"] = "fewer than 5 completed ETF trading days so far"
        month = [
            v
            for d, v in zip(self.etf.days[:n], self.etf.values[:n], strict=True)
            if (d.year, d.month) == (day.year, day.month)
        ]
        if month:
            inputs.etf_mtd_usd = self._observed(self.etf, self.etf.days[n - 1], sum(month))
        else:
            inputs.reasons["etf_mtd_usd"] = f"no ETF trading day yet in {day:%Y-%m}"

    def _change(self, series: Series, day: date, back: int) -> tuple[date, float, float] | None:
        now = series.exactly(day)
        before = series.exactly(day - timedelta(days=back))
        return None if now is None or before is None else (day, now, before)

    def _changes(self, inputs: ScoringInputs, day: date) -> None:
        # Net flow (inflow - outflow) over the 7 UTC days ending on `day`, as the reserve tool's net_flow_btc.
        week = [self.netflow.exactly(day - timedelta(days=k)) for k in range(7)]
        flows = [v for v in week if v is not None]
        if len(flows) == 7:
            inputs.exchange_netflow_7d_btc = self._observed(self.netflow, day, sum(flows))
        month = self._change(self.reserve, day, 30)
        if month is not None and month[2] > 0:
            inputs.reserve_change_30d_pct = self._observed(self.reserve, day, 100 * (month[1] / month[2] - 1))
        oi = self._change(self.oi, day, 7)
        if oi is not None and oi[2] > 0:
            inputs.oi_change_7d_pct = self._observed(self.oi, day, 100 * (oi[1] / oi[2] - 1))
        funding = self.funding.exactly(day)
        if funding is not None:
            # CryptoQuant's daily funding is the exchange-weighted rate in percent per 8 hours.
            inputs.funding_8h_pct = self._observed(self.funding, day, funding)
        mcap = self._change(self.mcap, day, 42)
        if mcap is not None and mcap[2] > 0:
            inputs.crypto_mcap_change_6w_pct = self._observed(self.mcap, day, 100 * (mcap[1] / mcap[2] - 1))
        for name in ("exchange_netflow_7d_btc", "reserve_change_30d_pct", "oi_change_7d_pct", "funding_8h_pct"):
            inputs.reasons.setdefault(name, f"missing daily rows around {day}")
        inputs.reasons.setdefault("crypto_mcap_change_6w_pct", f"no market-cap rows for {day} and 42 days before")

    def _liquidations(self, inputs: ScoringInputs, day: date) -> None:
        for series, name in ((self.liq_long, "liq_long_7d_usd"), (self.liq_short, "liq_short_7d_usd")):
            week = [series.exactly(day - timedelta(days=k)) for k in range(7)]
            present = [v for v in week if v is not None]
            if len(present) == 7:
                setattr(inputs, name, self._observed(series, day, sum(present)))
            else:
                inputs.reasons[name] = f"only {len(present)} of 7 daily liquidation rows before {day}"

    def _trend(self, inputs: ScoringInputs, day: date) -> None:
        n = bisect_right(self.bar_days, day)
        window = self.bars[max(0, n - LOOKBACK_DAYS) : n]
        stats = trend_stats(window)
        source = self.bars_source
        at = datetime.combine(day, datetime.min.time(), UTC)
        for name, value in (
            ("close_usd", stats.close),
            ("prior_swing_high_usd", stats.prior_swing_high),
            ("price_vs_ma50_pct", stats.price_vs_ma50_pct),
            ("price_vs_ma200_pct", stats.price_vs_ma200_pct),
            ("swing_high_sequence", stats.swing_high_sequence),
        ):
            if value is None or stats.close_day != day.isoformat():
                inputs.reasons[name] = f"no Coinbase daily close for {day} or too few bars"
            else:
                setattr(inputs, name, Observed(float(value), source, at))

    def _macro(self, inputs: ScoringInputs, day: date) -> None:
        latest = self.nasdaq.at(day)
        n = self.nasdaq.upto(day)
        if latest is None or n < BETA_WINDOW + 1:
            inputs.reasons["nasdaq_change_pct"] = inputs.reasons["btc_nasdaq_beta_90d"] = (
                f"no recent Nasdaq close before {day}"
            )
            return
        days, values = self.nasdaq.days[n - BETA_WINDOW - 1 : n], self.nasdaq.values[n - BETA_WINDOW - 1 : n]
        inputs.nasdaq_change_pct = self._observed(self.nasdaq, latest[0], 100 * (values[-1] / values[-2] - 1))
        # Returns between consecutive Nasdaq trading days, BTC measured over the same calendar span.
        pairs = []
        for i in range(1, len(days)):
            b0, b1 = self.closes_by_day.get(days[i - 1]), self.closes_by_day.get(days[i])
            if b0 and b1:
                pairs.append((values[i] / values[i - 1] - 1, b1 / b0 - 1))
        if len(pairs) < BETA_WINDOW // 2:
            inputs.reasons["btc_nasdaq_beta_90d"] = "too few overlapping BTC and Nasdaq closes"
            return
        mx, my = fmean(p[0] for p in pairs), fmean(p[1] for p in pairs)
        var = sum((p[0] - mx) ** 2 for p in pairs)
        cov = sum((p[0] - mx) * (p[1] - my) for p in pairs)
        if var > 0:
            inputs.btc_nasdaq_beta_90d = self._observed(self.nasdaq, latest[0], cov / var)


class SharedDataProvider(SeriesProvider):
    """The daily CSVs of windvane's shared data folder (see its README)."""

    def __init__(self, root: Path) -> None:
        super().__init__(
            f"shared CSV history in {root}",
            bars=_candles(root),
            bars_source=f"shared data: {CANDLES}",
            premium=_load(root, PREMIUM),
            etf=_load(root, ETF, _farside_trading_day, scale=1e6),  # Farside publishes US$ millions
            reserve=_load(root, RESERVE),
            netflow=_load(root, NETFLOW),
            oi=_load(root, OPEN_INTEREST),
            funding=_load(root, FUNDING),
            liq_long=_load(root, LIQ_LONG),
            liq_short=_load(root, LIQ_SHORT),
            mcap=_load(root, MARKET_CAP),
            nasdaq=_load(root, NASDAQ),
        )


def _candles(root: Path) -> list[DailyBar]:
    rows: list[DailyBar] = []
    with (root / CANDLES).open() as fh:
        for row in csv.DictReader(fh):
            rows.append(DailyBar(_day(row["timestamp"]).isoformat(), float(row["high"]), float(row["close"])))
    rows.sort(key=lambda b: b.day)
    # The file's last bar is the day still forming when it was exported; a partial bar is not a close.
    return rows[:-1]
