"""Layering extra routes onto one source's fake without replacing the handler another module registered."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.fakes import FakeUpstream, Handler

Route = Callable[[httpx.Request, str], httpx.Response | None]


def chain(fake: FakeUpstream, source: str, first: Route) -> None:
    """Put `first` in front of the source's existing handler: it answers its paths, the rest fall through."""
    previous: Handler | None = fake.handlers.get(source)

    def handler(request: httpx.Request, path: str) -> httpx.Response:
        got = first(request, path)
        if got is not None:
            return got
        if previous is not None:
            return previous(request, path)
        return httpx.Response(404, json={"error": f"fake {source} has no route for {path}"})

    fake.handlers[source] = handler
