"""A history store that cannot be used costs what only it provides, never the answer (issue 15, item 5).

Each fault is made for real where the machine allows it: a directory or a file that is not SQLite at the db path, a
db path under a regular file, a read-only folder or file (immutable via chattr, since root ignores permission
bits), a database another connection holds locked, and a full database (SQLite's own SQLITE_FULL, raised by a
page limit on the store's connection). The assessment on replayed upstream payloads must read exactly as with a
healthy (empty) store, with one warning "history store unavailable: ..." and no traceback; the CLI commands that
need the store exit 1 with one line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

import store.sqlite
from server.cli import main
from server.settings import DEFAULT_BASE_URLS
from store.sqlite import SqliteStore
from tests.conftest import make_settings

# main() points the root logger at the captured stderr of the moment: restore_logging puts it back
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("restore_logging")]

AS_OF = "2025-11-24"
UNAVAILABLE = "history store unavailable: "
FAULTS = ["directory", "not_sqlite", "under_a_file", "read_only_folder", "read_only_file", "locked", "disk_full"]


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """`path` made read-only even for root (chattr +i); skips where the filesystem or user cannot do that."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False).returncode:
        pytest.skip("cannot make a path read-only for root here (no chattr +i on this filesystem)")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def migrated(path: Path) -> Path:
    """A valid, empty windvane store at `path`."""
    SqliteStore(path).schema_version()
    return path


@contextmanager
def locked(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Another connection holds the write lock throughout; the store waits 0.2 s for it, not 30 s."""
    migrated(path)
    monkeypatch.setattr(store.sqlite, "OPEN_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextmanager
def full(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every write that needs a new page fails with SQLite's SQLITE_FULL ("database or disk is full")."""
    migrated(path)
    opened = SqliteStore._connection

    def at_its_page_limit(self: SqliteStore) -> sqlite3.Connection:
        conn = opened(self)
        if self.path != path:
            return conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
        return conn

    monkeypatch.setattr(SqliteStore, "_connection", at_its_page_limit)
    yield


@pytest.fixture(params=FAULTS)
def fault(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A db path with the fault in place (undone after the test)."""
    kind: str = request.param
    base = tmp_path / "faulty"
    base.mkdir()
    if kind == "directory":
        (base / "windvane.sqlite3").mkdir()
        yield base / "windvane.sqlite3"
    elif kind == "not_sqlite":
        (base / "windvane.sqlite3").write_bytes(b"this is a text file, not a database\n" * 200)
        yield base / "windvane.sqlite3"
    elif kind == "under_a_file":
        (base / "data").write_text("a regular file where a folder should be\n")
        yield base / "data" / "windvane.sqlite3"
    elif kind == "read_only_folder":
        with immutable(base):
            yield base / "windvane.sqlite3"
    elif kind == "read_only_file":
        with immutable(migrated(base / "windvane.sqlite3")):
            yield base / "windvane.sqlite3"
    elif kind == "locked":
        with locked(base / "windvane.sqlite3", monkeypatch):
            yield base / "windvane.sqlite3"
    else:
        with full(base / "windvane.sqlite3", monkeypatch):
            yield base / "windvane.sqlite3"


async def call(make_client: Any, db: Path, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
    async with make_client(settings_=make_settings(db.parent, db_path=db)) as c:
        result = await c.call_tool(tool, {**arguments, "detail": "full"})
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    assert not result.is_error, text
    return dict(result.structured_content or {}), text


def store_warnings(out: dict[str, Any], text: str) -> list[str]:
    assert "Traceback" not in text
    assert "ExceptionGroup" not in text
    assert text.count("history store unavailable") == len([w for w in out["warnings"] if UNAVAILABLE in w])
    return [w for w in out["warnings"] if UNAVAILABLE in w]


def readings(out: dict[str, Any]) -> dict[str, tuple[str, float | None]]:
    return {s["name"]: (s["reading"], s["value"]) for s in out["signals"]}


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    return tmp_path / "healthy" / "windvane.sqlite3"


async def test_the_assessment_reads_as_with_a_healthy_store(make_client, fault: Path, healthy: Path) -> None:
    good, good_text = await call(make_client, healthy, "assess_rebound_vs_reversal", {"as_of": AS_OF})
    assert store_warnings(good, good_text) == []
    bad, bad_text = await call(make_client, fault, "assess_rebound_vs_reversal", {"as_of": AS_OF})
    [warning] = store_warnings(bad, bad_text)
    assert warning.startswith(UNAVAILABLE)
    assert "\n" not in warning
    assert str(fault) in warning
    assert bad["coverage"] == good["coverage"]
    assert bad["score"] == good["score"]
    assert bad["verdict"] == good["verdict"]
    assert readings(bad) == readings(good)


async def test_each_tool_answers_with_one_store_warning(make_client, fault: Path, healthy: Path) -> None:
    for tool, arguments in (
        ("get_etf_flows", {"asset": "BTC", "as_of": AS_OF}),
        ("get_coinbase_premium", {"as_of": AS_OF}),
    ):
        good, _ = await call(make_client, healthy, tool, arguments)
        bad, text = await call(make_client, fault, tool, arguments)
        assert len(store_warnings(bad, text)) == 1, tool
        drop = {"warnings", "sources"}
        assert {k: v for k, v in bad.items() if k not in drop} == {k: v for k, v in good.items() if k not in drop}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every upstream at a closed local port: a command that got past the store could not reach the network."""
    for source in DEFAULT_BASE_URLS:
        monkeypatch.setenv(f"WINDVANE_{source.upper()}_BASE_URL", "http://127.0.0.1:9")


def etf_table(tmp_path: Path) -> Path:
    """A Farside-layout table of 300 days: more rows than fit in the pages of an empty store."""
    from datetime import date, timedelta

    lines = ["date,IBIT,FBTC,Total"]
    for i in range(300):
        ibit, fbtc = round(i * 1.5 - 200, 1), round(50 - i * 0.3, 1)
        lines.append(f"{date(2024, 1, 1) + timedelta(days=i)},{ibit},{fbtc},{ibit + fbtc:.1f}")
    path = tmp_path / "flows.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


COMMANDS = {
    "history": lambda tmp: ["history"],
    "import": lambda tmp: ["import", "--etf-flows", str(etf_table(tmp))],
    "backfill": lambda tmp: ["backfill", "--since", "2025-11-01", "--until", "2025-11-02"],
    "collect": lambda tmp: ["collect", "--once"],
    "backtest": lambda tmp: ["backtest", "--from", "2025-01-01", "--to", "2025-02-01"],
}


# A read-only or full database still opens and reads: `history` and the store backtest work on it; the commands
# that write fail (backfill and collect check a write before spending any request; a full disk shows only when a
# write needs a new page, so only `import` is sure to meet it before the network).
WRITES = ["import", "backfill", "collect"]
CASES = [
    *((fault, command) for fault in [*FAULTS[:4], "locked"] for command in sorted(COMMANDS)),
    *(("read_only_file", command) for command in WRITES),
    ("disk_full", "import"),
]


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize(("fault", "command"), CASES, indirect=["fault"])
async def test_commands_that_need_the_store_exit_with_one_line(
    command: str, fault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("WINDVANE_DB_PATH", str(fault))
    code = await anyio.to_thread.run_sync(main, COMMANDS[command](tmp_path))
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert err.splitlines() == [err], err
    assert err.startswith("windvane: " + UNAVAILABLE)
    assert str(fault) in err


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("fault", ["read_only_file", "disk_full"], indirect=True)
async def test_a_store_that_only_cannot_write_still_lists_its_history(
    fault: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("WINDVANE_DB_PATH", str(fault))
    assert await anyio.to_thread.run_sync(main, ["history"]) == 0
    assert "no stored series" in capsys.readouterr().out


async def test_an_unreachable_postgres_is_one_line_without_the_password() -> None:
    from store.base import SeriesKey, StoreError
    from store.guarded import GuardedStore
    from store.postgres import PostgresStore, describe_url
    from tests.services import free_port

    url = f"postgresql://windvane:s3cret-pw@127.0.0.1:{free_port()}/history"
    guarded = GuardedStore(PostgresStore(url), describe_url(url))
    with pytest.raises(StoreError) as caught:
        await guarded.read(SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL"))
    reason = str(caught.value)
    assert reason.startswith(describe_url(url) + ": ")
    assert "\n" not in reason
    assert "s3cret-pw" not in reason
    assert guarded.fault == reason
    await guarded.close()


async def test_a_burst_of_reads_on_a_locked_store_waits_for_one_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from store.base import SeriesKey
    from store.guarded import GuardedStore
    from tools.history.degraded import DegradedStore, noting_faults

    path = tmp_path / "windvane.sqlite3"
    attempts: list[Path] = []
    opened = SqliteStore._connection

    def counted(self: SqliteStore) -> sqlite3.Connection:
        if self._conn is None:
            attempts.append(self.path)
        return opened(self)

    monkeypatch.setattr(SqliteStore, "_connection", counted)
    degraded = DegradedStore(GuardedStore(SqliteStore(path), str(path)))
    key = SeriesKey("coinbase", "close", "BTC-USD", "1d")
    answers: list[object] = []
    with locked(path, monkeypatch), noting_faults() as faults:
        attempts.clear()  # the lock holder's own setup opened the file once

        async def read() -> None:
            answers.append(await degraded.read(key, end=datetime(2025, 1, 1, tzinfo=UTC)))

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(read)
    assert answers == [[]] * 20  # "nothing stored", never an error
    assert attempts == [path]
    assert faults.reason is not None
    assert "database is locked" in faults.reason
    await degraded.close()


async def test_a_store_locked_past_the_tool_deadline_costs_seconds_not_the_answer(
    make_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite waits up to its 30 s lock timeout in a worker thread; the tool stops waiting after the store's budget
    and answers from the upstream (without the budget the call would end at its deadline with no answer)."""
    from tools.history import degraded

    path = migrated(tmp_path / "windvane.sqlite3")
    assert store.sqlite.OPEN_TIMEOUT_S == 30.0  # the real lock timeout, longer than the tool's deadline
    monkeypatch.setattr(degraded, "CALL_BUDGET_S", 0.5)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        out, text = await call(make_client, path, "get_coinbase_premium", {"as_of": AS_OF})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    [warning] = store_warnings(out, text)
    assert f"{path}: no answer within 0.5 s" in warning
    assert out["current"]["premium_pct"] is not None
