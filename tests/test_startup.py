"""Start-up stays cheap: `windvane --help` loads no SDK, no HTTP stack, no tool."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.e2e.harness import REPO

HEAVY = ("mcp", "httpx", "pydantic", "starlette", "uvicorn", "tools", "fetchers")


def test_help_imports_nothing_heavy() -> None:
    probe = (
        "import json, sys, contextlib, io\n"
        "from server.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert json.loads(out) == []


def test_health_report_says_starting_before_the_lifespan_opens() -> None:
    from server.status import health_report

    code, body = health_report([])
    assert (code, body.model_dump()) == (503, {"status": "starting", "upstreams": {}})
