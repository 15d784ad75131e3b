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

EARLIEST_AS_OF = datetime(2010, 7, 17, tzinfo=UTC)  # first USD exchange prices for bitcoin
# The years an as_of may name at all: bitcoin's first year, and a bound that keeps every offset arithmetic in range.
MIN_YEAR, MAX_YEAR = 2009, 2100
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})", re.ASCII)
# The same grammar as one JSON-schema pattern, published in every tool's input schema.
AS_OF_PATTERN = r"^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d))?$"
AS_OF_GRAMMAR = "'YYYY-MM-DD' (end of that UTC day) or 'YYYY-MM-DDTHH:MM[:SS[.ffffff]]' with 'Z' or '+HH:MM'"
QUOTE_CHARS = 40  # how much of a bad value an error message repeats


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
    """None for 'now'; otherwise an aware UTC datetime, read with the one grammar `AS_OF_PATTERN` states: a bare date
    means the end of that UTC day, a datetime must carry its offset (`Z` or `+HH:MM`)."""
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    shape = _DATE_RE.fullmatch(text) or _DATETIME_RE.fullmatch(text)
    if shape is None:
        raise InputError(f"as_of {quoted(raw)} is not an ISO date or datetime of the form {AS_OF_GRAMMAR}")
    # Checked on the digits, before any arithmetic: year 1 or 9999 with an offset overflows a datetime.
    if not MIN_YEAR <= int(text[:4]) <= MAX_YEAR:
        raise InputError(f"as_of {quoted(raw)}: the year must be within {MIN_YEAR}..{MAX_YEAR}")
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):  # a well-shaped impossible value: month 13, 25:00, offset 24:00
        raise InputError(
            f"as_of {quoted(raw)} is not an ISO date or datetime that exists (a month, day, hour or offset out of "
            f"range); use {AS_OF_GRAMMAR}"
        ) from None
    if parsed < EARLIEST_AS_OF:
        raise InputError(f"as_of {quoted(raw)} is before {EARLIEST_AS_OF.date()}; no market data exists that early")
    if parsed.date() > now.date():
        raise InputError(f"as_of {quoted(raw)} is in the future (now is {now.strftime('%Y-%m-%dT%H:%M:%SZ')})")
    # A date that is today ends in the future: cap it at now, so "today" means "up to now".
    return min(parsed, now)


def parse_day(raw: str, name: str) -> date:
    """A bare UTC date argument other than as_of (e.g. `since`), read with as_of's date grammar and year range."""
    text = raw.strip()
    if _DATE_RE.fullmatch(text) is None or not MIN_YEAR <= int(text[:4]) <= MAX_YEAR:
        raise InputError(f"{name} {quoted(raw)} is not a date 'YYYY-MM-DD' within {MIN_YEAR}..{MAX_YEAR}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name} {quoted(raw)} is not a real date; use e.g. '2024-12-31'") from None


def quoted(value: object, limit: int = QUOTE_CHARS) -> str:
    """A caller's value as an error message may quote it: at most `limit` characters, the rest counted."""
    text = str(value)
    return repr(value) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"
