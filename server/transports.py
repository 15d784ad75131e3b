"""Running the server over stdio or Streamable HTTP (`/mcp`, plus `GET /healthz`)."""

from __future__ import annotations

import sys

from server.settings import Settings
from server.stopping import banner, stop_http_on_signals, stop_stdio_on_signals
from server.version import version


def serve(settings: Settings, *, transport: str, host: str, port: int) -> int:
    from server.logs import add_secrets

    # Whatever logs what, a configured key or token never reaches the log stream.
    add_secrets([*settings.api_keys.values(), settings.http_token or ""])
    if transport == "stdio":
        stop_stdio_on_signals()
        from server.app import build_server

        mcp = build_server(settings)
        banner(
            f"windvane {version()}: MCP server on stdio, store {settings.resolved_db_path()}. MCP clients start "
            "windvane themselves (`windvane mcp-config` prints their config)."
        )
        mcp.run("stdio")
        return 0
    from server.http_app import BindRefused, check_bind, run_http

    try:
        check_bind(settings, host)  # before building anything: refusal must be immediate and clear
    except BindRefused as exc:
        print(f"windvane: {exc}", file=sys.stderr)
        return 2
    stop_http_on_signals()
    from server.app import build_server
    from tools.deps import Deps

    live: list[Deps] = []
    try:
        run_http(build_server(settings, live=live), settings, live, host=host, port=port)
    except ValueError as exc:
        print(f"windvane: {exc}", file=sys.stderr)
        return 2
    return 0
