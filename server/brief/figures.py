"""How the brief writes a figure: always with its unit, and "n/a (reason)" where a figure is missing, never 0."""

from __future__ import annotations

import re

MINUS = "-"
_SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


def na(reason: str) -> str:
    """'n/a (reason)'; a tool's field names in the reason read as words ('as_of' -> 'as of')."""
    words = _SNAKE.sub(lambda m: m.group(0).replace("_", " "), reason.strip().rstrip("."))
    return f"n/a ({words})"


def pct(value: float, digits: int = 2) -> str:
    return f"{value:+.{digits}f} %"


def pp(value: float) -> str:
    """A change of a probability, in percentage points (value is a 0..1 difference)."""
    return f"{100 * value:+.1f} pp"


def probability(value: float) -> str:
    return f"{100 * value:.0f} %"


def usd(value: float, signed: bool = True) -> str:
    """US$ with B/M/K: -3,687,900,000 -> '-US$3.69B'."""
    sign = ("+" if value > 0 else MINUS if value < 0 else "") if signed else (MINUS if value < 0 else "")
    size = abs(value)
    if size >= 1e9:
        body = f"{size / 1e9:,.2f}B"
    elif size >= 1e6:
        body = f"{size / 1e6:,.1f}M"
    elif size >= 1e3:
        body = f"{size / 1e3:,.1f}K"
    else:
        body = f"{size:,.2f}"
    return f"{sign}US${body}"


def price(value: float) -> str:
    return f"US${value:,.2f}"


def btc(value: float, signed: bool = False) -> str:
    return f"{value:+,.0f} BTC" if signed else f"{value:,.0f} BTC"


def points(value: float) -> str:
    return f"{value:,.2f}"


def days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"
