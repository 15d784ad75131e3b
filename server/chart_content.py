"""A tool result with its chart: the structured result and its text mirror as the SDK makes them, plus a PNG.

Asked for with `chart=true` on the tools that have a chart (server/charts/CHARTS). The chart is drawn in a worker
thread (matplotlib is imported then, on first use); if it cannot be drawn the result still stands and a text block
says why, so a chart never costs the caller the answer.
"""

from __future__ import annotations

import base64
import logging

import anyio
import pydantic_core
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent

from schemas.common import ToolResult

log = logging.getLogger("windvane.charts")

# The first chart in a process imports matplotlib (about 1 s here); drawing one takes a few hundred ms.
CHART_BUDGET_S = 15.0


async def with_chart(tool: str, result: ToolResult) -> CallToolResult:
    from server.charts import chart_png

    # The same text and structured content the SDK builds for a returned model (func_metadata.convert_result).
    text = pydantic_core.to_json(result, fallback=str, indent=2).decode()
    content: list[ContentBlock] = [TextContent(type="text", text=text)]
    png = None
    try:
        # Bounded: the answer is ready, and a chart is not worth the client's deadline. An abandoned drawing
        # finishes in its thread and is dropped.
        with anyio.move_on_after(CHART_BUDGET_S):
            png = await anyio.to_thread.run_sync(chart_png, tool, result, abandon_on_cancel=True)
    except ValueError as exc:  # nothing to draw (no history, no rows): said, not raised
        content.append(TextContent(type="text", text=f"chart unavailable: {exc}"))
    except Exception as exc:  # a drawing bug must not cost the caller the answer
        log.warning("chart for %s failed: %s: %s", tool, type(exc).__name__, exc)
        content.append(TextContent(type="text", text=f"chart unavailable: {type(exc).__name__}"))
    else:
        if png is None:
            content.append(TextContent(type="text", text=f"chart unavailable: not drawn within {CHART_BUDGET_S:g} s"))
        else:
            content.append(ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png"))
    return CallToolResult(content=content, structured_content=result.model_dump(mode="json", by_alias=True))
