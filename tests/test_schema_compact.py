"""Published tool schemas: compact by default (context cost), full on request, valid for real results either way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from server.schema_compact import compact_schema, shallow_output_schema
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio


class Inner(BaseModel):
    title: str = Field(description="kept: a property named title")
    value: float | None = None


class Outer(BaseModel):
    inner: Inner | None
    rows: list[Inner]
    n: int = Field(ge=1, description="count")


def test_compact_drops_titles_and_folds_nullable_scalars_only() -> None:
    schema = compact_schema(Outer.model_json_schema())
    assert "title" not in schema
    inner = schema["$defs"]["Inner"]
    assert inner["properties"]["title"] == {
        "description": "kept: a property named title",
        "type": "string",
    }
    assert inner["properties"]["value"]["type"] == ["number", "null"]
    assert "anyOf" in schema["properties"]["inner"]  # a nullable object keeps its anyOf
    assert schema["properties"]["n"] == {"description": "count", "minimum": 1, "type": "integer"}


def test_shallow_keeps_top_level_types_and_descriptions() -> None:
    schema = shallow_output_schema(compact_schema(Outer.model_json_schema()))
    assert schema["properties"] == {
        "inner": {"type": ["null", "object"]},
        "rows": {"type": "array"},
        "n": {"type": "integer", "description": "count"},
    }
    assert schema["required"] == ["inner", "rows", "n"]


async def test_tools_list_is_small_by_default_and_full_on_request(make_client, tmp_path: Path) -> None:
    async with make_client() as client:
        compact = (await client.list_tools()).tools
    async with make_client(settings_=make_settings(tmp_path, schema_detail="full")) as client:
        full = (await client.list_tools()).tools

    def size(tools: list) -> int:
        return len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]))

    assert size(compact) < size(full) / 2
    premium_full = next(t for t in full if t.name == "get_coinbase_premium")
    assert "premium_usdt_adjusted_pct" in json.dumps(premium_full.output_schema)
    premium = next(t for t in compact if t.name == "get_coinbase_premium")
    assert premium.output_schema["properties"]["current"]["type"] == "object"


async def test_real_result_validates_against_the_published_schema(make_client) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    async with make_client() as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "get_coinbase_premium")
        result = await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24", "days": 5})
    jsonschema.validate(result.structured_content, tool.output_schema)
