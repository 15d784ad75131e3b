"""A fake of every upstream, serving real shared data in each API's exact format.

One `FakeUpstream` routes `http://fake.test/<source>/<real api path>` to a per-source handler, records every
request, and can inject faults per source. Tests use it through httpx.MockTransport; the e2e runs serve the same
handlers on loopback (tests/fakes/serve.py), with WINDVANE_<SOURCE>_BASE_URL pointing at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Handler = Callable[[httpx.Request, str], httpx.Response]
FAKE_BASE = "http://fake.test"


@dataclass
class FakeUpstream:
    handlers: dict[str, Handler] = field(default_factory=dict)
    faults: dict[str, Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        _, source, *rest = request.url.path.split("/", 2)
        path = "/" + (rest[0] if rest else "")
        if source in self.faults:
            return self.faults[source](request, path)
        handler = self.handlers.get(source)
        if handler is None:
            return httpx.Response(404, json={"error": f"fake has no handler for {source}"})
        return handler(request, path)

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        return self.handle(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def count(self, source: str, path_contains: str = "") -> int:
        prefix = f"/{source}/"
        return sum(1 for r in self.requests if r.url.path.startswith(prefix) and path_contains in r.url.path)


def base_urls(sources: list[str], base: str = FAKE_BASE) -> dict[str, str]:
    return {s: f"{base}/{s}" for s in sources}


def default_fake() -> FakeUpstream:
    """Every handler the fakes know: each module in tests/fakes/ with a `register(fake)` function adds its own."""
    import importlib
    import pkgutil

    import tests.fakes as package

    fake = FakeUpstream()
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"tests.fakes.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(fake)
    return fake
