"""Background refreshes while the server runs: what a call would otherwise page through one request at a time.

Each tool's `refresh` (tools/registry.py) runs at start-up and then every WINDVANE_REFRESH_EVERY_S seconds (default
300; 0 turns it off), within a deadline of its own and never inside a tool call's. A failure is logged and tried
again next round; the circuit breakers keep a failing upstream from being asked on every round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import anyio

from fetchers.call_context import call_context
from tools.deps import Deps
from tools.registry import ToolSpec

log = logging.getLogger("windvane.background")

REFRESH_DEADLINE_S = 120.0


async def refresh_once(deps: Deps, specs: Sequence[ToolSpec[Any, Any]]) -> int:
    written = 0
    for spec in specs:
        assert spec.refresh is not None
        try:
            with call_context(REFRESH_DEADLINE_S):
                rows = await spec.refresh(deps)
        except Exception as exc:  # one refresh failing must not stop the others, or the server
            log.warning("background refresh of %s failed: %s: %s", spec.name, type(exc).__name__, exc)
            continue
        written += rows
        log.info("background refresh of %s: %d rows", spec.name, rows)
    return written


async def refresh_forever(deps: Deps, specs: Sequence[ToolSpec[Any, Any]], every_s: float) -> None:
    while True:
        await refresh_once(deps, specs)
        await anyio.sleep(every_s)
