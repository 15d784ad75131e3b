"""`windvane collect [--every 1h] [--once]`: records the sources that only report "now", so their history accrues.

Every round runs the `collect` of each tool in the registry that has one. One that fails is logged and retried
next round; the others still record. In a fleet (WINDVANE_DATABASE_URL / WINDVANE_REDIS_URL) only the holder of the
fleet's `collect` lease records; any other collector stands by and takes over when it dies (server/leader.py).
Runs until stopped (Ctrl-C / SIGTERM); `--once` runs a single round.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from server.settings import Settings
    from tools.deps import Deps
    from tools.registry import ToolSpec

NAME = "collect"
HELP = "record 'now'-only sources into the history store on a schedule"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """'90s', '15m', '1h', '1d' or plain seconds -> seconds (at least 10)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; use e.g. 90s, 15m, 1h, 1d")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds < 10:
        raise argparse.ArgumentTypeError(f"{text!r} is too short; the minimum is 10s")
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--every", type=duration, default=3600.0, help="interval between rounds (default 1h)")
    parser.add_argument("--once", action="store_true", help="run one round and exit")


async def collect_round(deps: Deps, specs: Sequence[ToolSpec[Any, Any]]) -> tuple[int, list[str]]:
    """One round: rows written in total, and the tools whose collector failed (with the reason)."""
    import logging

    log = logging.getLogger("windvane.collect")
    total, failed = 0, []
    for spec in specs:
        assert spec.collect is not None
        try:
            rows = await spec.collect(deps)
        except Exception as exc:  # one broken collector must not stop the others
            failed.append(f"{spec.name}: {type(exc).__name__}: {exc}")
            log.warning("collect %s failed: %s: %s", spec.name, type(exc).__name__, exc)
            continue
        total += rows
        log.info("collect %s: %d rows", spec.name, rows)
    return total, failed


async def execute(args: argparse.Namespace, settings: Settings, **deps_kwargs: Any) -> int:
    import logging
    import sys

    import anyio

    from server.runtime import open_deps, store_fault, store_problem
    from server.stores import unavailable
    from tools.registry import tool_specs

    log = logging.getLogger("windvane.collect")
    specs = [s for s in tool_specs() if s.collect is not None]
    if not specs:
        log.warning("no tool has a collector; nothing to record")
        return 0
    from server.leader import lease_for, run_as_leader

    outcome = 0
    async with open_deps(settings, **deps_kwargs) as deps:
        problem = await store_problem(deps, write=True)
        if problem is not None:
            print(unavailable(problem), file=sys.stderr)
            return 1

        async def rounds() -> None:
            nonlocal outcome
            round_no = 0
            while True:
                round_no += 1
                total, failed = await collect_round(deps, specs)
                log.info(
                    "collect round %d: %d rows from %d tool(s), %d failed", round_no, total, len(specs), len(failed)
                )
                fault = store_fault(deps)
                if fault is not None:  # nothing recorded can be kept: collecting on would only spend requests
                    print(unavailable(fault), file=sys.stderr)
                    outcome = 1
                    return
                if args.once:
                    outcome = 1 if failed else 0
                    return
                await anyio.sleep(args.every)

        # In a fleet one collector records for everyone; a second one stands by and takes over if the first dies.
        lease = lease_for(settings, "collect")
        if lease is None:
            await rounds()
        else:
            await run_as_leader(lease, settings.lease_s, "collect", rounds)
    return outcome


def run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    try:
        return anyio.run(execute, args, settings)
    except KeyboardInterrupt:
        return 0
