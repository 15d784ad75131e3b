"""Redaction cost: a warm get_coinbase_premium with five configured secrets against the same call with none.

    python bench/redaction.py [--calls 300]

With secrets configured, every result is serialized once and searched for every form of every secret before it
leaves (server/tool_handlers.masked), and every log line is masked. Both servers run in memory on the same fake
upstream, interleaved call by call, so machine load hits both alike. Also: one Redactor pass over that result's JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import _support as S
import anyio
from warm_call import interleaved

logging.disable(logging.WARNING)

SECRETS = {
    "coinglass": "cg-5f1e9a7c3b2d4e6f8a0b1c2d",
    "sosovalue": "soso-0a1b2c3d4e5f6a7b8c9d",
    "cryptoquant": "cq-9f8e7d6c5b4a3f2e1d0c",
    "fred": "0123456789abcdef0123456789abcdef",
}
TOKEN = "9f2c41d7e0b85a36c1f4e29d07ab58c3e6d1f20a4b79c85e3d06a1f7b2c94e58"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls

    from fetchers.redact import Redactor
    from server.app import build_server
    from tests.conftest import make_settings
    from tests.fakes import default_fake

    fake = default_fake()
    with tempfile.TemporaryDirectory() as tmp:
        plain = make_settings(Path(tmp) / "plain")
        keyed = replace(make_settings(Path(tmp) / "keyed"), api_keys=SECRETS, http_token=TOKEN)
        targets = [
            (build_server(settings, transport=fake.transport()), "get_coinbase_premium", S.WARM_ARGS)
            for settings in (keyed, plain)
        ]
        (with_secrets, without), (result, _) = anyio.run(interleaved, targets, calls, lambda: len(fake.requests))
    text = json.dumps(result)
    redactor = Redactor([*SECRETS.values(), TOKEN])
    started = time.perf_counter()
    for _ in range(1000):
        redactor.found_in(text)
    scan = (time.perf_counter() - started) / 1000

    print(f"redaction cost, {calls} warm calls each; {S.stamp()}")
    print(f"  {'':34} {'p50':>12} {'p95':>12}")
    for name, values in (("5 secrets configured", with_secrets), ("no secrets", without)):
        print(f"  {name:34} {S.ms(S.pct(values, 50)):>12} {S.ms(S.pct(values, 95)):>12}")
    print(
        f"  ratio with / without: p50 {S.pct(with_secrets, 50) / S.pct(without, 50):.2f}x, "
        f"p95 {S.pct(with_secrets, 95) / S.pct(without, 95):.2f}x"
    )
    print(f"  one scan of the {len(text):,}-character result for {len(redactor.secrets)} secrets: {S.ms(scan)}")


if __name__ == "__main__":
    main()
