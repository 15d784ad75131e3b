"""Shared by the brief's sections: the reason for a missing figure, a figure's date, rows for a tool that gave none.

Every row comes from a tool's typed output. A figure that is null there is written "n/a (reason)", the reason
taken from the tool's own warnings where one mentions it; the sections compute nothing the tools do not report,
beyond plain arithmetic on their figures (a fund's share of the month, days until a date).
"""

from __future__ import annotations

from datetime import date

from server.brief.document import Row
from server.brief.figures import na


def reason(warnings: list[str], *keywords: str, default: str = "not reported") -> str:
    """The first warning that mentions every keyword (case-insensitive), else `default`."""
    for warning in warnings:
        if all(k.lower() in warning.lower() for k in keywords):
            return warning
    return default


def on_day(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)[:10]


def absent(labels_: tuple[str, ...], why: str) -> list[Row]:
    return [Row(label, na(why)) for label in labels_]
