"""Input errors: a mistake the model can fix becomes an MCP tool error carrying this message."""

from __future__ import annotations


class InputError(ValueError):
    """A mistake the model can fix; tools re-raise it as an MCP tool error with this message."""


def tool_error(exc: InputError) -> Exception:
    from mcp.server.mcpserver.exceptions import ToolError

    return ToolError(str(exc))
