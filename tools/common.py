"""What every tool shares: injected dependencies, `as_of` parsing, input errors and provenance."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field

from fetchers.errors import NotConfiguredError, UpstreamError
from fetchers.http import Fetched, Http
from schemas.common import SourceRef

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from store.base import Store

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    """Opened once in the server lifespan and reached by tools through the request context."""

    http: Http
    store: Store | None = None
    clock: Callable[[], datetime] = _now
    etf_impact_pct_per_busd: float = 3.4
    extra: dict[str, Any] = field(default_factory=dict)


def deps_from(ctx: Context[Any, Any]) -> Deps:
    deps = ctx.request_context.lifespan_context
    if not isinstance(deps, Deps):
        raise RuntimeError("server lifespan did not provide windvane dependencies")
    return deps


class InputError(ValueError):
    """A mistake the model can fix; tools re-raise it as an MCP tool error with this message."""


def tool_error(exc: InputError) -> Exception:
    from mcp.server.mcpserver.exceptions import ToolError

    return ToolError(str(exc))


# -- shared argument types (one place for schema, validation and description) ------------------------------------

SUPPORTED_ASSETS = ("BTC", "ETH")


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


AssetArg = Annotated[
    Literal["BTC", "ETH"],
    BeforeValidator(_upper),
    Field(description="Asset symbol: BTC or ETH (case-insensitive)."),
]

AsOfArg = Annotated[
    str | None,
    Field(
        description=(
            "Optional point in time, UTC: 'YYYY-MM-DD' (end of that day) or an ISO datetime. "
            "Only data timestamped at or before it is used. Omit for now."
        ),
        examples=["2025-11-24", "2025-11-24T15:00:00Z"],
    ),
]

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST_AS_OF = datetime(2010, 7, 17, tzinfo=UTC)  # first USD exchange prices for bitcoin


def parse_as_of(raw: str | None, now: datetime) -> datetime | None:
    """None for 'now'; otherwise an aware UTC datetime. A bare date means the end of that UTC day."""
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    try:
        if _DATE_RE.match(text):
            day = date.fromisoformat(text)
            parsed = datetime.combine(day, time.max, tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise InputError(
            f"as_of {raw!r} is not an ISO date or datetime; use e.g. '2025-11-24' or '2025-11-24T15:00:00Z'"
        ) from None
    if parsed < EARLIEST_AS_OF:
        raise InputError(f"as_of {raw!r} is before {EARLIEST_AS_OF.date()}; no market data exists that early")
    if parsed.date() > now.date():
        raise InputError(f"as_of {raw!r} is in the future (now is {now.strftime('%Y-%m-%dT%H:%M:%SZ')})")
    # A date that is today ends in the future: cap it at now, so "today" means "up to now".
    return min(parsed, now)


def bar_cutoff(as_of: datetime | None, now: datetime) -> datetime:
    """The instant bars must have closed by: a bar closing exactly at the end of the as_of day counts."""
    return now if as_of is None else as_of + timedelta(microseconds=1)


# -- provenance -----------------------------------------------------------------------------------------------


class Provenance:
    """Collects source references and warnings while a tool runs."""

    def __init__(self) -> None:
        self._sources: dict[str, SourceRef] = {}
        self.warnings: list[str] = []

    def add(self, fetched: Fetched[Any] | Iterable[Fetched[Any]]) -> None:
        items = [fetched] if isinstance(fetched, Fetched) else list(fetched)
        for item in items:
            ref = SourceRef(
                name=item.source,
                endpoint=item.endpoint,
                fetched_at=item.fetched_at,
                stale=item.stale,
                age_seconds=item.age_seconds,
            )
            known = self._sources.get(item.endpoint)
            # Several pages of one endpoint: report the oldest, most stale one, since the answer is only as fresh.
            if known is None or (ref.stale, ref.age_seconds) > (known.stale, known.age_seconds):
                self._sources[item.endpoint] = ref
            if item.stale:
                self.warn(f"{item.source} is stale ({item.age_seconds:.0f}s old): {item.stale_reason}")

    async def attempt(self, what: str, call: Callable[[], Awaitable[T]], *, optional: bool = False) -> T | None:
        """`await call()`, or None with a warning naming `what` when its upstream failed.

        With `optional`, a keyed source that has no key configured is simply absent: that is not a warning.
        """
        try:
            return await call()
        except UpstreamError as exc:
            if not (optional and isinstance(exc, NotConfiguredError)):
                self.failed(what, exc)
            return None

    def failed(self, what: str, error: UpstreamError) -> None:
        self.warn(f"{what} unavailable: {error.source} {error.kind} ({error.message})")

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def sources(self) -> list[SourceRef]:
        return list(self._sources.values())


def rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)
