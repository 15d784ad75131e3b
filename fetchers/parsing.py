"""Small validators shared by parsers: they turn drift into BadPayloadError with a precise reason.

Every value a parser reads goes through one of these, so a payload that does not match its documented format (a
key renamed, a column dropped, a string where a number belongs, milliseconds where seconds are documented) is an
error naming the source and the field, never a shifted or defaulted figure.

Numbers come in two documented forms: JSON numbers (Coinbase candles, CoinGlass, Esplora) and numeric strings (OKX,
Bybit, Kraken prices, Binance prices). `form` says which one a field is documented as: "json", "text", or "any"
where the documentation itself is inconsistent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, overload

from fetchers.errors import BadPayloadError
from fetchers.redact import mask_upstream_text

T = TypeVar("T")
Form = Literal["any", "json", "text"]
# A check turns one raw JSON value into a typed one, or raises BadPayloadError(source, "<what>: <reason>").
Check = Callable[[str, Any, str], Any]

# Plain decimal or exponent notation. float() alone would also take ' 1', '1_000', 'nan', 'inf' and 'infinity'.
_NUMERIC = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
_INTEGER = re.compile(r"-?\d+", re.ASCII)
# No market data is older than the genesis block; a time past 2100 is a unit mistake (ms read as s: year 55000).
EARLIEST = datetime(2009, 1, 3, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_EARLIEST_S = EARLIEST.timestamp()
_LATEST_S = LATEST.timestamp()
_FORM_NAME = {"json": "a number (not a string)", "text": "a number in a string", "any": "a number"}
_NOT_FINITE = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def describe(value: Any) -> str:
    """A short, safe description of a wrong value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "an empty string" if not value else f"the string {value[:40]!r}"
    return f"{type(value).__name__} {str(value)[:40]}"


def num(source: str, value: Any, what: str, form: Form = "any") -> float:
    """A finite number from a JSON number or a numeric string, as the field's documented `form` allows."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    is_text = isinstance(value, str) and _NUMERIC.fullmatch(value) is not None
    if isinstance(value, str) and value.strip().lower() in _NOT_FINITE:
        raise BadPayloadError(source, f"{what}: not a finite number ({value[:12]!r})")
    if not ((is_number and form != "text") or (is_text and form != "json")):
        raise BadPayloadError(source, f"{what}: expected {_FORM_NAME[form]}, got {describe(value)}")
    result = float(value)
    if not math.isfinite(result):
        raise BadPayloadError(source, f"{what}: not a finite number")
    return result


def integer(source: str, value: Any, what: str, form: Form = "json") -> int:
    """A whole number (a count, a height, satoshis) as a JSON integer or an integer string."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_text = isinstance(value, str) and _INTEGER.fullmatch(value) is not None
    if not ((is_int and form != "text") or (is_text and form != "json")):
        kind = {"json": "a JSON integer", "text": "an integer string", "any": "an integer"}[form]
        raise BadPayloadError(source, f"{what}: expected {kind}, got {describe(value)}")
    return int(value)


def _stamp(source: str, seconds: float, what: str, unit: str) -> datetime:
    if not _EARLIEST_S <= seconds < _LATEST_S:
        raise BadPayloadError(
            source, f"{what}: {seconds:.0f} s is outside {EARLIEST.year}-{LATEST.year} (is the value in {unit}?)"
        )
    return datetime.fromtimestamp(seconds, UTC)


def ts_seconds(source: str, value: Any, what: str, form: Form = "any") -> datetime:
    """Unix seconds; a millisecond value lands past 2100 and is rejected, not read as the year 55000."""
    return _stamp(source, num(source, value, what, form), what, "seconds")


def ts_millis(source: str, value: Any, what: str, form: Form = "any") -> datetime:
    """Unix milliseconds; a seconds value lands in January 1970 and is rejected."""
    return _stamp(source, num(source, value, what, form) / 1000, what, "milliseconds")


def text(source: str, value: Any, what: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise BadPayloadError(source, f"{what}: expected a non-empty string, got {describe(value)}")
    return value


def string(source: str, value: Any, what: str) -> str:
    """A string, possibly empty."""
    if not isinstance(value, str):
        raise BadPayloadError(source, f"{what}: expected a string, got {describe(value)}")
    return value


def flag(source: str, value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise BadPayloadError(source, f"{what}: expected true or false, got {describe(value)}")
    return value


def one_of(*allowed: str) -> Check:
    """A string that must be one of `allowed` (an enumerated field such as OKX's confirm flag)."""

    def check(source: str, value: Any, what: str) -> str:
        if value not in allowed:
            raise BadPayloadError(source, f"{what}: expected one of {', '.join(allowed)}, got {describe(value)}")
        return str(value)

    return check


def checked(check: Callable[..., T], **options: Any) -> Callable[[str, Any, str], T]:
    """`check` with its keyword options bound, e.g. checked(num, form="any")."""
    return lambda source, value, what: check(source, value, what, **options)


# The checks below are called once per cell of pages of thousands of rows: each tries the documented, healthy case
# first, cheaply, and leaves every other value (and the error message) to the general function.
def _finite(value: float) -> bool:
    return value - value == 0  # False for inf and nan


def num_text(source: str, value: Any, what: str) -> float:
    # float() alone also takes surrounding blanks, '_' separators and non-ASCII digits: those go the slow way.
    if type(value) is str and value.isascii() and "_" not in value:
        try:
            result = float(value)
        except ValueError:
            result = math.nan
        if _finite(result) and not value[0].isspace() and not value[-1].isspace():
            return result
    return num(source, value, what, "text")


def num_json(source: str, value: Any, what: str) -> float:
    if type(value) is float or type(value) is int:
        result = float(value)
        if _finite(result):
            return result
    return num(source, value, what, "json")


def _digits(value: Any) -> bool:
    return type(value) is str and value.isascii() and value.isdigit()


def ms_text(source: str, value: Any, what: str) -> datetime:
    if _digits(value) and _EARLIEST_S <= int(value) / 1000 < _LATEST_S:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    return ts_millis(source, value, what, "text")


def ms_json(source: str, value: Any, what: str) -> datetime:
    if type(value) is int and _EARLIEST_S <= value / 1000 < _LATEST_S:
        return datetime.fromtimestamp(value / 1000, UTC)
    return ts_millis(source, value, what, "json")


def s_text(source: str, value: Any, what: str) -> datetime:
    if _digits(value) and _EARLIEST_S <= int(value) < _LATEST_S:
        return datetime.fromtimestamp(int(value), UTC)
    return ts_seconds(source, value, what, "text")


def s_json(source: str, value: Any, what: str) -> datetime:
    if type(value) is int and _EARLIEST_S <= value < _LATEST_S:
        return datetime.fromtimestamp(value, UTC)
    return ts_seconds(source, value, what, "json")


def int_text(source: str, value: Any, what: str) -> int:
    if _digits(value):
        return int(value)
    return integer(source, value, what, "text")


def int_json(source: str, value: Any, what: str) -> int:
    if type(value) is int:
        return value
    return integer(source, value, what, "json")


def expect_list(source: str, value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadPayloadError(source, f"{what}: expected a list, got {describe(value)}")
    return value


def expect_dict(source: str, value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadPayloadError(source, f"{what}: expected an object, got {describe(value)}")
    return value


_MISSING = object()


@overload
def field(source: str, obj: Mapping[str, Any], key: str, what: str) -> Any: ...
@overload
def field(source: str, obj: Mapping[str, Any], key: str, what: str, check: Callable[[str, Any, str], T]) -> T: ...
def field(source: str, obj: Mapping[str, Any], key: str, what: str, check: Check | None = None) -> Any:
    """obj[key], checked; a missing key (a renamed field) is an error naming it."""
    value = obj.get(key, _MISSING)
    if value is _MISSING:
        raise BadPayloadError(source, f"{what}.{key}: missing key {key!r} (renamed or dropped?)")
    return value if check is None else check(source, value, f"{what}.{key}")


def require(source: str, obj: Mapping[str, Any], keys: Sequence[str], what: str) -> None:
    """Every key present, checked before any value so a renamed key is reported as such."""
    for key in keys:
        if key not in obj:
            raise BadPayloadError(source, f"{what}.{key}: missing key {key!r} (renamed or dropped?)")


def nullable(check: Callable[[str, Any, str], T]) -> Callable[[str, Any, str], T | None]:
    """`check`, or None for a JSON null (only for fields the upstream documents or is seen to leave null)."""
    return lambda source, value, what: None if value is None else check(source, value, what)


def optional(source: str, obj: Mapping[str, Any], key: str, what: str, check: Callable[[str, Any, str], T]) -> T | None:
    """A documented-optional field: None when absent or null, checked otherwise."""
    value = obj.get(key)
    return None if value is None else check(source, value, f"{what}.{key}")


def row(source: str, raw: Any, what: str, columns: Sequence[tuple[str, Check]]) -> list[Any]:
    """An array row with exactly the documented columns, each checked; returns the checked values in order.

    A row with fewer columns would shift every figure after the gap; one with more means the layout changed in a
    way we have not read, so both are refused rather than guessed at.
    """
    values = expect_list(source, raw, what)
    if len(values) != len(columns):
        names = ", ".join(name for name, _ in columns)
        raise BadPayloadError(source, f"{what} has {len(values)} fields, expected {len(columns)} ({names})")
    try:
        return [check(source, value, name) for (name, check), value in zip(columns, values, strict=True)]
    except BadPayloadError as exc:  # the row's name is added only on failure: rows come by the thousand
        raise BadPayloadError(source, f"{what} {exc.message}") from None


# Long runs of key-like characters are cut from upstream messages: a pure parser cannot know the configured key,
# and an upstream may echo it back ("invalid key abc123..."); 20+ such characters is no word.
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}")


def upstream_message(value: Any, limit: int = 120) -> str:
    """An upstream's own error message, truncated and with anything key-like masked, safe to show a model."""
    text_ = mask_upstream_text("" if value is None else str(value))
    return _TOKEN.sub("[redacted]", text_)[:limit]


def iso_z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
