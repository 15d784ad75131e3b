"""Slow HTTP clients: how long each is held, and a normal call's latency with them attached vs without.

    python bench/slow_clients.py [--slow 20] [--calls 200] [--limit 2]

A real `windvane serve --transport http` on 127.0.0.1 with header and body limits of `--limit` seconds. Half the slow
clients trickle a header byte every 0.2 s, half send their headers and then stall their body; each reconnects as soon
as it is cut off. Warm get_coinbase_premium calls alternate in rounds between "slow clients attached" and "none", so
machine load hits both alike. Reports p50/p95 of both and how long the server held each slow connection.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import tempfile
import threading
import time
from pathlib import Path

import _support as S
import httpx

logging.disable(logging.WARNING)
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
ROUNDS = 4


def slow_client(port: int, stall_body: bool, stop: threading.Event, held: list[float]) -> None:
    while not stop.is_set():
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        started = time.monotonic()
        try:
            if stall_body:
                sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{")
                while sock.recv(65536):  # the 408, then the close
                    pass
            else:
                sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                while not stop.is_set():
                    sock.sendall(b"X")
                    time.sleep(0.2)
        except OSError:
            pass
        finally:
            if not stop.is_set():
                held.append(time.monotonic() - started)
            sock.close()


def calls(url: str, body: bytes, n: int) -> list[float]:
    out = []
    with httpx.Client(timeout=60) as client:
        for _ in range(n):
            started = time.perf_counter()
            response = client.post(url, content=body, headers=HEADERS)
            out.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text[:200]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--limit", type=float, default=2.0)
    args = parser.parse_args()
    from tests.e2e.harness import fake_upstream, windvane_http

    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    body = json.dumps({**call, "params": {"name": "get_coinbase_premium", "arguments": S.WARM_ARGS}}).encode()
    with tempfile.TemporaryDirectory() as tmp, fake_upstream() as fake_url:
        env = S.windvane_env(fake_url, Path(tmp))
        env |= {"WINDVANE_HTTP_HEADER_TIMEOUT_S": str(args.limit), "WINDVANE_HTTP_BODY_TIMEOUT_S": str(args.limit)}
        with windvane_http(env, log_path=Path(tmp) / "server.log") as base:
            url, port = f"{base}/mcp", int(base.rsplit(":", 1)[1])
            calls(url, body, 5)  # warm the cache
            quiet: list[float] = []
            loaded: list[float] = []
            held: list[float] = []
            for _ in range(ROUNDS):
                quiet += calls(url, body, args.calls // ROUNDS)
                stop = threading.Event()
                slow = [
                    threading.Thread(target=slow_client, args=(port, i % 2 == 1, stop, held), daemon=True)
                    for i in range(args.slow)
                ]
                for thread in slow:
                    thread.start()
                time.sleep(0.5)  # attached and trickling
                loaded += calls(url, body, args.calls // ROUNDS)
                time.sleep(args.limit * 1.5)  # long enough for every slow client to be cut off at least once
                stop.set()
                for thread in slow:
                    thread.join(timeout=args.limit * 3)
    print(f"slow HTTP clients, limits {args.limit:g} s; {S.machine()}; {S.stamp()}")
    print(f"  {'':40} {'p50':>12} {'p95':>12}")
    for name, values in ((f"warm call, {args.slow} slow clients attached", loaded), ("warm call, none", quiet)):
        print(f"  {name:40} {S.ms(S.pct(values, 50)):>12} {S.ms(S.pct(values, 95)):>12}")
    print(
        f"  ratio attached / none: p50 {S.pct(loaded, 50) / S.pct(quiet, 50):.2f}x, p95 "
        f"{S.pct(loaded, 95) / S.pct(quiet, 95):.2f}x"
    )
    print(f"  slow connections cut off: {len(held)}, held {min(held):.2f}-{max(held):.2f} s (limit {args.limit:g} s)")


if __name__ == "__main__":
    main()
