"""`windvane mcp-config`: what it prints is a config a client can use as is: an absolute launcher that starts a
working stdio server, no placeholder keys."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from server.commands.mcp_config import launcher, render
from tests.e2e.harness import windvane_command, windvane_env
from tests.test_install import list_tools

pytestmark = pytest.mark.slow


def printed(client: str, tmp_path: Path) -> str:
    done = subprocess.run([*windvane_command(), "mcp-config", client], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    return done.stdout


@pytest.mark.parametrize("client", ["claude-desktop", "vscode"])
def test_the_printed_json_config_starts_a_working_server(client: str, tmp_path: Path) -> None:
    config = json.loads(printed(client, tmp_path))
    entry = config["mcpServers" if client == "claude-desktop" else "servers"]["windvane"]
    assert Path(entry["command"]).is_absolute()
    assert "env" not in entry  # no placeholder keys: keyless is the default
    env = windvane_env("http://127.0.0.1:9", tmp_path / "store.sqlite3")
    names = list_tools([entry["command"], *entry["args"]], tmp_path, env)
    assert "get_coinbase_premium" in names


def test_the_claude_code_line_adds_the_same_command(tmp_path: Path) -> None:
    words = shlex.split(printed("claude-code", tmp_path))
    assert words[:5] == ["claude", "mcp", "add", "windvane", "--"]
    assert words[-1] == "serve"
    assert Path(words[5]).is_absolute()
    assert Path(words[5]).exists()


def test_the_launcher_is_the_console_script_or_python_m() -> None:
    assert launcher("/home/me/.local/bin/windvane") == ["/home/me/.local/bin/windvane"]
    assert launcher("/x/windvane.py", "/usr/bin/python3") == ["/usr/bin/python3", "-m", "windvane"]
    assert (
        render("claude-code", ["/opt/my tools/windvane"]) == "claude mcp add windvane -- '/opt/my tools/windvane' serve"
    )
