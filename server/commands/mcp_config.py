"""`windvane mcp-config CLIENT`: the client configuration that starts this very windvane, ready to paste.

It names the launcher by its absolute path (an isolated install's `windvane` is rarely on the PATH a desktop
client sees), or this interpreter with `-m windvane` when started that way. No keys in it: keys are optional, and a
key is never printed; the README says where each client takes one.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.settings import Settings

NAME = "mcp-config"
HELP = "print the config that makes an MCP client start this windvane (claude-desktop, claude-code, vscode)"
CLIENTS = ("claude-desktop", "claude-code", "vscode")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("client", choices=CLIENTS)


def launcher(argv0: str = "", executable: str = "") -> list[str]:
    """The command that starts this windvane: the console script by its absolute path (symlinks kept, so a
    `uv tool` or `pipx` link survives upgrades), else `<python> -m windvane`."""
    argv0 = argv0 or sys.argv[0]
    if Path(argv0).name in ("windvane", "windvane.exe"):
        return [os.path.abspath(argv0)]
    return [executable or sys.executable, "-m", "windvane"]


def render(client: str, command: list[str]) -> str:
    program, args = command[0], [*command[1:], "serve"]
    if client == "claude-desktop":
        return json.dumps({"mcpServers": {"windvane": {"command": program, "args": args}}}, indent=2)
    if client == "vscode":
        return json.dumps({"servers": {"windvane": {"type": "stdio", "command": program, "args": args}}}, indent=2)
    return shlex.join(["claude", "mcp", "add", "windvane", "--", program, *args])


def run(args: argparse.Namespace, settings: Settings) -> int:
    print(render(args.client, launcher()))
    return 0
