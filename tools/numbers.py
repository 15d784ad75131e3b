"""Number rounding and the one human formatter shared by the scoring text, the assessment summary and the brief."""

from __future__ import annotations


def rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)
