"""One real stdio process: `python -m server serve` speaking newline-delimited JSON-RPC, upstreams on a loopback fake.

Raw lines, not an SDK client, so that anything on stdout other than protocol messages fails the test.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.e2e.harness import REPO, windvane_env
from tests.e2e.tool_examples import check_premium
from tests.fakes.serve import start

pytestmark = pytest.mark.slow

FAKE_KEY = "fake-coinglass-key-5d1e8b2a"
HANG_GUARD_S = 120  # not a speed assertion: only stops a hung process from hanging the suite


@pytest.fixture
def fake_url() -> Iterator[str]:
    server = start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class StdioPeer:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        self.proc = proc
        self.stdin: IO[bytes] = proc.stdin
        self.stdout: IO[bytes] = proc.stdout
        self.lines: list[bytes] = []
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.stdout, selectors.EVENT_READ)

    def close(self) -> None:
        self._sel.close()

    def send(self, message: dict[str, Any]) -> None:
        self.stdin.write(json.dumps(message).encode() + b"\n")
        self.stdin.flush()

    def response(self, id_: int) -> dict[str, Any]:
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            if not self._sel.select(timeout=1):
                assert self.proc.poll() is None, "server exited early"
                continue
            line = self.stdout.readline()
            assert line, "server closed stdout"
            self.lines.append(line)
            message = json.loads(line)  # every stdout line must be one JSON-RPC message
            if message.get("id") == id_:
                return dict(message)
        raise AssertionError(f"no response to request {id_}")


def test_stdio_process_lists_tools_and_computes_premium(fake_url: str, tmp_path: Path) -> None:
    env = windvane_env(fake_url, tmp_path / "store.sqlite3", {"WINDVANE_COINGLASS_API_KEY": FAKE_KEY})
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            cwd=tmp_path,  # not the repo: the package must import from its install path
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        peer = StdioPeer(proc)
        try:
            peer.send(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "pytest", "version": "0"},
                    },
                }
            )
            init = peer.response(1)
            peer.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            peer.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            tools = peer.response(2)["result"]["tools"]
            peer.send(
                {
                    "jsonrpc": "2.0",
                    "id": 3,
                    "method": "tools/call",
                    "params": {"name": "get_coinbase_premium", "arguments": {"as_of": "2025-11-24", "days": 30}},
                }
            )
            call = peer.response(3)["result"]
        finally:
            proc.stdin.close()  # type: ignore[union-attr]
            try:
                proc.wait(timeout=HANG_GUARD_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        rest = proc.stdout.read()  # type: ignore[union-attr]
        proc.stdout.close()  # type: ignore[union-attr]
        peer.close()
    assert init["result"]["serverInfo"]["name"] == "windvane"
    assert "get_coinbase_premium" in {t["name"] for t in tools}
    assert call["isError"] is False
    assert check_premium(call["structuredContent"]) == []
    assert call["structuredContent"]["current"]["coinbase_price"] == pytest.approx(88266.20)
    assert rest.strip() == b"", f"stray stdout after the protocol: {rest[:200]!r}"
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in peer.lines)
    everything = b"".join(peer.lines) + stderr_path.read_bytes()
    assert FAKE_KEY.encode() not in everything
