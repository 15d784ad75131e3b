"""How long a cold exchange_reserve_trend call takes on the fake upstream, and how many requests it makes.

Cold = an empty history store and an empty cache. Keyless, the tool reads ten DefiLlama CEX pages (one request
each, streamed; tests/fakes/defillama.py); before that change it read ~441 labelled wallets on Esplora. Every
response is delayed `--latency-ms`, so the figure reflects the request pattern, not this machine's speed.
`--pad-tokens N` pads each page's Ethereum chain with N extra tokens per day, to approach the size of the real
Binance page (tens of MB) and show that the parser stops reading after the Bitcoin chain. Run from the repository
root:
    python -m bench.bench_reserves --latency-ms 150 [--as-of 2025-11-24] [--pad-tokens 60]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import anyio
import httpx


def pad_pages(tokens: int) -> int:
    """Serve every fake page with `tokens` extra Ethereum tokens; returns the Binance page's size in bytes."""
    import tests.fakes.defillama as pages

    bodies = {
        slug: json.dumps(pages.payload(slug, extra_ethereum_tokens=tokens), separators=(",", ":")).encode()
        for slug in pages.PAGES
    }
    pages.body = bodies.__getitem__  # type: ignore[assignment]
    return len(bodies["binance-cex"])


async def run(latency_s: float, as_of: str | None) -> None:
    from mcp import Client

    from server.app import build_server
    from tests.conftest import FROZEN_NOW, make_settings
    from tests.fakes import default_fake

    fake = default_fake()

    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(latency_s)
        return fake.handle(request)

    settings = make_settings(Path(tempfile.mkdtemp()))
    server = build_server(settings, transport=httpx.MockTransport(slow), clock=lambda: FROZEN_NOW)
    args = {} if as_of is None else {"as_of": as_of}
    async with Client(server) as client:  # type: ignore[arg-type]
        for label in ("cold", "warm (cached)"):
            before = len(fake.requests)
            start = time.perf_counter()
            result = await client.call_tool("exchange_reserve_trend", args)
            elapsed = time.perf_counter() - start
            assert not result.is_error, result.content
            by_source: dict[str, int] = {}
            for r in fake.requests[before:]:
                source = r.url.path.split("/")[1]
                by_source[source] = by_source.get(source, 0) + 1
            print(f"{label:14s} {elapsed:7.2f} s  {len(fake.requests) - before:4d} upstream requests {by_source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--as-of", default=None)
    parser.add_argument("--pad-tokens", type=int, default=0)
    args = parser.parse_args()
    if args.pad_tokens:
        print(f"Binance page padded to {pad_pages(args.pad_tokens) / 1e6:.1f} MB")
    anyio.run(run, args.latency_ms / 1000, args.as_of)


if __name__ == "__main__":
    main()
