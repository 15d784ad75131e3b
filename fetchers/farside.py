"""Farside Investors spot ETF flow tables (keyless HTML): the default ETF flow source.

Pages: `/bitcoin-etf-flow-all-data/` and `/ethereum-etf-flow-all-data/` (every day since launch), `/btc/` and `/eth/`
(recent weeks). Each holds one `<table class="etf">`: header row(s) with the fund tickers and `Total` (the recent
pages add an issuer-logo row and a fee row), then one row per trading day (`06 Oct 2025`), oldest first, then
summary rows (Total, and on most pages Average / Maximum / Minimum). Every row is as wide as the header. Cells
are US$m, negatives in parentheses, thousands with commas, `-` when a fund has no figure (not listed yet, or not
reported yet). Farside sits behind Cloudflare, which answers datacenter
addresses with a 403 or a "Just a moment..." challenge page instead of the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

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


_TABLE_TAG_RE = re.compile(r"<(/?)table\b([^>]*)>", re.IGNORECASE)
_CLASS_RE = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def _closed(html: str) -> bool:
    """Whether the first `table.etf` in the raw text has its closing tag: a parser repairs a page cut short, so
    completeness is read from the text itself."""
    depth = 0
    for tag in _TABLE_TAG_RE.finditer(html):
        closing, attrs = tag.group(1), tag.group(2)
        if depth == 0:
            found = _CLASS_RE.search(attrs) if not closing else None
            if found is not None and "etf" in "".join(g or "" for g in found.groups()).split():
                depth = 1
        elif closing:
            depth -= 1
            if depth == 0:
                return True
        else:
            depth += 1
    return False


@dataclass(frozen=True)
class _EtfTable:
    found: bool
    closed: bool  # saw the table's </table>: False for a page cut short
    rows: list[list[tuple[bool, str]]]  # each row's cells as (is_header, text with blanks collapsed)


def _etf_table(html: str) -> _EtfTable:
    """The rows of the first `table.etf`, read with lxml's HTML parser (libxml2: the all-data page is ~0.8 MB,
    four times faster than the standard library's parser), imported on first use."""
    import lxml.etree
    import lxml.html

    try:
        document = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):  # an empty body, or one lxml cannot read as HTML
        return _EtfTable(found=False, closed=False, rows=[])
    table = next((t for t in document.iter("table") if "etf" in (t.get("class") or "").split()), None)
    if table is None:
        return _EtfTable(found=False, closed=False, rows=[])
    rows = []
    for tr in table.iter("tr"):
        # Farside leaves a stray unclosed <tr> after <tbody>: an empty row, dropped.
        cells = [
            (cell.tag == "th", " ".join(cell.text_content().split()))
            for cell in tr
            if isinstance(cell, lxml.html.HtmlElement) and cell.tag in ("td", "th")
        ]
        if cells:
            rows.append(cells)
    return _EtfTable(found=True, closed=_closed(html), rows=rows)


def is_challenge_page(html: str) -> bool:
    head = html[:20000].lower()
    return any(marker in head for marker in _CHALLENGE_MARKERS)


def parse_cell(text: str, where: str) -> float | None:
    """A US$m cell: '1,190.1' -> 1190.1, '(95.1)' -> -95.1, '-' -> None. Anything else is drift.

    Farside writes '-' where it has no figure; every real capture fills every cell, so an empty one means the
    page changed (or lost its figures), never "no data".
    """
    raw = text.strip()
    if raw in ("-", "–", "—"):
        return None
    if not raw:
        raise BadPayloadError(SOURCE, f"{where}: empty cell (Farside writes '-' where it has no figure)")
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


SUMMARY_LABELS = ("Total", "Average", "Maximum", "Minimum")
_HEADER_LABELS = ("", "Date")


def _columns(header_rows: list[list[str]], width: int) -> tuple[dict[int, str], int]:
    """Ticker per column index and the Total column from the header row(s): label, tickers..., Total.

    The ticker row (the one with most tickers) must hold a ticker in every column between the label and the last
    one, and some header row must say Total in the last column; anything else is a changed layout.
    """
    ticker_row = max(header_rows, key=lambda row: sum(1 for cell in row[1:] if _TICKER_RE.match(cell)))
    tickers = {i: cell for i, cell in enumerate(ticker_row) if 0 < i < width - 1 and _TICKER_RE.match(cell)}
    if len(tickers) < 2:
        raise BadPayloadError(SOURCE, "table.etf header holds no fund tickers")
    if len(tickers) != width - 2 or ticker_row[0] not in _HEADER_LABELS or ticker_row[-1] not in ("", "Total"):
        raise BadPayloadError(
            SOURCE, f"table.etf header is not 'Date, tickers..., Total': {' | '.join(ticker_row)[:120]}"
        )
    if not any(row[-1].lower() == "total" for row in header_rows):
        raise BadPayloadError(SOURCE, "table.etf header has no Total column")
    return tickers, width - 1


def _split(rows: list[list[tuple[bool, str]]]) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """The table's rows as (header rows, day rows, summary rows), in that order, or a BadPayloadError.

    Header rows are the leading all-<th> rows; then one row per trading day; then the summary rows, starting with
    Total. A row of any other kind, anywhere, means the layout changed.
    """
    header: list[list[str]] = []
    days: list[list[str]] = []
    summary: list[list[str]] = []
    for row in rows:
        cells = [text for _, text in row]
        is_day = _parse_day(cells[0]) is not None
        if not days and not summary and not is_day and all(is_header for is_header, _ in row):
            header.append(cells)
        elif is_day and not summary:
            days.append(cells)
        elif cells[0] in SUMMARY_LABELS and days:
            summary.append(cells)
        else:
            where = "after the summary rows" if summary else "before the first day" if not days else "among the days"
            raise BadPayloadError(SOURCE, f"unexpected row {cells[0][:30]!r} {where} in table.etf")
    return header, days, summary


def _check_summary(summary: list[list[str]], width: int) -> None:
    """The trailing summary rows: Total, then optionally Average, Maximum, Minimum, each a full row of figures.

    A page cut short loses them first, so a table without its Total row is incomplete, never a shorter table.
    """
    labels = [cells[0] for cells in summary]
    if not labels or labels != list(SUMMARY_LABELS[: len(labels)]):
        found = ", ".join(labels) or "none"
        raise BadPayloadError(SOURCE, f"table.etf summary rows are {found}, expected Total (Average, Maximum, Minimum)")
    for cells in summary:
        if len(cells) != width:
            raise BadPayloadError(SOURCE, f"summary row {cells[0]} has {len(cells)} cells, the header has {width}")
        for i, cell in enumerate(cells[1:], start=1):
            parse_cell(cell, f"summary row {cells[0]} column {i}")


def parse_flow_table_html(html: str) -> FlowTable:
    """Daily rows of the Farside table, in USD, ascending; a challenge page is a block.

    The table must be complete: closed, a header of label + tickers + Total, every day row as wide as the header,
    days ascending, and the trailing summary rows. A page cut short is an error, never a shorter table.
    """
    etf = _etf_table(html)
    if not etf.found:
        if is_challenge_page(html):
            raise GeoBlockedError(SOURCE, f"Cloudflare challenge page instead of the flow table; {BLOCKED_HINT}")
        raise BadPayloadError(SOURCE, "no table.etf in the page (layout changed?)")
    if not etf.closed:
        raise BadPayloadError(SOURCE, "table.etf is cut short (no </table>): the page was truncated")
    header_rows, day_rows, summary = _split(etf.rows)
    if not header_rows:
        raise BadPayloadError(SOURCE, "table.etf has no header row")
    width = len(header_rows[0])
    if any(len(row) != width for row in header_rows):
        raise BadPayloadError(SOURCE, f"table.etf header rows differ in width: {[len(r) for r in header_rows]}")
    tickers, total_col = _columns(header_rows, width)
    rows: list[FlowRow] = []
    for cells in day_rows:
        day = _parse_day(cells[0])
        assert day is not None  # _split put only dated rows here
        where = f"row {day.isoformat()}"
        if len(cells) != width:
            raise BadPayloadError(SOURCE, f"{where} has {len(cells)} cells, the header has {width}")
        if rows and day <= rows[-1].day:
            raise BadPayloadError(SOURCE, f"{where} follows {rows[-1].day.isoformat()}: days are not ascending")
        funds = {t: _usd(parse_cell(cells[i], f"{where} {t}")) for i, t in tickers.items()}
        rows.append(FlowRow(day=day, funds=funds, total_usd=_usd(parse_cell(cells[total_col], f"{where} Total"))))
    if not rows:
        raise BadPayloadError(SOURCE, "table.etf has no dated rows (empty table)")
    _check_summary(summary, width)
    return FlowTable(tickers=tuple(tickers[i] for i in sorted(tickers)), rows=rows)


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
