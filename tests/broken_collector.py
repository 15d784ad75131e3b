"""A tool module whose collector always fails: the other collectors must still record."""

from __future__ import annotations

from tools.deps import Deps


async def collect(deps: Deps) -> int:
    raise RuntimeError("upstream exploded")
