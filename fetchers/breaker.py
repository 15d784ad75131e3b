"""A circuit breaker per upstream source, so a failing upstream is remembered instead of retried on every call.

    closed ──(2 failed requests in a row, each after its retries: timeouts, 5xx, dropped connections)──> open
    closed ──(one refusal that retrying cannot fix: no route, geo-block, rejected key)──> open
    closed ──(a 429 whose Retry-After is longer than a call can wait)──> open until then
    open ──(cool-down over)──> half-open: one probe request goes through, every other request still fails fast
    half-open ──(probe succeeds)──> closed      half-open ──(probe fails)──> open, with a longer cool-down

While open, a request fails at once with the last error and the time of the next probe; the HTTP layer then serves
the last good value, flagged stale, when it has one. The cool-down doubles on each reopening (30 s up to 10 min);
a 429's Retry-After sets it directly. A bad payload does not open the breaker: the source answered, and another of
its endpoints may be fine (the HTTP layer remembers that one request instead).
A small state machine rather than a library: the maintained async breakers have no growing cool-down and no way
to open on a single refusal of a given kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from fetchers.errors import (
    BadPayloadError,
    DeadlineExceeded,
    GeoBlockedError,
    KeyRejectedError,
    RateLimitedError,
    UnreachableError,
    UpstreamError,
)

State = Literal["closed", "open", "half_open"]

# Requests, not attempts: one page of a host failing must not stop a fallback to another page of the same host.
FAILURES_TO_OPEN = 2
BASE_COOLDOWN_S = 30.0
MAX_COOLDOWN_S = 600.0
# A refusal by policy (geo-block, rejected key) will not change in seconds: wait the longest cool-down.
POLICY_COOLDOWN_S = MAX_COOLDOWN_S


@dataclass
class Circuit:
    state: State = "closed"
    failures: int = 0  # consecutive failed requests while closed
    openings: int = 0  # consecutive openings without a success: the cool-down grows with it
    open_until: float | None = None  # clock seconds of the next probe
    probing: bool = False  # a half-open probe is out
    last_error: UpstreamError | None = None

    def next_probe_at(self) -> datetime | None:
        return None if self.open_until is None else datetime.fromtimestamp(self.open_until, UTC)


class Breakers:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.circuits: dict[str, Circuit] = {}

    def circuit(self, source: str) -> Circuit:
        return self.circuits.setdefault(source, Circuit())

    def before_request(self, source: str) -> bool:
        """Raise the remembered error when `source` is open (or half-open with its probe already out).

        Returns True when this request is the half-open probe: it gets one attempt, no retries."""
        c = self.circuit(source)
        if c.state == "closed":
            return False
        if c.state == "open" and c.open_until is not None and self._clock() >= c.open_until:
            c.state, c.probing = "half_open", False
        if c.state == "half_open" and not c.probing:
            c.probing = True  # this request is the probe
            return True
        assert c.last_error is not None
        raise c.last_error.again(f"{c.last_error.message}; {self._retry_note(c)}")

    def success(self, source: str) -> None:
        c = self.circuit(source)
        c.state, c.failures, c.openings, c.open_until, c.probing = "closed", 0, 0, None, False

    def failure(self, source: str, error: UpstreamError) -> None:
        if isinstance(error, BadPayloadError | DeadlineExceeded):
            # The source answered (drift is remembered per request); or our own deadline ran out, not theirs.
            c = self.circuit(source)
            c.probing = False
            return
        c = self.circuit(source)
        c.last_error = error
        immediate = isinstance(error, UnreachableError | GeoBlockedError | KeyRejectedError)
        c.failures += 1
        if c.state == "half_open" or immediate or c.failures >= FAILURES_TO_OPEN:
            self._open(c, error)

    def adopt(self, source: str, error: UpstreamError, until: float) -> None:
        """Another replica of the fleet opened this circuit: fail fast here too until its next probe."""
        c = self.circuit(source)
        if c.state == "closed" or (c.state == "open" and (c.open_until or 0.0) < until):
            c.state, c.failures, c.probing, c.last_error, c.open_until = "open", 0, False, error, until

    def open_now(self, source: str, error: UpstreamError) -> None:
        """Open at once: the HTTP layer will not wait out what the source asked for (a long Retry-After)."""
        c = self.circuit(source)
        c.last_error = error
        self._open(c, error)

    def _open(self, c: Circuit, error: UpstreamError) -> None:
        c.openings += 1
        if isinstance(error, RateLimitedError) and error.retry_after_s is not None:
            cooldown = min(MAX_COOLDOWN_S, max(1.0, error.retry_after_s))
        elif isinstance(error, GeoBlockedError | KeyRejectedError):
            cooldown = POLICY_COOLDOWN_S
        else:
            cooldown = min(MAX_COOLDOWN_S, BASE_COOLDOWN_S * 2 ** (c.openings - 1))
        c.state, c.failures, c.probing = "open", 0, False
        c.open_until = self._clock() + cooldown

    def _retry_note(self, c: Circuit) -> str:
        if c.state == "half_open":
            return "a probe request is already out; not retried until it answers"
        when = c.next_probe_at()
        at = "" if when is None else f" at {when.strftime('%H:%M:%SZ')}"
        return f"not retried until the next probe{at} (circuit open)"
