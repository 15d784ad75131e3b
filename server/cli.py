"""The `windvane` command. Parsing is cheap; each sub-command imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="windvane", description="Crypto market-structure MCP server.")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from server.logs import configure_logging
    from server.settings import SettingsError, load_settings

    configure_logging(args.log_level)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"windvane: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from server.transports import serve

        return serve(settings, transport=args.transport, host=args.host, port=args.port)
    return 2
