"""Bitcoin tip height from mempool.space, with blockstream.info (same Esplora API) as fallback.

GET /api/blocks/tip/height returns the height as plain text, e.g. `924310`. Anything else (HTML, JSON, a negative or
implausibly low number) is drift and raises BadPayloadError.
"""

from __future__ import annotations

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http

SOURCE = "mempool"
FALLBACK_SOURCE = "blockstream"
# The 840,000th block was mined in April 2024; a lower tip means a wrong or lagging node.
MIN_PLAUSIBLE_HEIGHT = 840_000


def parse_tip_height(response: httpx.Response, source: str = SOURCE) -> int:
    text = response.text.strip()
    if not text.isdigit():
        raise BadPayloadError(source, f"expected a plain-text block height, got {text[:40]!r}")
    height = int(text)
    if height < MIN_PLAUSIBLE_HEIGHT:
        raise BadPayloadError(source, f"tip height {height} is below {MIN_PLAUSIBLE_HEIGHT}")
    return height


async def fetch_tip_height(http: Http, source: str = SOURCE) -> Fetched[int]:
    """`source` is `mempool` or `blockstream`: both serve the Esplora path."""
    return await http.get(source, "/api/blocks/tip/height", lambda r: parse_tip_height(r, source), ttl_s=60.0)
