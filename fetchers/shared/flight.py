"""Fleet-wide single-flight: for a key missing everywhere, one replica asks the upstream and the others wait for it.

Within a replica the HTTP layer's own single-flight already lets one task through per key; that task comes here:
1. the fleet's cached value, when fresh, is the answer (its `fresh_until` travels with it, so staleness stays true);
   a stale one becomes this replica's last good value (served if everything below fails);
2. a failure the fleet remembers is the answer too (raised as remembered: the upstream is not asked again);
3. otherwise take the key's lock (and look once more: the previous holder may have just answered): the holder
   fetches, shares the value (or a failure worth remembering), releases;
4. without the lock, wait for the holder's answer, polling, within the call's deadline (no deadline: the lock's
   lease). When the deadline comes first the call serves its last good value stale or reports the wait; when the
   lock goes away with no answer (the holder died, or its failure was its own), start over from 1.
If Redis goes away meanwhile every step falls back (a miss, a lock granted locally) and the replica fetches alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from fetchers.cache import CacheEntry
from fetchers.call_context import current_deadline
from fetchers.errors import DeadlineExceeded, NotConfiguredError, UpstreamError
from fetchers.shared.tier import BudgetSpentError, Fleet, Held, SharedFailure

POLL_FIRST_S = 0.01
POLL_MAX_S = 0.2
MAX_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class SharedRequest:
    source: str
    key: str  # the shared key: a hash, never the query or a secret
    ttl_s: float  # fresh for this long (already scaled)
    memory_s: float  # a failure is remembered this long
    lease_s: float  # the lock expires after this, should its holder die


def shareable_failure(error: UpstreamError) -> bool:
    """Worth remembering for the fleet: the upstream's answer, not our deadline, config, budget or an open circuit."""
    return not (error.remembered or isinstance(error, DeadlineExceeded | NotConfiguredError | BudgetSpentError))


async def obtain(
    fleet: Fleet,
    request: SharedRequest,
    fetch: Callable[[], Awaitable[CacheEntry]],
    clock: Callable[[], float],
    keep_last_good: Callable[[CacheEntry], None],
) -> CacheEntry:
    for _ in range(MAX_ROUNDS):
        found = await _shared_answer(fleet, request, clock, keep_last_good)
        if found is not None:
            return found
        held = await fleet.lock.acquire(request.key, request.lease_s)
        if held is not None:
            # The holder before us may have shared its answer and let go between our look and our lock: look again.
            try:
                found = None if held.local else await _shared_answer(fleet, request, clock, keep_last_good)
            except UpstreamError:
                await fleet.lock.release(held)
                raise
            if found is not None:
                await fleet.lock.release(held)
                return found
            return await _fetch_holding(fleet, request, held, fetch)
        fleet.stats.peer_waits += 1
        entry = await _wait_for_peer(fleet, request, clock)
        if entry is not None:
            return entry
    return await fetch()  # the lock kept changing hands without an answer: ask ourselves rather than loop on


async def _shared_answer(
    fleet: Fleet, request: SharedRequest, clock: Callable[[], float], keep_last_good: Callable[[CacheEntry], None]
) -> CacheEntry | None:
    """The fleet's fresh value for the key; raises the failure it remembers; None when it has neither."""
    found = await fleet.cache.get(request.key)
    if found is not None:
        if found.fresh_until is not None and found.fresh_until > clock():
            fleet.stats.shared_hits += 1
            return found
        keep_last_good(found)
    failure = await fleet.cache.get_failure(request.key)
    if failure is not None:
        raise failure.error(request.source, "remembered by the fleet; not asked again yet")
    return None


async def _fetch_holding(
    fleet: Fleet, request: SharedRequest, held: Held, fetch: Callable[[], Awaitable[CacheEntry]]
) -> CacheEntry:
    try:
        entry = await fetch()
    except UpstreamError as error:
        if shareable_failure(error):
            await fleet.cache.put_failure(request.key, SharedFailure.of(error), request.memory_s)
        raise
    else:
        await fleet.cache.put(request.key, entry, request.ttl_s)
        return entry
    finally:
        with anyio.CancelScope(shield=True):  # a cancelled holder still frees the key (bounded by Redis's timeout)
            await fleet.lock.release(held)


async def _wait_for_peer(fleet: Fleet, request: SharedRequest, clock: Callable[[], float]) -> CacheEntry | None:
    """The holder's value, or None once its lock is gone without one; DeadlineExceeded at the call's deadline."""
    deadline = current_deadline()
    give_up_at = anyio.current_time() + request.lease_s
    delay = POLL_FIRST_S
    while True:
        remaining = deadline.remaining() if deadline is not None else give_up_at - anyio.current_time()
        if remaining <= 0:
            if deadline is not None:
                raise DeadlineExceeded(request.source, f"{deadline.describe()} (waiting for another replica)")
            return None
        await anyio.sleep(min(delay, remaining))
        delay = min(delay * 1.5, POLL_MAX_S)
        if deadline is not None and deadline.expired():  # before asking Redis: an op cut short would read as "gone"
            raise DeadlineExceeded(request.source, f"{deadline.describe()} (waiting for another replica)")
        found = await fleet.cache.get(request.key)
        if found is not None and found.fresh_until is not None and found.fresh_until > clock():
            fleet.stats.shared_hits += 1
            return found
        failure = await fleet.cache.get_failure(request.key)
        if failure is not None:
            raise failure.error(request.source, "another replica just asked; not asked again yet")
        if not await fleet.lock.held(request.key):
            return None
