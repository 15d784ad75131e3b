"""The `windvane` launcher: the console script and `python -m windvane` both start here.

Why a top-level module of its own: windvane's code lives in generic top-level packages (server, tools, schemas,
fetchers, store). Installed into a shared environment, another distribution's package of the same name can shadow
one of them (found earlier on sys.path) or be merged into the same folder by pip, which overwrites files without a
word. `windvane` is the one importable name that is windvane's alone, so the launcher checks that each of those
packages is windvane's own, and intact, before importing any of them; then it hands over to `server.cli`.

    shadowed   another `tools` (say) comes first on sys.path          -> refuse, exit 2, naming where it comes from
    damaged    a file windvane installed was overwritten or deleted   -> refuse, exit 2, naming the other distribution
    merged     another distribution added files beside windvane's     -> run (windvane's files are intact), with a note

Standard library only, and cheap: it runs before every command, `windvane --help` included.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path

DISTRIBUTION = "windvane"
PACKAGES = ("server", "tools", "schemas", "fetchers", "store")
ISOLATED_INSTALL = (
    "install windvane in an environment of its own: `uv tool install windvane` or `pipx install windvane`"
)


@dataclass(frozen=True)
class Finding:
    """One problem with windvane's packages. `fatal` ones stop the launch; the others are printed as notes."""

    package: str
    message: str
    fatal: bool


def own_root() -> Path:
    """The directory holding this module, and so windvane's packages (site-packages, or a source checkout)."""
    return Path(__file__).resolve().parent


def drop_foreign_working_directory(root: Path, path: list[str]) -> None:
    """`python -m windvane` puts the working directory first on sys.path; a `tools/` folder there would shadow
    windvane's. Unless windvane itself lives there (a source checkout), take it off, as `python -P` would."""
    cwd = Path.cwd().resolve()
    path[:] = [entry for entry in path if Path(entry or ".").resolve() != cwd or cwd == root]


def shadowed(root: Path, find_spec: Callable[[str], ModuleSpec | None] = importlib.util.find_spec) -> list[Finding]:
    """Each package must be the regular package in `root`, not one found first elsewhere on sys.path."""
    found = []
    for name in PACKAGES:
        expected = root / name / "__init__.py"
        spec = find_spec(name)
        origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
        if origin == expected:
            continue
        if origin is not None:
            where = f"from {origin}"
        elif spec is not None:
            where = "as a namespace package from " + ", ".join(spec.submodule_search_locations or [])
        else:
            where = "from nowhere (it is missing)"
        found.append(
            Finding(name, f"the package '{name}' is imported {where}, not from windvane's install at {root}", True)
        )
    return found


@dataclass(frozen=True)
class RecordedFile:
    path: str  # relative to the install root, with forward slashes, as RECORD lists it
    sha256: str | None  # urlsafe base64 without padding, as RECORD writes it


def _digest(path: Path) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()


def _sample(paths: Sequence[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def damaged_or_merged(
    root: Path, recorded: Iterable[RecordedFile], owners: Callable[[str], list[str]]
) -> list[Finding]:
    """Compare windvane's packages on disk with the RECORD of its install: a changed or missing file means another
    distribution overwrote it; a file RECORD does not list was put there by another distribution."""
    ours = {
        entry.path: entry.sha256
        for entry in recorded
        if entry.path.split("/")[0] in PACKAGES and "__pycache__" not in entry.path.split("/")
    }
    found = []
    for name in PACKAGES:
        changed = sorted(
            rel
            for rel, digest in ours.items()
            if rel.startswith(name + "/")
            and (not (root / rel).is_file() or (digest is not None and _digest(root / rel) != digest))
        )
        on_disk = (f.relative_to(root).as_posix() for f in (root / name).rglob("*") if f.is_file())
        extra = sorted(rel for rel in on_disk if rel not in ours and "__pycache__" not in rel.split("/"))
        if not changed and not extra:
            continue
        by = " by " + (", ".join(owners(name)) or "another distribution")
        if changed:
            message = f"windvane's package '{name}' was overwritten{by} in {root} ({_sample(changed)})"
            found.append(Finding(name, message, True))
        else:
            message = (
                f"'{name}' in {root} also holds files installed{by} ({_sample(extra)}); windvane's own files are "
                f"intact, but that distribution's '{name}' was replaced by windvane's"
            )
            found.append(Finding(name, message, False))
    return found


def _installed_record(root: Path) -> list[RecordedFile] | None:
    """RECORD of the windvane distribution installed at `root`; None for an editable install or a source checkout,
    whose files RECORD does not list (they are the checkout itself)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    if dist.read_text("RECORD") is None:  # an .egg-info in a source tree: its file list is SOURCES.txt, not an install
        return None
    files = dist.files or []
    launcher = next((f for f in files if f.as_posix() == "windvane.py"), None)
    if launcher is None or Path(str(dist.locate_file(launcher))).resolve().parent != root:
        return None
    out = []
    for f in files:
        digest = f.hash.value if f.hash is not None and f.hash.mode == "sha256" else None
        out.append(RecordedFile(f.as_posix(), digest))
    return out


def _owners(package: str) -> list[str]:
    """The other installed distributions that ship a top-level `package` (only computed when there is a problem)."""
    from importlib import metadata

    names = set(metadata.packages_distributions().get(package, [])) - {DISTRIBUTION}
    return [f"'{name} {metadata.version(name)}'" for name in sorted(names)]


def check_packages(root: Path) -> list[Finding]:
    found = shadowed(root)
    if found:
        return found
    record = _installed_record(root)
    return [] if record is None else damaged_or_merged(root, record, _owners)


def report(findings: Sequence[Finding]) -> bool:
    """Print the findings on stderr; True when windvane can start."""
    fatal = [f for f in findings if f.fatal]
    for finding in findings:
        label = "cannot start" if finding.fatal else "note"
        print(f"windvane: {label}: {finding.message}", file=sys.stderr)
    if findings:
        print(f"windvane: {ISOLATED_INSTALL}", file=sys.stderr)
    return not fatal


def main(argv: Sequence[str] | None = None) -> int:
    root = own_root()
    drop_foreign_working_directory(root, sys.path)
    if not report(check_packages(root)):
        return 2
    from server.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
