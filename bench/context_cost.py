"""Context cost: bytes of tools/list, and characters of each tool's default result, both of which a client puts in
the model's context. Goals: tools/list <= 16 KB; the six default results on 2025-11-24 <= 24,000 characters
together, get_etf_flows <= 6,000.

    python bench/context_cost.py

tools/list is measured on the wire (the JSON-RPC result line over stdio, as a client receives it) and per tool,
split into description, input schema and output schema, so a regression points at its cause. Results are the
replayed 2025-11-24 of the test suite (tests/test_compact_results.py): the in-memory MCP client on the fake upstream
(real shared data) with the clock at the suite's frozen 2025-11-26 12:00 UTC, as_of=2025-11-24, default arguments.
Reported: the text block (what the model reads), structuredContent (the same JSON), and the text with detail="full".
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import _support as S

GOAL_BYTES = 16 * 1024
GOAL_RESULTS = 24_000
GOAL_ETF = 6_000
AS_OF = "2025-11-24"


def tools_list() -> None:
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


async def _calls(tools: list[str]) -> list[tuple[str, int, int, int]]:
    from mcp import Client

    from server.app import build_server
    from tests.conftest import FROZEN_NOW, make_settings
    from tests.fakes import default_fake

    fake = default_fake()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = build_server(make_settings(Path(tmp)), transport=fake.transport(), clock=lambda: FROZEN_NOW)
        async with Client(server) as client:
            for name in tools:
                summary = await client.call_tool(name, {"as_of": AS_OF})
                full = await client.call_tool(name, {"as_of": AS_OF, "detail": "full"})
                assert not summary.is_error, name
                assert not full.is_error, name
                text = sum(len(getattr(block, "text", "")) for block in summary.content)
                structured = len(json.dumps(summary.structured_content, separators=(",", ":"), ensure_ascii=False))
                rows.append((name, text, structured, sum(len(getattr(b, "text", "")) for b in full.content)))
    return rows


def results() -> None:
    import logging

    import anyio

    from tools.registry import tool_specs

    logging.disable(logging.WARNING)
    rows = anyio.run(_calls, [spec.name for spec in tool_specs()])
    print(f"\ncontext cost of default results, as_of={AS_OF}, characters; {S.stamp()}")
    print(f"  {'tool':32} {'text':>7} {'struct':>7} {'full text':>10}")
    for name, text, structured, full_text in rows:
        print(f"  {name:32} {text:7d} {structured:7d} {full_text:10d}")
    total = sum(r[1] for r in rows)
    etf = next((r[1] for r in rows if r[0] == "get_etf_flows"), 0)
    print(
        f"  default results together: {total} characters = {total / GOAL_RESULTS:.2f} of the {GOAL_RESULTS} goal; "
        f"get_etf_flows {etf} = {etf / GOAL_ETF:.2f} of {GOAL_ETF}; with detail=full: {sum(r[3] for r in rows)}"
    )


def main() -> None:
    tools_list()
    results()


if __name__ == "__main__":
    main()
