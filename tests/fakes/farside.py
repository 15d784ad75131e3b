"""Fake Farside: the real daily flows of ../shared/data rendered in Farside's exact table markup.

`/bitcoin-etf-flow-all-data/` and `/ethereum-etf-flow-all-data/` use the all-data layout (one header row
Date + tickers + Total, a stray unclosed <tr> after <tbody>, rows oldest first, then Total/Average/Maximum/Minimum
rows); `/btc/` and `/eth/` the recent layout (issuer-logo row, ticker row, fee row, the last weeks only, zero cells
with class zero-flow). Negatives are `<span class="redFont">(x)</span>`, thousands carry commas and a missing
figure is `-`, as on the site (see ../shared/payloads/farside/PROVENANCE.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import httpx

from tests.fakes import FakeUpstream, Handler
from tests.fakes.data import etf_flows_csv

Row = tuple[str, dict[str, float | None], float]
ALL_DATA = {"/bitcoin-etf-flow-all-data/": "BTC", "/ethereum-etf-flow-all-data/": "ETH"}
RECENT = {"/btc/": "BTC", "/eth/": "ETH"}
RECENT_ROWS = 20


def fmt(value: float | None) -> str:
    """A US$m figure as Farside prints it."""
    if value is None:
        return "-"
    text = f"{abs(value):,.1f}"
    return f'<span class="redFont">({text})</span>' if value < 0 else text


def _cell(text: str, zero_class: bool = False) -> str:
    cls = ' class="zero-flow"' if zero_class and text == "0.0" else ""
    return f'<td{cls}><div align="right"><span class="tabletext">{text}</span></div></td>'


def _day_label(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d %b %Y")


def _summary_rows(tickers: Sequence[str], rows: Sequence[Row]) -> str:
    columns: list[list[float]] = [[v for r in rows if (v := r[1][t]) is not None] for t in tickers]
    columns.append([r[2] for r in rows])
    out = []
    for label, agg in (
        ("Total", sum),
        ("Average", lambda xs: sum(xs) / len(xs)),
        ("Maximum", max),
        ("Minimum", min),
    ):
        cells = "".join(_cell(fmt(agg(col) if col else None)) for col in columns)
        out.append(
            '<tr style="background-color: #eaeffa !important;">\n'
            f'\t<td><span class="tabletext">{label}</span></td>\n{cells}\n</tr>\n'
        )
    return "\n".join(out)


def render_all_data(tickers: Sequence[str], rows: Sequence[Row], title: str = "Bitcoin ETF Flow") -> str:
    head = "".join(
        f'\t<th><div align="right"><span class="tabletext">{t}</span></div></th>\n' for t in (*tickers, "Total")
    )
    body = []
    for i, (day, funds, total) in enumerate(rows):
        style = ' style="background-color: #99ff99 !important;"' if i == len(rows) - 1 else ""
        cells = "\n".join("\t" + _cell(fmt(funds[t])) for t in tickers)
        body.append(
            f' <tr{style}> \t\n\t<td><span class="tabletext">{_day_label(day)}</span></td>\n{cells}\n'
            f"\t{_cell(fmt(total))}\n</tr>\n"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="UTF-8">\n'
        f"<title>{title} &#8211; All Data &#8211; Farside Investors</title>\n"
        '<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>\n</head>\n<body>\n'
        f'<h1 class="entry-title">{title} &#8211; All Data (US$m)</h1>\n'
        '<div class="entry-content">\n<figure>\n<table class="etf">\n<thead>\n<tr bgcolor="#eaeffa">\n'
        '    <th><span class="tabletext">Date</span></th>\n'
        f"{head}</tr>\n</thead>\n<tbody>           \t\t\n<tr>\n\n"
        + "\n".join(body)
        + "\n\t\t\t\n\n"
        + _summary_rows(tickers, rows)
        + "</tbody>\n</table>\n</figure>\n</div>\n</body>\n</html>\n"
    )


def render_recent(tickers: Sequence[str], rows: Sequence[Row]) -> str:
    logos = "".join(
        '\t<th><div align="center"><a href="" class="grow"><img src="/images/etf/x.jpg" alt="Issuer" width="32" '
        'height="15"></a></div></th>\n'
        for _ in tickers
    )
    names = "".join(f'\t<th><div align="right"><span class="tabletext">  {t}</span></div></th>\n' for t in tickers)
    fees = "".join('\t<th><div align="right"><span class="tabletext">0.25%</span></div></th>\n' for _ in tickers)
    empty = '\t<th><div align="right"><span class="tabletext"></span></div></th>\n'
    body = []
    for day, funds, total in rows:
        cells = "".join(_cell(fmt(funds[t]), zero_class=True) for t in tickers)
        body.append(
            f'            <tr> \n                <td><span class="tabletext">{_day_label(day)}</span></td>\n'
            f"                {cells}{_cell(fmt(total))}            </tr>\n"
        )
    return (
        "<html><head><title>Bitcoin ETF Flow &#8211; Farside Investors</title></head><body>\n"
        '<table class="etf">\n<thead>\n\t<tr bgcolor="#eaeffa">\n'
        '    <th><span class="tabletext">                       </span></th>\n'
        f'{logos}\t<th><div align="right"><span class="tabletext">      Total</span></div></th>\n</tr>\n'
        '<tr bgcolor="#eaeffa">\n    <th><span class="tabletext"></span></th>\n'
        f"{names}{empty}</tr>\n"
        '<tr bgcolor="#eaeffa">\n    <th><span class="tabletext">Fee</span></th>\n'
        f"{fees}{empty}</tr>\n</thead>\n<tbody>            \n"
        + "".join(body)
        + _summary_rows(tickers, rows)
        + "</tbody>\n</table>\n</body></html>\n"
    )


def rows_through(asset: str, last_day: str | None) -> tuple[tuple[str, ...], list[Row]]:
    tickers, rows = etf_flows_csv(asset)
    # A fund column that is empty on every row served (BTC before August 2024, MSBT before 2026) is not on the page
    # yet: Farside adds a fund's column when it lists the fund.
    kept = [r for r in rows if last_day is None or r[0] <= last_day]
    listed = tuple(t for t in tickers if any(r[1][t] is not None for r in kept))
    return listed, [(d, {t: f[t] for t in listed}, total) for d, f, total in kept]


def handler(last_day: str | None = None) -> Handler:
    """A Farside handler serving the shared CSV, optionally only the days up to `last_day` (ISO)."""

    def handle(request: httpx.Request, path: str) -> httpx.Response:
        asset = ALL_DATA.get(path) or RECENT.get(path)
        if asset is None:
            return httpx.Response(404, text="<html><body><h1>Page not found</h1></body></html>")
        tickers, rows = rows_through(asset, last_day)
        title = "Bitcoin ETF Flow" if asset == "BTC" else "Ethereum ETF Flow"
        html = (
            render_all_data(tickers, rows, title) if path in ALL_DATA else render_recent(tickers, rows[-RECENT_ROWS:])
        )
        return httpx.Response(200, text=html, headers={"Content-Type": "text/html; charset=UTF-8"})

    return handle


def register(fake: FakeUpstream) -> None:
    fake.handlers["farside"] = handler()
