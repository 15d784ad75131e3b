"""Streamable HTTP transport: the MCP endpoint at /mcp and an unauthenticated GET /healthz."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.settings import Settings


def add_health_route(mcp: MCPServer[Any]) -> None:
    @mcp.custom_route("/healthz", methods=["GET"])  # type: ignore[untyped-decorator]
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "up"})


def run_http(mcp: MCPServer[Any], settings: Settings, *, host: str, port: int) -> None:
    add_health_route(mcp)
    # Stateless: any replica can answer any request, so several can run behind a load balancer.
    mcp.run("streamable-http", host=host, port=port, streamable_http_path="/mcp", stateless_http=True)
