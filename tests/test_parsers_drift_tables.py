"""Table and text parsers against drifted versions of real bodies: Farside's HTML, FRED's CSV, mempool's tip height.

The same property as tests/test_parsers_drift.py (refused naming the source, or exactly the healthy parse), with
mutations that fit each format: a body cut at a byte offset; one table cell (or CSV field) dropped; one cell's text
replaced by something that is no figure, date or label; a required label (Farside's Total, Average, ..., Date; FRED's
header) renamed. A Farside cut after </table> leaves the table whole, so it must parse unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fetchers import farside, fred, mempool
from tests.drift import DRIFT_SETTINGS, EXAMPLES, needs_shared, outcome, truncations
from tests.fakes.data import PAYLOADS

pytestmark = needs_shared

Parse = Callable[[Any], Any]
# Lower-case words and punctuation: never a US$m figure, a date, a ticker, a summary label, '-' or empty.
GARBAGE = st.text(alphabet="abcxyz?!%", min_size=1, max_size=6)


@dataclass
class TextCase:
    name: str
    source: str
    parse: Parse
    load: Callable[[], str]
    examples: int = EXAMPLES

    def __str__(self) -> str:
        return self.name

    @cached_property
    def text(self) -> str:
        return self.load()

    @cached_property
    def healthy(self) -> Any:
        kind, value = outcome(self.parse, self.text, self.source)
        assert kind == "value", f"the healthy body of {self.name} is refused: {value}"
        return value

    def check(self, body: str | bytes) -> None:
        kind, value = outcome(self.parse, body, self.source)
        assert kind == "refused" or value == self.healthy, f"{self.name}: a drifted body parsed to another value"


def _page(name: str) -> Callable[[], str]:
    return lambda: (PAYLOADS / "farside" / name).read_text()


def _fake_page(asset: str, recent: bool) -> Callable[[], str]:
    def render() -> str:
        from tests.fakes.farside import RECENT_ROWS, render_all_data, render_recent, rows_through

        tickers, rows = rows_through(asset, "2025-11-25")
        return render_recent(tickers, rows[-RECENT_ROWS:]) if recent else render_all_data(tickers, rows[-120:])

    return render


def _farside(name: str, load: Callable[[], str], examples: int = EXAMPLES) -> TextCase:
    return TextCase(name, "farside", lambda r: farside.parse_flow_table(r), load, examples)


FARSIDE = [
    _farside("btc recent page extract", _page("btc_table_extract_2026-07-23.html")),
    _farside("eth table extract", _page("eth_table_extract_2026-10-02.html")),
    # The whole all-data pages take ~0.3 s a parse: fewer examples, the fake all-data layout covers the rest.
    _farside("btc all-data page 2025-10-07", _page("btc_all_data_2025-10-07.html"), examples=min(EXAMPLES, 8)),
    _farside("btc all-data page 2026-08-22", _page("btc_all_data_2026-08-22.html"), examples=min(EXAMPLES, 8)),
    _farside("fake btc all-data layout", _fake_page("BTC", recent=False)),
    _farside("fake eth recent layout", _fake_page("ETH", recent=True)),
]

_CELL = re.compile(r"<(t[dh])\b[^>]*>.*?</\1>", re.DOTALL)
_LABEL = re.compile(r'(<span class="tabletext">\s*)(Total|Average|Maximum|Minimum|Date)(\s*</span>)')


def _table_span(html: str) -> tuple[int, int]:
    start = html.index('<table class="etf"')
    return start, html.index("</table>", start) + len("</table>")


def _cells(html: str) -> list[re.Match[str]]:
    start, end = _table_span(html)
    return list(_CELL.finditer(html, start, end))


def _examples(case: TextCase) -> Any:
    return settings(DRIFT_SETTINGS, max_examples=case.examples)


@pytest.mark.parametrize("case", FARSIDE, ids=str)
def test_farside_truncated_page_is_refused_unless_the_table_is_whole(case: TextCase) -> None:
    @_examples(case)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        cut = data.draw(truncations(case.text))
        case.check(cut)
        if len(cut) < len(case.text[: _table_span(case.text)[1]].encode()):
            assert outcome(case.parse, cut, case.source)[0] == "refused", "a table cut short was parsed"

    run()


@pytest.mark.parametrize("case", FARSIDE, ids=str)
def test_farside_row_with_one_cell_dropped_is_refused(case: TextCase) -> None:
    cells = _cells(case.text)

    @_examples(case)
    @given(st.integers(min_value=0, max_value=len(cells) - 1))
    def run(i: int) -> None:
        cell = cells[i]
        html = case.text[: cell.start()] + case.text[cell.end() :]
        assert outcome(case.parse, html, case.source)[0] == "refused", f"cell {i} dropped was not noticed"

    run()


@pytest.mark.parametrize("case", FARSIDE, ids=str)
def test_farside_cell_that_is_no_figure_is_refused_or_unread(case: TextCase) -> None:
    cells = _cells(case.text)

    @_examples(case)
    @given(st.integers(min_value=0, max_value=len(cells) - 1), GARBAGE)
    def run(i: int, garbage: str) -> None:
        cell = cells[i]
        tag = cell.group(1)
        case.check(case.text[: cell.start()] + f"<{tag}>{garbage}</{tag}>" + case.text[cell.end() :])

    run()


@pytest.mark.parametrize("case", FARSIDE, ids=str)
def test_farside_renamed_label_is_refused(case: TextCase) -> None:
    start, end = _table_span(case.text)
    labels = list(_LABEL.finditer(case.text, start, end))
    assert labels, "the table has no Total/Average/Maximum/Minimum/Date label"

    @_examples(case)
    @given(st.integers(min_value=0, max_value=len(labels) - 1))
    def run(i: int) -> None:
        label = labels[i]
        html = case.text[: label.start(2)] + label.group(2) + "s" + case.text[label.end(2) :]
        assert outcome(case.parse, html, case.source)[0] == "refused", f"label {label.group(2)} renamed was read"

    run()


# -- FRED fredgraph CSV ------------------------------------------------------------------------------------------------


def _fred(file: str, series: str) -> TextCase:
    text = lambda: (PAYLOADS / "fred" / file).read_text()  # noqa: E731

    def parse(response: Any) -> Any:
        # The last date is what a settled window through that day must reach.
        through = date.fromisoformat(text().rstrip("\n").rsplit("\n", 1)[-1].split(",")[0])
        return fred.parse_fredgraph_csv(series, response.text, through=through)

    return TextCase(f"fredgraph {file}", "fred", parse, text)


FRED = [
    _fred("fredgraph_SP500_2026-04-15.csv", "SP500"),
    _fred("fredgraph_NASDAQCOM_oldformat_2024-09.csv", "NASDAQCOM"),
    _fred("fredgraph_DJIA_2016-01-11_to_2026-01-09.csv", "DJIA"),
]


@pytest.mark.parametrize("case", FRED, ids=str)
@DRIFT_SETTINGS
@given(data=st.data())
def test_fredgraph_truncated_csv_is_refused(case: TextCase, data: st.DataObject) -> None:
    cut = data.draw(truncations(case.text))
    assert outcome(case.parse, cut, case.source)[0] == "refused", "a CSV cut short was parsed"


@pytest.mark.parametrize("case", FRED, ids=str)
@DRIFT_SETTINGS
@given(data=st.data())
def test_fredgraph_line_with_one_field_dropped_is_refused(case: TextCase, data: st.DataObject) -> None:
    lines = case.text.split("\n")[:-1]
    i = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    kept = data.draw(st.sampled_from((0, 1)))
    lines[i] = lines[i].split(",")[kept]
    assert outcome(case.parse, "\n".join(lines) + "\n", case.source)[0] == "refused"


@pytest.mark.parametrize("case", FRED, ids=str)
@DRIFT_SETTINGS
@given(data=st.data())
def test_fredgraph_field_that_is_no_number_or_date_is_refused(case: TextCase, data: st.DataObject) -> None:
    lines = case.text.split("\n")[:-1]
    i = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    fields = lines[i].split(",")
    fields[data.draw(st.sampled_from((0, 1)))] = data.draw(GARBAGE)
    lines[i] = ",".join(fields)
    assert outcome(case.parse, "\n".join(lines) + "\n", case.source)[0] == "refused"


# -- mempool tip height ------------------------------------------------------------------------------------------------

TIP = TextCase("mempool tip height", "mempool", mempool.parse_tip_height, lambda: "925000")


@DRIFT_SETTINGS
@given(data=st.data())
def test_mempool_truncated_height_is_refused(data: st.DataObject) -> None:
    assert TIP.healthy == 925000
    assert outcome(TIP.parse, data.draw(truncations(TIP.text)), TIP.source)[0] == "refused"
