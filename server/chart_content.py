"""A tool result's chart as MCP content: a PNG image block beside the result's structured content and text.

Asked for with `chart=true` on the tools that have a chart (server/charts/CHARTS). The chart is drawn in a worker
thread (matplotlib is imported then, on first use); if it cannot be drawn the result still stands and a text block
says why, so a chart never costs the caller the answer.
"""

from __future__ import annotations

import base64
import logging

import anyio
from mcp.types import ContentBlock, ImageContent, TextContent

from schemas.common import ToolResult

log = logging.getLogger("windvane.charts")

# The first chart in a process imports matplotlib (about 1 s here); drawing one takes a few hundred ms.
CHART_BUDGET_S = 15.0


async def chart_blocks(tool: str, result: ToolResult) -> list[ContentBlock]:
    """The chart as image content, or a text block saying why there is none."""
    from server.charts import chart_png

    png = None
    try:
        # Bounded: the answer is ready, and a chart is not worth the client's deadline. An abandoned drawing
        # finishes in its thread and is dropped.
        with anyio.move_on_after(CHART_BUDGET_S):
            png = await anyio.to_thread.run_sync(chart_png, tool, result, abandon_on_cancel=True)
    except ValueError as exc:  # nothing to draw (no history, no rows): said, not raised
        return [TextContent(type="text", text=f"chart unavailable: {exc}")]
    except Exception as exc:  # a drawing bug must not cost the caller the answer
        log.warning("chart for %s failed: %s: %s", tool, type(exc).__name__, exc)
        return [TextContent(type="text", text=f"chart unavailable: {type(exc).__name__}")]
    if png is None:
        return [TextContent(type="text", text=f"chart unavailable: not drawn within {CHART_BUDGET_S:g} s")]
    return [ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png")]
