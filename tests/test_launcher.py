"""The launcher's checks on hand-made trees (the real installs are in test_install.py), `--version`, `python -m`."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

import windvane
from tests.e2e.harness import REPO
from windvane import PACKAGES, RecordedFile, _digest, damaged_or_merged, drop_foreign_working_directory, shadowed


def regular_spec(path: Path) -> ModuleSpec:
    spec = ModuleSpec(path.parent.name, None, origin=str(path), is_package=True)
    spec.submodule_search_locations = [str(path.parent)]
    return spec


def install_tree(root: Path) -> list[RecordedFile]:
    """A fake install of every package, one __init__.py each, and its RECORD."""
    recorded = []
    for name in PACKAGES:
        init = root / name / "__init__.py"
        init.parent.mkdir(parents=True)
        init.write_text(f'"""windvane {name}"""\n')
        recorded.append(RecordedFile(f"{name}/__init__.py", _digest(init)))
    return recorded


def test_packages_found_in_the_launchers_own_root_pass(tmp_path: Path) -> None:
    install_tree(tmp_path)
    assert shadowed(tmp_path, lambda name: regular_spec(tmp_path / name / "__init__.py")) == []


def test_a_package_found_elsewhere_first_is_fatal_and_says_where(tmp_path: Path) -> None:
    install_tree(tmp_path / "site")
    other = tmp_path / "other" / "tools" / "__init__.py"

    def find(name: str) -> ModuleSpec | None:
        return regular_spec(other if name == "tools" else tmp_path / "site" / name / "__init__.py")

    found = shadowed(tmp_path / "site", find)

    assert [(f.package, f.fatal) for f in found] == [("tools", True)]
    assert f"imported from {other}" in found[0].message
    assert f"windvane's install at {tmp_path / 'site'}" in found[0].message


def test_a_namespace_package_or_a_missing_one_is_fatal(tmp_path: Path) -> None:
    install_tree(tmp_path)
    namespace = ModuleSpec("store", None, is_package=True)
    namespace.submodule_search_locations = ["/a/store", "/b/store"]

    def find(name: str) -> ModuleSpec | None:
        if name == "schemas":
            return None
        return namespace if name == "store" else regular_spec(tmp_path / name / "__init__.py")

    messages = {f.package: f.message for f in shadowed(tmp_path, find)}

    assert "as a namespace package from /a/store, /b/store" in messages["store"]
    assert "it is missing" in messages["schemas"]


def test_an_overwritten_or_deleted_file_is_fatal_and_names_the_other_distribution(tmp_path: Path) -> None:
    recorded = install_tree(tmp_path)
    (tmp_path / "server" / "__init__.py").write_text("print('someone else')\n")
    (tmp_path / "store" / "__init__.py").unlink()

    found = damaged_or_merged(tmp_path, recorded, lambda name: [f"'other-{name} 2.0'"])

    assert [(f.package, f.fatal) for f in found] == [("server", True), ("store", True)]
    assert found[0].message == (
        f"windvane's package 'server' was overwritten by 'other-server 2.0' in {tmp_path} (server/__init__.py)"
    )


def test_files_added_beside_intact_ones_are_a_note_not_a_refusal(tmp_path: Path) -> None:
    recorded = install_tree(tmp_path)
    (tmp_path / "tools" / "helper.py").write_text("x = 1\n")
    (tmp_path / "tools" / "__pycache__").mkdir()
    (tmp_path / "tools" / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\0")

    found = damaged_or_merged(tmp_path, recorded, lambda name: [])

    assert [(f.package, f.fatal) for f in found] == [("tools", False)]
    assert "installed by another distribution (tools/helper.py)" in found[0].message
    assert "windvane's own files are intact" in found[0].message


def test_an_intact_install_has_no_findings(tmp_path: Path) -> None:
    recorded = install_tree(tmp_path)
    assert damaged_or_merged(tmp_path, recorded, lambda name: pytest.fail("owners looked up without a problem")) == []


def test_the_working_directory_leaves_sys_path_unless_windvane_lives_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = ["", str(tmp_path), "/usr/lib/python3.11", str(tmp_path / "sub")]

    drop_foreign_working_directory(Path("/site-packages"), path)
    assert path == ["/usr/lib/python3.11", str(tmp_path / "sub")]

    checkout = ["", str(tmp_path), "/usr/lib/python3.11"]
    drop_foreign_working_directory(tmp_path.resolve(), checkout)
    assert checkout == ["", str(tmp_path), "/usr/lib/python3.11"]


def test_the_launcher_imports_none_of_windvanes_packages_at_top_level() -> None:
    tree = ast.parse(Path(windvane.__file__).read_text())
    top_level = {
        alias.name.split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert top_level.isdisjoint(PACKAGES)


def version_in_pyproject() -> str:
    import tomllib

    return str(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"])


@pytest.mark.parametrize("command", [["-m", "windvane"], ["-m", "server"]])
def test_version_comes_from_the_package_metadata(command: list[str], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, *command, "--version"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, f"windvane {version_in_pyproject()}", "")


def test_the_server_announces_the_same_version() -> None:
    from server.version import version

    assert version() == version_in_pyproject()


def test_help_through_the_launcher_imports_nothing_heavy() -> None:
    heavy = ("mcp", "httpx", "pydantic", "starlette", "uvicorn", "tools", "fetchers")
    probe = (
        "import json, sys, contextlib, io\n"
        "import windvane\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    windvane.main(['--help'])\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert json.loads(out) == []
