"""Shared helpers for the benchmarks: timing statistics, the no-op baseline server, spawning processes.

Not part of the test suite. Every benchmark runs against the loopback/in-memory fake upstream (real shared data),
never the network, and reports a ratio against a baseline measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from statistics import quantiles
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

WARM_ARGS = {"as_of": "2025-11-24", "days": 30}


def pct(values: Sequence[float], q: int) -> float:
    """The q-th percentile (1..99), inclusive method: stable for a few hundred samples."""
    return quantiles(values, n=100, method="inclusive")[q - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpus} cores {model}, Python {platform.python_version()}"


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def build_noop_server() -> Any:
    """The baseline: the same SDK, one tool that does nothing (bench/noop_server.py)."""
    sys.path.insert(0, str(REPO / "bench"))
    import noop_server

    return noop_server.mcp


def windvane_env(fake_url: str, tmp: Path) -> dict[str, str]:
    from tests.e2e.harness import windvane_env as env

    return env(fake_url, tmp / "bench.sqlite3")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class StdioPeer:
    """Newline-delimited JSON-RPC with a spawned stdio server."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.stdout, selectors.EVENT_READ)
        self.next_id = 0
        self.last_line = b""

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        self.stdin.write(json.dumps(message).encode() + b"\n")
        self.stdin.flush()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not self.sel.select(timeout=1):
                continue
            line = self.stdout.readline()
            if not line:
                raise RuntimeError("server closed stdout")
            reply = json.loads(line)
            if reply.get("id") == self.next_id:
                self.last_line = line
                return dict(reply)
        raise RuntimeError(f"no reply to {method}")

    def notify(self, method: str) -> None:
        self.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}).encode() + b"\n")
        self.stdin.flush()

    def initialize(self) -> dict[str, Any]:
        reply = self.request(
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
        )
        self.notify("notifications/initialized")
        return reply

    def close(self) -> None:
        self.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stdout.close()
        self.sel.close()
