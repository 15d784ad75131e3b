"""`windvane backfill --since DATE [--until DATE]`: fills the history store from every historical endpoint.

Runs the `backfill(deps, since, until)` of each tool in the registry that has one, with a progress bar on stderr.
Resumable: what an earlier run stored is not fetched again, so after an interruption or failure the same command
continues.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from server.commands import iso_date

if TYPE_CHECKING:
    from server.settings import Settings

NAME = "backfill"
HELP = "fill the history store from historical endpoints (resumable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=iso_date, required=True, help="first UTC day (YYYY-MM-DD)")
    parser.add_argument("--until", type=iso_date, default=None, help="last UTC day (default: today)")


async def execute(args: argparse.Namespace, settings: Settings, **deps_kwargs: Any) -> int:
    import logging
    import sys
    from dataclasses import replace

    from server.progress_bar import ProgressBar
    from server.runtime import open_deps, store_fault, store_problem
    from server.stores import unavailable
    from tools.registry import tool_specs

    log = logging.getLogger("windvane.backfill")
    specs = [s for s in tool_specs() if s.backfill is not None]
    async with open_deps(settings, **deps_kwargs) as deps:
        until: date = args.until or deps.clock().date()
        if args.since > until:
            print(f"windvane: --since {args.since} is after --until {until}", file=sys.stderr)
            return 2
        problem = await store_problem(deps, write=True)
        if problem is not None:
            print(unavailable(problem), file=sys.stderr)
            return 1
        deps = replace(deps, progress=ProgressBar())
        failed = 0
        for spec in specs:
            assert spec.backfill is not None
            log.info("backfill %s: %s..%s", spec.name, args.since, until)
            try:
                rows = await spec.backfill(deps, args.since, until)
            except Exception as exc:  # report and go on: the next tool's history is independent
                failed += 1
                log.error("backfill %s incomplete: %s: %s", spec.name, type(exc).__name__, exc)
                continue
            log.info("backfill %s: %d rows written", spec.name, rows)
        fault = store_fault(deps)
    if fault is not None:  # the tools went on without the store: what they fetched was not kept
        print(unavailable(fault), file=sys.stderr)
        return 1
    if failed:
        log.error("%d tool(s) incomplete; run the same command again to resume", failed)
        return 1
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    try:
        return anyio.run(execute, args, settings)
    except KeyboardInterrupt:
        print("\nwindvane: interrupted; run the same command again to resume", file=__import__("sys").stderr)
        return 130
