"""An import plan against what the store already holds: new rows, identical rows, and conflicts.

A stored row with a different value is a conflict: the import is refused unless the caller says to replace, so an
archive never silently overwrites history. An identical row is not a conflict and is not written again (it keeps
the time it was first known). What is written goes in one transaction with the plan's coverage spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.base import CoverageStore, Observation, SeriesKey, Store
from tools.history.csv_import import ImportPlan

# Stored values are doubles written from the same decimal text: equal within this they are the same figure.
SAME_VALUE_REL = 1e-12


@dataclass(frozen=True)
class Conflict:
    key: SeriesKey
    ts: datetime
    stored: float
    incoming: float

    def describe(self) -> str:
        return (
            f"{self.key.label()} {self.ts:%Y-%m-%dT%H:%MZ}: "
            f"stored {_figure(self.stored)}, file {_figure(self.incoming)}"
        )


def _figure(value: float) -> str:
    # in full, as stored (US$, prices, volumes): -355,500,000 reads at a glance where -3.555e+08 does not
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:g}"


@dataclass(frozen=True)
class Compared:
    new: list[Observation]
    identical: int
    conflicts: list[Conflict]


def _same(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= SAME_VALUE_REL * max(abs(a), abs(b))


async def compare(store: Store, plan: ImportPlan) -> Compared:
    """The plan's rows split by what the store holds for the same series and time (read series by series)."""
    by_key: dict[SeriesKey, list[Observation]] = {}
    for o in plan.observations:
        by_key.setdefault(o.key, []).append(o)
    new: list[Observation] = []
    conflicts: list[Conflict] = []
    identical = 0
    for key, rows in by_key.items():
        stored = {o.ts: o.value for o in await store.read(key, min(r.ts for r in rows), max(r.ts for r in rows))}
        for row in rows:
            held = stored.get(row.ts)
            if held is None:
                new.append(row)
            elif _same(held, row.value):
                identical += 1
            else:
                conflicts.append(Conflict(key, row.ts, held, row.value))
    conflicts.sort(key=lambda c: (c.ts, c.key.label()))
    return Compared(new, identical, conflicts)


async def write(store: Store, plan: ImportPlan, compared: Compared, *, replace: bool) -> int:
    """The new rows (and, with `replace`, the conflicting ones) with the plan's coverage, in one transaction."""
    if compared.conflicts and not replace:
        raise ValueError("conflicting rows need replace=True")  # the command refuses before it gets here
    replacing = {(c.key, c.ts) for c in compared.conflicts}
    rows = compared.new + [o for o in plan.observations if (o.key, o.ts) in replacing]
    if plan.coverage and isinstance(store, CoverageStore):
        return await store.upsert_covered(rows, plan.coverage)
    return await store.upsert(rows)
