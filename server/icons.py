"""The icons clients draw for windvane (MCP 2025-11-25 `icons`, on the server and on each tool): the packaged SVGs as
base64 data URIs, so a client fetches nothing from anywhere to show them.

The tool icon is a 135-byte glyph because it is repeated in every tool of `tools/list`, which sits in the model's
context on every turn; the server icon (sent once, at initialize) is the full one.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

from mcp.types import Icon

ASSETS = Path(__file__).parent / "assets"
SVG = "image/svg+xml"


def data_uri(name: str) -> str:
    return f"data:{SVG};base64," + base64.b64encode((ASSETS / name).read_bytes()).decode()


@cache
def server_icons() -> tuple[Icon, ...]:
    return (Icon(src=data_uri("windvane.svg"), mime_type=SVG, sizes=["any"]),)


@cache
def tool_icons() -> tuple[Icon, ...]:
    # No mimeType or sizes: the data URI names its type and an SVG scales; each byte here costs six.
    return (Icon(src=data_uri("tool.svg")),)
