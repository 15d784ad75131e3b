"""Argument types shared by the tools: one place for each argument's schema, validation and description."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

Asset = Literal["BTC", "ETH"]
SUPPORTED_ASSETS: tuple[Asset, ...] = ("BTC", "ETH")


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


AssetArg = Annotated[
    Asset,
    BeforeValidator(_upper),
    Field(description="Asset symbol: BTC or ETH (case-insensitive)."),
]

AsOfArg = Annotated[
    str | None,
    Field(
        description=(
            "Optional point in time, UTC: 'YYYY-MM-DD' (end of that day) or an ISO datetime. "
            "Only data timestamped at or before it is used. Omit for now."
        ),
        examples=["2025-11-24", "2025-11-24T15:00:00Z"],
    ),
]

# Short on purpose: tools/list is paid for on every turn and four tools take it.
ChartArg = Annotated[bool, Field(description="Also return a PNG chart (image content).")]

Detail = Literal["summary", "full"]
# Rows a summary keeps of each long series: enough to see the latest days and their direction.
SUMMARY_ROWS = 5

# Described once, in the server's instructions: a description here would repeat in all six tools' schemas.
DetailArg = Annotated[Detail, Field()]
