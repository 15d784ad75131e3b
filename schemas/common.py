"""Fields every tool result carries: as_of, sources (provenance) and warnings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SourceRef(BaseModel):
    """Where a figure came from and how fresh it is."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Upstream name, e.g. 'coinbase'.")
    endpoint: str = Field(description="Scheme, host and path called (no query, never a key).")
    fetched_at: datetime
    stale: bool = Field(description="True when the upstream failed and the last good value was served.")
    age_seconds: float = Field(description="Seconds since this value was fetched.")


class ToolResult(BaseModel):
    """Base of every tool output."""

    as_of: datetime = Field(description="The point in time the answer describes (UTC).")
    sources: list[SourceRef] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="What was missing, degraded, stale or cross-checked; empty when all is well.",
    )
    omitted: dict[str, int] = Field(
        default_factory=dict,
        description="detail='summary': per field, how many rows (or source endpoints) were left out; "
        "empty in a full result. Ask with detail='full' for them.",
    )


Sign = Literal["positive", "negative", "zero"]


class Streak(BaseModel):
    sign: Sign | None = Field(description="Sign of the latest value; null when there is no data.")
    days: int | None = Field(description="Consecutive bars/days with that sign, ending at as_of; null with no data.")
    since: str | None = Field(description="ISO date (or datetime) of the first bar of the run.")
    complete: bool = Field(
        default=True,
        description="False when the run reaches the start of the available history (it may be longer).",
    )
