"""What the server says about its upstreams: the `windvane://sources` resource and the `GET /healthz` body.

Both read the HTTP layer's per-source status; neither ever carries a key (only whether one is configured). The
resource adds what the last `windvane doctor` found on this host (saved beside the store): each source's `probe`
(reachable / blocked with its HTTP code / unreachable / not_configured / skipped) and whether the store is writable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from server.doctor import DoctorReport, ProbeResult, StoreCheck, check_store, load_report
from server.settings import KEYED_SOURCES, Settings
from server.stores import store_location
from tools.deps import Deps


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class SourceState(BaseModel):
    base_url: str
    key_configured: bool | None  # null for keyless sources
    last_success_at: str | None
    last_error_at: str | None
    last_error: str | None
    upstream_requests: int
    cache_hits: int
    stale_served: int
    remembered_failures: int  # calls answered from a remembered failure or an open circuit
    circuit: Literal["closed", "open", "half_open"]
    next_probe_at: str | None  # while open: when one request will be let through to see if it is back
    probe: ProbeResult | None = None  # the last `windvane doctor` result for this source; null before the first run


class SourcesStatus(BaseModel):
    sources: dict[str, SourceState]
    cache: dict[str, int]
    store: StoreCheck
    doctor_checked_at: str | None  # when `windvane doctor` last ran against this store; null if never


def sources_status(deps: Deps, settings: Settings) -> SourcesStatus:
    doctor = load_report(settings)
    probes = doctor.sources if doctor else {}
    states = {}
    for source, base in settings.base_urls.items():
        seen = deps.http.status.get(source)
        circuit = deps.http.breakers.circuit(source)
        states[source] = SourceState(
            base_url=base,
            key_configured=source in settings.api_keys if source in KEYED_SOURCES else None,
            last_success_at=_iso(seen.last_success_at) if seen else None,
            last_error_at=_iso(seen.last_error_at) if seen else None,
            last_error=seen.last_error if seen else None,
            upstream_requests=seen.upstream_requests if seen else 0,
            cache_hits=seen.cache_hits if seen else 0,
            stale_served=seen.stale_served if seen else 0,
            remembered_failures=seen.remembered_failures if seen else 0,
            circuit=circuit.state,
            next_probe_at=_iso(circuit.next_probe_at()),
            probe=probes.get(source),
        )
    cache = deps.http.cache.stats()
    fleet = deps.http.fleet.health()
    if fleet is not None:  # the fleet's share of the answers, beside this replica's own cache
        cache |= {"shared_hits": fleet.shared_hits, "peer_waits": fleet.peer_waits}
        cache |= {"budget_refusals": fleet.budget_refusals}
    return SourcesStatus(
        sources=states,
        cache=cache,
        store=_store(settings, doctor),
        doctor_checked_at=doctor.checked_at if doctor else None,
    )


def _store(settings: Settings, doctor: DoctorReport | None) -> StoreCheck:
    if settings.database_url is None:
        return check_store(settings.resolved_db_path())
    where = store_location(settings)
    if doctor is not None and doctor.store.path == where:
        return doctor.store
    # The pool connects on first use; only `windvane doctor` connects to check it.
    return StoreCheck(path=where, writable=None, detail="PostgreSQL; `windvane doctor` checks that it is writable")


class UpstreamHealth(BaseModel):
    status: Literal["up", "degraded"]
    circuit: Literal["closed", "open", "half_open"]
    next_probe_at: str | None
    last_success_at: str | None
    last_error_at: str | None
    last_error: str | None  # only while degraded


class HealthReport(BaseModel):
    status: Literal["starting", "up", "degraded"]
    upstreams: dict[str, UpstreamHealth]


class FleetState(BaseModel):
    """The replica's link to the fleet's shared tier: `degraded` while Redis is gone (it then serves alone)."""

    status: Literal["up", "degraded"]
    backend: str
    since: str | None
    last_error: str | None
    shared_hits: int
    peer_waits: int
    budget_refusals: int


class FleetHealthReport(HealthReport):
    """/healthz of a replica in a fleet (WINDVANE_REDIS_URL): the upstreams and the shared tier."""

    fleet: FleetState


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a >= b)


def health_report(live: Sequence[Deps]) -> tuple[int, HealthReport]:
    """Per upstream contacted since start: `up` when its last call succeeded, `degraded` when it last failed."""
    if not live:
        return 503, HealthReport(status="starting", upstreams={})
    upstreams = {}
    for source, seen in sorted(live[-1].http.status.items()):
        if seen.last_success_at is None and seen.last_error_at is None:
            continue
        circuit = live[-1].http.breakers.circuit(source)
        degraded = circuit.state != "closed" or not _later(seen.last_success_at, seen.last_error_at)
        upstreams[source] = UpstreamHealth(
            status="degraded" if degraded else "up",
            circuit=circuit.state,
            next_probe_at=_iso(circuit.next_probe_at()),
            last_success_at=_iso(seen.last_success_at),
            last_error_at=_iso(seen.last_error_at),
            last_error=seen.last_error if degraded else None,
        )
    # 200 even when degraded: the server itself answers (with nulls and warnings); a load balancer must not
    # drop every replica because one upstream is down.
    degraded = any(u.status == "degraded" for u in upstreams.values())
    fleet = live[-1].http.fleet.health()
    if fleet is None:
        return 200, HealthReport(status="degraded" if degraded else "up", upstreams=upstreams)
    state = FleetState(
        status=fleet.status,
        backend=fleet.backend,
        since=_iso(fleet.since),
        last_error=fleet.last_error,
        shared_hits=fleet.shared_hits,
        peer_waits=fleet.peer_waits,
        budget_refusals=fleet.budget_refusals,
    )
    degraded = degraded or fleet.status == "degraded"
    return 200, FleetHealthReport(status="degraded" if degraded else "up", upstreams=upstreams, fleet=state)
