"""CLI sub-commands, one module each. A module exports `NAME`, `add_arguments(parser)` and `run(args, settings) -> int`.

Modules here must import only the standard library at top level: `windvane --help` has to stay instant.
"""

import argparse
from datetime import date

COMMAND_MODULES: tuple[str, ...] = (
    "server.commands.serve",
    "server.commands.collect",
    "server.commands.backfill",
    "server.commands.history",
    "server.commands.import_csv",
    "server.commands.brief",
    "server.commands.backtest",
    "server.commands.doctor",
    "server.commands.mcp_config",
)


def iso_date(text: str) -> date:
    """argparse type for a UTC day given as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2024-01-01") from None
