"""Real Redis and PostgreSQL servers on loopback for the tests that claim them (never mocks).

A session starts one `redis-server` and one PostgreSQL cluster (`initdb` + `pg_ctl`, in a temporary directory) the
first time a test asks; each test then gets an empty Redis (FLUSHALL) and a database of its own. When the binaries
are not installed the tests skip and say why; with WINDVANE_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead.
PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` user (created if missing).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from store.base import CoverageStore

REQUIRE_VARIABLE = "WINDVANE_REQUIRE_SERVICES"
PG_USER = "postgres"


def required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE, "").strip() in ("1", "true", "yes")


def unavailable(what: str, why: str) -> None:
    """Skip with the reason, or fail when CI requires the real servers."""
    if required():
        pytest.fail(f"{what} is required ({REQUIRE_VARIABLE}=1) but {why}")
    pytest.skip(f"{what}: {why} (install redis-server / postgresql, or set {REQUIRE_VARIABLE}=1 in CI)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes] | None, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout_s:g} s")


# -- Redis --------------------------------------------------------------------------------------------------------


def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(iter(glob.glob("/usr/bin/redis-server")), None)


class RedisServer:
    """One `redis-server` process on 127.0.0.1, nothing persisted; it can be stopped and started again (same port)."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self.proc, "redis-server")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def flush(self) -> None:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port)
        try:
            client.flushall()
        finally:
            client.close()


# -- PostgreSQL ---------------------------------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:  # a symlink on PATH: the real directory also holds createdb
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


def _as_user() -> list[str]:
    """The prefix that runs a PostgreSQL binary as a non-root user (nothing when we are not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", PG_USER], check=True, capture_output=True)
    return ["runuser", "-u", PG_USER, "--"]


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, fsync off: test data only)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="windvane-pg-"))
        self.data = self.root / "data"
        self.user = "windvane"
        self._names = itertools.count(1)
        self._prefix = _as_user()
        if self._prefix:
            shutil.chown(self.root, PG_USER)

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self._prefix, *argv], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def start(self) -> PostgresServer:
        initdb, pg_ctl = str(self.bindir / "initdb"), str(self.bindir / "pg_ctl")
        self._run(initdb, "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start")
        _wait_port(self.port, None, "postgres")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        createdb = str(self.bindir / "createdb")
        self._run(createdb, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def own_redis_server() -> Iterator[RedisServer]:
    """A redis-server of the caller's own on a free loopback port (skips, or fails in CI, where none is installed)."""
    binary = redis_binary()
    if binary is None:
        unavailable("Redis", "redis-server is not installed")
    assert binary is not None
    server = RedisServer(binary).start()
    try:
        yield server
    finally:
        server.stop()


# -- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with own_redis_server() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """An empty Redis for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    if bindir is None:
        unavailable("PostgreSQL", "initdb / pg_ctl are not installed")
    assert bindir is not None
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """An empty database of this test's own."""
    return postgres_server.create_database()


# -- the history store on each backend ----------------------------------------------------------------------------

STORE_BACKENDS = ("sqlite", "postgres")


@pytest.fixture(params=STORE_BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], CoverageStore]:
    """`make_store()` -> a new handle on this test's empty history store, on SQLite and then on PostgreSQL.

    Every call opens the same backing file or database, so a test can close a store and reopen it. A test that
    takes this fixture runs once per backend: the store's semantics are the same on both."""
    if request.param == "sqlite":
        from store.sqlite import SqliteStore

        path = tmp_path / "db.sqlite3"
        return lambda: SqliteStore(path)
    from store.postgres import PostgresStore

    url = request.getfixturevalue("postgres_url")
    return lambda: PostgresStore(url)
