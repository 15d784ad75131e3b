"""The Fed part of get_macro_backdrop: next FOMC meeting and the market-implied cut probability.

Now: Kalshi KXFEDDECISION, else Polymarket's Fed-decision event; every reading is snapshotted into the store.
Past as_of: a stored snapshot, else Polymarket's CLOB price history; never today's odds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from fetchers import kalshi, polymarket
from fetchers.concurrency import gather_all
from schemas.macro import FedOdds, FedOutcomeOdds
from schemas.macro_rows import FedOutcome
from store.base import Observation
from tools.macro.calc import cut_odds
from tools.macro.context import SNAPSHOT_MAX_AGE, Ctx, cut_key
from tools.macro.fomc import Meeting, load_schedule
from tools.numbers import rounded


def _kalshi_for(outcomes: list[FedOutcome], meeting: Meeting | None) -> list[FedOutcome]:
    if meeting is None:
        # The schedule does not cover this date: take the earliest open meeting Kalshi lists (its own date).
        events = sorted({o.event for o in outcomes}, key=lambda e: kalshi.event_month(e) or (9999, 12))
        return [o for o in outcomes if events and o.event == events[0]]
    return [o for o in outcomes if kalshi.event_month(o.event) == (meeting.end.year, meeting.end.month)]


async def _polymarket_for(
    c: Ctx, meeting: Meeting, *, include_closed: bool = False
) -> tuple[list[FedOutcome], str | None] | None:
    """The meeting's outcomes and event slug; ([], None) when Polymarket answered without one, None when it could not
    be asked (the failure is already a warning: an unreachable venue is not a venue with no market)."""
    month = meeting.end.strftime("%B").lower()
    for slug in (f"fed-decision-in-{month}", f"fed-decision-in-{month}-{meeting.end.year}"):
        fetched = await c.prov.attempt("Fed odds from polymarket", partial(polymarket.fetch_events, c.deps.http, slug))
        if fetched is None:
            return None
        c.prov.add(fetched)
        for event in fetched.value:
            # A slug can be reused across years: only an event ending within a week of the meeting is the one.
            if event.end_date is not None and abs((event.end_date.date() - meeting.end).days) <= 7:
                return polymarket.fed_outcomes(event, include_closed=include_closed), event.slug
    return [], None


async def live_odds(c: Ctx, meeting: Meeting | None) -> tuple[list[FedOutcome], str, str | None, datetime] | None:
    fetched = await c.prov.attempt("Fed odds from kalshi", lambda: kalshi.fetch_fed_outcomes(c.deps.http))
    if fetched is not None:
        c.prov.add(fetched)
        chosen = _kalshi_for(fetched.value, meeting)
        if chosen:
            return chosen, kalshi.SOURCE, chosen[0].event, c.observed(fetched)
        c.prov.warn("kalshi lists no open KXFEDDECISION market for the next meeting; trying polymarket")
    if meeting is None:
        return None
    found = await _polymarket_for(c, meeting)
    if found is None:
        return None
    outcomes, slug = found
    if outcomes:
        return outcomes, polymarket.SOURCE, slug, c.now
    c.prov.warn("polymarket has no open Fed-decision event for the next meeting")
    return None


async def fed_odds(c: Ctx) -> FedOdds:
    schedule = load_schedule()
    meeting = schedule.next_meeting(c.at.date())
    fed = FedOdds(
        next_meeting=None if meeting is None else meeting.end.isoformat(),
        meeting_start=None if meeting is None else meeting.start.isoformat(),
        cut_probability=None,
        source=None,
        schedule_source=f"{schedule.source} ({schedule.source_url}), years {min(schedule.years)}-{max(schedule.years)}",
    )
    if meeting is None:
        c.prov.warn(
            f"next FOMC meeting unknown for {c.at.date()}: the packaged Federal Reserve schedule covers "
            f"{min(schedule.years)}-{max(schedule.years)} only"
        )
    if not c.live:
        return await _stored_odds(c, fed, meeting)
    live = await live_odds(c, meeting)
    if live is None:
        c.prov.warn("Fed cut probability unavailable: no Kalshi or Polymarket market for the next meeting")
        return fed
    outcomes, source, market, observed = live
    odds = cut_odds(outcomes)
    fed.source, fed.market, fed.observed_at = source, market, observed
    fed.outcomes = [
        FedOutcomeOdds(label=o.label, bracket=o.bracket, bp=o.bp, probability=rounded(p), basis=b)
        for o, p, b in sorted(odds.per_outcome, key=lambda item: item[0].bp)
    ]
    fed.cut_probability = rounded(odds.cut)
    fed.hold_probability = rounded(odds.hold)
    if odds.missing_cut:
        c.prov.warn(f"no usable price for cut bracket(s) {', '.join(odds.missing_cut)}: cut_probability omits them")
    if odds.cut is None:
        return fed
    if meeting is not None:
        await c.store_write([Observation(cut_key(source, meeting), observed, odds.cut, c.now)])
    if odds.previous_cut is not None:
        fed.cut_probability_change_1d = rounded(odds.cut - odds.previous_cut)
        fed.change_basis = "venue_previous_day"
    elif meeting is not None:
        await _stored_change(c, fed, source, meeting, observed, odds.cut)
    return fed


async def _stored_change(c: Ctx, fed: FedOdds, source: str, meeting: Meeting, at: datetime, cut: float) -> None:
    day_before = await c.stored_near(
        [cut_key(source, meeting)], at - timedelta(days=1), timedelta(hours=12), timedelta(hours=12)
    )
    if day_before is None:
        c.prov.warn("cut_probability_change_1d unavailable: no snapshot from about a day earlier")
        return
    fed.cut_probability_change_1d = rounded(cut - day_before.value)
    fed.change_basis = "stored_snapshot"


async def _stored_odds(c: Ctx, fed: FedOdds, meeting: Meeting | None) -> FedOdds:
    if meeting is None:
        return fed
    for source in (kalshi.SOURCE, polymarket.SOURCE):
        stored = await c.stored_near([cut_key(source, meeting)], c.at, SNAPSHOT_MAX_AGE, timedelta(0))
        if stored is not None:
            fed.cut_probability, fed.source, fed.observed_at = rounded(stored.value), source, stored.ts
            await _stored_change(c, fed, source, meeting, stored.ts, stored.value)
            return fed
    history = await _polymarket_history_odds(c, fed, meeting)
    if history:
        return fed
    polymarket_said = "has none either" if history is False else "could not be asked (see its warning)"
    c.prov.warn(
        "Fed cut probability unavailable for as_of: Kalshi reports only current odds, the history store has no "
        f"snapshot within 2 days before as_of, and Polymarket's price history {polymarket_said}"
    )
    return fed


def _point_at(points: list[tuple[datetime, float]], at: datetime) -> tuple[datetime, float] | None:
    known = [p for p in points if p[0] <= at]
    return known[-1] if known and at - known[-1][0] <= SNAPSHOT_MAX_AGE else None


async def _polymarket_history_odds(c: Ctx, fed: FedOdds, meeting: Meeting) -> bool | None:
    """Past odds from Polymarket's CLOB price history of each cut bracket's Yes token (daily points).

    True when found, False when Polymarket has none for as_of, None when it could not be asked."""
    found = await _polymarket_for(c, meeting, include_closed=True)
    if found is None:
        return None
    outcomes, slug = found
    cuts = [o for o in outcomes if o.bracket == "cut" and o.token_id]
    if not cuts:
        return False
    now_sum, prev_sum, last_t = 0.0, 0.0, c.at - SNAPSHOT_MAX_AGE
    prev_complete = True
    # Each bracket's history is its own request: asked together, they cost one round, not one per bracket.
    histories = await gather_all(
        partial(
            c.prov.attempt,
            "Fed odds history from polymarket",
            partial(polymarket.fetch_price_history, c.deps.http, outcome.token_id or ""),
        )
        for outcome in cuts
    )
    for outcome, fetched in zip(cuts, histories, strict=True):
        if fetched is None:
            return None
        c.prov.add(fetched)
        point = _point_at(fetched.value, c.at)
        if point is None:
            c.prov.warn(f"polymarket price history of '{outcome.label}' has no point within 2 days before as_of")
            return False
        now_sum += point[1]
        last_t = max(last_t, point[0])
        previous = _point_at(fetched.value, point[0] - timedelta(days=1))
        if previous is None or point[0] - previous[0] < timedelta(hours=12):
            prev_complete = False
        else:
            prev_sum += previous[1]
    fed.cut_probability, fed.source, fed.market, fed.observed_at = rounded(now_sum), polymarket.SOURCE, slug, last_t
    if prev_complete:
        fed.cut_probability_change_1d = rounded(now_sum - prev_sum)
        fed.change_basis = "venue_price_history"
    return True
