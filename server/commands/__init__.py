"""CLI sub-commands, one module each. A module exports `NAME`, `add_arguments(parser)` and `run(args, settings) -> int`.

Modules here must import only the standard library at top level: `windvane --help` has to stay instant.
"""

COMMAND_MODULES: tuple[str, ...] = (
    "server.commands.serve",
    "server.commands.collect",
    "server.commands.backfill",
    "server.commands.history",
    "server.commands.import_csv",
    "server.commands.brief",
    "server.commands.backtest",
)
