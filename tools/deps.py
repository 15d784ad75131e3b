"""The dependencies every tool call receives: one typed `Deps`, built once by `server.runtime.open_deps`.

The server opens it in its lifespan (one shared `httpx.AsyncClient` behind `Http`, one store); the CLI commands
open the same thing for `collect`, `backfill`, `brief` and `backtest`. Tools reach it through the request context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fetchers.http import Http

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from store.base import Store

# (label, units done, units in all): long jobs (backfill) report through it; the CLI draws a bar.
ProgressFn = Callable[[str, int, int], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_progress(label: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class ToolConfig:
    """The settings tools read, mapped from `server.settings.Settings` by `open_deps` (tools never import server)."""

    etf_impact_pct_per_busd: float = 3.4
    # A JSON file of extra labelled exchange wallets for exchange_reserve_trend (WINDVANE_ADDRESS_BOOK).
    address_book_path: Path | None = None
    # Seconds `windvane collect` listens to the liquidation streams per round; 0 turns them off.
    liquidation_stream_s: float = 0.0
    # Every tool call answers within this, with what came back (a sub-tool of the assessment too).
    tool_deadline_s: float = 15.0
    # The assessment waits out its sub-tools' deadline, then scores: it gets this much longer.
    assess_extra_deadline_s: float = 5.0
    # `windvane collect` pauses this long after each labelled-wallet read (per worker): polite to Esplora.
    wallet_scan_delay_s: float = 0.25


@dataclass(frozen=True)
class Deps:
    """Opened once (server lifespan or CLI command) and reached by tools through the request context."""

    http: Http
    store: Store | None = None
    clock: Callable[[], datetime] = utc_now
    config: ToolConfig = field(default_factory=ToolConfig)
    progress: ProgressFn = no_progress


def deps_from(ctx: Context[Any, Any]) -> Deps:
    deps = ctx.request_context.lifespan_context
    if not isinstance(deps, Deps):
        raise RuntimeError("server lifespan did not provide windvane dependencies")
    return deps
