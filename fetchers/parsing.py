"""Small validators shared by parsers: they turn drift into BadPayloadError with a precise reason."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from fetchers.errors import BadPayloadError


def num(source: str, value: Any, what: str) -> float:
    """A finite number from a JSON number or numeric string (exchanges send both)."""
    if isinstance(value, bool):
        raise BadPayloadError(source, f"{what}: expected a number, got a boolean")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise BadPayloadError(source, f"{what}: expected a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(result):
        raise BadPayloadError(source, f"{what}: not a finite number")
    return result


def ts_seconds(source: str, value: Any, what: str) -> datetime:
    return datetime.fromtimestamp(num(source, value, what), UTC)


def ts_millis(source: str, value: Any, what: str) -> datetime:
    return datetime.fromtimestamp(num(source, value, what) / 1000, UTC)


def expect_list(source: str, value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadPayloadError(source, f"{what}: expected a list, got {type(value).__name__}")
    return value


def expect_dict(source: str, value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadPayloadError(source, f"{what}: expected an object, got {type(value).__name__}")
    return value


def iso_z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
