"""What clients show in their tool pickers: titles, read-only/open-world hints, icons (MCP 2025-11-25), the server's
icon and version; and the byte budget of tools/list, which sits in the model's context on every turn."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.version import version
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

TOOLS_LIST_BUDGET = 16 * 1024  # bench/context_cost.py reports the measured figure


def svg_of(src: str) -> ET.Element:
    prefix = "data:image/svg+xml;base64,"
    assert src.startswith(prefix)
    return ET.fromstring(base64.b64decode(src.removeprefix(prefix), validate=True))


async def listed(tmp_path: Path) -> tuple[tuple[Any, str | None], list[dict[str, Any]]]:
    from mcp import Client

    from server.app import build_server

    server = build_server(make_settings(tmp_path), transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    async with Client(server, mode="legacy") as client:  # type: ignore[arg-type]
        info = (client.server_info, client.instructions)
        tools = (await client.list_tools()).tools
    return info, [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]


async def test_every_tool_has_a_title_hints_and_an_icon(tmp_path: Path) -> None:
    _, tools = await listed(tmp_path)
    assert len(tools) == 6
    for tool in tools:
        assert tool["title"], tool["name"]
        # read-only, talks to the outside world; not idempotent, because a call without as_of gets newer data later
        assert tool["annotations"] == {"readOnlyHint": True, "openWorldHint": True}, tool["name"]
        [icon] = tool["icons"]
        assert svg_of(icon["src"]).tag == "{http://www.w3.org/2000/svg}svg"


async def test_the_server_announces_its_icon_version_and_site(tmp_path: Path) -> None:
    (server, instructions), _ = await listed(tmp_path)
    assert (server.name, server.title, server.version) == ("windvane", "windvane", version())
    [icon] = server.icons
    assert (icon.mime_type, icon.sizes) == ("image/svg+xml", ["any"])
    assert svg_of(icon.src).get("viewBox") == "0 0 64 64"
    assert instructions is not None
    assert "`sources`" in instructions
    assert "`warnings`" in instructions


async def test_tools_list_stays_within_its_byte_budget(tmp_path: Path) -> None:
    _, tools = await listed(tmp_path)
    wire = json.dumps({"jsonrpc": "2.0", "id": 2, "result": {"tools": tools}}, separators=(",", ":"))
    assert len(wire.encode()) <= TOOLS_LIST_BUDGET
