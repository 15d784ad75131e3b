"""The baseline server: the same MCP SDK, one tool that does nothing. Over stdio (default) or Streamable HTTP.

python bench/noop_server.py                      # stdio
python bench/noop_server.py --http --port 8765   # stateless Streamable HTTP at /mcp, like windvane
"""

from __future__ import annotations

import argparse

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("noop")


@mcp.tool()
def noop() -> dict[str, bool]:
    return {"ok": True}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if args.http:
        import uvicorn

        app = mcp.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, host="127.0.0.1")
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    else:
        mcp.run("stdio")
