"""Number rounding and the one human formatter shared by the scoring text, the assessment summary and the brief."""

from __future__ import annotations


def rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def human(value: float, *, thousands_decimals: int = 2) -> str:
    """A figure for people: millions as '1.2M', thousands with separators, smaller values to 4 significant digits.

    Thresholds in the methodology are whole numbers, so they are written with `thousands_decimals=0`.
    """
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if abs(value) >= 1000:
        return f"{value:,.{thousands_decimals}f}"
    return f"{value:.4g}"
