"""A checkout without ../shared beside it: the real-data tests skip with one line saying where the data comes from,
and the rest pass; with WINDVANE_REQUIRE_SHARED=1 (what CI sets) the same run fails at once instead of skipping.

The checkout here is a copy of this working tree in an empty temporary folder. .ci/run also clones the repository
into one and runs the README's test command there, the whole suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import REPO
from tests.fakes.data import REQUIRE_SHARED_ENV
from tests.test_install import SOURCE_JUNK

pytestmark = pytest.mark.slow

# One of each kind: tools on the fakes (fixture), parsers opening payloads (test body), a module reading one at import.
REAL_DATA_TESTS = ["tests/test_premium_tool.py", "tests/test_farside_parser.py", "tests/test_etf_flows_tool.py"]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fresh") / "windvane"
    shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(*SOURCE_JUNK, ".hypothesis"))
    assert not (root.parent / "shared").exists()
    return root


def pytest_in(checkout: Path, *, require: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != REQUIRE_SHARED_ENV and not k.startswith("PYTEST")}
    if require:
        env[REQUIRE_SHARED_ENV] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", *REAL_DATA_TESTS], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def test_without_shared_the_real_data_tests_skip_with_one_line_saying_why(checkout: Path) -> None:
    done = pytest_in(checkout, require=False)
    assert done.returncode == 0, done.stdout[-3000:]
    [note] = [line for line in done.stdout.splitlines() if "real-data test" in line]
    assert note.split(" skipped, ")[0].isdigit()
    assert f"not found at {checkout.parent / 'shared'}" in note
    assert "failed" not in done.stdout.splitlines()[-1]
    assert "error" not in done.stdout.splitlines()[-1]


def test_where_shared_is_required_its_absence_fails_the_run(checkout: Path) -> None:
    done = pytest_in(checkout, require=True)
    assert done.returncode != 0
    assert f"{REQUIRE_SHARED_ENV}=1 but real-data test" in done.stdout + done.stderr
