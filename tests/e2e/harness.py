"""Real processes on loopback: the fake upstream and windvane, wired through WINDVANE_<SOURCE>_BASE_URL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fakes.serve import env_for

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def windvane_command() -> list[str]:
    """The installed console script beside this interpreter (what users run), else `python -m windvane`."""
    script = Path(sys.executable).parent / "windvane"
    if script.exists():
        return [str(script)]
    found = shutil.which("windvane")
    return [found] if found else [sys.executable, "-m", "windvane"]


@contextmanager
def fake_upstream() -> Iterator[str]:
    """Start `python -m tests.fakes.serve --port 0`; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.serve", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"fake upstream did not start (said {url!r})")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def windvane_env(fake_url: str, db_path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Only what windvane needs: base URLs at the fake, a throwaway store; no inherited WINDVANE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINDVANE_")}
    env.update(env_for(fake_url))
    env["WINDVANE_DB_PATH"] = str(db_path)
    env.update(extra or {})
    return env


@contextmanager
def windvane_http(
    env: Mapping[str, str], *, port: int | None = None, host: str = "127.0.0.1", log_path: Path | None = None
) -> Iterator[str]:
    """Start `windvane serve --transport http`; yields the base URL once GET /healthz answers."""
    port = port or free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [*windvane_command(), "serve", "--transport", "http", "--host", host, "--port", str(port)],
        env=dict(env),
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"windvane exited with {proc.returncode} before serving")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("windvane did not answer /healthz within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_path and log is not subprocess.DEVNULL:
            log.close()  # type: ignore[union-attr]
