"""Progress reporting for long jobs (backfill): tools report, the CLI draws.

A tool's `backfill` calls `progress(deps)(label, done, total)` after each unit of work; the `windvane backfill`
command puts a progress bar in `deps.extra["progress"]`, and anything else gets a no-op.
"""

from __future__ import annotations

from collections.abc import Callable

from tools.common import Deps

ProgressFn = Callable[[str, int, int], None]
PROGRESS_KEY = "progress"


def _ignore(label: str, done: int, total: int) -> None:
    return None


def progress(deps: Deps) -> ProgressFn:
    report = deps.extra.get(PROGRESS_KEY)
    return report if callable(report) else _ignore
