"""HTTP: warm-call throughput with 50 concurrent clients against a no-op baseline (goal >= 0.8x), and RSS before and
after a soak (goal < 10% growth).

    python bench/http_load.py [--clients 50] [--seconds 20] [--soak-seconds 600]

Both servers are real processes on 127.0.0.1: `windvane serve --transport http` (stateless, upstreams on the
loopback fake) and bench/noop_server.py --http (same SDK, same stateless Streamable HTTP). The load generator is one
asyncio process with `--clients` concurrent callers, each sending tools/call one after another. Throughput phases
alternate between the two servers in rounds, so background load hits both alike. The soak then drives windvane
with calls cycling over 30 `as_of` dates plus "now" (which refreshes tickers, TTL 10 s, so upstream traffic goes on),
and reads the server's VmRSS after warm-up and at the end. All traffic stays on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import _support as S
import anyio
import httpx

logging.disable(logging.WARNING)
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
ROUNDS = 4


def call_body(args: dict[str, Any], name: str) -> bytes:
    msg = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}}
    return json.dumps(msg).encode()


def failure(response: httpx.Response) -> str | None:
    """None for a successful tool result, else why not."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:80]}"
    text = response.text
    data = [line[5:] for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
    try:
        payload = json.loads(data[-1] if data else text)
    except (json.JSONDecodeError, IndexError):
        return f"unparsable body: {text[:80]!r}"
    if "result" not in payload:
        return f"JSON-RPC error: {str(payload.get('error'))[:80]}"
    if payload["result"].get("isError") is not False:
        return f"tool error: {str(payload['result'].get('content'))[:120]}"
    return None


errors: Counter[str] = Counter()


async def drive(url: str, bodies: list[bytes], clients: int, seconds: float) -> tuple[int, int]:
    """Calls completed and failed by `clients` concurrent callers in `seconds`."""
    done = failed = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        deadline = time.monotonic() + seconds
        cycle = itertools.cycle(bodies)

        async def caller() -> None:
            nonlocal done, failed
            while time.monotonic() < deadline:
                try:
                    response = await client.post(url, content=next(cycle), headers=HEADERS)
                except httpx.TransportError as exc:  # counted, not fatal: a dropped connection is a finding
                    errors[type(exc).__name__] += 1
                    failed += 1
                    continue
                why = failure(response)
                if why is None:
                    done += 1
                else:
                    errors[why] += 1
                    failed += 1

        async with anyio.create_task_group() as tg:
            for _ in range(clients):
                tg.start_soon(caller)
    return done, failed


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def server_pid(port: int) -> int:
    """The pid listening on 127.0.0.1:port (the windvane process the harness started)."""
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False).stdout
    marker = "pid="
    if marker not in out:
        raise RuntimeError(f"no listener found on port {port}: {out!r}")
    return int(out.split(marker, 1)[1].split(",", 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0, help="throughput time per server, over 4 rounds")
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    args = parser.parse_args()
    from tests.e2e.harness import fake_upstream, free_port, windvane_http

    windvane_body = [call_body(S.WARM_ARGS, "get_coinbase_premium")]
    noop_body = [call_body({}, "noop")]
    per_round = args.seconds / ROUNDS
    with tempfile.TemporaryDirectory() as tmp, fake_upstream() as fake_url:
        noop_port = free_port()
        noop = subprocess.Popen(
            [sys.executable, str(S.REPO / "bench" / "noop_server.py"), "--http", "--port", str(noop_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            env = S.windvane_env(fake_url, Path(tmp))
            env["WINDVANE_LOG_FORMAT"] = "json"
            with windvane_http(env, log_path=Path(tmp) / "server.log") as base:
                wv_url, noop_url = f"{base}/mcp", f"http://127.0.0.1:{noop_port}/mcp"
                wait_ready(f"http://127.0.0.1:{noop_port}/")
                anyio.run(drive, wv_url, windvane_body, 1, 0.5)  # warm the cache
                totals = {"windvane": [0, 0], "noop": [0, 0]}
                for _ in range(ROUNDS):
                    for name, url, bodies in (("windvane", wv_url, windvane_body), ("noop", noop_url, noop_body)):
                        done, failed = anyio.run(drive, url, bodies, args.clients, per_round)
                        totals[name][0] += done
                        totals[name][1] += failed
                wv_rate = totals["windvane"][0] / args.seconds
                noop_rate = totals["noop"][0] / args.seconds
                print(f"HTTP warm-call throughput, {args.clients} concurrent clients; {S.machine()}; {S.stamp()}")
                print(f"  windvane get_coinbase_premium  {wv_rate:8.1f} calls/s  (failed {totals['windvane'][1]})")
                print(f"  no-op (same SDK, stateless)    {noop_rate:8.1f} calls/s  (failed {totals['noop'][1]})")
                print(f"  ratio windvane / no-op: {wv_rate / noop_rate:.2f}x (goal >= 0.8x)")
                if errors:
                    print(f"  failures seen by the load generator: {dict(errors)}")
                    errors.clear()

                pid = server_pid(int(base.rsplit(":", 1)[1]))
                days = [(date(2025, 11, 24) - timedelta(days=i)).isoformat() for i in range(30)]
                soak_bodies = [call_body({"as_of": d, "days": 30}, "get_coinbase_premium") for d in days]
                soak_bodies.append(call_body({}, "get_coinbase_premium"))
                anyio.run(drive, wv_url, soak_bodies, args.clients, 10)  # warm every key before the first reading
                before = S.rss_kib(pid)
                done, failed = anyio.run(drive, wv_url, soak_bodies, args.clients, args.soak_seconds)
                after = S.rss_kib(pid)
                print(f"\nsoak: {args.soak_seconds:.0f} s, {done} calls ({failed} failed), 31 distinct argument sets")
                print(
                    f"  server RSS after warm-up {before / 1024:.1f} MiB, after soak {after / 1024:.1f} MiB: "
                    f"{100 * (after - before) / before:+.1f}% (goal < 10%)"
                )
                if errors:
                    print(f"  failures seen by the load generator: {dict(errors)}")
        finally:
            noop.terminate()
            noop.wait(timeout=10)


if __name__ == "__main__":
    main()
