"""The call being served: its deadline, and which upstreams it could reach.

A tool call opens its context once (`call_context(15.0)`); every request the HTTP layer makes on its behalf, in any
task the call starts, reads it from this context variable (tasks inherit it).
- Deadline: no request, retry or backoff outlives it. A request still out when it comes fails with "not answered
  within 15 s", so the tool answers with what came back and says what did not. A nested context (a sub-tool of
  the assessment) can only shorten it.
- Reachability: the sources that gave any HTTP response, and those with no route at all (DNS, refused, proxy,
  TLS). Nested contexts share the parent's record, so the assessment knows what all its sub-tools reached. When
  nothing was reached, the tool says so once instead of once per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import anyio


@dataclass(frozen=True, slots=True)
class Deadline:
    at: float  # anyio.current_time() the call must be answered by
    budget_s: float  # the call's whole budget, for messages ("not answered within 15 s")

    def remaining(self) -> float:
        return max(0.0, self.at - anyio.current_time())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        return f"not answered within {self.budget_s:g} s"


@dataclass
class Reachability:
    reached: set[str] = field(default_factory=set)  # sources that gave any HTTP response
    unreachable: dict[str, str] = field(default_factory=dict)  # source -> why no connection was made

    def no_route(self) -> bool:
        """Every source tried had no route: the host itself cannot reach the upstreams."""
        return bool(self.unreachable) and not self.reached


@dataclass(frozen=True, slots=True)
class CallContext:
    deadline: Deadline
    reachability: Reachability


_current: ContextVar[CallContext | None] = ContextVar("windvane_call", default=None)


def current_deadline() -> Deadline | None:
    call = _current.get()
    return None if call is None else call.deadline


def current_reachability() -> Reachability | None:
    call = _current.get()
    return None if call is None else call.reachability


@contextmanager
def call_context(seconds: float) -> Iterator[CallContext]:
    """Within this block, upstream requests end by `seconds` from now (or an enclosing, earlier deadline)."""
    mine = Deadline(anyio.current_time() + seconds, seconds)
    outer = _current.get()
    if outer is None:
        chosen = CallContext(mine, Reachability())
    else:
        chosen = CallContext(outer.deadline if outer.deadline.at <= mine.at else mine, outer.reachability)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)
