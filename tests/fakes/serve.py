"""Serve the fake upstream on loopback, for end-to-end runs of a real windvane process.

    python -m tests.fakes.serve --port 0        # prints "http://127.0.0.1:<port>" on stdout once listening

Point windvane at it with WINDVANE_<SOURCE>_BASE_URL=http://127.0.0.1:<port>/<source> (see `env_for`). Requests go to
the same handlers the in-memory tests use (`default_fake()`), so the same real payloads come back in each API's exact
format. GET /_fake/requests returns the request count per source (benchmarks read it for single-flight checks);
GET /_fake/requests?by=endpoint the count per endpoint (path and query, the way windvane's cache keys them).
Loopback only: it refuses any other bind address.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.fakes import FakeUpstream, default_fake

COUNTS_PATH = "/_fake/requests"


def env_for(base: str, sources: list[str] | None = None) -> dict[str, str]:
    """WINDVANE_<SOURCE>_BASE_URL for every known source, all pointing at the fake at `base`."""
    from server.settings import DEFAULT_BASE_URLS

    return {f"WINDVANE_{s.upper()}_BASE_URL": f"{base}/{s}" for s in sources or list(DEFAULT_BASE_URLS)}


def endpoint(request: httpx.Request) -> str:
    """One endpoint: the path and its sorted query (the same request asked again is the same endpoint)."""
    query = "&".join(f"{k}={v}" for k, v in sorted(request.url.params.multi_items()))
    return f"{request.method} {request.url.path}?{query}"


def make_handler(fake: FakeUpstream, delay_s: float = 0.0) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.split("?")[0] == COUNTS_PATH:
                with lock:
                    if self.path.endswith("by=endpoint"):
                        counts = Counter(endpoint(r) for r in fake.requests)
                    else:
                        counts = Counter(r.url.path.split("/", 2)[1] for r in fake.requests)
                self._reply(200, {"content-type": "application/json"}, json.dumps(counts).encode())
                return
            request = httpx.Request(
                self.command,
                f"http://{self.headers.get('Host', 'fake')}{self.path}",
                headers=dict(self.headers),
                content=body,
            )
            if delay_s:
                time.sleep(delay_s)  # a distant upstream: each request waits, in its own thread
            with lock:  # handlers and the request log are shared state
                response = fake.handle(request)
            self._reply(response.status_code, response.headers, response.read())

        def _reply(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the e2e output is the checks, not the fake's access log

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a cold assessment opens ~30 connections at once, the kernel drops
    # the SYNs past the backlog and the client resends them only after 1 s, a stall no real upstream has.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hung up mid-response (windvane cancelling a request it no longer needs) is not an error
        # of the fake; anything else still prints its traceback.
        if not isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def start(port: int = 0, fake: FakeUpstream | None = None) -> ThreadingHTTPServer:
    """A running fake upstream on 127.0.0.1 (in a daemon thread); `server.server_address[1]` is its port."""
    server = QuietServer(("127.0.0.1", port), make_handler(fake or default_fake()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="wait this long before each answer")
    args = parser.parse_args()
    server = QuietServer(("127.0.0.1", args.port), make_handler(default_fake(), args.delay_ms / 1000))
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
