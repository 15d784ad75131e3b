"""Example arguments per tool, for the e2e clients and the fuzz test.

Everything iterates over what tools/list returns; this table only says which arguments are valid or invalid for a
tool it knows, and what a correct answer must contain. A tool not listed here gets the generic example: every tool
accepts `as_of`, so `as_of='2025-11-24'` is valid and `as_of='yesterday'` is a tool error naming the ISO format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.data import binance_daily, coinbase_daily, day_ts

Check = Callable[[dict[str, Any]], list[str]]
AS_OF = "2025-11-24"


def check_common(out: dict[str, Any]) -> list[str]:
    """The contract's fields every tool result carries."""
    problems = [f"missing {name}" for name in ("as_of", "sources", "warnings") if name not in out]
    for source in out.get("sources", []):
        for name in ("name", "endpoint", "fetched_at", "stale", "age_seconds"):
            if name not in source:
                problems.append(f"source {source.get('name')} lacks {name}")
        if "?" in str(source.get("endpoint")):
            problems.append(f"endpoint carries a query: {source.get('endpoint')}")
    return problems


def _close(a: object, b: float, tol: float = 1e-6) -> bool:
    return isinstance(a, int | float) and abs(float(a) - b) <= tol


def check_premium(out: dict[str, Any]) -> list[str]:
    """Real numbers: Coinbase and Binance daily closes for 2025-11-24 from ../shared/data."""
    problems = check_common(out)
    cb = coinbase_daily()[day_ts(AS_OF)][3]
    ref = float(binance_daily()[day_ts(AS_OF) * 1000][4])
    cur = out.get("current", {})
    expect = {
        "coinbase_price": cb,
        "reference_price": ref,
        "premium_usd": cb - ref,
        "premium_pct": 100 * (cb / ref - 1),
    }
    for name, value in expect.items():
        if not _close(cur.get(name), value):
            problems.append(f"current.{name}={cur.get(name)!r}, expected {value:.6f}")
    if cur.get("reference_venue") != "binance":
        problems.append(f"reference_venue={cur.get('reference_venue')!r}")
    if len(out.get("history", [])) != 30 or not str(out["history"][-1].get("ts", "")).startswith(AS_OF):
        problems.append("history is not the 30 daily bars ending 2025-11-24")
    streak = out.get("streak", {})
    # Coinbase closed below Binance every day from 2025-10-30 to 2025-11-24 (shared/data/README.md).
    if (streak.get("sign"), streak.get("days"), streak.get("since")) != ("negative", 26, "2025-10-30"):
        problems.append(f"streak={streak!r}")
    return problems


@dataclass(frozen=True)
class Example:
    valid: dict[str, Any]
    # (arguments, a phrase the error must contain so the model can fix its call)
    invalid: list[tuple[dict[str, Any], str]]
    check: Check = check_common
    extra_valid: list[dict[str, Any]] = field(default_factory=list)


GENERIC = Example(valid={"as_of": AS_OF}, invalid=[({"as_of": "yesterday"}, "ISO")])

EXAMPLES: dict[str, Example] = {
    "get_coinbase_premium": Example(
        valid={"as_of": AS_OF, "days": 30},
        invalid=[
            ({"asset": "DOGE"}, "BTC"),
            ({"days": 0}, "greater than or equal to 1"),
            ({"as_of": "yesterday"}, "ISO"),
        ],
        check=check_premium,
    ),
}

# Prompt name -> arguments for prompts/get.
PROMPT_ARGS: dict[str, dict[str, str]] = {"market_brief": {"asset": "BTC"}}


def example_for(tool: str) -> Example:
    return EXAMPLES.get(tool, GENERIC)
