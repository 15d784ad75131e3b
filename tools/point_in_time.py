"""The one point in time a call answers for: parsed once from `as_of`, with one clock reading, passed down typed.

Every tool, and the assessment for all of its sub-tools, builds one `PointInTime` per call. Below the tools nothing
reads the clock or parses `as_of` again: the history layer and the fetchers receive `bar_cutoff` (the instant bars
must have closed by) as a plain datetime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tools.errors import InputError

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST_AS_OF = datetime(2010, 7, 17, tzinfo=UTC)  # first USD exchange prices for bitcoin


@dataclass(frozen=True, slots=True)
class PointInTime:
    """`now` is the call's clock reading; `as_of` the requested instant (UTC), None for "now".

    A requested date means the end of that UTC day, and today's date is capped at `now` (so "today" means "up to
    now"). A point is *live* when it is now: no `as_of`, or one that reaches now. Live answers may use sources
    that only report the present; past ones never borrow today's values.
    """

    now: datetime
    as_of: datetime | None = None

    @classmethod
    def parse(cls, raw: str | None, now: datetime) -> PointInTime:
        return cls(now=now, as_of=parse_as_of(raw, now))

    @property
    def at(self) -> datetime:
        """The instant the answer describes."""
        return self.now if self.as_of is None else self.as_of

    @property
    def is_live(self) -> bool:
        return self.as_of is None or self.as_of >= self.now

    @property
    def bar_cutoff(self) -> datetime:
        """The instant bars must have closed by: now when live, else `as_of` (a bar closing exactly at the end of
        the as_of day counts)."""
        return self.now if self.as_of is None or self.is_live else self.as_of + timedelta(microseconds=1)


def parse_as_of(raw: str | None, now: datetime) -> datetime | None:
    """None for 'now'; otherwise an aware UTC datetime. A bare date means the end of that UTC day."""
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    try:
        if _DATE_RE.match(text):
            day = date.fromisoformat(text)
            parsed = datetime.combine(day, time.max, tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise InputError(
            f"as_of {raw!r} is not an ISO date or datetime; use e.g. '2025-11-24' or '2025-11-24T15:00:00Z'"
        ) from None
    if parsed < EARLIEST_AS_OF:
        raise InputError(f"as_of {raw!r} is before {EARLIEST_AS_OF.date()}; no market data exists that early")
    if parsed.date() > now.date():
        raise InputError(f"as_of {raw!r} is in the future (now is {now.strftime('%Y-%m-%dT%H:%M:%SZ')})")
    # A date that is today ends in the future: cap it at now, so "today" means "up to now".
    return min(parsed, now)
