"""Running the server over stdio or Streamable HTTP (`/mcp`, plus `GET /healthz`)."""

from __future__ import annotations

import sys

from server.settings import Settings


def serve(settings: Settings, *, transport: str, host: str, port: int) -> int:
    from server.app import build_server

    mcp = build_server(settings)
    if transport == "stdio":
        mcp.run("stdio")
        return 0
    from server.http_app import run_http

    try:
        run_http(mcp, settings, host=host, port=port)
    except ValueError as exc:
        print(f"windvane: {exc}", file=sys.stderr)
        return 2
    return 0
