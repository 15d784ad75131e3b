"""Fake mempool.space and blockstream.info: GET /api/blocks/tip/height as plain text.

`TIP` is a test input (a height in the 2025 range), not a recorded chain tip.
"""

from __future__ import annotations

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.routing import chain

TIP = {"height": 925_000}


def tip_height(request: httpx.Request, path: str) -> httpx.Response | None:
    if path == "/api/blocks/tip/height":
        return httpx.Response(200, text=str(TIP["height"]), headers={"content-type": "text/plain"})
    return None


def esplora(request: httpx.Request, path: str) -> httpx.Response:
    return tip_height(request, path) or httpx.Response(404, text="Not Found")


def register(fake: FakeUpstream) -> None:
    # The address endpoints of the same hosts are served by tests/fakes/esplora.py: layer, don't replace.
    chain(fake, "mempool", tip_height)
    chain(fake, "blockstream", tip_height)
