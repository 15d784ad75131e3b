"""windvane installed beside a foreign `tools` / `server` package: it runs when its own files are intact, and refuses
clearly, naming the clash, when they are shadowed or overwritten.

Real installs into fresh virtualenvs, no network: windvane and two tiny foreign projects are built into wheels here
(`pip wheel --no-index --no-build-isolation`, with the dev environment's setuptools) and installed with
`pip install --no-index --no-deps`. windvane's dependencies come from this environment's site-packages, added to
each new virtualenv's path by a .pth file (after its own site-packages, so nothing here shadows what is installed
there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import REPO
from tests.test_stdio_subprocess import HANG_GUARD_S, StdioPeer

pytestmark = pytest.mark.slow

FOREIGN_MARK = "FOREIGN CODE RAN"
SOURCE_JUNK = (".git", ".venv", "node_modules", "__pycache__", "*.egg-info", "build", "dist", ".mypy_cache",
               ".ruff_cache", "*.sqlite3*")  # fmt: skip


def run(
    *cmd: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False
    )


def build_wheel(source: Path, out: Path) -> Path:
    done = run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
               "--wheel-dir", out, source)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def foreign_project(root: Path, dist: str, package: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[build-system]\nrequires = ['setuptools']\nbuild-backend = 'setuptools.build_meta'\n"
        f"[project]\nname = '{dist}'\nversion = '1.0'\n"
        f"[tool.setuptools]\npackages = ['{package}']\n"
    )
    for name, text in files.items():
        path = root / package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@dataclass(frozen=True)
class Wheels:
    windvane: Path
    foreign_tools: Path
    foreign_server: Path


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    base = tmp_path_factory.mktemp("wheels")
    # Built from a copy: setuptools writes build/ and *.egg-info into the source tree it builds.
    source = base / "windvane-src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(*SOURCE_JUNK),
    )
    tools = foreign_project(
        base / "foreign-tools",
        "foreign-tools",
        "tools",
        {"__init__.py": "VERSION = 'foreign'\n", "helper.py": "def helper() -> int:\n    return 1\n"},
    )
    server = foreign_project(
        base / "foreign-server",
        "foreign-server",
        "server",
        {"__init__.py": f"print({FOREIGN_MARK!r})\n", "cli.py": f"print({FOREIGN_MARK!r})\ndef main(): return 0\n"},
    )
    out = base / "dist"
    for project in (source, tools, server):
        build_wheel(project, out)
    return Wheels(
        windvane=next(out.glob("windvane-*.whl")),
        foreign_tools=next(out.glob("foreign_tools-*.whl")),
        foreign_server=next(out.glob("foreign_server-*.whl")),
    )


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def windvane(self) -> Path:
        return self.root / "bin" / "windvane"

    def install(self, wheel: Path) -> None:
        done = run(self.python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", wheel)
        assert done.returncode == 0, done.stderr

    def site_packages(self) -> Path:
        return next((self.root / "lib").glob("python3.*/site-packages"))


def make_venv(path: Path) -> Venv:
    done = run(sys.executable, "-m", "venv", "--without-pip", path)
    assert done.returncode == 0, done.stderr
    venv = Venv(path)
    # This environment's packages (windvane's dependencies, and pip) after the new venv's own site-packages.
    (venv.site_packages() / "zz_dev_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("WINDVANE_", "PYTHON"))}


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    return make_venv(tmp_path / "venv")


def list_tools(command: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """Start `windvane serve` over stdio and return the names tools/list gives."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    peer = StdioPeer(proc)
    try:
        init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "pytest", "version": "0"}}
        peer.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        peer.response(1)
        peer.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        peer.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        return [tool["name"] for tool in peer.response(2)["result"]["tools"]]
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=HANG_GUARD_S)
        proc.stdout.close()  # type: ignore[union-attr]
        peer.close()


def test_windvane_installed_over_a_foreign_tools_package_runs_and_names_the_clash(
    wheels: Wheels, venv: Venv, tmp_path: Path
) -> None:
    venv.install(wheels.foreign_tools)
    venv.install(wheels.windvane)

    done = run(venv.windvane, "--version", cwd=tmp_path, env=clean_env())

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "windvane 0.1.0"
    assert "note: 'tools'" in done.stderr
    assert "'foreign-tools 1.0'" in done.stderr
    assert "tools/helper.py" in done.stderr
    assert "uv tool install windvane" in done.stderr
    env = {**clean_env(), "WINDVANE_DB_PATH": str(tmp_path / "store.sqlite3")}
    names = list_tools([str(venv.windvane), "serve"], tmp_path, env)
    assert "assess_rebound_vs_reversal" in names


def test_a_foreign_server_package_installed_over_windvane_is_refused_before_it_runs(
    wheels: Wheels, venv: Venv, tmp_path: Path
) -> None:
    venv.install(wheels.windvane)
    venv.install(wheels.foreign_server)  # pip overwrites server/__init__.py and server/cli.py without a word

    done = run(venv.windvane, "--version", cwd=tmp_path, env=clean_env())

    assert done.returncode == 2
    assert FOREIGN_MARK not in done.stdout + done.stderr
    assert "cannot start: windvane's package 'server' was overwritten by 'foreign-server 1.0'" in done.stderr
    assert "server/__init__.py" in done.stderr
    assert "server/cli.py" in done.stderr
    assert "uv tool install windvane" in done.stderr


def test_a_tools_package_earlier_on_the_path_is_refused_naming_it(wheels: Wheels, venv: Venv, tmp_path: Path) -> None:
    venv.install(wheels.windvane)
    other = tmp_path / "elsewhere"
    (other / "tools").mkdir(parents=True)
    (other / "tools" / "__init__.py").write_text(f"print({FOREIGN_MARK!r})\n")

    done = run(venv.windvane, "--version", cwd=tmp_path, env={**clean_env(), "PYTHONPATH": str(other)})

    assert done.returncode == 2
    assert FOREIGN_MARK not in done.stdout + done.stderr
    assert f"the package 'tools' is imported from {(other / 'tools' / '__init__.py').resolve()}" in done.stderr


def test_python_m_windvane_ignores_a_tools_folder_in_the_working_directory(
    wheels: Wheels, venv: Venv, tmp_path: Path
) -> None:
    venv.install(wheels.windvane)
    project = tmp_path / "someones-project"
    (project / "tools").mkdir(parents=True)
    (project / "tools" / "__init__.py").write_text(f"raise SystemExit({FOREIGN_MARK!r})\n")

    done = run(venv.python, "-m", "windvane", "--version", cwd=project, env=clean_env())

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "windvane 0.1.0"
    assert done.stderr == ""


def test_a_clean_install_starts_without_notes(wheels: Wheels, venv: Venv, tmp_path: Path) -> None:
    venv.install(wheels.windvane)
    record = next(venv.site_packages().glob("windvane-*.dist-info")) / "RECORD"
    assert "windvane.py," in record.read_text()  # the launcher module ships in the wheel
    assert "server/assets/tool.svg," in record.read_text()  # and the icons

    done = run(venv.windvane, "--version", cwd=tmp_path, env=clean_env())
    probe = run(venv.python, "-c", "import json, tools; print(json.dumps(tools.__file__))", cwd=tmp_path,
                env=clean_env())  # fmt: skip

    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "windvane 0.1.0", "")
    assert Path(json.loads(probe.stdout)).is_relative_to(venv.site_packages())
