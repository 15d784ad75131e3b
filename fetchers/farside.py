"""Farside Investors spot ETF flow tables (keyless HTML): the default ETF flow source.

Pages: `/bitcoin-etf-flow-all-data/` and `/ethereum-etf-flow-all-data/` (every day since launch), `/btc/` and `/eth/`
(recent weeks). Each holds one `<table class="etf">`: header row(s) with the fund tickers and `Total` (the recent
pages add an issuer-logo row and a fee row), then one row per trading day (`06 Oct 2025`), then summary rows
(Total / Average / Maximum / Minimum). Cells are US$m, negatives in parentheses, thousands with commas, `-` when a
fund has no figure (not listed yet, or not reported yet). Farside sits behind Cloudflare, which answers datacenter
addresses with a 403 or a "Just a moment..." challenge page instead of the table.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser

import httpx

from fetchers.errors import BadPayloadError, GeoBlockedError
from fetchers.http import Fetched, Http
from schemas.etf_flows import FlowRow, FlowTable

SOURCE = "farside"
ALL_DATA_PATHS = {"BTC": "/bitcoin-etf-flow-all-data/", "ETH": "/ethereum-etf-flow-all-data/"}
RECENT_PATHS = {"BTC": "/btc/", "ETH": "/eth/"}
# Farside updates a few times a day while issuers report; half an hour keeps a tool call cheap and the day fresh.
TTL_S = 1800.0
USD_PER_MILLION = 1_000_000.0

_TICKER_RE = re.compile(r"^[A-Z][A-Z0-9]{1,5}$")
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")
# Markers of Cloudflare's interstitial. The jsd beacon (/cdn-cgi/challenge-platform/scripts/jsd/) is also present
# on good pages, so only the challenge's own markers count.
_CHALLENGE_MARKERS = (
    "<title>just a moment...</title>",
    "_cf_chl_opt",
    "/cdn-cgi/challenge-platform/h/",
    "enable javascript and cookies to continue",
    "attention required! | cloudflare",
)
BLOCKED_HINT = "set WINDVANE_SOSOVALUE_API_KEY (or WINDVANE_COINGLASS_API_KEY) to use an alternative ETF flow source"


class _EtfTableParser(HTMLParser):
    """Collects the rows of the first `table.etf` as lists of (is_header, cell text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False
        self.closed = False  # saw </table>: False for a page cut short
        self.rows: list[list[tuple[bool, str]]] = []
        self._depth = 0  # nesting depth of <table> while inside table.etf
        self._done = False
        self._row: list[tuple[bool, str]] | None = None
        self._cell: list[str] | None = None
        self._cell_is_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        if tag == "table":
            if self._depth:
                self._depth += 1
            elif "etf" in (dict(attrs).get("class") or "").split():
                self.found = True
                self._depth = 1
            return
        if not self._depth:
            return
        if tag == "tr":
            self._close_row()  # Farside leaves a stray unclosed <tr> after <tbody>
            self._row = []
        elif tag in ("td", "th"):
            self._close_cell()
            if self._row is None:
                self._row = []
            self._cell = []
            self._cell_is_header = tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if not self._depth or self._done:
            return
        if tag in ("td", "th"):
            self._close_cell()
        elif tag == "tr":
            self._close_row()
        elif tag == "table":
            self._depth -= 1
            if not self._depth:
                self._close_row()
                self._done = True
                self.closed = True

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def close(self) -> None:
        super().close()
        self._close_row()  # a page cut short still yields the rows it holds

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append((self._cell_is_header, " ".join("".join(self._cell).split())))
        self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self._row:
            self.rows.append(self._row)
        self._row = None


def is_challenge_page(html: str) -> bool:
    head = html[:20000].lower()
    return any(marker in head for marker in _CHALLENGE_MARKERS)


def parse_cell(text: str, where: str) -> float | None:
    """A US$m cell: '1,190.1' -> 1190.1, '(95.1)' -> -95.1, '-' or '' -> None. Anything else is drift."""
    raw = text.strip()
    if raw in ("", "-", "–", "—"):
        return None
    negative = raw.startswith("(") and raw.endswith(")")
    body = raw[1:-1].strip() if negative else raw
    if body.startswith("-"):
        negative, body = True, body[1:].strip()
    body = body.replace(",", "")
    if not _NUMBER_RE.match(body):
        raise BadPayloadError(SOURCE, f"{where}: cell {raw[:30]!r} is not a US$m figure")
    value = float(body)
    return -value if negative else value


def _parse_day(text: str) -> date | None:
    for fmt in ("%d %b %Y", "%d %B %Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _columns(header_rows: list[list[str]]) -> tuple[dict[int, str], int]:
    """Ticker per column index, and the index of the Total column, from the header row(s)."""
    ticker_row = max(header_rows, key=lambda row: sum(1 for cell in row[1:] if _TICKER_RE.match(cell)))
    tickers = {i: cell for i, cell in enumerate(ticker_row) if i > 0 and _TICKER_RE.match(cell)}
    if len(tickers) < 2:
        raise BadPayloadError(SOURCE, "table.etf header holds no fund tickers")
    total_col = None
    for row in header_rows:
        for i, cell in enumerate(row):
            if cell.lower() == "total" and i > 0:
                total_col = i
    if total_col is None or total_col in tickers:
        raise BadPayloadError(SOURCE, "table.etf header has no Total column")
    return tickers, total_col


def parse_flow_table_html(html: str) -> FlowTable:
    """Daily rows of the Farside table, in USD, ascending. Summary rows are skipped; a challenge page is a block."""
    parser = _EtfTableParser()
    parser.feed(html)
    parser.close()
    if not parser.found:
        if is_challenge_page(html):
            raise GeoBlockedError(SOURCE, f"Cloudflare challenge page instead of the flow table; {BLOCKED_HINT}")
        raise BadPayloadError(SOURCE, "no table.etf in the page (layout changed?)")
    header_rows: list[list[str]] = []
    body_rows: list[tuple[date, list[str]]] = []
    for row in parser.rows:
        cells = [text for _, text in row]
        day = _parse_day(cells[0]) if cells else None
        if day is not None:
            body_rows.append((day, cells))
        elif not body_rows and any(is_header for is_header, _ in row):
            header_rows.append(cells)
        # else: a summary row (Total/Average/Maximum/Minimum), a fee or seed row: not a trading day.
    if not header_rows:
        raise BadPayloadError(SOURCE, "table.etf has no header row")
    tickers, total_col = _columns(header_rows)
    width = max(max(tickers), total_col) + 1
    if not parser.closed and body_rows and len(body_rows[-1][1]) < width:
        body_rows.pop()  # the body ended inside this row: it is incomplete, not a layout change
    rows: dict[date, FlowRow] = {}
    for day, cells in body_rows:
        where = f"row {day.isoformat()}"
        if len(cells) < width:
            raise BadPayloadError(SOURCE, f"{where} has {len(cells)} cells, the header has {width}")
        funds = {t: _usd(parse_cell(cells[i], f"{where} {t}")) for i, t in tickers.items()}
        rows[day] = FlowRow(day=day, funds=funds, total_usd=_usd(parse_cell(cells[total_col], f"{where} Total")))
    if not rows:
        raise BadPayloadError(SOURCE, "table.etf has no dated rows (empty table)")
    ordered = [rows[d] for d in sorted(rows)]
    return FlowTable(tickers=tuple(tickers[i] for i in sorted(tickers)), rows=ordered)


def _usd(millions: float | None) -> float | None:
    # Farside's figures have one decimal in US$m; rounding to the dollar removes float noise from the scaling.
    return None if millions is None else round(millions * USD_PER_MILLION, 0)


def parse_flow_table(response: httpx.Response) -> FlowTable:
    return parse_flow_table_html(response.text)


def _with_launch_flag(table: FlowTable, since_launch: bool) -> FlowTable:
    return FlowTable(tickers=table.tickers, rows=table.rows, since_launch=since_launch)


async def fetch_flow_table(http: Http, asset: str, *, all_data: bool = True) -> Fetched[FlowTable]:
    """The all-data page (every day since launch) or the recent page of `asset` (BTC or ETH)."""
    path = (ALL_DATA_PATHS if all_data else RECENT_PATHS)[asset]
    fetched = await http.get(
        SOURCE,
        path,
        parse_flow_table,
        headers={"Accept": "text/html,application/xhtml+xml"},
        ttl_s=TTL_S,
        # The all-data page is ~0.2 s of pure-Python HTML parsing: off the event loop, so the other tools' request
        # chains (e.g. in the assessment) keep moving while it runs.
        parse_in_thread=True,
    )
    return Fetched(
        value=_with_launch_flag(fetched.value, all_data),
        source=fetched.source,
        endpoint=fetched.endpoint,
        fetched_at=fetched.fetched_at,
        stale=fetched.stale,
        age_seconds=fetched.age_seconds,
        stale_reason=fetched.stale_reason,
    )
