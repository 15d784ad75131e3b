"""`windvane brief`: the market commentary on the replayed 2025-11-24 data, read figure by figure out of its text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.assess import Assessment
from server.brief.compose import compose
from server.brief.gather import BriefInputs
from server.brief.plain import WIDTH, render_plain
from server.settings import Settings
from tests.conftest import FROZEN_NOW
from tests.fakes import FakeUpstream

pytestmark = pytest.mark.anyio

SECTIONS = ["1. Global risk assets", "2. The evidence", "3. BTC's re-rating", "4. Liquidity", "5. Outlook"]


async def replayed(settings: Settings, fake: FakeUpstream) -> BriefInputs:
    from server.commands.brief import brief_inputs

    return await brief_inputs(settings, "BTC", "2025-11-24", fake.transport(), clock=lambda: FROZEN_NOW)


def row(text: str, label: str) -> str:
    """The text of one row: its label, then everything up to the next row (wrapped lines included)."""
    match = re.search(rf"^ +{re.escape(label)}\s+(.*?)(?=^ {{0,4}}\S|\Z)", text, re.M | re.S)
    assert match, f"no row {label!r} in the brief"
    return " ".join(match.group(1).split())


async def test_brief_reads_like_the_commentary(settings: Settings, fake: FakeUpstream) -> None:
    inputs = await replayed(settings, fake)
    text = render_plain(compose(inputs))
    assert [text.index(title) for title in [*SECTIONS, "Sources", "Warnings"]] == sorted(
        text.index(title) for title in [*SECTIONS, "Sources", "Warnings"]
    )
    # (1) the index moves the commentary leads with, each from the macro tool's own figure, with its date
    assert inputs.macro is not None
    moves = {i.symbol: i for i in inputs.macro.indices}
    for label, symbol, expected in (("Dow", "DJIA", "+0.44 %"), ("S&P 500", "SP500", "+1.55 %"),
                                    ("Nasdaq", "NASDAQCOM", "+2.69 %")):  # fmt: skip
        figure = row(text, label)
        assert figure.startswith(f"{expected} to "), figure
        assert f"{moves[symbol].change_pct:+.2f} %" == expected
        assert "[2025-11-24; FRED]" in figure
    assert row(text, "Fed cut odds, next FOMC").startswith(f"{100 * inputs.macro.fed.cut_probability:.0f} % for a cut")
    assert row(text, "Next FOMC decision").startswith("2025-12-10, in 16 days")
    # (2) ETF month to date against the record, the largest fund, the premium streak, leverage
    assert row(text, "ETF flows, month to date").startswith("-US$3.69B over 16 trading days [2025-11-01 to 2025-11-24")
    assert row(text, "Vs the record outflow month").startswith("103.6 % of the record outflow (-US$3.56B) [2025-02]")
    assert row(text, "Largest fund").startswith("IBIT, 75.8 % of cumulative net inflow (US$62.55B); -US$2.35B")
    # The ETF rows read the one latest completed day (11-21), not the provisional 11-24 row, as the assessment does.
    assert row(text, "Latest completed day").startswith("+US$238")
    assert "[2025-11-21" in row(text, "Latest completed day")
    assert "[to 2025-11-21" in row(text, "ETF flows, 5-day average")
    assert row(text, "Premium streak") == "negative for 26 days [since 2025-10-30]"
    assert row(text, "Leverage").startswith("flushed: open interest -9.83 % over 7 days")
    assert row(text, "Order book near round levels").startswith("n/a (")
    # (3) re-rating, (4) liquidity per exchange and by category, (5) flips with their distance and catalysts
    assert row(text, "Beta to the Nasdaq").startswith("1.33 over 90 days [through 2025-11-24")
    assert row(text, "BTC drawdown from 1-year high").startswith(
        "-29.23 %: US$88,266.20 vs US$124,720.09 on 2025-10-06"
    )
    assert row(text, "Total crypto market cap").startswith("n/a (crypto market cap unavailable for as of")
    assert row(text, "Binance") == "585,000 BTC (-16,935 BTC, -2.81 %) [retail]"
    assert row(text, "Institutional venues").startswith("565,000 BTC, 33.6 % of tracked")
    assert row(text, "Retail venues").startswith("1,024,500 BTC, 61.0 % of tracked")
    assert row(text, "Daily close above the prior swing high").startswith(
        "now US$88,266.20, threshold US$107,482.00: US$19,215.80 to go"
    )
    assert row(text, "Catalyst: FOMC decision").startswith("2025-12-10, in 16 days")


async def test_brief_is_readable_at_100_columns(settings: Settings, fake: FakeUpstream) -> None:
    text = render_plain(compose(await replayed(settings, fake)))
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    body = text[: text.index("\nSources")]
    assert re.findall(r"\b[a-z0-9]+_[a-z0-9_]+\b", body) == []  # human labels, no snake_case names
    warnings = text[text.index("\nWarnings") :]
    bullets = [line.strip() for line in warnings.splitlines() if line.strip().startswith("- ")]
    assert len(bullets) == len(set(bullets))
    # The reserve tool runs twice inside the assessment (7 and 30 days) and once for the brief: one warning.
    assert text.count("Coinbase is not covered keyless") == 1
    assert " 0 BTC " not in body  # a missing figure is n/a, never 0
    assert "US$0.00" not in body


async def test_rich_rendering_on_a_100_column_terminal(settings: Settings, fake: FakeUpstream) -> None:
    from rich.console import Console

    from server.brief.rich_view import print_rich

    console = Console(record=True, width=100, force_terminal=True, color_system="truecolor")
    print_rich(compose(await replayed(settings, fake)), console)
    text = console.export_text(clear=False)
    assert max(len(line) for line in text.splitlines()) <= 100
    for title in SECTIONS:
        assert title in text
    for move in ("+0.44 %", "+1.55 %", "+2.69 %"):
        assert move in text
    assert "\x1b[" in console.export_text(styles=True)  # styled for the terminal, unlike the plain text


def test_a_tool_that_gave_no_answer_leaves_its_figures_na() -> None:
    assessment = Assessment.model_validate({
        "asset": "BTC", "as_of": datetime(2025, 11, 24, 23, 59, tzinfo=UTC), "signals": [], "flip_signals": [],
        "verdict": "undetermined", "score": 0.0, "evidence_agreement": 0.0, "coverage": 0.0, "summary": "s",
        "warnings": ["exchange_reserve_trend (7d): DefiLlama down", "exchange_reserve_trend (30d): DefiLlama down"],
    })  # fmt: skip
    failures = {name: "TimeoutError: not answered within 63 s" for name in (
        "get_macro_backdrop", "get_etf_flows", "get_coinbase_premium", "get_leverage_state", "exchange_reserve_trend"
    )}  # fmt: skip
    text = render_plain(compose(BriefInputs(assessment=assessment, failures=failures)))
    assert row(text, "Dow") == "n/a (TimeoutError: not answered within 63 s)"
    assert row(text, "ETF flows, month to date").startswith("n/a (TimeoutError")
    assert row(text, "Exchange reserves, tracked").startswith("n/a (TimeoutError")
    assert row(text, "BTC drawdown from 1-year high").startswith("n/a (TimeoutError")
    assert text.count("DefiLlama down") == 1
    # the five tools' same failure once, naming them; what only one tool said stays under it
    assert "Several tools\n    - no answer: TimeoutError: not answered within 63 s (Macro backdrop, " in text
    assert "Exchange reserves\n    - DefiLlama down" in text


async def test_brief_charts_are_written_as_pngs(settings: Settings, fake: FakeUpstream, tmp_path) -> None:
    from PIL import Image

    from server.commands.brief import write_charts

    paths = write_charts(await replayed(settings, fake), tmp_path / "charts")
    assert sorted(p.name for p in paths) == ["etf_flows.png", "exchange_reserves.png", "premium.png", "signals.png"]
    for path in paths:
        with Image.open(path) as image:
            image.verify()
            assert image.format == "PNG"
            width, height = image.size
            assert width >= 800, path.name
            assert height >= 450, path.name


async def test_terminal_gets_rich_and_a_pipe_plain_text(
    settings: Settings, fake: FakeUpstream, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from server.commands.brief import _print

    inputs = await replayed(settings, fake)
    _print(inputs, as_json=False)
    piped = capsys.readouterr().out
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "100")
    _print(inputs, as_json=False)
    terminal = capsys.readouterr().out
    assert piped.startswith("windvane brief: BTC as of 2025-11-24 23:59 UTC\n")
    assert "\x1b[" not in piped
    assert "╭─ windvane brief: BTC as of 2025-11-24 23:59 UTC" in terminal
    assert "Dow " in terminal


def test_an_unwritable_charts_directory_fails_before_any_request(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from server.commands import brief

    args = argparse.Namespace(asset="BTC", as_of="2025-11-24", json=False, charts=Path("/proc/windvane-charts"))
    assert brief.run(args, settings) == 2
    assert "cannot write charts to /proc/windvane-charts" in capsys.readouterr().err


async def test_round_levels_and_a_thin_book_when_collect_recorded_depth(settings: Settings, fake: FakeUpstream) -> None:
    from schemas.leverage import RoundLevel

    inputs = await replayed(settings, fake)
    assert inputs.leverage is not None
    book = inputs.leverage.order_book.model_copy(update={
        "round_levels": [RoundLevel(price=85000, depth_usd=12.5e6, venues=["binance_futures", "okx"]),
                         RoundLevel(price=80000, depth_usd=None, venues=[])],
        "thin_book": True, "depth_1pct_vs_median": 0.42, "thin_book_reason": None,
    })  # fmt: skip
    inputs.leverage = inputs.leverage.model_copy(update={"order_book": book})
    text = render_plain(compose(inputs))
    assert row(text, "Bids near US$85,000") == "US$12.5M of bids within 0.5 % [2025-11-24; Binance Futures, OKX]"
    assert row(text, "Bids near US$80,000").startswith("n/a (no depth)")
    assert row(text, "Thin book") == "yes, 1 % depth at 0.42x its 30-day median [2025-11-24]"


async def test_warnings_once_per_tool_in_their_own_words(settings: Settings, fake: FakeUpstream) -> None:
    from server.brief.compose import group_warnings

    inputs = await replayed(settings, fake)
    assert inputs.leverage is not None
    failing = "bybit funding unavailable: bybit unavailable (HTTP 503 from upstream)"
    inputs.leverage = inputs.leverage.model_copy(
        update={"warnings": [failing.replace(")", "; not asked again for 60 s)")]}
    )
    inputs.assessment = inputs.assessment.model_copy(update={"warnings": [
        f"get_leverage_state: {failing}",
        "get_leverage_state: 3 more warning(s); call the tool itself for all of them",
        "liquidation_flush unavailable: get_leverage_state: liquidations.long_usd_7d is null (see its warnings)",
    ]})  # fmt: skip
    groups = {g.heading: g.messages for g in group_warnings(inputs)}
    # The same failure, once with the circuit breaker's note: one warning. "funding" is a word here, not a signal.
    assert groups["Leverage"] == [failing.replace(")", "; not asked again for 60 s)")]
    assert groups["Assessment"] == [
        "Long share of 7-day liquidations unavailable: Leverage: liquidations.long_usd_7d is null (see its warnings)"
    ]


def test_a_missing_premium_names_the_failed_candles_not_the_usdt_note() -> None:
    from server.brief.evidence import _premium_gap

    usdt = "Coinbase USDT-USD has no candles for this window; the USDT-adjusted premium is unavailable"
    candles = "Coinbase daily candles unavailable: coinbase unavailable (HTTP 404 from upstream)"
    assert _premium_gap([usdt, candles]) == candles
    assert _premium_gap([usdt]) == "see the Coinbase premium warnings"


async def test_a_warning_several_tools_gave_is_listed_once_first(settings: Settings, fake: FakeUpstream) -> None:
    from server.brief import labels
    from server.brief.compose import SEVERAL, group_warnings

    inputs = await replayed(settings, fake)
    assert inputs.etf is not None
    assert inputs.premium is not None
    store = "history store unavailable: /data/windvane.sqlite3: file is not a database"
    own = "only 4 completed days for the 5-day average"
    inputs.etf = inputs.etf.model_copy(update={"warnings": [store, own]})
    inputs.premium = inputs.premium.model_copy(update={"warnings": [store]})
    groups = group_warnings(inputs)
    assert groups[0].heading == SEVERAL
    etf, premium = labels.tool("get_etf_flows"), labels.tool("get_coinbase_premium")
    assert groups[0].messages == [f"{store} ({etf}, {premium})"]
    by_heading = {g.heading: g.messages for g in groups}
    assert own in by_heading[etf]
    assert store not in by_heading.get(premium, [])
    assert sum(m.count("history store unavailable") for g in groups for m in g.messages) == 1
