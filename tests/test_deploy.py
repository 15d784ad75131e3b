"""deploy/: the compose file parses and wires what a fleet needs; haproxy accepts its config; the image copies
every package the project ships. (No container runtime here: the fleet itself runs in tests/test_fleet.py.)"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from server.settings import load_settings
from tests.e2e.harness import REPO
from tests.services import unavailable

DEPLOY = REPO / "deploy"
SECRETS = {"POSTGRES_PASSWORD": "pw-for-the-test", "WINDVANE_HTTP_TOKEN": "token-for-the-test"}


def compose() -> dict[str, Any]:
    text = (DEPLOY / "compose.yaml").read_text()

    def substitute(match: re.Match[str]) -> str:  # ${NAME:?message} and ${NAME:-default}, as compose does
        name, op, rest = match.group(1), match.group(2), match.group(3)
        return SECRETS.get(name, rest if op == ":-" else "")

    return dict(yaml.safe_load(re.sub(r"\$\{(\w+)(:\?|:-)([^}]*)\}", substitute, text)))


def test_three_replicas_a_collector_pair_redis_postgres_and_a_balancer() -> None:
    services = compose()["services"]
    serving = sorted(n for n, s in services.items() if s.get("command", [])[:2] == ["windvane", "serve"])
    collecting = sorted(n for n, s in services.items() if s.get("command", [])[:2] == ["windvane", "collect"])
    assert serving == ["windvane-1", "windvane-2", "windvane-3"]
    assert len(collecting) == 2
    assert services["redis"]["image"].startswith("redis:")
    assert services["postgres"]["image"].startswith("postgres:")
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in services["haproxy"]["volumes"]
    for name in serving + collecting:
        settings = load_settings(services[name]["environment"])  # every variable as windvane reads it
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.database_url is not None
        assert settings.database_url.endswith("@postgres:5432/windvane")
        assert settings.http_token == SECRETS["WINDVANE_HTTP_TOKEN"]
        assert settings.fleet


def test_haproxy_balances_over_exactly_the_serving_replicas() -> None:
    servers = [
        line.split()[1:3]
        for line in (DEPLOY / "haproxy.cfg").read_text().splitlines()
        if line.strip().startswith("server ")
    ]
    assert servers == [[f"windvane-{i}", f"windvane-{i}:8000"] for i in (1, 2, 3)]
    assert "balance roundrobin" in (DEPLOY / "haproxy.cfg").read_text()


def test_haproxy_accepts_the_config(tmp_path: Path) -> None:
    import shutil

    from tests.test_fleet import haproxy_config

    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        unavailable("haproxy", "haproxy is not installed")
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(8000, [8001, 8002, 8003]))  # the service names resolve only inside compose
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_image_copies_every_package_the_project_ships() -> None:
    include = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) ", dockerfile, flags=re.M))
    assert {p.rstrip("*") for p in include} <= copied
    assert "'.[fleet]'" in dockerfile


@pytest.mark.parametrize("name", ["compose.yaml", "env.example"])
def test_no_secret_is_committed(name: str) -> None:
    text = (DEPLOY / name).read_text()
    assert "change-me" in text or "${" in text
    assert not re.search(r"(PASSWORD|TOKEN)=(?!change-me)\S{8,}", text)
