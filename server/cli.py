"""The `windvane` command. Parsing is cheap; each sub-command imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from server.commands import COMMAND_MODULES


def _parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    from server.version import version

    parser = argparse.ArgumentParser(prog="windvane", description="Crypto market-structure MCP server.")
    parser.add_argument("--version", action="version", version=f"windvane {version()}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, object] = {}
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))
        commands[module.NAME] = module
    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    from server.logs import configure_logging
    from server.settings import SettingsError, load_settings

    configure_logging(args.log_level)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"windvane: configuration error: {exc}", file=sys.stderr)
        return 2
    module = commands[args.command]
    return int(module.run(args, settings))  # type: ignore[attr-defined]
