"""One MCP handler per `ToolSpec`: the published arguments come from the spec's input model, nothing else.

The SDK reads a tool's arguments from its function signature, so the handler carries a signature made from the
input model's fields (with their `Annotated` types: schema, validation and description stay in one place). The
handler parses `as_of` into the call's one `PointInTime`, runs the tool within its deadline (every upstream
request ends by then, so the answer comes with what came back), reports progress while it runs, and turns a
fixable mistake into a tool error.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, get_type_hints

import anyio
import pydantic_core
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel

from fetchers.redact import Redactor
from schemas.common import ToolResult
from tools.deps import deps_from
from tools.errors import InputError, tool_error
from tools.point_in_time import PointInTime
from tools.registry import ToolSpec

ResultT = TypeVar("ResultT", bound=BaseModel)

PROGRESS_EVERY_S = 1.0
# Past its deadline a tool has this long to assemble what came back; beyond it the call ends with an error
# instead of leaving the client to time out.
ASSEMBLY_GRACE_S = 3.0


async def _report_progress(ctx: Context[Any, Any], deadline_s: float) -> None:
    """Elapsed seconds against the deadline, once a second (a no-op unless the client asked for progress)."""
    started = anyio.current_time()
    while True:
        await anyio.sleep(PROGRESS_EVERY_S)
        elapsed = anyio.current_time() - started
        await ctx.report_progress(
            min(elapsed, deadline_s), deadline_s, f"waiting on upstreams: {elapsed:.0f} of at most {deadline_s:g} s"
        )


async def _run(spec: ToolSpec[Any, Any], ctx: Context[Any, Any], arguments: dict[str, Any]) -> tuple[Any, ToolResult]:
    deps = deps_from(ctx)
    args = spec.args.model_validate(arguments)
    pit = PointInTime.parse(args.as_of, deps.clock())
    deadline_s = spec.deadline_s(deps.config)
    result: Any = None
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(_report_progress, ctx, deadline_s)
        try:
            with anyio.move_on_after(deadline_s + ASSEMBLY_GRACE_S):
                result = await spec.run_within_deadline(deps, args, pit)
        except Exception as exc:  # raised after the group, unwrapped: never an ExceptionGroup
            failure = exc
        finally:
            tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    if result is None:
        from mcp.server.mcpserver.exceptions import ToolError

        raise ToolError(f"{spec.name} did not finish within {deadline_s + ASSEMBLY_GRACE_S:g} s; try again")
    return args, result


async def presented(spec: ToolSpec[Any, Any], args: Any, result: ToolResult) -> CallToolResult:
    """The result at the detail asked for, with its chart when asked (drawn from the whole result, not the
    summary's last rows)."""
    extra: list[ContentBlock] = []
    if getattr(args, "chart", False):
        from server.chart_content import chart_blocks

        extra = await chart_blocks(spec.name, result)
    return emitted(spec.present(args, result), extra)


def emitted(result: ToolResult, extra: Sequence[ContentBlock] = ()) -> CallToolResult:
    """The result as structuredContent and, for clients that read only content, its exact text mirror: the same
    JSON without indentation (the SDK's default indents it, a third more characters for the model to read)."""
    structured = result.model_dump(mode="json", by_alias=True)
    text = pydantic_core.to_json(structured).decode()
    content: list[ContentBlock] = [TextContent(type="text", text=text), *extra]
    return CallToolResult(content=content, structured_content=structured)


def masked(result: ResultT, redactor: Redactor) -> ResultT:
    """`result` with every configured secret masked: the last check before a result leaves the process, whatever
    an upstream managed to put in a warning or a stale reason."""
    if not redactor:
        return result
    text = result.model_dump_json()
    if not redactor.found_in(text):
        return result
    return type(result).model_validate_json(redactor.mask(text))


def mcp_handler(spec: ToolSpec[Any, Any]) -> Callable[..., Awaitable[Any]]:
    async def handler(ctx: Context[Any, Any], **arguments: Any) -> Any:
        redactor = deps_from(ctx).http.redactor
        try:
            args, result = await _run(spec, ctx, arguments)
            return await presented(spec, args, masked(result, redactor))
        except InputError as exc:
            raise tool_error(InputError(redactor.mask(str(exc)))) from None

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


def edge_arguments(spec: ToolSpec[Any, Any]) -> type[BaseModel]:
    """The SDK's argument model for `spec`: the tool's own input model, so the SDK's validation (which runs first,
    and would otherwise drop unknown names silently) is the tool's strict one."""
    from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase

    return type(f"{spec.name}_arguments", (spec.args, ArgModelBase), {"__module__": __name__})


def validate_at_the_edge(mcp: Any, spec: ToolSpec[Any, Any]) -> None:
    """Make the published tool validate with `edge_arguments` and publish that model's schema (which says
    `additionalProperties: false`). The SDK has no public setter; its Tool objects are pinned by mcp>=2.3,<3."""
    tool = mcp._tool_manager.get_tool(spec.name)
    model = edge_arguments(spec)
    tool.fn_metadata.arg_model = model
    tool.parameters = model.model_json_schema(by_alias=True)
