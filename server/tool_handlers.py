"""One MCP handler per `ToolSpec`: the published arguments come from the spec's input model, nothing else.

The SDK reads a tool's arguments from its function signature, so the handler carries a signature made from the
input model's fields (with their `Annotated` types: schema, validation and description stay in one place). The
handler parses `as_of` into the call's one `PointInTime` and turns a fixable mistake into a tool error.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, get_type_hints

from mcp.server.mcpserver import Context

from tools.deps import deps_from
from tools.errors import InputError, tool_error
from tools.point_in_time import PointInTime
from tools.registry import ToolSpec


def mcp_handler(spec: ToolSpec[Any, Any]) -> Callable[..., Awaitable[Any]]:
    async def handler(ctx: Context[Any, Any], **arguments: Any) -> Any:
        deps = deps_from(ctx)
        try:
            args = spec.args.model_validate(arguments)
            return await spec.run(deps, args, PointInTime.parse(args.as_of, deps.clock()))
        except InputError as exc:
            raise tool_error(exc) from None

    hints = get_type_hints(spec.args, include_extras=True)
    parameters = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context[Any, Any])]
    for name, field in spec.args.model_fields.items():
        parameters.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=field.default, annotation=hints[name])
        )
    handler.__signature__ = inspect.Signature(parameters, return_annotation=spec.output)  # type: ignore[attr-defined]
    handler.__annotations__ = {
        "ctx": Context[Any, Any],
        **{name: hints[name] for name in spec.args.model_fields},
        "return": spec.output,
    }
    handler.__name__ = handler.__qualname__ = spec.name
    return handler
