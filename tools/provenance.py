"""Provenance: the sources and warnings a tool call collects while it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fetchers.call_context import Reachability
from fetchers.errors import NotConfiguredError, UpstreamError
from fetchers.http import Fetched
from schemas.common import SourceRef

T = TypeVar("T")


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


NO_ROUTE = "no route to the upstreams from this host"


def _connection_failure(warning: str) -> bool:
    return " unreachable (" in warning or ": unreachable: " in warning


def with_no_route(warnings: list[str], reachability: Reachability) -> list[str]:
    """When no source answered at all, one warning that says what to do replaces one per failed connection."""
    if not reachability.no_route():
        return warnings
    tried = ", ".join(f"{source} ({why})" for source, why in sorted(reachability.unreachable.items()))
    line = (
        f"{NO_ROUTE}: no source could be connected to ({tried}). Check this host's network access; behind a proxy, "
        "set HTTPS_PROXY; or point WINDVANE_<SOURCE>_BASE_URL at a reachable mirror (e.g. WINDVANE_COINBASE_BASE_URL)"
    )
    return [line, *(w for w in warnings if not _connection_failure(w))]
