"""The container image, tested without a container runtime: the Dockerfile is parsed, and the exact command its
ENTRYPOINT + CMD run is started here with the environment the image sets; its HEALTHCHECK command must then pass
against /healthz, the token must guard /mcp, SIGTERM (`docker stop`) must end it with 0, and without a token the
same command must refuse to bind 0.0.0.0.

Two substitutions, both forced by running outside the image: the port (a free one instead of 8000, in the command
and the health check alike) and the /data volume (a temporary directory). Upstream base URLs point at a closed
loopback port, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import REPO, free_port, windvane_command
from tests.fakes.serve import env_for

pytestmark = pytest.mark.slow

TOKEN = "c0ntainer-7e51b9d2a4f6083c5e1d7a9b2f4c6e80"  # strong enough for its 0.0.0.0 bind (32+ chars)
HANG_GUARD_S = 60


@dataclass
class Stage:
    base: str
    name: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    expose: list[str] = field(default_factory=list)
    instructions: list[tuple[str, str]] = field(default_factory=list)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with backslash continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages(text: str) -> list[Stage]:
    found: list[Stage] = []
    for word, rest in instructions(text):
        if word == "FROM":
            parts = rest.split()
            found.append(Stage(base=parts[0], name=parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None))
            continue
        stage = found[-1]
        stage.instructions.append((word, rest))
        if word == "ENV":
            for pair in rest.split():
                key, _, value = pair.partition("=")
                stage.env[key] = value
        elif word == "USER":
            stage.user = rest
        elif word == "EXPOSE":
            stage.expose += rest.split()
    return found


def exec_form(stage: Stage, word: str) -> list[str]:
    [args] = [rest for w, rest in stage.instructions if w == word]
    if word == "HEALTHCHECK":
        args = args[args.index("CMD") + len("CMD") :].strip()
    parsed = json.loads(args)  # exec form: a JSON array, no shell in between
    assert isinstance(parsed, list)
    return [str(a) for a in parsed]


@pytest.fixture(scope="module")
def image() -> Stage:
    return stages((REPO / "Dockerfile").read_text())[-1]


def test_a_small_multi_stage_build_running_as_a_non_root_user() -> None:
    all_stages = stages((REPO / "Dockerfile").read_text())
    builder, runtime = all_stages[0], all_stages[-1]
    assert len(all_stages) == 2
    assert builder.name == "builder"
    assert runtime.base.endswith("-slim")
    assert any(w == "COPY" and rest.startswith("--from=builder /wheels") for w, rest in runtime.instructions)
    assert runtime.user not in (None, "root", "0")
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)
    assert not {"server", "tools", "schemas", "fetchers", "store", "windvane.py", "README.md"} & set(ignored)


def test_the_health_check_asks_healthz_on_the_served_port(image: Stage) -> None:
    command = exec_form(image, "CMD")
    port = command[command.index("--port") + 1]
    assert image.expose == [port]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(exec_form(image, "HEALTHCHECK"))
    assert image.env["WINDVANE_DB_PATH"].startswith("/data/")


def image_command(image: Stage, port: int) -> tuple[list[str], list[str]]:
    """The image's server and health-check commands, on `port`, with this machine's windvane and python."""
    served = exec_form(image, "ENTRYPOINT") + exec_form(image, "CMD")
    assert served[0] == "windvane"
    served = windvane_command() + [str(port) if a == "8000" else a for a in served[1:]]
    health = [
        sys.executable if a == "python" else a.replace(":8000/", f":{port}/") for a in exec_form(image, "HEALTHCHECK")
    ]
    return served, health


def image_env(image: Stage, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINDVANE_")}
    env.update(image.env)
    env["WINDVANE_DB_PATH"] = str(tmp_path / "data" / Path(image.env["WINDVANE_DB_PATH"]).name)
    env.update(env_for("http://127.0.0.1:9"))
    env.update(extra)
    return env


def test_the_image_command_serves_passes_its_health_check_and_stops_on_sigterm(image: Stage, tmp_path: Path) -> None:
    port = free_port()
    served, health = image_command(image, port)
    # No background refresh: it would reach the closed upstream port and turn the body "degraded" at a moment
    # that depends on timing; this test is about the image's own command and health check.
    env = image_env(image, tmp_path, WINDVANE_HTTP_TOKEN=TOKEN, WINDVANE_REFRESH_EVERY_S="0")
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr_file:
        proc = subprocess.Popen(served, env=env, stdout=subprocess.DEVNULL, stderr=stderr_file)
    try:
        deadline = time.monotonic() + HANG_GUARD_S
        while subprocess.run(health, env=env, capture_output=True, timeout=HANG_GUARD_S, check=False).returncode:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz", timeout=5).json()["status"] == "up"
        assert httpx.post(f"{base}/mcp", json={}, timeout=5).status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = log.read_text()
    assert "Traceback" not in stderr
    assert TOKEN not in stderr


def test_the_image_command_refuses_0_0_0_0_without_a_token(image: Stage, tmp_path: Path) -> None:
    served, _ = image_command(image, free_port())
    done = subprocess.run(served, env=image_env(image, tmp_path), capture_output=True, text=True,
                          timeout=HANG_GUARD_S, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "refusing to serve HTTP on non-loopback address '0.0.0.0' without a token" in done.stderr
    assert "WINDVANE_HTTP_TOKEN" in done.stderr
