"""`windvane serve` run by hand: a one-line banner on a terminal (nothing otherwise), and one SIGINT or SIGTERM ends
it with exit 0 and no traceback, over stdio and over HTTP.

The 2-second wait is the behaviour asked of the command (one Ctrl-C ends it at once), not a speed measurement: a
server still running after it has ignored the signal.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from server.version import version
from tests.e2e.harness import free_port, windvane_command, windvane_env
from tests.test_stdio_subprocess import StdioPeer

pytestmark = pytest.mark.slow

STOP_WITHIN_S = 2.0
CLOSED = "http://127.0.0.1:9"  # no upstream is contacted here; a closed port keeps it off the network regardless
INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "pytest", "version": "0"}}


@contextmanager
def stdio_server(env: dict[str, str], stderr: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([*windvane_command(), "serve"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=stderr)  # fmt: skip
    peer = StdioPeer(proc)
    try:
        peer.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
        peer.response(1)  # serving: the stdin reader is blocked in its thread now
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        peer.close()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


@contextmanager
def http_server(env: dict[str, str], stderr: int) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen([*windvane_command(), "serve", "--transport", "http", "--port", str(port)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
    try:
        deadline = time.monotonic() + 60  # hang guard for a loaded machine, not a speed check
        while True:
            assert proc.poll() is None, f"windvane exited with {proc.returncode} before serving"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "windvane did not answer /healthz"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


SERVERS = {"stdio": stdio_server, "http": http_server}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_one_signal_stops_the_server_at_once_with_exit_0(transport: str, signum: int, tmp_path: Path) -> None:
    env = windvane_env(CLOSED, tmp_path / "store.sqlite3")
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr, SERVERS[transport](env, stderr.fileno()) as proc:
        proc.send_signal(signum)
        try:
            code = proc.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOP_WITHIN_S} s after one {signal.Signals(signum).name}")
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text
    assert "KeyboardInterrupt" not in text


def read_until_banner(fd: int) -> list[str]:
    """Complete lines written to the terminal, up to and including the banner (log lines may come first)."""
    out = b""
    deadline = time.monotonic() + 60  # hang guard
    while time.monotonic() < deadline:
        complete = out.decode(errors="replace").split("\n")[:-1]
        if any(line.startswith("windvane ") for line in complete):
            return complete
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            out += os.read(fd, 4096)
    return out.decode(errors="replace").split("\n")


@pytest.mark.parametrize(
    ("transport", "start"),
    [("stdio", "MCP server on stdio, store "), ("http", "MCP on http://127.0.0.1:")],
)
def test_a_terminal_gets_a_one_line_banner(transport: str, start: str, tmp_path: Path) -> None:
    env = windvane_env(CLOSED, tmp_path / "store.sqlite3", {"WINDVANE_LOG_FORMAT": "json"})
    master, terminal = pty.openpty()
    try:
        with SERVERS[transport](env, terminal) as proc:
            os.close(terminal)
            terminal = -1
            lines = read_until_banner(master)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=STOP_WITHIN_S)
    finally:
        os.close(master)
        if terminal >= 0:
            os.close(terminal)
    banner = next(line for line in lines if line.startswith("windvane "))
    assert banner.startswith(f"windvane {version()}: {start}")
    assert banner.rstrip().endswith("Ctrl-C stops it.")
    assert str(tmp_path / "store.sqlite3") in banner


def test_no_banner_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    env = windvane_env(CLOSED, tmp_path / "store.sqlite3")
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr, stdio_server(env, stderr.fileno()) as proc:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=STOP_WITHIN_S)
    assert log.read_text() == ""
