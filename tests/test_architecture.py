"""The layering and size rules of the codebase, checked on the source itself (ast, no imports).

    server -> tools (tool packages -> tools.history -> tools kernel) -> {fetchers, store}; schemas shared.

Nothing imports upward; fetchers only talk to upstreams (never the store); no function grows past 80 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "tools", "schemas", "fetchers", "store")
MAX_FUNCTION_LINES = 80
# The tool packages: they may use the history layer and the kernel; only the assessment composes other tools.
TOOL_PACKAGES = ("premium", "etf", "reserves", "leverage", "macro", "assess")
KERNEL = ("args", "deps", "detail", "errors", "numbers", "point_in_time", "provenance", "streaks", "venues")


def modules() -> list[tuple[str, Path]]:
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            out.append((name, path))
    return out


def imports(path: Path) -> set[str]:
    """Every module this file imports from our packages, at any depth (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PACKAGES}


def allowed(importer: str, imported: str) -> bool:
    top, parts = imported.split(".")[0], imported.split(".")
    layer = importer.split(".")
    if layer[0] == "schemas":
        return top == "schemas"
    if layer[0] == "store":
        return top in ("store", "schemas")
    if layer[0] == "fetchers":
        return top in ("fetchers", "schemas")
    if layer[0] == "server":
        return True
    # tools: nothing from server; the registry lists the tools; the kernel and history stay below the tools
    if top == "server":
        return False
    if layer[:2] == ["tools", "registry"] or top != "tools" or len(parts) < 2:
        return True
    below_tools = (len(layer) == 2 and layer[1] in KERNEL) or layer[:2] == ["tools", "history"]
    if below_tools:
        return parts[1] in KERNEL or parts[1] == "history"
    if len(layer) >= 2 and layer[1] in TOOL_PACKAGES and layer[1] != "assess":
        return parts[1] in KERNEL or parts[1] in ("history", "registry", layer[1])
    return True


def test_nothing_is_imported_upward() -> None:
    violations = [
        f"{importer} imports {imported}"
        for importer, path in modules()
        for imported in sorted(imports(path))
        if not allowed(importer, imported)
    ]
    assert violations == []


def test_fetchers_never_touch_the_store() -> None:
    offenders = [name for name, path in modules() if name.startswith("fetchers") and any(
        i.startswith("store") for i in imports(path)
    )]  # fmt: skip
    assert offenders == []


@pytest.mark.parametrize("package", ["server", "tools", "fetchers", "store"])
def test_no_function_is_longer_than_80_lines(package: str) -> None:
    long = []
    for name, path in modules():
        if not name.startswith(package):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert long == []


def test_untyped_dicts_stay_rare_in_tools_and_server() -> None:
    # JSON documents (schemas, wire messages) are untyped by nature; anything else gets a model or a dataclass.
    hits = [
        f"{path.relative_to(ROOT)}:{i}"
        for package in ("tools", "server")
        for path in sorted((ROOT / package).rglob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), start=1)
        if "dict[str, Any]" in line
    ]
    assert len(hits) <= 2, hits


def test_every_tool_takes_as_of() -> None:
    # The server's handler parses every call's as_of into its PointInTime (server/tool_handlers.py).
    from tools.registry import tool_specs

    assert all("as_of" in spec.args.model_fields for spec in tool_specs())
