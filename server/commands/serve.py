"""`windvane serve`: the MCP server over stdio (what MCP clients spawn) or Streamable HTTP."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.settings import Settings

NAME = "serve"
HELP = "run the MCP server (stdio by default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from server.transports import serve

    return serve(settings, transport=args.transport, host=args.host, port=args.port)
