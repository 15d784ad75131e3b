"""Builds the MCPServer: tools, resources, prompt, and the lifespan that opens shared resources once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import anyio
import httpx
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from server.background import refresh_forever
from server.icons import server_icons, tool_icons
from server.runtime import open_deps
from server.settings import Settings
from server.status import sources_status
from server.tool_handlers import mcp_handler, validate_at_the_edge
from server.version import version
from store.base import Store
from tools.assess.prompt import market_brief
from tools.deps import Deps
from tools.errors import InputError
from tools.point_in_time import MAX_YEAR, MIN_YEAR
from tools.registry import ToolSpec, tool_specs

log = logging.getLogger("windvane.server")

# Every tool only reads, and reads upstreams outside windvane's control (open world). Left out on purpose:
# - idempotentHint: a call without as_of answers with the latest data, so the same arguments give a new answer
#   later; the hint is one value per tool and no tool requires as_of, so no tool claims it (a past as_of is
#   repeatable: the as_of argument's description says only data known by then is used);
# - destructiveHint: the spec reads it only when readOnlyHint is false;
# - annotations.title: the tool's own `title` already says it, and tools/list is paid for on every turn.
ANNOTATIONS = ToolAnnotations(read_only_hint=True, open_world_hint=True)

WEBSITE = "https://github.com/windvane/windvane"
INSTRUCTIONS = (
    "windvane answers questions about crypto market structure after a sharp move: is a bounce a rebound inside a "
    "downtrend or a real reversal? Every figure carries its source, as-of time and staleness; a figure that could "
    "not be obtained is null with a reason in `warnings`, never 0. Pass `as_of` for a past point in time: a UTC "
    f"date (its end of day) or a datetime with Z or an offset, years {MIN_YEAR}-{MAX_YEAR}; only data known by "
    "then is used. "
    "Every result has `as_of` (the UTC point in time it describes), `sources` (name, endpoint, fetched_at, stale, "
    "age_seconds), `warnings` (what was missing, degraded, stale or cross-checked; empty when all is well) and "
    "`omitted`. Every tool takes `detail`: 'summary' (default) returns the readings and each series' latest rows "
    "with sources one per upstream, and `omitted` counts per field what was left out; 'full' returns everything."
)


def methodology_markdown() -> str:
    parts = [
        "# windvane methodology",
        "",
        "Formulas, thresholds and sources behind every figure windvane returns.",
        "",
    ]
    for spec in tool_specs():
        parts.append(spec.methodology.strip())
        parts.append("")
    return "\n".join(parts)


def brief_prompt(asset: str = "BTC") -> str:
    """The `market_brief` prompt; an asset the tools would refuse is an invalid-params error naming the valid ones."""
    from mcp.shared.exceptions import MCPError
    from mcp.types import INVALID_PARAMS

    try:
        return market_brief(asset)
    except InputError as exc:
        raise MCPError(INVALID_PARAMS, str(exc)) from None


def build_server(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    live: list[Deps] | None = None,
) -> MCPServer[Deps]:
    """The windvane MCP server. Tests pass a MockTransport, a temporary store and a frozen clock.

    `live` receives the open dependencies while the lifespan runs (pass a list to read them from outside, as
    GET /healthz does)."""
    # Static resources get no request context in the SDK, so the status resource reads the open deps from here.
    live = [] if live is None else live

    @asynccontextmanager
    async def lifespan(_: MCPServer[Deps]) -> AsyncIterator[Deps]:
        async with (
            open_deps(settings, transport=transport, store=store, clock=clock, sleep=sleep) as deps,
            anyio.create_task_group() as background,
        ):
            refreshing = [spec for spec in tool_specs() if spec.refresh is not None]
            if settings.refresh_every_s > 0 and refreshing:
                background.start_soon(refresh_in_fleet, settings, deps, refreshing)
            live.append(deps)
            try:
                yield deps
            finally:
                live.remove(deps)
                background.cancel_scope.cancel()

    mcp: MCPServer[Deps] = MCPServer(
        "windvane",
        title="windvane",
        instructions=INSTRUCTIONS,
        version=version(),
        icons=list(server_icons()),
        website_url=WEBSITE,
        lifespan=lifespan,
    )
    for spec in tool_specs():
        mcp.add_tool(
            mcp_handler(spec),
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=ANNOTATIONS,
            icons=list(tool_icons()),
        )
        validate_at_the_edge(mcp, spec)
    mcp.prompt(
        name="market_brief",
        title="Market brief",
        description="Sourced brief: macro backdrop, evidence, liquidity, then verdict and what to watch.",
    )(brief_prompt)
    publish_schemas(mcp, settings.schema_detail)

    @mcp.resource(
        "windvane://methodology",
        name="methodology",
        mime_type="text/markdown",
        description="Formulas, thresholds and weights behind every windvane figure.",
    )
    def methodology() -> str:
        return methodology_markdown()

    register_status_resource(mcp, settings, live)
    return mcp


async def refresh_in_fleet(settings: Settings, deps: Deps, specs: list[ToolSpec[Any, Any]]) -> None:
    """The background refresh: in a fleet, on the one replica holding the `refresh` lease (server/leader.py)."""
    from server.leader import lease_for, run_as_leader

    lease = lease_for(settings, "refresh")
    if lease is None:
        await refresh_forever(deps, specs, settings.refresh_every_s)
        return
    await run_as_leader(
        lease, settings.lease_s, "background refresh", lambda: refresh_forever(deps, specs, settings.refresh_every_s)
    )


def publish_schemas(mcp: MCPServer[Deps], detail: str) -> None:
    """Compact every tool's published schemas; `full` keeps nested output fields for engineers in the inspector."""
    from server.schema_compact import compact_schema, shallow_output_schema

    # The SDK has no public setter for published schemas; its Tool objects are pinned by mcp>=2.3,<3.
    for tool in mcp._tool_manager.list_tools():
        tool.parameters = compact_schema(tool.parameters)
        output = tool.fn_metadata.output_schema
        if output is not None:
            compacted = compact_schema(output)
            tool.fn_metadata.output_schema = compacted if detail == "full" else shallow_output_schema(compacted)
            tool.__dict__.pop("output_schema", None)  # drop the SDK's cached copy


def register_status_resource(mcp: MCPServer[Deps], settings: Settings, live: list[Deps]) -> None:
    import json

    @mcp.resource(
        "windvane://sources",
        name="sources",
        mime_type="application/json",
        description="Per upstream: last success, last error, whether a key is configured, cache state.",
    )
    def sources() -> str:
        if not live:
            return json.dumps({"error": "server is not running"})
        deps = live[-1]
        return deps.http.redactor.mask(json.dumps(sources_status(deps, settings).model_dump(), indent=2))
