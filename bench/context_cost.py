"""Context cost: bytes of tools/list, which a client puts in the model's context. Goal <= 16 KB for all tools.

    python bench/context_cost.py

Measured on the wire (the JSON-RPC result line over stdio, as a client receives it) and per tool, split into
description, input schema and output schema, so a regression points at its cause.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import _support as S

GOAL_BYTES = 16 * 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        peer = S.StdioPeer([sys.executable, "-m", "server", "serve"], S.windvane_env("http://127.0.0.1:9", Path(tmp)))
        try:
            peer.initialize()
            tools = peer.request("tools/list")["result"]["tools"]
            wire = len(peer.last_line)
        finally:
            peer.close()
    print(f"context cost of tools/list; {S.stamp()}")
    print(f"  {'tool':32} {'total':>7} {'descr':>7} {'input':>7} {'output':>7}")
    for tool in tools:
        size = len(json.dumps(tool, separators=(",", ":")).encode())
        parts = [
            len(json.dumps(tool.get(k, ""), separators=(",", ":")).encode())
            for k in ("description", "inputSchema", "outputSchema")
        ]
        print(f"  {tool['name']:32} {size:7d} {parts[0]:7d} {parts[1]:7d} {parts[2]:7d}")
    print(
        f"  tools/list on the wire: {wire} bytes for {len(tools)} tool(s) = {wire / GOAL_BYTES:.2f} of the "
        f"{GOAL_BYTES}-byte goal"
    )


if __name__ == "__main__":
    main()
