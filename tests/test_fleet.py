"""A fleet on loopback: three `windvane serve --transport http` replicas sharing one real Redis and one real
PostgreSQL behind haproxy (deploy/haproxy.cfg with loopback addresses), each replica on a fake upstream of its own
so every upstream request is attributed to the replica that sent it.

- 300 concurrent cold calls through the balancer: exactly one upstream request per endpoint, fleet-wide.
- Redis stopped mid-run: no call fails; each replica asks each endpoint at most once on its own.
- Redis back: the replicas reconnect by themselves and sharing resumes (one request per endpoint again).
- Two `windvane collect` processes: one leads and writes each (series, timestamp) once; the other stands by and
  takes over when the leader is killed.
Slow (real processes); guards are generous and no assertion is about timing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.e2e.harness import REPO, windvane_command, windvane_env, windvane_http
from tests.services import RedisServer, free_port, own_redis_server, unavailable
from tests.test_http_app import MCP_HEADERS, rpc, sse_json

# the loopback fakes replay ../shared: without it (a fresh clone) these skip, in CI they must run
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("shared_data")]

DEPLOY = REPO / "deploy"
REPLICAS = 3
CALLS_PER_PHASE = 300
# Spread over two tools (a dozen upstreams between them); each phase asks for another past date, so its keys are
# cold. (get_etf_flows spends ~0.1 s of CPU per call on the Farside table: 100 of them on 2 shared cores would
# test the machine, not the fleet.)
TOOLS = (
    ("get_coinbase_premium", {"days": 30}),
    ("get_macro_backdrop", {}),
)


def haproxy_config(port: int, backends: list[int]) -> str:
    """deploy/haproxy.cfg with its bind and server addresses on loopback; everything else as deployed."""
    out, servers = [], 0
    for line in (DEPLOY / "haproxy.cfg").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("bind "):
            line = f"    bind 127.0.0.1:{port}"
        elif stripped.startswith("server "):
            _, name, _address, *options = stripped.split()
            line = f"    server {name} 127.0.0.1:{backends[servers]} {' '.join(options)}"
            servers += 1
        out.append(line)
    assert servers == len(backends), "deploy/haproxy.cfg must list one server per replica"
    return "\n".join(out) + "\n"


def wait_for_port(port: int, proc: subprocess.Popen[Any], what: str) -> None:
    import socket

    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen within the guard")


@contextmanager
def process(argv: list[str], what: str, **kwargs: Any) -> Iterator[subprocess.Popen[Any]]:
    proc = subprocess.Popen(argv, cwd=REPO, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


@contextmanager
def fake_upstream() -> Iterator[str]:
    """The loopback fake, each answer a little delayed so concurrent calls overlap at the upstream."""
    argv = [sys.executable, "-m", "tests.fakes.serve", "--port", "0", "--delay-ms", "50"]
    with process(argv, "fake upstream", stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url


def endpoint_counts(fake: str) -> Counter[str]:
    return Counter(httpx.get(f"{fake}/_fake/requests?by=endpoint", timeout=30).json())


def delta(after: Counter[str], before: Counter[str]) -> Counter[str]:
    return Counter({k: after[k] - before[k] for k in after if after[k] > before[k]})


async def fire(base: str, as_of: str) -> list[str]:
    """CALLS_PER_PHASE concurrent tool calls through the balancer; the failures (transport, HTTP, tool error)."""
    failures: list[str] = []
    limits = httpx.Limits(max_connections=CALLS_PER_PHASE, max_keepalive_connections=CALLS_PER_PHASE)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(n: int) -> None:
            name, args = TOOLS[n % len(TOOLS)]
            call = rpc("tools/call", {"name": name, "arguments": {**args, "as_of": as_of}}, n)
            try:
                response = await client.post("/mcp", json=call, headers=MCP_HEADERS)
            except httpx.HTTPError as exc:
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
                return
            if response.status_code != 200:
                failures.append(f"{name}: HTTP {response.status_code}")
                return
            result = sse_json(response).get("result")
            if not result or result.get("isError"):
                failures.append(f"{name}: {str(result)[:300]}")

        async with anyio.create_task_group() as tg:
            for n in range(CALLS_PER_PHASE):
                tg.start_soon(one, n)
    return failures


def diagnostics(logs: list[Path]) -> str:
    """The replicas' fleet and warning lines, for a failure's message."""
    lines = [
        f"{log.name}: {line[:300]}"
        for log in logs
        for line in log.read_text().splitlines()
        if "http_path" not in line and ("fleet" in line or "WARNING" in line)
    ]
    return "\n".join(lines[-60:])


def fleet_status(base: str) -> str:
    return str(httpx.get(f"{base}/healthz", timeout=10).json()["fleet"]["status"])


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """Redis of this test's own: it is stopped and started again mid-test."""
    with own_redis_server() as server:
        yield server


def require_haproxy() -> str:
    import shutil

    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found is None:
        unavailable("haproxy", "haproxy is not installed")
    assert found is not None
    return found


def test_three_replicas_share_one_request_per_endpoint_and_survive_losing_redis(
    own_redis: RedisServer, postgres_url: str, tmp_path: Path
) -> None:
    haproxy = require_haproxy()
    with ExitStack() as stack:
        fakes = [stack.enter_context(fake_upstream()) for _ in range(REPLICAS)]
        extra = {
            "WINDVANE_REDIS_URL": own_redis.url,
            "WINDVANE_DATABASE_URL": postgres_url,
            "WINDVANE_REFRESH_EVERY_S": "3600",  # once at start, by one replica (the lease's holder)
            "WINDVANE_LEASE_S": "3",
            # 100 concurrent calls per replica on 2 shared cores: room for a slow machine (the limit is 50)
            "WINDVANE_TOOL_DEADLINE_S": "45",
        }
        logs = [tmp_path / f"replica-{i}.log" for i in range(REPLICAS)]
        replicas = [
            stack.enter_context(
                windvane_http(windvane_env(fake, tmp_path / f"unused-{i}.sqlite3", extra), log_path=log)
            )
            for i, (fake, log) in enumerate(zip(fakes, logs, strict=True))
        ]
        lb_port = free_port()
        config = tmp_path / "haproxy.cfg"
        config.write_text(haproxy_config(lb_port, [int(base.rsplit(":", 1)[1]) for base in replicas]))
        check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        lb = stack.enter_context(
            process([haproxy, "-db", "-f", str(config)], "haproxy", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        )
        wait_for_port(lb_port, lb, "haproxy")
        balancer = f"http://127.0.0.1:{lb_port}"

        # 1. cold, with Redis: one request per endpoint for the whole fleet
        before = [endpoint_counts(f) for f in fakes]
        assert anyio.run(fire, balancer, "2025-11-24") == []
        per_replica = [delta(endpoint_counts(f), b) for f, b in zip(fakes, before, strict=True)]
        fleet = sum(per_replica, Counter())
        assert len(fleet) >= 10, fleet
        assert {e: [c[e] for c in per_replica] for e, n in fleet.items() if n != 1} == {}, diagnostics(logs)
        # every replica served calls, so one request per endpoint is fleet-wide sharing (which replica wins
        # each key's lock is a race, and one may win them all)
        served = [log.read_text().count("http_path=/mcp") for log in logs]
        assert all(n > 0 for n in served), served

        # 2. Redis stopped while the calls run: nothing fails, each replica asks each endpoint at most once
        before = [endpoint_counts(f) for f in fakes]

        async def calls_then_stop() -> list[str]:
            failures: list[str] = []

            async def calls() -> None:
                failures.extend(await fire(balancer, "2025-11-21"))

            async with anyio.create_task_group() as tg:
                tg.start_soon(calls)
                for _ in range(600):  # stop Redis once the first upstream request of this phase is out
                    if any(endpoint_counts(f) != b for f, b in zip(fakes, before, strict=True)):
                        break
                    await anyio.sleep(0.05)
                own_redis.stop()
            return failures

        assert anyio.run(calls_then_stop) == []
        per_replica = [delta(endpoint_counts(f), b) for f, b in zip(fakes, before, strict=True)]
        assert sum(per_replica, Counter()), "phase 2 asked for nothing new"
        assert [{e: n for e, n in c.items() if n > 1} for c in per_replica] == [{}] * REPLICAS
        assert {fleet_status(base) for base in replicas} == {"degraded"}

        # 3. Redis back (empty): each replica reconnects on its own, and sharing resumes
        own_redis.start()
        for _ in range(1200):
            if {fleet_status(base) for base in replicas} == {"up"}:
                break
            time.sleep(0.05)
        assert {fleet_status(base) for base in replicas} == {"up"}
        before = [endpoint_counts(f) for f in fakes]
        assert anyio.run(fire, balancer, "2025-11-18") == []
        per_replica = [delta(endpoint_counts(f), b) for f, b in zip(fakes, before, strict=True)]
        fleet = sum(per_replica, Counter())
        assert fleet, "phase 3 asked for nothing new"
        assert {e: [c[e] for c in per_replica] for e, n in fleet.items() if n != 1} == {}, diagnostics(logs)

    texts = [log.read_text() for log in logs]
    assert sum("background refresh: leading" in t for t in texts) == 1
    assert sum("background refresh: another process leads" in t for t in texts) == REPLICAS - 1
    # each loss of Redis is logged once per replica, not once per operation, and paired with its return (on a
    # loaded machine a replica may also have seen one spell of slow replies earlier: a loss of its own, logged once)
    lost = [t.count("is unreachable") for t in texts]
    back = [t.count("answers again") for t in texts]
    assert all(n >= 1 for n in lost), diagnostics(logs)
    assert lost == back, diagnostics(logs)
    assert not any("windvane@" in t for t in texts)  # the database URL's user (and any password) is never logged


COLLECT_ENV = {
    "WINDVANE_LIQUIDATION_STREAM_SECONDS": "0",  # the WebSocket streams have no loopback fake
    "WINDVANE_WALLET_SCAN_DELAY_S": "0",
    "WINDVANE_LEASE_S": "3",
}


def add_write_log(url: str) -> None:
    """A trigger recording every write of an observation, inserted or replaced (test database only)."""

    async def install() -> None:
        import asyncpg

        from store.postgres import PostgresStore

        store = PostgresStore(url)
        await store.schema_version()  # migrated
        await store.close()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                """
                CREATE TABLE writes (source TEXT, metric TEXT, asset TEXT, venue TEXT, ts BIGINT, fetched_at BIGINT);
                CREATE FUNCTION log_write() RETURNS trigger AS $$
                BEGIN
                    INSERT INTO writes VALUES (NEW.source, NEW.metric, NEW.asset, NEW.venue, NEW.ts, NEW.fetched_at);
                    RETURN NEW;
                END $$ LANGUAGE plpgsql;
                CREATE TRIGGER log_write AFTER INSERT OR UPDATE ON observations
                    FOR EACH ROW EXECUTE FUNCTION log_write();
                """
            )
        finally:
            await conn.close()

    anyio.run(install)


def writes(url: str) -> tuple[int, int, int]:
    """(writes, distinct (series, ts) written, (series, ts) written more than once)."""

    async def count() -> tuple[int, int, int]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            total = await conn.fetchval("SELECT count(*) FROM writes")
            distinct = await conn.fetchval(
                "SELECT count(*) FROM (SELECT DISTINCT source, metric, asset, venue, ts FROM writes) d"
            )
            twice = await conn.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM writes GROUP BY source, metric, asset, venue, ts "
                "HAVING count(*) > 1) d"
            )
            return int(total), int(distinct), int(twice)
        finally:
            await conn.close()

    return anyio.run(count)


def wait_for_log(path: Path, pattern: str, procs: list[subprocess.Popen[Any]]) -> float:
    """Wait (generous guard) until `pattern` appears in the log at `path`; the time it was seen."""
    for _ in range(3000):
        if re.search(pattern, path.read_text() if path.exists() else ""):
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} never appeared in {path.name}: {path.read_text()[-3000:]}")


def test_two_collectors_one_leader_and_a_handover_when_it_dies(
    redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    add_write_log(postgres_url)
    with ExitStack() as stack:
        fake = stack.enter_context(fake_upstream())
        env = windvane_env(
            fake,
            tmp_path / "unused.sqlite3",
            {**COLLECT_ENV, "WINDVANE_REDIS_URL": redis_url, "WINDVANE_DATABASE_URL": postgres_url},
        )
        logs = [tmp_path / "collector-a.log", tmp_path / "collector-b.log"]
        procs = []
        for log in logs:
            out = stack.enter_context(open(log, "w"))
            argv = [*windvane_command(), "collect", "--every", "1h"]
            procs.append(stack.enter_context(process(argv, "collect", env=env, stdout=out, stderr=subprocess.STDOUT)))
        for log in logs:
            wait_for_log(log, r"collect: (leading|another process leads)", procs)
        texts = [log.read_text() for log in logs]
        leader = next(i for i, t in enumerate(texts) if "collect: leading" in t)
        standby = 1 - leader
        wait_for_log(logs[leader], r"collect round 1:", procs)
        time.sleep(3 * 3)  # three lease periods: the standby kept trying meanwhile
        assert "collect round" not in logs[standby].read_text()
        total, distinct, twice = writes(postgres_url)
        assert total > 100
        assert (total, twice) == (distinct, 0)  # one write per series and timestamp

        killed_at = time.monotonic()
        os.kill(procs[leader].pid, signal.SIGKILL)
        procs[leader].wait(timeout=30)
        took_over_at = wait_for_log(logs[standby], r"collect: leading", procs)
        wait_for_log(logs[standby], r"collect round 1:", procs)
        print(f"handover after the leader's kill: {took_over_at - killed_at:.2f} s (lease 3 s)")
        assert procs[standby].poll() is None
        after, _, _ = writes(postgres_url)
        assert after > total  # the new leader records
