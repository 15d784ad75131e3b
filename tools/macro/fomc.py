"""The FOMC meeting schedule, packaged as data (tools/data/fomc_schedule.json) with its source and years covered.

Past the last covered year the next meeting is unknown: callers get None and a reason, never a guessed date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Meeting:
    start: date
    end: date  # decision (statement) day

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True, slots=True)
class Schedule:
    source: str
    source_url: str
    years: tuple[int, ...]
    meetings: tuple[Meeting, ...]

    def next_meeting(self, on: date) -> Meeting | None:
        """The first meeting whose decision day is on or after `on`; None outside the covered years."""
        if on.year < min(self.years):
            return None  # meetings of earlier years are not listed: the first listed one may not be next
        for meeting in self.meetings:
            if meeting.end >= on:
                return meeting
        return None


@cache
def load_schedule() -> Schedule:
    raw = json.loads(resources.files("tools.macro.data").joinpath("fomc_schedule.json").read_text(encoding="utf-8"))
    meetings = tuple(
        sorted(
            (Meeting(date.fromisoformat(m["start"]), date.fromisoformat(m["end"])) for m in raw["meetings"]),
            key=lambda m: m.end,
        )
    )
    return Schedule(
        source=str(raw["source"]),
        source_url=str(raw["source_url"]),
        years=tuple(int(y) for y in raw["years_covered"]),
        meetings=meetings,
    )
