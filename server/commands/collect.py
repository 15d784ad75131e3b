"""`windvane collect [--every 1h] [--once]`: records the sources that only report "now", so their history accrues.

Every round calls `collect(deps)` of each tool module that defines one. A module that fails is logged and retried
next round; the others still record. Runs until stopped (Ctrl-C / SIGTERM); `--once` runs a single round.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.settings import Settings
    from tools.deps import Deps

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


async def collect_round(deps: Deps, modules: list[Any]) -> tuple[int, list[str]]:
    """One round: rows written in total, and the modules that failed (with the reason)."""
    import logging

    log = logging.getLogger("windvane.collect")
    total, failed = 0, []
    for module in modules:
        try:
            rows = int(await module.collect(deps))
        except Exception as exc:  # one broken collector must not stop the others
            failed.append(f"{module.__name__}: {type(exc).__name__}: {exc}")
            log.warning("collect %s failed: %s: %s", module.__name__, type(exc).__name__, exc)
            continue
        total += rows
        log.info("collect %s: %d rows", module.__name__, rows)
    return total, failed


async def execute(args: argparse.Namespace, settings: Settings, **deps_kwargs: Any) -> int:
    import logging

    import anyio

    from server.app import tool_modules
    from server.runtime import open_deps

    log = logging.getLogger("windvane.collect")
    modules = [m for m in tool_modules() if callable(getattr(m, "collect", None))]
    if not modules:
        log.warning("no tool module defines collect(); nothing to record")
        return 0
    async with open_deps(settings, **deps_kwargs) as deps:
        round_no = 0
        while True:
            round_no += 1
            total, failed = await collect_round(deps, modules)
            log.info(
                "collect round %d: %d rows from %d module(s), %d failed", round_no, total, len(modules), len(failed)
            )
            if args.once:
                return 1 if failed else 0
            await anyio.sleep(args.every)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    try:
        return anyio.run(execute, args, settings)
    except KeyboardInterrupt:
        return 0
