"""Fake mempool.space and blockstream.info: GET /api/blocks/tip/height as plain text.

`TIP` is a test input (a height in the 2025 range), not a recorded chain tip.
"""

from __future__ import annotations

import httpx

from tests.fakes import FakeUpstream

TIP = {"height": 925_000}


def esplora(request: httpx.Request, path: str) -> httpx.Response:
    if path == "/api/blocks/tip/height":
        return httpx.Response(200, text=str(TIP["height"]), headers={"content-type": "text/plain"})
    return httpx.Response(404, text="Not Found")


def register(fake: FakeUpstream) -> None:
    fake.handlers.update(mempool=esplora, blockstream=esplora)
