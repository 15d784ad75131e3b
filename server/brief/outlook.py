"""Section (5), the outlook: the verdict, each flip signal with its distance, and the next catalysts."""

from __future__ import annotations

from datetime import date

from schemas.assess import Assessment, FlipSignal
from server.brief import labels
from server.brief.document import Row, Section
from server.brief.figures import MINUS as MINUS_SIGN
from server.brief.figures import days, na, price, probability, usd
from server.brief.gather import BriefInputs
from server.brief.rows import reason
from tools.assess.calibration import statement


def _figure(value: float, unit: str, signed: bool = True) -> str:
    if unit == "USD":
        return usd(value, signed) if abs(value) >= 1e6 else (MINUS_SIGN if value < 0 else "") + price(abs(value))
    sign = "+" if signed and value > 0 else ""
    if unit == "BTC":
        return f"{sign}{value:,.0f} BTC"
    if unit == "%":
        return f"{sign}{value:.3f} %" if value != 0 else "0 %"
    return f"{sign}{value:,.4g} {unit}".strip()


def flip_row(flip: FlipSignal) -> Row:
    label = flip.condition[:1].upper() + flip.condition[1:]
    if flip.current is None:
        return Row(label, na("its input is unavailable"))
    now = f"now {_figure(flip.current, flip.unit)}"
    if flip.threshold is None:
        return Row(label, f"{now}, threshold n/a (unknown)")
    threshold = _figure(flip.threshold, flip.unit, signed=False)
    if flip.met:
        return Row(label, f"{now}: met (threshold {threshold})")
    distance = "n/a" if flip.distance is None else _figure(abs(flip.distance), flip.unit, signed=False)
    return Row(label, f"{now}, threshold {threshold}: {distance} to go")


def outlook(inp: BriefInputs) -> Section:
    out = inp.assessment
    rows = [Row("Verdict", verdict_line(out), str(out.as_of.date()))]
    if out.track_record is not None:
        # What followed this verdict in the backtest, said next to it: the verdict alone reads as a forecast.
        said = statement(out.track_record, labels.verdict(out.verdict).lower())
        rows.append(Row("Track record", said.removeprefix("Track record ")))
    for reading in ("bullish", "bearish", "unavailable"):
        names = [labels.signal(s.name) for s in out.signals if s.reading == reading]
        if names:
            rows.append(Row(f"{reading.capitalize()} signals", "; ".join(names)))
    rows += [flip_row(flip) for flip in out.flip_signals]
    return Section("5. Outlook", rows + _catalyst_rows(inp))


def verdict_line(out: Assessment) -> str:
    return (
        f"{labels.verdict(out.verdict)}, score {out.score:+.2f} (-1..+1), coverage {out.coverage:.0%} of signal weight"
    )


def _catalyst_rows(inp: BriefInputs) -> list[Row]:
    as_of = inp.assessment.as_of.date()
    rows = []
    macro = inp.macro
    if macro is not None and macro.fed.next_meeting is not None:
        odds = f", cut odds {probability(macro.fed.cut_probability)}" if macro.fed.cut_probability is not None else ""
        until = (date.fromisoformat(macro.fed.next_meeting) - as_of).days
        rows.append(Row("Catalyst: FOMC decision", f"{macro.fed.next_meeting}, in {days(until)}{odds}"))
    etf = inp.etf
    if etf is not None and etf.month_to_date_pct_of_record is not None:
        next_month = date(as_of.year + as_of.month // 12, as_of.month % 12 + 1, 1)
        month_end = date.fromordinal(next_month.toordinal() - 1)
        value = f"{month_end}: ETF month closes at {etf.month_to_date_pct_of_record:.1f} % of the record so far"
        rows.append(Row("Catalyst: month end", value))
    if macro is not None:
        halving = macro.halving
        eta = halving.next_eta or na(reason(macro.warnings, "halving", default="no chain tip"))
        rows.append(Row(f"Catalyst: halving at block {halving.next_height:,}", eta))
    return rows
